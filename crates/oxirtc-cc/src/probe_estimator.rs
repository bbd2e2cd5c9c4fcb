//! Probe results: the rate a probe cluster's packets were sent at and received at, from their
//! feedback (libwebrtc `ProbeBitrateEstimator`).
//!
//! With at least 80 % of the cluster's packets and bytes reported received, the send rate is the
//! bytes (less the last packet's) over the send interval and the receive rate the bytes (less the
//! first packet's) over the receive interval. The result is the lower of the two; if the receive
//! rate is under 90 % of the send rate the path is saturated and the result is 95 % of the
//! receive rate. Intervals over 1 s, or a receive rate over twice the send rate, are not results.

use crate::feedback::PacketResult;
use crate::types::{ProbeCluster, ProbeClusterId};

const MIN_RECEIVED_RATIO: f64 = 0.8;
const MAX_INTERVAL_US: i64 = 1_000_000;
const MAX_VALID_RATIO: f64 = 2.0;
const MIN_RATIO_UNSATURATED: f64 = 0.9;
const TARGET_UTILIZATION: f64 = 0.95;
/// Clusters kept at once.
const MAX_CLUSTERS: usize = 16;
/// A cluster with no feedback for this long is forgotten, µs.
const CLUSTER_TIMEOUT_US: i64 = 1_000_000;

#[derive(Debug, Clone, Copy)]
struct Aggregate {
    id: ProbeClusterId,
    updated_us: i64,
    first_send: i64,
    last_send: i64,
    last_send_size: u64,
    first_arrival: i64,
    first_arrival_size: u64,
    last_arrival: i64,
    bytes: u64,
    packets: u32,
}

/// Aggregates probe packets' feedback per cluster.
#[derive(Debug, Clone, Default)]
pub(crate) struct ProbeEstimator {
    clusters: Vec<Aggregate>,
    results: u64,
}

impl ProbeEstimator {
    /// One received packet of `cluster`; returns the cluster's rate (bit/s) once there is enough
    /// of it.
    pub(crate) fn on_packet(&mut self, now_us: i64, p: &PacketResult, cluster: &ProbeCluster) -> Option<f64> {
        self.clusters
            .retain(|c| now_us - c.updated_us <= CLUSTER_TIMEOUT_US);
        let size = u64::from(p.size);
        let idx = match self.clusters.iter().position(|c| c.id == cluster.id) {
            Some(i) => i,
            None => {
                if self.clusters.len() >= MAX_CLUSTERS {
                    self.clusters.remove(0);
                }
                self.clusters.push(Aggregate {
                    id: cluster.id,
                    updated_us: now_us,
                    first_send: p.send_us,
                    last_send: p.send_us,
                    last_send_size: size,
                    first_arrival: p.arrival_us,
                    first_arrival_size: size,
                    last_arrival: p.arrival_us,
                    bytes: 0,
                    packets: 0,
                });
                self.clusters.len() - 1
            }
        };
        let c = &mut self.clusters[idx];
        c.updated_us = now_us;
        c.first_send = c.first_send.min(p.send_us);
        if p.send_us >= c.last_send {
            (c.last_send, c.last_send_size) = (p.send_us, size);
        }
        if p.arrival_us < c.first_arrival {
            (c.first_arrival, c.first_arrival_size) = (p.arrival_us, size);
        }
        c.last_arrival = c.last_arrival.max(p.arrival_us);
        c.bytes += size;
        c.packets += 1;
        let c = *c;
        if f64::from(c.packets) < f64::from(cluster.min_probes) * MIN_RECEIVED_RATIO
            || (c.bytes as f64) < cluster.min_bytes as f64 * MIN_RECEIVED_RATIO
        {
            return None;
        }
        let send_us = c.last_send - c.first_send;
        let receive_us = c.last_arrival - c.first_arrival;
        if !(1..=MAX_INTERVAL_US).contains(&send_us) || !(1..=MAX_INTERVAL_US).contains(&receive_us) {
            return None;
        }
        let send_bps = (c.bytes - c.last_send_size) as f64 * 8e6 / send_us as f64;
        let receive_bps = (c.bytes - c.first_arrival_size) as f64 * 8e6 / receive_us as f64;
        if receive_bps > MAX_VALID_RATIO * send_bps {
            return None;
        }
        let mut result = send_bps.min(receive_bps);
        if receive_bps < MIN_RATIO_UNSATURATED * send_bps {
            result = TARGET_UTILIZATION * receive_bps;
        }
        self.results += 1;
        Some(result)
    }

    /// Forgets every cluster.
    pub(crate) fn reset(&mut self) {
        self.clusters.clear();
    }

    /// Results produced so far.
    pub(crate) fn results(&self) -> u64 {
        self.results
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster() -> ProbeCluster {
        ProbeCluster {
            id: ProbeClusterId(1),
            target_bps: 2_000_000,
            min_probes: 5,
            min_bytes: 3_750,
        }
    }

    /// Five 1000-byte probes 4 ms apart (2 Mbit/s), arriving `spacing_us` apart.
    fn run(spacing_us: i64) -> Option<f64> {
        let mut e = ProbeEstimator::default();
        let mut last = None;
        for i in 0..5 {
            let p = PacketResult {
                send_us: i * 4_000,
                size: 1000,
                arrival_us: 50_000 + i * spacing_us,
                probe: Some(ProbeClusterId(1)),
            };
            last = e.on_packet(100_000, &p, &cluster());
        }
        last
    }

    #[test]
    fn unsaturated_and_saturated_paths() {
        // Received as sent: 2 Mbit/s.
        assert_eq!(run(4_000), Some(2_000_000.0));
        // Received at half the rate: the path carries 1 Mbit/s; 95 % of it.
        assert_eq!(run(8_000), Some(950_000.0));
        // Received impossibly fast: no result.
        assert_eq!(run(1_000), None);
    }
}
