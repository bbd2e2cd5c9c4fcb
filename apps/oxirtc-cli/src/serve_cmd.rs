//! `oxirtc serve`: the web UI, signaling and STUN/TURN in one process (see `oxirtc_server::serve`).

use std::net::SocketAddr;
use std::path::PathBuf;

use oxirtc_server::serve::{run_blocking, ServeOptions};

/// `oxirtc serve` arguments. Each flag is also a key of the `--config` TOML file (same name; the
/// STUN/TURN server's keys go into a `[turn]` table, as in `oxirtc turn`'s file); flags win.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// TOML configuration file.
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// HTTP address of the web UI and signaling (default 127.0.0.1:8080).
    #[arg(long, short = 'l', value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// STUN/TURN listen address, UDP and TCP (default: port 3478 on the HTTP IP).
    #[arg(long, value_name = "ADDR")]
    pub turn_listen: Vec<SocketAddr>,
    /// Host or IP put into the stun:/turn: URLs given to peers (default: the TURN listen IP).
    #[arg(long)]
    pub turn_host: Option<String>,
    /// Do not run STUN/TURN.
    #[arg(long)]
    pub no_turn: bool,
    /// Bearer token required by the WHIP/WHEP endpoints (POST /whip/ROOM publishes audio/video
    /// into ROOM, POST /whep/ROOM plays it); without it they are open.
    #[arg(long, value_name = "TOKEN")]
    pub whip_token: Option<String>,
    /// Members per room (default 16).
    #[arg(long)]
    pub max_peers_per_room: Option<usize>,
    /// Largest signaling message in bytes (default 65536).
    #[arg(long)]
    pub max_message_bytes: Option<usize>,
    /// Seconds to wait for connections and TURN allocations after SIGTERM (default 10).
    #[arg(long, value_name = "SECS")]
    pub drain_timeout: Option<u64>,
}

/// Runs the server until SIGTERM or Ctrl-C.
pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let file = match &args.config {
        Some(path) => ServeOptions::from_file(path)?,
        None => ServeOptions::default(),
    };
    let mut flags = ServeOptions {
        listen: args.listen,
        max_message_bytes: args.max_message_bytes,
        max_peers_per_room: args.max_peers_per_room,
        no_turn: args.no_turn.then_some(true),
        drain_timeout: args.drain_timeout,
        turn_host: args.turn_host,
        whip_token: args.whip_token,
        ..ServeOptions::default()
    };
    flags.turn.listen = args.turn_listen;
    run_blocking(flags.over(file))
}
