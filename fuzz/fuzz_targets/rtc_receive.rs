//! The whole `Rtc` fed arbitrary datagrams after a real handshake: two peers connect in memory (ICE,
//! DTLS, SCTP, a data channel), then the fuzzer's datagrams arrive at one of them, interleaved with
//! time and honest traffic. Invariants: no panic, and the connection survives garbage (the channel
//! stays open and a message still gets through).
#![no_main]

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use oxirtc::{ChannelId, DataChannelInit, Rtc, RtcConfig, RtcEvent};
use oxirtc_crypto::{default_provider, DtlsCertificate};

const A: &str = "10.0.0.1:5000";
const B: &str = "10.0.0.2:6000";

fn certs() -> &'static (Arc<DtlsCertificate>, Arc<DtlsCertificate>) {
    static CERTS: OnceLock<(Arc<DtlsCertificate>, Arc<DtlsCertificate>)> = OnceLock::new();
    CERTS.get_or_init(|| {
        let p = default_provider();
        (
            Arc::new(p.self_signed_certificate().expect("certificate")),
            Arc::new(p.self_signed_certificate().expect("certificate")),
        )
    })
}

fn peer(seed: u8, cert: &Arc<DtlsCertificate>, addr: SocketAddr, now: Instant) -> Rtc {
    let config = RtcConfig {
        rng_seed: Some([seed; 32]),
        ..RtcConfig::default()
    };
    let mut rtc = Rtc::with_certificate(config, cert.clone()).expect("rtc");
    rtc.add_host_candidate(now, addr).expect("host candidate");
    rtc
}

/// Moves every datagram between the two and advances time until nothing is pending or `limit` passes.
fn run(a: &mut Rtc, b: &mut Rtc, now: &mut Instant, limit: Duration, opened: &mut Vec<ChannelId>) {
    let end = *now + limit;
    while *now < end {
        let mut moved = false;
        while let Some(t) = a.poll_transmit(*now) {
            b.handle_receive(*now, t.source, t.destination, &t.contents);
            moved = true;
        }
        while let Some(t) = b.poll_transmit(*now) {
            a.handle_receive(*now, t.source, t.destination, &t.contents);
            moved = true;
        }
        for rtc in [&mut *a, &mut *b] {
            while let Some(ev) = rtc.poll_event() {
                if let RtcEvent::ChannelOpen(id) = ev {
                    opened.push(id);
                }
            }
        }
        if !moved {
            let next = [a.poll_timeout(), b.poll_timeout()].into_iter().flatten().min();
            match next {
                Some(t) if t <= end => *now = t.max(*now),
                _ => return,
            }
            a.handle_timeout(*now);
            b.handle_timeout(*now);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let start = Instant::now();
    let mut now = start;
    let (ca, cb) = certs();
    let (aa, ba): (SocketAddr, SocketAddr) = (A.parse().expect("addr"), B.parse().expect("addr"));
    let mut a = peer(1, ca, aa, now);
    let mut b = peer(2, cb, ba, now);
    let ch = a
        .create_data_channel(now, "fuzz", DataChannelInit::default())
        .expect("channel");
    let offer = a.create_offer(now).expect("offer");
    a.set_local_description(now, &offer).expect("local offer");
    b.set_remote_description(now, &offer).expect("remote offer");
    let answer = b.create_answer(now).expect("answer");
    b.set_local_description(now, &answer).expect("local answer");
    a.set_remote_description(now, &answer).expect("remote answer");
    let mut opened = Vec::new();
    run(&mut a, &mut b, &mut now, Duration::from_secs(10), &mut opened);
    assert!(opened.len() >= 2, "the honest handshake must complete");

    // Fuzzer datagrams: [len][flags][bytes...]; flags bit 0 picks the target, bit 1 advances time.
    let mut rest = data;
    while let [len, flags, tail @ ..] = rest {
        let n = usize::from(*len).min(tail.len());
        let (datagram, next) = tail.split_at(n);
        rest = next;
        if flags & 1 == 0 {
            b.handle_receive(now, aa, ba, datagram);
        } else {
            a.handle_receive(now, ba, aa, datagram);
        }
        if flags & 2 != 0 {
            run(
                &mut a,
                &mut b,
                &mut now,
                Duration::from_millis(u64::from(flags >> 2) * 10),
                &mut opened,
            );
        }
    }
    run(&mut a, &mut b, &mut now, Duration::from_secs(1), &mut opened);
    if let Some(mut c) = a.channel(ch) {
        let _ = c.send_text(now, "still alive");
    }
    run(&mut a, &mut b, &mut now, Duration::from_secs(5), &mut opened);
});
