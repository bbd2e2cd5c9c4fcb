//! Sending probe clusters (libwebrtc `BitrateProber`): the packets of the front cluster go at its
//! rate, the n-th byte at `start + n × 8 / rate`, until it has sent its bytes and packets.
//!
//! Probing is enabled by the first packet of at least 200 bytes (so that a connection that has
//! sent nothing, or only small audio, does not pad). A cluster not started within 5 s is
//! abandoned; at most 8 wait. Whatever cluster it is given, a probe asks for at most 10 MB and
//! 1000 packets, and its packets are at least 1 µs apart, so a caller's loop over
//! [`Pacer::poll_send`](super::Pacer::poll_send) at one instant always ends.

use crate::types::{ProbeCluster, ProbeClusterId};
use std::collections::VecDeque;

/// Packets this big or bigger enable probing.
const MIN_ENABLING_PACKET: usize = 200;
/// Clusters waiting longer than this are abandoned, µs.
const CLUSTER_TIMEOUT_US: i64 = 5_000_000;
/// Clusters waiting at once.
const MAX_CLUSTERS: usize = 8;
/// Caps on what one cluster asks for.
const MAX_CLUSTER_BYTES: u64 = 10_000_000;
const MAX_CLUSTER_PROBES: u32 = 1000;
/// Probe padding is sized for this spacing at the probe rate (libwebrtc: 2 × `min_probe_delta`
/// of 2 ms), µs.
const PROBE_SIZE_TIME_US: u64 = 4_000;

#[derive(Debug, Clone, Copy)]
struct Active {
    cluster: ProbeCluster,
    created_us: i64,
    started_us: Option<i64>,
    last_sent_us: i64,
    sent_bytes: u64,
    sent_probes: u32,
}

/// The clusters to send.
#[derive(Debug, Clone, Default)]
pub(crate) struct Prober {
    clusters: VecDeque<Active>,
    enabled: bool,
    completed: u64,
}

impl Prober {
    pub(crate) fn add(&mut self, now_us: i64, mut cluster: ProbeCluster) {
        if self.clusters.len() >= MAX_CLUSTERS {
            self.clusters.pop_front();
        }
        cluster.min_bytes = cluster.min_bytes.min(MAX_CLUSTER_BYTES);
        cluster.min_probes = cluster.min_probes.min(MAX_CLUSTER_PROBES);
        self.clusters.push_back(Active {
            cluster,
            created_us: now_us,
            started_us: None,
            last_sent_us: now_us,
            sent_bytes: 0,
            sent_probes: 0,
        });
    }

    pub(crate) fn on_enqueued(&mut self, size: usize) {
        self.enabled |= size >= MIN_ENABLING_PACKET;
    }

    /// The cluster being sent, if probing is enabled (drops clusters that waited too long).
    pub(crate) fn current(&mut self, now_us: i64) -> Option<ProbeClusterId> {
        while self
            .clusters
            .front()
            .is_some_and(|c| c.started_us.is_none() && now_us - c.created_us > CLUSTER_TIMEOUT_US)
        {
            self.clusters.pop_front();
        }
        self.peek()
    }

    fn peek(&self) -> Option<ProbeClusterId> {
        self.clusters
            .front()
            .filter(|_| self.enabled)
            .map(|c| c.cluster.id)
    }

    /// When the current cluster's next packet is due, µs.
    pub(crate) fn next_due_us(&self, now_us: i64) -> Option<i64> {
        self.peek()?;
        let c = self.clusters.front()?;
        let Some(start) = c.started_us else {
            return Some(now_us);
        };
        let offset = c.sent_bytes.saturating_mul(8_000_000) / c.cluster.target_bps.max(1);
        let due = start.saturating_add(i64::try_from(offset).unwrap_or(i64::MAX));
        Some(due.max(c.last_sent_us + 1))
    }

    /// The padding size for the current cluster, within [50, `max`] bytes.
    pub(crate) fn padding_size(&self, max: usize) -> usize {
        let rate = self.clusters.front().map_or(0, |c| c.cluster.target_bps);
        let bytes = usize::try_from(rate.saturating_mul(PROBE_SIZE_TIME_US) / 8_000_000).unwrap_or(max);
        bytes.clamp(50, max.max(50))
    }

    /// `bytes` went out for the current cluster at `now_us`.
    pub(crate) fn on_sent(&mut self, now_us: i64, bytes: usize) {
        let Some(c) = self.clusters.front_mut() else {
            return;
        };
        c.started_us.get_or_insert(now_us);
        c.last_sent_us = now_us;
        c.sent_bytes = c.sent_bytes.saturating_add(bytes as u64);
        c.sent_probes += 1;
        if c.sent_bytes >= c.cluster.min_bytes && c.sent_probes >= c.cluster.min_probes {
            self.clusters.pop_front();
            self.completed += 1;
        }
    }

    /// Clusters sent in full.
    pub(crate) fn completed(&self) -> u64 {
        self.completed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster(id: u32) -> ProbeCluster {
        ProbeCluster {
            id: ProbeClusterId(id),
            target_bps: 1_000_000,
            min_probes: 5,
            min_bytes: 1_875,
        }
    }

    #[test]
    fn paced_at_the_cluster_rate_until_done() {
        let mut p = Prober::default();
        p.add(0, cluster(1));
        assert_eq!(p.current(0), None, "not enabled before a large packet");
        p.on_enqueued(100);
        assert_eq!(p.current(0), None);
        p.on_enqueued(1000);
        assert_eq!(p.current(0), Some(ProbeClusterId(1)));
        assert_eq!(p.next_due_us(7), Some(7));
        assert_eq!(p.padding_size(1200), 500);
        p.on_sent(10, 500);
        // 500 bytes at 1 Mbit/s: the next 4 ms later.
        assert_eq!(p.next_due_us(10), Some(4_010));
        for i in 1..5 {
            p.on_sent(10 + i * 4_000, 500);
        }
        assert_eq!(p.current(20_000), None);
        assert_eq!(p.completed(), 1);
    }

    #[test]
    fn stale_clusters_abandoned_and_bounded() {
        let mut p = Prober::default();
        p.on_enqueued(1000);
        for i in 0..10 {
            p.add(0, cluster(i));
        }
        assert_eq!(p.current(0), Some(ProbeClusterId(2)), "the 8 newest kept");
        assert_eq!(p.current(6_000_000), None);
        assert_eq!(p.padding_size(1200), 50);
        // An absurd cluster: capped, and its packets 1 µs apart at least.
        let huge = ProbeCluster {
            id: ProbeClusterId(99),
            target_bps: u64::MAX,
            min_probes: u32::MAX,
            min_bytes: u64::MAX,
        };
        p.add(7_000_000, huge);
        p.on_sent(7_000_000, 1200);
        assert_eq!(p.next_due_us(7_000_000), Some(7_000_001));
    }
}
