//! The sequence-number state of one received stream: RFC 3550 §A.1's validation (wrap counting, a
//! big jump taken as a restart only after two sequential packets) and §A.3's expected, received
//! and lost counts, with a small bitmap that recognizes duplicates.

/// A packet this far ahead of the highest, or further, is a jump, not a loss (RFC 3550 §A.1's
/// MAX_DROPOUT).
const MAX_DROPOUT: u16 = 3000;
/// A packet this far behind the highest, or further, is a jump, not a late packet (RFC 3550 §A.1's
/// MAX_MISORDER).
const MAX_MISORDER: u16 = 100;
/// The sequence-number space (RFC 3550 §A.1's RTP_SEQ_MOD).
const SEQ_MOD: u64 = 1 << 16;
/// Width of the duplicate window: wider than MAX_MISORDER, so every packet accepted as late is in it.
const WINDOW: u16 = 128;

/// What one received sequence number turned out to be, as [`ReceiveStats::on_packet`] tells it.
///
/// [`ReceiveStats::on_packet`]: super::ReceiveStats::on_packet
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// The first packet, or one above the highest so far (possibly after a gap).
    Newest,
    /// Below the highest and not seen before: reordered, or repaired by a retransmission.
    Late,
    /// Seen before (within the last 128 sequence numbers).
    Duplicate,
    /// Too far from the highest to be a loss or a reordering (at least 3000 ahead or 100 behind,
    /// RFC 3550 §A.1). Not counted in the loss statistics; if the next packet follows it in
    /// sequence, the stream is taken as restarted.
    Jump,
    /// The second packet in sequence after a [`Jump`](Self::Jump): the sender restarted its
    /// sequence numbers, and the loss statistics start again from this packet (RFC 3550 §A.1).
    Restart,
}

/// RFC 3550 §A.1 and §A.3 state, minus the probation of a new source: a packet reaching this far
/// was authenticated by SRTP, so the first one is trusted.
#[derive(Debug, Clone, Default)]
pub(super) struct SequenceTracker {
    started: bool,
    /// The first sequence number of the current run (RFC 3550 §A.1's base_seq).
    base_seq: u16,
    /// The highest sequence number (max_seq).
    max_seq: u16,
    /// Wraps counted, shifted by 16 bits (cycles).
    cycles: u64,
    /// The sequence number that would confirm a jump as a restart (bad_seq), if one is pending.
    bad_seq: Option<u16>,
    /// Packets counted in the current run, duplicates and late ones included (received).
    received: u64,
    /// `expected` when the last report was made (expected_prior).
    expected_prior: u64,
    /// `received` when the last report was made (received_prior).
    received_prior: u64,
    /// Bit i set: sequence number `max_seq - i` was received.
    seen: u128,
    /// Packets lost in the runs before the last restart.
    lost_before_restart: i64,
}

impl SequenceTracker {
    /// Takes one sequence number (RFC 3550 §A.1 update_seq).
    pub(super) fn update(&mut self, seq: u16) -> Arrival {
        if !self.started {
            self.started = true;
            self.restart_at(seq);
            return Arrival::Newest;
        }
        let udelta = seq.wrapping_sub(self.max_seq);
        if udelta == 0 {
            self.received += 1;
            return Arrival::Duplicate;
        }
        if udelta < MAX_DROPOUT {
            // In order, with a permissible gap; below the old highest means it wrapped.
            if seq < self.max_seq {
                self.cycles += SEQ_MOD;
            }
            self.max_seq = seq;
            self.seen = if udelta < WINDOW {
                (self.seen << udelta) | 1
            } else {
                1
            };
            self.received += 1;
            return Arrival::Newest;
        }
        if u64::from(udelta) <= SEQ_MOD - u64::from(MAX_MISORDER) {
            // A very large jump: two sequential packets make it a restart.
            if self.bad_seq == Some(seq) {
                self.lost_before_restart = self.cumulative_lost();
                self.restart_at(seq);
                return Arrival::Restart;
            }
            self.bad_seq = Some(seq.wrapping_add(1));
            return Arrival::Jump;
        }
        // Behind the highest by 1 to MAX_MISORDER - 1: late or duplicate, counted either way.
        self.received += 1;
        let bit = 1u128 << self.max_seq.wrapping_sub(seq);
        if self.seen & bit != 0 {
            return Arrival::Duplicate;
        }
        self.seen |= bit;
        Arrival::Late
    }

    /// The extended highest sequence number of the current run (RFC 3550 §A.3's extended_max).
    pub(super) fn extended_highest(&self) -> u64 {
        self.cycles + u64::from(self.max_seq)
    }

    /// Packets expected in the current run (RFC 3550 §A.3).
    fn expected(&self) -> u64 {
        if !self.started {
            return 0;
        }
        self.extended_highest() - u64::from(self.base_seq) + 1
    }

    /// Packets lost since the first packet: expected less received, summed over restarts
    /// (RFC 3550 §A.3). Negative when duplicates outnumber losses.
    pub(super) fn cumulative_lost(&self) -> i64 {
        // Both counts stay far below 2^63: one per packet received.
        self.lost_before_restart + (self.expected() as i64 - self.received as i64)
    }

    /// The fraction lost since the previous call, in 1/256 (RFC 3550 §A.3), starting a new
    /// reporting interval.
    pub(super) fn take_fraction_lost(&mut self) -> u8 {
        let expected = self.expected();
        let expected_interval = expected - self.expected_prior;
        self.expected_prior = expected;
        let received_interval = self.received - self.received_prior;
        self.received_prior = self.received;
        // The counts of one interval stay far below 2^63.
        let lost_interval = expected_interval as i64 - received_interval as i64;
        if expected_interval == 0 || lost_interval <= 0 {
            return 0;
        }
        // Every packet that raises `expected` is also received, so lost < expected and the
        // fraction is below 256; min() keeps a broken invariant from wrapping.
        ((lost_interval << 8) / expected_interval as i64).min(255) as u8
    }

    /// RFC 3550 §A.1 init_seq, with the packet that starts the run counted.
    fn restart_at(&mut self, seq: u16) {
        self.base_seq = seq;
        self.max_seq = seq;
        self.bad_seq = None;
        self.cycles = 0;
        self.received = 1;
        self.received_prior = 0;
        self.expected_prior = 0;
        self.seen = 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(t: &mut SequenceTracker, seqs: impl IntoIterator<Item = u16>) -> Vec<Arrival> {
        seqs.into_iter().map(|s| t.update(s)).collect()
    }

    #[test]
    fn loss_across_the_wrap() {
        // 65530..=65535 then 0..=9 with 65534, 1 and 2 missing: 16 expected, 13 received.
        let mut t = SequenceTracker::default();
        let seqs = (65530..=65535u16)
            .chain(0..=9)
            .filter(|s| ![65534, 1, 2].contains(s));
        assert!(feed(&mut t, seqs).iter().all(|a| *a == Arrival::Newest));
        assert_eq!(t.extended_highest(), 65536 + 9);
        assert_eq!(t.expected(), 16);
        assert_eq!(t.cumulative_lost(), 3);
        // 3/16 lost: 3 × 256 / 16 = 48.
        assert_eq!(t.take_fraction_lost(), 48);
        // Nothing since: the next interval is empty.
        assert_eq!(t.take_fraction_lost(), 0);
        // The next interval: 10..=19 without 12, 15 and 18 is 3 × 256 / 10 = 76.8, so 76.
        feed(&mut t, (10..=19).filter(|s| s % 3 != 0));
        assert_eq!(t.take_fraction_lost(), 76);
        assert_eq!(t.cumulative_lost(), 3 + 3);
    }

    #[test]
    fn reordering_is_not_loss_and_duplicates_are_counted_as_received() {
        let mut t = SequenceTracker::default();
        let arrivals = feed(&mut t, [100, 102, 101, 103, 101, 103, 104]);
        use Arrival::*;
        assert_eq!(
            arrivals,
            [Newest, Newest, Late, Newest, Duplicate, Duplicate, Newest]
        );
        // 5 expected (100..=104), 7 received: RFC 3550 §6.4.1 counts duplicates, so -2.
        assert_eq!(t.cumulative_lost(), -2);
        assert_eq!(t.take_fraction_lost(), 0);
    }

    #[test]
    fn late_packet_across_the_wrap_keeps_its_cycle() {
        let mut t = SequenceTracker::default();
        use Arrival::*;
        assert_eq!(feed(&mut t, [65534, 0, 65535, 1]), [Newest, Newest, Late, Newest]);
        assert_eq!(t.extended_highest(), 65536 + 1);
        assert_eq!(t.cumulative_lost(), 0);
    }

    #[test]
    fn a_jump_is_a_restart_only_after_two_sequential_packets() {
        let mut t = SequenceTracker::default();
        feed(&mut t, 1000..1010);
        // One stray packet 30000 ahead: not counted, the run goes on.
        assert_eq!(t.update(31_000), Arrival::Jump);
        assert_eq!(t.update(1010), Arrival::Newest);
        assert_eq!((t.extended_highest(), t.cumulative_lost()), (1010, 0));
        // Two in sequence: a restart, not 30 000 losses.
        assert_eq!(t.update(31_000), Arrival::Jump);
        assert_eq!(t.update(31_001), Arrival::Restart);
        assert_eq!(t.update(31_003), Arrival::Newest);
        assert_eq!(t.extended_highest(), 31_003);
        // One lost since the restart (31 002); 31 000 was never counted.
        assert_eq!(t.cumulative_lost(), 1);
        // The interval starts over at the restart: 3 expected, 2 received, 256 / 3 = 85.
        assert_eq!(t.take_fraction_lost(), 85);
    }

    #[test]
    fn losses_before_a_restart_are_kept() {
        let mut t = SequenceTracker::default();
        feed(&mut t, [0, 1, 5]); // 2, 3, 4 lost
        feed(&mut t, [40_000, 40_001]);
        assert_eq!(t.cumulative_lost(), 3);
    }

    #[test]
    fn too_far_behind_is_a_jump() {
        let mut t = SequenceTracker::default();
        feed(&mut t, 0..=200);
        // 100 behind is a jump (RFC 3550 §A.1: udelta = 65436 = RTP_SEQ_MOD - MAX_MISORDER)...
        assert_eq!(t.update(100), Arrival::Jump);
        // ...99 behind is within the misorder bound: seen already, so a duplicate.
        assert_eq!(t.update(101), Arrival::Duplicate);
        // Two sequential packets 150 behind: the sender went back, a restart.
        assert_eq!(t.update(50), Arrival::Jump);
        assert_eq!(t.update(51), Arrival::Restart);
        assert_eq!(t.extended_highest(), 51);
    }
}
