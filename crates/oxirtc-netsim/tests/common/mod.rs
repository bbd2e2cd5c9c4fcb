//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use oxirtc_netsim::{Datagram, HostId, Network};

/// The one real clock read of a test: everything after it is virtual time.
#[allow(clippy::disallowed_methods)]
pub fn start() -> Instant {
    Instant::now()
}

pub fn addr(s: &str) -> SocketAddr {
    s.parse().expect("test address")
}

pub fn dgram(source: &str, destination: &str, payload: &[u8]) -> Datagram {
    Datagram {
        source: addr(source),
        destination: addr(destination),
        payload: payload.to_vec(),
    }
}

/// A datagram whose payload is a sequence number.
pub fn numbered(source: &str, destination: &str, n: u32, len: usize) -> Datagram {
    let mut payload = vec![0u8; len.max(4)];
    payload[..4].copy_from_slice(&n.to_be_bytes());
    Datagram {
        source: addr(source),
        destination: addr(destination),
        payload,
    }
}

pub fn number(d: &Datagram) -> u32 {
    u32::from_be_bytes(d.payload[..4].try_into().expect("numbered payload"))
}

/// Everything delivered until the network is idle or the next event is after `until`, with its time.
pub fn drain_until(net: &mut Network, mut now: Instant, until: Instant) -> Vec<(Instant, HostId, Datagram)> {
    let mut out = Vec::new();
    loop {
        while let Some((host, d)) = net.poll_delivery(now) {
            out.push((now, host, d));
        }
        match net.poll_timeout() {
            Some(t) if t <= until => now = now.max(t),
            _ => return out,
        }
    }
}

/// Everything delivered until the network is idle.
pub fn drain(net: &mut Network, now: Instant) -> Vec<(Instant, HostId, Datagram)> {
    drain_until(net, now, now + Duration::from_secs(3600))
}
