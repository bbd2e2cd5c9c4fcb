//! `oxirtc whip URL --send-media FILE...` publishes media files to a WHIP endpoint (RFC 9725) and
//! `oxirtc whep URL --record DIR` plays a WHEP endpoint into files: the client side of the
//! ingest/playback protocols that `oxirtc serve` (and OBS, MediaMTX, Janus...) speak.
//!
//! Both POST an SDP offer with every candidate (no trickle), apply the `201 Created` answer, run
//! until `--duration`, the files' end, Ctrl-C or the server's end, then `DELETE` the session's
//! `Location` (RFC 9725 §4.2).

use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context as _};
use oxirtc::media::{Direction, TrackKind, TransceiverInit};
use oxirtc::{Description, PeerConnectionState, SdpType};
use oxirtc_tokio::{Config, PeerConnection, PeerConnectionEvent};

use crate::media_files::{MediaArgs, MediaPlan, MediaSession};

/// `oxirtc whip` / `oxirtc whep` arguments.
#[derive(Debug, clap::Args)]
pub struct WhipArgs {
    /// The endpoint URL, e.g. `http://127.0.0.1:8080/whip/ROOM` (or `/whep/ROOM`).
    pub url: String,
    /// `Authorization: Bearer TOKEN` (the server's `--whip-token`).
    #[arg(long)]
    pub token: Option<String>,
    /// Stop after this long (e.g. `30s`); by default when the files are sent (whip) or at Ctrl-C.
    #[arg(long, value_parser = crate::parse_duration)]
    pub duration: Option<Duration>,
    /// Local IP to bind (default: every interface).
    #[arg(long)]
    pub bind: Option<std::net::IpAddr>,
    /// Media files and recording.
    #[command(flatten)]
    pub media: MediaArgs,
    /// STUN/TURN servers.
    #[command(flatten)]
    pub ice: crate::ice_args::IceArgs,
}

/// Publishes (`publish`: WHIP) or plays (WHEP).
pub fn run(args: &WhipArgs, publish: bool) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(call(args, publish))
}

async fn call(args: &WhipArgs, publish: bool) -> anyhow::Result<()> {
    let what = if publish { "whip" } else { "whep" };
    let Some(plan) = MediaPlan::from_args(&args.media)?.map(Arc::new) else {
        bail!("oxirtc {what} needs media: --send-media FILE... to publish, --record DIR to keep what plays");
    };
    if publish && plan.sources.is_empty() {
        bail!("oxirtc whip publishes files: give --send-media FILE... (.ivf, .h264, .h265, .ogg)");
    }
    let mut config = Config::default();
    if let Some(ip) = args.bind {
        config.bind = vec![ip];
        config.include_loopback = ip.is_loopback();
    }
    args.ice.apply(&mut config)?;
    let pc = PeerConnection::new(config).await?;
    let mut session = MediaSession::new(plan.clone(), &format!("{what}-"));
    if publish {
        session.set_sending(plan.add_offer_tracks(&pc, "oxirtc").await?);
    } else {
        for kind in [TrackKind::Audio, TrackKind::Video] {
            let init = TransceiverInit {
                direction: Direction::RecvOnly,
                ..TransceiverInit::default()
            };
            pc.add_transceiver(kind, init).await?;
        }
    }
    let offer = pc.create_offer().await?;
    pc.set_local_description(offer.clone()).await?;
    pc.gathering_complete(Duration::from_secs(5)).await;
    let offer = pc.local_description().await?.unwrap_or(offer);
    let (location, answer) = post_offer(&args.url, args.token.as_deref(), offer.sdp).await?;
    pc.set_remote_description(Description {
        sdp_type: SdpType::Answer,
        sdp: answer,
    })
    .await
    .context("the endpoint's answer was refused")?;
    eprintln!("oxirtc {what}: session {location}");
    if publish {
        MediaPlan::check_negotiated(session.sending()).await?;
    }
    let deadline = args.duration.map(|d| tokio::time::Instant::now() + d);
    let interrupted = crate::echo::terminated();
    tokio::pin!(interrupted);
    let mut connected = false;
    let ended_by = loop {
        tokio::select! {
            event = pc.next_event() => match event {
                Some(PeerConnectionEvent::ConnectionState(PeerConnectionState::Connected)) if !connected => {
                    connected = true;
                    session.start_sending();
                }
                Some(PeerConnectionEvent::ConnectionState(PeerConnectionState::Failed | PeerConnectionState::Closed)) | None => {
                    break "the connection ended";
                }
                Some(PeerConnectionEvent::Track(track)) => {
                    // Without --record a track is read and dropped (its queue must not stall).
                    if let Some(mut track) = session.on_track(track) {
                        tokio::spawn(async move { while track.recv().await.is_some() {} });
                    }
                }
                Some(_) => {}
            },
            () = sleep_until(deadline) => break "duration",
            () = session.sending_done(), if publish && connected && deadline.is_none() => break "files sent",
            () = &mut interrupted => break "interrupted",
        }
    };
    // The session ends on the server first (closing our side first would end it there too, and
    // the DELETE would find nothing).
    let deleted = delete(&args.url, &location, args.token.as_deref()).await;
    let report = session.finish(&pc).await;
    for line in report.lines() {
        eprintln!("oxirtc {what}: {}", crate::term_safe::escape_keep_lines(&line));
    }
    eprintln!("oxirtc {what}: ended ({ended_by}); session deleted: {deleted}");
    if !connected {
        bail!(
            "the connection to {} never came up: check that its candidates are reachable from here",
            args.url
        );
    }
    Ok(())
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// RFC 9725 §4.2: POST the offer as `application/sdp`; `201 Created` with the answer and the
/// session's `Location`.
async fn post_offer(url: &str, token: Option<&str>, sdp: String) -> anyhow::Result<(String, String)> {
    let (url, token) = (url.to_owned(), token.map(str::to_owned));
    tokio::task::spawn_blocking(move || -> anyhow::Result<(String, String)> {
        let mut request = ureq::post(&url)
            .timeout(Duration::from_secs(15))
            .set("Content-Type", "application/sdp");
        if let Some(t) = &token {
            request = request.set("Authorization", &format!("Bearer {t}"));
        }
        match request.send_string(&sdp) {
            Ok(resp) if resp.status() == 201 => {
                let location = resp
                    .header("Location")
                    .map(str::to_owned)
                    .context("the endpoint answered 201 without a Location (RFC 9725 §4.2)")?;
                Ok((location, resp.into_string()?))
            }
            Ok(resp) => bail!("POST {url} -> HTTP {} (expected 201 Created)", resp.status()),
            Err(ureq::Error::Status(code, resp)) => {
                let text = resp.into_string().unwrap_or_default();
                bail!(
                    "POST {url} -> HTTP {code}: {}",
                    text.chars().take(300).collect::<String>()
                )
            }
            Err(e) => bail!("POST {url} failed: {e}"),
        }
    })
    .await?
}

/// RFC 9725 §4.2: DELETE the session (its Location, relative to the endpoint URL).
async fn delete(url: &str, location: &str, token: Option<&str>) -> bool {
    let target = resolve(url, location);
    let token = token.map(str::to_owned);
    tokio::task::spawn_blocking(move || {
        let mut request = ureq::delete(&target).timeout(Duration::from_secs(5));
        if let Some(t) = &token {
            request = request.set("Authorization", &format!("Bearer {t}"));
        }
        request.call().is_ok()
    })
    .await
    .unwrap_or(false)
}

/// A `Location` made absolute against the endpoint URL (absolute, absolute-path or relative).
fn resolve(url: &str, location: &str) -> String {
    if location.contains("://") {
        return location.to_owned();
    }
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let host_end = url[scheme_end..].find('/').map_or(url.len(), |i| scheme_end + i);
    if location.starts_with('/') {
        return format!("{}{location}", &url[..host_end]);
    }
    let dir_end = url
        .rfind('/')
        .filter(|&i| i >= host_end)
        .map_or(url.len(), |i| i + 1);
    format!("{}{location}", &url[..dir_end])
}

#[cfg(test)]
mod tests {
    use super::resolve;

    #[test]
    fn locations_resolve_against_the_endpoint() {
        let url = "http://127.0.0.1:8080/whip/room";
        assert_eq!(
            resolve(url, "/whip/room/ab"),
            "http://127.0.0.1:8080/whip/room/ab"
        );
        assert_eq!(resolve(url, "room/ab"), "http://127.0.0.1:8080/whip/room/ab");
        assert_eq!(resolve(url, "https://x/y"), "https://x/y");
    }
}
