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

type Field = fn(&ServerStats) -> u64;
type Label = Option<(&'static str, &'static str)>;

/// Counter name, label (key, value) or none, and the core counter behind it.
const COUNTERS: &[(&str, Label, Field)] = &[
    ("turn_allocations_created_total", None, |s| s.allocations_created),
    ("turn_allocations_deleted_total", None, |s| s.allocations_deleted),
    ("turn_auth_failures_total", None, |s| s.auth_failures),
    ("turn_denied_peers_total", None, |s| s.denied_peers),
    ("turn_error_responses_total", None, |s| s.error_responses),
    ("turn_binding_requests_total", None, |s| s.binding_requests),
    (
        "turn_relayed_packets_total",
        Some(("direction", "to_peer")),
        |s| s.relayed_to_peer_packets,
    ),
    ("turn_relayed_bytes_total", Some(("direction", "to_peer")), |s| {
        s.relayed_to_peer_bytes
    }),
    (
        "turn_relayed_packets_total",
        Some(("direction", "to_client")),
        |s| s.relayed_to_client_packets,
    ),
    (
        "turn_relayed_bytes_total",
        Some(("direction", "to_client")),
        |s| s.relayed_to_client_bytes,
    ),
    ("turn_dropped_total", Some(("reason", "malformed")), |s| {
        s.dropped_malformed
    }),
    ("turn_dropped_total", Some(("reason", "no_allocation")), |s| {
        s.dropped_no_allocation
    }),
    ("turn_dropped_total", Some(("reason", "no_permission")), |s| {
        s.dropped_no_permission
    }),
    ("turn_dropped_total", Some(("reason", "quota")), |s| {
        s.dropped_quota
    }),
    ("turn_dropped_total", Some(("reason", "unauth_limited")), |s| {
        s.dropped_unauth_limited
    }),
    ("turn_dropped_total", Some(("reason", "queue_full")), |s| {
        s.dropped_queue_full
    }),
];

/// Adds what changed since `last` to the counters and sets this worker's allocation gauge.
pub(crate) fn publish(worker: usize, last: &mut ServerStats, now: &ServerStats, allocations: usize) {
    gauge!("turn_allocations", "worker" => worker.to_string()).set(allocations as f64);
    for (name, label, field) in COUNTERS {
        let delta = field(now).saturating_sub(field(last));
        if delta == 0 {
            continue;
        }
        match label {
            Some((k, v)) => counter!(*name, *k => *v).increment(delta),
            None => counter!(*name).increment(delta),
        }
    }
    *last = now.clone();
}
