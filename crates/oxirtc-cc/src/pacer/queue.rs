//! The pacer's queues: one FIFO per class, a byte and packet count, the drop order, and the
//! weighted fair share between media and data-channel traffic.
//!
//! Release order: audio first; then media (retransmissions before video) and data by weighted
//! fair queueing: when both are waiting each gets its share of the bytes (data `data_share`,
//! media the rest), and either gets everything the other does not use. A class that was idle
//! does not bank credit: its virtual time catches up with the other's when it has packets again.

use super::{PacketClass, PacketId};
use std::collections::VecDeque;

/// One queued packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Queued {
    pub id: PacketId,
    pub size: usize,
    pub enqueued_us: i64,
}

/// The drop order when the queue is over its bounds: oldest video first, audio last.
const DROP_ORDER: [PacketClass; 4] = [
    PacketClass::Video,
    PacketClass::Retransmission,
    PacketClass::Data,
    PacketClass::Audio,
];

/// The four class queues.
#[derive(Debug, Clone)]
pub(crate) struct Queues {
    queues: [VecDeque<Queued>; 4],
    bytes: usize,
    packets: usize,
    /// Σ enqueue time of the queued packets, for their average age.
    sum_enqueued_us: i128,
    vt_media: f64,
    vt_data: f64,
    data_share: f64,
}

impl Queues {
    pub(crate) fn new(data_share: f64) -> Self {
        Queues {
            queues: Default::default(),
            bytes: 0,
            packets: 0,
            sum_enqueued_us: 0,
            vt_media: 0.0,
            vt_data: 0.0,
            data_share,
        }
    }

    pub(crate) fn push(&mut self, class: PacketClass, item: Queued) {
        match class {
            PacketClass::Data if self.queues[class as usize].is_empty() => {
                self.vt_data = self.vt_data.max(self.vt_media);
            }
            PacketClass::Retransmission | PacketClass::Video if !self.has_media() => {
                self.vt_media = self.vt_media.max(self.vt_data);
            }
            _ => {}
        }
        self.queues[class as usize].push_back(item);
        self.bytes += item.size;
        self.packets += 1;
        self.sum_enqueued_us += i128::from(item.enqueued_us);
    }

    fn pop(&mut self, class: PacketClass) -> Option<Queued> {
        let item = self.queues[class as usize].pop_front()?;
        self.bytes -= item.size;
        self.packets -= 1;
        self.sum_enqueued_us -= i128::from(item.enqueued_us);
        Some(item)
    }

    pub(crate) fn has_media(&self) -> bool {
        !self.queues[PacketClass::Retransmission as usize].is_empty()
            || !self.queues[PacketClass::Video as usize].is_empty()
    }

    pub(crate) fn has(&self, class: PacketClass) -> bool {
        !self.queues[class as usize].is_empty()
    }

    /// The next media packet (retransmission, else video), for a probe.
    pub(crate) fn pop_media(&mut self) -> Option<(PacketClass, Queued)> {
        let class = if self.has(PacketClass::Retransmission) {
            PacketClass::Retransmission
        } else {
            PacketClass::Video
        };
        let item = self.pop(class)?;
        self.vt_media += item.size as f64 / (1.0 - self.data_share);
        Some((class, item))
    }

    /// The next packet by the release order (audio is the caller's, first).
    pub(crate) fn pop_next(&mut self) -> Option<(PacketClass, Queued)> {
        if let Some(item) = self.pop(PacketClass::Audio) {
            return Some((PacketClass::Audio, item));
        }
        let data = self.has(PacketClass::Data);
        if self.has_media() && (!data || self.vt_media <= self.vt_data) {
            return self.pop_media();
        }
        let item = self.pop(PacketClass::Data)?;
        self.vt_data += item.size as f64 / self.data_share;
        Some((PacketClass::Data, item))
    }

    /// Drops the oldest packet of the first non-empty class in the drop order.
    pub(crate) fn drop_one(&mut self) -> Option<(PacketClass, Queued)> {
        let class = DROP_ORDER.into_iter().find(|c| self.has(*c))?;
        Some((class, self.pop(class)?))
    }

    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    pub(crate) fn packets(&self) -> usize {
        self.packets
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.packets == 0
    }

    /// The average time the queued packets have waited at `now_us`, µs.
    pub(crate) fn average_age_us(&self, now_us: i64) -> i64 {
        if self.packets == 0 {
            return 0;
        }
        let avg_enqueued = self.sum_enqueued_us / self.packets as i128;
        (i128::from(now_us) - avg_enqueued).max(0) as i64
    }

    /// When the oldest queued packet was enqueued, µs.
    pub(crate) fn oldest_us(&self) -> Option<i64> {
        self.queues
            .iter()
            .filter_map(|q| q.front())
            .map(|q| q.enqueued_us)
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: u64, size: usize) -> Queued {
        Queued {
            id: PacketId(id),
            size,
            enqueued_us: id as i64,
        }
    }

    #[test]
    fn priority_then_fair_share() {
        let mut q = Queues::new(0.25);
        for i in 0..40 {
            q.push(PacketClass::Video, item(i, 1000));
            q.push(PacketClass::Data, item(100 + i, 1000));
        }
        q.push(PacketClass::Retransmission, item(200, 1000));
        q.push(PacketClass::Audio, item(300, 100));
        assert_eq!(q.pop_next().map(|(c, _)| c), Some(PacketClass::Audio));
        assert_eq!(q.pop_next().map(|(c, _)| c), Some(PacketClass::Retransmission));
        let mut data = 0;
        for _ in 0..40 {
            if q.pop_next().map(|(c, _)| c) == Some(PacketClass::Data) {
                data += 1;
            }
        }
        assert!((9..=11).contains(&data), "a quarter of 40, {data}");
        assert_eq!(q.packets(), 80 + 2 - 42);
        assert_eq!(q.bytes(), 40_000);
    }

    #[test]
    fn drop_order_and_ages() {
        let mut q = Queues::new(0.25);
        q.push(PacketClass::Audio, item(1, 100));
        q.push(PacketClass::Data, item(2, 100));
        q.push(PacketClass::Video, item(3, 100));
        q.push(PacketClass::Video, item(4, 100));
        assert_eq!(q.oldest_us(), Some(1));
        assert_eq!(q.average_age_us(10), 10 - 2);
        let order: Vec<u64> = std::iter::from_fn(|| q.drop_one()).map(|(_, i)| i.id.0).collect();
        assert_eq!(order, [3, 4, 2, 1]);
        assert!(q.is_empty());
        assert_eq!(q.average_age_us(10), 0);
    }
}
