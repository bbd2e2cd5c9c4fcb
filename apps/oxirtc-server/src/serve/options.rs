//! `oxirtc serve` options: a TOML file (top-level keys for the web server, a `[turn]` table with the
//! same keys as `oxirtc turn`'s file) and command-line flags (flags win).

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use serde::Deserialize;

use crate::turn::TurnOptions;

/// Every `oxirtc serve` option.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ServeOptions {
    /// HTTP listen address (default 127.0.0.1:8080).
    pub listen: Option<SocketAddr>,
    /// Largest signaling frame in bytes (default 65536).
    pub max_message_bytes: Option<usize>,
    /// Members per room (default 16).
    pub max_peers_per_room: Option<usize>,
    /// Do not start the STUN/TURN server.
    pub no_turn: Option<bool>,
    /// Seconds to wait for connections and allocations after SIGTERM (default 10).
    pub drain_timeout: Option<u64>,
    /// Lifetime of the TURN credentials handed to clients, in seconds (default 3600).
    pub turn_credential_ttl: Option<u64>,
    /// Host (or IP) put into the `stun:`/`turn:` URLs handed to clients (default: the TURN listen IP).
    pub turn_host: Option<String>,
    /// Bearer token the WHIP/WHEP endpoints (`/whip/ROOM`, `/whep/ROOM`) require; none: open.
    pub whip_token: Option<String>,
    /// The STUN/TURN server (as in `oxirtc turn`'s config file). Default: UDP+TCP on port 3478 of the
    /// HTTP listen IP, a random REST secret, loopback peers allowed when listening on loopback.
    #[serde(default)]
    pub turn: TurnOptions,
}

impl ServeOptions {
    /// Reads a TOML file.
    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("bad config file {}: {e}", path.display()))
    }

    /// `self` (the flags) over `file`.
    pub fn over(self, file: ServeOptions) -> ServeOptions {
        ServeOptions {
            listen: self.listen.or(file.listen),
            max_message_bytes: self.max_message_bytes.or(file.max_message_bytes),
            max_peers_per_room: self.max_peers_per_room.or(file.max_peers_per_room),
            no_turn: self.no_turn.or(file.no_turn),
            drain_timeout: self.drain_timeout.or(file.drain_timeout),
            turn_credential_ttl: self.turn_credential_ttl.or(file.turn_credential_ttl),
            turn_host: self.turn_host.or(file.turn_host),
            whip_token: self.whip_token.or(file.whip_token),
            turn: self.turn.over(file.turn),
        }
    }

    /// The HTTP address.
    pub fn listen_addr(&self) -> SocketAddr {
        self.listen
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)))
    }

    /// The drain timeout.
    pub fn drain(&self) -> Duration {
        Duration::from_secs(self.drain_timeout.unwrap_or(10))
    }

    /// The TURN options with `serve`'s defaults filled in (listen on :3478 of the HTTP IP, one worker).
    pub fn turn_options(&self, secret: &str) -> TurnOptions {
        let http = self.listen_addr();
        let mut t = self.turn.clone();
        if t.listen.is_empty() {
            t.listen = vec![SocketAddr::new(http.ip(), 3478)];
        }
        if t.auth_secret.is_none() {
            t.auth_secret = Some(secret.to_owned());
        }
        if t.allow_loopback_peers.is_none() && http.ip().is_loopback() {
            t.allow_loopback_peers = Some(true);
        }
        t.threads = t.threads.or(Some(1));
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_and_flags_merge() {
        let file: ServeOptions = toml::from_str(
            "listen = \"127.0.0.1:9000\"\nmax-peers-per-room = 4\n[turn]\nlisten = [\"127.0.0.1:3479\"]\nrealm = \"x\"\n",
        )
        .unwrap();
        let flags = ServeOptions {
            listen: Some("127.0.0.1:9001".parse().unwrap()),
            ..ServeOptions::default()
        };
        let o = flags.over(file);
        assert_eq!(o.listen_addr().port(), 9001);
        assert_eq!(o.max_peers_per_room, Some(4));
        let t = o.turn_options("sec");
        assert_eq!(t.listen, vec!["127.0.0.1:3479".parse().unwrap()]);
        assert_eq!(t.auth_secret.as_deref(), Some("sec"));
        assert_eq!(t.allow_loopback_peers, Some(true));
        assert!(toml::from_str::<ServeOptions>("bogus = 1").is_err());
    }
}
