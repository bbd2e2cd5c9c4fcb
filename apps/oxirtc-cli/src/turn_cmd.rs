//! `oxirtc turn`: the TURN server daemon, with the flags an operator coming from coturn expects.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use oxirtc_server::turn::{run_blocking, TurnOptions};

/// `oxirtc turn` arguments. Every flag can also be a key of the `--config` TOML file (same name,
/// e.g. `min-port = 50000`, `user = ["alice:pw"]`); flags win.
#[derive(Debug, clap::Args)]
pub struct TurnArgs {
    /// TOML configuration file.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Listen address for UDP and TCP (repeatable; default 0.0.0.0:3478).
    #[arg(long, short = 'L', value_name = "ADDR")]
    pub listen: Vec<SocketAddr>,
    /// TLS listen address for `turns:` (repeatable; needs --cert and --pkey).
    #[arg(long, value_name = "ADDR")]
    pub tls_listen: Vec<SocketAddr>,
    /// PEM certificate chain for TLS.
    #[arg(long, value_name = "FILE")]
    pub cert: Option<PathBuf>,
    /// PEM private key for TLS.
    #[arg(long, value_name = "FILE")]
    pub pkey: Option<PathBuf>,
    /// Relay IP, at most one per family (default: the address each client reached, as coturn).
    #[arg(long, value_name = "IP")]
    pub relay_ip: Vec<IpAddr>,
    /// Lowest relay port (default 49152).
    #[arg(long)]
    pub min_port: Option<u16>,
    /// Highest relay port (default 65535).
    #[arg(long)]
    pub max_port: Option<u16>,
    /// Realm for long-term credentials (default "oxirtc").
    #[arg(long, short = 'r')]
    pub realm: Option<String>,
    /// Static user NAME:PASSWORD (repeatable).
    #[arg(long, short = 'u', value_name = "NAME:PASSWORD")]
    pub user: Vec<String>,
    /// TURN REST shared secret (username `expiry:user`, password base64(HMAC-SHA1(secret, username))).
    #[arg(long, alias = "static-auth-secret")]
    pub auth_secret: Option<String>,
    /// Allow relaying to loopback peers (for tests on one host).
    #[arg(long)]
    pub allow_loopback_peers: bool,
    /// Peer network always allowed, CIDR (repeatable).
    #[arg(long, value_name = "CIDR")]
    pub allowed_peer_ip: Vec<String>,
    /// Peer network denied in addition to the defaults, CIDR (repeatable).
    #[arg(long, value_name = "CIDR")]
    pub denied_peer_ip: Vec<String>,
    /// Serve Prometheus metrics at http://ADDR/metrics.
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<SocketAddr>,
    /// Worker threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Total allocation quota (0 = unlimited).
    #[arg(long, alias = "total-quota")]
    pub max_allocations: Option<usize>,
    /// Allocations per user (0 = unlimited).
    #[arg(long)]
    pub user_quota: Option<usize>,
    /// Bytes per second per allocation and direction (0 = unlimited).
    #[arg(long)]
    pub max_bps: Option<u64>,
    /// Seconds to wait for allocations to end after SIGTERM (default 60).
    #[arg(long, value_name = "SECS")]
    pub drain_timeout: Option<u64>,
    /// RFC 5780: a second IP (same family) for NAT behaviour discovery on the Binding port.
    #[arg(long, value_name = "IP")]
    pub alt_ip: Option<IpAddr>,
    /// RFC 5780: the second port (default: listen port + 1).
    #[arg(long, requires = "alt_ip")]
    pub alt_port: Option<u16>,
    /// Unauthenticated (401/438) answers per source IP per second (default 20).
    #[arg(long, value_name = "N")]
    pub unauth_rate: Option<u32>,
    /// Optional size rule: bytes by which a 401 may exceed its request (default: no rule).
    ///
    /// By default every unauthenticated request gets its 401 (56 bytes with the default realm),
    /// at most --unauth-rate per source IP per second. With this option a request whose 401 would
    /// exceed it by more than BYTES goes unanswered, is counted in /metrics as
    /// turn_dropped_total{reason="unauth_request_too_small"} and logged (one warning a minute at
    /// most). Browsers' first Allocate is 28 bytes and coturn's clients' 52: with 0 neither can
    /// authenticate. See docs/turn.md, "Amplification".
    #[arg(long, value_name = "BYTES")]
    pub unauth_size_slack: Option<usize>,
}

/// Runs the daemon until SIGTERM.
pub fn run(args: TurnArgs) -> anyhow::Result<()> {
    let file = match &args.config {
        Some(path) => TurnOptions::from_file(path)?,
        None => TurnOptions::default(),
    };
    let flags = TurnOptions {
        listen: args.listen,
        relay_ip: args.relay_ip,
        tls_listen: args.tls_listen,
        cert: args.cert,
        pkey: args.pkey,
        min_port: args.min_port,
        max_port: args.max_port,
        realm: args.realm,
        user: args.user,
        auth_secret: args.auth_secret,
        allow_loopback_peers: args.allow_loopback_peers.then_some(true),
        allowed_peer_ip: args.allowed_peer_ip,
        denied_peer_ip: args.denied_peer_ip,
        metrics: args.metrics,
        threads: args.threads,
        max_allocations: args.max_allocations,
        user_quota: args.user_quota,
        max_bps: args.max_bps,
        drain_timeout: args.drain_timeout,
        unauth_size_slack: args.unauth_size_slack,
        unauth_rate: args.unauth_rate,
        alt_ip: args.alt_ip,
        alt_port: args.alt_port,
        lifetime: None,
        max_lifetime: None,
    };
    run_blocking(flags.over(file))
}
