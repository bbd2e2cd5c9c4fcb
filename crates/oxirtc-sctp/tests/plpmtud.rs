//! Path MTU discovery (RFC 8899 §6.2) between two associations on a path that drops every packet
//! larger than its MTU, as a router with DF set does without sending a PTB (or a PTB nobody sees).
//!
//! IP sizes map to SCTP packet sizes through the IPv4 + UDP + DTLS AES-GCM overhead (20 + 8 + 37).

mod common;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use common::{payload, Link, Sim};
use oxirtc_sctp::{Ppid, SctpConfig, SctpError, SctpEvent, SendOptions, StreamId};

/// IPv4 + UDP + DTLS 1.2 AES-GCM record bytes around one SCTP packet.
const OVERHEAD: usize = 20 + 8 + 13 + 8 + 16;

fn sctp_size(ip: usize) -> usize {
    ip - OVERHEAD
}

fn config() -> SctpConfig {
    SctpConfig {
        mtu: sctp_size(1200),
        max_mtu: sctp_size(1500),
        ..SctpConfig::default()
    }
}

/// A pair on a 10 ms link whose path MTU (IP bytes) the returned cell sets, in both directions.
fn pair(seed: u8, ip_mtu: usize) -> (Sim, Rc<Cell<usize>>) {
    let mut sim = Sim::new(seed, config(), config(), Link::perfect(10), Link::perfect(10));
    sim.max_packet = sctp_size(1500);
    let mtu = Rc::new(Cell::new(ip_mtu));
    let path = mtu.clone();
    sim.filter = Some(Box::new(move |_, _, p| {
        (p.len() + OVERHEAD <= path.get()).then_some(p)
    }));
    (sim, mtu)
}

/// Sends `count` messages of `len` bytes from A to B; `at_half` runs once half were delivered.
fn transfer(sim: &mut Sim, count: u64, len: usize, mut at_half: impl FnMut(&mut Sim)) -> bool {
    let mut next = 0u64;
    let mut half_done = false;
    let ok = sim.run_until(Duration::from_secs(600), |s| {
        while next < count {
            let now = s.now;
            let data = payload(next, len);
            match s
                .a
                .send(now, StreamId(1), Ppid::BINARY, &data, SendOptions::default())
            {
                Ok(()) => next += 1,
                Err(SctpError::WouldBlock { .. }) => break,
                Err(e) => panic!("{e}"),
            }
        }
        let got = Sim::count(&s.events_b) as u64;
        if !half_done && got >= count / 2 {
            half_done = true;
            at_half(s);
        }
        got == count
    });
    let msgs = Sim::messages(&sim.events_b);
    for (i, (_, _, data)) in msgs.iter().enumerate() {
        assert!(
            *data == payload(i as u64, len),
            "message {i} corrupted or out of order"
        );
    }
    ok
}

#[test]
fn every_byte_arrives_and_the_pmtu_fits_the_path() {
    for (seed, ip_mtu) in [(1u8, 1200usize), (2, 1280), (3, 1500)] {
        let (mut sim, _) = pair(seed, ip_mtu);
        sim.connect_both();
        // Data flows while the search runs (lost sizes take 3 probe timers each).
        assert!(transfer(&mut sim, 16, 64 << 10, |_| {}));
        sim.run_until(Duration::from_secs(120), |_| false);
        sim.events_b.clear();
        assert!(
            transfer(&mut sim, 64, 64 << 10, |_| {}),
            "IP MTU {ip_mtu}: transfer incomplete"
        );
        let st = sim.a.stats().clone();
        assert!(
            st.pmtu <= sctp_size(ip_mtu),
            "IP MTU {ip_mtu}: PMTU {} too large",
            st.pmtu
        );
        // The search stops within 16 bytes (+ 4-byte alignment) of the path.
        assert!(
            st.pmtu + 20 > sctp_size(ip_mtu),
            "IP MTU {ip_mtu}: PMTU {} too small",
            st.pmtu
        );
        assert!(st.pmtu_probes_acked >= 1, "IP MTU {ip_mtu}: {st:?}");
        assert_eq!(st.pmtu_black_holes, 0);
        // Probe loss is not congestion: nothing lost but probes, so no data retransmission.
        assert_eq!(st.retransmissions, 0, "IP MTU {ip_mtu}: {st:?}");
    }
}

#[test]
fn a_1500_path_is_used_after_two_round_trips() {
    let (mut sim, _) = pair(4, 1500);
    sim.connect_both();
    // Packet sizes are multiples of 4 (RFC 9260 §3.2).
    let full = sctp_size(1500) & !3;
    assert!(sim.run_until(Duration::from_secs(1), |s| s.a.stats().pmtu == full));
    assert!(sim.elapsed() < Duration::from_millis(200), "{:?}", sim.elapsed());
    // Bulk data then goes in full-size packets.
    sim.log_packets = true;
    assert!(transfer(&mut sim, 8, 64 << 10, |_| {}));
    let largest = sim.sent_log.iter().map(|(_, _, p)| p.len()).max().unwrap_or(0);
    assert_eq!(largest, full);
}

#[test]
fn discovery_off_keeps_the_configured_size() {
    let c = SctpConfig {
        mtu: sctp_size(1200),
        max_mtu: 0,
        ..SctpConfig::default()
    };
    let mut sim = Sim::new(5, c.clone(), c, Link::perfect(10), Link::perfect(10));
    sim.log_packets = true;
    sim.connect_both();
    assert!(transfer(&mut sim, 8, 64 << 10, |_| {}));
    assert_eq!(sim.a.stats().pmtu_probes_sent, 0);
    assert!(sim.sent_log.iter().all(|(_, _, p)| p.len() <= sctp_size(1200)));
}

/// The path MTU falls from 1500 to 1280 mid-transfer with no PTB: repeated T3 expirations, then lost
/// probes of the PLPMTU, are taken as a black hole (RFC 8899 §4.3); the PLPMTU drops to BASE and the
/// search finds the new path.
///
/// DATA chunks already sent larger than the new path cannot be fragmented again (RFC 9260 §6.9), so
/// on a path that stays small they never arrive: the association then fails clearly (ABORT, an
/// `Aborted` event naming the cause) instead of stalling. Nothing is delivered corrupt or out of
/// order either way.
#[test]
fn mtu_falling_mid_transfer_is_a_black_hole_and_fails_clearly() {
    let (mut sim, mtu) = pair(6, 1500);
    sim.connect_both();
    let mut fell = false;
    let done = transfer(&mut sim, 64, 64 << 10, |_| {
        mtu.set(1280);
        fell = true;
    });
    let st = sim.a.stats().clone();
    assert!(
        fell && !done,
        "the transfer cannot finish: its large chunks no longer pass"
    );
    assert!(st.pmtu_black_holes >= 1, "{st:?}");
    assert!(st.pmtu <= sctp_size(1280), "{st:?}");
    let aborted = |e: &SctpEvent| matches!(e, SctpEvent::Aborted(why) if why.contains("path MTU fell"));
    assert!(
        Sim::has_event(&sim.events_a, aborted),
        "{:?}",
        sim.events_a.last()
    );
    assert!(
        Sim::has_event(&sim.events_b, |e| matches!(e, SctpEvent::Aborted(_))),
        "the peer hears the ABORT"
    );
    assert!(
        sim.elapsed() < Duration::from_secs(120),
        "fails within two minutes: {:?}",
        sim.elapsed()
    );
}

/// A path that carries nothing at all for 40 s mid-transfer (a cut, a NAT forgetting its mapping)
/// and then comes back as it was is an outage, not a black hole that strands the large chunks in
/// flight: RFC 8899 §4.3's black hole loses packets of one size while smaller ones still pass. The
/// association must not abort for a path MTU that "fell below a chunk already sent": every byte
/// arrives once the path is back.
#[test]
fn a_full_outage_is_not_taken_for_a_path_mtu_fall() {
    let (mut sim, _) = pair(8, 1500);
    sim.connect_both();
    let cut = Rc::new(Cell::new(None::<std::time::Instant>));
    let cut_at = cut.clone();
    sim.filter = Some(Box::new(move |_, now, p| {
        // 40 s: Association.Max.Retrans (20 timeouts at most 3 s apart) ends a longer silence.
        let down = cut_at.get().is_some_and(|t| now < t + Duration::from_secs(40));
        (!down && p.len() + OVERHEAD <= 1500).then_some(p)
    }));
    let done = transfer(&mut sim, 64, 64 << 10, |s| cut.set(Some(s.now)));
    let aborted = |e: &SctpEvent| matches!(e, SctpEvent::Aborted(_));
    assert!(
        !Sim::has_event(&sim.events_a, aborted),
        "{:?}",
        sim.events_a.last()
    );
    assert!(done, "the transfer did not complete after the path came back");
}

/// The same fall between bursts (nothing large in flight): the black hole costs a few seconds and
/// every byte arrives.
#[test]
fn mtu_falling_between_bursts_loses_nothing() {
    let (mut sim, mtu) = pair(7, 1500);
    sim.connect_both();
    assert!(transfer(&mut sim, 8, 64 << 10, |_| {}));
    assert_eq!(sim.a.stats().pmtu, sctp_size(1500) & !3);
    mtu.set(1280);
    sim.events_b.clear();
    // Small messages first: they fit, so nothing large is in flight when the black hole is found.
    assert!(transfer(&mut sim, 64, 1000, |_| {}));
    sim.events_b.clear();
    assert!(transfer(&mut sim, 8, 64 << 10, |_| {}));
    // New data went out at BASE while the suspected black hole was being confirmed; the confirmation
    // (MAX_PROBES lost probes of the old PLPMTU) may end after the transfer.
    sim.run_until(Duration::from_secs(30), |_| false);
    let st = sim.a.stats();
    assert!(st.pmtu_black_holes >= 1 && st.pmtu <= sctp_size(1280), "{st:?}");
}
