//! `oxirtc dial`: plays the browser's side of the HTTP/JSON signaling protocol against any echo peer
//! and makes the same checks as a browser would: every message comes back verbatim and in order.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use oxirtc::{DataChannelInit, Description, PeerConnectionState, SdpType};
use oxirtc_tokio::{Config, DataChannel, Message, PeerConnection, PeerConnectionEvent};
use serde_json::{json, Value};

use crate::signal_http::{SignalReply, SignalRequest};

/// `oxirtc dial` arguments.
#[derive(Debug, clap::Args)]
pub struct DialArgs {
    /// The peer's signaling URL (the one it printed after LISTENING).
    pub url: String,
    /// `offer`: we offer and create the channel; `answer`: we ask the peer to offer.
    #[arg(long, default_value = "offer", value_parser = ["offer", "answer"])]
    pub mode: String,
    /// Text messages to send (and as many binary ones with `--binary`).
    #[arg(long, default_value_t = 10)]
    pub messages: usize,
    /// Payload size of each message in bytes (0 = short).
    #[arg(long, default_value_t = 0)]
    pub size: usize,
    /// Also send binary messages.
    #[arg(long)]
    pub binary: bool,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
    /// Channel label.
    #[arg(long, default_value = "echo")]
    pub label: String,
    /// Local IP to bind (default 127.0.0.1).
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// STUN/TURN servers.
    #[command(flatten)]
    pub ice: crate::ice_args::IceArgs,
}

/// Runs one dial session, prints one JSON object; `Ok` only if every check passed.
pub fn run(args: &DialArgs) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let mut result = json!({ "ok": false, "mode": args.mode, "signal": args.url });
    let outcome = rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(args.timeout), dial(args, &mut result)).await
    });
    let ok = match outcome {
        Ok(Ok(())) => result["checks"]["dataChannelEcho"] == json!(true),
        Ok(Err(e)) => {
            result["error"] = json!(format!("{e:#}"));
            false
        }
        Err(_) => {
            result["error"] = json!(format!("timed out after {} s", args.timeout));
            false
        }
    };
    result["ok"] = json!(ok);
    println!("{}", serde_json::to_string_pretty(&result)?);
    if !ok {
        bail!("dial failed");
    }
    Ok(())
}

async fn dial(args: &DialArgs, result: &mut Value) -> anyhow::Result<()> {
    let t0 = Instant::now();
    let mut config = Config {
        bind: vec![args.bind],
        include_loopback: true,
        ..Config::default()
    };
    args.ice.apply(&mut config)?;
    let pc = PeerConnection::new(config).await?;
    let dc = if args.mode == "offer" {
        let dc = pc
            .create_data_channel(&args.label, DataChannelInit::default())
            .await?;
        let offer = pc.create_offer().await?;
        pc.set_local_description(offer.clone()).await?;
        let sdp = crate::echo::gathered_sdp(&pc, offer).await;
        let reply = post(
            &args.url,
            &SignalRequest::Offer {
                sdp,
                session: None,
                negotiated: vec![],
            },
        )
        .await?;
        let answer: SignalReply =
            serde_json::from_value(reply).context("peer reply is not {type:answer, sdp}")?;
        pc.set_remote_description(Description {
            sdp_type: SdpType::Answer,
            sdp: answer.sdp,
        })
        .await?;
        dc
    } else {
        let reply = post(
            &args.url,
            &SignalRequest::RequestOffer {
                label: Some(args.label.clone()),
                negotiated: vec![],
            },
        )
        .await?;
        let offer: SignalReply =
            serde_json::from_value(reply).context("peer reply is not {type:offer, sdp}")?;
        pc.set_remote_description(Description {
            sdp_type: SdpType::Offer,
            sdp: offer.sdp,
        })
        .await?;
        let answer = pc.create_answer().await?;
        pc.set_local_description(answer.clone()).await?;
        let sdp = crate::echo::gathered_sdp(&pc, answer).await;
        post(
            &args.url,
            &SignalRequest::Answer {
                sdp,
                session: offer.session,
            },
        )
        .await?;
        wait_for_channel(&pc).await?
    };
    let dc_report = exchange(args, dc, t0).await?;
    let stats = stats_once_selected(&pc).await?;
    result["setupMs"] = dc_report["openMs"].clone();
    result["checks"] = json!({ "dataChannelEcho": dc_report["allEchoed"] == json!(true) && dc_report["mismatched"] == json!(0) });
    result["dc"] = dc_report;
    result["dtlsRole"] = json!(stats.dtls_role.map(|r| format!("{r:?}").to_lowercase()));
    result["dtlsCipher"] = json!(stats.cipher_suite.map(|c| c.to_string()));
    result["srtpCipher"] = json!(stats.srtp_profile.map(|p| p.to_string()));
    result["selectedPair"] = json!(stats.selected_pair.map(|(l, r)| format!("{l} -> {r}")));
    result["rttMs"] = json!(stats.rtt.map(|d| d.as_secs_f64() * 1000.0));
    pc.close().await;
    Ok(())
}

/// The connection's stats once ICE has selected a pair. Data may flow on a valid pair before the
/// nomination lands (RFC 8445 §12.1), so a short exchange can end first; waits up to 2 s for it.
async fn stats_once_selected(pc: &PeerConnection) -> anyhow::Result<oxirtc_tokio::Stats> {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let stats = pc.stats().await?;
        if stats.selected_pair.is_some() || Instant::now() >= deadline {
            return Ok(stats);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn wait_for_channel(pc: &PeerConnection) -> anyhow::Result<DataChannel> {
    while let Some(ev) = pc.next_event().await {
        match ev {
            PeerConnectionEvent::DataChannel(dc) => return Ok(dc),
            PeerConnectionEvent::ConnectionState(
                PeerConnectionState::Failed | PeerConnectionState::Closed,
            ) => break,
            _ => {}
        }
    }
    match pc.close_reason() {
        Some(why) => bail!("the connection ended before the peer's data channel arrived: {why}"),
        None => bail!("the connection ended before the peer's data channel arrived"),
    }
}

/// Sends the same messages as browser-peer.mjs and checks each echo, in order.
async fn exchange(args: &DialArgs, mut dc: DataChannel, t0: Instant) -> anyhow::Result<Value> {
    dc.opened().await.context("data channel did not open")?;
    let open_ms = t0.elapsed().as_secs_f64() * 1000.0;
    let pad = "x".repeat(args.size);
    let texts: Vec<String> = (0..args.messages).map(|i| format!("ping:{i}:{pad}")).collect();
    let bins: Vec<Vec<u8>> = if args.binary {
        (0..args.messages)
            .map(|i| {
                (0..args.size.max(16))
                    .map(|j| ((i * 31 + j) & 255) as u8)
                    .collect()
            })
            .collect()
    } else {
        Vec::new()
    };
    for t in &texts {
        dc.send(Message::text(t.clone())).await?;
    }
    for b in &bins {
        dc.send(Message::binary(b.clone())).await?;
    }
    let (mut ti, mut bi, mut mismatched) = (0usize, 0usize, 0usize);
    while ti < texts.len() || bi < bins.len() {
        let Some(m) = dc.recv().await else {
            if let Some(why) = dc.close_reason() {
                bail!("the connection ended: {why}");
            }
            break;
        };
        if !m.binary {
            if let Some(x) = m.data.strip_prefix(b"echo-me:") {
                let mut reply = b"echo-reply:".to_vec();
                reply.extend_from_slice(x);
                dc.send(Message {
                    data: reply.into(),
                    binary: false,
                })
                .await?;
                continue;
            }
            if texts.get(ti).is_some_and(|t| t.as_bytes() == m.data.as_ref()) {
                ti += 1;
            } else {
                mismatched += 1;
            }
        } else if bins.get(bi).is_some_and(|b| b.as_slice() == m.data.as_ref()) {
            bi += 1;
        } else {
            mismatched += 1;
        }
    }
    Ok(json!({
        "label": dc.label(),
        "sent": texts.len(), "echoed": ti,
        "binarySent": bins.len(), "binaryEchoed": bi,
        "mismatched": mismatched,
        "allEchoed": ti == texts.len() && bi == bins.len(),
        "openMs": open_ms,
        "allEchoedMs": t0.elapsed().as_secs_f64() * 1000.0,
    }))
}

async fn post(url: &str, body: &SignalRequest) -> anyhow::Result<Value> {
    let url = url.to_owned();
    let body = serde_json::to_value(body)?;
    tokio::task::spawn_blocking(move || -> anyhow::Result<Value> {
        let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(15)).build();
        match agent.post(&url).send_json(body) {
            Ok(resp) => Ok(resp.into_json()?),
            Err(ureq::Error::Status(code, resp)) => {
                let text = resp.into_string().unwrap_or_default();
                bail!(
                    "signaling POST {url} -> HTTP {code}: {}",
                    text.chars().take(300).collect::<String>()
                )
            }
            Err(e) => bail!("signaling POST {url} failed: {e}"),
        }
    })
    .await?
}
