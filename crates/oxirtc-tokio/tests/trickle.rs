//! Trickle ICE (RFC 8838) through the async API: both peers are relay-only, so their offer and answer
//! carry no candidates at all; the relayed candidates arrive later as `IceCandidate` events and are
//! passed on with `add_ice_candidate`. The TURN server is oxirtc-turn's sans-IO core on a small tokio
//! loop in this test.
#![allow(clippy::unwrap_used)] // test set-up failures should panic loudly

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use oxirtc_crypto::{default_provider, SecureRng};
use oxirtc_tokio::{
    Config, DataChannelInit, IceTransportPolicy, Message, PeerConnection, PeerConnectionEvent,
    TurnServerConfig,
};
use oxirtc_turn::{Credentials, FiveTuple, PeerPolicy, ServerConfig, ServerEvent, Transport, TurnServer};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

/// Runs a TURN server on 127.0.0.1 until the test ends; returns its address.
#[allow(clippy::disallowed_methods)] // the test's runtime owns the clock
async fn turn_server() -> SocketAddr {
    let listen = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
    let addr = listen.local_addr().unwrap();
    let config = ServerConfig {
        realm: "test".into(),
        credentials: Credentials::new().user("u", "p"),
        relay_ips: vec![addr.ip()],
        // Below the ephemeral range, so no socket of this process holds a relay port.
        min_port: 21_000 + addr.port() % 1000 * 10,
        max_port: 21_009 + addr.port() % 1000 * 10,
        peer_policy: PeerPolicy::default().allow_loopback(true),
        ..ServerConfig::default()
    };
    let mut server = TurnServer::new(
        config,
        default_provider(),
        SecureRng::from_seed([3; 32]),
        Instant::now(),
    );
    let (tx, mut rx) = mpsc::channel::<(SocketAddr, SocketAddr, Vec<u8>)>(1024);
    spawn_reader(listen.clone(), tx.clone());
    tokio::spawn(async move {
        let mut relays: HashMap<SocketAddr, Arc<UdpSocket>> = HashMap::new();
        loop {
            let sleep = server.poll_timeout().map_or(Duration::from_secs(1), |t| {
                t.saturating_duration_since(Instant::now())
            });
            tokio::select! {
                Some((local, from, data)) = rx.recv() => {
                    if local == addr {
                        let tuple = FiveTuple { client: from, server: addr, transport: Transport::Udp };
                        server.handle_receive(Instant::now(), tuple, &data);
                    } else {
                        server.handle_relay_receive(Instant::now(), local, from, &data);
                    }
                }
                () = tokio::time::sleep(sleep) => server.handle_timeout(Instant::now()),
            }
            while let Some(ev) = server.poll_event() {
                match ev {
                    ServerEvent::AllocationCreated { relay, .. } => match UdpSocket::bind(relay).await {
                        Ok(s) => {
                            let s = Arc::new(s);
                            spawn_reader(s.clone(), tx.clone());
                            relays.insert(relay, s);
                        }
                        Err(_) => server.relay_bind_failed(relay),
                    },
                    ServerEvent::AllocationDeleted { relay, .. } => {
                        relays.remove(&relay);
                    }
                    _ => {}
                }
            }
            while let Some(t) = server.poll_transmit() {
                let socket = if t.source == addr {
                    Some(&listen)
                } else {
                    relays.get(&t.source)
                };
                if let Some(s) = socket {
                    let _ = s.send_to(t.contents, t.destination).await;
                }
            }
        }
    });
    addr
}

fn spawn_reader(socket: Arc<UdpSocket>, tx: mpsc::Sender<(SocketAddr, SocketAddr, Vec<u8>)>) {
    tokio::spawn(async move {
        let local = socket.local_addr().unwrap();
        let mut buf = vec![0u8; 2048];
        while let Ok((n, from)) = socket.recv_from(&mut buf).await {
            if tx.send((local, from, buf[..n].to_vec())).await.is_err() {
                return;
            }
        }
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relayed_candidates_trickle_after_the_offer_and_answer() {
    let turn = turn_server().await;
    let config = || Config {
        turn_servers: vec![TurnServerConfig::udp(turn, "u", "p")],
        ice_transport_policy: IceTransportPolicy::Relay,
        ..Config::loopback()
    };
    let a = PeerConnection::new(config()).await.unwrap();
    let b = PeerConnection::new(config()).await.unwrap();
    let mut da = a
        .create_data_channel("trickle", DataChannelInit::default())
        .await
        .unwrap();
    // Signaling passes descriptions without candidates (as a trickling peer sends them before
    // gathering); candidates travel only as trickled `IceCandidate` events.
    let strip = |mut d: oxirtc_tokio::Description| {
        d.sdp = d
            .sdp
            .lines()
            .filter(|l| !l.starts_with("a=candidate") && !l.starts_with("a=end-of-candidates"))
            .map(|l| format!("{l}\r\n"))
            .collect();
        d
    };
    let offer = a.create_offer().await.unwrap();
    a.set_local_description(offer.clone()).await.unwrap();
    b.set_remote_description(strip(offer)).await.unwrap();
    let answer = b.create_answer().await.unwrap();
    b.set_local_description(answer.clone()).await.unwrap();
    a.set_remote_description(strip(answer)).await.unwrap();
    // Trickle: each side's relayed candidate goes to the other as it is gathered.
    let run = async {
        let mut db = None;
        let mut trickled = 0;
        while db.is_none() || trickled < 2 {
            tokio::select! {
                Some(ev) = a.next_event() => if let PeerConnectionEvent::IceCandidate(c) = ev {
                    assert!(c.contains("typ relay"), "{c}");
                    b.add_ice_candidate(c).await.unwrap();
                    trickled += 1;
                },
                Some(ev) = b.next_event() => match ev {
                    PeerConnectionEvent::IceCandidate(c) => {
                        assert!(c.contains("typ relay"), "{c}");
                        a.add_ice_candidate(c).await.unwrap();
                        trickled += 1;
                    }
                    PeerConnectionEvent::DataChannel(dc) => db = Some(dc),
                    _ => {}
                },
            }
        }
        db.unwrap()
    };
    let mut db = tokio::time::timeout(Duration::from_secs(20), run).await.unwrap();
    da.opened().await.unwrap();
    da.send_text("via relay").await.unwrap();
    assert_eq!(db.recv().await.unwrap(), Message::text("via relay"));
    // Data may flow on a valid pair before the nomination lands (RFC 8445 §12.1): wait for it.
    let selected = async {
        loop {
            if let Some(pair) = a.stats().await.unwrap().selected_pair {
                return pair;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    let (local, remote) = tokio::time::timeout(Duration::from_secs(10), selected)
        .await
        .expect("no selected pair 10 s after the data went through");
    assert_ne!(local.port(), remote.port());
    assert!(db.stream_id().is_some());
}
