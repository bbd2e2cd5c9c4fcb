//! Prometheus metrics (`/metrics`): allocations, relayed bytes and packets, auth failures, denied
//! peers, drops. Each worker publishes the deltas of its core's counters.

use std::net::SocketAddr;

use metrics::{counter, gauge};
use oxirtc_turn::ServerStats;

/// Starts the exporter on `addr` (binds now, so a busy port is a start-up error).
pub(crate) fn start(addr: SocketAddr) -> anyhow::Result<()> {
    let (recorder, exporter) = metrics_exporter_prometheus::PrometheusBuilder::new()
        .with_http_listener(addr)
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start metrics on {addr}: {e}"))?;
    if metrics::set_global_recorder(recorder).is_err() {
        tracing::warn!("a metrics recorder is already installed; /metrics may be empty");
    }
    tokio::spawn(exporter);
    Ok(())
}

/// Adds what changed since `last` to the counters and sets this worker's allocation gauge.
pub(crate) fn publish(worker: usize, last: &mut ServerStats, now: &ServerStats, allocations: usize) {
    let w = worker.to_string();
    gauge!("turn_allocations", "worker" => w).set(allocations as f64);
    let pairs: [(&'static str, &'static str, u64, u64); 14] = [
        (
            "turn_allocations_created_total",
            "",
            last.allocations_created,
            now.allocations_created,
        ),
        (
            "turn_allocations_deleted_total",
            "",
            last.allocations_deleted,
            now.allocations_deleted,
        ),
        (
            "turn_auth_failures_total",
            "",
            last.auth_failures,
            now.auth_failures,
        ),
        ("turn_denied_peers_total", "", last.denied_peers, now.denied_peers),
        (
            "turn_binding_requests_total",
            "",
            last.binding_requests,
            now.binding_requests,
        ),
        (
            "turn_relayed_packets_total",
            "to_peer",
            last.relayed_to_peer_packets,
            now.relayed_to_peer_packets,
        ),
        (
            "turn_relayed_bytes_total",
            "to_peer",
            last.relayed_to_peer_bytes,
            now.relayed_to_peer_bytes,
        ),
        (
            "turn_relayed_packets_total",
            "to_client",
            last.relayed_to_client_packets,
            now.relayed_to_client_packets,
        ),
        (
            "turn_relayed_bytes_total",
            "to_client",
            last.relayed_to_client_bytes,
            now.relayed_to_client_bytes,
        ),
        (
            "turn_dropped_total",
            "malformed",
            last.dropped_malformed,
            now.dropped_malformed,
        ),
        (
            "turn_dropped_total",
            "no_allocation",
            last.dropped_no_allocation,
            now.dropped_no_allocation,
        ),
        (
            "turn_dropped_total",
            "no_permission",
            last.dropped_no_permission,
            now.dropped_no_permission,
        ),
        (
            "turn_dropped_total",
            "quota",
            last.dropped_quota,
            now.dropped_quota,
        ),
        (
            "turn_dropped_total",
            "unauth_limited",
            last.dropped_unauth_limited,
            now.dropped_unauth_limited,
        ),
    ];
    for (name, label, before, after) in pairs {
        if after > before {
            if label.is_empty() {
                counter!(name).increment(after - before);
            } else if name == "turn_dropped_total" {
                counter!(name, "reason" => label).increment(after - before);
            } else {
                counter!(name, "direction" => label).increment(after - before);
            }
        }
    }
    if now.dropped_queue_full > last.dropped_queue_full {
        counter!("turn_dropped_total", "reason" => "queue_full")
            .increment(now.dropped_queue_full - last.dropped_queue_full);
    }
    *last = now.clone();
}
