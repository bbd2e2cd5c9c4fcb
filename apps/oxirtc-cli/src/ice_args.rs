//! ICE server flags shared by `oxirtc echo` and `oxirtc dial` (W3C `iceServers`, `iceTransportPolicy`).

use anyhow::Context as _;
use oxirtc_tokio::{parse_stun_url, parse_turn_url, Config, IceTransportPolicy};

/// STUN/TURN servers and the transport policy.
#[derive(Debug, Default, clap::Args)]
pub struct IceArgs {
    /// STUN server, `stun:IP:PORT` (repeatable).
    #[arg(long = "stun", value_name = "URL")]
    pub stun: Vec<String>,
    /// TURN server: `turn:IP:PORT` (UDP), `turn:IP:PORT?transport=tcp`, `turns:IP:PORT` (TLS; the
    /// certificate must name the IP). Repeatable; credentials from --turn-user/--turn-password.
    #[arg(long = "turn", value_name = "URL")]
    pub turn: Vec<String>,
    /// TURN username.
    #[arg(long, default_value = "")]
    pub turn_user: String,
    /// TURN password.
    #[arg(long, default_value = "")]
    pub turn_password: String,
    /// A PEM file of extra trusted certificates for `turns:` servers (a private CA or self-signed server).
    #[arg(long, value_name = "FILE")]
    pub turn_ca: Option<std::path::PathBuf>,
    /// Use relayed candidates only (iceTransportPolicy "relay"); needs --turn.
    #[arg(long, requires = "turn")]
    pub relay: bool,
}

impl IceArgs {
    /// Adds the servers and policy to `config`; an unparsable URL is an error naming it.
    pub fn apply(&self, config: &mut Config) -> anyhow::Result<()> {
        for url in &self.stun {
            config.stun_servers.push(
                parse_stun_url(url).with_context(|| format!("bad STUN URL {url:?}: use stun:IP:PORT"))?,
            );
        }
        for url in &self.turn {
            config.turn_servers.push(
                parse_turn_url(url, &self.turn_user, &self.turn_password).with_context(|| {
                    format!("bad TURN URL {url:?}: use turn:IP:PORT[?transport=tcp] or turns:IP:PORT")
                })?,
            );
        }
        if let Some(path) = &self.turn_ca {
            use rustls_pki_types::pem::PemObject as _;
            let certs = rustls_pki_types::CertificateDer::pem_file_iter(path)
                .with_context(|| format!("cannot read --turn-ca {}", path.display()))?;
            for cert in certs {
                let cert = cert.with_context(|| format!("bad PEM certificate in {}", path.display()))?;
                config.turn_tls_roots.push(cert.to_vec());
            }
        }
        if self.relay {
            config.ice_transport_policy = IceTransportPolicy::Relay;
        }
        Ok(())
    }
}
