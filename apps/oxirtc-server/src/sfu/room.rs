//! Rooms, the tracks published in them, and the tasks that move packets: one per published track
//! (its connection's packets into a broadcast channel, keyframe requests back to its sender) and
//! one per (subscriber, track) (the broadcast into the subscriber's track, payload types mapped).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use oxirtc::media::{same_configuration, CodecParameters, OutgoingRtp, ReceivedRtp, TrackKind};
use oxirtc::{Description, PeerConnectionState, SdpType};
use oxirtc_tokio::{LocalTrack, PeerConnection, PeerConnectionEvent, RemoteTrack};
use tokio::sync::{broadcast, mpsc};

use super::{Session, Sfu, SfuError};

/// Packets a published track holds for a subscriber that falls behind (then it loses the oldest
/// and asks for a keyframe): about a second of 2.5 Mbit/s video.
const FORWARD_QUEUE: usize = 512;

/// Keyframe requests from all subscribers of a track reach its publisher at most this often (a
/// PLI storm would make the encoder send nothing but keyframes).
const KEYFRAME_INTERVAL: Duration = Duration::from_millis(300);

/// How long the answer waits for our candidates (the WHIP/WHEP answer carries them all).
const GATHERING_LIMIT: Duration = Duration::from_secs(3);

/// A track a publisher sends into a room.
pub struct PublishedTrack {
    /// The publisher's session.
    pub session: String,
    /// Audio or video.
    pub kind: TrackKind,
    /// The codecs of the publisher's section, with the publisher connection's payload types.
    pub codecs: Vec<CodecParameters>,
    packets: broadcast::Sender<Arc<ReceivedRtp>>,
    /// Keyframe requests on their way to the publisher; a full queue already holds one, so more
    /// are dropped (`try_send`).
    keyframes: mpsc::Sender<()>,
    /// Packets received from the publisher.
    pub received: AtomicU64,
}

/// What a room holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomSnapshot {
    /// Its name.
    pub name: String,
    /// Publishing sessions.
    pub publishers: usize,
    /// Subscribing sessions.
    pub subscribers: usize,
    /// Tracks published.
    pub tracks: usize,
    /// RTP packets received from the room's publishers.
    pub packets_received: u64,
}

#[derive(Default)]
pub(super) struct Room {
    tracks: Vec<Arc<PublishedTrack>>,
    publishers: Vec<String>,
    subscribers: Vec<String>,
}

impl Room {
    pub(super) fn leave(&mut self, id: &str, publisher: bool) {
        if publisher {
            self.publishers.retain(|p| p != id);
            self.tracks.retain(|t| t.session != id);
        } else {
            self.subscribers.retain(|s| s != id);
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.publishers.is_empty() && self.subscribers.is_empty()
    }

    pub(super) fn snapshot(&self, name: &str) -> RoomSnapshot {
        RoomSnapshot {
            name: name.to_owned(),
            publishers: self.publishers.len(),
            subscribers: self.subscribers.len(),
            tracks: self.tracks.len(),
            packets_received: self
                .tracks
                .iter()
                .map(|t| t.received.load(Ordering::Relaxed))
                .sum(),
        }
    }
}

impl Sfu {
    /// A WHIP publisher: answers its offer (receiving every section), and publishes each track
    /// it sends into `room`. Returns the session id and the answer.
    pub async fn publish(&self, room: &str, offer: String) -> Result<(String, String), SfuError> {
        {
            let state = self.lock();
            let publishers = state.rooms.get(room).map_or(0, |r| r.publishers.len());
            if publishers >= self.config.max_publishers_per_room {
                return Err(SfuError::Full(format!(
                    "room {room} has {publishers} publishers, the most allowed: try later or another room"
                )));
            }
            if !state.rooms.contains_key(room) && state.rooms.len() >= self.config.max_rooms {
                return Err(SfuError::Full(
                    "the server has as many rooms as it may: try later".into(),
                ));
            }
        }
        let pc = self.new_pc().await?;
        let answer = answer(&pc, offer, |_| async { Ok(()) }).await?.0;
        let id = self.register(room, pc.clone(), true);
        tokio::spawn(run_publisher(self.clone(), room.to_owned(), id.clone(), pc));
        Ok((id, answer))
    }

    /// A WHEP subscriber: answers its offer with every track published in `room` (as many as its
    /// offer has sections of each kind) and forwards them. Returns the session id and the answer.
    pub async fn subscribe(&self, room: &str, offer: String) -> Result<(String, String), SfuError> {
        let tracks = {
            let state = self.lock();
            let r = state
                .rooms
                .get(room)
                .filter(|r| !r.tracks.is_empty())
                .ok_or_else(|| SfuError::NoPublisher(room.to_owned()))?;
            if r.subscribers.len() >= self.config.max_subscribers_per_room {
                return Err(SfuError::Full(format!(
                    "room {room} has {} subscribers, the most allowed",
                    r.subscribers.len()
                )));
            }
            r.tracks.clone()
        };
        let pc = self.new_pc().await?;
        let (answer, locals) = answer(&pc, offer, |pc| {
            let tracks = tracks.clone();
            async move {
                let mut locals = Vec::new();
                for t in tracks {
                    // W3C addTrack after the remote offer: takes an offered section of the kind.
                    let local = pc
                        .add_track(t.kind, Some(&t.session))
                        .await
                        .map_err(|e| SfuError::Negotiation(e.to_string()))?;
                    locals.push((t, local));
                }
                Ok(locals)
            }
        })
        .await?;
        let id = self.register(room, pc.clone(), false);
        let mut forwarding = Vec::new();
        for (track, local) in locals {
            // A section the offer did not have is not negotiated: nothing to forward on it.
            let codecs = pc.send_codecs(local.transceiver()).await.unwrap_or_default();
            if codecs.is_empty() {
                continue;
            }
            let map = payload_type_map(&track.codecs, &codecs);
            let _ = track.keyframes.try_send(());
            forwarding.push(track.clone());
            tokio::spawn(forward(track, local, map));
        }
        tokio::spawn(run_subscriber(self.clone(), id.clone(), pc, forwarding));
        Ok((id, answer))
    }

    async fn new_pc(&self) -> Result<PeerConnection, SfuError> {
        PeerConnection::new(self.config.peer.clone())
            .await
            .map_err(|e| SfuError::Negotiation(format!("no peer connection: {e}")))
    }

    fn register(&self, room: &str, pc: PeerConnection, publisher: bool) -> String {
        let id = session_id();
        let mut state = self.lock();
        let r = state.rooms.entry(room.to_owned()).or_default();
        if publisher {
            r.publishers.push(id.clone());
        } else {
            r.subscribers.push(id.clone());
        }
        state.sessions.insert(
            id.clone(),
            Session {
                room: room.to_owned(),
                pc,
                publisher,
            },
        );
        id
    }
}

/// Applies `offer`, lets `prepare` add tracks, answers and waits for our candidates.
async fn answer<T, F, Fut>(pc: &PeerConnection, offer: String, prepare: F) -> Result<(String, T), SfuError>
where
    F: FnOnce(PeerConnection) -> Fut,
    Fut: std::future::Future<Output = Result<T, SfuError>>,
{
    let negotiation = |e: oxirtc_tokio::Error| SfuError::Negotiation(e.to_string());
    pc.set_remote_description(Description {
        sdp_type: SdpType::Offer,
        sdp: offer,
    })
    .await
    .map_err(negotiation)?;
    let prepared = prepare(pc.clone()).await?;
    let answer = pc.create_answer().await.map_err(negotiation)?;
    pc.set_local_description(answer.clone())
        .await
        .map_err(negotiation)?;
    pc.gathering_complete(GATHERING_LIMIT).await;
    let sdp = match pc.local_description().await {
        Ok(Some(d)) => d.sdp,
        _ => answer.sdp,
    };
    Ok((sdp, prepared))
}

/// A publisher's connection: each of its tracks goes into the room until the connection ends.
async fn run_publisher(sfu: Sfu, room: String, id: String, pc: PeerConnection) {
    while let Some(event) = pc.next_event().await {
        match event {
            PeerConnectionEvent::Track(remote) => {
                let codecs = pc.receive_codecs(remote.mid()).await.unwrap_or_default();
                let (packets, _) = broadcast::channel(FORWARD_QUEUE);
                let (keyframes, keyframe_rx) = mpsc::channel(4);
                let track = Arc::new(PublishedTrack {
                    session: id.clone(),
                    kind: remote.kind(),
                    codecs,
                    packets,
                    keyframes,
                    received: AtomicU64::new(0),
                });
                {
                    let mut state = sfu.lock();
                    if let Some(r) = state.rooms.get_mut(&room) {
                        r.tracks.push(track.clone());
                    }
                }
                tracing::info!(room = %room, session = %id, kind = ?track.kind, "sfu: track published");
                tokio::spawn(pump(remote, track, keyframe_rx));
            }
            PeerConnectionEvent::ConnectionState(
                PeerConnectionState::Failed | PeerConnectionState::Closed,
            ) => break,
            _ => {}
        }
    }
    let _ = sfu.end(&id).await;
}

/// One published track: its packets to every subscriber; subscribers' keyframe requests to it.
async fn pump(mut remote: RemoteTrack, track: Arc<PublishedTrack>, mut keyframes: mpsc::Receiver<()>) {
    let mut last_request: Option<Instant> = None;
    loop {
        tokio::select! {
            rtp = remote.recv() => {
                let Some(rtp) = rtp else { break };
                track.received.fetch_add(1, Ordering::Relaxed);
                // No subscriber is not an error: the packet just has nobody to go to.
                let _ = track.packets.send(Arc::new(rtp));
            }
            Some(()) = keyframes.recv() => {
                let due = last_request.is_none_or(|t| t.elapsed() >= KEYFRAME_INTERVAL);
                if due && track.kind == TrackKind::Video {
                    last_request = Some(Instant::now());
                    let _ = remote.request_keyframe().await;
                }
            }
        }
    }
}

/// One track to one subscriber.
async fn forward(track: Arc<PublishedTrack>, local: LocalTrack, map: Vec<(u8, u8)>) {
    let mut packets = track.packets.subscribe();
    // Of a simulcast publisher's streams, one goes to the subscriber: the first seen. (Choosing the
    // layer per subscriber from its bandwidth and size, and switching, is issue 20's next step:
    // a switch needs sequence-number continuity across the two streams.)
    let mut layer: Option<String> = None;
    loop {
        tokio::select! {
            rtp = packets.recv() => match rtp {
                Ok(rtp) => {
                    if let Some(rid) = &rtp.rid {
                        if layer.get_or_insert_with(|| rid.clone()) != rid {
                            continue;
                        }
                    }
                    // A payload type the subscriber has no codec for (RTX, FEC, a codec it did not
                    // accept) is not forwarded.
                    let Some(&(_, pt)) = map.iter().find(|(from, _)| *from == rtp.payload_type) else { continue };
                    let out = OutgoingRtp {
                        payload_type: pt,
                        sequence_number: rtp.sequence_number,
                        timestamp: rtp.timestamp,
                        marker: rtp.marker,
                        payload: &rtp.payload,
                    };
                    if local.write_rtp(&out).is_err() {
                        break;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    // Lost packets: the decoder needs a fresh start.
                    let _ = track.keyframes.try_send(());
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
            () = local.keyframe_requested() => {
                let _ = track.keyframes.try_send(());
            }
        }
    }
}

/// A subscriber's connection: asks its tracks' publishers for keyframes once it is connected, and
/// leaves the room when it ends.
async fn run_subscriber(sfu: Sfu, id: String, pc: PeerConnection, tracks: Vec<Arc<PublishedTrack>>) {
    while let Some(event) = pc.next_event().await {
        match event {
            PeerConnectionEvent::ConnectionState(PeerConnectionState::Connected) => {
                for t in &tracks {
                    let _ = t.keyframes.try_send(());
                }
            }
            PeerConnectionEvent::ConnectionState(
                PeerConnectionState::Failed | PeerConnectionState::Closed,
            ) => break,
            _ => {}
        }
    }
    let _ = sfu.end(&id).await;
}

/// Publisher payload type → subscriber payload type, for each codec both negotiated.
fn payload_type_map(from: &[CodecParameters], to: &[CodecParameters]) -> Vec<(u8, u8)> {
    from.iter()
        .filter_map(|f| {
            let t = to.iter().find(|t| same_configuration(f, t))?;
            Some((f.payload_type, t.payload_type))
        })
        .collect()
}

/// A random session id (hex, 16 bytes of OS randomness).
fn session_id() -> String {
    let mut bytes = [0u8; 16];
    match oxirtc_crypto::SecureRng::from_os(oxirtc_crypto::default_provider()) {
        Ok(mut rng) => rng.fill(&mut bytes),
        Err(_) => {
            // No OS randomness: a counter keeps ids unique (they are not secrets; auth is the token).
            static NEXT: AtomicU64 = AtomicU64::new(1);
            bytes[..8].copy_from_slice(&NEXT.fetch_add(1, Ordering::Relaxed).to_be_bytes());
        }
    }
    crate::transfer_hex(&bytes)
}
