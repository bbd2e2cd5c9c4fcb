//! One WebSocket client: parses its frames, applies the limits, joins it to a room and relays its
//! signals; on disconnect it leaves the room and the other members hear `peer-left`.

use std::net::IpAddr;
use std::time::{Duration, Instant, SystemTime};

use axum::extract::ws::{Message, WebSocket};
use tokio::sync::mpsc;

use super::codes::{friendly_name, normalize_code, room_code};
use super::protocol::{ClientMsg, ErrorCode, IceServer, PeerInfo, ServerMsg, PROTOCOL_VERSION};
use super::registry::RoomError;
use super::SignalingState;

/// Attempts at a fresh room code before giving up (a collision is rare).
const CODE_ATTEMPTS: usize = 16;

/// The room name a client joins to meet the others of its network (issue 17 §1, as Snapdrop does).
pub const LOCAL_ROOM: &str = "local";

#[derive(Debug)]
struct Conn {
    state: SignalingState,
    id: String,
    /// The registry key of our room (for the local room `local~NETWORK`, which no code can name).
    room: Option<String>,
    /// The client's network ([`network_of`] its address), if the transport told us its address.
    network: Option<String>,
    tx: mpsc::Sender<ServerMsg>,
    bucket: RateLimit,
}

/// A token bucket over the frames one client sends: `rate_per_second` sustained, `rate_burst` at once.
/// Frames over it are dropped with `rate-limited`; after `rate_strikes` of them the client is
/// disconnected (a flooder cannot slow the server or the other members down).
#[derive(Debug)]
struct RateLimit {
    tokens: f64,
    last: Instant,
    strikes: u32,
}

/// What to do with a frame, as far as the rate limit goes.
#[derive(Debug, PartialEq, Eq)]
enum Admit {
    /// Within the limit.
    Yes,
    /// Over the limit: drop it with an error.
    Drop,
    /// Over the limit too often: disconnect.
    Close,
}

impl RateLimit {
    fn new(burst: u32, now: Instant) -> Self {
        RateLimit {
            tokens: f64::from(burst),
            last: now,
            strikes: 0,
        }
    }

    fn admit(&mut self, rate: u32, burst: u32, max_strikes: u32, now: Instant) -> Admit {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * f64::from(rate)).min(f64::from(burst));
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Admit::Yes;
        }
        self.strikes += 1;
        if self.strikes >= max_strikes {
            Admit::Close
        } else {
            Admit::Drop
        }
    }
}

/// One client of the signaling service without a socket: frames in with [`LocalClient::handle_text`],
/// what the server sends it out with [`LocalClient::poll_frame`]. It is a member like any WebSocket
/// client (same limits, same room state); dropping it leaves its room. Used by tests and the
/// `signaling` fuzz target; no runtime is needed.
#[derive(Debug)]
pub struct LocalClient {
    conn: Conn,
    rx: mpsc::Receiver<ServerMsg>,
    open: bool,
}

impl LocalClient {
    /// Registers a new client (it is sent `hello`, as on a socket).
    pub fn connect(state: &SignalingState) -> Self {
        let (conn, rx) = Conn::register(state.clone(), None);
        LocalClient { conn, rx, open: true }
    }

    /// As [`LocalClient::connect`], for a client connecting from `addr` (it can join the `local` room
    /// of its network).
    pub fn connect_from(state: &SignalingState, addr: IpAddr) -> Self {
        let (conn, rx) = Conn::register(state.clone(), Some(addr));
        LocalClient { conn, rx, open: true }
    }

    /// The server-assigned peer id.
    pub fn id(&self) -> &str {
        &self.conn.id
    }

    /// Handles one text frame as the socket loop does; false once the server closed the connection
    /// (later frames are ignored).
    pub fn handle_text(&mut self, text: &str) -> bool {
        if self.open {
            self.open = self.conn.on_frame(Message::Text(text.into()));
        }
        self.open
    }

    /// The next frame the server queued for this client.
    pub fn poll_frame(&mut self) -> Option<ServerMsg> {
        self.rx.try_recv().ok()
    }
}

impl Drop for LocalClient {
    fn drop(&mut self) {
        self.conn.unregister();
    }
}

/// Serves one client until it closes, errs or sends an oversized frame.
pub(super) async fn run(state: SignalingState, mut socket: WebSocket, addr: Option<IpAddr>) {
    let write_timeout = state.config().write_timeout;
    let (mut conn, mut rx) = Conn::register(state, addr);
    loop {
        tokio::select! {
            incoming = socket.recv() => {
                let open = match incoming {
                    Some(Ok(frame @ (Message::Text(_) | Message::Binary(_)))) => conn.on_frame(frame),
                    Some(Ok(Message::Close(_))) | None => false,
                    Some(Ok(_)) => true,
                    Some(Err(e)) => {
                        tracing::debug!(peer = %conn.id, error = %e, "signaling: socket error");
                        false
                    }
                };
                if !open {
                    flush(&mut socket, &mut rx, write_timeout).await;
                    break;
                }
            }
            out = rx.recv() => match out {
                Some(msg) => {
                    if !write(&mut socket, msg, write_timeout, &conn.id).await {
                        break;
                    }
                }
                None => break,
            },
        }
    }
    conn.unregister();
}

/// Writes one frame; false (drop the client) if it fails or the client does not take it within
/// `timeout` (it stopped reading: the socket's buffers are full).
async fn write(socket: &mut WebSocket, msg: ServerMsg, timeout: Duration, id: &str) -> bool {
    match tokio::time::timeout(timeout, socket.send(Message::Text(msg.to_json().into()))).await {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            tracing::debug!(peer = %id, error = %e, "signaling: write failed");
            false
        }
        Err(_) => {
            tracing::info!(peer = %id, ?timeout, "signaling: client stopped reading; disconnected");
            metrics::counter!("oxirtc_signaling_slow_clients_total").increment(1);
            false
        }
    }
}

/// Sends what is queued (the final error) before closing, each write bounded by `timeout`.
async fn flush(socket: &mut WebSocket, rx: &mut mpsc::Receiver<ServerMsg>, timeout: Duration) {
    while let Ok(msg) = rx.try_recv() {
        if !write(socket, msg, timeout, "closing").await {
            return;
        }
    }
    let _ = tokio::time::timeout(timeout, socket.send(Message::Close(None))).await;
}

impl Conn {
    /// A new client: an id, a send queue in the client map, and `hello` queued.
    fn register(state: SignalingState, addr: Option<IpAddr>) -> (Self, mpsc::Receiver<ServerMsg>) {
        let (tx, rx) = mpsc::channel(state.config().send_queue.max(1));
        let id = state.new_peer_id();
        state.clients().insert(id.clone(), tx.clone());
        metrics::gauge!("oxirtc_signaling_clients").increment(1.0);
        let bucket = RateLimit::new(state.config().rate_burst, Instant::now());
        let conn = Conn {
            state,
            id,
            room: None,
            network: addr.map(network_of),
            tx,
            bucket,
        };
        conn.reply(ServerMsg::Hello {
            v: PROTOCOL_VERSION,
            server: format!("oxirtc {}", env!("CARGO_PKG_VERSION")),
        });
        (conn, rx)
    }

    /// The client is gone: it leaves its room and the client map.
    fn unregister(&mut self) {
        self.leave();
        self.state.clients().remove(&self.id);
        metrics::gauge!("oxirtc_signaling_clients").decrement(1.0);
    }

    /// Handles one data frame after the rate limit; false means close the connection.
    fn on_frame(&mut self, frame: Message) -> bool {
        let config = self.state.config();
        let (rate, burst, strikes) = (config.rate_per_second, config.rate_burst, config.rate_strikes);
        match self.bucket.admit(rate, burst, strikes, Instant::now()) {
            Admit::Yes => {}
            Admit::Drop => {
                metrics::counter!("oxirtc_signaling_rate_limited_total").increment(1);
                self.reply(ServerMsg::error(
                    ErrorCode::RateLimited,
                    format!("more than {rate} messages per second (burst {burst}); this one was dropped"),
                ));
                return true;
            }
            Admit::Close => {
                metrics::counter!("oxirtc_signaling_rate_limited_total").increment(1);
                self.reply(ServerMsg::error(
                    ErrorCode::RateLimited,
                    format!(
                        "disconnected: kept sending more than {rate} messages per second ({strikes} dropped)"
                    ),
                ));
                return false;
            }
        }
        match frame {
            Message::Text(text) => self.on_text(text.as_str()),
            _ => {
                self.reply(ServerMsg::error(
                    ErrorCode::BadMessage,
                    "binary frames are not part of the protocol; send JSON text",
                ));
                true
            }
        }
    }

    fn reply(&self, msg: ServerMsg) {
        if let ServerMsg::Error { code, message } = &msg {
            tracing::info!(peer = %self.id, ?code, %message, "signaling: request refused");
            metrics::counter!("oxirtc_signaling_errors_total").increment(1);
        }
        // Our own queue is only full if the client does not read; then it misses replies.
        let _ = self.tx.try_send(msg);
    }

    /// Handles one text frame; false means close the connection.
    fn on_text(&mut self, text: &str) -> bool {
        metrics::counter!("oxirtc_signaling_messages_total").increment(1);
        let limit = self.state.config().max_message_bytes;
        if text.len() > limit {
            self.reply(ServerMsg::error(
                ErrorCode::TooLarge,
                format!("frame of {} bytes exceeds the {limit}-byte limit", text.len()),
            ));
            return false;
        }
        let msg: ClientMsg = match serde_json::from_str(text) {
            Ok(m) => m,
            Err(e) => {
                self.reply(ServerMsg::error(
                    ErrorCode::BadMessage,
                    format!("not a valid message: {e}"),
                ));
                return true;
            }
        };
        if msg.version() != PROTOCOL_VERSION {
            self.reply(ServerMsg::error(
                ErrorCode::UnsupportedVersion,
                format!(
                    "protocol version {} is not supported; this server speaks v{PROTOCOL_VERSION}",
                    msg.version()
                ),
            ));
            return true;
        }
        self.dispatch(msg);
        true
    }

    fn dispatch(&mut self, msg: ClientMsg) {
        match msg {
            ClientMsg::Create { name, kind, .. } => self.create(name, kind),
            ClientMsg::Join {
                room,
                name,
                kind,
                create,
                ..
            } => self.join(&room, name, kind, create),
            ClientMsg::Signal { to, data, .. } => self.signal(&to, data),
            ClientMsg::Leave { .. } => {
                if self.room.is_none() {
                    self.reply(ServerMsg::error(ErrorCode::NotInRoom, "not in a room"));
                }
                self.leave();
            }
            ClientMsg::Ping { .. } => self.reply(ServerMsg::Pong),
        }
    }

    fn me(&self, name: Option<String>, kind: Option<String>) -> PeerInfo {
        let name = name
            .map(|n| n.chars().filter(|c| !c.is_control()).take(40).collect::<String>())
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| self.state.with_rng(friendly_name));
        let kind = kind.unwrap_or_default().chars().take(16).collect();
        PeerInfo {
            id: self.id.clone(),
            name,
            kind,
        }
    }

    fn in_room_already(&self) -> bool {
        if let Some(room) = &self.room {
            self.reply(ServerMsg::error(
                ErrorCode::AlreadyInRoom,
                format!("already in room {room}; send leave first"),
            ));
            return true;
        }
        false
    }

    fn create(&mut self, name: Option<String>, kind: Option<String>) {
        if self.in_room_already() {
            return;
        }
        let me = self.me(name, kind);
        for _ in 0..CODE_ATTEMPTS {
            let code = self.state.with_rng(room_code);
            match self.state.registry().create(&code, me.clone()) {
                Ok(()) => return self.entered(code, me, Vec::new()),
                Err(RoomError::Exists(_)) => continue,
                Err(e) => return self.reply(ServerMsg::error(e.code(), e.to_string())),
            }
        }
        self.reply(ServerMsg::error(
            ErrorCode::ServerBusy,
            "could not find a free room code",
        ));
    }

    fn join(&mut self, room: &str, name: Option<String>, kind: Option<String>, create: bool) {
        if self.in_room_already() {
            return;
        }
        let Some(code) = normalize_code(room) else {
            return self.reply(ServerMsg::error(
                ErrorCode::UnknownRoom,
                "a room code looks like 7-orbit-lantern",
            ));
        };
        if code == LOCAL_ROOM {
            return self.join_local(name, kind);
        }
        let me = self.me(name, kind);
        let max = self.state.config().max_peers_per_room;
        let mut result = self.state.registry().join(&code, me.clone(), max);
        if create && matches!(result, Err(RoomError::UnknownRoom(_))) {
            result = match self.state.registry().create(&code, me.clone()) {
                Ok(()) => Ok(Vec::new()),
                Err(RoomError::Exists(_)) => self.state.registry().join(&code, me.clone(), max),
                Err(e) => Err(e),
            };
        }
        match result {
            Ok(peers) => self.entered(code, me, peers),
            Err(e) => self.reply(ServerMsg::error(e.code(), e.to_string())),
        }
    }

    /// Joins the room of everyone connecting from our network (made if empty). Its registry key,
    /// `local~NETWORK`, is no code (codes have no `~`): nobody elsewhere can join it by name.
    fn join_local(&mut self, name: Option<String>, kind: Option<String>) {
        let Some(network) = self.network.clone() else {
            return self.reply(ServerMsg::error(
                ErrorCode::UnknownRoom,
                "this server cannot see your address, so it cannot find the devices of your network; \
                 use a room code",
            ));
        };
        let key = format!("{LOCAL_ROOM}~{network}");
        let me = self.me(name, kind);
        let max = self.state.config().max_peers_per_room;
        let registry = self.state.registry();
        let result = match registry.join(&key, me.clone(), max) {
            Err(RoomError::UnknownRoom(_)) => match registry.create(&key, me.clone()) {
                Ok(()) => Ok(Vec::new()),
                Err(RoomError::Exists(_)) => registry.join(&key, me.clone(), max),
                Err(e) => Err(e),
            },
            other => other,
        };
        match result {
            Ok(peers) => self.entered_as(key, LOCAL_ROOM.to_owned(), me, peers),
            Err(RoomError::RoomFull { max, .. }) => self.reply(ServerMsg::error(
                ErrorCode::RoomFull,
                format!("{max} devices of your network are here already; use a room code"),
            )),
            Err(e) => self.reply(ServerMsg::error(e.code(), e.to_string())),
        }
    }

    fn entered(&mut self, code: String, me: PeerInfo, peers: Vec<PeerInfo>) {
        self.entered_as(code.clone(), code, me, peers);
    }

    /// We are in the room with registry key `key`, shown to the client as `shown`.
    fn entered_as(&mut self, key: String, shown: String, me: PeerInfo, peers: Vec<PeerInfo>) {
        tracing::info!(peer = %self.id, room = %shown, members = peers.len() + 1, "signaling: joined");
        for p in &peers {
            self.state
                .deliver(&p.id, ServerMsg::PeerJoined { peer: me.clone() });
        }
        self.reply(ServerMsg::Joined {
            room: shown,
            you: me,
            peers,
            ice_servers: self.ice_servers(),
        });
        self.room = Some(key);
    }

    fn ice_servers(&self) -> Vec<IceServer> {
        let config = self.state.config();
        let mut out = Vec::new();
        if !config.stun_urls.is_empty() {
            out.push(IceServer {
                urls: config.stun_urls.clone(),
                username: None,
                credential: None,
            });
        }
        if let Some(turn) = &config.turn {
            out.push(turn.ice_server(&self.id, SystemTime::now()));
        }
        out
    }

    fn signal(&self, to: &str, data: serde_json::Value) {
        let Some(room) = &self.room else {
            return self.reply(ServerMsg::error(
                ErrorCode::NotInRoom,
                "join a room before signaling",
            ));
        };
        let member = self
            .state
            .registry()
            .members(room)
            .is_some_and(|m| m.iter().any(|p| p.id == to));
        if !member || to == self.id {
            return self.reply(ServerMsg::error(
                ErrorCode::UnknownPeer,
                format!("no peer {to} in room {room} (it may have left)"),
            ));
        }
        let msg = ServerMsg::Signal {
            from: self.id.clone(),
            data,
        };
        if !self.state.deliver(to, msg) {
            self.reply(ServerMsg::error(
                ErrorCode::RateLimited,
                format!("peer {to} is not reading its messages; this one was dropped"),
            ));
        }
    }

    fn leave(&mut self) {
        let Some(room) = self.room.take() else { return };
        let left = self.state.registry().leave(&room, &self.id);
        tracing::info!(peer = %self.id, %room, remaining = left.len(), "signaling: left");
        for p in &left {
            self.state
                .deliver(&p.id, ServerMsg::PeerLeft { id: self.id.clone() });
        }
    }
}

/// The network a client address belongs to, for the `local` room: the devices behind one public IPv4
/// address (one NAT), or one IPv6 /64 (one LAN's prefix); every private, loopback, link-local,
/// shared (CGNAT, 100.64/10) or unique-local address counts as one `lan` (a server on the LAN sees
/// each device by its own private address).
pub fn network_of(ip: IpAddr) -> String {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            let shared = a == 100 && (64..128).contains(&b);
            if v4.is_private() || v4.is_loopback() || v4.is_link_local() || v4.is_unspecified() || shared {
                "lan".to_owned()
            } else {
                v4.to_string()
            }
        }
        IpAddr::V6(v6) => {
            let seg = v6.segments();
            let unique_local = seg[0] & 0xfe00 == 0xfc00;
            let link_local = seg[0] & 0xffc0 == 0xfe80;
            if v6.is_loopback() || v6.is_unspecified() || unique_local || link_local {
                "lan".to_owned()
            } else {
                format!("{:x}:{:x}:{:x}:{:x}::/64", seg[0], seg[1], seg[2], seg[3])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signaling::{MemoryRegistry, SignalingConfig};
    use oxirtc_crypto::SecureRng;
    use std::sync::Arc;

    fn frames(c: &mut LocalClient) -> Vec<ServerMsg> {
        std::iter::from_fn(|| c.poll_frame()).collect()
    }

    #[test]
    fn local_clients_meet_relay_and_leave_without_a_runtime() {
        let state = SignalingState::with_registry(
            SignalingConfig::default(),
            Arc::new(MemoryRegistry::new(10)),
            SecureRng::from_seed([1; 32]),
        );
        let mut a = LocalClient::connect(&state);
        let mut b = LocalClient::connect(&state);
        assert!(matches!(frames(&mut a)[..], [ServerMsg::Hello { v: 1, .. }]));
        assert!(a.handle_text(r#"{"v":1,"type":"create","name":"A"}"#));
        let [ServerMsg::Joined { room, .. }] = &frames(&mut a)[..] else {
            panic!("no joined")
        };
        assert!(b.handle_text(&format!(r#"{{"v":1,"type":"join","room":"{room}"}}"#)));
        let to_a = format!(r#"{{"v":1,"type":"signal","to":"{}","data":{{"x":1}}}}"#, a.id());
        assert!(b.handle_text(&to_a));
        let got = frames(&mut a);
        assert!(
            matches!(&got[0], ServerMsg::PeerJoined { peer } if peer.id == b.id()),
            "{got:?}"
        );
        assert!(matches!(&got[1], ServerMsg::Signal { from, data } if from == b.id() && data["x"] == 1));
        let b_id = b.id().to_owned();
        drop(b);
        assert_eq!(frames(&mut a), vec![ServerMsg::PeerLeft { id: b_id }]);
        assert_eq!(state.client_count(), 1);
        drop(a);
        assert_eq!(state.registry().room_count(), 0);
    }

    #[test]
    fn networks_group_one_nat_one_prefix_and_the_lan() {
        let n = |s: &str| network_of(s.parse().unwrap());
        assert_eq!(n("203.0.113.7"), "203.0.113.7");
        assert_eq!(n("::ffff:203.0.113.7"), "203.0.113.7");
        for lan in [
            "192.168.1.20",
            "10.1.2.3",
            "172.16.0.9",
            "127.0.0.1",
            "169.254.1.1",
            "100.100.1.1",
            "::1",
            "fd00::5",
            "fe80::1",
        ] {
            assert_eq!(n(lan), "lan", "{lan}");
        }
        assert_eq!(n("2001:db8:1:2:aaaa::1"), n("2001:db8:1:2:bbbb::2"));
        assert_ne!(n("2001:db8:1:2::1"), n("2001:db8:1:3::1"));
        assert_ne!(n("198.51.100.1"), n("198.51.100.2"));
    }

    #[test]
    fn the_local_room_holds_one_network_only() {
        let state = SignalingState::with_registry(
            SignalingConfig::default(),
            Arc::new(MemoryRegistry::new(10)),
            SecureRng::from_seed([2; 32]),
        );
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let mut home1 = LocalClient::connect_from(&state, ip("198.51.100.20"));
        let mut home2 = LocalClient::connect_from(&state, ip("198.51.100.20"));
        let mut office = LocalClient::connect_from(&state, ip("203.0.113.9"));
        let mut unknown = LocalClient::connect(&state);
        let join = r#"{"v":1,"type":"join","room":"Local","kind":"browser"}"#;
        for c in [&mut home1, &mut home2, &mut office, &mut unknown] {
            frames(c);
            assert!(c.handle_text(join));
        }
        let f = frames(&mut home1);
        assert!(
            matches!(&f[..], [ServerMsg::Joined { room, peers, .. }, ServerMsg::PeerJoined { .. }] if room == "local" && peers.is_empty()),
            "{f:?}"
        );
        let f = frames(&mut home2);
        assert!(
            matches!(&f[..], [ServerMsg::Joined { room, peers, .. }] if room == "local" && peers.len() == 1 && peers[0].id == home1.id()),
            "{f:?}"
        );
        let f = frames(&mut office);
        assert!(
            matches!(&f[..], [ServerMsg::Joined { peers, .. }] if peers.is_empty()),
            "another network: alone, {f:?}"
        );
        let f = frames(&mut unknown);
        assert!(
            matches!(&f[..], [ServerMsg::Error { code: ErrorCode::UnknownRoom, message }] if message.contains("address")),
            "{f:?}"
        );
        // Signals stay inside the network's room.
        let to_home1 = format!(r#"{{"v":1,"type":"signal","to":"{}","data":{{}}}}"#, home1.id());
        assert!(office.handle_text(&to_home1));
        assert!(matches!(
            &frames(&mut office)[..],
            [ServerMsg::Error {
                code: ErrorCode::UnknownPeer,
                ..
            }]
        ));
        assert!(home2.handle_text(&to_home1));
        assert!(matches!(&frames(&mut home1)[..], [ServerMsg::Signal { .. }]));
        // The room's key is no code: `local~...` cannot be joined by name.
        assert!(unknown.handle_text(r#"{"v":1,"type":"join","room":"local~198.51.100.20"}"#));
        assert!(matches!(
            &frames(&mut unknown)[..],
            [ServerMsg::Error {
                code: ErrorCode::UnknownRoom,
                ..
            }]
        ));
    }

    #[test]
    fn the_bucket_allows_a_burst_then_the_rate_then_disconnects() {
        let t0 = Instant::now();
        let mut b = RateLimit::new(5, t0);
        for _ in 0..5 {
            assert_eq!(b.admit(10, 5, 3, t0), Admit::Yes);
        }
        assert_eq!(b.admit(10, 5, 3, t0), Admit::Drop);
        // 100 ms at 10/s refills one token.
        assert_eq!(b.admit(10, 5, 3, t0 + Duration::from_millis(100)), Admit::Yes);
        assert_eq!(b.admit(10, 5, 3, t0 + Duration::from_millis(100)), Admit::Drop);
        // The third frame over the limit disconnects, however long the client waited in between.
        assert_eq!(b.admit(10, 5, 3, t0 + Duration::from_millis(100)), Admit::Close);
        // A long pause refills to the burst, never beyond.
        let mut b = RateLimit::new(2, t0);
        let later = t0 + Duration::from_secs(3600);
        assert_eq!(b.admit(10, 2, 9, later), Admit::Yes);
        assert_eq!(b.admit(10, 2, 9, later), Admit::Yes);
        assert_eq!(b.admit(10, 2, 9, later), Admit::Drop);
    }
}
