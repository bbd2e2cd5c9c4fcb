//! Hostile and careless peers (issue 7 §5): a reader that stops reading, a peer that opens every
//! stream, a DTLS flood from addresses that are not the peer. Each must leave memory bounded and the
//! honest traffic of the same connection intact.

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use common::{connect_with_channel, numbered, pair, B_ADDR};
use oxirtc::{DataChannelInit, RtcConfig, RtcEvent};
use oxirtc_netsim::LinkConfig;

/// RFC 9260 §6.2 with the application in the loop: messages the application has not polled count
/// against the receive window, so the sender stops instead of the receiver's queue growing.
#[test]
fn a_reader_that_stops_reading_closes_the_window_then_everything_arrives() {
    let mut sim = pair(11, LinkConfig::default());
    let (a_ch, b_ch) = connect_with_channel(&mut sim, 0, DataChannelInit::default());
    let window = RtcConfig::default().sctp.receive_window as usize;
    let total = 64usize; // 64 × 256 KiB = 16 MiB, sixteen windows
    let len = 256 * 1024;
    sim.endpoint_mut(1).paused = true;
    sim.endpoint_mut(0)
        .queue(a_ch, (0..total as u32).map(|i| numbered(i, len)));
    sim.run_for(Duration::from_secs(30));

    // Nothing polled on B for 30 s: what waits there is bounded by the window, and A stopped.
    let mut held = 0usize;
    let mut held_messages = Vec::new();
    while let Some(ev) = sim.endpoint_mut(1).rtc.poll_event() {
        if let RtcEvent::ChannelMessage { data, .. } = ev {
            held += data.len();
            held_messages.push(data);
        }
    }
    assert!(held > 0, "some data must have arrived");
    assert!(
        held <= window,
        "{held} bytes waited unread, more than the {window}-byte window"
    );
    let left = sim.endpoint(0).outbox[&a_ch].len();
    assert!(
        left >= total - 16,
        "the sender kept going: only {left} of {total} messages left"
    );

    // The reader comes back: every message arrives, in order and intact.
    let now = sim.now();
    let b = sim.endpoint_mut(1);
    b.paused = false;
    b.received
        .entry(b_ch)
        .or_default()
        .extend(held_messages.into_iter().map(|d| (d, true)));
    b.drain(now);
    let ok = sim.run_until(Duration::from_secs(60), |s| {
        s.endpoint(1).received.get(&b_ch).map_or(0, Vec::len) == total
    });
    assert!(ok, "not everything arrived after the reader came back");
    for (i, (data, _)) in sim.endpoint(1).received[&b_ch].iter().enumerate() {
        assert_eq!(data, &numbered(i as u32, len), "message {i}");
    }
}

/// A peer that opens as many channels as its stream ids allow is held to `max_channels`; the rest
/// are refused by stream reset (RFC 8831 §6.7) and the first channel keeps working.
#[test]
fn a_peer_opening_every_stream_is_held_to_max_channels() {
    let mut sim = pair(12, LinkConfig::default());
    let hostile = RtcConfig {
        max_channels: 65_535,
        rng_seed: Some([7; 32]),
        ..RtcConfig::default()
    };
    sim.endpoint_mut(0).rtc = oxirtc::Rtc::new(hostile).unwrap();
    let a_addr: SocketAddr = common::A_ADDR.parse().unwrap();
    let now = sim.now();
    sim.endpoint_mut(0).rtc.add_host_candidate(now, a_addr).unwrap();
    let (a_ch, b_ch) = connect_with_channel(&mut sim, 0, DataChannelInit::default());
    let limit = RtcConfig::default().max_channels;

    let now = sim.now();
    let mut opened = 1;
    while sim
        .endpoint_mut(0)
        .rtc
        .create_data_channel(now, "flood", DataChannelInit::default())
        .is_ok()
    {
        opened += 1;
    }
    assert!(
        opened > 30_000,
        "the hostile side could open only {opened} channels"
    );
    sim.run_for(Duration::from_secs(20));

    let victim = &sim.endpoint(1);
    let accepted = victim.open.len();
    assert!(accepted <= limit, "{accepted} channels accepted, limit {limit}");
    assert!(
        victim.rtc.stats().refused_channels as usize >= opened - limit,
        "refused {} of {opened}",
        victim.rtc.stats().refused_channels
    );
    // The honest channel still carries data both ways.
    sim.endpoint_mut(0).queue(a_ch, [b"after the flood".to_vec()]);
    sim.endpoint_mut(1).queue(b_ch, [b"still here".to_vec()]);
    let ok = sim.run_until(Duration::from_secs(10), |s| {
        s.endpoint(1).received.get(&b_ch).is_some_and(|m| !m.is_empty())
            && s.endpoint(0).received.get(&a_ch).is_some_and(|m| !m.is_empty())
    });
    assert!(ok, "the first channel stopped working after the flood");
}

/// DTLS from addresses that are no ICE candidate of the peer never reaches the DTLS layer: a flood of
/// real ClientHellos from 10,000 sources leaves the handshake state and the connection alone.
#[test]
fn a_dtls_client_hello_flood_from_strangers_is_dropped_before_dtls() {
    let mut sim = pair(13, LinkConfig::default());
    let (a_ch, b_ch) = connect_with_channel(&mut sim, 0, DataChannelInit::default());
    let hello = real_client_hello(sim.now());
    let b_addr: SocketAddr = B_ADDR.parse().unwrap();
    let before = sim.endpoint(1).rtc.dtls_stats().cloned();
    let now = sim.now();
    for i in 0..10_000u32 {
        let [_, x, y, z] = i.to_be_bytes();
        let stranger = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(198, x, y, z)), 40_000);
        sim.endpoint_mut(1)
            .rtc
            .handle_receive(now, stranger, b_addr, &hello);
    }
    let b = sim.endpoint(1);
    assert_eq!(b.rtc.stats().dropped_unknown_source, 10_000);
    assert_eq!(
        b.rtc.dtls_stats().cloned(),
        before,
        "a stranger's datagram reached DTLS"
    );
    sim.endpoint_mut(0).queue(a_ch, [b"unharmed".to_vec()]);
    let ok = sim.run_until(Duration::from_secs(10), |s| {
        s.endpoint(1).received.get(&b_ch).is_some_and(|m| !m.is_empty())
    });
    assert!(ok, "the connection did not survive the flood");
}

/// The first flight of a real DTLS client.
#[allow(clippy::unwrap_used)] // test set-up: a failure should panic loudly
fn real_client_hello(now: std::time::Instant) -> Vec<u8> {
    let crypto = oxirtc_crypto::default_provider();
    let cert = Arc::new(crypto.self_signed_certificate().unwrap());
    let mut client = oxirtc_dtls::Dtls::new(
        oxirtc_dtls::DtlsConfig::default(),
        oxirtc_dtls::Role::Client,
        cert,
        crypto,
        oxirtc_crypto::SecureRng::from_seed([3; 32]),
    );
    client.start(now);
    let hello = client.poll_transmit().unwrap();
    assert_eq!(hello[0], 22, "a handshake record");
    hello
}
