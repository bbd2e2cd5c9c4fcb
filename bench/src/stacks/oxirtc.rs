//! oxirtc through its async API (`oxirtc-tokio`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use bytes::Bytes;
use oxirtc::media::{OutgoingRtp, TrackKind};
use oxirtc_tokio::{
    ChannelReliability, Config, DataChannel, DataChannelInit, LocalTrack, PeerConnection,
    PeerConnectionEvent, PeerConnectionState, RemoteTrack,
};

use crate::workload::{cpu_time, expected_crc, judge, MediaWindow, Outcome, Pattern, Transfer, Verifier};

/// oxirtc's defaults that the other two stacks lack, each switchable off (`--oxirtc-plain` turns
/// all three off; `--oxirtc-off zero-checksum,pmtud,gso` any of them).
static ZERO_CHECKSUM: AtomicBool = AtomicBool::new(true);
static PMTUD: AtomicBool = AtomicBool::new(true);
static UDP_BATCHING: AtomicBool = AtomicBool::new(true);

/// Switches one of the extras off by name (`zero-checksum`, `pmtud`, `gso`); false if unknown.
pub fn switch_off(name: &str) -> bool {
    let flag = match name {
        "zero-checksum" => &ZERO_CHECKSUM,
        "pmtud" => &PMTUD,
        "gso" => &UDP_BATCHING,
        _ => return false,
    };
    flag.store(false, Ordering::Relaxed);
    true
}

/// The column label: "oxirtc", "oxirtc plain" (all three off), or which are off.
pub fn label() -> String {
    let off: Vec<&str> = [
        (&ZERO_CHECKSUM, "zero-checksum"),
        (&PMTUD, "pmtud"),
        (&UDP_BATCHING, "gso"),
    ]
    .iter()
    .filter(|(f, _)| !f.load(Ordering::Relaxed))
    .map(|(_, n)| *n)
    .collect();
    match off.len() {
        0 => "oxirtc".into(),
        3 => "oxirtc plain".into(),
        _ => format!("oxirtc -{}", off.join(",-")),
    }
}

/// `Config::loopback()` with the extras that are switched off removed: SCTP zero checksum
/// (RFC 9653), PLPMTUD above the 1200-byte base (RFC 8899; packets stay at the base), batched UDP
/// I/O (GSO, GRO, recvmmsg).
fn config() -> Config {
    let mut c = Config::loopback();
    c.rtc.sctp.zero_checksum_dtls = ZERO_CHECKSUM.load(Ordering::Relaxed);
    c.rtc.path_mtu.discovery = PMTUD.load(Ordering::Relaxed);
    c.udp_batching = UDP_BATCHING.load(Ordering::Relaxed);
    c
}

struct Pair {
    a: PeerConnection,
    b: PeerConnection,
    da: DataChannel,
    db: DataChannel,
}

async fn connect(reliable: bool) -> anyhow::Result<(Pair, Duration)> {
    let a = PeerConnection::new(config()).await?;
    let b = PeerConnection::new(config()).await?;
    let init = if reliable {
        DataChannelInit::default()
    } else {
        DataChannelInit {
            ordered: false,
            reliability: ChannelReliability::MaxRetransmits(0),
            ..DataChannelInit::default()
        }
    };
    let t0 = Instant::now();
    let mut da = a.create_data_channel("bench", init).await?;
    let offer = a.create_offer().await?;
    a.set_local_description(offer.clone()).await?;
    b.set_remote_description(offer).await?;
    let answer = b.create_answer().await?;
    b.set_local_description(answer.clone()).await?;
    a.set_remote_description(answer).await?;
    let mut db = loop {
        match b.next_event().await {
            Some(PeerConnectionEvent::DataChannel(dc)) => break dc,
            Some(_) => {}
            None => bail!("oxirtc: answerer ended before the channel arrived"),
        }
    };
    da.opened().await?;
    db.opened().await?;
    let setup = t0.elapsed();
    Ok((Pair { a, b, da, db }, setup))
}

/// Create offer → channel open on both sides.
pub async fn setup() -> anyhow::Result<Duration> {
    let (pair, setup) = connect(true).await?;
    pair.a.close().await;
    pair.b.close().await;
    Ok(setup)
}

/// One transfer from `a` to `b`.
pub async fn transfer(pattern: &Pattern, t: Transfer) -> anyhow::Result<Outcome> {
    let (pair, _) = connect(t.reliable).await?;
    let Pair { a, b, da, mut db } = pair;
    let crc = t.reliable.then(|| expected_crc(pattern, t));
    let mut verifier = Verifier::new(pattern.clone(), t);
    let sender_pattern = pattern.clone();
    let cpu0 = cpu_time();
    let start = Instant::now();
    let sender = tokio::spawn(async move {
        for i in 0..t.count {
            let msg = Bytes::from(sender_pattern.message(i, t.size));
            da.send_binary(msg).await?;
        }
        Ok::<_, anyhow::Error>(da)
    });
    let mut last = start;
    let idle = Duration::from_millis(if t.reliable { 20_000 } else { 1_000 });
    loop {
        match tokio::time::timeout(idle, db.recv()).await {
            Ok(Some(msg)) => {
                last = Instant::now();
                if verifier.on_message(&msg.data) {
                    break;
                }
            }
            Ok(None) => break,
            Err(_) => break, // idle: unreliable messages that were dropped will not come
        }
    }
    let cpu = cpu_time().saturating_sub(cpu0);
    let _da = sender.await.context("oxirtc sender task")??;
    judge(&verifier, crc, "oxirtc")?;
    a.close().await;
    b.close().await;
    Ok(Outcome {
        elapsed: last - start,
        received: verifier.received,
        bytes: verifier.bytes,
        cpu,
    })
}

/// `pairs` connected pairs, each with an open channel, set up `batch` at a time (concurrently) and
/// kept alive together (their driver tasks keep running); returns them so the caller measures
/// memory while they exist.
pub async fn idle_pairs(pairs: usize, batch: usize) -> anyhow::Result<Vec<Box<dyn std::any::Any + Send>>> {
    let mut out: Vec<Box<dyn std::any::Any + Send>> = Vec::with_capacity(pairs);
    while out.len() < pairs {
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..batch.clamp(1, pairs - out.len()) {
            set.spawn(connect(true));
        }
        while let Some(joined) = set.join_next().await {
            let (pair, _) = joined.context("oxirtc connect task")??;
            out.push(Box::new(pair));
        }
    }
    Ok(out)
}

/// A connected pair with one audio and one video transceiver on each side: the offerer adds both
/// tracks (`add_track`, sending), the answerer's answer receives them. Returns the offerer's video
/// track and the answerer's remote video track, once both are connected.
struct MediaPair {
    a: PeerConnection,
    b: PeerConnection,
    video: LocalTrack,
    _audio: LocalTrack,
    remote: Option<RemoteTrack>,
}

async fn connect_media(wait_for_remote: bool) -> anyhow::Result<MediaPair> {
    let a = PeerConnection::new(config()).await?;
    let b = PeerConnection::new(config()).await?;
    let audio = a.add_track(TrackKind::Audio, Some("bench")).await?;
    let video = a.add_track(TrackKind::Video, Some("bench")).await?;
    let offer = a.create_offer().await?;
    a.set_local_description(offer.clone()).await?;
    b.set_remote_description(offer).await?;
    let answer = b.create_answer().await?;
    b.set_local_description(answer.clone()).await?;
    a.set_remote_description(answer).await?;
    let connected = |pc: PeerConnection, want_track: bool| async move {
        let mut track = None;
        let mut up = false;
        while !up || (want_track && track.is_none()) {
            match pc.next_event().await {
                Some(PeerConnectionEvent::ConnectionState(PeerConnectionState::Connected)) => up = true,
                Some(PeerConnectionEvent::ConnectionState(
                    s @ (PeerConnectionState::Failed | PeerConnectionState::Closed),
                )) => bail!("oxirtc: connection {s:?} before media"),
                Some(PeerConnectionEvent::Track(t)) if t.kind() == TrackKind::Video => track = Some(t),
                Some(_) => {}
                None => bail!("oxirtc: connection ended before media"),
            }
        }
        Ok::<_, anyhow::Error>((pc, track))
    };
    let ((a, _), (b, remote)) = tokio::try_join!(connected(a, false), connected(b, wait_for_remote))?;
    Ok(MediaPair {
        a,
        b,
        video,
        _audio: audio,
        remote,
    })
}

/// `count` video RTP packets of `size` payload bytes from `a` to `b` through `LocalTrack::write_rtp`
/// and `RemoteTrack::recv`. Writes never wait (oxirtc queues them to the connection's task); the
/// sender yields to the runtime after every `MEDIA_WRITE_BURST` packets, as an application task
/// producing media would between frames, and keeps to the bench's `window`. Delivered packets per
/// second at the receiver.
pub async fn media(
    pattern: &Pattern,
    count: u64,
    size: usize,
    window: Arc<MediaWindow>,
) -> anyhow::Result<Outcome> {
    let pair = connect_media(true).await?;
    let MediaPair {
        a,
        b,
        video,
        _audio,
        remote,
    } = pair;
    let mut remote = remote.context("oxirtc: no remote video track")?;
    let pt = video
        .codec()
        .await?
        .context("oxirtc: video not negotiated to send")?
        .payload_type;
    let t = Transfer {
        count,
        size,
        reliable: false,
    };
    let mut verifier = Verifier::new(pattern.clone(), t);
    let sender_pattern = pattern.clone();
    let sender_window = window.clone();
    let cpu0 = cpu_time();
    let start = Instant::now();
    let sender = tokio::spawn(async move {
        let mut buf = Vec::with_capacity(size);
        for i in 0..count {
            if !sender_window.wait_to_send(i).await {
                break;
            }
            sender_pattern.message_into(i, size, &mut buf);
            video.write_rtp(&OutgoingRtp {
                payload_type: pt,
                sequence_number: i as u16,
                timestamp: (i / 8) as u32 * 3000,
                marker: i % 8 == 7,
                payload: &buf,
            })?;
            if i % MEDIA_WRITE_BURST == MEDIA_WRITE_BURST - 1 {
                tokio::task::yield_now().await;
            }
        }
        Ok::<_, anyhow::Error>(video)
    });
    let mut last = start;
    // Until every packet arrived, the track ended, or nothing came for a second.
    while let Ok(Some(rtp)) = tokio::time::timeout(Duration::from_millis(1000), remote.recv()).await {
        last = Instant::now();
        let done = verifier.on_message(&rtp.payload);
        window.on_received(verifier.received);
        if done {
            break;
        }
    }
    let cpu = cpu_time().saturating_sub(cpu0);
    let video = sender.await.context("oxirtc sender task")??;
    if video.dropped() > 0 || remote.dropped() > 0 {
        eprintln!(
            "  (oxirtc: {} writes dropped by the sender, {} packets by the receiving track's queue)",
            video.dropped(),
            remote.dropped()
        );
    }
    judge(&verifier, None, "oxirtc")?;
    a.close().await;
    b.close().await;
    Ok(Outcome {
        elapsed: last - start,
        received: verifier.received,
        bytes: verifier.bytes,
        cpu,
    })
}

/// Packets the media sender writes between two yields to the runtime.
pub const MEDIA_WRITE_BURST: u64 = 64;

/// `pairs` connected pairs with one audio and one video transceiver each (no data channel), set up
/// `batch` at a time and kept alive together, idle.
pub async fn idle_media_pairs(
    pairs: usize,
    batch: usize,
) -> anyhow::Result<Vec<Box<dyn std::any::Any + Send>>> {
    let mut out: Vec<Box<dyn std::any::Any + Send>> = Vec::with_capacity(pairs);
    while out.len() < pairs {
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..batch.clamp(1, pairs - out.len()) {
            set.spawn(connect_media(false));
        }
        while let Some(joined) = set.join_next().await {
            let pair = joined.context("oxirtc connect task")??;
            out.push(Box::new(pair));
        }
    }
    Ok(out)
}
