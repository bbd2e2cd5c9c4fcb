//! The daemon in process over loopback: clients owned by each worker relay through it, so the
//! in-place path, the cross-worker hand-off and the relay readers on worker threads all carry data.
#![allow(clippy::disallowed_methods)] // the test drives real sockets on the real clock

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use oxirtc_crypto::{default_provider, SecureRng};
use oxirtc_turn::{ChannelData, ClientConfig, TurnClient, TurnEvent};

use super::net::worker_for;
use super::{start, TurnOptions};

/// Allocates from `ip`, binds a channel to `peer` and returns the socket and channel frame header.
fn allocate_and_bind(server: SocketAddr, ip: IpAddr, peer: SocketAddr, seed: u8) -> (UdpSocket, Vec<u8>) {
    let socket = UdpSocket::bind((ip, 0)).unwrap();
    socket.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
    let mut client = TurnClient::new(
        ClientConfig::new(server, "u", "p"),
        default_provider(),
        SecureRng::from_seed([seed; 32]),
    );
    client.allocate(Instant::now());
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut buf = vec![0u8; 2048];
    let mut channel = None;
    while channel.is_none() {
        assert!(Instant::now() < deadline, "no channel for {ip}");
        let now = Instant::now();
        client.handle_timeout(now);
        while let Some(t) = client.poll_transmit_into(now, &mut buf) {
            socket.send_to(&buf, t.0).unwrap();
        }
        let mut rx = vec![0u8; 2048];
        if let Ok((n, from)) = socket.recv_from(&mut rx) {
            client.handle_receive(Instant::now(), from, &rx[..n]);
        }
        while let Some(e) = client.poll_event() {
            match e {
                TurnEvent::Allocated { .. } => {
                    client.bind_channel(Instant::now(), peer).unwrap();
                }
                TurnEvent::ChannelBound { channel: c, .. } => channel = Some(c),
                other @ (TurnEvent::AllocationFailed(_) | TurnEvent::PermissionFailed { .. }) => {
                    panic!("{ip}: {other:?}")
                }
                _ => {}
            }
        }
    }
    let mut frame = Vec::new();
    ChannelData::encode(channel.unwrap(), b"", false, &mut frame).unwrap();
    (socket, frame)
}

#[test]
fn clients_of_every_worker_relay_both_ways() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let options = TurnOptions {
        listen: vec!["127.0.0.1:0".parse().unwrap()],
        user: vec!["u:p".into()],
        allow_loopback_peers: Some(true),
        threads: Some(2),
        min_port: Some(29_400),
        max_port: Some(29_499),
        ..TurnOptions::default()
    };
    let daemon = runtime.block_on(start(&options)).unwrap();
    let server = daemon.udp[0];
    let echo = UdpSocket::bind("127.0.0.1:0").unwrap();
    let peer = echo.local_addr().unwrap();
    let echo_thread = std::thread::spawn(move || {
        echo.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        let mut buf = [0u8; 2048];
        while let Ok((n, from)) = echo.recv_from(&mut buf) {
            echo.send_to(&buf[..n], from).unwrap();
        }
    });
    // Two client IPs per worker.
    let mut ips = Vec::new();
    for w in 0..2 {
        let mine = (2..250u8)
            .map(|b| IpAddr::V4(Ipv4Addr::new(127, 3, 0, b)))
            .filter(|ip| worker_for(*ip, 2) == w)
            .take(2);
        ips.extend(mine);
    }
    assert_eq!(ips.len(), 4);
    let clients: Vec<_> = ips
        .iter()
        .zip(1u8..)
        .map(|(ip, seed)| allocate_and_bind(server, *ip, peer, seed))
        .collect();
    // 100 ChannelData round trips per client, each a distinct payload. Loopback loses nothing, so
    // a retry means a datagram vanished inside the server (e.g. a lost hand-off between workers).
    let mut buf = [0u8; 2048];
    let mut retries = 0;
    for (i, (socket, header)) in clients.iter().enumerate() {
        socket.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
        for k in 0..100u32 {
            let payload = format!("client {i} message {k}");
            let mut frame = header[..2].to_vec();
            frame.extend_from_slice(&(payload.len() as u16).to_be_bytes());
            frame.extend_from_slice(payload.as_bytes());
            let mut echoed = false;
            for _attempt in 0..5 {
                socket.send_to(&frame, server).unwrap();
                let Ok((n, _)) = socket.recv_from(&mut buf) else {
                    retries += 1;
                    continue;
                };
                let cd = ChannelData::parse(&buf[..n]).unwrap();
                assert_eq!(cd.data, payload.as_bytes());
                echoed = true;
                break;
            }
            assert!(echoed, "client {i} message {k} never came back");
        }
    }
    assert!(retries <= 2, "{retries} of 400 datagrams were lost on loopback");
    assert_eq!(daemon.allocations(), 4);
    drop(daemon);
    echo_thread.join().unwrap();
}
