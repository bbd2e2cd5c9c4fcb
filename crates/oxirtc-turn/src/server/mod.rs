//! The sans-IO TURN server core (RFC 8656 §5-§12): allocation table keyed by 5-tuple, relay ports,
//! authentication, permissions, channels, quotas and the peer-address policy.
//!
//! The runtime owns every socket. It feeds client traffic with [`TurnServer::handle_receive`] and
//! datagrams that arrive on relay sockets with [`TurnServer::handle_relay_receive`]; it binds a relay
//! socket when [`ServerEvent::AllocationCreated`] names one (drain events before transmits, so the
//! socket exists before the success response leaves) and closes it on
//! [`ServerEvent::AllocationDeleted`]. If the bind fails it calls [`TurnServer::relay_bind_failed`].

mod allocation;
mod config;
mod handlers;
mod outbox;
mod quota;

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use oxirtc_crypto::{CryptoProvider, SecureRng};
use oxirtc_stun::{Attribute, Class, Message, MessageEncoder, Method, TransactionId};

use crate::auth::Nonces;
use crate::{is_channel_data, ChannelData};

pub use allocation::{FiveTuple, Transport, CHANNEL_LIFETIME, PERMISSION_LIFETIME};
pub use config::ServerConfig;
pub use outbox::Transmit;
pub use quota::{LocalQuotaLedger, QuotaLedger};

use allocation::Allocation;
use outbox::Outbox;

/// Why an allocation ended.
#[non_exhaustive]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DeleteReason {
    /// The client sent a Refresh with LIFETIME 0 (RFC 8656 §8.2).
    Deallocated,
    /// Its lifetime ran out (RFC 8656 §6).
    Expired,
    /// The runtime could not bind the relay socket.
    BindFailed,
    /// The client's TCP connection closed.
    TransportClosed,
}

/// What the runtime must act on.
#[non_exhaustive]
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum ServerEvent {
    /// Bind a UDP socket on `relay` and feed what it receives to [`TurnServer::handle_relay_receive`].
    AllocationCreated {
        /// The client's 5-tuple.
        tuple: FiveTuple,
        /// The relayed transport address.
        relay: SocketAddr,
        /// Who authenticated it.
        username: String,
    },
    /// Close the relay socket.
    AllocationDeleted {
        /// The client's 5-tuple.
        tuple: FiveTuple,
        /// The relayed transport address.
        relay: SocketAddr,
        /// Why.
        reason: DeleteReason,
    },
}

/// Counters for metrics. Every dropped packet is counted in exactly one `dropped_*` field.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerStats {
    /// Allocations created.
    pub allocations_created: u64,
    /// Allocations that ended (any reason).
    pub allocations_deleted: u64,
    /// Requests refused for missing or wrong credentials or a bad nonce (401, 438, 441).
    pub auth_failures: u64,
    /// Requests and Send indications refused by the peer-address policy (403 / dropped).
    pub denied_peers: u64,
    /// Error responses sent, all codes.
    pub error_responses: u64,
    /// Binding requests answered.
    pub binding_requests: u64,
    /// Packets relayed client → peer.
    pub relayed_to_peer_packets: u64,
    /// Bytes relayed client → peer (payload only).
    pub relayed_to_peer_bytes: u64,
    /// Packets relayed peer → client.
    pub relayed_to_client_packets: u64,
    /// Bytes relayed peer → client (payload only).
    pub relayed_to_client_bytes: u64,
    /// Not STUN, not ChannelData, or a malformed message; or peer data too long for one message.
    pub dropped_malformed: u64,
    /// ChannelData / Send / indications without an allocation on their 5-tuple, or unbound channel.
    pub dropped_no_allocation: u64,
    /// Peer datagrams or Send indications without a permission.
    pub dropped_no_permission: u64,
    /// Over the per-allocation bandwidth quota.
    pub dropped_quota: u64,
    /// Unauthenticated responses not sent because the source is over its per-second rate.
    pub dropped_unauth_limited: u64,
    /// Unauthenticated requests left unanswered because the 401/438 would be larger than the request
    /// plus [`ServerConfig::unauth_size_slack`] (only when that is set). Browsers' first Allocate is
    /// smaller than a 401: a rising count means browsers are being refused (see the slack docs).
    pub dropped_unauth_too_small: u64,
    /// Transmit queue full.
    pub dropped_queue_full: u64,
}

/// Timers in one table (CONTRIBUTING.md convention 3).
#[derive(Clone, Copy, Debug)]
enum Timer {
    /// Expire allocations, permissions, channels and the 401 rate-limit table (once a second).
    Sweep = 0,
}
const TIMER_COUNT: usize = 1;
const SWEEP_INTERVAL: Duration = Duration::from_secs(1);
/// RFC 8656 §7.2: a reserved port is held at least 30 seconds.
const RESERVATION_LIFETIME: Duration = Duration::from_secs(30);
/// Most source IPs tracked by the 401 rate limiter; beyond, new sources get no 401 until the sweep.
const MAX_RATE_ENTRIES: usize = 65_536;

/// The sans-IO TURN server. See the module docs for how the runtime drives it.
pub struct TurnServer {
    config: ServerConfig,
    crypto: &'static dyn CryptoProvider,
    rng: SecureRng,
    nonces: Nonces,
    epoch: Instant,
    allocations: HashMap<FiveTuple, Allocation>,
    by_relay: HashMap<SocketAddr, FiveTuple>,
    quota: Box<dyn QuotaLedger>,
    /// RESERVATION-TOKEN → (reserved relay address, expiry).
    reservations: HashMap<[u8; 8], (SocketAddr, Instant)>,
    reserved: HashSet<SocketAddr>,
    unauth: HashMap<IpAddr, (Instant, u32)>,
    out: Outbox,
    events: VecDeque<ServerEvent>,
    timers: [Option<Instant>; TIMER_COUNT],
    stats: ServerStats,
    draining: bool,
}

impl std::fmt::Debug for TurnServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TurnServer")
            .field("allocations", &self.allocations.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl TurnServer {
    /// Counts allocations for the quotas in `ledger` instead of this core's own map: give every core
    /// of one daemon the same shared ledger, so a user's quota holds across cores. Call before the
    /// first allocation.
    pub fn set_quota_ledger(&mut self, ledger: Box<dyn QuotaLedger>) {
        self.quota = ledger;
    }

    /// A server whose clock starts at `now` (nonce expiries count from it).
    pub fn new(
        config: ServerConfig,
        crypto: &'static dyn CryptoProvider,
        mut rng: SecureRng,
        now: Instant,
    ) -> Self {
        let key = config.nonce_key.unwrap_or_else(|| {
            let mut k = [0u8; 32];
            rng.fill(&mut k);
            k
        });
        TurnServer {
            nonces: Nonces::new(key, now, config.nonce_lifetime),
            out: Outbox::new(config.max_queued_transmits),
            config,
            crypto,
            rng,
            epoch: now,
            allocations: HashMap::new(),
            by_relay: HashMap::new(),
            quota: Box::<LocalQuotaLedger>::default(),
            reservations: HashMap::new(),
            reserved: HashSet::new(),
            unauth: HashMap::new(),
            events: VecDeque::new(),
            timers: [None; TIMER_COUNT],
            stats: ServerStats::default(),
            draining: false,
        }
    }

    /// Counters.
    pub fn stats(&self) -> &ServerStats {
        &self.stats
    }

    /// Live allocations.
    pub fn allocation_count(&self) -> usize {
        self.allocations.len()
    }

    /// Stop accepting new allocations (answered 508); existing ones continue until they end.
    pub fn set_draining(&mut self, draining: bool) {
        self.draining = draining;
    }

    /// A datagram (UDP) or one complete frame (TCP, see [`crate::tcp_frame_len`]) from a client.
    pub fn handle_receive(&mut self, now: Instant, tuple: FiveTuple, data: &[u8]) {
        if is_channel_data(data) {
            self.handle_channel_data(now, tuple, data);
            return;
        }
        match Message::parse(data) {
            Ok(msg) => self.handle_stun(now, tuple, &msg),
            Err(e) => {
                self.stats.dropped_malformed += 1;
                tracing::debug!(client = %tuple.client, error = %e, "TURN: dropped malformed message");
            }
        }
    }

    /// A datagram that arrived on relay socket `relay` from `peer` (RFC 8656 §11.3, §12.7).
    pub fn handle_relay_receive(&mut self, now: Instant, relay: SocketAddr, peer: SocketAddr, data: &[u8]) {
        let Some(alloc) = self
            .by_relay
            .get(&relay)
            .and_then(|t| self.allocations.get_mut(t))
        else {
            self.stats.dropped_no_allocation += 1;
            return;
        };
        // RFC 8656 §9: only the IP is compared.
        if !alloc.has_permission(now, peer.ip()) {
            self.stats.dropped_no_permission += 1;
            tracing::trace!(%relay, %peer, "TURN: peer datagram without permission dropped");
            return;
        }
        if !alloc
            .to_client
            .take(now, self.config.max_bytes_per_second, data.len())
        {
            self.stats.dropped_quota += 1;
            return;
        }
        let tuple = alloc.tuple;
        let channel = alloc.channel_by_peer(now, peer);
        let Some((start, buf)) = self.out.begin() else {
            self.stats.dropped_queue_full += 1;
            return;
        };
        match channel {
            // RFC 8656 §12.7 / §12.5: ChannelData, padded over TCP.
            Some(ch) => {
                // RFC 8656 §12.4: more than 65535 bytes do not fit a ChannelData message (a UDP
                // datagram never is that large, but the caller's slice might be).
                if ChannelData::encode(ch, data, tuple.transport == Transport::Tcp, buf).is_err() {
                    self.out.abort(start);
                    self.stats.dropped_malformed += 1;
                    return;
                }
            }
            // RFC 8656 §11.3: a Data indication.
            None => {
                let tid = TransactionId::random(&mut self.rng);
                let mut enc = MessageEncoder::new(buf, Class::Indication, Method::DATA, tid);
                enc.add(&Attribute::XorPeerAddress(peer))
                    .add(&Attribute::Data(data));
                if enc.try_finish().is_err() {
                    self.out.abort(start);
                    self.stats.dropped_malformed += 1;
                    return;
                }
            }
        }
        self.out
            .commit(start, tuple.server, tuple.client, tuple.transport);
        self.stats.relayed_to_client_packets += 1;
        self.stats.relayed_to_client_bytes += data.len() as u64;
    }

    /// The client's TCP connection closed: its 5-tuple is gone, and so is the allocation on it
    /// (RFC 8656 §2: an allocation is identified by its 5-tuple).
    pub fn handle_transport_closed(&mut self, tuple: FiveTuple) {
        self.remove_allocation(tuple, DeleteReason::TransportClosed);
    }

    /// The runtime could not bind `relay`: the allocation is removed (its client will see 437).
    pub fn relay_bind_failed(&mut self, relay: SocketAddr) {
        if let Some(tuple) = self.by_relay.get(&relay).copied() {
            self.remove_allocation(tuple, DeleteReason::BindFailed);
        }
    }

    /// Next datagram to send. Drain until `None` after every `handle_*` call.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit<'_>> {
        self.out.pop()
    }

    /// Next event for the runtime.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }

    /// When [`Self::handle_timeout`] should next run.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.iter().flatten().min().copied()
    }

    /// Expires allocations, permissions and channels whose time has come.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.timers[Timer::Sweep as usize].is_none_or(|t| t > now) {
            return;
        }
        let expired: Vec<FiveTuple> = self
            .allocations
            .iter_mut()
            .filter_map(|(t, a)| {
                a.expire_children(now);
                (a.expires <= now).then_some(*t)
            })
            .collect();
        for tuple in expired {
            self.remove_allocation(tuple, DeleteReason::Expired);
        }
        self.unauth
            .retain(|_, (start, _)| now.saturating_duration_since(*start) < SWEEP_INTERVAL);
        self.arm_sweep(now);
    }

    fn arm_sweep(&mut self, now: Instant) {
        let busy = !self.allocations.is_empty() || !self.unauth.is_empty() || !self.reservations.is_empty();
        self.timers[Timer::Sweep as usize] = busy.then(|| now + SWEEP_INTERVAL);
    }

    fn remove_allocation(&mut self, tuple: FiveTuple, reason: DeleteReason) {
        let Some(alloc) = self.allocations.remove(&tuple) else {
            return;
        };
        self.by_relay.remove(&alloc.relay);
        self.quota.release(&alloc.username);
        self.stats.allocations_deleted += 1;
        tracing::info!(client = %tuple.client, relay = %alloc.relay, ?reason, "TURN allocation deleted");
        self.events.push_back(ServerEvent::AllocationDeleted {
            tuple,
            relay: alloc.relay,
            reason,
        });
    }

    /// RFC 8656 §12.6: ChannelData from the client.
    fn handle_channel_data(&mut self, now: Instant, tuple: FiveTuple, data: &[u8]) {
        let Some(cd) = ChannelData::parse(data) else {
            self.stats.dropped_malformed += 1;
            return;
        };
        let Some(alloc) = self.allocations.get_mut(&tuple) else {
            self.stats.dropped_no_allocation += 1;
            return;
        };
        let Some(peer) = alloc.channel_by_number(now, cd.channel) else {
            self.stats.dropped_no_allocation += 1;
            return;
        };
        if !alloc
            .to_peer
            .take(now, self.config.max_bytes_per_second, cd.data.len())
        {
            self.stats.dropped_quota += 1;
            return;
        }
        let relay = alloc.relay;
        self.queue_to_peer(relay, peer, cd.data);
    }

    fn queue_to_peer(&mut self, relay: SocketAddr, peer: SocketAddr, data: &[u8]) {
        let Some((start, buf)) = self.out.begin() else {
            self.stats.dropped_queue_full += 1;
            return;
        };
        buf.extend_from_slice(data);
        self.out.commit(start, relay, peer, Transport::Udp);
        self.stats.relayed_to_peer_packets += 1;
        self.stats.relayed_to_peer_bytes += data.len() as u64;
    }

    /// Unix time now, for TURN REST expiries.
    fn unix_now(&self, now: Instant) -> u64 {
        self.config.unix_time_at_start + now.saturating_duration_since(self.epoch).as_secs()
    }
}

#[cfg(test)]
mod tests;
