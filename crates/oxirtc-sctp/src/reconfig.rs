//! Stream reset (RFC 6525 §5.1.2, §5.2.2, §5.2.7): data channels close by resetting their stream in both
//! directions (RFC 8831 §6.7).

use std::collections::BTreeSet;
use std::time::Instant;

use crate::association::{Association, SctpEvent};
use crate::chunk::{encode_raw, ty};
use crate::param::{
    put_outgoing_reconfig_chunk, put_reconfig_response, stream_list, ReconfigParam, ReconfigResult,
};
use crate::reader::TlvIter;
use crate::receiver::DeferredReset;
use crate::timer::Timer;
use crate::{SctpError, StreamId};

/// Streams waiting for a reset request: bounded by the number of stream ids.
const MAX_PENDING: usize = 65_536;

/// Streams per Outgoing SSN Reset Request (2 bytes each, RFC 6525 §4.1): the RE-CONFIG chunk must
/// fit one packet, and 256 streams take 512 bytes. More pending streams go in the next request.
const MAX_STREAMS_PER_REQUEST: usize = 256;

/// Our outgoing request in flight.
#[derive(Debug, Clone)]
pub(crate) struct OutgoingRequest {
    pub(crate) req_seq: u32,
    /// Sorted ascending (taken from the pending set in order), so lookups are binary searches.
    pub(crate) streams: Vec<u16>,
    pub(crate) last_tsn: u32,
}

/// Both sides of RFC 6525 bookkeeping.
#[derive(Debug)]
pub(crate) struct ReconfigState {
    /// Streams the application asked to reset, not yet in a request.
    pub(crate) pending: BTreeSet<u16>,
    pub(crate) in_flight: Option<OutgoingRequest>,
    /// Our next Re-configuration Request Sequence Number (RFC 6525 §3.1: starts at the initial TSN).
    next_req_seq: u32,
    /// The peer's next expected request sequence number.
    peer_next_req_seq: u32,
    /// Result of the last performed peer request, for retransmitted requests.
    last_result: Option<(u32, ReconfigResult)>,
}

impl ReconfigState {
    pub(crate) fn new(local_initial_tsn: u32) -> Self {
        Self {
            pending: BTreeSet::new(),
            in_flight: None,
            next_req_seq: local_initial_tsn,
            peer_next_req_seq: 0,
            last_result: None,
        }
    }

    pub(crate) fn peer_established(&mut self, peer_initial_tsn: u32) {
        self.peer_next_req_seq = peer_initial_tsn;
    }

    /// A reset of our outgoing `stream` is pending or running: new messages wait for it.
    pub(crate) fn is_resetting(&self, stream: u16) -> bool {
        self.pending.contains(&stream)
            || self
                .in_flight
                .as_ref()
                .is_some_and(|r| r.streams.binary_search(&stream).is_ok())
    }
}

/// Renders ERROR/ABORT causes for a log line (RFC 9260 §3.3.10).
pub(crate) fn describe_causes(causes: &[u8]) -> String {
    crate::error_causes::describe(&crate::ErrorCause::parse_all(causes))
}

impl Association {
    /// Resets our outgoing `streams` (RFC 6525 §5.1.2). The request goes out once all data queued on
    /// them has been sent (RFC 8831 §6.7); [`SctpEvent::OutgoingStreamsReset`] reports completion.
    /// Messages sent on these streams meanwhile wait and go out, from SSN 0, after the reset.
    pub fn reset_streams(&mut self, now: Instant, streams: &[StreamId]) -> Result<(), SctpError> {
        if !self.is_established() {
            return Err(SctpError::NotEstablished);
        }
        if !self.peer.reconfig {
            return Err(SctpError::ReconfigUnsupported);
        }
        if self.reconfig.pending.len() + streams.len() > MAX_PENDING {
            return Err(SctpError::TooManyPendingResets);
        }
        for s in streams {
            if s.0 >= self.peer.outbound_streams {
                return Err(SctpError::InvalidStream(s.0));
            }
        }
        // A stream whose reset is already running is not requested twice.
        let rc = &mut self.reconfig;
        let running = rc.in_flight.as_ref().map_or(&[][..], |r| r.streams.as_slice());
        rc.pending.extend(
            streams
                .iter()
                .map(|s| s.0)
                .filter(|s| running.binary_search(s).is_err()),
        );
        self.maybe_start_reconfig(now);
        Ok(())
    }

    /// Sends the next Outgoing SSN Reset Request when none is running and the streams are drained.
    pub(crate) fn maybe_start_reconfig(&mut self, now: Instant) {
        if self.reconfig.in_flight.is_some() || self.reconfig.pending.is_empty() || !self.is_established() {
            return;
        }
        // RFC 8831 §6.7: a stream's request follows all data queued for it; streams still sending
        // wait for a later request. One pass over each list, whatever their lengths.
        let busy = self.sender.queued_streams();
        let streams: Vec<u16> = self
            .reconfig
            .pending
            .iter()
            .copied()
            .filter(|s| !busy.contains(s))
            .take(MAX_STREAMS_PER_REQUEST)
            .collect();
        if streams.is_empty() {
            return;
        }
        for s in &streams {
            self.reconfig.pending.remove(s);
        }
        let req = OutgoingRequest {
            req_seq: self.reconfig.next_req_seq,
            streams,
            last_tsn: self.sender.last_assigned_tsn(),
        };
        self.reconfig.next_req_seq = self.reconfig.next_req_seq.wrapping_add(1);
        self.reconfig.in_flight = Some(req);
        self.send_reconfig_request();
        self.timers.set(Timer::Reconfig, now + self.rto.rto());
    }

    fn send_reconfig_request(&mut self) {
        let Some(req) = &self.reconfig.in_flight else {
            return;
        };
        let resp_seq = self.reconfig.peer_next_req_seq.wrapping_sub(1);
        let mut out = Vec::new();
        put_outgoing_reconfig_chunk(&mut out, req.req_seq, resp_seq, req.last_tsn, &req.streams);
        self.queue_ctrl(out);
    }

    /// Re-configuration timer (RFC 6525 §5.1.1): retransmit the request with the same sequence number.
    pub(crate) fn on_reconfig_timer(&mut self, now: Instant) {
        if self.reconfig.in_flight.is_none() || !self.is_established() {
            return;
        }
        if self.count_error() {
            return;
        }
        self.rto.back_off();
        self.send_reconfig_request();
        self.timers.set(Timer::Reconfig, now + self.rto.rto());
    }

    /// A RE-CONFIG chunk (RFC 6525 §5.2).
    pub(crate) fn on_reconfig(&mut self, now: Instant, params: &[u8]) {
        let mut responses = Vec::new();
        for t in TlvIter::new(params).take(2) {
            let Ok(Ok(p)) = t.map(ReconfigParam::parse) else {
                self.stats.drops.malformed += 1;
                return;
            };
            match p {
                ReconfigParam::OutgoingReset {
                    req_seq,
                    last_tsn,
                    streams,
                    ..
                } => {
                    let streams: Vec<u16> = stream_list(streams).collect();
                    let result = self.on_peer_outgoing_reset(req_seq, last_tsn, streams);
                    responses.push((req_seq, result));
                }
                ReconfigParam::IncomingReset { req_seq, .. } => {
                    // RFC 6525 §5.2.3: asking us to reset our outgoing streams is not supported here; the
                    // data-channel layer resets its own streams.
                    let result = self.check_peer_seq(req_seq).unwrap_or(ReconfigResult::Denied);
                    if result == ReconfigResult::Denied {
                        self.record_result(req_seq, result);
                    }
                    responses.push((req_seq, result));
                }
                ReconfigParam::Response { resp_seq, result } => {
                    self.on_reconfig_response(now, resp_seq, result)
                }
                ReconfigParam::Other(t) => {
                    tracing::debug!(ty = t.ty, "unsupported RE-CONFIG parameter");
                    responses.push((0, ReconfigResult::Denied));
                }
            }
        }
        if !responses.is_empty() {
            let mut value = Vec::new();
            for (seq, result) in responses {
                put_reconfig_response(&mut value, seq, result);
            }
            let mut out = Vec::new();
            encode_raw(&mut out, ty::RECONFIG, 0, &value);
            self.queue_ctrl(out);
        }
    }

    /// Sequence number check (RFC 6525 §5.2.1): `None` for a new request, else the answer to give.
    fn check_peer_seq(&self, req_seq: u32) -> Option<ReconfigResult> {
        if req_seq == self.reconfig.peer_next_req_seq {
            return None;
        }
        match self.reconfig.last_result {
            Some((seq, r)) if seq == req_seq => Some(r),
            _ => Some(ReconfigResult::ErrorBadSequenceNumber),
        }
    }

    fn record_result(&mut self, req_seq: u32, result: ReconfigResult) {
        self.reconfig.last_result = Some((req_seq, result));
        self.reconfig.peer_next_req_seq = req_seq.wrapping_add(1);
    }

    fn on_peer_outgoing_reset(&mut self, req_seq: u32, last_tsn: u32, streams: Vec<u16>) -> ReconfigResult {
        // A retransmission gets the answer its first copy got (or the final one, once performed).
        if let Some(answer) = self.check_peer_seq(req_seq) {
            return answer;
        }
        let Some(r) = self.receiver.as_mut() else {
            return ReconfigResult::Denied;
        };
        let last_tsn = r.unwrap(last_tsn);
        if let Some(def) = r.deferred.as_mut() {
            // A new request while one is deferred (some stacks re-send a deferred request with a new
            // sequence number): fold it into the deferred one and answer "In progress" for both.
            def.req_seq = req_seq;
            def.last_tsn = def.last_tsn.max(last_tsn);
            if def.streams.is_empty() || streams.is_empty() {
                def.streams.clear();
            } else {
                def.streams.extend(
                    streams
                        .iter()
                        .filter(|s| !def.streams.contains(s))
                        .collect::<Vec<_>>(),
                );
            }
            self.record_result(req_seq, ReconfigResult::InProgress);
            return ReconfigResult::InProgress;
        }
        let req = DeferredReset {
            req_seq,
            last_tsn,
            streams: streams.clone(),
        };
        if r.try_reset(req) {
            self.record_result(req_seq, ReconfigResult::SuccessPerformed);
            self.deliver_ready();
            self.events.push_back(SctpEvent::StreamsResetByPeer(
                streams.into_iter().map(StreamId).collect(),
            ));
            ReconfigResult::SuccessPerformed
        } else {
            // E2: deferred until the cumulative TSN reaches the sender's last assigned TSN.
            self.record_result(req_seq, ReconfigResult::InProgress);
            ReconfigResult::InProgress
        }
    }

    /// After DATA / FORWARD TSN: perform a deferred reset whose TSN was reached and answer it.
    pub(crate) fn check_deferred_reset(&mut self, _now: Instant) {
        let Some(done) = self.receiver.as_mut().and_then(|r| r.poll_deferred()) else {
            return;
        };
        self.record_result(done.req_seq, ReconfigResult::SuccessPerformed);
        self.deliver_ready();
        self.events.push_back(SctpEvent::StreamsResetByPeer(
            done.streams.iter().copied().map(StreamId).collect(),
        ));
        let mut value = Vec::new();
        put_reconfig_response(&mut value, done.req_seq, ReconfigResult::SuccessPerformed);
        let mut out = Vec::new();
        encode_raw(&mut out, ty::RECONFIG, 0, &value);
        self.queue_ctrl(out);
    }

    /// A Re-configuration Response to our request (RFC 6525 §5.2.7).
    fn on_reconfig_response(&mut self, now: Instant, resp_seq: u32, result: ReconfigResult) {
        let Some(req) = self.reconfig.in_flight.as_ref() else {
            return;
        };
        if req.req_seq != resp_seq {
            return;
        }
        match result {
            ReconfigResult::InProgress => {
                // H2: keep the request; the timer retransmits it.
                self.timers.set(Timer::Reconfig, now + self.rto.rto());
                return;
            }
            ReconfigResult::SuccessPerformed | ReconfigResult::SuccessNothingToDo => {
                let streams = req.streams.clone();
                self.reconfig.in_flight = None;
                self.timers.stop(Timer::Reconfig);
                let pending = self.reconfig.pending.clone();
                self.sender.streams_reset(&streams, |s| pending.contains(&s));
                self.events.push_back(SctpEvent::OutgoingStreamsReset(
                    streams.into_iter().map(StreamId).collect(),
                ));
            }
            other => {
                tracing::warn!(?other, streams = ?req.streams, "peer refused our stream reset");
                self.reconfig.in_flight = None;
                self.timers.stop(Timer::Reconfig);
                self.stats.stream_resets_failed += 1;
                // The streams keep their sequence numbers; messages held for the reset go out now.
                let pending = self.reconfig.pending.clone();
                self.sender.streams_reset(&[], |s| pending.contains(&s));
            }
        }
        self.maybe_start_reconfig(now);
    }
}
