//! The TURN server's receive path: a scripted client allocates (so the fuzzer reaches the relaying
//! code), then the input is split into client packets, relay datagrams and clock steps. Nothing may
//! panic, and the transmit queue must stay bounded.
#![no_main]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use oxirtc_crypto::{default_provider, SecureRng};
use oxirtc_stun::{
    long_term_key, Attribute, Class, Message, MessageEncoder, Method, PasswordAlgorithm, TransactionId,
};
use oxirtc_turn::{Credentials, FiveTuple, PeerPolicy, ServerConfig, Transport, TurnServer};

fn request(method: Method, tid: u8, nonce: &str, attrs: &[Attribute<'_>]) -> Vec<u8> {
    let key = long_term_key(default_provider(), "u", "r", "p", PasswordAlgorithm::Md5);
    let mut buf = Vec::new();
    let mut enc = MessageEncoder::new(&mut buf, Class::Request, method, TransactionId([tid; 12]));
    for a in attrs {
        enc.add(a);
    }
    enc.add(&Attribute::Username("u"))
        .add(&Attribute::Realm("r"))
        .add(&Attribute::Nonce(nonce))
        .add_message_integrity(default_provider(), &key);
    buf
}

fn drain(s: &mut TurnServer) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while let Some(t) = s.poll_transmit() {
        out.push(t.contents.to_vec());
    }
    while s.poll_event().is_some() {}
    out
}

fuzz_target!(|data: &[u8]| {
    #[allow(clippy::disallowed_methods)] // the fuzz driver owns the clock
    let mut now = Instant::now();
    let config = ServerConfig {
        realm: "r".into(),
        credentials: Credentials::new().user("u", "p"),
        relay_ips: vec!["127.0.0.1".parse().unwrap()],
        peer_policy: PeerPolicy::default().allow_loopback(true),
        unauth_size_slack: Some(128),
        max_bytes_per_second: 1 << 20,
        ..ServerConfig::default()
    };
    let mut s = TurnServer::new(config, default_provider(), SecureRng::from_seed([0; 32]), now);
    let tuple = FiveTuple {
        client: "127.0.0.1:40000".parse().unwrap(),
        server: "127.0.0.1:3478".parse().unwrap(),
        transport: if data.first().is_some_and(|b| b & 1 == 1) {
            Transport::Tcp
        } else {
            Transport::Udp
        },
    };
    let peer: SocketAddr = "127.0.0.1:9".parse().unwrap();
    s.handle_receive(
        now,
        tuple,
        &request(Method::ALLOCATE, 1, "", &[Attribute::RequestedTransport(17)]),
    );
    let nonce = drain(&mut s)
        .first()
        .and_then(|b| Message::parse(b).ok()?.nonce().map(str::to_owned))
        .unwrap_or_default();
    s.handle_receive(
        now,
        tuple,
        &request(Method::ALLOCATE, 2, &nonce, &[Attribute::RequestedTransport(17)]),
    );
    let relay = drain(&mut s)
        .first()
        .and_then(|b| Message::parse(b).ok()?.xor_relayed_address());
    let bind = [Attribute::ChannelNumber(0x4000), Attribute::XorPeerAddress(peer)];
    s.handle_receive(now, tuple, &request(Method::CHANNEL_BIND, 3, &nonce, &bind));
    drain(&mut s);

    let mut rest = data.get(1..).unwrap_or_default();
    while let [op, l0, l1, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*l0, *l1])).min(tail.len());
        let (pkt, next) = tail.split_at(len);
        rest = next;
        match op % 3 {
            0 => s.handle_receive(now, tuple, pkt),
            1 => s.handle_relay_receive(now, relay.unwrap_or(peer), peer, pkt),
            _ => {
                now += Duration::from_secs(u64::from(*l0));
                s.handle_timeout(now);
            }
        }
        for t in drain(&mut s) {
            assert!(t.len() <= 65_535 + 36);
        }
    }
});
