//! Data channels on an [`Rtc`]: creating them, the [`Channel`] handle, and SCTP events (RFC 8831 §6,
//! RFC 8832 §6).

use std::time::Instant;

use oxirtc_dtls::Role;
use oxirtc_sctp::{Association, Ppid, SctpEvent, StreamId};

use super::{PeerConnectionState, Rtc};
use crate::channel::dcep::{DcepMessage, OpenMessage, MAX_LABEL_LEN};
use crate::channel::{
    dcep_options, ppid_for, send_options, ChannelId, ChannelReliability, ChannelState, ChannelStats,
    DataChannelInit,
};
use crate::{RtcError, RtcEvent};

impl Rtc {
    /// Creates a data channel (W3C `createDataChannel`). It opens once SCTP is up; for a negotiated
    /// channel the peer must create one with the same id.
    pub fn create_data_channel(
        &mut self,
        now: Instant,
        label: &str,
        init: DataChannelInit,
    ) -> Result<ChannelId, RtcError> {
        if self.state == PeerConnectionState::Closed {
            return Err(RtcError::InvalidState("the connection is closed".into()));
        }
        if label.len() > MAX_LABEL_LEN || init.protocol.len() > MAX_LABEL_LEN {
            return Err(RtcError::LabelTooLong);
        }
        let stream = match init.negotiated {
            Some(id) => {
                if self.channels.by_stream(StreamId(id)).is_some() {
                    return Err(RtcError::StreamIdInUse(id));
                }
                Some(StreamId(id))
            }
            None => None,
        };
        let negotiated = stream.is_some();
        let id = self.channels.insert(label.to_owned(), init, stream);
        self.open_pending_channels(now, Some(id));
        let established = self.sctp.as_ref().is_some_and(Association::is_established);
        let stuck = self
            .channels
            .entries
            .get(&id)
            .is_some_and(|e| e.state == ChannelState::Connecting);
        if established && stuck && !negotiated {
            // W3C createDataChannel: OperationError when no stream id is available.
            self.channels.remove(id);
            return Err(RtcError::NoFreeStream);
        }
        self.pump(now);
        Ok(id)
    }

    /// A short-lived handle to channel `id`, or `None` if there is no such channel.
    pub fn channel(&mut self, id: ChannelId) -> Option<Channel<'_>> {
        if self.channels.entries.contains_key(&id) {
            Some(Channel { rtc: self, id })
        } else {
            None
        }
    }

    /// Once SCTP is up: give pending in-band channels a stream id of our parity and send their
    /// DATA_CHANNEL_OPEN; announce negotiated ones as open.
    /// `only`: just this new channel (the others were opened when SCTP came up).
    pub(crate) fn open_pending_channels(&mut self, now: Instant, only: Option<ChannelId>) {
        let (Some(sctp), Some(role)) = (self.sctp.as_mut(), self.dtls_role) else {
            return;
        };
        if !sctp.is_established() {
            return;
        }
        let max_streams = sctp.outbound_streams();
        let pending: Vec<ChannelId> = match only {
            Some(id) => vec![id],
            None => self.channels.entries.keys().copied().collect(),
        };
        for id in pending {
            let Some(entry) = self.channels.entries.get(&id) else {
                continue;
            };
            if entry.state != ChannelState::Connecting {
                continue;
            }
            if entry.init.negotiated.is_some() {
                // Negotiated channels need no DCEP (RFC 8832 §4, W3C `negotiated`).
                if let Some(e) = self.channels.entries.get_mut(&id) {
                    e.state = ChannelState::Open;
                    e.acked = true;
                }
                self.events.push_back(RtcEvent::ChannelOpen(id));
                continue;
            }
            let Some(stream) = self.channels.free_stream(role == Role::Client, max_streams) else {
                tracing::warn!("rtc: no free SCTP stream for a new data channel");
                continue;
            };
            let Some(entry) = self.channels.entries.get(&id) else {
                continue;
            };
            let open = DcepMessage::Open(OpenMessage {
                unordered: !entry.init.ordered,
                reliability: entry.init.reliability,
                priority: entry.init.priority,
                label: entry.label.clone(),
                protocol: entry.init.protocol.clone(),
            });
            let mut wire = Vec::new();
            open.encode(&mut wire);
            if let Err(e) = sctp.send(now, stream, Ppid::DCEP, &wire, dcep_options()) {
                tracing::warn!(error = %e, "rtc: DATA_CHANNEL_OPEN not sent");
                continue;
            }
            self.channels.by_stream.insert(stream.0, id);
            if let Some(e) = self.channels.entries.get_mut(&id) {
                e.stream = Some(stream);
                e.state = ChannelState::Open;
            }
            // W3C: the creating side's channel is open once the OPEN is sent; until the ACK it sends
            // ordered (RFC 8832 §6).
            self.events.push_back(RtcEvent::ChannelOpen(id));
        }
    }

    pub(crate) fn on_sctp_event(&mut self, now: Instant, ev: SctpEvent) {
        match ev {
            SctpEvent::Connected => self.open_pending_channels(now, None),
            SctpEvent::Message {
                stream, ppid, data, ..
            } => self.on_message(now, stream, ppid, data),
            SctpEvent::StreamsResetByPeer(streams) => {
                for s in streams {
                    self.on_incoming_reset(now, s);
                }
            }
            SctpEvent::OutgoingStreamsReset(streams) => {
                for s in streams {
                    if let Some(id) = self.channels.by_stream(s) {
                        if let Some(e) = self.channels.entries.get_mut(&id) {
                            e.outgoing_reset = true;
                        }
                        self.finish_close_if_done(id);
                    }
                }
            }
            SctpEvent::BufferedAmountLow(stream) => {
                if let Some(id) = self.channels.by_stream(stream) {
                    self.events.push_back(RtcEvent::ChannelBufferedAmountLow(id));
                }
            }
            SctpEvent::Closed | SctpEvent::Aborted(_) => self.on_sctp_ended(now, ev),
            #[allow(unreachable_patterns)]
            _ => {}
        }
    }

    fn on_message(&mut self, now: Instant, stream: StreamId, ppid: Ppid, data: Vec<u8>) {
        if ppid == Ppid::DCEP {
            self.on_dcep(now, stream, &data);
            return;
        }
        let binary = match ppid {
            Ppid::STRING | Ppid::STRING_EMPTY => false,
            Ppid::BINARY | Ppid::BINARY_EMPTY => true,
            _ => {
                // RFC 8831 §8: the deprecated partial PPIDs (52, 54) are not used by any live browser.
                tracing::debug!(ppid = ppid.0, "rtc: message with unknown PPID dropped");
                self.stats.dropped_messages += 1;
                return;
            }
        };
        let Some(id) = self.channels.by_stream(stream) else {
            self.stats.dropped_messages += 1;
            return;
        };
        let Some(entry) = self.channels.entries.get_mut(&id) else {
            return;
        };
        if matches!(entry.state, ChannelState::Closed) {
            self.stats.dropped_messages += 1;
            return;
        }
        // RFC 8832 §6: data from the peer implies it got our OPEN.
        entry.acked = true;
        let data = if matches!(ppid, Ppid::STRING_EMPTY | Ppid::BINARY_EMPTY) {
            Vec::new()
        } else {
            data
        };
        entry.stats.messages_received += 1;
        entry.stats.bytes_received += data.len() as u64;
        self.queued_message_bytes += data.len();
        self.events
            .push_back(RtcEvent::ChannelMessage { id, data, binary });
    }

    fn on_dcep(&mut self, now: Instant, stream: StreamId, data: &[u8]) {
        let msg = match DcepMessage::parse(data) {
            Ok(m) => m,
            Err(e) => {
                tracing::debug!(error = %e, "rtc: dropping DCEP message");
                self.stats.dropped_dcep += 1;
                return;
            }
        };
        match msg {
            DcepMessage::Ack => match self.channels.by_stream(stream) {
                Some(id) => {
                    if let Some(e) = self.channels.entries.get_mut(&id) {
                        e.acked = true;
                    }
                }
                None => self.stats.dropped_dcep += 1,
            },
            DcepMessage::Open(open) => self.on_open(now, stream, open),
        }
    }

    /// A peer's DATA_CHANNEL_OPEN (RFC 8832 §6): create the channel, ACK it, announce it.
    fn on_open(&mut self, now: Instant, stream: StreamId, open: OpenMessage) {
        let our_parity = match self.dtls_role {
            Some(Role::Client) => 0,
            Some(Role::Server) => 1,
            None => return,
        };
        let refuse = self.channels.by_stream(stream).is_some()
            || stream.0 % 2 == our_parity
            || self.channels.entries.len() >= self.config.max_channels;
        let Some(sctp) = self.sctp.as_mut() else { return };
        if refuse {
            // RFC 8832 §6: a stream already in use, or the wrong parity, is a protocol error; over our
            // limit we refuse by closing the stream (RFC 8831 §6.7).
            tracing::debug!(stream = stream.0, "rtc: refusing DATA_CHANNEL_OPEN");
            self.stats.refused_channels += 1;
            if self.channels.by_stream(stream).is_none() {
                let _ = sctp.reset_streams(now, &[stream]);
            }
            return;
        }
        let mut wire = Vec::new();
        DcepMessage::Ack.encode(&mut wire);
        if let Err(e) = sctp.send(now, stream, Ppid::DCEP, &wire, dcep_options()) {
            tracing::debug!(error = %e, "rtc: DATA_CHANNEL_ACK not sent");
            return;
        }
        let init = DataChannelInit {
            ordered: !open.unordered,
            reliability: open.reliability,
            protocol: open.protocol,
            negotiated: None,
            priority: open.priority,
        };
        let id = self.channels.insert(open.label, init, Some(stream));
        if let Some(e) = self.channels.entries.get_mut(&id) {
            e.state = ChannelState::Open;
            e.acked = true;
        }
        self.events.push_back(RtcEvent::IncomingChannel(id));
        self.events.push_back(RtcEvent::ChannelOpen(id));
    }

    /// The peer reset its outgoing stream (our incoming): reset ours too (RFC 8831 §6.7).
    fn on_incoming_reset(&mut self, now: Instant, stream: StreamId) {
        let Some(id) = self.channels.by_stream(stream) else {
            return;
        };
        let Some(e) = self.channels.entries.get_mut(&id) else {
            return;
        };
        e.incoming_reset = true;
        if e.state != ChannelState::Closing {
            e.state = ChannelState::Closing;
            if let Some(sctp) = self.sctp.as_mut() {
                if let Err(err) = sctp.reset_streams(now, &[stream]) {
                    tracing::debug!(error = %err, "rtc: could not reset our outgoing stream");
                }
            }
        }
        self.finish_close_if_done(id);
    }

    fn finish_close_if_done(&mut self, id: ChannelId) {
        let done = self
            .channels
            .entries
            .get(&id)
            .is_some_and(|e| e.incoming_reset && e.outgoing_reset);
        if done {
            self.channels.remove(id);
            self.events.push_back(RtcEvent::ChannelClosed(id));
        }
    }

    pub(crate) fn close_all_channels(&mut self) {
        let ids: Vec<ChannelId> = self.channels.entries.keys().copied().collect();
        for id in ids {
            self.channels.remove(id);
            self.events.push_back(RtcEvent::ChannelClosed(id));
        }
    }

    /// The largest message [`Channel::send`] accepts: the peer's `a=max-message-size` or ours,
    /// whichever is smaller (RFC 8841 §6.1).
    pub fn max_message_size(&self) -> usize {
        self.max_send_size()
    }

    fn max_send_size(&self) -> usize {
        let remote = self
            .remote
            .as_ref()
            .and_then(|r| r.data.as_ref())
            .map_or(u64::MAX, |d| {
                if d.max_message_size == 0 {
                    u64::MAX
                } else {
                    d.max_message_size
                }
            });
        // RFC 8841 §6.1: never send more than the peer can take, nor more than our SCTP layer allows.
        let ours = self.config.sctp.max_message_size as u64;
        usize::try_from(remote.min(ours)).unwrap_or(usize::MAX)
    }
}

/// A short-lived handle to one data channel (CONTRIBUTING.md convention 4: children reached by id).
pub struct Channel<'a> {
    rtc: &'a mut Rtc,
    id: ChannelId,
}

impl Channel<'_> {
    /// The handle's id.
    pub fn id(&self) -> ChannelId {
        self.id
    }

    /// The channel's entry; `None` once it is closed (a handle can outlive its channel when a call on it
    /// pumped an SCTP ABORT through).
    fn entry(&self) -> Option<&crate::channel::Entry> {
        self.rtc.channels.entries.get(&self.id)
    }

    /// The label.
    pub fn label(&self) -> &str {
        self.entry().map_or("", |e| &e.label)
    }

    /// The sub-protocol.
    pub fn protocol(&self) -> &str {
        self.entry().map_or("", |e| &e.init.protocol)
    }

    /// The SCTP stream id (W3C `id`), once assigned.
    pub fn stream_id(&self) -> Option<u16> {
        self.entry().and_then(|e| e.stream).map(|s| s.0)
    }

    /// In-order delivery.
    pub fn ordered(&self) -> bool {
        self.entry().is_none_or(|e| e.init.ordered)
    }

    /// The reliability policy.
    pub fn reliability(&self) -> ChannelReliability {
        self.entry()
            .map_or(ChannelReliability::Reliable, |e| e.init.reliability)
    }

    /// Whether the channel was negotiated out of band.
    pub fn negotiated(&self) -> bool {
        self.entry().is_some_and(|e| e.init.negotiated.is_some())
    }

    /// The state.
    pub fn state(&self) -> ChannelState {
        self.entry().map_or(ChannelState::Closed, |e| e.state)
    }

    /// Message and byte counters.
    pub fn stats(&self) -> ChannelStats {
        self.entry().map(|e| e.stats.clone()).unwrap_or_default()
    }

    /// Bytes queued and not yet acknowledged (W3C `bufferedAmount`).
    pub fn buffered_amount(&self) -> usize {
        match (self.entry().and_then(|e| e.stream), self.rtc.sctp.as_ref()) {
            (Some(s), Some(sctp)) => sctp.buffered_amount(s),
            _ => 0,
        }
    }

    /// W3C `bufferedAmountLowThreshold`: [`RtcEvent::ChannelBufferedAmountLow`] fires when the buffered
    /// amount falls to it.
    pub fn set_buffered_amount_low_threshold(&mut self, bytes: usize) {
        if let (Some(s), Some(sctp)) = (self.entry().and_then(|e| e.stream), self.rtc.sctp.as_mut()) {
            sctp.set_buffered_amount_low_threshold(s, bytes);
        }
    }

    /// Sends a text message.
    pub fn send_text(&mut self, now: Instant, text: &str) -> Result<(), RtcError> {
        self.send(now, text.as_bytes(), false)
    }

    /// Sends a binary message.
    pub fn send_binary(&mut self, now: Instant, data: &[u8]) -> Result<(), RtcError> {
        self.send(now, data, true)
    }

    /// Sends one message; a message larger than the negotiated maximum is an error, never truncated.
    pub fn send(&mut self, now: Instant, data: &[u8], binary: bool) -> Result<(), RtcError> {
        let (stream, opts) = self.check_send(data.len())?;
        let ppid = ppid_for(binary, data.is_empty());
        // RFC 8831 §8: an empty message is one zero byte with the "empty" PPID.
        let payload: &[u8] = if data.is_empty() { &[0] } else { data };
        let sctp = self
            .rtc
            .sctp
            .as_mut()
            .ok_or(RtcError::ChannelNotOpen(self.id.0))?;
        sctp.send(now, stream, ppid, payload, opts)?;
        self.count_sent(data.len());
        Ok(())
    }

    /// [`send`](Self::send) for a message already held as [`bytes::Bytes`]: queued without a copy.
    pub fn send_bytes(&mut self, now: Instant, data: bytes::Bytes, binary: bool) -> Result<(), RtcError> {
        if data.is_empty() {
            return self.send(now, &[], binary);
        }
        let (stream, opts) = self.check_send(data.len())?;
        let (ppid, len) = (ppid_for(binary, false), data.len());
        let sctp = self
            .rtc
            .sctp
            .as_mut()
            .ok_or(RtcError::ChannelNotOpen(self.id.0))?;
        sctp.send_bytes(now, stream, ppid, data, opts)?;
        self.count_sent(len);
        Ok(())
    }

    fn check_send(&self, len: usize) -> Result<(oxirtc_sctp::StreamId, oxirtc_sctp::SendOptions), RtcError> {
        let max = self.rtc.max_send_size();
        let Some(entry) = self.entry() else {
            return Err(RtcError::ChannelNotOpen(self.id.0));
        };
        let (Some(stream), ChannelState::Open) = (entry.stream, entry.state) else {
            return Err(RtcError::ChannelNotOpen(self.id.0));
        };
        if len > max {
            return Err(RtcError::MessageTooLarge { size: len, max });
        }
        Ok((stream, send_options(entry)))
    }

    /// No pump after a send: the next `poll_transmit` packs everything sent since, so a burst of small
    /// messages leaves as full packets (RFC 9260 §6.10 bundling) instead of one packet each.
    fn count_sent(&mut self, len: usize) {
        if let Some(e) = self.rtc.channels.entries.get_mut(&self.id) {
            e.stats.messages_sent += 1;
            e.stats.bytes_sent += len as u64;
        }
    }

    /// Closes the channel (W3C `close()`): resets the outgoing stream after queued data is sent
    /// (RFC 8831 §6.7); [`RtcEvent::ChannelClosed`] follows once the peer reset its side too.
    pub fn close(&mut self, now: Instant) {
        let id = self.id;
        let Some(entry) = self.entry() else { return };
        match (entry.stream, entry.state) {
            (_, ChannelState::Closing | ChannelState::Closed) => {}
            (Some(stream), _) if self.rtc.sctp.as_ref().is_some_and(|s| s.is_established()) => {
                if let Some(e) = self.rtc.channels.entries.get_mut(&id) {
                    e.state = ChannelState::Closing;
                }
                if let Some(sctp) = self.rtc.sctp.as_mut() {
                    if let Err(err) = sctp.reset_streams(now, &[stream]) {
                        tracing::debug!(error = %err, "rtc: stream reset failed; closing locally");
                        self.rtc.channels.remove(id);
                        self.rtc.events.push_back(RtcEvent::ChannelClosed(id));
                    }
                }
            }
            _ => {
                self.rtc.channels.remove(id);
                self.rtc.events.push_back(RtcEvent::ChannelClosed(id));
            }
        }
        self.rtc.pump(now);
    }
}
