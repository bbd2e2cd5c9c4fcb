//! Pre-filtering (draft-ietf-rmcat-gcc-02 §5.2): packets sent within 5 ms of the first of a group
//! form one group, and a burst that arrives faster than it was sent joins the group it follows
//! (a queue draining at once). For each completed group, the deltas to the previous group: send
//! time, arrival time (draft §5.1's d(i) is their difference).
//!
//! As libwebrtc's send-side `InterArrivalDelta`: groups by send time, ignores packets sent before
//! the current group, and starts over when arrivals go backwards three groups in a row or the
//! receiver's clock jumps 3 s ahead of ours.

/// A group spans at most this much send time, µs (draft §5.2: burst_time, 5 ms).
const SEND_GROUP_US: i64 = 5_000;
/// A packet arriving within this of the group's last one, and earlier than its send spacing
/// implies, belongs to the group (§5.2's second condition), µs.
const BURST_DELTA_US: i64 = 5_000;
/// ...unless the group has already spanned this much arrival time (libwebrtc), µs.
const MAX_BURST_US: i64 = 100_000;
/// Arrival deltas this much larger than our own clock's delta mean the receiver's clock jumped.
const ARRIVAL_OFFSET_THRESHOLD_US: i64 = 3_000_000;
/// Groups arriving out of order this many times in a row reset the state.
const REORDERED_RESET: u32 = 3;

/// The deltas between two consecutive groups, µs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct GroupDeltas {
    /// Between the groups' last send times.
    pub send_delta_us: i64,
    /// Between the groups' last arrival times.
    pub arrival_delta_us: i64,
    /// The completed group's last arrival (receiver's clock).
    pub arrival_us: i64,
}

#[derive(Debug, Clone, Copy)]
struct Group {
    first_send: i64,
    last_send: i64,
    first_arrival: i64,
    last_arrival: i64,
    /// Our clock when its last packet's feedback was processed.
    last_local: i64,
}

impl Group {
    fn new(send: i64, arrival: i64, local: i64) -> Self {
        Group {
            first_send: send,
            last_send: send,
            first_arrival: arrival,
            last_arrival: arrival,
            last_local: local,
        }
    }
}

/// Groups packets and yields the deltas between groups.
#[derive(Debug, Clone, Default)]
pub(crate) struct InterArrival {
    current: Option<Group>,
    previous: Option<Group>,
    reordered: u32,
    resets: u64,
}

impl InterArrival {
    /// Takes one received packet (in arrival order); returns the deltas when it completes a group
    /// that has a predecessor.
    pub(crate) fn on_packet(&mut self, send_us: i64, arrival_us: i64, local_us: i64) -> Option<GroupDeltas> {
        let Some(cur) = self.current.as_mut() else {
            self.current = Some(Group::new(send_us, arrival_us, local_us));
            return None;
        };
        if send_us < cur.first_send {
            return None; // sent before the current group: too late to matter
        }
        if !Self::starts_new_group(cur, send_us, arrival_us) {
            cur.last_send = cur.last_send.max(send_us);
            cur.last_arrival = arrival_us;
            cur.last_local = local_us;
            return None;
        }
        let done = *cur;
        self.current = Some(Group::new(send_us, arrival_us, local_us));
        let prev = self.previous.replace(done)?;
        let send_delta_us = done.last_send.saturating_sub(prev.last_send);
        let arrival_delta_us = done.last_arrival.saturating_sub(prev.last_arrival);
        let local_delta_us = done.last_local.saturating_sub(prev.last_local);
        if arrival_delta_us.saturating_sub(local_delta_us) >= ARRIVAL_OFFSET_THRESHOLD_US {
            self.reset();
            return None;
        }
        if arrival_delta_us < 0 {
            self.reordered += 1;
            if self.reordered >= REORDERED_RESET {
                self.reset();
            }
            return None;
        }
        self.reordered = 0;
        Some(GroupDeltas {
            send_delta_us,
            arrival_delta_us,
            arrival_us: done.last_arrival,
        })
    }

    /// draft-ietf-rmcat-gcc-02 §5.2: a new group unless sent within 5 ms of the group's first
    /// packet or part of a burst that arrives compressed.
    fn starts_new_group(cur: &Group, send_us: i64, arrival_us: i64) -> bool {
        let send_delta = send_us - cur.last_send;
        if send_delta == 0 {
            return false;
        }
        let arrival_delta = arrival_us.saturating_sub(cur.last_arrival);
        let propagation_delta = arrival_delta.saturating_sub(send_delta);
        let burst = propagation_delta < 0
            && arrival_delta <= BURST_DELTA_US
            && arrival_us.saturating_sub(cur.first_arrival) < MAX_BURST_US;
        !burst && send_us - cur.first_send > SEND_GROUP_US
    }

    /// Forgets the groups (a clock jump, reordering, a pause, a new path).
    pub(crate) fn reset(&mut self) {
        self.current = None;
        self.previous = None;
        self.reordered = 0;
        self.resets += 1;
    }

    /// How many times the state was reset.
    pub(crate) fn resets(&self) -> u64 {
        self.resets
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_by_five_ms_of_send_time() {
        let mut ia = InterArrival::default();
        // Packets every 2 ms, arriving 3 ms apart (a queue grows).
        let mut out = Vec::new();
        for i in 0..12i64 {
            if let Some(d) = ia.on_packet(i * 2_000, 50_000 + i * 3_000, i * 3_000) {
                out.push(d);
            }
        }
        // Groups: sends 0-4 ms, 6-10 ms, 12-16 ms, 18-22 ms (the 4th is not yet complete).
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].send_delta_us, 6_000);
        assert_eq!(out[0].arrival_delta_us, 9_000);
    }

    #[test]
    fn compressed_burst_joins_the_group() {
        let mut ia = InterArrival::default();
        assert_eq!(ia.on_packet(0, 100_000, 0), None);
        // Sent 10 ms later but arrived 1 ms after: the queue released them together.
        assert_eq!(ia.on_packet(10_000, 101_000, 0), None);
        assert_eq!(ia.on_packet(20_000, 102_000, 0), None);
        // A real gap starts a second group.
        assert_eq!(ia.on_packet(40_000, 140_000, 0), None);
        let d = ia.on_packet(60_000, 160_000, 0).expect("second group completes");
        assert_eq!((d.send_delta_us, d.arrival_delta_us), (20_000, 38_000));
    }

    #[test]
    fn clock_jump_resets() {
        let mut ia = InterArrival::default();
        ia.on_packet(0, 0, 0);
        ia.on_packet(10_000, 10_000, 10_000);
        // The receiver's clock jumps 10 s while ours moves 10 ms.
        ia.on_packet(20_000, 10_020_000, 20_000);
        assert_eq!(ia.on_packet(30_000, 10_030_000, 30_000), None);
        assert_eq!(ia.resets(), 1);
        // Late packets (sent before the current group) are ignored.
        ia.on_packet(40_000, 10_040_000, 40_000);
        assert_eq!(ia.on_packet(1_000, 10_041_000, 40_000), None);
    }
}
