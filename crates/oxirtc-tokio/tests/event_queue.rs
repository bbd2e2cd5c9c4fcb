//! The event queue is bounded (`Config::event_queue_capacity`): a peer that opens and closes channels
//! in a loop, at an application that reads no events, fills it only to the capacity; the dropped
//! events are counted by kind, and the connection goes on working.
#![allow(clippy::unwrap_used)] // test set-up failures should panic loudly

mod common;

use std::time::Duration;

use common::connected_pair_with;
use oxirtc_tokio::{Config, DataChannelInit, Message, PeerConnectionEvent, PeerConnectionState};

const CAPACITY: usize = 16;
const CYCLES: u64 = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_opening_and_closing_channels_cannot_grow_an_unread_queue() {
    let b_config = Config {
        event_queue_capacity: CAPACITY,
        ..Config::loopback()
    };
    let (a, b, da, mut db) = tokio::time::timeout(
        Duration::from_secs(10),
        connected_pair_with(Config::loopback(), b_config),
    )
    .await
    .unwrap();
    // A opens and closes channels; B's application reads none of its events.
    let churn = async {
        for i in 0..CYCLES {
            let mut dc = a
                .create_data_channel(&format!("churn-{i}"), DataChannelInit::default())
                .await
                .unwrap();
            dc.opened().await.unwrap();
            dc.close();
            dc.closed().await;
        }
    };
    tokio::time::timeout(Duration::from_secs(60), churn)
        .await
        .unwrap();
    // B's last closes are processed by now: its driver answered the stream resets.
    let dropped = b.dropped_events();
    assert!(
        dropped.closed_channels >= CYCLES - CAPACITY as u64,
        "only {dropped:?} dropped after {CYCLES} channels"
    );
    assert_eq!(dropped.ice_candidates, 0, "{dropped:?}");
    // Healthy: the first channel still carries messages both ways.
    da.send_text("still here").await.unwrap();
    let m = tokio::time::timeout(Duration::from_secs(5), db.recv())
        .await
        .unwrap();
    assert_eq!(m, Some(Message::text("still here")));
    db.send_text("and back").await.unwrap();
    assert_eq!(b.stats().await.unwrap().state, PeerConnectionState::Connected);
    // What waits is at most the capacity, and holds only closed channels and state changes.
    let mut queued = 0;
    while let Ok(Some(ev)) = tokio::time::timeout(Duration::from_millis(100), b.next_event()).await {
        queued += 1;
        match ev {
            PeerConnectionEvent::DataChannel(dc) => assert!(dc.label().starts_with("churn-")),
            PeerConnectionEvent::ConnectionState(s) => assert_ne!(s, PeerConnectionState::Closed),
            _ => {}
        }
    }
    assert!(
        queued <= CAPACITY,
        "{queued} events queued with a capacity of {CAPACITY}"
    );
    assert_eq!(b.events().dropped(), b.dropped_events());
}

/// The connection's end is never dropped: with a full queue of unread events, the closed state is
/// still the last event read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_end_of_the_connection_is_never_dropped() {
    let b_config = Config {
        event_queue_capacity: 2,
        ..Config::loopback()
    };
    let (a, b, _da, _db) = tokio::time::timeout(
        Duration::from_secs(10),
        connected_pair_with(Config::loopback(), b_config),
    )
    .await
    .unwrap();
    for i in 0..20 {
        let mut dc = a
            .create_data_channel(&format!("c{i}"), DataChannelInit::default())
            .await
            .unwrap();
        dc.opened().await.unwrap();
        dc.close();
        dc.closed().await;
    }
    a.close().await;
    let mut last = None;
    let read_all = async {
        while let Some(ev) = b.next_event().await {
            last = Some(ev);
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read_all)
        .await
        .unwrap();
    assert!(
        matches!(
            last,
            Some(PeerConnectionEvent::ConnectionState(PeerConnectionState::Closed))
        ),
        "{last:?}"
    );
    assert!(b.dropped_events().total() >= 18, "{:?}", b.dropped_events());
}

/// A peer's channel that is still open is never dropped, however full the queue is: the
/// application gets every handle it has to serve.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_channels_are_never_dropped() {
    let b_config = Config {
        event_queue_capacity: 2,
        ..Config::loopback()
    };
    let (a, b, _da, _db) = tokio::time::timeout(
        Duration::from_secs(10),
        connected_pair_with(Config::loopback(), b_config),
    )
    .await
    .unwrap();
    let mut kept = Vec::new();
    for i in 0..30 {
        let mut dc = a
            .create_data_channel(&format!("c{i}"), DataChannelInit::default())
            .await
            .unwrap();
        dc.opened().await.unwrap();
        if i % 3 == 0 {
            kept.push(dc); // 10 stay open
        } else {
            dc.close();
            dc.closed().await;
        }
    }
    let mut labels = Vec::new();
    while let Ok(Some(ev)) = tokio::time::timeout(Duration::from_millis(200), b.next_event()).await {
        if let PeerConnectionEvent::DataChannel(dc) = ev {
            labels.push(dc.label().to_owned());
        }
    }
    // Every open channel, in order; beside them at most the capacity's worth of closed ones (the
    // last closed channel may not have finished closing at B when it was queued).
    let open: Vec<&String> = labels
        .iter()
        .filter(|l| kept.iter().any(|k| k.label() == *l))
        .collect();
    let want: Vec<String> = (0..30).step_by(3).map(|i| format!("c{i}")).collect();
    assert_eq!(open, want.iter().collect::<Vec<_>>());
    assert!(labels.len() <= want.len() + 2, "{labels:?}");
    assert!(
        b.dropped_events().closed_channels >= 18,
        "{:?}",
        b.dropped_events()
    );
}
