//! Why a connection ended reaches the application over real loopback UDP: on `PeerConnection`
//! (with the failed/closed state) and on the channels the end closed, and in their errors.
#![allow(clippy::unwrap_used)] // test set-up failures should panic loudly

mod common;

use std::time::Duration;

use common::connected_pair;
use oxirtc_tokio::{
    CloseReason, Config, DataChannelInit, Description, Error, PeerConnection, PeerConnectionEvent,
    PeerConnectionState,
};

/// Reads events until the connection state is `want`; fails after 10 s.
async fn state_reaches(pc: &PeerConnection, want: PeerConnectionState) {
    let wait = async {
        while let Some(ev) = pc.next_event().await {
            if let PeerConnectionEvent::ConnectionState(s) = ev {
                if s == want {
                    return;
                }
            }
        }
        panic!("the events ended before the state was {want:?}");
    };
    tokio::time::timeout(Duration::from_secs(10), wait).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_one_side_tells_the_other_why() {
    let (a, b, _da, mut db) = tokio::time::timeout(Duration::from_secs(10), connected_pair())
        .await
        .unwrap();
    assert!(b.close_reason().is_none(), "not ended yet");
    a.close().await;
    assert_eq!(a.close_reason(), Some(&CloseReason::Local));
    state_reaches(&b, PeerConnectionState::Closed).await;
    let why = "the peer aborted the SCTP association: User-Initiated Abort";
    assert_eq!(b.close_reason().unwrap().to_string(), why);
    // The channel closed with the connection and says so, as do its errors.
    tokio::time::timeout(Duration::from_secs(5), db.closed())
        .await
        .unwrap();
    assert_eq!(db.close_reason(), b.close_reason());
    let e = db.send_text("too late").await.unwrap_err();
    assert!(matches!(e, Error::ConnectionEnded(_)), "{e:?}");
    assert_eq!(e.to_string(), format!("the connection ended: {why}"));
    // The driver has ended; the connection still says why.
    let e = b.create_offer().await.unwrap_err();
    assert_eq!(e.to_string(), format!("the connection ended: {why}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fingerprint_mismatch_fails_both_connections_with_the_alert() {
    let a = PeerConnection::new(Config::loopback()).await.unwrap();
    let b = PeerConnection::new(Config::loopback()).await.unwrap();
    let mut da = a
        .create_data_channel("x", DataChannelInit::default())
        .await
        .unwrap();
    let offer = a.create_offer().await.unwrap();
    a.set_local_description(offer.clone()).await.unwrap();
    b.set_remote_description(offer).await.unwrap();
    let answer = b.create_answer().await.unwrap();
    b.set_local_description(answer.clone()).await.unwrap();
    // One hex digit of B's fingerprint changed on its way to A.
    let mut sdp = answer.sdp;
    let at = sdp.find("a=fingerprint:sha-256 ").unwrap() + "a=fingerprint:sha-256 ".len();
    let digit = if &sdp[at..at + 1] == "A" { "B" } else { "A" };
    sdp.replace_range(at..at + 1, digit);
    a.set_remote_description(Description {
        sdp_type: answer.sdp_type,
        sdp,
    })
    .await
    .unwrap();
    // A's channel never opens, and the error says why at once.
    let e = tokio::time::timeout(Duration::from_secs(5), da.opened())
        .await
        .unwrap()
        .unwrap_err();
    match &e {
        Error::ConnectionEnded(CloseReason::DtlsFailed(_)) => {}
        other => panic!("{other:?}"),
    }
    assert!(
        e.to_string().ends_with("sent bad_certificate (42) to the peer"),
        "{e}"
    );
    assert_eq!(da.close_reason(), a.close_reason());
    // B heard A's alert.
    state_reaches(&b, PeerConnectionState::Failed).await;
    assert_eq!(
        b.close_reason().unwrap().to_string(),
        "DTLS alert from the peer: bad_certificate (42)"
    );
}
