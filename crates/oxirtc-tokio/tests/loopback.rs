//! Two `PeerConnection`s over real loopback UDP in one process: negotiation, messages both ways,
//! backpressure, and that dropping every handle ends the driver task and closes its sockets.
#![allow(clippy::unwrap_used)] // test set-up failures should panic loudly

mod common;

use common::connected_pair;

use std::net::UdpSocket;
use std::time::Duration;

use oxirtc_tokio::{Config, Message, PeerConnection, PeerConnectionEvent, PeerConnectionState};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_flow_both_ways_and_large_sends_wait_for_room() {
    let (_a, _b, mut da, mut db) = tokio::time::timeout(Duration::from_secs(10), connected_pair())
        .await
        .unwrap();
    da.send_text("hello").await.unwrap();
    assert_eq!(db.recv().await.unwrap(), Message::text("hello"));
    db.send_binary(vec![1u8, 2, 3]).await.unwrap();
    assert_eq!(da.recv().await.unwrap(), Message::binary(vec![1u8, 2, 3]));
    // 8 MiB in 64 KiB messages: `send` waits under backpressure; everything arrives in order.
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let sender = tokio::spawn({
        let sent = sent.clone();
        async move {
            for i in 0..128u32 {
                let mut m = vec![(i % 251) as u8; 64 * 1024];
                m[..4].copy_from_slice(&i.to_be_bytes());
                da.send_binary(m).await.unwrap();
                sent.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
            da
        }
    });
    // Nobody reads for 500 ms: the peer's receive window (1 MiB) fills, then our buffered amount
    // reaches the high-water mark (1 MiB), and `send` must wait instead of queueing all 8 MiB.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let ahead = sent.load(std::sync::atomic::Ordering::SeqCst);
    eprintln!("sends returned while the peer read nothing: {ahead} of 128");
    assert!(
        !sender.is_finished() && ahead < 128,
        "send never waited: all {ahead} sends returned while the peer read nothing"
    );
    assert!(
        ahead * 64 * 1024 <= 4 << 20,
        "send ran {ahead} messages of 64 KiB ahead of a peer that read nothing"
    );
    for i in 0..128u32 {
        let m = tokio::time::timeout(Duration::from_secs(20), db.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&m.data[..4], &i.to_be_bytes(), "message {i} out of order");
        assert_eq!(m.data.len(), 64 * 1024);
    }
    let da = sender.await.unwrap();
    let too_big = da.send_binary(vec![0u8; 256 * 1024 + 1]).await.unwrap_err();
    assert!(too_big.to_string().contains("maximum message size"), "{too_big}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_every_handle_closes_the_sockets() {
    let (a, b, da, db) = tokio::time::timeout(Duration::from_secs(10), connected_pair())
        .await
        .unwrap();
    let ports: Vec<_> = a
        .local_addresses()
        .iter()
        .chain(b.local_addresses())
        .copied()
        .collect();
    drop((a, b, da, db));
    // The driver tasks end and their sockets close: each port can be bound again.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    for addr in ports {
        while UdpSocket::bind(addr).is_err() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "socket {addr} still open after drop"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_remote_description_is_an_error_and_changes_nothing() {
    let pc = PeerConnection::new(Config::loopback()).await.unwrap();
    let bad = oxirtc_tokio::Description {
        sdp_type: oxirtc_tokio::SdpType::Offer,
        sdp: "v=0\r\nnonsense".into(),
    };
    let e = pc.set_remote_description(bad).await.unwrap_err();
    assert!(e.to_string().contains("session description"), "{e}");
    // Still usable: it can make an offer.
    pc.create_offer().await.unwrap();
}

/// The event stream does not keep a connection open: with every `PeerConnection` clone and channel
/// dropped, the task ends (the streams end, the sockets close) while the streams are still held.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_every_clone_ends_the_task_while_the_event_streams_live() {
    let (a, b, da, db) = tokio::time::timeout(Duration::from_secs(10), connected_pair())
        .await
        .unwrap();
    let (a_events, b_events) = (a.events(), b.events());
    let clones = (a.clone(), b.clone(), a.clone());
    let ports: Vec<_> = a
        .local_addresses()
        .iter()
        .chain(b.local_addresses())
        .copied()
        .collect();
    drop((a, b, da, db));
    // Clones keep it open.
    assert!(
        tokio::time::timeout(Duration::from_millis(200), a_events.next())
            .await
            .map_or(true, |ev| ev.is_some()),
        "a's events ended while clones were alive"
    );
    drop(clones);
    for events in [a_events, b_events] {
        let end = async { while events.next().await.is_some() {} };
        tokio::time::timeout(Duration::from_secs(5), end)
            .await
            .expect("events still flowing 5 s after every handle was dropped");
    }
    for addr in ports {
        assert!(UdpSocket::bind(addr).is_ok(), "socket {addr} still open");
    }
}

/// An event loop in one task and `close` from another, on clones of one connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_clone_reads_events_while_another_closes() {
    let (_a, b, _da, _db) = tokio::time::timeout(Duration::from_secs(10), connected_pair())
        .await
        .unwrap();
    let events = b.events();
    let reader = tokio::spawn(async move {
        while let Some(ev) = events.next().await {
            if let PeerConnectionEvent::ConnectionState(PeerConnectionState::Closed) = ev {
                return true;
            }
        }
        false
    });
    let closer = b.clone();
    tokio::spawn(async move { closer.close().await }).await.unwrap();
    let saw_closed = tokio::time::timeout(Duration::from_secs(5), reader)
        .await
        .unwrap()
        .unwrap();
    assert!(saw_closed, "the reader never saw the close");
    assert_eq!(b.close_reason(), Some(&oxirtc_tokio::CloseReason::Local));
    assert!(b.next_event().await.is_none(), "the task ended");
}

/// W3C `setLocalDescription()` with no argument on both sides, and an offer relayed with LF line
/// endings: the channel opens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn implicit_and_relayed_descriptions_connect() {
    let a = PeerConnection::new(Config::loopback()).await.unwrap();
    let b = PeerConnection::new(Config::loopback()).await.unwrap();
    let mut da = a
        .create_data_channel("implicit", oxirtc_tokio::DataChannelInit::default())
        .await
        .unwrap();
    let offer = a.create_offer().await.unwrap();
    let relayed = oxirtc_tokio::Description {
        sdp_type: offer.sdp_type,
        sdp: offer.sdp.replace("\r\n", "\n"),
    };
    a.set_local_description(relayed).await.unwrap();
    b.set_remote_description(offer).await.unwrap();
    let answer = b.set_local_description_implicit().await.unwrap();
    assert_eq!(answer.sdp_type, oxirtc_tokio::SdpType::Answer);
    a.set_remote_description(answer).await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), da.opened())
        .await
        .unwrap()
        .unwrap();
    let munged = oxirtc_tokio::Description {
        sdp_type: oxirtc_tokio::SdpType::Offer,
        sdp: "v=0\r\n".into(),
    };
    let e = a.set_local_description(munged).await.unwrap_err();
    assert!(e.to_string().contains("local description refused"), "{e}");
}
