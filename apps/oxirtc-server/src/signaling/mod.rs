//! WebSocket signaling (docs/signaling.md): peers meet in rooms named by short human codes, the server
//! relays offers, answers, candidates and app messages between members and tells members who joined
//! and left. Rooms live behind [`RoomRegistry`]; this process keeps the sockets.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use oxirtc_server::signaling::{router, SignalingConfig, SignalingState};
//! let state = SignalingState::new(SignalingConfig::default())?;
//! let app = router(state); // GET /ws upgrades to the signaling protocol
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```

mod codes;
mod conn;
mod protocol;
mod registry;
mod turn_rest;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use oxirtc_crypto::{default_provider, SecureRng};
use tokio::sync::mpsc;

pub use codes::{friendly_name, normalize_code, room_code};
pub use conn::{network_of, LocalClient, LOCAL_ROOM};
pub use protocol::{ClientMsg, ErrorCode, IceServer, PeerInfo, ServerMsg, PROTOCOL_VERSION};
pub use registry::{MemoryRegistry, RoomError, RoomRegistry};
pub use turn_rest::TurnRest;

/// Limits and ICE servers of the signaling service.
#[derive(Clone, Debug)]
pub struct SignalingConfig {
    /// Largest accepted frame in bytes; a larger one gets `too-large` and the socket is closed.
    pub max_message_bytes: usize,
    /// Members per room; one more gets `room-full`.
    pub max_peers_per_room: usize,
    /// Rooms in the in-memory registry.
    pub max_rooms: usize,
    /// Frames queued towards one client before relays to it fail with `rate-limited`.
    pub send_queue: usize,
    /// Sustained frames per second one client may send (token bucket refill rate).
    pub rate_per_second: u32,
    /// Frames one client may send in a burst above the sustained rate (token bucket size).
    pub rate_burst: u32,
    /// Frames over the rate limit (each dropped with `rate-limited`) before the client is disconnected.
    pub rate_strikes: u32,
    /// How long writing one frame to a client may take; a client that stops reading is disconnected
    /// after this (its socket's write buffer is bounded too, see [`router`]).
    pub write_timeout: Duration,
    /// `stun:` URLs handed to every client.
    pub stun_urls: Vec<String>,
    /// TURN REST credentials handed to every client, if a TURN secret is configured.
    pub turn: Option<TurnRest>,
}

impl Default for SignalingConfig {
    fn default() -> Self {
        SignalingConfig {
            max_message_bytes: 64 * 1024,
            max_peers_per_room: 16,
            max_rooms: 10_000,
            send_queue: 256,
            rate_per_second: 50,
            rate_burst: 200,
            rate_strikes: 20,
            write_timeout: Duration::from_secs(10),
            stun_urls: Vec::new(),
            turn: None,
        }
    }
}

/// Shared state of the signaling service: the registry and the local clients' send queues.
#[derive(Clone)]
pub struct SignalingState {
    inner: Arc<Inner>,
}

struct Inner {
    config: SignalingConfig,
    registry: Arc<dyn RoomRegistry>,
    clients: Mutex<HashMap<String, mpsc::Sender<ServerMsg>>>,
    rng: Mutex<SecureRng>,
    next_id: AtomicU64,
}

impl std::fmt::Debug for SignalingState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignalingState")
            .field("config", &self.inner.config)
            .field("rooms", &self.inner.registry.room_count())
            .finish_non_exhaustive()
    }
}

impl SignalingState {
    /// State with an in-memory registry and OS randomness for codes and names.
    pub fn new(config: SignalingConfig) -> anyhow::Result<Self> {
        let rng = SecureRng::from_os(default_provider()).context("no OS randomness")?;
        let registry = Arc::new(MemoryRegistry::new(config.max_rooms));
        Ok(Self::with_registry(config, registry, rng))
    }

    /// State over any registry, with an injected RNG.
    pub fn with_registry(config: SignalingConfig, registry: Arc<dyn RoomRegistry>, rng: SecureRng) -> Self {
        SignalingState {
            inner: Arc::new(Inner {
                config,
                registry,
                clients: Mutex::new(HashMap::new()),
                rng: Mutex::new(rng),
                next_id: AtomicU64::new(1),
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &SignalingConfig {
        &self.inner.config
    }

    /// The room registry.
    pub fn registry(&self) -> &dyn RoomRegistry {
        self.inner.registry.as_ref()
    }

    /// Connected clients on this node.
    pub fn client_count(&self) -> usize {
        self.clients().len()
    }

    fn clients(&self) -> std::sync::MutexGuard<'_, HashMap<String, mpsc::Sender<ServerMsg>>> {
        // Every update is one insert or remove: a poisoned map is still consistent.
        self.inner.clients.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn with_rng<T>(&self, f: impl FnOnce(&mut SecureRng) -> T) -> T {
        // The RNG has no invariant a panic could break.
        let mut rng = self.inner.rng.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut rng)
    }

    fn new_peer_id(&self) -> String {
        format!("p{}", self.inner.next_id.fetch_add(1, Ordering::Relaxed))
    }

    /// Queues `msg` for local client `id`; false if it is gone or its queue is full.
    fn deliver(&self, id: &str, msg: ServerMsg) -> bool {
        let tx = self.clients().get(id).cloned();
        tx.is_some_and(|tx| tx.try_send(msg).is_ok())
    }
}

/// Bytes the WebSocket layer gathers before writing to the socket.
const WRITE_BUFFER: usize = 128 * 1024;

/// The signaling routes: `GET /ws` (WebSocket upgrade). Frames above 4× `max_message_bytes` are refused
/// by the WebSocket layer (the socket closes); frames between the limit and that get `too-large`.
pub fn router(state: SignalingState) -> Router {
    Router::new().route("/ws", get(upgrade)).with_state(state)
}

/// Upgrades `GET /ws`. The client's address (for the `local` room) comes from axum's `ConnectInfo`
/// when the server was started with `into_make_service_with_connect_info::<SocketAddr>()` (as
/// `oxirtc serve` is); without it the `local` room is refused with a clear error.
async fn upgrade(
    State(state): State<SignalingState>,
    ext: axum::http::Extensions,
    ws: WebSocketUpgrade,
) -> Response {
    let addr = ext
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    // The socket layer refuses frames far above the limit; frames just above it get a clear error.
    let hard = state.config().max_message_bytes.saturating_mul(4).max(1024);
    // Writes to a slow reader may buffer this much before the write itself fails (plus the bounded
    // send queue); a reader that stops entirely is dropped after `write_timeout`.
    ws.max_message_size(hard)
        .max_frame_size(hard)
        .max_write_buffer_size(hard.saturating_mul(2).max(WRITE_BUFFER + 1))
        .write_buffer_size(WRITE_BUFFER)
        .on_upgrade(move |socket| conn::run(state, socket, addr))
}
