//! Sets up one peer connection with one data channel over the WebSocket signaling, then watches it:
//! the peer leaving the room or the connection failing is reported on [`Link::gone`].

use std::time::Duration;

use anyhow::{bail, Context as _};
use oxirtc::{DataChannelInit, Description, PeerConnectionState, SdpType};
use oxirtc_server::signaling::{IceServer, ServerMsg};
use oxirtc_tokio::{
    parse_stun_url, parse_turn_url, Config, DataChannel, IceTransportPolicy, PeerConnection,
    PeerConnectionEvent,
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
    task: tokio::task::JoinHandle<()>,
}

impl Link {
    /// Closes the connection and waits (briefly) for the watcher to finish.
    pub async fn close(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = tokio::time::timeout(Duration::from_secs(2), &mut self.task).await;
    }
}

/// The peer-connection settings for these ICE servers (`stun:` and `turn:` URLs with literal IPs; the
/// TURN REST credentials come with them), with loopback candidates so two processes on one machine
/// connect, and a bulk-sized receive window. `relay_only` uses the TURN relay alone.
pub fn config_for(ice: &[IceServer], relay_only: bool) -> Config {
    let stun = ice
        .iter()
        .flat_map(|s| s.urls.iter())
        .filter_map(|u| parse_stun_url(u))
        .collect();
    let turn = ice
        .iter()
        .flat_map(|s| {
            let (user, pass) = (
                s.username.clone().unwrap_or_default(),
                s.credential.clone().unwrap_or_default(),
            );
            s.urls.iter().filter_map(move |u| parse_turn_url(u, &user, &pass))
        })
        .collect();
    let mut c = Config {
        include_loopback: true,
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

/// Connects to `peer`: we offer when `offer` is true (the sender), else we wait for its offer.
pub async fn establish(sig: SignalClient, peer: String, offer: bool, config: Config) -> anyhow::Result<Link> {
    tokio::time::timeout(CONNECT_TIMEOUT, negotiate(sig, peer, offer, config))
        .await
        .map_err(|_| {
            anyhow::anyhow!(
                "could not connect to the peer within {} s (no direct path between you; a TURN relay is needed)",
                CONNECT_TIMEOUT.as_secs()
            )
        })?
}

struct Negotiation {
    sig: SignalClient,
    pc: PeerConnection,
    peer: String,
    have_remote: bool,
    pending: Vec<String>,
}

async fn negotiate(sig: SignalClient, peer: String, offer: bool, config: Config) -> anyhow::Result<Link> {
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
        let to = n.peer.clone();
        n.sig
            .signal(&to, json!({"sdp": {"type": "offer", "sdp": desc.sdp}}))
            .await?;
        dc
    } else {
        n.wait_for_channel().await?
    };
    loop {
        tokio::select! {
            r = dc.opened() => {
                r.context("the data channel did not open")?;
                return Ok(n.into_link(dc));
            }
            msg = n.sig.next() => n.on_signal(msg?).await?,
            ev = n.pc.next_event() => match ev {
                Some(ev) => n.on_event(ev).await?,
                None => bail!("the connection closed while connecting"),
            },
        }
    }
}

impl Negotiation {
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
                let to = self.peer.clone();
                self.sig
                    .signal(&to, json!({"sdp": {"type": "answer", "sdp": answer.sdp}}))
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
                let to = self.peer.clone();
                self.sig
                    .signal(&to, json!({"candidate": {"candidate": c, "sdpMLineIndex": 0}}))
                    .await?;
            }
            PeerConnectionEvent::ConnectionState(PeerConnectionState::Failed) => {
                bail!("the connection to the peer failed (no working path between you)")
            }
            _ => {}
        }
        Ok(())
    }

    fn into_link(self, dc: DataChannel) -> Link {
        let (gone_tx, gone) = watch::channel(None);
        let (stop, stop_rx) = oneshot::channel();
        let task = tokio::spawn(watch_link(self.sig, self.pc, self.peer, gone_tx, stop_rx));
        Link {
            dc,
            gone,
            stop: Some(stop),
            task,
        }
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
    mut pc: PeerConnection,
    peer: String,
    gone: watch::Sender<Option<String>>,
    mut stop: oneshot::Receiver<()>,
) {
    let mut sig_alive = true;
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
                    let _ = gone.send(Some(format!("the connection to the peer ended ({s:?})")));
                }
                Some(_) => {}
                None => break,
            },
        }
    }
    pc.close().await;
}
