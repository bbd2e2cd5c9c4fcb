//! The SFU of `oxirtc serve` over real loopback UDP: an oxirtc publisher sends VP8 frames through
//! WHIP, an oxirtc subscriber plays them through WHEP; keyframe requests travel from the subscriber
//! to the publisher; the endpoints' HTTP rules (RFC 9725) hold.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test set-up: a failure should panic loudly

use std::time::{Duration, Instant};

use oxirtc::media::{TrackKind, TransceiverInit};
use oxirtc::{Description, PeerConnectionState, SdpType};
use oxirtc_server::serve::{start, ServeOptions};
use oxirtc_tokio::{Config, PeerConnection, PeerConnectionEvent};

fn loopback() -> Config {
    Config {
        bind: vec!["127.0.0.1".parse().unwrap()],
        include_loopback: true,
        ..Config::default()
    }
}

/// POSTs `body` as `application/sdp`; returns (status, Location, body).
async fn post_sdp(url: String, body: String) -> (u16, Option<String>, String) {
    tokio::task::spawn_blocking(move || {
        let r = ureq::post(&url)
            .set("Content-Type", "application/sdp")
            .send_string(&body);
        match r {
            Ok(resp) => {
                let location = resp.header("Location").map(str::to_owned);
                (resp.status(), location, resp.into_string().unwrap())
            }
            Err(ureq::Error::Status(code, resp)) => (code, None, resp.into_string().unwrap_or_default()),
            Err(e) => panic!("POST {url}: {e}"),
        }
    })
    .await
    .unwrap()
}

async fn request(method: &'static str, url: String) -> u16 {
    tokio::task::spawn_blocking(move || match ureq::request(method, &url).call() {
        Ok(r) => r.status(),
        Err(ureq::Error::Status(code, _)) => code,
        Err(e) => panic!("{method} {url}: {e}"),
    })
    .await
    .unwrap()
}

/// Offers from `pc` to the endpoint `url`, applies the answer; returns the session's Location.
async fn negotiate(pc: &PeerConnection, url: String) -> String {
    let offer = pc.create_offer().await.unwrap();
    pc.set_local_description(offer).await.unwrap();
    pc.gathering_complete(Duration::from_secs(3)).await;
    let sdp = pc.local_description().await.unwrap().unwrap().sdp;
    let (status, location, answer) = post_sdp(url, sdp).await;
    assert_eq!(status, 201, "{answer}");
    pc.set_remote_description(Description {
        sdp_type: SdpType::Answer,
        sdp: answer,
    })
    .await
    .unwrap();
    location.expect("RFC 9725 §4.2: a Location for the session")
}

async fn connected(pc: &PeerConnection) {
    let wait = async {
        while let Some(e) = pc.next_event().await {
            if matches!(
                e,
                PeerConnectionEvent::ConnectionState(PeerConnectionState::Connected)
            ) {
                return;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), wait)
        .await
        .expect("connected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whip_publisher_reaches_a_whep_subscriber() {
    let server = start(&ServeOptions {
        listen: Some("127.0.0.1:0".parse().unwrap()),
        no_turn: Some(true),
        ..ServeOptions::default()
    })
    .await
    .unwrap();
    let base = format!("http://{}", server.http);

    // Before anyone publishes, WHEP has nothing to play; a wrong content type is refused.
    let (status, _, why) = post_sdp(format!("{base}/whep/room1"), "v=0".into()).await;
    assert_eq!(status, 404, "{why}");
    let refused = tokio::task::spawn_blocking({
        let url = format!("{base}/whip/room1");
        move || match ureq::post(&url)
            .set("Content-Type", "text/plain")
            .send_string("x")
        {
            Err(ureq::Error::Status(code, _)) => code,
            other => panic!("{other:?}"),
        }
    })
    .await
    .unwrap();
    assert_eq!(refused, 415);

    // The publisher: a VP8 video track through WHIP.
    let publisher = PeerConnection::new(loopback()).await.unwrap();
    let video = publisher
        .add_track(TrackKind::Video, Some("camera"))
        .await
        .unwrap();
    let whip_session = negotiate(&publisher, format!("{base}/whip/room1")).await;
    assert!(whip_session.starts_with("/whip/room1/"), "{whip_session}");
    connected(&publisher).await;
    assert_eq!(
        request("PATCH", format!("{base}{whip_session}")).await,
        405,
        "no trickle"
    );
    let sender = tokio::spawn({
        let video = video.clone();
        async move {
            let start = Instant::now();
            let mut i = 0u32;
            let mut keyframe_asked = false;
            while start.elapsed() < Duration::from_secs(4) {
                // A VP8 keyframe has bit 0 of its first byte clear (RFC 6386 §9.1).
                let key = i.is_multiple_of(60) || keyframe_asked;
                let mut frame = vec![if key { 0x10 } else { 0x11 }; 1800];
                frame[1..5].copy_from_slice(&i.to_be_bytes());
                video.write_frame(frame, Duration::from_millis(33)).unwrap();
                i += 1;
                keyframe_asked = tokio::time::timeout(Duration::from_millis(33), video.keyframe_requested())
                    .await
                    .is_ok();
            }
            (i, video.keyframe_requests())
        }
    });

    // The subscriber: receive-only video through WHEP.
    let subscriber = PeerConnection::new(loopback()).await.unwrap();
    let init = TransceiverInit {
        direction: oxirtc::media::Direction::RecvOnly,
        ..TransceiverInit::default()
    };
    subscriber.add_transceiver(TrackKind::Video, init).await.unwrap();
    let whep_session = negotiate(&subscriber, format!("{base}/whep/room1")).await;
    assert!(whep_session.starts_with("/whep/room1/"));
    let rooms = server_rooms(&server);
    assert_eq!(rooms, vec![(1, 1, 1)], "one publisher, one subscriber, one track");
    let mut track = loop {
        match tokio::time::timeout(Duration::from_secs(10), subscriber.next_event()).await {
            Ok(Some(PeerConnectionEvent::Track(t))) => break t,
            Ok(Some(_)) => {}
            other => panic!("no track: {other:?}"),
        }
    };
    let mut frames = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_millis(500), track.recv_frame()).await {
            Ok(Some(f)) => frames.push(f),
            Ok(None) => break,
            Err(_) => {}
        }
    }
    let (sent, keyframe_requests) = sender.await.unwrap();
    assert!(
        frames.len() >= 40,
        "{} frames in 2 s of 30 fps (sent {sent})",
        frames.len()
    );
    assert!(frames[0].keyframe, "playback starts at a keyframe");
    assert_eq!(frames[0].codec.name, "VP8");
    assert!(
        keyframe_requests >= 1,
        "the subscriber's start asked the publisher for a keyframe"
    );
    // Frames come in order, each whole.
    let numbers: Vec<u32> = frames
        .iter()
        .map(|f| u32::from_be_bytes(f.data[1..5].try_into().unwrap()))
        .collect();
    assert!(numbers.windows(2).all(|w| w[1] > w[0]), "{numbers:?}");
    assert!(frames.iter().all(|f| f.data.len() == 1800));

    // DELETE ends both sessions; the room empties.
    assert_eq!(request("DELETE", format!("{base}{whep_session}")).await, 200);
    assert_eq!(request("DELETE", format!("{base}{whip_session}")).await, 200);
    assert_eq!(
        request("DELETE", format!("{base}{whip_session}")).await,
        404,
        "already gone"
    );
    assert!(server_rooms(&server).is_empty());
    server.shutdown().await;
}

/// (publishers, subscribers, tracks) of every room.
fn server_rooms(server: &oxirtc_server::serve::Server) -> Vec<(usize, usize, usize)> {
    server
        .sfu
        .rooms()
        .iter()
        .map(|r| (r.publishers, r.subscribers, r.tracks))
        .collect()
}
