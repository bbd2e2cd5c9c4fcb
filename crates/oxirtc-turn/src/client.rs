//! The sans-IO TURN client (RFC 8656 §7-§12): Allocate with long-term credentials, refreshes,
//! permissions, channels, Send/Data indications and ChannelData, deallocation.
//!
//! The owner (an ICE agent, a test, a tokio driver) routes every datagram that comes from the TURN
//! server into [`TurnClient::handle_receive`] and sends what [`TurnClient::poll_transmit`] returns to
//! the server. Peer data arrives as [`TurnEvent::PeerData`]. Over TCP the owner cuts the byte stream
//! into frames with [`crate::tcp_frame_len`].
//!
//! A client allocating through the server core, both in memory:
//!
//! ```
//! use std::time::Instant;
//! use oxirtc_crypto::{default_provider, SecureRng};
//! use oxirtc_turn::{ClientConfig, Credentials, FiveTuple, ServerConfig, Transport, TurnClient, TurnEvent, TurnServer};
//!
//! # #[allow(clippy::disallowed_methods)] // the doctest is the driver: it owns the clock
//! let now = Instant::now();
//! let server_addr = "192.0.2.1:3478".parse()?;
//! let config = ServerConfig {
//!     credentials: Credentials::new().user("alice", "secret"),
//!     relay_ips: vec!["192.0.2.1".parse()?],
//!     ..ServerConfig::default()
//! };
//! let mut server = TurnServer::new(config, default_provider(), SecureRng::from_seed([1; 32]), now);
//! let mut client = TurnClient::new(ClientConfig::new(server_addr, "alice", "secret"), default_provider(), SecureRng::from_seed([2; 32]));
//! let tuple = FiveTuple { client: "203.0.113.9:5000".parse()?, server: server_addr, transport: Transport::Udp };
//!
//! client.allocate(now);
//! let mut relayed = None;
//! while relayed.is_none() {
//!     while let Some(t) = client.poll_transmit(now) { server.handle_receive(now, tuple, &t.contents); }
//!     while server.poll_event().is_some() {} // the runtime would bind the relay socket here
//!     let mut answers = Vec::new();
//!     while let Some(t) = server.poll_transmit() { answers.push(t.contents.to_vec()); }
//!     for a in answers { client.handle_receive(now, server_addr, &a); }
//!     while let Some(e) = client.poll_event() {
//!         if let TurnEvent::Allocated { relayed: r, .. } = e { relayed = Some(r); }
//!     }
//! }
//! assert_eq!(relayed, client.relayed_address());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use oxirtc_crypto::{CryptoProvider, SecureRng};
use oxirtc_stun::{
    long_term_key, AddressFamily, Attribute, Class, ClientTransaction, Message, MessageEncoder, Method,
    PasswordAlgorithm, RetransmitConfig, TransactionId, TransactionState,
};

use crate::{is_channel_data, ChannelData, ChannelNumber, Transport, TurnError};

/// Refresh a permission this long after it was (re)installed (it lasts 300 s, RFC 8656 §9).
const PERMISSION_REFRESH: Duration = Duration::from_secs(240);
/// Refresh a channel binding this long after it was (re)bound (it lasts 600 s, RFC 8656 §12).
const CHANNEL_REFRESH: Duration = Duration::from_secs(540);
/// Consecutive 401/438 answers tolerated for one request before giving up.
const MAX_AUTH_RETRIES: u8 = 3;
/// Largest payload one Send indication or ChannelData message can carry safely.
const MAX_PAYLOAD: usize = 65_000;

/// Client configuration.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// The TURN server's address.
    pub server: SocketAddr,
    /// Long-term credential username.
    pub username: String,
    /// Long-term credential password.
    pub password: String,
    /// UDP or TCP to the server (TCP: no retransmissions, ChannelData padded, RFC 8656 §12.5).
    pub transport: Transport,
    /// Family of the relayed address (REQUESTED-ADDRESS-FAMILY, RFC 8656 §18.6; IPv4 is the default).
    pub family: AddressFamily,
    /// Requested allocation lifetime (LIFETIME); the server's answer is what counts.
    pub lifetime: Duration,
    /// SOFTWARE attribute for Allocate and Refresh (RFC 8656 §5); empty = none. Its length also makes
    /// room for the 401 of servers that never answer an unauthenticated request with more bytes.
    pub software: String,
    /// STUN retransmission parameters.
    pub retransmit: RetransmitConfig,
}

impl ClientConfig {
    /// UDP, IPv4 relay, 600 s lifetime.
    pub fn new(server: SocketAddr, username: &str, password: &str) -> Self {
        ClientConfig {
            server,
            username: username.into(),
            password: password.into(),
            transport: Transport::Udp,
            family: AddressFamily::V4,
            lifetime: Duration::from_secs(600),
            // Long enough that the first, unauthenticated Allocate is larger than a 401 from a server
            // that never answers bigger than the request (ours by default).
            software: "oxirtc TURN client 0.1".into(),
            retransmit: RetransmitConfig::default(),
        }
    }
}

/// What the client reports.
#[non_exhaustive]
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum TurnEvent {
    /// The allocation exists (again, after a 437 recovery the relayed address may be new).
    Allocated {
        /// The relayed transport address peers send to.
        relayed: SocketAddr,
        /// Our address as the server sees it (server-reflexive).
        mapped: SocketAddr,
    },
    /// The allocation could not be created or was lost for good. For a 437 answer to Allocate the
    /// 5-tuple is taken: the owner should use a new local port and a new client.
    AllocationFailed(TurnError),
    /// A permission was installed for this peer IP.
    PermissionCreated(IpAddr),
    /// A CreatePermission or ChannelBind request failed (e.g. 403 for a forbidden peer).
    PermissionFailed {
        /// The peer IP.
        peer: IpAddr,
        /// Why.
        error: TurnError,
    },
    /// A channel is bound; sends to `peer` now use ChannelData.
    ChannelBound {
        /// The peer.
        peer: SocketAddr,
        /// Its channel.
        channel: ChannelNumber,
    },
    /// Data from a peer, relayed by the server.
    PeerData {
        /// Who sent it.
        peer: SocketAddr,
        /// The payload.
        data: Vec<u8>,
    },
    /// The allocation was deleted on request (or already gone, RFC 8656 §8.3).
    Deallocated,
}

/// The client's allocation state (RFC 8656 §7.3 typestate).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ClientState {
    /// Nothing requested yet.
    Idle,
    /// Allocate in flight.
    Allocating,
    /// The allocation exists.
    Allocated {
        /// Relayed address.
        relayed: SocketAddr,
        /// Server-reflexive address.
        mapped: SocketAddr,
    },
    /// Deallocation in flight.
    Deallocating,
    /// Deallocated or failed; call [`TurnClient::allocate`] to start over.
    Closed,
}

/// Counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Datagrams from the server that were not TURN or failed checks.
    pub dropped: u64,
    /// Allocation refreshes that succeeded.
    pub refreshes: u64,
    /// 438 Stale Nonce answers handled.
    pub stale_nonces: u64,
    /// 437 Allocation Mismatch recoveries (re-allocations).
    pub mismatch_recoveries: u64,
}

#[derive(Clone, Debug)]
enum Kind {
    Allocate,
    Refresh { lifetime: u32 },
    Permission { ips: Vec<IpAddr> },
    ChannelBind { number: ChannelNumber, peer: SocketAddr },
}

#[derive(Debug)]
struct Pending {
    tx: ClientTransaction,
    kind: Kind,
    auth_retries: u8,
}

#[derive(Clone, Copy, Debug)]
struct Permission {
    ip: IpAddr,
    /// Next refresh due; `None` while a request is in flight.
    refresh_at: Option<Instant>,
    installed: bool,
}

#[derive(Clone, Copy, Debug)]
struct Channel {
    number: ChannelNumber,
    peer: SocketAddr,
    refresh_at: Option<Instant>,
    bound: bool,
}

/// Timers in one table (CONTRIBUTING.md convention 3).
#[derive(Clone, Copy, Debug)]
enum Timer {
    /// Refresh the allocation before it expires (RFC 8656 §8).
    Refresh = 0,
}
const TIMER_COUNT: usize = 1;

/// The TURN client. See the module docs.
pub struct TurnClient {
    config: ClientConfig,
    crypto: &'static dyn CryptoProvider,
    rng: SecureRng,
    state: ClientState,
    realm: Option<String>,
    nonce: Option<String>,
    key: Option<Vec<u8>>,
    pending: Vec<Pending>,
    permissions: Vec<Permission>,
    channels: Vec<Channel>,
    next_channel: u16,
    /// Queued Send indications / ChannelData, back to back (no allocation per packet once grown).
    data_buf: Vec<u8>,
    /// End offsets in `data_buf` of the queued packets; the first starts at `data_head`.
    data_out: VecDeque<usize>,
    data_head: usize,
    events: VecDeque<TurnEvent>,
    timers: [Option<Instant>; TIMER_COUNT],
    stats: ClientStats,
}

impl std::fmt::Debug for TurnClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TurnClient")
            .field("server", &self.config.server)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// One datagram (or TCP frame) for the TURN server.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ClientTransmit {
    /// Always the configured server address.
    pub destination: SocketAddr,
    /// The transport of the configuration.
    pub transport: Transport,
    /// The bytes.
    pub contents: Vec<u8>,
}

/// When to refresh something that lives `lifetime`: a minute early, or at half-time if it is short.
fn refresh_delay(lifetime: Duration) -> Duration {
    if lifetime > Duration::from_secs(120) {
        lifetime - Duration::from_secs(60)
    } else {
        lifetime / 2
    }
}

impl TurnClient {
    /// A client that does nothing until [`Self::allocate`].
    pub fn new(config: ClientConfig, crypto: &'static dyn CryptoProvider, rng: SecureRng) -> Self {
        TurnClient {
            config,
            crypto,
            rng,
            state: ClientState::Idle,
            realm: None,
            nonce: None,
            key: None,
            pending: Vec::new(),
            permissions: Vec::new(),
            channels: Vec::new(),
            next_channel: ChannelNumber::MIN.get(),
            data_buf: Vec::new(),
            data_out: VecDeque::new(),
            data_head: 0,
            events: VecDeque::new(),
            timers: [None; TIMER_COUNT],
            stats: ClientStats::default(),
        }
    }

    /// Where the allocation stands.
    pub fn state(&self) -> ClientState {
        self.state
    }

    /// Counters.
    pub fn stats(&self) -> &ClientStats {
        &self.stats
    }

    /// The TURN server address: route datagrams from it into [`Self::handle_receive`].
    pub fn server(&self) -> SocketAddr {
        self.config.server
    }

    /// The relayed address once allocated.
    pub fn relayed_address(&self) -> Option<SocketAddr> {
        match self.state {
            ClientState::Allocated { relayed, .. } => Some(relayed),
            _ => None,
        }
    }

    /// Starts the Allocate transaction (RFC 8656 §7.1). No-op unless idle or closed.
    pub fn allocate(&mut self, now: Instant) {
        if matches!(self.state, ClientState::Idle | ClientState::Closed) {
            self.permissions.clear();
            self.channels.clear();
            self.state = ClientState::Allocating;
            self.start(now, Kind::Allocate, 0);
        }
    }

    /// Refreshes the allocation now instead of waiting for the schedule (RFC 8656 §8.1).
    pub fn refresh(&mut self, now: Instant) {
        if matches!(self.state, ClientState::Allocated { .. }) {
            self.timers[Timer::Refresh as usize] = Some(now);
            self.handle_timeout(now);
        }
    }

    /// Deletes the allocation: a Refresh with LIFETIME 0 (RFC 8656 §8.1).
    pub fn deallocate(&mut self, now: Instant) {
        if matches!(self.state, ClientState::Allocated { .. }) {
            self.state = ClientState::Deallocating;
            self.timers[Timer::Refresh as usize] = None;
            self.pending.retain(|p| matches!(p.kind, Kind::Allocate));
            self.start(now, Kind::Refresh { lifetime: 0 }, 0);
        }
    }

    fn check_peer(&self, peer: SocketAddr) -> Result<(), TurnError> {
        let ClientState::Allocated { relayed, .. } = self.state else {
            return Err(TurnError::Misuse("no allocation"));
        };
        if AddressFamily::of(&peer) != AddressFamily::of(&relayed) {
            return Err(TurnError::PeerFamilyMismatch(peer));
        }
        Ok(())
    }

    /// Installs a permission for `peer_ip` and keeps refreshing it every 240 s (RFC 8656 §9, §10.1).
    pub fn create_permission(&mut self, now: Instant, peer_ip: IpAddr) -> Result<(), TurnError> {
        self.check_peer(SocketAddr::new(peer_ip, 0))?;
        if self.permissions.iter().any(|p| p.ip == peer_ip) {
            return Ok(());
        }
        self.permissions.push(Permission {
            ip: peer_ip,
            refresh_at: None,
            installed: false,
        });
        self.start(now, Kind::Permission { ips: vec![peer_ip] }, 0);
        Ok(())
    }

    /// Binds a channel to `peer` (refreshed every 540 s, RFC 8656 §12.1); sends switch to ChannelData
    /// once [`TurnEvent::ChannelBound`] is reported.
    pub fn bind_channel(&mut self, now: Instant, peer: SocketAddr) -> Result<ChannelNumber, TurnError> {
        self.check_peer(peer)?;
        if let Some(c) = self.channels.iter().find(|c| c.peer == peer) {
            return Ok(c.number);
        }
        let number =
            ChannelNumber::new(self.next_channel).ok_or(TurnError::Misuse("all 4096 channels used"))?;
        self.next_channel += 1;
        self.channels.push(Channel {
            number,
            peer,
            refresh_at: None,
            bound: false,
        });
        self.start(now, Kind::ChannelBind { number, peer }, 0);
        Ok(number)
    }

    /// Sends `data` to `peer` through the relay: ChannelData if a channel is bound, else a Send
    /// indication (RFC 8656 §11.1, §12.5). Requests a permission first if there is none (data sent
    /// before the server installs it is dropped there, like any lost datagram).
    pub fn send_to(&mut self, now: Instant, peer: SocketAddr, data: &[u8]) -> Result<(), TurnError> {
        self.check_peer(peer)?;
        if data.len() > MAX_PAYLOAD {
            return Err(TurnError::TooLarge(data.len()));
        }
        if !self.permissions.iter().any(|p| p.ip == peer.ip()) {
            self.create_permission(now, peer.ip())?;
        }
        let out = &mut self.data_buf;
        if let Some(c) = self.channels.iter().find(|c| c.peer == peer && c.bound) {
            ChannelData::encode(c.number, data, self.config.transport == Transport::Tcp, out)?;
        } else {
            let tid = TransactionId::random(&mut self.rng);
            MessageEncoder::new(out, Class::Indication, Method::SEND, tid)
                .add(&Attribute::XorPeerAddress(peer))
                .add(&Attribute::Data(data));
        }
        self.data_out.push_back(self.data_buf.len());
        Ok(())
    }

    /// Encodes and starts a request of `kind` (authenticated once a realm and nonce are known).
    fn start(&mut self, now: Instant, kind: Kind, auth_retries: u8) {
        let tid = TransactionId::random(&mut self.rng);
        let mut buf = Vec::new();
        let method = match kind {
            Kind::Allocate => Method::ALLOCATE,
            Kind::Refresh { .. } => Method::REFRESH,
            Kind::Permission { .. } => Method::CREATE_PERMISSION,
            Kind::ChannelBind { .. } => Method::CHANNEL_BIND,
        };
        let mut enc = MessageEncoder::new(&mut buf, Class::Request, method, tid);
        let lifetime = u32::try_from(self.config.lifetime.as_secs()).unwrap_or(u32::MAX);
        match &kind {
            Kind::Allocate => {
                enc.add(&Attribute::RequestedTransport(17))
                    .add(&Attribute::Lifetime(lifetime));
                if self.config.family == AddressFamily::V6 {
                    enc.add(&Attribute::RequestedAddressFamily(AddressFamily::V6));
                }
            }
            Kind::Refresh { lifetime } => {
                enc.add(&Attribute::Lifetime(*lifetime));
            }
            Kind::Permission { ips } => {
                for ip in ips {
                    enc.add(&Attribute::XorPeerAddress(SocketAddr::new(*ip, 0)));
                }
            }
            Kind::ChannelBind { number, peer } => {
                enc.add(&Attribute::ChannelNumber(number.get()))
                    .add(&Attribute::XorPeerAddress(*peer));
            }
        }
        if !self.config.software.is_empty() && matches!(kind, Kind::Allocate | Kind::Refresh { .. }) {
            enc.add(&Attribute::Software(&self.config.software));
        }
        if let (Some(realm), Some(nonce), Some(key)) = (&self.realm, &self.nonce, &self.key) {
            enc.add(&Attribute::Username(&self.config.username))
                .add(&Attribute::Realm(realm))
                .add(&Attribute::Nonce(nonce))
                .add_message_integrity(self.crypto, key);
        }
        enc.add_fingerprint();
        let reliable = self.config.transport == Transport::Tcp;
        let tx = ClientTransaction::new(now, tid, buf, &self.config.retransmit, reliable);
        self.pending.push(Pending {
            tx,
            kind,
            auth_retries,
        });
    }

    /// Next datagram for the server.
    #[must_use]
    pub fn poll_transmit(&mut self, now: Instant) -> Option<ClientTransmit> {
        let mut contents = Vec::new();
        self.poll_transmit_into(now, &mut contents)?;
        Some(ClientTransmit {
            destination: self.config.server,
            transport: self.config.transport,
            contents,
        })
    }

    /// Like [`Self::poll_transmit`], but writes the datagram into `out` (cleared first) and returns
    /// the server address and transport: with a reused `out`, sending allocates nothing per packet
    /// (CONTRIBUTING.md convention 7).
    #[must_use]
    pub fn poll_transmit_into(&mut self, now: Instant, out: &mut Vec<u8>) -> Option<(SocketAddr, Transport)> {
        out.clear();
        if let Some(end) = self.data_out.pop_front() {
            out.extend_from_slice(&self.data_buf[self.data_head..end]);
            self.data_head = end;
            if self.data_out.is_empty() {
                self.data_buf.clear();
                self.data_head = 0;
            }
        } else {
            let bytes = self.pending.iter_mut().find_map(|p| p.tx.poll_transmit(now))?;
            out.extend_from_slice(bytes);
        }
        Some((self.config.server, self.config.transport))
    }

    /// Next event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<TurnEvent> {
        self.events.pop_front()
    }

    /// When [`Self::handle_timeout`] should next run.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let tx = self.pending.iter().filter_map(|p| p.tx.poll_timeout());
        let perms = self.permissions.iter().filter_map(|p| p.refresh_at);
        let chans = self.channels.iter().filter_map(|c| c.refresh_at);
        self.timers
            .iter()
            .flatten()
            .copied()
            .chain(tx)
            .chain(perms)
            .chain(chans)
            .min()
    }

    /// Retransmission deadlines and the refresh schedule.
    pub fn handle_timeout(&mut self, now: Instant) {
        let mut i = 0;
        while i < self.pending.len() {
            self.pending[i].tx.handle_timeout(now);
            if self.pending[i].tx.state() == TransactionState::TimedOut {
                let p = self.pending.remove(i);
                self.on_failure(now, p.kind, TurnError::Timeout);
            } else {
                i += 1;
            }
        }
        if self.timers[Timer::Refresh as usize].is_some_and(|t| t <= now) {
            self.timers[Timer::Refresh as usize] = None;
            let lifetime = u32::try_from(self.config.lifetime.as_secs()).unwrap_or(u32::MAX);
            self.start(now, Kind::Refresh { lifetime }, 0);
        }
        if !matches!(self.state, ClientState::Allocated { .. }) {
            return;
        }
        // RFC 8656 §9: permissions are refreshed together in one CreatePermission.
        let due: Vec<IpAddr> = self
            .permissions
            .iter_mut()
            .filter(|p| p.refresh_at.is_some_and(|t| t <= now))
            .map(|p| {
                p.refresh_at = None;
                p.ip
            })
            .collect();
        if !due.is_empty() {
            self.start(now, Kind::Permission { ips: due }, 0);
        }
        let due: Vec<(ChannelNumber, SocketAddr)> = self
            .channels
            .iter_mut()
            .filter(|c| c.refresh_at.is_some_and(|t| t <= now))
            .map(|c| {
                c.refresh_at = None;
                (c.number, c.peer)
            })
            .collect();
        for (number, peer) in due {
            self.start(now, Kind::ChannelBind { number, peer }, 0);
        }
    }
}

impl TurnClient {
    /// A datagram (UDP) or complete frame (TCP) from `from`. Returns `false` (and ignores it) if it is
    /// not from the TURN server, so the owner can route it elsewhere.
    pub fn handle_receive(&mut self, now: Instant, from: SocketAddr, data: &[u8]) -> bool {
        if from != self.config.server {
            return false;
        }
        if is_channel_data(data) {
            self.handle_channel_data(data);
            return true;
        }
        let Ok(msg) = Message::parse(data) else {
            self.stats.dropped += 1;
            return true;
        };
        match msg.class() {
            // RFC 8656 §11.4: a Data indication.
            Class::Indication if msg.method() == Method::DATA => match (msg.xor_peer_address(), msg.data()) {
                (Some(peer), Some(d)) if self.has_permission(peer.ip()) => {
                    self.events.push_back(TurnEvent::PeerData {
                        peer,
                        data: d.to_vec(),
                    })
                }
                _ => self.stats.dropped += 1,
            },
            Class::Success | Class::Error => self.handle_response(now, &msg),
            _ => self.stats.dropped += 1,
        }
        true
    }

    fn has_permission(&self, ip: IpAddr) -> bool {
        self.permissions.iter().any(|p| p.ip == ip && p.installed)
    }

    /// RFC 8656 §12.6: ChannelData on a bound channel.
    fn handle_channel_data(&mut self, data: &[u8]) {
        let peer = ChannelData::parse(data).and_then(|cd| {
            let c = self.channels.iter().find(|c| c.number == cd.channel && c.bound)?;
            Some((c.peer, cd.data))
        });
        match peer {
            Some((peer, d)) => self.events.push_back(TurnEvent::PeerData {
                peer,
                data: d.to_vec(),
            }),
            None => self.stats.dropped += 1,
        }
    }

    fn handle_response(&mut self, now: Instant, msg: &Message<'_>) {
        let Some(i) = self
            .pending
            .iter()
            .position(|p| p.tx.transaction_id() == msg.transaction_id())
        else {
            self.stats.dropped += 1;
            return;
        };
        let code = msg.error_code().map(|e| e.code);
        let challenge = matches!(code, Some(401 | 438));
        // Everything but a challenge must be signed with our key (RFC 8489 §9.2.5).
        if !challenge {
            if let Some(key) = &self.key {
                if msg.verify_integrity(self.crypto, key).is_err() {
                    tracing::debug!("TURN: response failed its integrity check, ignored");
                    self.stats.dropped += 1;
                    return;
                }
            }
        }
        let mut p = self.pending.remove(i);
        p.tx.handle_response(msg);
        match code {
            None => self.on_success(now, p.kind, msg),
            Some(401 | 438) => self.on_challenge(now, p, msg),
            Some(c) => {
                let reason = msg.error_code().map(|e| e.reason.to_owned()).unwrap_or_default();
                self.on_error(now, p.kind, c, TurnError::ErrorResponse { code: c, reason });
            }
        }
    }

    /// RFC 8489 §9.2.5: 401 → learn realm and nonce and retry once signed; 438 → new nonce, retry.
    fn on_challenge(&mut self, now: Instant, p: Pending, msg: &Message<'_>) {
        let code = msg.error_code().map_or(401, |e| e.code);
        let was_signed = p.tx.request().len() > 20
            && Message::parse(p.tx.request()).is_ok_and(|m| m.has_message_integrity());
        let (Some(realm), Some(nonce)) = (msg.realm(), msg.nonce()) else {
            return self.on_failure(
                now,
                p.kind,
                TurnError::BadResponse("401/438 without REALM or NONCE"),
            );
        };
        if p.auth_retries >= MAX_AUTH_RETRIES
            || (code == 401 && was_signed && self.realm.as_deref() == Some(realm))
        {
            // A signed request refused with 401 means the credentials are wrong.
            let reason = msg.error_code().map(|e| e.reason.to_owned()).unwrap_or_default();
            return self.on_failure(now, p.kind, TurnError::ErrorResponse { code, reason });
        }
        if code == 438 {
            self.stats.stale_nonces += 1;
        }
        if self.realm.as_deref() != Some(realm) {
            let key = long_term_key(
                self.crypto,
                &self.config.username,
                realm,
                &self.config.password,
                PasswordAlgorithm::Md5,
            );
            self.key = Some(key);
            self.realm = Some(realm.to_owned());
        }
        self.nonce = Some(nonce.to_owned());
        self.start(now, p.kind, p.auth_retries + 1);
    }

    fn on_success(&mut self, now: Instant, kind: Kind, msg: &Message<'_>) {
        match kind {
            Kind::Allocate => self.on_allocated(now, msg),
            Kind::Refresh { lifetime: 0 } => self.close(TurnEvent::Deallocated),
            Kind::Refresh { .. } => {
                self.stats.refreshes += 1;
                let lifetime = Duration::from_secs(u64::from(msg.lifetime().unwrap_or(0)));
                self.timers[Timer::Refresh as usize] = Some(now + refresh_delay(lifetime));
            }
            Kind::Permission { ips } => {
                for p in self.permissions.iter_mut().filter(|p| ips.contains(&p.ip)) {
                    p.refresh_at = Some(now + PERMISSION_REFRESH);
                    if !p.installed {
                        p.installed = true;
                        self.events.push_back(TurnEvent::PermissionCreated(p.ip));
                    }
                }
            }
            Kind::ChannelBind { number, peer } => self.on_channel_bound(now, number, peer),
        }
    }

    /// RFC 8656 §7.3.
    fn on_allocated(&mut self, now: Instant, msg: &Message<'_>) {
        let (Some(relayed), Some(mapped)) = (msg.xor_relayed_address(), msg.xor_mapped_address()) else {
            return self.close(TurnEvent::AllocationFailed(TurnError::BadResponse(
                "Allocate success without XOR-RELAYED-ADDRESS or XOR-MAPPED-ADDRESS",
            )));
        };
        if AddressFamily::of(&relayed) != self.config.family {
            return self.close(TurnEvent::AllocationFailed(TurnError::BadResponse(
                "relayed address of the wrong family",
            )));
        }
        let lifetime = Duration::from_secs(u64::from(msg.lifetime().unwrap_or(600)));
        self.timers[Timer::Refresh as usize] = Some(now + refresh_delay(lifetime));
        self.state = ClientState::Allocated { relayed, mapped };
        tracing::info!(%relayed, %mapped, ?lifetime, "TURN allocation created");
        // After a 437 recovery, reinstall what the previous allocation had.
        for p in &mut self.permissions {
            p.refresh_at = Some(now);
        }
        for c in &mut self.channels {
            c.refresh_at = Some(now);
        }
        self.events.push_back(TurnEvent::Allocated { relayed, mapped });
    }

    fn on_channel_bound(&mut self, now: Instant, number: ChannelNumber, peer: SocketAddr) {
        if let Some(c) = self.channels.iter_mut().find(|c| c.number == number) {
            c.refresh_at = Some(now + CHANNEL_REFRESH);
            if !c.bound {
                c.bound = true;
                self.events.push_back(TurnEvent::ChannelBound {
                    peer,
                    channel: number,
                });
            }
        }
        // RFC 8656 §12.2: the binding also installs or refreshes the permission.
        match self.permissions.iter_mut().find(|p| p.ip == peer.ip()) {
            Some(p) => {
                p.installed = true;
                p.refresh_at = Some(now + PERMISSION_REFRESH);
            }
            None => self.permissions.push(Permission {
                ip: peer.ip(),
                refresh_at: Some(now + PERMISSION_REFRESH),
                installed: true,
            }),
        }
    }

    fn on_error(&mut self, now: Instant, kind: Kind, code: u16, error: TurnError) {
        match (&kind, code) {
            // RFC 8656 §8.3: a 437 to a deallocation means it is already gone: success.
            (Kind::Refresh { lifetime: 0 }, 437) => self.close(TurnEvent::Deallocated),
            // RFC 8656 §5: a 437 to anything but Allocate means the allocation is gone: allocate again
            // on the same 5-tuple (the server has none there now) and reinstall permissions/channels.
            (Kind::Refresh { .. } | Kind::Permission { .. } | Kind::ChannelBind { .. }, 437) => {
                if matches!(self.state, ClientState::Allocated { .. }) {
                    self.stats.mismatch_recoveries += 1;
                    tracing::info!("TURN allocation lost (437), allocating again");
                    self.pending.clear();
                    self.timers[Timer::Refresh as usize] = None;
                    for c in &mut self.channels {
                        c.bound = false;
                    }
                    for p in &mut self.permissions {
                        p.installed = false;
                    }
                    self.state = ClientState::Allocating;
                    self.start(now, Kind::Allocate, 0);
                }
            }
            _ => self.on_failure(now, kind, error),
        }
    }

    fn on_failure(&mut self, _now: Instant, kind: Kind, error: TurnError) {
        tracing::debug!(%error, ?kind, "TURN request failed");
        match kind {
            Kind::Allocate => self.close(TurnEvent::AllocationFailed(error)),
            Kind::Refresh { lifetime: 0 } => self.close(TurnEvent::Deallocated),
            Kind::Refresh { .. } => self.close(TurnEvent::AllocationFailed(error)),
            Kind::Permission { ips } => {
                self.permissions.retain(|p| !ips.contains(&p.ip));
                for peer in ips {
                    self.events.push_back(TurnEvent::PermissionFailed {
                        peer,
                        error: error.clone(),
                    });
                }
            }
            Kind::ChannelBind { number, peer } => {
                self.channels.retain(|c| c.number != number);
                self.events.push_back(TurnEvent::PermissionFailed {
                    peer: peer.ip(),
                    error,
                });
            }
        }
    }

    fn close(&mut self, event: TurnEvent) {
        self.state = ClientState::Closed;
        self.pending.clear();
        self.timers = [None; TIMER_COUNT];
        self.permissions.clear();
        self.channels.clear();
        self.events.push_back(event);
    }
}
