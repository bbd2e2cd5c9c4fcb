//! ICE server flags shared by `oxirtc echo` and `oxirtc dial` (W3C `iceServers`, `iceTransportPolicy`).

use anyhow::Context as _;
use oxirtc_tokio::{parse_stun_url, parse_turn_url, Config, IceTransportPolicy};

/// STUN/TURN servers and the transport policy.
#[derive(Debug, Default, clap::Args)]
pub struct IceArgs {
    /// STUN server, `stun:IP:PORT` (repeatable).
    #[arg(long = "stun", value_name = "URL")]
    pub stun: Vec<String>,
    /// TURN server, `turn:IP:PORT` over UDP (repeatable; credentials from --turn-user/--turn-password).
    #[arg(long = "turn", value_name = "URL")]
    pub turn: Vec<String>,
    /// TURN username.
    #[arg(long, default_value = "")]
    pub turn_user: String,
    /// TURN password.
    #[arg(long, default_value = "")]
    pub turn_password: String,
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
                parse_turn_url(url, &self.turn_user, &self.turn_password)
                    .with_context(|| format!("bad TURN URL {url:?}: use turn:IP:PORT"))?,
            );
        }
        if self.relay {
            config.ice_transport_policy = IceTransportPolicy::Relay;
        }
        Ok(())
    }
}
