//! W3C webrtc-pc §6.2 `bufferedamountlow` over real loopback UDP: fired once each time the buffered
//! amount falls from above `bufferedAmountLowThreshold` to at or below it, never while it stays low.
#![allow(clippy::unwrap_used)] // test set-up failures should panic loudly

mod common;

use std::time::Duration;

use common::connected_pair;
use oxirtc_tokio::{DataChannel, Error};

const LOW: usize = 64 * 1024;

/// Polls until the channel's buffered amount is 0 (everything acknowledged).
async fn drained(dc: &DataChannel) {
    let wait = async {
        while dc.buffered_amount().await > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), wait).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bufferedamountlow_fires_exactly_once_per_fall_to_the_threshold() {
    let (_a, _b, mut da, mut db) = tokio::time::timeout(Duration::from_secs(10), connected_pair())
        .await
        .unwrap();
    da.set_buffered_amount_low_threshold(LOW);
    assert_eq!(da.buffered_amount_low_threshold(), LOW);
    let reader = tokio::spawn(async move {
        let mut bytes = 0;
        while let Some(m) = db.recv().await {
            bytes += m.data.len();
        }
        bytes
    });
    // Never above the threshold: no event.
    da.send_binary(vec![1u8; 1000]).await.unwrap();
    drained(&da).await;
    assert_eq!(da.buffered_amount_low_count(), 0);
    for round in 1..=3u64 {
        // 8 × 64 KiB: far above the threshold, below the 1 MiB high-water mark (no send waits).
        for _ in 0..8 {
            da.send_binary(vec![round as u8; 64 * 1024]).await.unwrap();
        }
        tokio::time::timeout(Duration::from_secs(10), da.buffered_amount_low())
            .await
            .expect("no bufferedamountlow after the channel drained")
            .unwrap();
        assert!(da.buffered_amount().await <= LOW);
        drained(&da).await;
        // Staying low (down to 0) fires nothing more.
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(da.buffered_amount_low_count(), round, "round {round}");
        let again = tokio::time::timeout(Duration::from_millis(100), da.buffered_amount_low()).await;
        assert!(
            again.is_err(),
            "a second event in round {round} without a new rise"
        );
    }
    drop(da);
    drop(_a);
    drop(_b);
    let bytes = tokio::time::timeout(Duration::from_secs(10), reader)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bytes, 1000 + 3 * 8 * 64 * 1024);
}

/// An event that fired while nobody waited is reported by the next call, not lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_fired_before_the_wait_is_not_lost() {
    let (_a, _b, mut da, _db) = tokio::time::timeout(Duration::from_secs(10), connected_pair())
        .await
        .unwrap();
    da.set_buffered_amount_low_threshold(LOW);
    for _ in 0..4 {
        da.send_binary(vec![7u8; 64 * 1024]).await.unwrap();
    }
    drained(&da).await;
    assert_eq!(da.buffered_amount_low_count(), 1);
    tokio::time::timeout(Duration::from_millis(100), da.buffered_amount_low())
        .await
        .expect("the event that already fired")
        .unwrap();
}

/// Waiting for the event on a channel that closes ends with an error instead of hanging.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_on_a_channel_that_closes_fails() {
    let (_a, _b, mut da, _db) = tokio::time::timeout(Duration::from_secs(10), connected_pair())
        .await
        .unwrap();
    da.close();
    let e = tokio::time::timeout(Duration::from_secs(5), da.buffered_amount_low())
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(e, Error::ChannelClosed), "{e:?}");
}
