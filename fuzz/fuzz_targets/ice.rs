//! Fuzzes the ICE agent's receive path: raw datagrams, and validly signed checks and responses built from
//! fuzzer-chosen fields (so the fuzzer gets past MESSAGE-INTEGRITY into the state machine), interleaved
//! with time. Invariants: no panic, bounded state, and the agent never asks to send to an address it was
//! not given or did not learn.
#![no_main]

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use oxirtc_crypto::{default_provider, SecureRng};
use oxirtc_ice::{Candidate, IceAgent, IceConfig, IceCredentials};
use oxirtc_stun::{short_term_key, Attribute, Class, Message, MessageEncoder, Method, TransactionId};

const LOCAL: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)), 5000);

fn peer(port_byte: u8) -> SocketAddr {
    SocketAddr::new(
        Ipv4Addr::new(198, 51, 100, port_byte % 4).into(),
        6000 + u16::from(port_byte % 8),
    )
}

fuzz_target!(|data: &[u8]| {
    let start = Instant::now();
    let mut now = start;
    let controlling = data.first().is_some_and(|b| b & 1 == 1);
    let cfg = IceConfig {
        controlling,
        max_remote_candidates: 16,
        max_pairs: 16,
        ..IceConfig::default()
    };
    let crypto = default_provider();
    let mut agent = IceAgent::new(cfg, crypto, SecureRng::from_seed([5; 32]));
    let remote = IceCredentials {
        ufrag: "fuzzufrag".into(),
        pwd: "fuzzpasswordfuzzpassword".into(),
    };
    let _ = agent.add_host(now, LOCAL);
    let _ = agent.set_remote_credentials(now, remote.clone());
    let _ = agent.add_remote_candidate(now, Candidate::host(peer(0), 65535));
    let local_ufrag = agent.local_credentials().ufrag.clone();
    let local_key = short_term_key(&agent.local_credentials().pwd);
    let remote_key = short_term_key(&remote.pwd);
    let mut last_request: Option<(TransactionId, SocketAddr)> = None;
    // Sources of authenticated checks: the only strangers the agent may answer.
    let mut answered_sources: Vec<SocketAddr> = Vec::new();

    let mut rest = data.get(1..).unwrap_or_default();
    while let Some((&op, tail)) = rest.split_first() {
        rest = tail;
        match op % 4 {
            0 => {
                // A raw datagram of up to 255 bytes.
                let len = usize::from(rest.first().copied().unwrap_or(0)).min(rest.len().saturating_sub(1));
                let payload = rest.get(1..1 + len).unwrap_or_default();
                agent.handle_receive(now, peer(op >> 2), LOCAL, payload);
                rest = rest.get(1 + len..).unwrap_or_default();
            }
            1 => {
                // A validly signed check with fuzzed fields.
                let Some((f, tail)) = rest.split_first_chunk::<10>() else {
                    break;
                };
                rest = tail;
                let mut out = Vec::new();
                let mut enc = MessageEncoder::new(
                    &mut out,
                    Class::Request,
                    Method::BINDING,
                    TransactionId([f[0]; 12]),
                );
                let username = format!("{local_ufrag}:fuzzufrag");
                enc.add(&Attribute::Username(&username));
                if f[1] & 1 == 1 {
                    enc.add(&Attribute::Priority(u32::from_be_bytes([f[2], f[3], f[4], f[5]])));
                }
                let tie = u64::from(f[6]) << 56 | u64::from(f[7]);
                match f[1] >> 1 & 3 {
                    0 => {
                        enc.add(&Attribute::IceControlling(tie));
                    }
                    1 => {
                        enc.add(&Attribute::IceControlled(tie));
                    }
                    _ => {}
                }
                if f[1] & 8 == 8 {
                    enc.add(&Attribute::UseCandidate);
                }
                enc.add_message_integrity(crypto, &local_key);
                enc.add_fingerprint();
                answered_sources.push(peer(f[8]));
                answered_sources.push(peer(f[8]));
                agent.handle_receive(now, peer(f[8]), LOCAL, &out);
            }
            2 => {
                // A validly signed response to the last request the agent sent, success or error.
                let Some((f, tail)) = rest.split_first_chunk::<4>() else {
                    break;
                };
                rest = tail;
                if let Some((tid, to)) = last_request {
                    let class = if f[0] & 1 == 0 {
                        Class::Success
                    } else {
                        Class::Error
                    };
                    let mut out = Vec::new();
                    let mut enc = MessageEncoder::new(&mut out, class, Method::BINDING, tid);
                    if class == Class::Success {
                        enc.add(&Attribute::XorMappedAddress(peer(f[1])));
                    } else {
                        let code = [400, 401, 420, 487, 500][usize::from(f[1]) % 5];
                        enc.add(&Attribute::ErrorCode(oxirtc_stun::ErrorCode { code, reason: "" }));
                    }
                    enc.add_message_integrity(crypto, &remote_key);
                    enc.add_fingerprint();
                    let from = if f[2] & 1 == 0 { to } else { peer(f[3]) };
                    agent.handle_receive(now, from, LOCAL, &out);
                }
            }
            _ => {
                // Time passes: up to ~65 s.
                let Some((f, tail)) = rest.split_first_chunk::<2>() else {
                    break;
                };
                rest = tail;
                now += Duration::from_millis(u64::from(u16::from_be_bytes(*f)));
                agent.handle_timeout(now);
            }
        }
        while let Some(t) = agent.poll_transmit(now) {
            assert_eq!(t.source, LOCAL, "sent from an address we do not own");
            let m = Message::parse(&t.contents).expect("the agent sends valid STUN");
            if m.class() == Class::Request {
                // Checks only go to candidates we were given or learned (no traffic cannon).
                let known = agent.remote_candidates().iter().any(|c| c.addr == t.destination);
                assert!(known, "check sent to a stranger");
                last_request = Some((m.transaction_id(), t.destination));
            } else {
                assert!(
                    answered_sources.contains(&t.destination),
                    "response to an unauthenticated source"
                );
            }
        }
        while agent.poll_event().is_some() {}
        assert!(agent.remote_candidates().len() <= 16 && agent.pair_count() <= 16);
        if let Some(next) = agent.poll_timeout() {
            assert!(next >= start, "timeout in the past of the start");
        }
    }
});
