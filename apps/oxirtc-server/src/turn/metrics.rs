//! Prometheus metrics (`/metrics`): allocations, relayed bytes and packets, auth failures, denied
//! peers, drops. Each worker publishes the deltas of its core's counters.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

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
    (
        "turn_dropped_total",
        Some(("reason", "unauth_request_too_small")),
        |s| s.dropped_unauth_too_small,
    ),
];

/// The operator warning for requests refused by the 401 size rule, at most once per this long
/// over all workers.
const TOO_SMALL_WARNING_EVERY: Duration = Duration::from_secs(60);

/// Milliseconds since `WARN_EPOCH` of the last too-small warning, plus one (0 = never warned).
static LAST_TOO_SMALL_WARNING: AtomicU64 = AtomicU64::new(0);

/// True if the caller should log the too-small warning now: the first call, then at most one caller
/// per [`TOO_SMALL_WARNING_EVERY`] (a compare-exchange, so two workers never both win).
fn too_small_warning_due(now: Instant, epoch: Instant) -> bool {
    let ms = u64::try_from(now.saturating_duration_since(epoch).as_millis()).unwrap_or(u64::MAX - 1) + 1;
    let last = LAST_TOO_SMALL_WARNING.load(Ordering::Relaxed);
    let every = TOO_SMALL_WARNING_EVERY.as_millis() as u64;
    if last != 0 && ms.saturating_sub(last) < every {
        return false;
    }
    LAST_TOO_SMALL_WARNING
        .compare_exchange(last, ms, Ordering::Relaxed, Ordering::Relaxed)
        .is_ok()
}

/// The optional 401 size rule (`--unauth-size-slack`), named in its warning.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SizeRule {
    /// `--unauth-size-slack`.
    pub slack: usize,
    /// Bytes of every 401/438 ([`oxirtc_turn::ServerConfig::unauthenticated_response_len`]).
    pub answer: usize,
}

/// Smallest first Allocate of a client we know: Chromium's (REQUESTED-TRANSPORT only).
const BROWSER_FIRST_ALLOCATE: usize = 28;

/// The one-a-minute warning when the 401 size rule refused requests since the last publish.
fn warn_if_too_small(refused: u64, rule: Option<SizeRule>, now: Instant, epoch: Instant) {
    let Some(SizeRule { slack, answer }) = rule else {
        return;
    };
    if refused == 0 || !too_small_warning_due(now, epoch) {
        return;
    }
    let needed = answer.saturating_sub(BROWSER_FIRST_ALLOCATE);
    tracing::warn!(
        refused,
        unauth_size_slack = slack,
        "TURN: unauthenticated requests left unanswered: their {answer}-byte 401 is more than \
         --unauth-size-slack {slack} bytes larger than they are. Browsers (28-byte first Allocate) and \
         coturn's clients (52 bytes) cannot authenticate like this: remove --unauth-size-slack \
         (config: unauth-size-slack), the default answers every request within --unauth-rate per \
         source, or set it to at least {needed}"
    );
}

/// Adds what changed since `last` to the counters, sets this worker's allocation gauge and logs the
/// size-rule warning if it is due (`at` and `epoch` only pace that warning).
pub(crate) fn publish(
    worker: usize,
    last: &mut ServerStats,
    now: &ServerStats,
    allocations: usize,
    rule: Option<SizeRule>,
    (at, epoch): (Instant, Instant),
) {
    gauge!("turn_allocations", "worker" => worker.to_string()).set(allocations as f64);
    warn_if_too_small(
        now.dropped_unauth_too_small
            .saturating_sub(last.dropped_unauth_too_small),
        rule,
        at,
        epoch,
    );
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_small_drops_are_exported_and_warned_once_a_minute() {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        let epoch = Instant::now();
        let mut last = ServerStats::default();
        metrics::with_local_recorder(&recorder, || {
            let now = ServerStats {
                dropped_unauth_too_small: 3,
                ..ServerStats::default()
            };
            let rule = SizeRule { slack: 0, answer: 56 };
            publish(0, &mut last, &now, 0, Some(rule), (epoch, epoch));
        });
        let text = handle.render();
        assert!(
            text.contains("turn_dropped_total{reason=\"unauth_request_too_small\"} 3"),
            "{text}"
        );
        assert_eq!(last.dropped_unauth_too_small, 3);
        // The warning pacing: due once, then not again within the minute, then due again.
        let t0 = epoch + Duration::from_secs(1000);
        assert!(too_small_warning_due(t0, epoch));
        assert!(!too_small_warning_due(t0 + Duration::from_secs(59), epoch));
        assert!(too_small_warning_due(t0 + Duration::from_secs(61), epoch));
    }
}
