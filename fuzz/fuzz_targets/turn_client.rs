//! The TURN client's receive path: a client allocates and binds a channel through the server core in
//! memory, then the input is split into datagrams "from the server" and clock steps. Nothing may panic.
#![no_main]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use oxirtc_crypto::{default_provider, SecureRng};
use oxirtc_turn::{
    ClientConfig, Credentials, FiveTuple, PeerPolicy, ServerConfig, Transport, TurnClient, TurnServer,
};

/// Moves datagrams between client and server until both are quiet.
fn settle(now: Instant, c: &mut TurnClient, s: &mut TurnServer, tuple: FiveTuple) {
    for _ in 0..20 {
        let mut moved = false;
        while let Some(t) = c.poll_transmit(now) {
            s.handle_receive(now, tuple, &t.contents);
            moved = true;
        }
        while s.poll_event().is_some() {}
        let mut back = Vec::new();
        while let Some(t) = s.poll_transmit() {
            back.push(t.contents.to_vec());
        }
        for b in back {
            c.handle_receive(now, tuple.server, &b);
            moved = true;
        }
        while c.poll_event().is_some() {}
        if !moved {
            return;
        }
    }
}

fuzz_target!(|data: &[u8]| {
    #[allow(clippy::disallowed_methods)] // the fuzz driver owns the clock
    let mut now = Instant::now();
    let server: SocketAddr = "127.0.0.1:3478".parse().unwrap();
    let tuple = FiveTuple {
        client: "127.0.0.1:40000".parse().unwrap(),
        server,
        transport: Transport::Udp,
    };
    let config = ServerConfig {
        realm: "r".into(),
        credentials: Credentials::new().user("u", "p"),
        relay_ips: vec!["127.0.0.1".parse().unwrap()],
        peer_policy: PeerPolicy::default().allow_loopback(true),
        ..ServerConfig::default()
    };
    let mut s = TurnServer::new(config, default_provider(), SecureRng::from_seed([0; 32]), now);
    let mut c = TurnClient::new(
        ClientConfig::new(server, "u", "p"),
        default_provider(),
        SecureRng::from_seed([1; 32]),
    );
    c.allocate(now);
    settle(now, &mut c, &mut s, tuple);
    let peer: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let _ = c.bind_channel(now, peer);
    settle(now, &mut c, &mut s, tuple);

    let mut rest = data;
    while let [op, l0, l1, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*l0, *l1])).min(tail.len());
        let (pkt, next) = tail.split_at(len);
        rest = next;
        match op % 4 {
            0 => {
                c.handle_receive(now, server, pkt);
            }
            1 => {
                let _ = c.send_to(now, peer, pkt);
            }
            2 => {
                now += Duration::from_secs(u64::from(*l0));
                c.handle_timeout(now);
            }
            _ => {
                c.handle_receive(now, peer, pkt); // not from the server: must be refused
            }
        }
        while c.poll_transmit(now).is_some() {}
        while c.poll_event().is_some() {}
    }
});
