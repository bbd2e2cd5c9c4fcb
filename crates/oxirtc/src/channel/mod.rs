//! Data channels (RFC 8831) over SCTP streams, opened with DCEP (RFC 8832).
//!
//! [`Channels`] is the table of channels of one connection; the application reaches one channel through
//! the short-lived [`crate::Channel`] handle (`rtc.channel(id)`).

pub mod dcep;

use std::collections::{BTreeMap, HashMap};

use oxirtc_sctp::{Ppid, Reliability, SendOptions, StreamId};

pub use dcep::ChannelReliability;

/// The application's handle of a data channel, stable for the channel's life. (The W3C `id`, the SCTP
/// stream id, is only known once the DTLS role is: see [`crate::Channel::stream_id`].)
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChannelId(pub u64);

impl std::fmt::Display for ChannelId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// W3C `RTCDataChannelInit`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataChannelInit {
    /// In-order delivery (default true).
    pub ordered: bool,
    /// `maxRetransmits` / `maxPacketLifeTime` (at most one, by construction).
    pub reliability: ChannelReliability,
    /// Sub-protocol name.
    pub protocol: String,
    /// `negotiated: true, id: N`: both sides create the channel with stream id N; no DCEP.
    pub negotiated: Option<u16>,
    /// DCEP priority (RFC 8832 §5.1; W3C "low" = 256 is the default).
    pub priority: u16,
}

impl Default for DataChannelInit {
    fn default() -> Self {
        DataChannelInit {
            ordered: true,
            reliability: ChannelReliability::Reliable,
            protocol: String::new(),
            negotiated: None,
            priority: 256,
        }
    }
}

/// W3C `RTCDataChannelState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChannelState {
    /// Waiting for the SCTP association (and, for in-band channels, for our OPEN to be sent).
    Connecting,
    /// Messages flow.
    Open,
    /// A stream reset is in progress (RFC 8831 §6.7).
    Closing,
    /// Both directions of the stream are reset; the id is free again.
    Closed,
}

/// Per-channel counters (W3C `RTCDataChannelStats`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChannelStats {
    /// Messages the application sent.
    pub messages_sent: u64,
    /// Payload bytes the application sent.
    pub bytes_sent: u64,
    /// Messages delivered to the application.
    pub messages_received: u64,
    /// Payload bytes delivered to the application.
    pub bytes_received: u64,
}

/// One channel's state.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub label: String,
    pub init: DataChannelInit,
    pub stream: Option<StreamId>,
    pub state: ChannelState,
    /// RFC 8832 §6: until the peer's ACK (or any data from it) arrives, we send ordered.
    pub acked: bool,
    pub outgoing_reset: bool,
    pub incoming_reset: bool,
    pub stats: ChannelStats,
}

/// The table of one connection's channels, with the stream → channel index.
#[derive(Debug, Default)]
pub(crate) struct Channels {
    pub entries: BTreeMap<ChannelId, Entry>,
    pub by_stream: HashMap<u16, ChannelId>,
    next: u64,
    /// Per parity (even, odd): every stream id of that parity below this one is in use, so the search
    /// for a free id starts here instead of at 0 (opening n channels stays O(n), not O(n²)).
    free_from: [u16; 2],
}

impl Channels {
    pub fn insert(&mut self, label: String, init: DataChannelInit, stream: Option<StreamId>) -> ChannelId {
        let id = ChannelId(self.next);
        self.next += 1;
        if let Some(s) = stream {
            self.by_stream.insert(s.0, id);
        }
        self.entries.insert(
            id,
            Entry {
                label,
                init,
                stream,
                state: ChannelState::Connecting,
                acked: false,
                outgoing_reset: false,
                incoming_reset: false,
                stats: ChannelStats::default(),
            },
        );
        id
    }

    pub fn by_stream(&self, stream: StreamId) -> Option<ChannelId> {
        self.by_stream.get(&stream.0).copied()
    }

    /// Removes a closed channel, freeing its stream id for reuse.
    pub fn remove(&mut self, id: ChannelId) {
        if let Some(e) = self.entries.remove(&id) {
            if let Some(s) = e.stream {
                self.by_stream.remove(&s.0);
                let hint = &mut self.free_from[usize::from(s.0 % 2)];
                *hint = (*hint).min(s.0);
            }
        }
    }

    /// RFC 8832 §6: the DTLS client uses even stream ids, the server odd ones. The lowest free id of
    /// our parity below `max_streams`.
    pub fn free_stream(&mut self, dtls_client: bool, max_streams: u16) -> Option<StreamId> {
        let parity = if dtls_client { 0 } else { 1 };
        let start = self.free_from[usize::from(parity)].max(parity);
        let found = (start..max_streams)
            .step_by(2)
            .find(|s| !self.by_stream.contains_key(s))?;
        self.free_from[usize::from(parity)] = found;
        Some(StreamId(found))
    }
}

/// RFC 8831 §8: the PPID and wire payload of a user message. SCTP cannot carry an empty message, so
/// an empty one is one zero byte with the "empty" PPID.
pub(crate) fn ppid_for(binary: bool, empty: bool) -> Ppid {
    match (binary, empty) {
        (false, false) => Ppid::STRING,
        (false, true) => Ppid::STRING_EMPTY,
        (true, false) => Ppid::BINARY,
        (true, true) => Ppid::BINARY_EMPTY,
    }
}

/// The SCTP send options of a user message on a channel (RFC 8831 §6.6, RFC 8832 §6 ordering before ACK).
pub(crate) fn send_options(entry: &Entry) -> SendOptions {
    SendOptions {
        unordered: !entry.init.ordered && entry.acked,
        reliability: match entry.init.reliability {
            ChannelReliability::Reliable => Reliability::Reliable,
            ChannelReliability::MaxRetransmits(n) => Reliability::MaxRetransmits(n),
            ChannelReliability::MaxPacketLifeTime(d) => Reliability::MaxLifetime(d),
        },
    }
}

/// DCEP messages go reliable and ordered (RFC 8832 §6).
pub(crate) fn dcep_options() -> SendOptions {
    SendOptions {
        unordered: false,
        reliability: Reliability::Reliable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_ids_follow_the_dtls_role_and_are_reused_after_close() {
        let mut ch = Channels::default();
        assert_eq!(ch.free_stream(true, 10), Some(StreamId(0)));
        assert_eq!(ch.free_stream(false, 10), Some(StreamId(1)));
        let a = ch.insert("a".into(), DataChannelInit::default(), Some(StreamId(0)));
        assert_eq!(ch.free_stream(true, 10), Some(StreamId(2)));
        ch.remove(a);
        assert_eq!(ch.free_stream(true, 10), Some(StreamId(0)));
        for s in (1..4).step_by(2) {
            ch.insert(String::new(), DataChannelInit::default(), Some(StreamId(s)));
        }
        assert_eq!(ch.free_stream(false, 4), None);
    }
}
