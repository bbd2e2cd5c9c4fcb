//! Data channels (RFC 8831) over SCTP streams, opened with DCEP (RFC 8832).
//!
//! `Channels` (crate-private) is the table of channels of one connection; the application reaches one
//! channel through the short-lived [`crate::Channel`] handle (`rtc.channel(id)`).

pub mod dcep;

use std::collections::HashMap;

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

/// W3C `RTCDataChannelInit`: how a channel delivers (W3C webrtc-pc §6.2, RFC 8831 §6.4). `Default`
/// is a reliable, ordered channel opened in-band (DCEP).
///
/// ```
/// use std::time::Duration;
/// use oxirtc::{ChannelReliability, DataChannelInit};
///
/// // Game state: unordered, each message given up after 100 ms.
/// let lossy = DataChannelInit {
///     ordered: false,
///     reliability: ChannelReliability::MaxPacketLifeTime(Duration::from_millis(100)),
///     ..DataChannelInit::default()
/// };
/// // Both sides create this one with stream id 0 (W3C `negotiated: true, id: 0`): no DCEP.
/// let control = DataChannelInit {
///     negotiated: Some(0),
///     protocol: "ctl".into(),
///     ..DataChannelInit::default()
/// };
/// # let _ = (lossy, control);
/// ```
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
    /// DCEP priority (RFC 8832 §5.1). W3C webrtc-priority: "very-low" 128, "low" 256 (the default),
    /// "medium" 512, "high" 1024.
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

/// The channels of one connection by id, in id order: a vector sorted by [`ChannelId`] (ids are
/// handed out in increasing order, so an insert is a push). A `BTreeMap` allocated a whole node of
/// eleven entries (1.4 KB) for the one channel most connections have; this holds what it holds.
#[derive(Debug, Default)]
pub(crate) struct EntryMap(Vec<(ChannelId, Entry)>);

impl EntryMap {
    fn position(&self, id: &ChannelId) -> Result<usize, usize> {
        self.0.binary_search_by_key(id, |(k, _)| *k)
    }

    /// Inserts or replaces the entry of `id`.
    pub fn insert(&mut self, id: ChannelId, entry: Entry) {
        match self.position(&id) {
            Ok(i) => self.0[i].1 = entry,
            Err(i) => {
                // Exact growth for the first few (most connections have one or two channels),
                // amortized doubling beyond.
                if self.0.len() < 4 {
                    self.0.reserve_exact(1);
                }
                self.0.insert(i, (id, entry));
            }
        }
    }

    /// Removes and returns the entry of `id`.
    pub fn remove(&mut self, id: &ChannelId) -> Option<Entry> {
        let i = self.position(id).ok()?;
        let (_, entry) = self.0.remove(i);
        if self.0.is_empty() {
            self.0 = Vec::new(); // an idle connection with no channel keeps no table
        }
        Some(entry)
    }

    pub fn get(&self, id: &ChannelId) -> Option<&Entry> {
        let i = self.position(id).ok()?;
        self.0.get(i).map(|(_, e)| e)
    }

    pub fn get_mut(&mut self, id: &ChannelId) -> Option<&mut Entry> {
        let i = self.position(id).ok()?;
        self.0.get_mut(i).map(|(_, e)| e)
    }

    pub fn contains_key(&self, id: &ChannelId) -> bool {
        self.position(id).is_ok()
    }

    /// The ids in increasing order.
    pub fn keys(&self) -> impl Iterator<Item = &ChannelId> + '_ {
        self.0.iter().map(|(k, _)| k)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

/// The table of one connection's channels, with the stream → channel index.
#[derive(Debug, Default)]
pub(crate) struct Channels {
    pub entries: EntryMap,
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

    #[test]
    fn the_channel_table_keeps_id_order_and_holds_only_what_it_holds() {
        let mut ch = Channels::default();
        let ids: Vec<ChannelId> = (0..6)
            .map(|i| ch.insert(format!("c{i}"), DataChannelInit::default(), None))
            .collect();
        assert_eq!(ch.entries.len(), 6);
        ch.remove(ids[2]);
        ch.remove(ids[2]); // twice: nothing happens
        let left: Vec<ChannelId> = ch.entries.keys().copied().collect();
        assert_eq!(left, vec![ids[0], ids[1], ids[3], ids[4], ids[5]]);
        assert_eq!(ch.entries.get(&ids[4]).map(|e| e.label.as_str()), Some("c4"));
        assert!(ch.entries.get(&ids[2]).is_none());
        assert!(!ch.entries.contains_key(&ids[2]));
        if let Some(e) = ch.entries.get_mut(&ids[0]) {
            e.acked = true;
        }
        assert!(ch.entries.get(&ids[0]).is_some_and(|e| e.acked));
        for id in left {
            ch.remove(id);
        }
        assert_eq!(ch.entries.len(), 0);
        // One channel costs one entry, not a tree node of eleven.
        ch.insert("one".into(), DataChannelInit::default(), None);
        assert_eq!(ch.entries.0.capacity(), 1);
    }

    #[test]
    fn the_default_priority_is_w3c_low() {
        // W3C webrtc-priority: the default RTCPriorityType is "low", 256 on the DCEP wire
        // (RFC 8832 §5.1); "very-low" is 128, "medium" 512, "high" 1024.
        assert_eq!(DataChannelInit::default().priority, 256);
    }
}
