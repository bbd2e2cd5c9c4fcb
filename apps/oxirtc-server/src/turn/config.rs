//! `oxirtc turn` options: a TOML file and command-line flags (flags win), validated into one
//! [`ServerConfig`] per worker.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context};
use oxirtc_turn::{Credentials, IpNet, PeerPolicy, ServerConfig};
use serde::Deserialize;

/// Every option, as read from TOML (`kebab-case` keys, same names as the flags) or built from flags.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TurnOptions {
    /// Addresses to listen on, UDP and TCP (default 0.0.0.0:3478).
    #[serde(default)]
    pub listen: Vec<SocketAddr>,
    /// TLS listen addresses (`turns:`, needs `cert` and `pkey`).
    #[serde(default)]
    pub tls_listen: Vec<SocketAddr>,
    /// PEM certificate chain for TLS.
    pub cert: Option<std::path::PathBuf>,
    /// PEM private key for TLS.
    pub pkey: Option<std::path::PathBuf>,
    /// Relay IPs, at most one per family (default: the address each client reached).
    #[serde(default)]
    pub relay_ip: Vec<IpAddr>,
    /// Lowest relay port (default 49152).
    pub min_port: Option<u16>,
    /// Highest relay port (default 65535).
    pub max_port: Option<u16>,
    /// REALM (default "oxirtc").
    pub realm: Option<String>,
    /// Static users, `NAME:PASSWORD`.
    #[serde(default)]
    pub user: Vec<String>,
    /// TURN REST shared secret.
    pub auth_secret: Option<String>,
    /// Allow loopback peers (tests on one host).
    pub allow_loopback_peers: Option<bool>,
    /// Peer networks always allowed (CIDR).
    #[serde(default)]
    pub allowed_peer_ip: Vec<String>,
    /// Peer networks denied in addition to the defaults (CIDR).
    #[serde(default)]
    pub denied_peer_ip: Vec<String>,
    /// Prometheus `/metrics` listen address.
    pub metrics: Option<SocketAddr>,
    /// Worker threads, one core each (default: available parallelism).
    pub threads: Option<usize>,
    /// Total allocations (0 = unlimited).
    pub max_allocations: Option<usize>,
    /// Allocations per user (0 = unlimited).
    pub user_quota: Option<usize>,
    /// Relayed bytes per second per allocation and direction (0 = unlimited).
    pub max_bps: Option<u64>,
    /// Seconds to wait for allocations to end after SIGTERM (default 60).
    pub drain_timeout: Option<u64>,
    /// Unauthenticated (401/438) answers per source IP per second (default 20).
    pub unauth_rate: Option<u32>,
    /// Optional size rule: bytes an unauthenticated 401 may exceed its request by (default: no
    /// rule, every unauthenticated request is answered within `unauth-rate`).
    pub unauth_size_slack: Option<usize>,
    /// RFC 5780: second IP for NAT behaviour discovery (Binding with OTHER-ADDRESS, CHANGE-REQUEST).
    pub alt_ip: Option<IpAddr>,
    /// RFC 5780: second port (default: listen port + 1).
    pub alt_port: Option<u16>,
    /// Default allocation lifetime in seconds (600).
    pub lifetime: Option<u64>,
    /// Maximum allocation lifetime in seconds (3600).
    pub max_lifetime: Option<u64>,
}

impl TurnOptions {
    /// Reads a TOML file; errors name the file and the line.
    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        Self::from_toml(&text).with_context(|| format!("bad config file {}", path.display()))
    }

    /// Parses TOML text; the error names the line and column.
    pub fn from_toml(text: &str) -> anyhow::Result<Self> {
        toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| {
                text.as_bytes()[..s.start.min(text.len())]
                    .iter()
                    .filter(|b| **b == b'\n')
                    .count()
                    + 1
            });
            match line {
                Some(l) => anyhow::anyhow!("line {l}: {}", e.message()),
                None => anyhow::anyhow!("{}", e.message()),
            }
        })
    }

    /// `self` (the flags) over `file`: every option given on the command line wins.
    pub fn over(self, file: TurnOptions) -> TurnOptions {
        fn vec<T>(flag: Vec<T>, file: Vec<T>) -> Vec<T> {
            if flag.is_empty() {
                file
            } else {
                flag
            }
        }
        TurnOptions {
            listen: vec(self.listen, file.listen),
            relay_ip: vec(self.relay_ip, file.relay_ip),
            tls_listen: vec(self.tls_listen, file.tls_listen),
            cert: self.cert.or(file.cert),
            pkey: self.pkey.or(file.pkey),
            min_port: self.min_port.or(file.min_port),
            max_port: self.max_port.or(file.max_port),
            realm: self.realm.or(file.realm),
            user: vec(self.user, file.user),
            auth_secret: self.auth_secret.or(file.auth_secret),
            allow_loopback_peers: self.allow_loopback_peers.or(file.allow_loopback_peers),
            allowed_peer_ip: vec(self.allowed_peer_ip, file.allowed_peer_ip),
            denied_peer_ip: vec(self.denied_peer_ip, file.denied_peer_ip),
            metrics: self.metrics.or(file.metrics),
            threads: self.threads.or(file.threads),
            max_allocations: self.max_allocations.or(file.max_allocations),
            user_quota: self.user_quota.or(file.user_quota),
            max_bps: self.max_bps.or(file.max_bps),
            drain_timeout: self.drain_timeout.or(file.drain_timeout),
            unauth_size_slack: self.unauth_size_slack.or(file.unauth_size_slack),
            unauth_rate: self.unauth_rate.or(file.unauth_rate),
            alt_ip: self.alt_ip.or(file.alt_ip),
            alt_port: self.alt_port.or(file.alt_port),
            lifetime: self.lifetime.or(file.lifetime),
            max_lifetime: self.max_lifetime.or(file.max_lifetime),
        }
    }

    /// Listen addresses (default 0.0.0.0:3478).
    pub fn listen_addrs(&self) -> Vec<SocketAddr> {
        if self.listen.is_empty() {
            vec![SocketAddr::from(([0, 0, 0, 0], 3478))]
        } else {
            self.listen.clone()
        }
    }

    /// Worker count.
    pub fn thread_count(&self) -> usize {
        self.threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .clamp(1, 256)
    }

    /// Drain timeout.
    pub fn drain_timeout(&self) -> Duration {
        Duration::from_secs(self.drain_timeout.unwrap_or(60))
    }

    /// Validates everything and builds the core configuration shared by all workers (the port range
    /// is split per worker later).
    pub fn server_config(&self) -> anyhow::Result<ServerConfig> {
        let mut credentials = Credentials::new();
        for u in &self.user {
            let Some((name, pw)) = u.split_once(':') else {
                bail!("--user {u:?}: expected NAME:PASSWORD");
            };
            if name.is_empty() {
                bail!("--user {u:?}: empty name");
            }
            credentials = credentials.user(name, pw);
        }
        if let Some(secret) = &self.auth_secret {
            credentials = credentials.rest_secret(secret.as_bytes());
        }
        if credentials.is_empty() {
            bail!("no credentials: give at least one --user NAME:PASSWORD or --auth-secret");
        }
        let relay_ips = self.relay_ips()?;
        let mut policy = PeerPolicy::default().allow_loopback(self.allow_loopback_peers.unwrap_or(false));
        for s in &self.allowed_peer_ip {
            policy = policy.allow(
                s.parse::<IpNet>()
                    .with_context(|| format!("--allowed-peer-ip {s:?}"))?,
            );
        }
        for s in &self.denied_peer_ip {
            policy = policy.deny(
                s.parse::<IpNet>()
                    .with_context(|| format!("--denied-peer-ip {s:?}"))?,
            );
        }
        let (min_port, max_port) = (self.min_port.unwrap_or(49152), self.max_port.unwrap_or(65535));
        if min_port == 0 || min_port > max_port {
            bail!("relay port range {min_port}..={max_port} is empty or starts at 0");
        }
        let d = ServerConfig::default();
        Ok(ServerConfig {
            realm: self.realm.clone().unwrap_or_else(|| "oxirtc".into()),
            credentials,
            relay_ips,
            min_port,
            max_port,
            default_lifetime: self.lifetime.map_or(d.default_lifetime, Duration::from_secs),
            max_lifetime: self.max_lifetime.map_or(d.max_lifetime, Duration::from_secs),
            peer_policy: policy,
            max_allocations_per_user: self.user_quota.unwrap_or(0),
            max_allocations: self.max_allocations.unwrap_or(0),
            max_bytes_per_second: self.max_bps.unwrap_or(0),
            unauth_size_slack: self.unauth_size_slack,
            unauth_responses_per_second: self.unauth_rate.unwrap_or(d.unauth_responses_per_second),
            software: "oxirtc".into(),
            ..d
        })
    }

    /// `--relay-ip`, checked. None given: empty, and the core relays each allocation on the address
    /// its client reached (a listen address, or on a wildcard one the datagram's destination IP), as
    /// coturn does without `--relay-ip`.
    fn relay_ips(&self) -> anyhow::Result<Vec<IpAddr>> {
        let ips = self.relay_ip.clone();
        if ips.iter().any(IpAddr::is_unspecified) {
            bail!("--relay-ip must be an address of this host, not a wildcard (0.0.0.0, ::)");
        }
        if ips.iter().filter(|ip| ip.is_ipv4()).count() > 1
            || ips.iter().filter(|ip| ip.is_ipv6()).count() > 1
        {
            bail!("at most one --relay-ip per address family");
        }
        Ok(ips)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_errors_name_the_line() {
        let err = TurnOptions::from_toml("realm = \"x\"\nmin-port = \"nope\"\n").unwrap_err();
        assert!(err.to_string().starts_with("line 2:"), "{err}");
        let err = TurnOptions::from_toml("realm = \"x\"\n\nbogus = 1\n").unwrap_err();
        assert!(err.to_string().starts_with("line 3:"), "{err}");
    }

    #[test]
    fn flags_win_over_the_file() {
        let file = TurnOptions::from_toml("realm = \"file\"\nmin-port = 50000\nuser = [\"a:b\"]\n").unwrap();
        let flags = TurnOptions {
            realm: Some("flag".into()),
            ..TurnOptions::default()
        };
        let o = flags.over(file);
        assert_eq!(o.realm.as_deref(), Some("flag"));
        assert_eq!(o.min_port, Some(50000));
        assert_eq!(o.user, vec!["a:b".to_owned()]);
    }

    #[test]
    fn no_401_size_rule_unless_asked() {
        let base = TurnOptions {
            listen: vec!["127.0.0.1:3478".parse().unwrap()],
            user: vec!["u:p".into()],
            ..TurnOptions::default()
        };
        assert_eq!(base.server_config().unwrap().unauth_size_slack, None);
        let file = TurnOptions::from_toml("unauth-size-slack = 0\n").unwrap();
        let c = base.over(file).server_config().unwrap();
        assert_eq!(c.unauth_size_slack, Some(0));
    }

    #[test]
    fn validation_messages() {
        let base = TurnOptions {
            listen: vec!["127.0.0.1:3478".parse().unwrap()],
            ..TurnOptions::default()
        };
        assert!(base
            .server_config()
            .unwrap_err()
            .to_string()
            .contains("no credentials"));
        let o = TurnOptions {
            user: vec!["nocolon".into()],
            ..base.clone()
        };
        assert!(o
            .server_config()
            .unwrap_err()
            .to_string()
            .contains("NAME:PASSWORD"));
        let o = TurnOptions {
            user: vec!["a:b".into()],
            relay_ip: vec!["0.0.0.0".parse().unwrap()],
            ..base.clone()
        };
        assert!(o.server_config().unwrap_err().to_string().contains("--relay-ip"));
        let o = TurnOptions {
            user: vec!["a:b".into()],
            relay_ip: vec!["192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap()],
            ..base.clone()
        };
        assert!(o.server_config().unwrap_err().to_string().contains("--relay-ip"));
        // The default listen address is a wildcard: relays go on the address each client reached.
        let o = TurnOptions {
            user: vec!["a:b".into()],
            listen: Vec::new(),
            ..base.clone()
        };
        assert!(o.server_config().unwrap().relay_ips.is_empty());
        let o = TurnOptions {
            user: vec!["a:b".into()],
            denied_peer_ip: vec!["x/99".into()],
            ..base.clone()
        };
        assert!(o.server_config().is_err());
        let o = TurnOptions {
            user: vec!["a:b".into()],
            ..base
        };
        assert!(o.server_config().unwrap().relay_ips.is_empty());
        let o = TurnOptions {
            relay_ip: vec!["127.0.0.2".parse().unwrap()],
            ..o
        };
        let c = o.server_config().unwrap();
        assert_eq!(c.relay_ips, vec!["127.0.0.2".parse::<IpAddr>().unwrap()]);
    }
}
