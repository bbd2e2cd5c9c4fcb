//! The `oxirtc` command line: subcommands and their drivers.
//!
//! - `oxirtc serve`: the web UI, WebSocket signaling and STUN/TURN in one process.
//! - `oxirtc stun [SERVER] [--nat-type]`: a STUN probe (mapped address, RTT, RFC 5780 NAT behaviour).
//!   Without SERVER it starts a built-in RFC 5780 Binding server on loopback and probes that.
//! - `oxirtc echo`: an echo peer behind the HTTP/JSON signaling protocol (interop tests).
//! - `oxirtc dial URL`: the other side of that protocol, with the browser's checks; with
//!   `--send-media FILE...` / `--record DIR` it sends media files and records what comes back.
//! - `oxirtc send FILE...` / `oxirtc recv CODE`: peer-to-peer file transfer through a signaling
//!   server (`oxirtc serve`), SHA-256 verified, resumable.
#![forbid(unsafe_code)]

mod binding_server;
pub mod dial;
pub mod echo;
mod file_io;
pub mod ice_args;
mod link_io;
pub mod media_files;
pub mod peer_link;
mod progress;
pub mod recv;
pub mod send;
mod serve_cmd;
pub mod signal_http;
pub mod signal_ws;
mod stun_probe;
pub mod term_safe;
pub mod transfer;
mod turn_cmd;
mod udp_transaction;
mod wait;
pub mod whip;

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Parser, Subcommand};

pub use binding_server::{BindingServer, BindingServerHandle};
pub use serve_cmd::ServeArgs;
pub use stun_probe::{classify_nat, probe, NatBehavior, ProbeError, ProbeReport};
pub use turn_cmd::TurnArgs;

/// oxirtc: WebRTC peers, servers and tools.
#[derive(Debug, Parser)]
#[command(name = "oxirtc", version, about)]
pub struct Cli {
    /// Log filter (e.g. `debug`, `oxirtc_stun=trace`); also read from RUST_LOG.
    #[arg(long, global = true)]
    pub log: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web UI, signaling and STUN/TURN: open the printed URL in two browser tabs.
    Serve(ServeArgs),
    /// Ask a STUN server for our mapped address and round-trip time; optionally classify the NAT.
    Stun(StunArgs),
    /// Answer (or make) offers over HTTP/JSON and echo every data-channel message: a peer for interop
    /// tests. Prints `LISTENING <url>` first.
    Echo(echo::EchoArgs),
    /// Connect to an echo peer's signaling URL, send messages, check every echo; prints one JSON object.
    Dial(dial::DialArgs),
    /// Run a TURN server (RFC 8656) until SIGTERM.
    Turn(Box<TurnArgs>),
    /// Send files: prints a code for `oxirtc recv` and a browser link.
    Send(send::SendArgs),
    /// Receive the files of `oxirtc send` by its code.
    Recv(recv::RecvArgs),
    /// Publish media files to a WHIP endpoint (RFC 9725), e.g. `oxirtc serve`'s /whip/ROOM.
    Whip(whip::WhipArgs),
    /// Play a WHEP endpoint (e.g. `oxirtc serve`'s /whep/ROOM) into files with --record DIR.
    Whep(whip::WhipArgs),
}

/// `oxirtc stun` arguments.
#[derive(Debug, clap::Args)]
pub struct StunArgs {
    /// STUN server as HOST:PORT (port 3478 if omitted). Without it, a built-in RFC 5780 server is started
    /// on 127.0.0.1/127.0.0.2 and probed, which shows the tool working on a machine with no network.
    pub server: Option<String>,
    /// Also classify NAT mapping and filtering behaviour (RFC 5780 §4.3, §4.4); needs a server that
    /// returns OTHER-ADDRESS (two IP addresses).
    #[arg(long)]
    pub nat_type: bool,
    /// Local address to send from (default: any address, ephemeral port).
    #[arg(long)]
    pub bind: Option<SocketAddr>,
    /// Instead of probing, serve STUN Binding on this address until interrupted (RFC 5780 behaviour
    /// discovery too when `--alternate-ip` is given).
    #[arg(long, value_name = "ADDR", conflicts_with_all = ["server", "nat_type", "bind"])]
    pub serve: Option<SocketAddr>,
    /// With `--serve`: the second IP address for RFC 5780 (OTHER-ADDRESS, CHANGE-REQUEST).
    #[arg(long, requires = "serve")]
    pub alternate_ip: Option<std::net::IpAddr>,
    /// Give up on a request after this long (e.g. `3s`, `500ms`).
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub timeout: Duration,
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    init_logging(cli.log.as_deref());
    match cli.command {
        Command::Serve(args) => serve_cmd::run(args),
        Command::Stun(args) => stun_probe::run(&args),
        Command::Echo(args) => echo::run(&args),
        Command::Dial(args) => dial::run(&args),
        Command::Turn(args) => turn_cmd::run(*args),
        Command::Send(args) => send::run(&args),
        Command::Recv(args) => recv::run(&args),
        Command::Whip(args) => whip::run(&args, true),
        Command::Whep(args) => whip::run(&args, false),
    }
}

fn init_logging(filter: Option<&str>) {
    use tracing_subscriber::EnvFilter;
    let filter = filter
        .map(EnvFilter::new)
        .or_else(|| EnvFilter::try_from_default_env().ok())
        .unwrap_or_else(|| EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Parses `250ms`, `5s`, `2m` or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map_or((s, "s"), |i| s.split_at(i));
    let value: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration; write e.g. 500ms, 5s or 2m"))?;
    let secs = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => return Err(format!("unknown unit `{unit}` in `{s}`; use ms, s or m")),
    };
    if !(0.001..=86_400.0).contains(&secs) {
        return Err(format!("`{s}` is out of range (1ms to 24h)"));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("0ms").is_err());
    }
}
