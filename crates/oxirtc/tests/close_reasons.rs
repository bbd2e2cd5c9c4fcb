//! A connection that ends says why, on each side, at once: a peer's SCTP ABORT (RFC 9260 §9.1,
//! its error causes §3.3.10), a fatal DTLS alert sent or received (RFC 5246 §7.2), ICE failing
//! (RFC 8445 §8.1.2, consent RFC 7675 §5.1). Every channel closes with it.
#![allow(clippy::unwrap_used)] // test set-up failures should panic loudly

mod common;

use std::time::{Duration, Instant};

use common::{connect_with_channel, negotiate, pair, pair_with, Peer};
use oxirtc::{
    AlertDescription, CloseReason, DataChannelInit, DtlsError, IceFailure, PeerConnectionState, RtcConfig,
    RtcEvent,
};
use oxirtc_netsim::{LinkConfig, Simulation};
use oxirtc_sctp::SctpConfig;

fn lan() -> LinkConfig {
    LinkConfig::with_delay(Duration::from_millis(5))
}

/// When the peer raised [`RtcEvent::Ended`], and with what reason.
fn ended(peer: &Peer) -> Option<(Instant, &CloseReason)> {
    peer.events.iter().find_map(|(t, e)| match e {
        RtcEvent::Ended(r) => Some((*t, r)),
        _ => None,
    })
}

/// Waits until both peers ended; returns how long after `since` each did.
fn run_until_both_ended(sim: &mut Simulation<Peer>, limit: Duration, since: Instant) -> [Duration; 2] {
    let done = sim.run_until(limit, |s| {
        ended(s.endpoint(0)).is_some() && ended(s.endpoint(1)).is_some()
    });
    assert!(
        done,
        "not both ended within {limit:?}: {:?} / {:?}",
        sim.endpoint(0).rtc.state(),
        sim.endpoint(1).rtc.state()
    );
    [0, 1].map(|side| {
        let (at, _) = ended(sim.endpoint(side)).unwrap();
        at - since
    })
}

/// The reason came first, then the channel closed, then the state changed (an application that
/// reacts to the state already knows why), and `close_reason` agrees with the event.
fn assert_ended_in_order(peer: &Peer, state: PeerConnectionState) {
    let pos = |f: &dyn Fn(&RtcEvent) -> bool| peer.events.iter().position(|(_, e)| f(e));
    let reason = pos(&|e| matches!(e, RtcEvent::Ended(_))).expect("Ended raised");
    let closed = pos(&|e| matches!(e, RtcEvent::ChannelClosed(_))).expect("channel closed");
    let changed = pos(&|e| *e == RtcEvent::ConnectionState(state)).expect("state changed");
    assert!(reason < closed && closed < changed, "{:?}", peer.events);
    assert_eq!(peer.rtc.state(), state);
    assert_eq!(peer.rtc.close_reason(), ended(peer).map(|(_, r)| r));
    assert!(peer.rtc.channel_ids().is_empty(), "every channel is gone");
}

#[test]
fn closing_one_side_ends_the_other_with_the_peers_abort() {
    let mut sim = pair(31, lan());
    let (_a, b) = connect_with_channel(&mut sim, 0, DataChannelInit::default());
    let t0 = sim.now();
    sim.endpoint_mut(0).rtc.close(t0);
    let took = run_until_both_ended(&mut sim, Duration::from_secs(5), t0);
    assert_eq!(sim.endpoint(0).rtc.close_reason(), Some(&CloseReason::Local));
    let peer = sim.endpoint(1);
    let reason = peer.rtc.close_reason().unwrap();
    // W3C close() sends an ABORT with User-Initiated Abort (RFC 9260 §3.3.10.12): closed, not failed.
    assert_eq!(
        reason.to_string(),
        "the peer aborted the SCTP association: User-Initiated Abort"
    );
    assert!(matches!(reason, CloseReason::PeerAborted(c) if c.len() == 1 && c[0].is_user_abort()));
    assert!(peer.closed.contains(&b));
    assert_ended_in_order(peer, PeerConnectionState::Closed);
    // One trip across two 5 ms links.
    assert!(took[1] <= Duration::from_millis(20), "{took:?}");
}

/// The path towards A dies while A sends: A's SCTP gives up after Association.Max.Retrans timeouts
/// (RFC 9260 §8.1, 2 here) and its ABORT, with a Protocol Violation cause saying why, still reaches
/// B, which fails at once with that reason rather than when its own timers run out.
#[test]
fn an_abort_with_a_protocol_violation_fails_the_peer_with_its_cause() {
    let config = RtcConfig {
        sctp: SctpConfig {
            max_association_retransmits: 2,
            ..SctpConfig::default()
        },
        ..RtcConfig::default()
    };
    let mut sim = pair_with(32, lan(), config);
    let (a, b) = connect_with_channel(&mut sim, 0, DataChannelInit::default());
    let t0 = sim.now();
    sim.endpoint_mut(0).deaf = true;
    sim.endpoint_mut(0)
        .rtc
        .channel(a)
        .unwrap()
        .send_text(t0, "never acknowledged")
        .unwrap();
    let took = run_until_both_ended(&mut sim, Duration::from_secs(60), t0);
    let giver = sim.endpoint(0);
    assert!(
        matches!(giver.rtc.close_reason(), Some(CloseReason::SctpFailed(why)) if why.contains("too many retransmissions")),
        "{:?}",
        giver.rtc.close_reason()
    );
    assert_ended_in_order(giver, PeerConnectionState::Failed);
    let peer = sim.endpoint(1);
    assert_eq!(
        peer.rtc.close_reason().unwrap().to_string(),
        "the peer aborted the SCTP association: Protocol Violation: too many retransmissions"
    );
    assert!(peer.closed.contains(&b));
    assert_ended_in_order(peer, PeerConnectionState::Failed);
    // Both end together, long before ICE consent (30 s) would have noticed anything.
    assert!(took[0] < Duration::from_secs(10), "{took:?}");
    assert!(took[1] <= took[0] + Duration::from_millis(20), "{took:?}");
}

#[test]
fn a_fingerprint_mismatch_fails_both_sides_with_the_alert() {
    let mut sim = pair(33, lan());
    let now = sim.now();
    sim.endpoint_mut(0)
        .rtc
        .create_data_channel(now, "x", DataChannelInit::default())
        .unwrap();
    let answer = common::offer_and_answer(&mut sim, 0, |_| {});
    // One hex digit of B's fingerprint changed on its way to A.
    let mut tampered = answer.clone();
    common::flip_fingerprint_digit(&mut tampered);
    sim.endpoint_mut(0)
        .rtc
        .set_remote_description(now, &tampered)
        .unwrap();
    let took = run_until_both_ended(&mut sim, Duration::from_secs(30), now);
    // A checked B's certificate against the altered fingerprint and said so with bad_certificate.
    let checker = sim.endpoint(0);
    assert_eq!(
        checker.rtc.close_reason(),
        Some(&CloseReason::DtlsFailed(DtlsError::FingerprintMismatch))
    );
    assert!(
        checker
            .rtc
            .close_reason()
            .unwrap()
            .to_string()
            .ends_with("does not match the a=fingerprint of its session description; sent bad_certificate (42) to the peer"),
        "{}",
        checker.rtc.close_reason().unwrap()
    );
    assert_ended_in_order(checker, PeerConnectionState::Failed);
    let peer = sim.endpoint(1);
    assert_eq!(
        peer.rtc.close_reason(),
        Some(&CloseReason::DtlsAlertReceived(AlertDescription::BadCertificate))
    );
    assert_eq!(
        peer.rtc.close_reason().unwrap().to_string(),
        "DTLS alert from the peer: bad_certificate (42)"
    );
    assert_eq!(peer.rtc.state(), PeerConnectionState::Failed);
    for side in [0, 1] {
        assert!(sim.endpoint(side).received.is_empty());
        assert!(took[side] < Duration::from_secs(1), "{took:?}");
    }
}

/// The path dies both ways: consent expires on each side (RFC 7675 §5.1) and the connection ends
/// then, with its channels, instead of minutes later when SCTP runs out of retransmissions.
#[test]
fn a_path_that_dies_ends_both_sides_when_consent_expires() {
    let mut sim = pair(34, lan());
    let (a, b) = connect_with_channel(&mut sim, 0, DataChannelInit::default());
    let cut = sim.now();
    let dead = LinkConfig {
        loss: 1.0,
        ..LinkConfig::default()
    };
    for side in [0, 1] {
        let host = sim.endpoint_host(side);
        sim.net.set_link(host, dead.clone());
    }
    let took = run_until_both_ended(&mut sim, Duration::from_secs(120), cut);
    for (side, id) in [(0, a), (1, b)] {
        let peer = sim.endpoint(side);
        let reason = peer.rtc.close_reason().unwrap();
        assert!(
            matches!(reason, CloseReason::IceFailed(IceFailure::ConsentExpired { timeout, .. }) if *timeout == Duration::from_secs(30)),
            "{reason:?}"
        );
        assert!(
            reason
                .to_string()
                .starts_with("ICE failed: consent expired (no answer for 30 s on "),
            "{reason}"
        );
        assert!(peer.closed.contains(&id), "side {side}'s channel closed with it");
        assert_ended_in_order(peer, PeerConnectionState::Failed);
        // The last answer came at most one consent interval (5 s ± 20 %) before the cut.
        assert!(
            took[side] <= Duration::from_secs(30) && took[side] >= Duration::from_secs(20),
            "side {side} ended {:?} after the cut",
            took[side]
        );
    }
}

/// No path at all: every pair fails its checks and ICE fails (RFC 8445 §8.1.2) with the channel
/// that was waiting for it.
#[test]
fn no_working_pair_ends_the_connection_with_its_pending_channel() {
    let mut sim = pair(35, lan());
    let dead = LinkConfig {
        loss: 1.0,
        ..LinkConfig::default()
    };
    for side in [0, 1] {
        let host = sim.endpoint_host(side);
        sim.net.set_link(host, dead.clone());
    }
    let now = sim.now();
    let id = sim
        .endpoint_mut(0)
        .rtc
        .create_data_channel(now, "never", DataChannelInit::default())
        .unwrap();
    negotiate(&mut sim, 0);
    run_until_both_ended(&mut sim, Duration::from_secs(120), now);
    for side in [0, 1] {
        let reason = sim.endpoint(side).rtc.close_reason().unwrap();
        assert!(
            matches!(reason, CloseReason::IceFailed(IceFailure::NoWorkingPair { pairs, .. }) if *pairs > 0),
            "{reason:?}"
        );
        assert!(
            reason
                .to_string()
                .starts_with("ICE failed: no candidate pair worked ("),
            "{reason}"
        );
        assert_eq!(sim.endpoint(side).rtc.state(), PeerConnectionState::Failed);
    }
    assert!(sim.endpoint(0).closed.contains(&id));
    assert_ended_in_order(sim.endpoint(0), PeerConnectionState::Failed);
}
