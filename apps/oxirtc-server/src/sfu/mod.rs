//! A selective forwarding unit: publishers send audio/video into a room, subscribers receive every
//! track of the room, forwarded without decoding (each subscriber's connection gives the stream its
//! own SSRC, sequence numbers and timestamps; payload types are mapped to the codec the subscriber
//! negotiated). Keyframe requests of subscribers go up to the publisher. The HTTP side is WHIP and
//! WHEP (RFC 9725 and the WHEP draft): see [`router`].
//!
//! What is not here yet (issue 20): simulcast layer choice per subscriber, temporal-layer dropping,
//! NACK served from a per-publisher cache (each connection answers its own NACKs from what it sent),
//! active-speaker detection, dynacast, renegotiation of a subscriber when a publisher joins later
//! (a WHEP session gets the tracks present when it starts).

mod http;
mod room;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub use http::router;
pub use room::{PublishedTrack, RoomSnapshot};

/// The SFU's limits and the configuration of its peer connections.
#[derive(Clone, Debug)]
pub struct SfuConfig {
    /// How the server's peer connections bind and gather (addresses, STUN/TURN).
    pub peer: oxirtc_tokio::Config,
    /// Publishers per room at most.
    pub max_publishers_per_room: usize,
    /// Subscribers per room at most.
    pub max_subscribers_per_room: usize,
    /// Rooms at most.
    pub max_rooms: usize,
    /// `Authorization: Bearer <token>` every WHIP/WHEP request must carry; `None` lets anyone in.
    pub bearer_token: Option<String>,
    /// `Link` headers advertising ICE servers to clients (RFC 9725 §4.4), already formatted.
    pub ice_server_links: Vec<String>,
}

impl Default for SfuConfig {
    fn default() -> Self {
        SfuConfig {
            peer: oxirtc_tokio::Config::default(),
            max_publishers_per_room: 16,
            max_subscribers_per_room: 64,
            max_rooms: 256,
            bearer_token: None,
            ice_server_links: Vec::new(),
        }
    }
}

/// The SFU: rooms of published tracks and the sessions (publishers and subscribers) that use them.
/// A cheap handle (clone it into each HTTP handler).
#[derive(Clone)]
pub struct Sfu {
    config: Arc<SfuConfig>,
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
pub(crate) struct State {
    rooms: HashMap<String, room::Room>,
    /// Session id → (room, its connection, publisher or not).
    sessions: HashMap<String, Session>,
}

struct Session {
    room: String,
    pc: oxirtc_tokio::PeerConnection,
    publisher: bool,
}

impl std::fmt::Debug for Sfu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sfu")
            .field("rooms", &self.rooms())
            .finish_non_exhaustive()
    }
}

/// Why a WHIP/WHEP request was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SfuError {
    /// The room has as many publishers/subscribers as it may, or the server as many rooms.
    #[error("{0}")]
    Full(String),
    /// A WHEP request for a room nobody publishes in.
    #[error("nobody publishes in room {0} yet: start the WHIP publisher first, then subscribe")]
    NoPublisher(String),
    /// No such session (never made, or deleted).
    #[error("no session {0}: it ended or was never made")]
    UnknownSession(String),
    /// The offer could not be applied or answered.
    #[error("the offer was refused: {0}")]
    Negotiation(String),
}

impl Sfu {
    /// An SFU with no rooms.
    pub fn new(config: SfuConfig) -> Sfu {
        Sfu {
            config: Arc::new(config),
            state: Arc::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &SfuConfig {
        &self.config
    }

    /// What each room holds now.
    pub fn rooms(&self) -> Vec<RoomSnapshot> {
        self.lock()
            .rooms
            .iter()
            .map(|(name, r)| r.snapshot(name))
            .collect()
    }

    /// Ends a session (WHIP/WHEP DELETE): closes its connection; a publisher's tracks leave the
    /// room.
    pub async fn end(&self, id: &str) -> Result<(), SfuError> {
        let session = {
            let mut state = self.lock();
            let session = state
                .sessions
                .remove(id)
                .ok_or_else(|| SfuError::UnknownSession(id.to_owned()))?;
            if let Some(room) = state.rooms.get_mut(&session.room) {
                room.leave(id, session.publisher);
                if room.is_empty() {
                    state.rooms.remove(&session.room);
                }
            }
            session
        };
        session.pc.close().await;
        Ok(())
    }

    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock would be a bug of this module; the state stays usable.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
