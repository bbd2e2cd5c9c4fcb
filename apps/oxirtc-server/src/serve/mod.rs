//! `oxirtc serve`: the web UI, WebSocket signaling, STUN/TURN on UDP 3478, `/metrics` and `/healthz`
//! in one process.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use oxirtc_server::serve::{start, ServeOptions};
//! let server = start(&ServeOptions::default()).await?;
//! println!("open http://{}/#{} on every device", server.http, server.shared_room);
//! server.shutdown().await;
//! # Ok(()) }
//! ```

mod assets;
mod options;

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use axum::extract::State;
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use oxirtc_crypto::{default_provider, SecureRng};
use tokio::sync::oneshot;

pub use options::ServeOptions;

use crate::signaling::{self, SignalingConfig, SignalingState, TurnRest};
use crate::turn::{self as turn_rt, TurnDaemon};

/// A running `oxirtc serve`.
#[derive(Debug)]
pub struct Server {
    /// The bound HTTP address.
    pub http: SocketAddr,
    /// The STUN/TURN daemon, unless disabled or its port was taken.
    pub turn: Option<TurnDaemon>,
    /// The signaling state (rooms, clients).
    pub signaling: SignalingState,
    /// The SFU behind `/whip/ROOM` and `/whep/ROOM`.
    pub sfu: crate::sfu::Sfu,
    /// The room of the link `oxirtc serve` prints (`/#CODE`): everyone who opens it lands in the same
    /// room. `/` alone still gives each visitor a room of their own.
    pub shared_room: String,
    stop: oneshot::Sender<()>,
    http_task: tokio::task::JoinHandle<()>,
    drain: Duration,
}

#[derive(Clone)]
struct AppState {
    signaling: SignalingState,
    sfu: crate::sfu::Sfu,
    metrics: Option<PrometheusHandle>,
}

/// Binds HTTP (and TURN), starts serving, returns at once. A busy HTTP port is an error; a busy TURN
/// port is a warning (signaling and the UI still work, peers then need a direct path).
pub async fn start(options: &ServeOptions) -> anyhow::Result<Server> {
    let addr = options.listen_addr();
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}: is the port in use? (use --listen)"))?;
    let http = listener.local_addr()?;
    let shared_room = shared_room_code()?;
    let (turn, rest) = start_turn(options).await;
    let config = SignalingConfig {
        max_message_bytes: options.max_message_bytes.unwrap_or(64 * 1024),
        max_peers_per_room: options.max_peers_per_room.unwrap_or(16),
        stun_urls: rest
            .as_ref()
            .map(|r| {
                vec![r.urls[0]
                    .replacen("turn:", "stun:", 1)
                    .replace("?transport=udp", "")]
            })
            .unwrap_or_default(),
        turn: rest,
        ..SignalingConfig::default()
    };
    let sfu = crate::sfu::Sfu::new(sfu_config(options, &config.stun_urls));
    let signaling = SignalingState::new(config)?;
    let state = AppState {
        signaling: signaling.clone(),
        sfu: sfu.clone(),
        metrics: install_metrics(),
    };
    let app = signaling::router(signaling.clone())
        .merge(crate::sfu::router(sfu.clone()))
        .merge(
            Router::new()
                .route("/healthz", get(healthz))
                .route("/metrics", get(metrics_page))
                .fallback(get(asset))
                .with_state(state),
        );
    let (stop, stop_rx) = oneshot::channel::<()>();
    let http_task = tokio::spawn(async move {
        // The client's address reaches the signaling (the `local` room of its network).
        let app = app.into_make_service_with_connect_info::<SocketAddr>();
        let served = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = stop_rx.await;
        });
        if let Err(e) = served.await {
            tracing::error!(error = %e, "serve: HTTP server failed");
        }
    });
    Ok(Server {
        http,
        turn,
        signaling,
        sfu,
        shared_room,
        stop,
        http_task,
        drain: options.drain(),
    })
}

/// The SFU's peer connections gather on the HTTP listen IP (every interface for 0.0.0.0), and
/// WHIP/WHEP answers advertise our STUN server (RFC 9725 §4.4 Link headers).
fn sfu_config(options: &ServeOptions, stun_urls: &[String]) -> crate::sfu::SfuConfig {
    let ip = options.listen_addr().ip();
    let peer = oxirtc_tokio::Config {
        bind: if ip.is_unspecified() { Vec::new() } else { vec![ip] },
        include_loopback: ip.is_loopback(),
        ..oxirtc_tokio::Config::default()
    };
    crate::sfu::SfuConfig {
        peer,
        bearer_token: options.whip_token.clone(),
        ice_server_links: stun_urls
            .iter()
            .map(|u| format!("<{u}>; rel=\"ice-server\""))
            .collect(),
        ..crate::sfu::SfuConfig::default()
    }
}

/// A fresh code for the printed link's room (the same shape as the codes of `oxirtc send`).
fn shared_room_code() -> anyhow::Result<String> {
    let mut rng =
        SecureRng::from_os(default_provider()).context("no OS randomness for the shared room's code")?;
    Ok(signaling::room_code(&mut rng))
}

async fn start_turn(options: &ServeOptions) -> (Option<TurnDaemon>, Option<TurnRest>) {
    if options.no_turn == Some(true) {
        return (None, None);
    }
    let mut secret = [0u8; 24];
    match SecureRng::from_os(default_provider()) {
        Ok(mut rng) => rng.fill(&mut secret),
        Err(e) => {
            tracing::warn!(error = %e, "serve: no randomness for a TURN secret; TURN disabled");
            return (None, None);
        }
    }
    let generated = crate::transfer_hex(&secret);
    let turn_options = options.turn_options(&generated);
    let daemon = match turn_rt::start(&turn_options).await {
        Ok(d) => d,
        Err(e) => {
            eprintln!(
                "warning: STUN/TURN not started: {e:#} (peers need a direct path; use --no-turn to silence)"
            );
            return (None, None);
        }
    };
    let udp = daemon.udp.first().copied();
    let rest = udp.map(|a| {
        let host = options.turn_host.clone().unwrap_or_else(|| match a.ip() {
            ip if ip.is_unspecified() => "127.0.0.1".to_owned(),
            std::net::IpAddr::V6(ip) => format!("[{ip}]"),
            ip => ip.to_string(),
        });
        TurnRest {
            secret: turn_options.auth_secret.clone().unwrap_or(generated),
            urls: vec![format!("turn:{host}:{}?transport=udp", a.port())],
            ttl: Duration::from_secs(options.turn_credential_ttl.unwrap_or(3600)),
        }
    });
    (Some(daemon), rest)
}

/// The Prometheus recorder for this process (the first server installs it).
fn install_metrics() -> Option<PrometheusHandle> {
    static HANDLE: std::sync::OnceLock<Option<PrometheusHandle>> = std::sync::OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok().map(|()| handle)
        })
        .clone()
}

async fn healthz(State(state): State<AppState>) -> Response {
    let body = format!(
        "{{\"status\":\"ok\",\"rooms\":{},\"clients\":{}}}",
        state.signaling.registry().room_count(),
        state.signaling.client_count()
    );
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn metrics_page(State(state): State<AppState>) -> Response {
    metrics::gauge!("oxirtc_signaling_rooms").set(state.signaling.registry().room_count() as f64);
    // The SFU, summed over its rooms (per-room labels would grow without bound as rooms come and go).
    let rooms = state.sfu.rooms();
    let sum = |f: fn(&crate::sfu::RoomSnapshot) -> f64| rooms.iter().map(f).sum::<f64>();
    metrics::gauge!("oxirtc_sfu_rooms").set(rooms.len() as f64);
    metrics::gauge!("oxirtc_sfu_publishers").set(sum(|r| r.publishers as f64));
    metrics::gauge!("oxirtc_sfu_subscribers").set(sum(|r| r.subscribers as f64));
    metrics::gauge!("oxirtc_sfu_tracks").set(sum(|r| r.tracks as f64));
    metrics::gauge!("oxirtc_sfu_packets_received_in_rooms").set(sum(|r| r.packets_received as f64));
    match &state.metrics {
        Some(h) => ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], h.render()).into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "another metrics recorder is installed",
        )
            .into_response(),
    }
}

async fn asset(uri: Uri) -> Response {
    let path = uri.path();
    // Room links (`/r/CODE`) serve the page; the script reads the code from the path or `#CODE`.
    if path.starts_with("/r/") {
        return assets::response("/");
    }
    if path == "/favicon.ico" {
        return StatusCode::NO_CONTENT.into_response();
    }
    assets::response(path)
}

impl Server {
    /// Stops accepting, closes connections, drains TURN allocations (at most the drain timeout).
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        let _ = tokio::time::timeout(self.drain, self.http_task).await;
        if let Some(turn) = &self.turn {
            turn.drain(self.drain).await;
        }
    }
}

/// Runs until SIGTERM or Ctrl-C, then shuts down gracefully.
pub fn run_blocking(options: ServeOptions) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    let result = runtime.block_on(async move {
        let server = start(&options).await?;
        // Issue 17 §1: one link for everyone (two tabs on `/` got two different rooms). Listening on
        // every interface, the link names this machine's LAN address: 0.0.0.0 opens nowhere else.
        let host = reachable(server.http);
        println!(
            "oxirtc serve: open http://{host}/#{} on every device: everyone who opens it is in the same room",
            server.shared_room
        );
        println!(
            "oxirtc serve: http://{host}/ shows the devices of your network (same public address or LAN); a code from `oxirtc send` can be typed into the page"
        );
        if let Some(t) = &server.turn {
            println!("oxirtc serve: STUN/TURN on udp {:?}", t.udp);
        }
        println!(
            "oxirtc serve: metrics http://{0}/metrics, health http://{0}/healthz",
            server.http
        );
        turn_rt::wait_for_signal().await?;
        println!("oxirtc serve: shutting down");
        server.shutdown().await;
        Ok(())
    });
    runtime.shutdown_timeout(Duration::from_secs(1));
    result
}

/// `addr` as others can open it: an unspecified listen address (0.0.0.0, ::) becomes the address this
/// machine would use towards the LAN (the route of a UDP socket "connected" to a documentation
/// address; nothing is sent), or stays as it is if there is none.
fn reachable(addr: SocketAddr) -> SocketAddr {
    if !addr.ip().is_unspecified() {
        return addr;
    }
    let probe = |bind: &str, to: &str| {
        let s = std::net::UdpSocket::bind(bind).ok()?;
        s.connect(to).ok()?;
        s.local_addr()
            .ok()
            .map(|a| a.ip())
            .filter(|ip| !ip.is_unspecified())
    };
    let ip = if addr.is_ipv4() {
        probe("0.0.0.0:0", "192.0.2.1:9")
    } else {
        probe("[::]:0", "[2001:db8::1]:9")
    };
    ip.map_or(addr, |ip| SocketAddr::new(ip, addr.port()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unspecified_listen_address_is_printed_as_a_reachable_one() {
        let fixed: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        assert_eq!(reachable(fixed), fixed);
        let any: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        let shown = reachable(any);
        assert_eq!(shown.port(), 8080);
        // Without a route (a sandbox with loopback only) it stays 0.0.0.0; with one, it is an address.
        assert!(shown == any || !shown.ip().is_unspecified(), "{shown}");
    }

    #[test]
    fn every_asset_is_served() {
        for p in assets::paths() {
            assert_eq!(assets::response(p).status(), StatusCode::OK, "{p}");
        }
        assert_eq!(assets::response("/../Cargo.toml").status(), StatusCode::NOT_FOUND);
    }
}
