//! The signaling server's message parser and room state machine, and the file-transfer control
//! messages of `oxirtc send`/`recv` (docs/signaling.md, docs/transfer.md), on hostile input.
//!
//! The input is a script of frames separated by `\n`. The first byte of a frame picks one of three
//! in-process clients (`LocalClient`, the same code path as a WebSocket client): its low bits choose
//! the client, bit 7 set first disconnects it and connects a fresh one. The rest is that client's text
//! frame. Checks: nothing panics; every frame the server sends re-parses to itself; rooms never hold
//! more members than the limit and the registry never more rooms than its limit; a `ClientMsg` or
//! `Control` that parses survives a JSON round trip; a file name `safe_name` accepts never names a
//! path.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oxirtc_cli::transfer::{safe_name, Control};
use oxirtc_crypto::SecureRng;
use oxirtc_server::signaling::{
    ClientMsg, LocalClient, MemoryRegistry, ServerMsg, SignalingConfig, SignalingState,
};
use std::sync::Arc;

const MAX_PEERS: usize = 3;
const MAX_ROOMS: usize = 4;

fn state() -> SignalingState {
    let config = SignalingConfig {
        max_message_bytes: 4096,
        max_peers_per_room: MAX_PEERS,
        max_rooms: MAX_ROOMS,
        send_queue: 16,
        // The rate limit reads the clock: keep it out of the way so runs are reproducible.
        rate_burst: 1_000_000,
        ..SignalingConfig::default()
    };
    let registry = Arc::new(MemoryRegistry::new(MAX_ROOMS));
    SignalingState::with_registry(config, registry, SecureRng::from_seed([7; 32]))
}

fn check_server_frames(client: &mut LocalClient, state: &SignalingState) {
    while let Some(msg) = client.poll_frame() {
        let json = msg.to_json();
        let again: ServerMsg = serde_json::from_str(&json).expect("server frames re-parse");
        assert_eq!(again, msg);
        if let ServerMsg::Joined { room, peers, .. } = &msg {
            assert!(peers.len() < MAX_PEERS, "{room}: {} peers", peers.len());
        }
    }
    assert!(state.registry().room_count() <= MAX_ROOMS);
}

fn check_json(text: &str) {
    if let Ok(m) = serde_json::from_str::<ClientMsg>(text) {
        let again: ClientMsg =
            serde_json::from_str(&serde_json::to_string(&m).expect("serializes")).expect("re-parses");
        assert_eq!(again, m);
    }
    if let Ok(c) = serde_json::from_str::<Control>(text) {
        let again: Control = serde_json::from_str(&c.to_json()).expect("control re-parses");
        assert_eq!(again, c);
        if let Control::Files { files, .. } = &c {
            for f in files {
                if let Ok(name) = safe_name(&f.name) {
                    assert!(!name.contains(['/', '\\']) && name != "." && name != "..");
                }
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let state = state();
    let mut clients: Vec<LocalClient> = (0..3).map(|_| LocalClient::connect(&state)).collect();
    for frame in data.split(|&b| b == b'\n') {
        let Some((&head, body)) = frame.split_first() else {
            continue;
        };
        let i = usize::from(head & 0x0f) % clients.len();
        if head & 0x80 != 0 {
            clients[i] = LocalClient::connect(&state);
        }
        let text = String::from_utf8_lossy(body);
        check_json(&text);
        clients[i].handle_text(&text);
        for c in &mut clients {
            check_server_frames(c, &state);
        }
    }
    drop(clients);
    assert_eq!(state.client_count(), 0);
    assert_eq!(
        state.registry().room_count(),
        0,
        "rooms vanish with their last member"
    );
});
