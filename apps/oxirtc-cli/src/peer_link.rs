//! Sets up one peer connection with one data channel over the WebSocket signaling, then watches it:
//! the peer leaving the room or the connection failing is reported on [`Link::gone`].

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use anyhow::{bail, Context as _};
use oxirtc::{DataChannelInit, Description, PeerConnectionState, SdpType};
use oxirtc_server::signaling::{IceServer, ServerMsg};
use oxirtc_tokio::{
    parse_stun_url, parse_turn_url, Config, DataChannel, IceTransportPolicy, PeerConnection,
    PeerConnectionEvent, TurnServerConfig, TurnTransport,
};
use serde_json::{json, Value};
use tokio::sync::{oneshot, watch};

use crate::signal_ws::SignalClient;

/// Label of the transfer channel (the web UI uses the same).
pub const CHANNEL_LABEL: &str = "oxirtc-transfer";

/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// An open data channel to one peer, and the task that keeps the connection and signaling alive.
#[derive(Debug)]
pub struct Link {
    /// The open channel.
    pub dc: DataChannel,
    /// Becomes `Some(reason)` when the peer leaves or the connection fails.
    pub gone: watch::Receiver<Option<String>>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Option<SignalClient>>,
}

impl Link {
    /// Closes the connection and waits (briefly) for the watcher to finish. Returns the signaling
    /// connection (with the frames the watcher did not use, such as a `peer-joined`, left unread), or
    /// None if it was lost.
    pub async fn close(mut self) -> Option<SignalClient> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match tokio::time::timeout(Duration::from_secs(5), &mut self.task).await {
            Ok(Ok(sig)) => sig,
            _ => None,
        }
    }
}

/// The peer-connection settings for these ICE servers (`stun:`/`turn:`/`turns:` URLs; host names are
/// resolved here, see [`resolve_ice_url`]; the TURN REST credentials come with them), and a bulk-sized
/// receive window. Loopback candidates (two processes on one machine) only while every STUN/TURN
/// server is on loopback too, see [`loopback_useful`]. `relay_only` uses the TURN relay alone. A URL
/// that does not parse or resolve is skipped with a warning.
pub async fn config_for(ice: &[IceServer], relay_only: bool) -> Config {
    let mut stun = Vec::new();
    let mut turn = Vec::new();
    for server in ice {
        let (user, pass) = (
            server.username.clone().unwrap_or_default(),
            server.credential.clone().unwrap_or_default(),
        );
        for url in &server.urls {
            let Some((literal, host)) = resolve_ice_url(url).await else {
                tracing::warn!(%url, "ICE server URL skipped: not a stun:/turn: URL or its host does not resolve");
                continue;
            };
            if let Some(addr) = parse_stun_url(&literal) {
                stun.push(addr);
            } else if let Some(mut t) = parse_turn_url(&literal, &user, &pass) {
                if let (TurnTransport::Tls { server_name }, Some(host)) = (&mut t.transport, host) {
                    // TLS checks the certificate against the name in the URL, not the address.
                    *server_name = host;
                }
                turn.push(t);
            }
        }
    }
    let include_loopback = loopback_useful(&stun, &turn);
    let mut c = Config {
        include_loopback,
        stun_servers: stun,
        turn_servers: turn,
        ice_transport_policy: if relay_only {
            IceTransportPolicy::Relay
        } else {
            IceTransportPolicy::All
        },
        ..Config::default()
    };
    // A 4 MiB SCTP receive window (default 1 MiB): CLI -> CLI 256 MiB on loopback went from ~54 to
    // ~87 MB/s in A/B runs; a file receiver can afford the memory. (max_burst 64 + 8 MiB stalled.)
    c.rtc.sctp.receive_window = 4 * 1024 * 1024;
    c
}

/// Whether loopback host candidates can help: only when no STUN/TURN server is outside loopback (a
/// server on 127.0.0.1, as in tests and single-machine use, or none at all). Towards a real server
/// they only cost: an Allocate from 127.0.0.1 cannot reach it (and ends in an "allocation failed"
/// warning), and the peer's relay asks the server for a permission to 127.0.0.1, which its peer policy
/// denies and logs on every run (issue 17 §3).
pub fn loopback_useful(stun: &[SocketAddr], turn: &[TurnServerConfig]) -> bool {
    stun.iter()
        .map(SocketAddr::ip)
        .chain(turn.iter().map(|t| t.server.ip()))
        .all(|ip| ip.is_loopback())
}

/// How long resolving one ICE server host name may take.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// `url` with its host replaced by an IP address (RFC 7064 §3.1 `stun:host[:port]`, RFC 7065 §3.1
/// `turn:host[:port][?transport=..]`), and the host name if there was one. Literal IPs pass unchanged;
/// a name is resolved with the system resolver (IPv4 preferred: our sockets are dual-stack only where
/// the host has IPv6). None if the URL has no host or the name does not resolve.
pub async fn resolve_ice_url(url: &str) -> Option<(String, Option<String>)> {
    let (scheme, rest) = url.split_once(':')?;
    let default_port = match scheme {
        "stun" | "turn" => 3478,
        "stuns" | "turns" => 5349,
        _ => return None,
    };
    let (authority, query) = match rest.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (rest, None),
    };
    let (host, port) = split_host_port(authority)?;
    if host.parse::<IpAddr>().is_ok() {
        return Some((url.to_owned(), None));
    }
    let port = port.unwrap_or(default_port);
    let lookup = tokio::net::lookup_host((host, port));
    let addrs: Vec<SocketAddr> = tokio::time::timeout(RESOLVE_TIMEOUT, lookup)
        .await
        .ok()?
        .ok()?
        .collect();
    let addr = addrs.iter().find(|a| a.is_ipv4()).or_else(|| addrs.first())?;
    let query = query.map(|q| format!("?{q}")).unwrap_or_default();
    Some((format!("{scheme}:{addr}{query}"), Some(host.to_owned())))
}

/// `host[:port]` or `[v6][:port]` → (host, port).
fn split_host_port(authority: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        (host, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return None;
    }
    let port = match port {
        Some(p) => Some(p.parse().ok()?),
        None => None,
    };
    Some((host, port))
}

/// Connecting to a peer failed: why, and the signaling connection to try again with.
#[derive(Debug)]
pub struct EstablishError {
    /// What went wrong.
    pub error: anyhow::Error,
    /// The signaling connection, still in the room.
    pub sig: SignalClient,
}

/// Connects to `peer`: we offer when `offer` is true (the sender), else we wait for its offer.
pub async fn establish(
    mut sig: SignalClient,
    peer: String,
    offer: bool,
    config: Config,
) -> Result<Link, EstablishError> {
    let result = tokio::time::timeout(CONNECT_TIMEOUT, negotiate(&mut sig, &peer, offer, config)).await;
    match result {
        Ok(Ok((pc, dc))) => Ok(into_link(sig, pc, peer, dc)),
        Ok(Err(error)) => Err(EstablishError { error, sig }),
        Err(_) => Err(EstablishError {
            error: anyhow::anyhow!(
                "could not connect to the peer within {} s (no direct path between you; a TURN relay is needed)",
                CONNECT_TIMEOUT.as_secs()
            ),
            sig,
        }),
    }
}

struct Negotiation<'a> {
    sig: &'a mut SignalClient,
    pc: PeerConnection,
    peer: &'a str,
    have_remote: bool,
    pending: Vec<String>,
}

async fn negotiate(
    sig: &mut SignalClient,
    peer: &str,
    offer: bool,
    config: Config,
) -> anyhow::Result<(PeerConnection, DataChannel)> {
    let pc = PeerConnection::new(config)
        .await
        .context("cannot open UDP sockets")?;
    let mut n = Negotiation {
        sig,
        pc,
        peer,
        have_remote: false,
        pending: Vec::new(),
    };
    let mut dc = if offer {
        let dc =
            n.pc.create_data_channel(CHANNEL_LABEL, DataChannelInit::default())
                .await?;
        let desc = n.pc.create_offer().await?;
        n.pc.set_local_description(desc.clone()).await?;
        n.sig
            .signal(n.peer, json!({"sdp": {"type": "offer", "sdp": desc.sdp}}))
            .await?;
        dc
    } else {
        n.wait_for_channel().await?
    };
    loop {
        tokio::select! {
            r = dc.opened() => {
                r.context("the data channel did not open")?;
                return Ok((n.pc, dc));
            }
            msg = n.sig.next() => n.on_signal(msg?).await?,
            ev = n.pc.next_event() => match ev {
                Some(ev) => n.on_event(ev).await?,
                None => bail!("the connection closed while connecting"),
            },
        }
    }
}

impl Negotiation<'_> {
    async fn wait_for_channel(&mut self) -> anyhow::Result<DataChannel> {
        loop {
            tokio::select! {
                msg = self.sig.next() => self.on_signal(msg?).await?,
                ev = self.pc.next_event() => match ev {
                    Some(PeerConnectionEvent::DataChannel(d)) if d.label() == CHANNEL_LABEL => return Ok(d),
                    Some(ev) => self.on_event(ev).await?,
                    None => bail!("the connection closed while connecting"),
                },
            }
        }
    }

    async fn on_signal(&mut self, msg: ServerMsg) -> anyhow::Result<()> {
        match msg {
            ServerMsg::PeerLeft { id } if id == self.peer => bail!("the peer went away while connecting"),
            m @ ServerMsg::PeerJoined { .. } => {
                // Someone else (or the peer coming back); the caller may want them later.
                self.sig.unread([m]);
                Ok(())
            }
            ServerMsg::Signal { from, data } if from == self.peer => self.on_data(data).await,
            _ => Ok(()),
        }
    }

    async fn on_data(&mut self, data: Value) -> anyhow::Result<()> {
        if let Some(sdp) = data.get("sdp") {
            let kind = sdp["type"].as_str().unwrap_or_default();
            let text = sdp["sdp"].as_str().unwrap_or_default().to_owned();
            let sdp_type = match kind {
                "offer" => SdpType::Offer,
                "answer" => SdpType::Answer,
                other => bail!("peer sent a description of type `{other}`"),
            };
            self.pc
                .set_remote_description(Description { sdp_type, sdp: text })
                .await
                .context("the peer's description was refused")?;
            self.have_remote = true;
            if sdp_type == SdpType::Offer {
                let answer = self.pc.create_answer().await?;
                self.pc.set_local_description(answer.clone()).await?;
                self.sig
                    .signal(self.peer, json!({"sdp": {"type": "answer", "sdp": answer.sdp}}))
                    .await?;
            }
            for c in std::mem::take(&mut self.pending) {
                add_candidate(&self.pc, &c).await;
            }
        } else if let Some(c) = data.get("candidate") {
            let line = c
                .get("candidate")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            if self.have_remote {
                add_candidate(&self.pc, &line).await;
            } else if self.pending.len() < 64 {
                self.pending.push(line);
            }
        }
        Ok(())
    }

    async fn on_event(&mut self, ev: PeerConnectionEvent) -> anyhow::Result<()> {
        match ev {
            PeerConnectionEvent::IceCandidate(c) => {
                self.sig
                    .signal(
                        self.peer,
                        json!({"candidate": {"candidate": c, "sdpMLineIndex": 0}}),
                    )
                    .await?;
            }
            PeerConnectionEvent::ConnectionState(PeerConnectionState::Failed) => {
                bail!("the connection to the peer failed (no working path between you)")
            }
            _ => {}
        }
        Ok(())
    }
}

fn into_link(sig: SignalClient, pc: PeerConnection, peer: String, dc: DataChannel) -> Link {
    let (gone_tx, gone) = watch::channel(None);
    let (stop, stop_rx) = oneshot::channel();
    let task = tokio::spawn(watch_link(sig, pc, peer, gone_tx, stop_rx));
    Link {
        dc,
        gone,
        stop: Some(stop),
        task,
    }
}

async fn add_candidate(pc: &PeerConnection, line: &str) {
    // Browsers send mDNS or TCP candidates we cannot use; they are skipped, not fatal.
    if let Err(e) = pc.add_ice_candidate(line).await {
        tracing::debug!(error = %e, candidate = line, "remote candidate skipped");
    }
}

async fn watch_link(
    mut sig: SignalClient,
    pc: PeerConnection,
    peer: String,
    gone: watch::Sender<Option<String>>,
    mut stop: oneshot::Receiver<()>,
) -> Option<SignalClient> {
    let mut sig_alive = true;
    // Frames for whoever uses the signaling after this link (a peer that joined meanwhile).
    let mut unread = Vec::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            msg = sig.next(), if sig_alive => match msg {
                Ok(ServerMsg::PeerLeft { id }) if id == peer => {
                    let _ = gone.send(Some("the peer went away".into()));
                }
                Ok(ServerMsg::Signal { from, data }) if from == peer => {
                    if let Some(line) = data.get("candidate").and_then(|c| c.get("candidate")).and_then(Value::as_str) {
                        add_candidate(&pc, line).await;
                    }
                }
                Ok(m @ ServerMsg::PeerJoined { .. }) => unread.push(m),
                Ok(ServerMsg::PeerLeft { id }) => {
                    unread.retain(|m| !matches!(m, ServerMsg::PeerJoined { peer } if peer.id == id));
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::debug!(error = %e, "signaling lost; the transfer goes on");
                    sig_alive = false;
                }
            },
            ev = pc.next_event() => match ev {
                Some(PeerConnectionEvent::ConnectionState(
                    s @ (PeerConnectionState::Failed | PeerConnectionState::Closed),
                )) => {
                    let why = match pc.close_reason() {
                        Some(reason) => format!("the connection to the peer ended: {reason}"),
                        None => format!("the connection to the peer ended ({s:?})"),
                    };
                    let _ = gone.send(Some(why));
                }
                Some(_) => {}
                None => break,
            },
        }
    }
    pc.close().await;
    sig_alive.then(|| {
        sig.unread(unread);
        sig
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn host_names_in_ice_urls_are_resolved() {
        let (url, host) = resolve_ice_url("turn:localhost:3479?transport=tcp")
            .await
            .unwrap();
        assert!(
            url == "turn:127.0.0.1:3479?transport=tcp" || url == "turn:[::1]:3479?transport=tcp",
            "{url}"
        );
        assert_eq!(host.as_deref(), Some("localhost"));
        let (url, _) = resolve_ice_url("stun:localhost").await.unwrap();
        assert!(url.ends_with(":3478") && !url.contains("localhost"), "{url}");
        // Literal addresses pass unchanged; junk and unknown names are refused.
        for literal in [
            "stun:127.0.0.1",
            "turn:[::1]:9?transport=udp",
            "turn:10.0.0.1:3478",
        ] {
            assert_eq!(resolve_ice_url(literal).await, Some((literal.to_owned(), None)));
        }
        for bad in [
            "http://localhost",
            "stun:",
            "stun:localhost:99999",
            "turn:no-such-host.invalid",
        ] {
            assert_eq!(resolve_ice_url(bad).await, None, "{bad}");
        }
    }

    #[tokio::test]
    async fn config_takes_named_servers_and_keeps_the_tls_name() {
        let ice = [
            IceServer {
                urls: vec!["stun:localhost:3478".into(), "stun:no-such-host.invalid".into()],
                username: None,
                credential: None,
            },
            IceServer {
                urls: vec![
                    "turn:localhost:3478?transport=udp".into(),
                    "turns:localhost:5349".into(),
                ],
                username: Some("1700000000:p1".into()),
                credential: Some("pw".into()),
            },
        ];
        let c = config_for(&ice, true).await;
        assert!(
            c.include_loopback,
            "servers on loopback: loopback candidates can reach them"
        );
        assert_eq!(c.stun_servers.len(), 1);
        assert!(c.stun_servers[0].ip().is_loopback());
        assert_eq!(c.turn_servers.len(), 2);
        assert!(c
            .turn_servers
            .iter()
            .all(|t| t.server.ip().is_loopback() && t.username == "1700000000:p1"));
        assert_eq!(c.turn_servers[0].transport, TurnTransport::Udp);
        assert_eq!(
            c.turn_servers[1].transport,
            TurnTransport::Tls {
                server_name: "localhost".into()
            }
        );
        assert_eq!(c.ice_transport_policy, IceTransportPolicy::Relay);
    }

    #[tokio::test]
    async fn no_loopback_candidates_towards_a_server_outside_loopback() {
        // Issue 17 §3: with the server at 203.0.113.2, loopback candidates made an Allocate from
        // 127.0.0.1 that could not reach it and a permission request to 127.0.0.1 the server denied.
        let ice = |urls: &[&str]| {
            vec![IceServer {
                urls: urls.iter().map(|u| (*u).to_owned()).collect(),
                username: Some("1700000000:p1".into()),
                credential: Some("pw".into()),
            }]
        };
        let remote = ice(&["stun:203.0.113.2:3478", "turn:203.0.113.2:3478?transport=udp"]);
        assert!(!config_for(&remote, false).await.include_loopback);
        let mixed = ice(&["stun:127.0.0.1:3478", "turn:203.0.113.2:3478?transport=udp"]);
        assert!(!config_for(&mixed, false).await.include_loopback);
        let local = ice(&["stun:127.0.0.1:3478", "turn:127.0.0.1:3478?transport=udp"]);
        assert!(config_for(&local, false).await.include_loopback);
        assert!(
            config_for(&[], false).await.include_loopback,
            "no server: same machine is likely"
        );
    }
}
