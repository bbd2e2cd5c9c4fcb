//! Client transactions: retransmission over unreliable transports and the reliable-transport
//! timeout (RFC 8489 §6.2.1, §6.2.2). Time is always a parameter.

use std::time::{Duration, Instant};

use crate::{Message, TransactionId};

/// Retransmission parameters (RFC 8489 §6.2.1).
#[derive(Clone, Debug)]
pub struct RetransmitConfig {
    /// Initial retransmission timeout, doubled after each send (default 500 ms).
    pub rto: Duration,
    /// Total number of transmissions over an unreliable transport (default 7).
    pub rc: u32,
    /// After the last transmission, wait `rm * rto` for a response before giving up (default 16).
    pub rm: u32,
    /// Over a reliable transport: one send, then give up after this long (Ti, default 39.5 s, §6.2.2).
    pub reliable_timeout: Duration,
}

impl Default for RetransmitConfig {
    fn default() -> Self {
        RetransmitConfig {
            rto: Duration::from_millis(500),
            rc: 7,
            rm: 16,
            reliable_timeout: Duration::from_millis(39_500),
        }
    }
}

/// Where a client transaction stands.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TransactionState {
    /// Waiting for a response; more transmissions or the final timeout are ahead.
    Pending,
    /// A success or error response with our transaction ID arrived.
    Answered,
    /// No response before the final timeout.
    TimedOut,
}

/// `now + d`, clamped so that absurd configurations cannot overflow `Instant`.
fn after(now: Instant, d: Duration) -> Instant {
    const FAR: Duration = Duration::from_secs(86_400 * 365);
    now.checked_add(d.min(FAR)).unwrap_or(now)
}

/// One STUN request in flight. Owns the encoded request; the caller sends what
/// [`poll_transmit`](Self::poll_transmit) returns and feeds responses and timeouts back.
#[derive(Clone, Debug)]
pub struct ClientTransaction {
    tid: TransactionId,
    request: Vec<u8>,
    config: RetransmitConfig,
    reliable: bool,
    state: TransactionState,
    transmissions: u32,
    /// When the next transmission is due (None once all are sent).
    next_send: Option<Instant>,
    /// When the transaction gives up (set after the last transmission).
    deadline: Option<Instant>,
    /// When the request was first handed out.
    first_sent: Option<Instant>,
}

impl ClientTransaction {
    /// A transaction whose first transmission is due at `now`.
    pub fn new(
        now: Instant,
        tid: TransactionId,
        request: Vec<u8>,
        config: &RetransmitConfig,
        reliable: bool,
    ) -> Self {
        ClientTransaction {
            tid,
            request,
            config: config.clone(),
            reliable,
            state: TransactionState::Pending,
            transmissions: 0,
            next_send: Some(now),
            deadline: None,
            first_sent: None,
        }
    }

    /// The request's transaction ID.
    pub fn transaction_id(&self) -> TransactionId {
        self.tid
    }

    /// The request bytes to send when a (re)transmission is due at `now`; the first call sends at once.
    #[must_use]
    pub fn poll_transmit(&mut self, now: Instant) -> Option<&[u8]> {
        if self.state != TransactionState::Pending || self.next_send? > now {
            return None;
        }
        self.transmissions += 1;
        self.first_sent.get_or_insert(now);
        if self.reliable {
            // RFC 8489 §6.2.2: a reliable transport is not retransmitted over; wait Ti.
            self.next_send = None;
            self.deadline = Some(after(now, self.config.reliable_timeout));
        } else if self.transmissions < self.config.rc.max(1) {
            // RFC 8489 §6.2.1: the RTO doubles after each transmission.
            let backoff = 1u32.checked_shl(self.transmissions - 1).unwrap_or(u32::MAX);
            self.next_send = Some(after(now, self.config.rto.saturating_mul(backoff)));
        } else {
            // After the last transmission, wait Rm times the initial RTO.
            self.next_send = None;
            self.deadline = Some(after(now, self.config.rto.saturating_mul(self.config.rm)));
        }
        tracing::trace!(tid = ?self.tid, n = self.transmissions, "STUN request transmission");
        Some(&self.request)
    }

    /// Processes the final timeout. Retransmissions are handed out by [`poll_transmit`](Self::poll_transmit).
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.state == TransactionState::Pending && self.deadline.is_some_and(|d| now >= d) {
            tracing::debug!(tid = ?self.tid, n = self.transmissions, "STUN transaction timed out");
            self.state = TransactionState::TimedOut;
        }
    }

    /// The next instant something happens: a transmission or the final timeout. None when finished.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            TransactionState::Pending => self.next_send.or(self.deadline),
            _ => None,
        }
    }

    /// Takes a response: if `msg` is a success or error response carrying this transaction's ID, a
    /// pending transaction becomes [`TransactionState::Answered`] and this returns true (also for a
    /// duplicate response to an answered transaction). False for other messages and once timed out.
    /// Authenticating the response is the caller's job.
    pub fn handle_response(&mut self, msg: &Message<'_>) -> bool {
        if msg.transaction_id() != self.tid
            || !msg.class().is_response()
            || self.state == TransactionState::TimedOut
        {
            return false;
        }
        self.state = TransactionState::Answered;
        true
    }

    /// Where the transaction stands.
    pub fn state(&self) -> TransactionState {
        self.state
    }

    /// How many times the request has been handed out for sending.
    pub fn transmissions(&self) -> u32 {
        self.transmissions
    }

    /// The round-trip time of a request answered at `now`, when it was sent once: a response to a
    /// retransmitted request could answer any of its copies (Karn's algorithm, RFC 6298 §3).
    pub fn rtt_sample(&self, now: Instant) -> Option<std::time::Duration> {
        (self.transmissions == 1).then_some(())?;
        Some(now.saturating_duration_since(self.first_sent?))
    }

    /// The encoded request.
    pub fn request(&self) -> &[u8] {
        &self.request
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Class, MessageEncoder, Method};

    #[allow(clippy::disallowed_methods)] // a test needs one real Instant to offset from
    fn epoch() -> Instant {
        Instant::now()
    }

    const TID: TransactionId = TransactionId([5; 12]);

    fn request() -> Vec<u8> {
        let mut out = Vec::new();
        MessageEncoder::new(&mut out, Class::Request, Method::BINDING, TID).finish();
        out
    }

    /// Drives a transaction on a virtual clock until it finishes; returns send times and the end time.
    fn run(mut tx: ClientTransaction, t0: Instant) -> (Vec<u128>, u128) {
        let mut sends = Vec::new();
        let mut now = t0;
        loop {
            tx.handle_timeout(now);
            while tx.poll_transmit(now).is_some() {
                sends.push((now - t0).as_millis());
            }
            match tx.poll_timeout() {
                Some(t) => now = t,
                None => return (sends, (now - t0).as_millis()),
            }
        }
    }

    #[test]
    fn default_schedule_matches_rfc8489_example() {
        // RFC 8489 §6.2.1: sends at 0, 500, 1500, 3500, 7500, 15500, 31500 ms; gives up at 39500 ms.
        let t0 = epoch();
        let tx = ClientTransaction::new(t0, TID, request(), &RetransmitConfig::default(), false);
        let (sends, end) = run(tx, t0);
        assert_eq!(sends, [0, 500, 1500, 3500, 7500, 15500, 31500]);
        assert_eq!(end, 39500);
    }

    #[test]
    fn state_after_timeout() {
        let t0 = epoch();
        let mut tx = ClientTransaction::new(t0, TID, request(), &RetransmitConfig::default(), false);
        assert_eq!(tx.poll_transmit(t0), Some(&request()[..]));
        assert_eq!(tx.poll_transmit(t0), None);
        assert_eq!(tx.poll_timeout(), Some(t0 + Duration::from_millis(500)));
        let mut now = t0;
        while let Some(t) = tx.poll_timeout() {
            now = t;
            tx.handle_timeout(now);
            let _ = tx.poll_transmit(now);
        }
        assert_eq!(tx.state(), TransactionState::TimedOut);
        assert_eq!(tx.transmissions(), 7);
        assert_eq!(now - t0, Duration::from_millis(39_500));
    }

    #[test]
    fn configurable_rto_rc_rm() {
        let t0 = epoch();
        let config = RetransmitConfig {
            rto: Duration::from_millis(100),
            rc: 3,
            rm: 4,
            ..Default::default()
        };
        let (sends, end) = run(ClientTransaction::new(t0, TID, request(), &config, false), t0);
        assert_eq!(sends, [0, 100, 300]);
        assert_eq!(end, 700);
    }

    #[test]
    fn reliable_sends_once_then_waits_ti() {
        let t0 = epoch();
        let tx = ClientTransaction::new(t0, TID, request(), &RetransmitConfig::default(), true);
        let (sends, end) = run(tx, t0);
        assert_eq!(sends, [0]);
        assert_eq!(end, 39500);
    }

    #[test]
    fn answered_stops_retransmitting() {
        let t0 = epoch();
        let mut tx = ClientTransaction::new(t0, TID, request(), &RetransmitConfig::default(), false);
        assert!(tx.poll_transmit(t0).is_some());
        let at = t0 + Duration::from_millis(500);
        assert!(tx.poll_transmit(at).is_some());

        let mut buf = Vec::new();
        MessageEncoder::new(&mut buf, Class::Success, Method::BINDING, TransactionId([6; 12])).finish();
        assert!(
            !tx.handle_response(&Message::parse(&buf).unwrap()),
            "other transaction"
        );
        let req = request();
        assert!(
            !tx.handle_response(&Message::parse(&req).unwrap()),
            "a request is not a response"
        );
        buf.clear();
        MessageEncoder::new(&mut buf, Class::Error, Method::BINDING, TID).finish();
        assert!(tx.handle_response(&Message::parse(&buf).unwrap()));
        assert_eq!(tx.state(), TransactionState::Answered);
        assert_eq!(tx.poll_timeout(), None);
        assert_eq!(tx.poll_transmit(t0 + Duration::from_secs(60)), None);
        tx.handle_timeout(t0 + Duration::from_secs(60));
        assert_eq!(tx.state(), TransactionState::Answered);
        assert_eq!(tx.transmissions(), 2);
    }

    #[test]
    fn rtt_is_sampled_only_from_a_request_sent_once() {
        let t0 = epoch();
        let mut tx = ClientTransaction::new(t0, TID, request(), &RetransmitConfig::default(), false);
        assert_eq!(tx.rtt_sample(t0), None, "not sent yet");
        assert!(tx.poll_transmit(t0).is_some());
        assert_eq!(
            tx.rtt_sample(t0 + Duration::from_millis(30)),
            Some(Duration::from_millis(30))
        );
        // RFC 6298 §3 (Karn): after a retransmission the response may answer either copy.
        let at = tx.poll_timeout().unwrap();
        assert!(tx.poll_transmit(at).is_some());
        assert_eq!(tx.rtt_sample(at + Duration::from_millis(30)), None);
    }

    #[test]
    fn absurd_config_does_not_panic() {
        let t0 = epoch();
        let config = RetransmitConfig {
            rto: Duration::MAX,
            rc: 40,
            rm: u32::MAX,
            reliable_timeout: Duration::MAX,
        };
        let mut tx = ClientTransaction::new(t0, TID, request(), &config, false);
        for _ in 0..50 {
            let now = tx.poll_timeout().unwrap_or(t0);
            tx.handle_timeout(now);
            let _ = tx.poll_transmit(now);
        }
        let config = RetransmitConfig {
            rc: 0,
            ..Default::default()
        };
        let (sends, _) = run(ClientTransaction::new(t0, TID, request(), &config, false), t0);
        assert_eq!(sends, [0]);
    }
}
