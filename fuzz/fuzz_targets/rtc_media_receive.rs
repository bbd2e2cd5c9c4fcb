//! The whole `Rtc` with media negotiated, fed arbitrary RTP and RTCP that get past SRTP: two peers
//! connect in memory (ICE, DTLS-SRTP, audio + video + a data channel), then the fuzzer's packets are
//! protected with the sender's own SRTP keys (`Rtc::fuzz_protect`, feature `fuzzing`) or sent raw,
//! and arrive at the receiver interleaved with time. Invariants: no panic, the receiver's media state
//! stays bounded, and an honest frame still gets through afterwards.
#![no_main]

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use oxirtc::media::TrackKind;
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
    let mut now = Instant::now();
    let (ca, cb) = certs();
    let (aa, ba): (SocketAddr, SocketAddr) = (A.parse().expect("addr"), B.parse().expect("addr"));
    let mut a = peer(1, ca, aa, now);
    let mut b = peer(2, cb, ba, now);
    let ch = a
        .create_data_channel(now, "fuzz", DataChannelInit::default())
        .expect("channel");
    let video = a.add_track(TrackKind::Video, None).expect("video");
    a.add_track(TrackKind::Audio, None).expect("audio");
    let offer = a.create_offer(now).expect("offer");
    a.set_local_description(now, &offer).expect("local offer");
    b.set_remote_description(now, &offer).expect("remote offer");
    let answer = b.create_answer(now).expect("answer");
    b.set_local_description(now, &answer).expect("local answer");
    a.set_remote_description(now, &answer).expect("remote answer");
    let mut opened = Vec::new();
    run(&mut a, &mut b, &mut now, Duration::from_secs(10), &mut opened);
    assert!(opened.len() >= 2, "the honest handshake must complete");
    assert!(
        a.send_codec(video).is_some(),
        "the honest handshake must negotiate media"
    );

    // Fuzzer packets: [len][flags][bytes...]; flags bit 0: protect with a's SRTP keys (else raw),
    // bit 1: advance time by (flags >> 2) × 10 ms.
    let mut rest = data;
    while let [len, flags, tail @ ..] = rest {
        let n = usize::from(*len).min(tail.len());
        let (bytes, next) = tail.split_at(n);
        rest = next;
        let mut packet = bytes.to_vec();
        if flags & 1 == 0 || a.fuzz_protect(&mut packet) {
            b.handle_receive(now, aa, ba, &packet);
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
    assert!(b.media_stats().inbound.len() <= 64, "receive state bounded");
    // The call goes on: the data channel beside the media still carries a message (RTP the
    // fuzzer protected with the sender's own keys may legitimately disturb its media streams).
    run(&mut a, &mut b, &mut now, Duration::from_secs(1), &mut opened);
    let before = b.stats().bytes_received;
    if let Some(mut c) = a.channel(ch) {
        c.send_text(now, "still alive").expect("the channel is open");
    }
    run(&mut a, &mut b, &mut now, Duration::from_secs(5), &mut opened);
    assert!(b.stats().bytes_received > before, "traffic still flows");
});
