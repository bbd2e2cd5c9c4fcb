//! The TURN client against the server core in memory, on a virtual clock, with seeded loss.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)] // tests own the clock and may unwrap

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use oxirtc_crypto::{default_provider, SecureRng};
use oxirtc_stun::AddressFamily;
use oxirtc_turn::{
    ClientConfig, ClientState, Credentials, FiveTuple, ServerConfig, ServerEvent, Transport, TurnClient,
    TurnError, TurnEvent, TurnServer,
};

struct Datagram {
    at: Instant,
    from: SocketAddr,
    to: SocketAddr,
    transport: Transport,
    data: Vec<u8>,
}

/// One client, one server, one plain UDP peer, a lossy network with 10 ms latency.
struct World {
    now: Instant,
    client: TurnClient,
    client_addr: SocketAddr,
    server: TurnServer,
    server_cfg: ServerConfig,
    listen: SocketAddr,
    relays: HashSet<SocketAddr>,
    peer: SocketAddr,
    peer_inbox: Vec<(SocketAddr, Vec<u8>)>,
    events: Vec<TurnEvent>,
    net: Vec<Datagram>,
    loss_per_mille: u64,
    rng: SecureRng,
}

fn server_config(v6: bool) -> ServerConfig {
    ServerConfig {
        realm: "oxirtc".into(),
        credentials: Credentials::new().user("alice", "secret"),
        relay_ips: vec![if v6 {
            "2001:db8::1".parse().unwrap()
        } else {
            "192.0.2.1".parse().unwrap()
        }],
        min_port: 50000,
        max_port: 50100,
        ..ServerConfig::default()
    }
}

impl World {
    fn new(v6: bool, transport: Transport, password: &str) -> World {
        let now = Instant::now();
        let (client_addr, listen, peer) = if v6 {
            (
                "[2001:db8:1::5]:5000",
                "[2001:db8::1]:3478",
                "[2001:db8:2::9]:7000",
            )
        } else {
            ("198.51.100.5:5000", "192.0.2.1:3478", "203.0.113.9:7000")
        };
        let listen: SocketAddr = listen.parse().unwrap();
        let mut cc = ClientConfig::new(listen, "alice", password);
        cc.transport = transport;
        if v6 {
            cc.family = AddressFamily::V6;
        }
        let server_cfg = server_config(v6);
        World {
            now,
            client: TurnClient::new(cc, default_provider(), SecureRng::from_seed([1; 32])),
            client_addr: client_addr.parse().unwrap(),
            server: TurnServer::new(
                server_cfg.clone(),
                default_provider(),
                SecureRng::from_seed([2; 32]),
                now,
            ),
            server_cfg,
            listen,
            relays: HashSet::new(),
            peer: peer.parse().unwrap(),
            peer_inbox: Vec::new(),
            events: Vec::new(),
            net: Vec::new(),
            loss_per_mille: 0,
            rng: SecureRng::from_seed([3; 32]),
        }
    }

    fn send(&mut self, from: SocketAddr, to: SocketAddr, transport: Transport, data: Vec<u8>) {
        // TCP is reliable; UDP loses packets at the configured rate.
        if transport == Transport::Udp && self.rng.below(1000) < self.loss_per_mille {
            return;
        }
        let at = self.now + Duration::from_millis(10);
        self.net.push(Datagram {
            at,
            from,
            to,
            transport,
            data,
        });
    }

    fn tuple(&self, transport: Transport) -> FiveTuple {
        FiveTuple {
            client: self.client_addr,
            server: self.listen,
            transport,
        }
    }

    /// Moves every queued output into the network.
    fn flush(&mut self) {
        while let Some(t) = self.client.poll_transmit(self.now) {
            self.send(self.client_addr, t.destination, t.transport, t.contents);
        }
        while let Some(e) = self.server.poll_event() {
            match e {
                ServerEvent::AllocationCreated { relay, .. } => self.relays.insert(relay),
                ServerEvent::AllocationDeleted { relay, .. } => self.relays.remove(&relay),
                _ => false,
            };
        }
        let mut out = Vec::new();
        while let Some(t) = self.server.poll_transmit() {
            out.push((t.source, t.destination, t.transport, t.contents.to_vec()));
        }
        for (s, d, tr, c) in out {
            self.send(s, d, tr, c);
        }
        while let Some(e) = self.client.poll_event() {
            self.events.push(e);
        }
    }

    fn deliver(&mut self, d: Datagram) {
        if d.to == self.listen {
            let tuple = self.tuple(d.transport);
            self.server.handle_receive(self.now, tuple, &d.data);
        } else if self.relays.contains(&d.to) {
            self.server.handle_relay_receive(self.now, d.to, d.from, &d.data);
        } else if d.to == self.client_addr {
            assert!(self.client.handle_receive(self.now, d.from, &d.data));
        } else if d.to == self.peer {
            self.peer_inbox.push((d.from, d.data));
        }
    }

    /// Runs the virtual clock until `until`, delivering datagrams and firing timers in order.
    fn run_until(&mut self, until: Instant) {
        loop {
            self.flush();
            let next_net = self.net.iter().map(|d| d.at).min();
            let next = [next_net, self.client.poll_timeout(), self.server.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            let Some(next) = next.filter(|t| *t <= until) else {
                self.now = until;
                self.client.handle_timeout(self.now);
                self.server.handle_timeout(self.now);
                self.flush();
                return;
            };
            self.now = self.now.max(next);
            let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.net)
                .into_iter()
                .partition(|d| d.at <= self.now);
            self.net = later;
            for d in due {
                self.deliver(d);
            }
            self.client.handle_timeout(self.now);
            self.server.handle_timeout(self.now);
        }
    }

    fn run(&mut self, d: Duration) {
        let until = self.now + d;
        self.run_until(until);
    }

    fn take_events(&mut self) -> Vec<TurnEvent> {
        std::mem::take(&mut self.events)
    }

    fn allocate(&mut self) -> SocketAddr {
        self.client.allocate(self.now);
        self.run(Duration::from_secs(5));
        let events = self.take_events();
        match events.as_slice() {
            [TurnEvent::Allocated { relayed, mapped }] => {
                assert_eq!(*mapped, self.client_addr);
                *relayed
            }
            other => panic!("expected Allocated, got {other:?}"),
        }
    }

    fn peer_send(&mut self, to: SocketAddr, data: &[u8]) {
        self.send(self.peer, to, Transport::Udp, data.to_vec());
    }

    fn peer_data(&mut self) -> Vec<Vec<u8>> {
        self.take_events()
            .into_iter()
            .filter_map(|e| match e {
                TurnEvent::PeerData { peer, data } if peer == self.peer => Some(data),
                _ => None,
            })
            .collect()
    }
}

fn full_flow(mut w: World) {
    let relayed = w.allocate();
    assert!(w.relays.contains(&relayed));
    // Send indication before any channel; the permission is requested implicitly.
    w.client.send_to(w.now, w.peer, b"first").unwrap();
    w.run(Duration::from_secs(1));
    w.client.send_to(w.now, w.peer, b"via-send").unwrap();
    w.run(Duration::from_secs(1));
    assert!(w
        .peer_inbox
        .iter()
        .any(|(from, d)| *from == relayed && d == b"via-send"));
    assert!(w
        .take_events()
        .contains(&TurnEvent::PermissionCreated(w.peer.ip())));
    w.peer_send(relayed, b"via-data-indication");
    w.run(Duration::from_secs(1));
    assert_eq!(w.peer_data(), vec![b"via-data-indication".to_vec()]);
    // Channel.
    let ch = w.client.bind_channel(w.now, w.peer).unwrap();
    w.run(Duration::from_secs(1));
    assert!(w.take_events().contains(&TurnEvent::ChannelBound {
        peer: w.peer,
        channel: ch
    }));
    w.peer_inbox.clear();
    w.client.send_to(w.now, w.peer, b"via-channel").unwrap();
    w.run(Duration::from_secs(1));
    assert_eq!(w.peer_inbox, vec![(relayed, b"via-channel".to_vec())]);
    w.peer_send(relayed, b"back-via-channel");
    w.run(Duration::from_secs(1));
    assert_eq!(w.peer_data(), vec![b"back-via-channel".to_vec()]);
    // Deallocate.
    w.client.deallocate(w.now);
    w.run(Duration::from_secs(2));
    assert_eq!(w.take_events(), vec![TurnEvent::Deallocated]);
    assert_eq!(w.server.allocation_count(), 0);
    assert_eq!(w.client.state(), ClientState::Closed);
}

#[test]
fn full_flow_udp_ipv4() {
    full_flow(World::new(false, Transport::Udp, "secret"));
}

#[test]
fn full_flow_tcp_ipv4() {
    full_flow(World::new(false, Transport::Tcp, "secret"));
}

#[test]
fn full_flow_udp_ipv6() {
    full_flow(World::new(true, Transport::Udp, "secret"));
}

#[test]
fn full_flow_survives_ten_percent_loss() {
    for seed in 0..5u8 {
        let mut w = World::new(false, Transport::Udp, "secret");
        w.loss_per_mille = 100;
        w.rng = SecureRng::from_seed([seed; 32]);
        w.client.allocate(w.now);
        w.run(Duration::from_secs(40));
        assert!(
            matches!(w.client.state(), ClientState::Allocated { .. }),
            "seed {seed}"
        );
        w.client.bind_channel(w.now, w.peer).unwrap();
        w.run(Duration::from_secs(40));
        assert!(
            w.take_events()
                .iter()
                .any(|e| matches!(e, TurnEvent::ChannelBound { .. })),
            "seed {seed}"
        );
    }
}

#[test]
fn wrong_password_fails_allocation() {
    let mut w = World::new(false, Transport::Udp, "wrong");
    w.client.allocate(w.now);
    w.run(Duration::from_secs(5));
    match w.take_events().as_slice() {
        [TurnEvent::AllocationFailed(TurnError::ErrorResponse { code: 401, .. })] => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(w.server.allocation_count(), 0);
}

#[test]
fn refresh_schedule_keeps_allocation_permission_and_channel_alive_for_two_hours() {
    let mut w = World::new(false, Transport::Udp, "secret");
    let relayed = w.allocate();
    w.client.create_permission(w.now, w.peer.ip()).unwrap();
    let other_peer: SocketAddr = "203.0.113.10:7000".parse().unwrap();
    w.client.bind_channel(w.now, other_peer).unwrap();
    w.run(Duration::from_secs(2 * 3600));
    assert_eq!(w.server.allocation_count(), 1);
    // Lifetime 600 s, refreshed 60 s early: one refresh every 540 s.
    assert!(w.client.stats().refreshes >= 13, "{:?}", w.client.stats());
    // The permission (300 s) is still installed on the server: peer data gets through.
    w.take_events();
    w.peer_send(relayed, b"still-here");
    w.run(Duration::from_secs(1));
    assert_eq!(w.peer_data(), vec![b"still-here".to_vec()]);
    // The channel (600 s) is still bound: the server relays the other peer's data as ChannelData.
    w.send(other_peer, relayed, Transport::Udp, b"chan".to_vec());
    w.run(Duration::from_secs(1));
    assert!(w.take_events().contains(&TurnEvent::PeerData {
        peer: other_peer,
        data: b"chan".to_vec()
    }));
}

#[test]
fn stale_nonce_is_retried_transparently() {
    let mut w = World::new(false, Transport::Udp, "secret");
    w.server_cfg.nonce_lifetime = Duration::from_secs(60);
    w.server = TurnServer::new(
        w.server_cfg.clone(),
        default_provider(),
        SecureRng::from_seed([2; 32]),
        w.now,
    );
    w.allocate();
    w.run(Duration::from_secs(100));
    w.client.create_permission(w.now, w.peer.ip()).unwrap();
    w.run(Duration::from_secs(2));
    assert_eq!(w.take_events(), vec![TurnEvent::PermissionCreated(w.peer.ip())]);
    assert!(w.client.stats().stale_nonces >= 1);
}

#[test]
fn lost_allocation_437_is_recovered_with_a_new_allocation() {
    let mut w = World::new(false, Transport::Udp, "secret");
    w.allocate();
    w.client.create_permission(w.now, w.peer.ip()).unwrap();
    w.run(Duration::from_secs(1));
    w.take_events();
    // The server restarts: every allocation is gone, and its nonces are no longer valid.
    w.server = TurnServer::new(
        w.server_cfg.clone(),
        default_provider(),
        SecureRng::from_seed([9; 32]),
        w.now,
    );
    w.relays.clear();
    w.run(Duration::from_secs(600));
    let events = w.take_events();
    assert!(
        events.iter().any(|e| matches!(e, TurnEvent::Allocated { .. })),
        "{events:?}"
    );
    assert_eq!(w.client.stats().mismatch_recoveries, 1);
    assert_eq!(w.server.allocation_count(), 1);
    // The permission was reinstalled on the new allocation.
    let relayed = w.client.relayed_address().unwrap();
    w.peer_send(relayed, b"after-recovery");
    w.run(Duration::from_secs(1));
    assert_eq!(w.peer_data(), vec![b"after-recovery".to_vec()]);
}

#[test]
fn allocate_on_a_taken_five_tuple_reports_437() {
    let mut w = World::new(false, Transport::Udp, "secret");
    w.allocate();
    // A second client instance on the same local port (e.g. the application restarted).
    w.client = TurnClient::new(
        ClientConfig::new(w.listen, "alice", "secret"),
        default_provider(),
        SecureRng::from_seed([5; 32]),
    );
    w.client.allocate(w.now);
    w.run(Duration::from_secs(5));
    match w.take_events().as_slice() {
        [TurnEvent::AllocationFailed(TurnError::ErrorResponse { code: 437, .. })] => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn forbidden_peer_is_reported() {
    let mut w = World::new(false, Transport::Udp, "secret");
    w.allocate();
    w.client
        .create_permission(w.now, "10.0.0.9".parse().unwrap())
        .unwrap();
    w.run(Duration::from_secs(2));
    match w.take_events().as_slice() {
        [TurnEvent::PermissionFailed {
            error: TurnError::ErrorResponse { code: 403, .. },
            ..
        }] => {}
        other => panic!("{other:?}"),
    }
    assert!(w
        .client
        .send_to(w.now, "[2001:db8::1]:1".parse().unwrap(), b"x")
        .is_err());
}

#[test]
fn server_timeout_fails_allocation() {
    let mut w = World::new(false, Transport::Udp, "secret");
    w.loss_per_mille = 1000;
    w.client.allocate(w.now);
    w.run(Duration::from_secs(60));
    assert_eq!(
        w.take_events(),
        vec![TurnEvent::AllocationFailed(TurnError::Timeout)]
    );
}

#[test]
fn forged_or_unsigned_responses_are_ignored() {
    use oxirtc_stun::{
        long_term_key, Attribute, Class, ErrorCode, Message, MessageEncoder, Method, PasswordAlgorithm,
    };
    let mut w = World::new(false, Transport::Udp, "secret");
    w.allocate();
    w.client.refresh(w.now);
    // Take the Refresh off the wire and answer it with a 437, once signed with a wrong key, once unsigned.
    let t = w.client.poll_transmit(w.now).unwrap();
    let tid = Message::parse(&t.contents).unwrap().transaction_id();
    let wrong = long_term_key(
        default_provider(),
        "alice",
        "oxirtc",
        "guess",
        PasswordAlgorithm::Md5,
    );
    let mismatch = Attribute::ErrorCode(ErrorCode {
        code: 437,
        reason: "",
    });
    let mut forged = Vec::new();
    MessageEncoder::new(&mut forged, Class::Error, Method::REFRESH, tid)
        .add(&mismatch)
        .add_message_integrity(default_provider(), &wrong);
    let mut unsigned = Vec::new();
    MessageEncoder::new(&mut unsigned, Class::Error, Method::REFRESH, tid).add(&mismatch);
    for bytes in [&forged, &unsigned] {
        assert!(w.client.handle_receive(w.now, w.listen, bytes));
    }
    assert!(matches!(w.client.state(), ClientState::Allocated { .. }));
    assert_eq!(w.client.stats().mismatch_recoveries, 0);
    assert_eq!(w.client.stats().dropped, 2);
    // The retransmitted Refresh still completes.
    let before = w.client.stats().refreshes;
    w.run(Duration::from_secs(5));
    assert_eq!(w.client.stats().refreshes, before + 1);
    // Datagrams from anyone but the server are not the client's.
    assert!(!w.client.handle_receive(w.now, w.peer, &forged));
}

#[test]
fn queued_sends_leave_in_order_through_one_reused_buffer() {
    let mut w = World::new(false, Transport::Udp, "secret");
    let relayed = w.allocate();
    w.client.bind_channel(w.now, w.peer).unwrap();
    w.run(Duration::from_secs(1));
    w.peer_inbox.clear();
    // Three packets queued before any is polled, of different sizes (the queue is one arena).
    let payloads: [&[u8]; 3] = [b"one", b"a longer second payload", b""];
    for p in payloads {
        w.client.send_to(w.now, w.peer, p).unwrap();
    }
    let mut buf = Vec::with_capacity(2048);
    let cap = buf.capacity();
    let mut sent = Vec::new();
    while let Some((to, transport)) = w.client.poll_transmit_into(w.now, &mut buf) {
        assert_eq!((to, transport), (w.client.server(), Transport::Udp));
        sent.push(buf.clone());
    }
    assert_eq!(buf.capacity(), cap, "the caller's buffer is reused, not replaced");
    assert_eq!(sent.len(), 3);
    for d in sent {
        w.send(w.client_addr, w.client.server(), Transport::Udp, d);
    }
    w.run(Duration::from_secs(1));
    let got: Vec<Vec<u8>> = w
        .peer_inbox
        .iter()
        .map(|(from, d)| {
            assert_eq!(*from, relayed);
            d.clone()
        })
        .collect();
    assert_eq!(got, payloads.iter().map(|p| p.to_vec()).collect::<Vec<_>>());
    // The queue is empty and the next send starts a fresh arena.
    assert!(w.client.poll_transmit_into(w.now, &mut buf).is_none());
    w.client.send_to(w.now, w.peer, b"again").unwrap();
    assert!(w
        .client
        .poll_transmit(w.now)
        .is_some_and(|t| t.contents.ends_with(b"again")));
}
