//! The signaling service over real loopback WebSockets: rooms, relays, and every error path the
//! issue names (malformed JSON, unknown room, oversized frame, full room, a peer leaving
//! mid-negotiation); after each one the server still serves.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use oxirtc_server::signaling::{router, SignalingConfig, SignalingState, TurnRest};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn server(config: SignalingConfig) -> String {
    let state = SignalingState::new(config).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router(state)).await });
    format!("ws://{addr}/ws")
}

async fn connect(url: &str) -> Ws {
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let hello = recv(&mut ws).await;
    assert_eq!(hello["type"], "hello");
    assert_eq!(hello["v"], 1);
    ws
}

async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::text(v.to_string())).await.unwrap();
}

async fn recv(ws: &mut Ws) -> Value {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("no frame within 5 s")
            .expect("socket ended")
            .unwrap();
        if let Message::Text(t) = m {
            return serde_json::from_str(t.as_str()).unwrap();
        }
    }
}

async fn create(ws: &mut Ws, name: &str) -> (String, String) {
    send(ws, json!({"v":1,"type":"create","name":name,"kind":"cli"})).await;
    let j = recv(ws).await;
    assert_eq!(j["type"], "joined", "{j}");
    (
        j["room"].as_str().unwrap().to_owned(),
        j["you"]["id"].as_str().unwrap().to_owned(),
    )
}

async fn join(ws: &mut Ws, room: &str) -> Value {
    send(ws, json!({"v":1,"type":"join","room":room})).await;
    recv(ws).await
}

#[tokio::test]
async fn two_peers_meet_relay_and_see_each_other_leave() {
    let url = server(SignalingConfig::default()).await;
    let mut a = connect(&url).await;
    let (room, a_id) = create(&mut a, "Alice").await;
    assert_eq!(room.split('-').count(), 3, "{room}");
    let mut b = connect(&url).await;
    let joined = join(&mut b, &room.to_uppercase().replace('-', " ")).await;
    assert_eq!(joined["type"], "joined", "{joined}");
    assert_eq!(joined["room"], room.as_str());
    assert_eq!(joined["peers"][0]["name"], "Alice");
    assert!(
        !joined["you"]["name"].as_str().unwrap().is_empty(),
        "friendly name"
    );
    let b_id = joined["you"]["id"].as_str().unwrap().to_owned();
    let pj = recv(&mut a).await;
    assert_eq!(pj["type"], "peer-joined");
    assert_eq!(pj["peer"]["id"], b_id.as_str());
    send(
        &mut b,
        json!({"v":1,"type":"signal","to":a_id,"data":{"sdp":"v=0"}}),
    )
    .await;
    let s = recv(&mut a).await;
    assert_eq!(s, json!({"type":"signal","from":b_id,"data":{"sdp":"v=0"}}));
    // A peer that disconnects mid-negotiation: the other hears peer-left, a late signal is refused.
    drop(b);
    let left = recv(&mut a).await;
    assert_eq!(left, json!({"type":"peer-left","id":b_id}));
    send(&mut a, json!({"v":1,"type":"signal","to":b_id,"data":{}})).await;
    let e = recv(&mut a).await;
    assert_eq!(e["code"], "unknown-peer", "{e}");
    // The room disappears with its last member: its code is now unknown.
    drop(a);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut c = connect(&url).await;
    let e = join(&mut c, &room).await;
    assert_eq!(e["type"], "error");
    assert_eq!(e["code"], "unknown-room", "{e}");
}

#[tokio::test]
async fn bad_frames_get_clear_errors_and_the_server_stays_up() {
    let url = server(SignalingConfig {
        max_message_bytes: 1024,
        max_peers_per_room: 2,
        ..SignalingConfig::default()
    })
    .await;
    let mut a = connect(&url).await;
    a.send(Message::text("{not json")).await.unwrap();
    assert_eq!(recv(&mut a).await["code"], "bad-message");
    send(&mut a, json!({"v":2,"type":"ping"})).await;
    assert_eq!(recv(&mut a).await["code"], "unsupported-version");
    send(&mut a, json!({"v":1,"type":"signal","to":"p1","data":{}})).await;
    assert_eq!(recv(&mut a).await["code"], "not-in-room");
    let e = join(&mut a, "5-no-such").await;
    assert_eq!(e["code"], "unknown-room");
    assert!(e["message"].as_str().unwrap().contains("5-no-such"));
    let e = join(&mut a, "../../etc/passwd").await;
    assert_eq!(e["code"], "unknown-room");
    // Full room.
    let (room, _) = create(&mut a, "A").await;
    let mut b = connect(&url).await;
    assert_eq!(join(&mut b, &room).await["type"], "joined");
    assert_eq!(recv(&mut a).await["type"], "peer-joined");
    let mut c = connect(&url).await;
    let e = join(&mut c, &room).await;
    assert_eq!(e["code"], "room-full", "{e}");
    // Oversized frame: an error, then the socket closes; others are not affected.
    let big = json!({"v":1,"type":"ping","pad":"x".repeat(2000)});
    send(&mut c, big).await;
    assert_eq!(recv(&mut c).await["code"], "too-large");
    let end = tokio::time::timeout(Duration::from_secs(5), c.next())
        .await
        .unwrap();
    assert!(
        matches!(end, None | Some(Ok(Message::Close(_))) | Some(Err(_))),
        "{end:?}"
    );
    send(&mut a, json!({"v":1,"type":"ping"})).await;
    assert_eq!(recv(&mut a).await["type"], "pong");
    let mut d = connect(&url).await;
    send(&mut d, json!({"v":1,"type":"ping"})).await;
    assert_eq!(recv(&mut d).await["type"], "pong");
}

#[tokio::test]
async fn turn_credentials_are_handed_out_when_a_secret_is_configured() {
    let url = server(SignalingConfig {
        stun_urls: vec!["stun:127.0.0.1:3478".into()],
        turn: Some(TurnRest {
            secret: "s3cret".into(),
            urls: vec!["turn:127.0.0.1:3478?transport=udp".into()],
            ttl: Duration::from_secs(600),
        }),
        ..SignalingConfig::default()
    })
    .await;
    let mut a = connect(&url).await;
    send(
        &mut a,
        json!({"v":1,"type":"join","room":"3-open-link","create":true}),
    )
    .await;
    let j = recv(&mut a).await;
    assert_eq!(j["room"], "3-open-link");
    let ice = j["iceServers"].as_array().unwrap();
    assert_eq!(ice[0]["urls"][0], "stun:127.0.0.1:3478");
    let user = ice[1]["username"].as_str().unwrap();
    let (expiry, id) = user.split_once(':').unwrap();
    assert_eq!(id, j["you"]["id"].as_str().unwrap());
    assert!(expiry.parse::<u64>().unwrap() > 1_700_000_000);
    assert!(!ice[1]["credential"].as_str().unwrap().is_empty());
}

/// Reads frames until the socket ends; returns the JSON ones (within `limit`).
async fn drain(ws: &mut Ws, limit: Duration) -> Vec<Value> {
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + limit;
    while let Ok(Some(Ok(m))) = tokio::time::timeout_at(deadline, ws.next()).await {
        if let Message::Text(t) = m {
            out.push(serde_json::from_str(t.as_str()).unwrap());
        }
    }
    out
}

#[tokio::test]
async fn a_flooding_client_is_throttled_then_disconnected_and_others_are_unaffected() {
    let url = server(SignalingConfig {
        rate_per_second: 10,
        rate_burst: 20,
        rate_strikes: 5,
        ..SignalingConfig::default()
    })
    .await;
    let mut a = connect(&url).await;
    let (room, a_id) = create(&mut a, "Flooder").await;
    let mut b = connect(&url).await;
    assert_eq!(join(&mut b, &room).await["type"], "joined");
    // 100 frames at once, without reading (sends may fail once the server has hung up).
    for _ in 0..100 {
        if a.send(Message::text(r#"{"v":1,"type":"ping"}"#)).await.is_err() {
            break;
        }
    }
    let frames = drain(&mut a, Duration::from_secs(10)).await;
    let pongs = frames.iter().filter(|f| f["type"] == "pong").count();
    let limited: Vec<_> = frames.iter().filter(|f| f["code"] == "rate-limited").collect();
    // The burst got through (and one refill token or two while the frames were arriving), no more.
    assert!((19..=25).contains(&pongs), "{pongs} pongs: {frames:?}");
    assert!(limited.len() >= 2, "{frames:?}");
    assert!(
        limited[0]["message"].as_str().unwrap().contains("dropped"),
        "{frames:?}"
    );
    let last = frames.last().unwrap();
    assert!(
        last["message"].as_str().unwrap().starts_with("disconnected"),
        "the flooder is told why it is disconnected: {last}"
    );
    // The other member hears it leave and is served normally.
    let mut seen_left = false;
    for _ in 0..3 {
        let m = recv(&mut b).await;
        if m == json!({"type":"peer-left","id":a_id}) {
            seen_left = true;
            break;
        }
    }
    assert!(seen_left);
    send(&mut b, json!({"v":1,"type":"ping"})).await;
    assert_eq!(recv(&mut b).await["type"], "pong");
}

#[tokio::test]
async fn a_client_that_never_reads_is_dropped_and_others_are_unaffected() {
    let url = server(SignalingConfig {
        send_queue: 4,
        write_timeout: Duration::from_millis(500),
        rate_per_second: 10_000,
        rate_burst: 10_000,
        ..SignalingConfig::default()
    })
    .await;
    // The slow client: a small receive buffer, and after `joined` it never reads again.
    let addr = url.trim_start_matches("ws://").trim_end_matches("/ws");
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(addr.parse().unwrap()).await.unwrap();
    let (mut slow, _) = tokio_tungstenite::client_async(url.as_str(), MaybeTlsStream::Plain(stream))
        .await
        .unwrap();
    assert_eq!(recv(&mut slow).await["type"], "hello");
    let (room, slow_id) = create(&mut slow, "Sleepy").await;
    // The sender reads its own frames on a task (it must not become a non-reader itself).
    let mut fast = connect(&url).await;
    assert_eq!(join(&mut fast, &room).await["type"], "joined");
    let (mut tx, mut rx) = fast.split();
    let reader = tokio::spawn(async move {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while let Ok(Some(Ok(m))) = tokio::time::timeout_at(deadline, rx.next()).await {
            if let Message::Text(t) = m {
                let v: Value = serde_json::from_str(t.as_str()).unwrap();
                if v["type"] == "peer-left" {
                    return Some(v);
                }
            }
        }
        None
    });
    // 60 KB signals, paced so that most reach the slow client's socket, until the server gives up
    // on it: once the socket buffers are full a write stalls and the client is dropped.
    let pad = "x".repeat(60_000);
    let t0 = tokio::time::Instant::now();
    while !reader.is_finished() && t0.elapsed() < Duration::from_secs(25) {
        let frame = json!({"v":1,"type":"signal","to":slow_id,"data":{"pad":pad}});
        if tx.send(Message::text(frame.to_string())).await.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let left = reader.await.unwrap().expect("the slow client was never dropped");
    assert_eq!(left, json!({"type":"peer-left","id":slow_id}));
    // The server still serves everyone else.
    let mut c = connect(&url).await;
    send(&mut c, json!({"v":1,"type":"ping"})).await;
    assert_eq!(recv(&mut c).await["type"], "pong");
    drop(slow);
}

#[tokio::test]
async fn a_10_mb_frame_is_refused_and_the_server_stays_up() {
    let url = server(SignalingConfig::default()).await;
    let mut a = connect(&url).await;
    let huge = format!(r#"{{"v":1,"type":"ping","pad":"{}"}}"#, "x".repeat(10_000_000));
    // The server hangs up on the frame header; the rest of our write may fail.
    let _ = a.send(Message::text(huge)).await;
    let end = drain(&mut a, Duration::from_secs(10)).await;
    assert!(
        end.iter().all(|f| f["type"] != "pong"),
        "a 10 MB frame must not be served: {end:?}"
    );
    let mut b = connect(&url).await;
    send(&mut b, json!({"v":1,"type":"ping"})).await;
    assert_eq!(recv(&mut b).await["type"], "pong");
}
