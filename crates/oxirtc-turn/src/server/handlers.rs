//! Request and indication handlers (RFC 8656 §7.2, §8.2, §10.2, §11.2, §12.2) and response encoding.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use oxirtc_stun::{
    AddressFamily, AttrType, Attribute, Class, ErrorCode, Message, MessageEncoder, Method, UnknownAttributes,
};

use super::allocation::Allocation;
use super::{FiveTuple, ServerEvent, TurnServer, MAX_RATE_ENTRIES};
use crate::ChannelNumber;

/// REQUESTED-TRANSPORT value for UDP (RFC 8656 §18.8).
const UDP: u8 = 17;

fn reason(code: u16) -> &'static str {
    match code {
        400 => "Bad Request",
        401 => "Unauthenticated",
        403 => "Forbidden",
        420 => "Unknown Attribute",
        437 => "Allocation Mismatch",
        438 => "Stale Nonce",
        440 => "Address Family not Supported",
        441 => "Wrong Credentials",
        442 => "Unsupported Transport Protocol",
        443 => "Peer Address Family Mismatch",
        486 => "Allocation Quota Reached",
        508 => "Insufficient Capacity",
        _ => "Error",
    }
}

/// Which relay port an Allocate needs (RFC 8656 §7.2, EVEN-PORT).
#[derive(Clone, Copy)]
enum PortChoice {
    Any,
    Even,
    /// N even and N+1 free, for a reservation.
    EvenPair,
}

/// A request that passed authentication.
pub(super) struct Authed {
    username: String,
    key: Vec<u8>,
}

impl TurnServer {
    /// Dispatch by class and method (RFC 8656 §5).
    pub(super) fn handle_stun(&mut self, now: Instant, tuple: FiveTuple, msg: &Message<'_>) {
        match (msg.class(), msg.method()) {
            (Class::Request, Method::BINDING) => self.handle_binding(tuple, msg),
            (Class::Request, method) => {
                let Some(auth) = self.authenticate(now, tuple, msg) else {
                    return;
                };
                let unknown = msg.unknown_comprehension_required();
                if !unknown.is_empty() {
                    // RFC 8489 §6.3.1: 420 listing the unknown comprehension-required attributes.
                    self.respond_error_with(
                        tuple,
                        msg,
                        420,
                        Some(&auth.key),
                        &[Attribute::UnknownAttributes(UnknownAttributes::new(&unknown))],
                    );
                    return;
                }
                match method {
                    Method::ALLOCATE => self.handle_allocate(now, tuple, msg, auth),
                    _ => self.handle_allocation_request(now, tuple, msg, auth),
                }
            }
            (Class::Indication, Method::SEND) => self.handle_send(now, tuple, msg),
            // Binding indications are keepalives (RFC 8489 §6.2.1): nothing to do.
            (Class::Indication, Method::BINDING) => {}
            _ => {
                self.stats.dropped_malformed += 1;
                tracing::trace!(client = %tuple.client, method = ?msg.method(), "TURN: ignored message");
            }
        }
    }

    /// RFC 8489 §9.2.4 long-term credential checks. `None` means an error response was sent (or
    /// suppressed by the rate limit).
    fn authenticate(&mut self, now: Instant, tuple: FiveTuple, msg: &Message<'_>) -> Option<Authed> {
        if !msg.has_message_integrity() {
            self.unauthenticated(now, tuple, msg, 401);
            return None;
        }
        let (Some(username), Some(realm), Some(nonce)) = (msg.username(), msg.realm(), msg.nonce()) else {
            self.respond_error(tuple, msg, 400, None);
            return None;
        };
        if let Err(stale) = self.nonces.check(self.crypto, now, tuple.client, nonce) {
            self.stats.auth_failures += 1;
            self.unauthenticated(now, tuple, msg, if stale { 438 } else { 401 });
            return None;
        }
        let unix_now = self.unix_now(now);
        let keys = if realm == self.config.realm {
            self.config
                .credentials
                .keys(self.crypto, username, realm, unix_now)
        } else {
            Vec::new()
        };
        let Some(key) = keys
            .into_iter()
            .find(|k| msg.verify_integrity(self.crypto, k).is_ok())
        else {
            self.stats.auth_failures += 1;
            tracing::debug!(client = %tuple.client, username, "TURN: authentication failed");
            self.unauthenticated(now, tuple, msg, 401);
            return None;
        };
        Some(Authed {
            username: username.to_owned(),
            key,
        })
    }

    /// 401 / 438 with REALM and a fresh NONCE (RFC 8489 §9.2.4), rate-limited per source IP, and
    /// held to [`super::ServerConfig::unauth_size_slack`] when that is set.
    fn unauthenticated(&mut self, now: Instant, tuple: FiveTuple, msg: &Message<'_>, code: u16) {
        let limit = self.config.unauth_responses_per_second;
        let full = self.unauth.len() >= MAX_RATE_ENTRIES;
        let allowed = match self.unauth.get_mut(&tuple.client.ip()) {
            Some((start, n)) if now.saturating_duration_since(*start) < super::SWEEP_INTERVAL => {
                *n += 1;
                *n <= limit
            }
            Some(entry) => {
                *entry = (now, 1);
                true
            }
            None if full => false,
            None => {
                self.unauth.insert(tuple.client.ip(), (now, 1));
                self.arm_sweep(now);
                true
            }
        };
        if !allowed {
            self.stats.dropped_unauth_limited += 1;
            return;
        }
        let nonce = self.nonces.issue(self.crypto, now, tuple.client);
        let realm = self.config.realm.clone();
        let attrs = [
            Attribute::ErrorCode(ErrorCode { code, reason: "" }),
            Attribute::Realm(&realm),
            Attribute::Nonce(&nonce),
        ];
        // The smallest answer RFC 8489 §9.2.4 allows: no reason phrase, no SOFTWARE (`encode` adds it
        // only to authenticated answers), no FINGERPRINT (optional, RFC 8656 §5). Its size is
        // `ServerConfig::unauthenticated_response_len`: a spoofed request reflects at most that much.
        let Some(start) = self.encode(tuple, msg, Class::Error, None, false, &attrs) else {
            return;
        };
        let answer = self.out.len_since(start);
        if let Some(slack) = self.config.unauth_size_slack {
            if answer > msg.raw().len().saturating_add(slack) {
                // The optional size rule: the answer may exceed the request by at most `slack`.
                self.out.abort(start);
                self.stats.dropped_unauth_too_small += 1;
                tracing::debug!(
                    client = %tuple.client,
                    request = msg.raw().len(),
                    answer,
                    slack,
                    "TURN: unauthenticated request smaller than its 401 minus --unauth-size-slack; not answered"
                );
                return;
            }
        }
        tracing::trace!(client = %tuple.client, request = msg.raw().len(), answer, code, "TURN: unauthenticated");
        self.stats.error_responses += 1;
        self.out
            .commit(start, tuple.server, tuple.client, tuple.transport);
    }

    /// Encodes a response to `req` into the outbox; the caller commits or aborts.
    fn encode(
        &mut self,
        _tuple: FiveTuple,
        req: &Message<'_>,
        class: Class,
        key: Option<&[u8]>,
        fingerprint: bool,
        attrs: &[Attribute<'_>],
    ) -> Option<usize> {
        let software = self.config.software.clone();
        let crypto = self.crypto;
        let Some((start, buf)) = self.out.begin() else {
            self.stats.dropped_queue_full += 1;
            return None;
        };
        let mut enc = MessageEncoder::new(buf, class, req.method(), req.transaction_id());
        for a in attrs {
            enc.add(a);
        }
        if !software.is_empty() && matches!(req.method(), Method::ALLOCATE | Method::REFRESH) && key.is_some()
        {
            enc.add(&Attribute::Software(&software));
        }
        if let Some(key) = key {
            enc.add_message_integrity(crypto, key);
        }
        if fingerprint && req.has_fingerprint() {
            enc.add_fingerprint();
        }
        if enc.try_finish().is_err() {
            self.out.abort(start);
            return None;
        }
        Some(start)
    }

    pub(super) fn respond(
        &mut self,
        tuple: FiveTuple,
        req: &Message<'_>,
        class: Class,
        key: Option<&[u8]>,
        attrs: &[Attribute<'_>],
    ) {
        if let Some(start) = self.encode(tuple, req, class, key, true, attrs) {
            self.out
                .commit(start, tuple.server, tuple.client, tuple.transport);
        }
    }

    pub(super) fn respond_error(
        &mut self,
        tuple: FiveTuple,
        req: &Message<'_>,
        code: u16,
        key: Option<&[u8]>,
    ) {
        self.respond_error_with(tuple, req, code, key, &[]);
    }

    fn respond_error_with(
        &mut self,
        tuple: FiveTuple,
        req: &Message<'_>,
        code: u16,
        key: Option<&[u8]>,
        extra: &[Attribute<'_>],
    ) {
        tracing::debug!(client = %tuple.client, method = ?req.method(), code, "TURN error response");
        self.stats.error_responses += 1;
        let mut attrs = vec![Attribute::ErrorCode(ErrorCode {
            code,
            reason: reason(code),
        })];
        attrs.extend_from_slice(extra);
        self.respond(tuple, req, Class::Error, key, &attrs);
    }

    /// RFC 8489 §6.3.1 Binding, with RFC 5780 §6.1 OTHER-ADDRESS / CHANGE-REQUEST when configured.
    fn handle_binding(&mut self, tuple: FiveTuple, msg: &Message<'_>) {
        self.stats.binding_requests += 1;
        let change = msg.attribute(AttrType::CHANGE_REQUEST).and_then(Result::ok);
        let mut source = tuple.server;
        let mut attrs = vec![Attribute::XorMappedAddress(tuple.client)];
        match (self.config.alternate, change) {
            (None, Some(_)) => {
                let unknown = [AttrType::CHANGE_REQUEST];
                self.respond_error_with(
                    tuple,
                    msg,
                    420,
                    None,
                    &[Attribute::UnknownAttributes(UnknownAttributes::new(&unknown))],
                );
                return;
            }
            (Some((primary, alt)), change) => {
                // RFC 5780 §6.1: the "other" address flips both IP and port; CHANGE-REQUEST flips
                // the source's IP and/or port.
                let flip_ip = |ip| if ip == alt.ip() { primary.ip() } else { alt.ip() };
                let flip_port = |port| {
                    if port == alt.port() {
                        primary.port()
                    } else {
                        alt.port()
                    }
                };
                if let Some(Attribute::ChangeRequest {
                    change_ip,
                    change_port,
                }) = change
                {
                    if change_ip {
                        source.set_ip(flip_ip(source.ip()));
                    }
                    if change_port {
                        source.set_port(flip_port(source.port()));
                    }
                }
                let server = tuple.server;
                attrs.push(Attribute::OtherAddress(SocketAddr::new(
                    flip_ip(server.ip()),
                    flip_port(server.port()),
                )));
                attrs.push(Attribute::ResponseOrigin(source));
            }
            (None, None) => {}
        }
        if let Some(start) = self.encode(tuple, msg, Class::Success, None, true, &attrs) {
            self.out.commit(start, source, tuple.client, tuple.transport);
        }
    }

    /// RFC 8656 §7.2.
    fn handle_allocate(&mut self, now: Instant, tuple: FiveTuple, msg: &Message<'_>, auth: Authed) {
        let key = auth.key.clone();
        if let Some(existing) = self.allocations.get(&tuple) {
            // A retransmission of the request that created it gets the same success; anything else 437.
            if existing.allocate_tid == msg.transaction_id() && existing.username == auth.username {
                let (relay, left) = (existing.relay, existing.expires.saturating_duration_since(now));
                self.allocate_success(tuple, msg, &key, relay, left, &[]);
            } else {
                self.respond_error(tuple, msg, 437, Some(&key));
            }
            return;
        }
        let relay_ip = match self.check_allocate(tuple, msg) {
            Ok(ip) => ip,
            Err(code) => return self.respond_error(tuple, msg, code, Some(&key)),
        };
        // RFC 8656 §7.2 item 10: quotas by username, and the total; counted now, released below if
        // the allocation is not created after all.
        let c = &self.config;
        if !self
            .quota
            .try_acquire(&auth.username, c.max_allocations_per_user, c.max_allocations)
        {
            return self.respond_error(tuple, msg, 486, Some(&key));
        }
        let (relay, token) = match self.choose_relay(now, msg, relay_ip) {
            Ok(r) => r,
            Err(code) => {
                self.quota.release(&auth.username);
                return self.respond_error(tuple, msg, code, Some(&key));
            }
        };
        let lifetime = self.lifetime(msg.lifetime());
        let rate = self.config.max_bytes_per_second;
        let alloc = Allocation::new(
            now,
            tuple,
            relay,
            auth.username.clone(),
            lifetime,
            msg.transaction_id(),
            rate,
        );
        self.allocations.insert(tuple, alloc);
        self.by_relay.insert(relay, tuple);
        self.stats.allocations_created += 1;
        self.arm_sweep(now);
        tracing::info!(client = %tuple.client, %relay, username = %auth.username, "TURN allocation created");
        self.events.push_back(ServerEvent::AllocationCreated {
            tuple,
            relay,
            username: auth.username,
        });
        // RFC 8656 §7.2 item 9: a dual-stack request is met partially (IPv4 only) with 440 for IPv6.
        let partial = matches!(msg.attribute(AttrType::ADDITIONAL_ADDRESS_FAMILY), Some(Ok(_)));
        let mut extra = Vec::new();
        if let Some(token) = token {
            extra.push(Attribute::ReservationToken(token));
        }
        if partial {
            extra.push(Attribute::AddressErrorCode {
                family: AddressFamily::V6,
                code: 440,
                reason: reason(440),
            });
        }
        self.allocate_success(tuple, msg, &key, relay, lifetime, &extra);
    }

    fn allocate_success(
        &mut self,
        tuple: FiveTuple,
        msg: &Message<'_>,
        key: &[u8],
        relay: SocketAddr,
        lifetime: Duration,
        extra: &[Attribute<'_>],
    ) {
        let secs = u32::try_from(lifetime.as_secs()).unwrap_or(u32::MAX);
        let mut attrs = vec![
            Attribute::XorRelayedAddress(relay),
            Attribute::Lifetime(secs),
            Attribute::XorMappedAddress(tuple.client),
        ];
        attrs.extend_from_slice(extra);
        self.respond(tuple, msg, Class::Success, Some(key), &attrs);
    }

    /// RFC 8656 §7.2 items 3-9: the checks that need no state. Returns the relay IP.
    fn check_allocate(&self, tuple: FiveTuple, msg: &Message<'_>) -> Result<IpAddr, u16> {
        match msg.attribute(AttrType::REQUESTED_TRANSPORT) {
            Some(Ok(Attribute::RequestedTransport(UDP))) => {}
            Some(Ok(Attribute::RequestedTransport(_))) => return Err(442),
            _ => return Err(400),
        }
        if self.draining {
            return Err(508);
        }
        let has = |ty| msg.attribute(ty).is_some();
        // Item 4: DONT-FRAGMENT is not supported, so it counts as unknown comprehension-required.
        if has(AttrType::DONT_FRAGMENT) {
            return Err(420);
        }
        let requested = match msg.attribute(AttrType::REQUESTED_ADDRESS_FAMILY) {
            Some(Ok(Attribute::RequestedAddressFamily(f))) => Some(f),
            Some(_) => return Err(400),
            None => None,
        };
        let additional = msg.attribute(AttrType::ADDITIONAL_ADDRESS_FAMILY);
        let even = msg.attribute(AttrType::EVEN_PORT);
        if has(AttrType::RESERVATION_TOKEN) && (even.is_some() || requested.is_some() || additional.is_some())
        {
            return Err(400); // item 5
        }
        if requested.is_some() && additional.is_some() {
            return Err(400); // item 6
        }
        if matches!(even, Some(Ok(Attribute::EvenPort(true)))) && additional.is_some() {
            return Err(400); // item 8
        }
        if let Some(a) = additional {
            if !matches!(a, Ok(Attribute::AdditionalAddressFamily(AddressFamily::V6))) {
                return Err(400); // item 9
            }
        }
        let family = requested.unwrap_or(AddressFamily::V4);
        self.relay_ip(tuple, family).ok_or(440) // item 7
    }

    /// The relay IP of `family` (RFC 8656 §7.2 item 7): a configured one or, with none configured,
    /// the IP the client reached (`tuple.server`), as coturn does without `--relay-ip`.
    fn relay_ip(&self, tuple: FiveTuple, family: AddressFamily) -> Option<IpAddr> {
        let of_family = |ip: &IpAddr| AddressFamily::of(&SocketAddr::new(*ip, 0)) == family;
        if self.config.relay_ips.is_empty() {
            let ip = tuple.server.ip().to_canonical();
            return (!ip.is_unspecified() && of_family(&ip)).then_some(ip);
        }
        self.config.relay_ips.iter().copied().find(of_family)
    }

    /// RFC 8656 §7.2: the relayed address from a RESERVATION-TOKEN, or an EVEN-PORT (reserving N+1
    /// when the R bit is set), or any free port.
    fn choose_relay(
        &mut self,
        now: Instant,
        msg: &Message<'_>,
        ip: IpAddr,
    ) -> Result<(SocketAddr, Option<[u8; 8]>), u16> {
        if msg.attribute(AttrType::RESERVATION_TOKEN).is_some() {
            let Some(Ok(Attribute::ReservationToken(token))) = msg.attribute(AttrType::RESERVATION_TOKEN)
            else {
                return Err(400);
            };
            // Item 5: an unknown or expired token is 508.
            let (addr, expires) = self.reservations.remove(&token).ok_or(508u16)?;
            self.reserved.remove(&addr);
            return if expires > now && !self.by_relay.contains_key(&addr) {
                Ok((addr, None))
            } else {
                Err(508)
            };
        }
        match msg.attribute(AttrType::EVEN_PORT) {
            Some(Ok(Attribute::EvenPort(true))) => {
                let relay = self.pick_relay(ip, PortChoice::EvenPair).ok_or(508u16)?;
                let next = SocketAddr::new(relay.ip(), relay.port() + 1);
                let mut token = [0u8; 8];
                self.rng.fill(&mut token);
                self.reservations
                    .insert(token, (next, now + super::RESERVATION_LIFETIME));
                self.reserved.insert(next);
                self.arm_sweep(now);
                Ok((relay, Some(token)))
            }
            Some(Ok(Attribute::EvenPort(false))) => {
                Ok((self.pick_relay(ip, PortChoice::Even).ok_or(508u16)?, None))
            }
            _ => Ok((self.pick_relay(ip, PortChoice::Any).ok_or(508u16)?, None)),
        }
    }

    /// A free relay address: random start then linear probe (RFC 8656 §7.2 NOTE, RFC 6056).
    fn pick_relay(&mut self, ip: IpAddr, choice: PortChoice) -> Option<SocketAddr> {
        let (lo, hi) = (u32::from(self.config.min_port), u32::from(self.config.max_port));
        if lo > hi || lo == 0 {
            return None;
        }
        let span = hi - lo + 1;
        let first = self.rng.below(u64::from(span)) as u32;
        let free = |port: u32| {
            let a = SocketAddr::new(ip, port as u16);
            port <= hi && !self.by_relay.contains_key(&a) && !self.reserved.contains(&a)
        };
        (0..span)
            .map(|i| lo + (first + i) % span)
            .find(|&p| match choice {
                PortChoice::Any => free(p),
                PortChoice::Even => p % 2 == 0 && free(p),
                PortChoice::EvenPair => p % 2 == 0 && free(p) && free(p + 1),
            })
            .map(|p| SocketAddr::new(ip, p as u16))
    }

    /// RFC 8656 §7.2 / §8.2: min(requested, max), but never below the default (0 stays 0 for Refresh).
    fn lifetime(&self, requested: Option<u32>) -> Duration {
        let c = &self.config;
        match requested {
            Some(0) => Duration::ZERO,
            Some(s) => Duration::from_secs(u64::from(s))
                .min(c.max_lifetime)
                .max(c.default_lifetime),
            None => c.default_lifetime,
        }
    }

    /// Requests other than Allocate need the allocation of their 5-tuple (RFC 8656 §5).
    fn handle_allocation_request(&mut self, now: Instant, tuple: FiveTuple, msg: &Message<'_>, auth: Authed) {
        let key = auth.key;
        let Some(alloc) = self.allocations.get(&tuple) else {
            return self.respond_error(tuple, msg, 437, Some(&key));
        };
        if alloc.username != auth.username {
            self.stats.auth_failures += 1;
            return self.respond_error(tuple, msg, 441, Some(&key));
        }
        let result = match msg.method() {
            Method::REFRESH => self.handle_refresh(now, tuple, msg),
            Method::CREATE_PERMISSION => self.handle_create_permission(now, tuple, msg),
            Method::CHANNEL_BIND => self.handle_channel_bind(now, tuple, msg),
            _ => Err(400),
        };
        match result {
            Ok(lifetime) => {
                let attrs: Vec<Attribute<'_>> = lifetime.map(Attribute::Lifetime).into_iter().collect();
                self.respond(tuple, msg, Class::Success, Some(&key), &attrs);
            }
            Err(code) => self.respond_error(tuple, msg, code, Some(&key)),
        }
    }

    /// RFC 8656 §8.2. Returns the LIFETIME for the success response.
    fn handle_refresh(
        &mut self,
        now: Instant,
        tuple: FiveTuple,
        msg: &Message<'_>,
    ) -> Result<Option<u32>, u16> {
        let lifetime = self.lifetime(msg.lifetime());
        let Some(alloc) = self.allocations.get_mut(&tuple) else {
            return Err(437);
        };
        if let Some(Ok(Attribute::RequestedAddressFamily(f))) =
            msg.attribute(AttrType::REQUESTED_ADDRESS_FAMILY)
        {
            if f != AddressFamily::of(&alloc.relay) {
                return Err(443);
            }
        }
        if lifetime.is_zero() {
            self.remove_allocation(tuple, super::DeleteReason::Deallocated);
            return Ok(Some(0));
        }
        alloc.expires = now + lifetime;
        Ok(Some(u32::try_from(lifetime.as_secs()).unwrap_or(u32::MAX)))
    }

    /// The peer checks shared by CreatePermission and ChannelBind: family (443) then policy (403).
    fn check_peer(&mut self, relay: SocketAddr, peer: SocketAddr) -> Result<(), u16> {
        if AddressFamily::of(&peer) != AddressFamily::of(&relay) {
            return Err(443);
        }
        if !self.config.peer_policy.is_allowed(peer.ip()) {
            self.stats.denied_peers += 1;
            tracing::info!(%peer, "TURN: peer address denied by policy");
            return Err(403);
        }
        Ok(())
    }

    /// RFC 8656 §10.2.
    fn handle_create_permission(
        &mut self,
        now: Instant,
        tuple: FiveTuple,
        msg: &Message<'_>,
    ) -> Result<Option<u32>, u16> {
        let relay = self.allocations.get(&tuple).map(|a| a.relay).ok_or(437u16)?;
        let mut peers = Vec::new();
        for attr in msg.attributes() {
            match attr {
                Ok(Attribute::XorPeerAddress(p)) => peers.push(p),
                Err(oxirtc_stun::StunError::BadAttribute {
                    ty: AttrType::XOR_PEER_ADDRESS,
                    ..
                }) => return Err(400),
                _ => {}
            }
        }
        if peers.is_empty() {
            return Err(400);
        }
        for p in &peers {
            self.check_peer(relay, *p)?;
        }
        let cap = self.config.max_permissions;
        let alloc = self.allocations.get_mut(&tuple).ok_or(437u16)?;
        for p in peers {
            if !alloc.install_permission(now, p.ip(), cap) {
                return Err(508);
            }
        }
        Ok(None)
    }

    /// RFC 8656 §12.2.
    fn handle_channel_bind(
        &mut self,
        now: Instant,
        tuple: FiveTuple,
        msg: &Message<'_>,
    ) -> Result<Option<u32>, u16> {
        let relay = self.allocations.get(&tuple).map(|a| a.relay).ok_or(437u16)?;
        let (Some(Ok(Attribute::ChannelNumber(n))), Some(peer)) =
            (msg.attribute(AttrType::CHANNEL_NUMBER), msg.xor_peer_address())
        else {
            return Err(400);
        };
        let number = ChannelNumber::new_rfc5766(n).ok_or(400u16)?;
        let alloc = self.allocations.get(&tuple).ok_or(437u16)?;
        if alloc.channel_conflict(now, number, peer) {
            return Err(400);
        }
        self.check_peer(relay, peer)?;
        let (pcap, ccap) = (self.config.max_permissions, self.config.max_channels);
        let alloc = self.allocations.get_mut(&tuple).ok_or(437u16)?;
        if !alloc.bind_channel(now, number, peer, ccap) || !alloc.install_permission(now, peer.ip(), pcap) {
            return Err(508);
        }
        Ok(None)
    }

    /// RFC 8656 §11.2: invalid or unpermitted Send indications are silently discarded.
    fn handle_send(&mut self, now: Instant, tuple: FiveTuple, msg: &Message<'_>) {
        let Some(alloc) = self.allocations.get_mut(&tuple) else {
            self.stats.dropped_no_allocation += 1;
            return;
        };
        let (Some(peer), Some(data)) = (msg.xor_peer_address(), msg.data()) else {
            self.stats.dropped_malformed += 1;
            return;
        };
        if msg.attribute(AttrType::DONT_FRAGMENT).is_some()
            || !msg.unknown_comprehension_required().is_empty()
        {
            self.stats.dropped_malformed += 1;
            return;
        }
        if !self.config.peer_policy.is_allowed(peer.ip()) {
            self.stats.denied_peers += 1;
            return;
        }
        if !alloc.has_permission(now, peer.ip()) {
            self.stats.dropped_no_permission += 1;
            return;
        }
        if !alloc
            .to_peer
            .take(now, self.config.max_bytes_per_second, data.len())
        {
            self.stats.dropped_quota += 1;
            return;
        }
        let relay = alloc.relay;
        self.queue_to_peer(relay, peer, data);
    }
}
