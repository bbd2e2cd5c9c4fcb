//! Shared set-up of the loopback tests: two connected `PeerConnection`s with one open channel.
#![allow(clippy::unwrap_used)] // test set-up failures should panic loudly
#![allow(dead_code)] // each test binary uses a different part

use oxirtc_tokio::{Config, DataChannel, DataChannelInit, PeerConnection, PeerConnectionEvent};

/// A offers with a channel, B answers; returns once the channel is open on both sides.
pub async fn connected_pair() -> (PeerConnection, PeerConnection, DataChannel, DataChannel) {
    connected_pair_with(Config::loopback(), Config::loopback()).await
}

/// [`connected_pair`] with each side's configuration.
pub async fn connected_pair_with(
    config_a: Config,
    config_b: Config,
) -> (PeerConnection, PeerConnection, DataChannel, DataChannel) {
    let a = PeerConnection::new(config_a).await.unwrap();
    let b = PeerConnection::new(config_b).await.unwrap();
    let mut da = a
        .create_data_channel("test", DataChannelInit::default())
        .await
        .unwrap();
    let offer = a.create_offer().await.unwrap();
    a.set_local_description(offer.clone()).await.unwrap();
    b.set_remote_description(offer).await.unwrap();
    let answer = b.create_answer().await.unwrap();
    b.set_local_description(answer.clone()).await.unwrap();
    a.set_remote_description(answer).await.unwrap();
    let mut db = loop {
        if let PeerConnectionEvent::DataChannel(dc) = b.next_event().await.unwrap() {
            break dc;
        }
    };
    da.opened().await.unwrap();
    db.opened().await.unwrap();
    (a, b, da, db)
}
