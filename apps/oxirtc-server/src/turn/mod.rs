//! The `oxirtc turn` daemon runtime. One sans-IO core per worker thread (one per CPU), each on its
//! own current-thread runtime. Every worker reads the shared UDP listener sockets (`recvmmsg`); a
//! datagram belongs to the worker that owns its client's IP (a hash), so all 5-tuples of one host —
//! UDP and TCP, RTP/RTCP allocation pairs with EVEN-PORT reservations — meet the same core. A worker
//! serves its own clients' datagrams in place and hands the others' to their worker in one batch per
//! receive call. Relay sockets are bound on demand from the worker's slice of the port range and read
//! on the worker's thread, so the relay path has no channel hop. TCP/TLS connections run on the main
//! runtime and reach their worker through its channel. Prometheus metrics, SIGTERM drain.
//!
//! Nonces are stateless and every worker shares the nonce key and epoch.

mod config;
mod metrics;
mod net;
mod quota;
mod udp;
mod worker;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{bail, Context};
use oxirtc_crypto::{default_provider, SecureRng};
use oxirtc_turn::{ServerConfig, TurnServer};
use tokio::sync::{mpsc, watch};

pub use config::TurnOptions;
use metrics::SizeRule;
use worker::{Input, WorkerSetup};

/// Queue depth between the socket tasks and a worker.
const INPUT_QUEUE: usize = 8192;

/// A running daemon.
#[derive(Debug)]
pub struct TurnDaemon {
    /// Bound UDP listen addresses (port resolved if 0 was asked for).
    pub udp: Vec<SocketAddr>,
    /// Bound TCP listen addresses.
    pub tcp: Vec<SocketAddr>,
    /// Bound TLS listen addresses.
    pub tls: Vec<SocketAddr>,
    /// Worker count.
    pub workers: usize,
    inputs: Vec<mpsc::Sender<Input>>,
    live: Vec<Arc<AtomicUsize>>,
    /// Dropping it (with the daemon) stops the worker threads.
    _stop: watch::Sender<()>,
}

impl TurnDaemon {
    /// Live allocations over all workers.
    pub fn allocations(&self) -> usize {
        self.live.iter().map(|l| l.load(Ordering::Relaxed)).sum()
    }

    /// Stops new allocations (they are answered 508) and waits until the last allocation ends or
    /// `timeout` passes. Returns the allocations still alive.
    pub async fn drain(&self, timeout: Duration) -> usize {
        for tx in &self.inputs {
            let _ = tx.send(Input::Drain).await;
        }
        let deadline = Instant::now() + timeout;
        tokio::time::sleep(Duration::from_millis(300)).await; // let every worker publish its count
        while self.allocations() > 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.allocations()
    }
}

/// Splits `min..=max` into `n` slices, one per worker.
fn port_slices(min: u16, max: u16, n: usize) -> anyhow::Result<Vec<(u16, u16)>> {
    let span = usize::from(max - min) + 1;
    if span < n {
        bail!("relay port range {min}..={max} has fewer ports than the {n} workers");
    }
    Ok((0..n)
        .map(|i| {
            let lo = usize::from(min) + i * span / n;
            let hi = usize::from(min) + (i + 1) * span / n - 1;
            (lo as u16, hi as u16)
        })
        .collect())
}

/// Binds everything and starts the workers. Errors (port in use, bad option) are returned before
/// any traffic is served.
pub async fn start(options: &TurnOptions) -> anyhow::Result<TurnDaemon> {
    let base = options.server_config()?;
    log_unauthenticated_bound(&base);
    let n = options.thread_count();
    let slices = port_slices(base.min_port, base.max_port, n)?;
    if let Some(addr) = options.metrics {
        metrics::start(addr)?;
    }
    let mut listeners = net::bind_listeners(&options.listen_addrs())?;
    let alternate = rfc5780_sockets(options, &mut listeners)?;
    let tls = tls_listeners(options)?;
    let mut rng = SecureRng::from_os(default_provider()).context("no OS randomness")?;
    let mut key = [0u8; 32];
    rng.fill(&mut key);
    let epoch = Instant::now();
    let unix = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (stop, stop_rx) = watch::channel(());
    let mut daemon = TurnDaemon {
        udp: listeners.udp.iter().filter_map(|s| s.local_addr().ok()).collect(),
        tcp: listeners.tcp.iter().filter_map(|s| s.local_addr().ok()).collect(),
        tls: tls.iter().filter_map(|(s, _)| s.local_addr().ok()).collect(),
        workers: n,
        inputs: Vec::new(),
        live: Vec::new(),
        _stop: stop,
    };
    let quota = quota::SharedQuotaLedger::default();
    let mut receivers = Vec::new();
    for _ in 0..n {
        let (tx, rx) = mpsc::channel(INPUT_QUEUE);
        daemon.inputs.push(tx);
        daemon.live.push(Arc::new(AtomicUsize::new(0)));
        receivers.push(rx);
    }
    for (i, ((lo, hi), rx)) in slices.into_iter().zip(receivers).enumerate() {
        let config = ServerConfig {
            min_port: lo,
            max_port: hi,
            nonce_key: Some(key),
            unix_time_at_start: unix,
            alternate,
            ..base.clone()
        };
        let mut core = TurnServer::new(config, default_provider(), rng.fork(), epoch);
        core.set_quota_ledger(Box::new(quota.clone()));
        let setup = WorkerSetup {
            core,
            index: i,
            rx,
            workers: daemon.inputs.clone(),
            listeners: listeners
                .udp
                .iter()
                .map(std::net::UdpSocket::try_clone)
                .collect::<Result<_, _>>()
                .context("cannot share the UDP listener with a worker")?,
            live: Arc::clone(&daemon.live[i]),
            stop: stop_rx.clone(),
            size_rule: base.unauth_size_slack.map(|slack| SizeRule {
                slack,
                answer: base.unauthenticated_response_len(),
            }),
            epoch,
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start a worker runtime")?;
        worker::spawn(setup, runtime).context("cannot start a worker thread")?;
    }
    for listener in listeners.tcp {
        net::spawn_tcp_acceptor(listener, daemon.inputs.clone());
    }
    for (listener, acceptor) in tls {
        net::spawn_tls_acceptor(listener, acceptor, daemon.inputs.clone());
    }
    Ok(daemon)
}

/// What an unauthenticated (possibly spoofed) request can reflect: one 401 of a fixed size per
/// request, at most `--unauth-rate` per source IP per second (docs/turn.md, "Amplification").
fn log_unauthenticated_bound(config: &ServerConfig) {
    let answer = config.unauthenticated_response_len();
    let rate = config.unauth_responses_per_second;
    let per_source = u64::from(rate) * answer as u64;
    match config.unauth_size_slack {
        None => tracing::info!(
            answer_bytes = answer,
            per_source_bytes_per_second = per_source,
            "TURN: unauthenticated requests get a {answer}-byte 401 ({:.1}x a bare 20-byte request), \
             at most {rate} per source IP per second",
            answer as f64 / oxirtc_stun::HEADER_LEN as f64
        ),
        Some(slack) => tracing::info!(
            answer_bytes = answer,
            per_source_bytes_per_second = per_source,
            "TURN: unauthenticated requests get a {answer}-byte 401 only if it exceeds them by at most \
             {slack} bytes (--unauth-size-slack), at most {rate} per source IP per second"
        ),
    }
}

/// `--tls-listen` listeners with the `--cert` / `--pkey` acceptor.
fn tls_listeners(
    options: &TurnOptions,
) -> anyhow::Result<Vec<(tokio::net::TcpListener, tokio_rustls::TlsAcceptor)>> {
    if options.tls_listen.is_empty() {
        return Ok(Vec::new());
    }
    let (Some(cert), Some(key)) = (&options.cert, &options.pkey) else {
        bail!("--tls-listen needs --cert FILE and --pkey FILE (PEM)");
    };
    let acceptor = net::tls_acceptor(cert, key)?;
    options
        .tls_listen
        .iter()
        .map(|addr| Ok((net::bind_tcp(*addr)?, acceptor.clone())))
        .collect()
}

/// RFC 5780 (`--alt-ip`): binds the three other IP × port combinations of the one listen address
/// (UDP only) and returns `(primary, alternate)` for the cores.
fn rfc5780_sockets(
    options: &TurnOptions,
    listeners: &mut net::Listeners,
) -> anyhow::Result<Option<(SocketAddr, SocketAddr)>> {
    let Some(alt_ip) = options.alt_ip else {
        return Ok(None);
    };
    let [primary] = listeners.udp.as_slice() else {
        bail!("--alt-ip needs exactly one --listen address (the primary)");
    };
    let primary = primary.local_addr()?;
    if alt_ip == primary.ip() || alt_ip.is_ipv4() != primary.is_ipv4() {
        bail!(
            "--alt-ip {alt_ip} must differ from {} and be of the same family",
            primary.ip()
        );
    }
    let alt_port = options.alt_port.unwrap_or(primary.port().wrapping_add(1).max(1));
    let alternate = SocketAddr::new(alt_ip, alt_port);
    for addr in [
        SocketAddr::new(primary.ip(), alt_port),
        SocketAddr::new(alt_ip, primary.port()),
        alternate,
    ] {
        listeners.udp.push(net::bind_udp(addr)?);
    }
    Ok(Some((primary, alternate)))
}

/// Runs the daemon until SIGTERM or Ctrl-C, then drains (at most the drain timeout).
pub fn run_blocking(options: TurnOptions) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(options.thread_count())
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    let result = runtime.block_on(async move {
        let daemon = start(&options).await?;
        let config = options.server_config()?;
        let relay = if config.relay_ips.is_empty() {
            "the address each client reached".to_owned()
        } else {
            format!("{:?}", config.relay_ips)
        };
        println!(
            "oxirtc turn: udp {:?} tcp {:?} tls {:?} relay {relay} ports {}-{} realm {:?}, {} workers{}",
            daemon.udp,
            daemon.tcp,
            daemon.tls,
            config.min_port,
            config.max_port,
            config.realm,
            daemon.workers,
            options
                .metrics
                .map(|m| format!(", metrics http://{m}/metrics"))
                .unwrap_or_default()
        );
        wait_for_signal().await?;
        println!("oxirtc turn: draining {} allocations", daemon.allocations());
        let left = daemon.drain(options.drain_timeout()).await;
        println!("oxirtc turn: stopped ({left} allocations cut off)");
        Ok(())
    });
    // Socket and relay tasks never end by themselves; do not wait for them.
    runtime.shutdown_timeout(Duration::from_secs(1));
    result
}

/// Waits for SIGTERM or Ctrl-C (the daemons' shutdown trigger, `oxirtc turn` and `oxirtc serve`).
pub(crate) async fn wait_for_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).context("cannot install the SIGTERM handler")?;
    tokio::select! {
        _ = term.recv() => {}
        r = tokio::signal::ctrl_c() => r.context("cannot wait for Ctrl-C")?,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_slices_cover_the_range_without_overlap() {
        let s = port_slices(49152, 49161, 3).unwrap();
        assert_eq!(s, vec![(49152, 49154), (49155, 49157), (49158, 49161)]);
        assert!(port_slices(50000, 50001, 3).is_err());
    }
}

#[cfg(test)]
mod relay_tests;
