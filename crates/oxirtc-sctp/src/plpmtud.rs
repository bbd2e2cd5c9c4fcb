//! Datagram Packetization Layer Path MTU Discovery for SCTP (RFC 8899 §6.2), as the path MTU method
//! SCTP over DTLS must run without ICMP (RFC 8261 §4, RFC 8831 §5).
//!
//! Sizes here are SCTP packet bytes (common header included): the caller turns IP path sizes into
//! them by subtracting its DTLS, UDP, IP and TURN overheads. The state machine only decides; the
//! association builds the probe (HEARTBEAT + PAD, RFC 8899 §6.2.1.1, RFC 4820) and reports its
//! HEARTBEAT ACK or the data timeouts that can mean a black hole.
//!
//! Search: after BASE is confirmed the first probe is MAX_PLPMTU (most paths carry 1500-byte IP
//! packets, so one round trip finishes the search); a size lost MAX_PROBES times becomes the upper
//! bound and the next probe is the middle of the remaining range (RFC 8899 §5.3.2 leaves the search
//! algorithm open), until the range is narrower than [`SEARCH_STEP`].

use std::time::{Duration, Instant};

/// RFC 8899 §5.1.2 MAX_PROBES: probes of one size lost before that size is taken as too large.
pub(crate) const MAX_PROBES: u32 = 3;

/// The search stops when the unknown range is this narrow (bytes).
pub(crate) const SEARCH_STEP: usize = 16;

/// Consecutive T3-rtx expirations with packets larger than BASE in use that are taken as a black
/// hole (RFC 8899 §4.3: loss of packets of PLPMTU size, without a PTB message).
pub(crate) const BLACK_HOLE_TIMEOUTS: u32 = 2;
/// SACKs reporting newly lost data (RACK / fast retransmit) since the PLPMTU was last confirmed that
/// make us confirm it. With RFC 8985 loss detection, small retransmissions repair what full-size
/// packets lose, so a black hole may never time T3 out: repeated loss is the other signal (§4.3).
pub(crate) const BLACK_HOLE_LOSS_EVENTS: u32 = 4;

/// Consecutive T3-rtx expirations, after a black hole, of a DATA chunk sent larger than the packet size
/// now in use before the association is aborted: such a chunk cannot be fragmented again (RFC 9260
/// §6.9), so on a path that stays small it would never arrive and the stream would stall silently.
pub(crate) const STUCK_TIMEOUTS: u32 = 3;

/// Phases of RFC 8899 §5.2 (Figure 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Not running: the association is not established, or MAX ≤ BASE.
    Disabled,
    /// Confirming that BASE_PLPMTU packets pass.
    Base,
    /// Probing larger sizes.
    Search,
    /// Search done; PMTU_RAISE_TIMER runs.
    SearchComplete,
    /// Data timed out repeatedly above BASE: a probe of the PLPMTU confirms the path still carries
    /// it (plain loss or congestion) or, lost MAX_PROBES times, shows a black hole (RFC 8899 §4.3).
    Confirm,
    /// Even BASE probes are lost: keep sending at BASE (nothing smaller is safe) and retry later.
    Error,
}

/// One probe waiting for its HEARTBEAT ACK.
#[derive(Debug, Clone, Copy)]
struct Probe {
    size: usize,
    nonce: u64,
}

/// What the association must do after a timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Nothing.
    None,
    /// Send a probe packet of exactly `size` bytes carrying `nonce` in its Heartbeat Info.
    Probe {
        /// Probe packet size (SCTP bytes).
        size: usize,
        /// Echoed in the HEARTBEAT ACK.
        nonce: u64,
    },
}

/// The PLPMTUD state of one association.
#[derive(Debug, Clone)]
pub(crate) struct Plpmtud {
    base: usize,
    max: usize,
    probe_timer: Duration,
    raise_timer: Duration,
    phase: Phase,
    /// `start` ran once (it never runs again, even after `stop`).
    started: bool,
    /// The PLPMTU in use (RFC 8899 §2): the largest size confirmed.
    plpmtu: usize,
    /// Smallest size known (or assumed) not to pass.
    too_big: usize,
    probe: Option<Probe>,
    probe_count: u32,
    /// Timeouts of data since the last acknowledged data, while above BASE.
    data_timeouts: u32,
    /// SACKs that reported lost data since the PLPMTU was last confirmed (not reset by acked data).
    loss_events: u32,
    deadline: Option<Instant>,
    /// T3 expirations in a row of an oldest chunk larger than the PLPMTU, after a black hole, each with
    /// a packet from the peer since the one before.
    pub(crate) stuck_timeouts: u32,
    /// A valid packet from the peer arrived since the last T3 expiration: the path carries something.
    pub(crate) peer_heard_since_t3: bool,
    pub(crate) probes_sent: u64,
    pub(crate) probes_acked: u64,
    pub(crate) black_holes: u64,
}

impl Plpmtud {
    /// A disabled state machine at `base`; [`start`](Self::start) runs it when `max > base`.
    pub(crate) fn new(base: usize, max: usize, probe_timer: Duration, raise_timer: Duration) -> Self {
        // Every chunk is padded to 4 bytes (RFC 9260 §3.2), so every packet size is a multiple of 4.
        let max = max & !3;
        Self {
            base,
            max: max.max(base),
            // RFC 8899 §5.1.1: PROBE_TIMER MUST NOT be smaller than 1 s.
            probe_timer: probe_timer.max(Duration::from_secs(1)),
            raise_timer,
            phase: Phase::Disabled,
            started: false,
            plpmtu: base,
            too_big: max.max(base) + 1,
            probe: None,
            probe_count: 0,
            data_timeouts: 0,
            loss_events: 0,
            deadline: None,
            stuck_timeouts: 0,
            peer_heard_since_t3: false,
            probes_sent: 0,
            probes_acked: 0,
            black_holes: 0,
        }
    }

    /// The PLPMTU: the largest size confirmed.
    pub(crate) fn plpmtu(&self) -> usize {
        self.plpmtu
    }

    /// The size new packets and DATA fragments use now: the PLPMTU, or BASE while a suspected black
    /// hole is being confirmed, so that no new chunk is cut larger than what may still pass (a chunk
    /// is never fragmented again, RFC 9260 §6.9; RFC 8899 §4.3).
    pub(crate) fn packet_size(&self) -> usize {
        if self.phase == Phase::Confirm {
            self.base
        } else {
            self.plpmtu
        }
    }

    #[cfg(test)]
    pub(crate) fn phase(&self) -> Phase {
        self.phase
    }

    /// When [`on_timer`](Self::on_timer) wants to run.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// The association is established: confirm BASE, then search (RFC 8899 §5.2). True the first time
    /// (when discovery is on); later calls do nothing.
    pub(crate) fn start(&mut self, now: Instant) -> bool {
        if self.max <= self.base || self.started {
            return false;
        }
        self.started = true;
        self.enter(Phase::Base, now);
        true
    }

    /// Stops probing (association closing); the PLPMTU stays.
    pub(crate) fn stop(&mut self) {
        self.phase = Phase::Disabled;
        self.probe = None;
        self.deadline = None;
    }

    fn enter(&mut self, phase: Phase, now: Instant) {
        self.phase = phase;
        self.probe = None;
        self.probe_count = 0;
        // The first probe of a phase goes at once; SearchComplete and Error wait.
        self.deadline = Some(match phase {
            Phase::SearchComplete => now + self.raise_timer,
            Phase::Error => now + self.probe_timer * MAX_PROBES,
            _ => now,
        });
    }

    /// The size the next probe tests, in the current phase.
    fn next_size(&self) -> Option<usize> {
        match self.phase {
            Phase::Base | Phase::Error => Some(self.base),
            Phase::Confirm => Some(self.plpmtu),
            Phase::Search => {
                let hi = self.too_big.min(self.max + 1);
                if hi <= self.plpmtu + SEARCH_STEP {
                    return None;
                }
                if hi > self.max {
                    return Some(self.max); // MAX first: one round trip on common paths
                }
                // Middle of (plpmtu, hi), 4-byte aligned like every SCTP chunk.
                Some(((self.plpmtu + hi) / 2) & !3)
            }
            Phase::Disabled | Phase::SearchComplete => None,
        }
    }

    /// The timer fired: send the next probe, count a lost one, or leave a phase.
    pub(crate) fn on_timer(&mut self, now: Instant, nonce: u64) -> Action {
        if self.deadline.is_none_or(|d| d > now) {
            return Action::None;
        }
        self.deadline = None;
        if let Some(p) = self.probe.take() {
            // RFC 8899 §5.2: a lost probe is counted, never taken as congestion.
            self.probe_count += 1;
            if self.probe_count >= MAX_PROBES {
                self.on_size_failed(now, p.size);
                if self.deadline.is_some() {
                    return Action::None;
                }
            }
        }
        match self.phase {
            Phase::SearchComplete => {
                // RFC 8899 §5.1.1 PMTU_RAISE_TIMER: search again for a larger PMTU.
                self.too_big = self.max + 1;
                self.enter(Phase::Search, now);
            }
            Phase::Error => self.phase = Phase::Base,
            _ => {}
        }
        let Some(size) = self.next_size() else {
            self.enter(Phase::SearchComplete, now);
            return Action::None;
        };
        self.probe = Some(Probe { size, nonce });
        self.probes_sent += 1;
        self.deadline = Some(now + self.probe_timer);
        Action::Probe { size, nonce }
    }

    /// MAX_PROBES probes of `size` were lost.
    fn on_size_failed(&mut self, now: Instant, size: usize) {
        self.probe_count = 0;
        match self.phase {
            // RFC 8899 §5.2: BASE does not pass either; stay at BASE and retry later.
            Phase::Base => {
                tracing::debug!(size, "PLPMTUD: BASE probes lost, error state");
                self.enter(Phase::Error, now);
            }
            Phase::Search => self.too_big = size,
            Phase::Confirm => self.black_hole(now),
            _ => {}
        }
    }

    /// RFC 8899 §4.3: packets of the PLPMTU no longer pass. Back to BASE, then search again below the
    /// size that failed (PMTU_RAISE_TIMER tries MAX later).
    fn black_hole(&mut self, now: Instant) {
        tracing::debug!(
            plpmtu = self.plpmtu,
            base = self.base,
            "PLPMTUD: black hole, back to BASE"
        );
        self.black_holes += 1;
        self.too_big = self.plpmtu;
        self.plpmtu = self.base;
        self.enter(Phase::Base, now);
    }

    /// A HEARTBEAT ACK echoed `nonce` and `size`; returns true when the PLPMTU changed.
    pub(crate) fn on_probe_acked(&mut self, now: Instant, nonce: u64, size: usize) -> bool {
        let Some(p) = self.probe else { return false };
        if p.nonce != nonce || p.size != size {
            return false;
        }
        self.probe = None;
        self.probe_count = 0;
        self.probes_acked += 1;
        match self.phase {
            Phase::Base | Phase::Error => {
                self.enter(Phase::Search, now);
                false
            }
            Phase::Confirm => {
                // The path still carries the PLPMTU: the timeouts were loss, not a black hole.
                self.data_timeouts = 0;
                self.loss_events = 0;
                self.enter(Phase::SearchComplete, now);
                false
            }
            Phase::Search => {
                let changed = size > self.plpmtu;
                self.plpmtu = self.plpmtu.max(size);
                self.deadline = Some(now);
                changed
            }
            Phase::Disabled | Phase::SearchComplete => false,
        }
    }

    /// Data was acknowledged: the path carries what we send.
    pub(crate) fn on_data_acked(&mut self) {
        self.data_timeouts = 0;
    }

    /// T3-rtx expired. RFC 8899 §4.3: repeated loss of packets larger than BASE without a PTB may be
    /// a black hole: confirm with a probe of the PLPMTU before dropping to BASE (loss and congestion
    /// also time data out). The PLPMTU falls in `on_timer`, once the confirmation probes are lost.
    pub(crate) fn on_data_timeout(&mut self, now: Instant) {
        if self.counts_black_hole_signs() && tally(&mut self.data_timeouts, BLACK_HOLE_TIMEOUTS) {
            self.enter(Phase::Confirm, now);
        }
    }

    /// A SACK reported newly lost data (RFC 8985 / RFC 9260 §7.2.4). Repeated, it may be a black
    /// hole hiding behind small retransmissions that pass: confirm the PLPMTU with a probe (§4.3).
    pub(crate) fn on_data_lost(&mut self, now: Instant) {
        if self.counts_black_hole_signs() && tally(&mut self.loss_events, BLACK_HOLE_LOSS_EVENTS) {
            self.enter(Phase::Confirm, now);
        }
    }

    /// Above BASE and not already confirming: signs of a black hole count.
    fn counts_black_hole_signs(&self) -> bool {
        self.plpmtu > self.base && !matches!(self.phase, Phase::Disabled | Phase::Confirm)
    }
}

/// Adds one to `count`; when it reaches `limit`, resets it and returns true.
fn tally(count: &mut u32, limit: u32) -> bool {
    *count += 1;
    if *count < limit {
        return false;
    }
    *count = 0;
    true
}

/// Heartbeat Info of a probe: 8 bytes send time (ms), 8 bytes nonce, 4 bytes probe size, then (toward
/// a peer that does not take PAD) zero filler. The length tells it apart from a path heartbeat (16
/// bytes); the size is checked against the probe sent.
const PROBE_INFO_LEN: usize = 20;

impl crate::Association {
    /// The association became established: start PLPMTUD (RFC 8899 §5.2, BASE state).
    pub(crate) fn pmtu_start(&mut self, now: Instant) {
        if self.pmtu.start(now) {
            self.arm_pmtu_timer();
        }
    }

    fn arm_pmtu_timer(&mut self) {
        match self.pmtu.deadline() {
            Some(at) => self.timers.set(crate::timer::Timer::Pmtu, at),
            None => self.timers.stop(crate::timer::Timer::Pmtu),
        }
    }

    /// PROBE_TIMER / PMTU_RAISE_TIMER expired.
    pub(crate) fn on_pmtu_timer(&mut self, now: Instant) {
        if !self.is_established() {
            self.pmtu.stop();
            return;
        }
        let nonce = self.rng.u64();
        let before = self.pmtu.plpmtu();
        if let Action::Probe { size, nonce } = self.pmtu.on_timer(now, nonce) {
            self.queue_probe(now, size, nonce);
        }
        if self.pmtu.plpmtu() != before {
            self.stats.pmtu_black_holes = self.pmtu.black_holes;
        }
        self.sync_packet_size();
        self.arm_pmtu_timer();
    }

    /// A SACK marked data lost: feed the black-hole detector (see [`Plpmtud::on_data_lost`]).
    pub(crate) fn pmtu_on_loss(&mut self, now: Instant) {
        self.pmtu.on_data_lost(now);
        self.sync_packet_size();
        self.arm_pmtu_timer();
    }

    /// Applies [`Plpmtud::packet_size`] to the sender if it changed.
    fn sync_packet_size(&mut self) {
        let size = self.pmtu.packet_size();
        if size != self.config.mtu {
            self.set_packet_size(size);
        }
    }

    /// RFC 8899 §6.2.1.1: a probe is a HEARTBEAT chunk followed by a PAD chunk (RFC 4820) that fills
    /// the packet to the probe size; it travels alone, outside the congestion window. PAD goes only to
    /// a peer that listed it in Supported Extensions: werift's SCTP dies on a chunk type it does not
    /// know (against RFC 9260 §3.2, which says to skip types `10xxxxxx`). Other peers get the filler
    /// inside the Heartbeat Info, which every SCTP endpoint echoes unchanged (RFC 9260 §8.3), so the
    /// HEARTBEAT ACK is as large as the probe and the probe then confirms the size in both directions.
    fn queue_probe(&mut self, now: Instant, size: usize, nonce: u64) {
        let ms = self.clock_ms(now);
        let mut out = Vec::with_capacity(size);
        let size32 = u32::try_from(size).unwrap_or(u32::MAX);
        let fields: [&[u8]; 3] = [&ms.to_be_bytes(), &nonce.to_be_bytes(), &size32.to_be_bytes()];
        if self.peer.pad {
            crate::chunk::encode_heartbeat(&mut out, crate::chunk::ty::HEARTBEAT, &fields);
            let pad = size.saturating_sub(crate::packet::COMMON_HEADER_LEN + out.len());
            if pad >= 4 {
                crate::chunk::encode_pad(&mut out, pad);
            }
        } else {
            // Common header + chunk header (4) + Heartbeat Info parameter header (4) + the fields.
            let unpadded = crate::packet::COMMON_HEADER_LEN + 8 + PROBE_INFO_LEN;
            // Whole 4-byte units, so the chunk needs no padding of its own and the packet is `size`
            // bytes (rounded down to a multiple of 4, as a PAD chunk's length would be).
            let filler = vec![0u8; size.saturating_sub(unpadded) & !3];
            crate::chunk::encode_heartbeat(
                &mut out,
                crate::chunk::ty::HEARTBEAT,
                &[fields[0], fields[1], fields[2], &filler],
            );
        }
        tracing::trace!(size, pad_chunk = self.peer.pad, "PLPMTUD probe");
        self.ctrl.push_back(crate::association::Ctrl {
            vtag: self.peer.tag,
            bytes: out,
            alone: true,
        });
        self.stats.pmtu_probes_sent = self.pmtu.probes_sent;
    }

    /// A HEARTBEAT ACK whose info has the probe layout (20 bytes, or more with the filler of a probe
    /// sent without PAD); true if it was one (handled here).
    pub(crate) fn on_probe_ack(&mut self, now: Instant, info: &[u8]) -> bool {
        if info.len() < PROBE_INFO_LEN {
            return false;
        }
        let mut n = [0u8; 8];
        n.copy_from_slice(&info[8..16]);
        let mut z = [0u8; 4];
        z.copy_from_slice(&info[16..20]);
        let size = u32::from_be_bytes(z) as usize;
        self.pmtu.on_probe_acked(now, u64::from_be_bytes(n), size);
        self.sync_packet_size();
        self.stats.pmtu_probes_acked = self.pmtu.probes_acked;
        self.arm_pmtu_timer();
        true
    }

    /// T3-rtx expired: repeated, it can mean a black hole (RFC 8899 §4.3). Returns true when the
    /// association was aborted because its oldest chunk no longer fits the path (see
    /// [`STUCK_TIMEOUTS`]).
    pub(crate) fn pmtu_on_t3(&mut self, now: Instant) -> bool {
        self.pmtu.on_data_timeout(now);
        self.sync_packet_size();
        self.arm_pmtu_timer();
        let oldest = self.sender.chunk(self.sender.cum_ack + 1);
        let packet = oldest.map_or(0, |c| c.wire_len() + crate::packet::COMMON_HEADER_LEN);
        let heard = std::mem::take(&mut self.pmtu.peer_heard_since_t3);
        if self.pmtu.black_holes == 0 || packet <= self.config.mtu {
            self.pmtu.stuck_timeouts = 0;
            return false;
        }
        // RFC 8899 §4.3: a black hole loses packets of one size while smaller ones still arrive. When
        // nothing at all came back since the last timeout the path is down (a cut, a NAT rebinding),
        // not too small: that timeout is Association.Max.Retrans's business (RFC 9260 §8.1), and the
        // large chunk may well pass once the path is back. It neither counts nor clears the count:
        // with the back-off bounded (`SctpConfig::max_backoff`) timeouts can come faster than the
        // probes whose answers show that small packets pass.
        if !heard {
            return false;
        }
        self.pmtu.stuck_timeouts += 1;
        if self.pmtu.stuck_timeouts < STUCK_TIMEOUTS {
            return false;
        }
        tracing::warn!(
            packet,
            pmtu = self.config.mtu,
            "SCTP: path MTU fell below a chunk already sent"
        );
        self.send_abort(
            crate::param::cause::PROTOCOL_VIOLATION,
            b"path MTU fell below a sent chunk",
        );
        self.terminate(crate::SctpEvent::Aborted(format!(
            "path MTU fell below a chunk already sent ({packet} bytes, path {} bytes): it cannot be \
             fragmented again (RFC 9260 §6.9)",
            self.config.mtu
        )));
        true
    }

    /// The packet size every new packet and DATA fragment uses from now on. Chunks already sent
    /// keep their size (RFC 9260 §6.9: a fragmented message is never fragmented again).
    fn set_packet_size(&mut self, size: usize) {
        tracing::debug!(size, "SCTP packet size (PLPMTU)");
        self.config.mtu = size;
        self.sender.set_mtu(size);
        self.stats.pmtu = size;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::disallowed_methods)] // the test owns the clock
    fn t0() -> Instant {
        Instant::now()
    }

    const PT: Duration = Duration::from_secs(2);

    fn machine(base: usize, max: usize) -> Plpmtud {
        Plpmtud::new(base, max, PT, Duration::from_secs(600))
    }

    /// Runs the machine against a path that passes packets of at most `path` bytes; returns the
    /// PLPMTU reached and the virtual time it took.
    fn search(m: &mut Plpmtud, now: &mut Instant, path: usize) -> usize {
        for nonce in 0..100 {
            let Some(d) = m.deadline() else { break };
            if m.phase() == Phase::SearchComplete {
                break;
            }
            *now = (*now).max(d);
            if let Action::Probe { size, nonce } = m.on_timer(*now, nonce) {
                if size <= path {
                    m.on_probe_acked(*now, nonce, size);
                }
            }
        }
        m.plpmtu()
    }

    #[test]
    fn disabled_when_max_not_above_base() {
        let mut m = machine(1135, 1135);
        m.start(t0());
        assert_eq!(m.phase(), Phase::Disabled);
        assert_eq!(m.deadline(), None);
    }

    #[test]
    fn full_path_found_in_two_round_trips() {
        let mut now = t0();
        let mut m = machine(1135, 1436);
        m.start(now);
        assert_eq!(search(&mut m, &mut now, 1500), 1436);
        assert_eq!(m.phase(), Phase::SearchComplete);
        assert_eq!((m.probes_sent, m.probes_acked), (2, 2), "BASE, then MAX");
    }

    #[test]
    fn search_converges_below_the_path() {
        for path in [1135, 1200, 1215, 1300, 1434] {
            let mut now = t0();
            let mut m = machine(1135, 1436);
            m.start(now);
            let got = search(&mut m, &mut now, path);
            assert!(got <= path && got + SEARCH_STEP + 4 > path, "path {path}: {got}");
            assert_eq!(m.phase(), Phase::SearchComplete);
        }
    }

    #[test]
    fn a_lost_size_takes_max_probes() {
        let mut now = t0();
        let mut m = machine(1135, 1436);
        m.start(now);
        assert!(matches!(m.on_timer(now, 1), Action::Probe { size: 1135, .. }));
        assert!(!m.on_probe_acked(now, 1, 1135));
        for i in 0..MAX_PROBES {
            now = m.deadline().unwrap();
            assert_eq!(
                m.on_timer(now, 10 + u64::from(i)),
                Action::Probe {
                    size: 1436,
                    nonce: 10 + u64::from(i)
                }
            );
        }
        now = m.deadline().unwrap();
        let Action::Probe { size, .. } = m.on_timer(now, 20) else {
            panic!("no probe")
        };
        assert!(size < 1436 && size > 1135, "{size}");
        assert_eq!(m.plpmtu(), 1135, "a lost probe never lowers or raises the PLPMTU");
    }

    #[test]
    fn stale_or_wrong_acks_are_ignored() {
        let now = t0();
        let mut m = machine(1135, 1436);
        m.start(now);
        m.on_timer(now, 1);
        m.on_probe_acked(now, 1, 1135);
        m.on_timer(now, 2);
        assert!(!m.on_probe_acked(now, 1, 1436), "old nonce");
        assert!(!m.on_probe_acked(now, 2, 1400), "wrong size");
        assert!(m.on_probe_acked(now, 2, 1436));
        assert!(!m.on_probe_acked(now, 2, 1436), "duplicate");
        assert_eq!(m.plpmtu(), 1436);
    }

    #[test]
    fn base_lost_enters_error_and_stays_at_base() {
        let mut now = t0();
        let mut m = machine(1135, 1436);
        m.start(now);
        assert_eq!(search(&mut m, &mut now, 1000), 1135);
        assert_eq!(m.phase(), Phase::Error);
        assert_eq!(m.probes_acked, 0);
    }

    #[test]
    fn black_hole_falls_back_to_base_and_searches_again() {
        let mut now = t0();
        let mut m = machine(1135, 1436);
        m.start(now);
        assert_eq!(search(&mut m, &mut now, 1500), 1436);
        m.on_data_timeout(now);
        m.on_data_acked();
        m.on_data_timeout(now);
        assert_eq!(
            m.phase(),
            Phase::SearchComplete,
            "progress in between resets the count"
        );
        m.on_data_timeout(now);
        assert_eq!(m.phase(), Phase::Confirm);
        // The confirmation probes (PLPMTU size) are lost MAX_PROBES times: a black hole.
        for i in 0..MAX_PROBES {
            now = m.deadline().unwrap();
            assert_eq!(
                m.on_timer(now, u64::from(i)),
                Action::Probe {
                    size: 1436,
                    nonce: u64::from(i)
                }
            );
        }
        now = m.deadline().unwrap();
        assert_eq!(m.on_timer(now, 9), Action::None);
        assert_eq!((m.plpmtu(), m.phase(), m.black_holes), (1135, Phase::Base, 1));
        let got = search(&mut m, &mut now, 1280);
        assert!(got <= 1280 && got + SEARCH_STEP + 4 > 1280, "{got}");
    }

    #[test]
    fn timeouts_on_a_good_path_are_not_a_black_hole() {
        let mut now = t0();
        let mut m = machine(1135, 1436);
        m.start(now);
        assert_eq!(search(&mut m, &mut now, 1500), 1436);
        m.on_data_timeout(now);
        m.on_data_timeout(now);
        let Action::Probe { size, nonce } = m.on_timer(m.deadline().unwrap(), 5) else {
            panic!("no probe")
        };
        assert_eq!(size, 1436);
        assert!(!m.on_probe_acked(now, nonce, size));
        assert_eq!(
            (m.plpmtu(), m.phase(), m.black_holes),
            (1436, Phase::SearchComplete, 0)
        );
    }

    #[test]
    fn repeated_loss_confirms_the_plpmtu_with_new_data_at_base_meanwhile() {
        let mut now = t0();
        let mut m = machine(1135, 1436);
        m.start(now);
        assert_eq!(search(&mut m, &mut now, 1500), 1436);
        for _ in 1..BLACK_HOLE_LOSS_EVENTS {
            m.on_data_lost(now);
        }
        assert_eq!((m.phase(), m.packet_size()), (Phase::SearchComplete, 1436));
        m.on_data_lost(now);
        assert_eq!((m.phase(), m.packet_size()), (Phase::Confirm, 1135));
        let Action::Probe { size, nonce } = m.on_timer(m.deadline().unwrap(), 6) else {
            panic!("no probe")
        };
        assert_eq!(size, 1436);
        m.on_probe_acked(now, nonce, size);
        assert_eq!(
            (m.phase(), m.packet_size(), m.black_holes),
            (Phase::SearchComplete, 1436, 0)
        );
    }

    #[test]
    fn raise_timer_searches_again() {
        let mut now = t0();
        let mut m = machine(1135, 1436);
        m.start(now);
        let got = search(&mut m, &mut now, 1200);
        assert!(got <= 1200 && got + SEARCH_STEP + 4 > 1200, "{got}");
        let d = m.deadline().unwrap();
        assert_eq!(d, now + Duration::from_secs(600));
        now = d;
        let Action::Probe { size, .. } = m.on_timer(now, 99) else {
            panic!("no probe")
        };
        assert_eq!(size, 1436, "the raise probe tries MAX again");
    }
}
