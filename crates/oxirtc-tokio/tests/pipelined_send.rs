//! End-to-end over real loopback UDP: two `PeerConnection`s, the pipelined `DataChannel::send` (no
//! round trip per message) must still deliver everything in order, wait at the high-water mark, and
//! refuse what the core would refuse.
#![allow(clippy::unwrap_used)] // test set-up failures should panic loudly

mod common;

use common::connected_pair;

use std::time::Duration;

use oxirtc_tokio::{Config, DataChannelInit, Error, PeerConnection};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_sends_arrive_complete_and_in_order() {
    let (_a, _b, da, mut db) = tokio::time::timeout(Duration::from_secs(20), connected_pair())
        .await
        .unwrap();
    const N: u32 = 20_000;
    // 20,000 x 300 B = 6 MB: several times the 1 MiB high-water mark, so `send` must wait.
    let sender = tokio::spawn(async move {
        for i in 0..N {
            let mut msg = i.to_be_bytes().to_vec();
            msg.resize(300, (i % 251) as u8);
            da.send_binary(msg).await.unwrap();
        }
        da
    });
    for i in 0..N {
        let msg = tokio::time::timeout(Duration::from_secs(20), db.recv())
            .await
            .unwrap()
            .unwrap();
        assert!(msg.binary);
        assert_eq!(msg.data.len(), 300);
        assert_eq!(&msg.data[..4], &i.to_be_bytes(), "message {i} out of order");
        assert!(msg.data[4..].iter().all(|&b| b == (i % 251) as u8));
    }
    let da = sender.await.unwrap();
    assert!(da.buffered_amount().await <= 1024 * 1024);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_refuses_oversized_messages_and_closed_channels() {
    let (a, _b, da, _db) = tokio::time::timeout(Duration::from_secs(20), connected_pair())
        .await
        .unwrap();
    // Both sides announce 256 KiB (RFC 8841 a=max-message-size).
    let too_big = da.send_binary(vec![0u8; 256 * 1024 + 1]).await;
    assert!(
        matches!(too_big, Err(Error::Rtc(oxirtc::RtcError::MessageTooLarge { .. }))),
        "{too_big:?}"
    );
    da.send_binary(vec![0u8; 256 * 1024]).await.unwrap();
    a.close().await;
    let mut da = da;
    tokio::time::timeout(Duration::from_secs(5), da.closed())
        .await
        .unwrap();
    assert!(da.send_text("late").await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_before_open_is_an_error() {
    let a = PeerConnection::new(Config::loopback()).await.unwrap();
    let da = a
        .create_data_channel("early", DataChannelInit::default())
        .await
        .unwrap();
    let early = da.send_text("too early").await;
    assert!(
        matches!(early, Err(Error::Rtc(oxirtc::RtcError::ChannelNotOpen(_)))),
        "{early:?}"
    );
}

/// Issue 7 §5: a peer sends far more than the receiver reads. What waits unread is bounded by the
/// receive window (the handle's queue counts against it), the sender is held back, and once the
/// reader resumes everything arrives in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_does_not_read_holds_the_sender_back() {
    let (_a, _b, da, mut db) = tokio::time::timeout(Duration::from_secs(20), connected_pair())
        .await
        .unwrap();
    const N: u32 = 256; // 256 × 64 KiB = 16 MiB
    const LEN: usize = 64 * 1024;
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let counter = sent.clone();
    let sender = tokio::spawn(async move {
        for i in 0..N {
            let mut msg = i.to_be_bytes().to_vec();
            msg.resize(LEN, (i % 251) as u8);
            da.send_binary(msg).await.unwrap();
            counter.store(i + 1, std::sync::atomic::Ordering::Release);
        }
        da
    });
    tokio::time::sleep(Duration::from_secs(2)).await;
    // Unread: at most the 1 MiB window at the receiver, the sender's 1 MiB high-water mark and
    // what is in flight — far from all 16 MiB.
    let stalled_at = sent.load(std::sync::atomic::Ordering::Acquire);
    assert!(
        (stalled_at as usize) * LEN <= 4 * 1024 * 1024,
        "the sender got {stalled_at} × 64 KiB out while nothing was read"
    );
    for i in 0..N {
        let msg = tokio::time::timeout(Duration::from_secs(20), db.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&msg.data[..4], &i.to_be_bytes(), "message {i} out of order");
        assert_eq!(msg.data.len(), LEN);
    }
    sender.await.unwrap();
}
