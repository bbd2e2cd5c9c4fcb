//! `turn-load relay SERVER USER PASS CLIENTS SECS LEN WINDOW`: relay-throughput mode. CLIENTS
//! allocations (each from its own 127.x source IP) bind a channel to an echo peer inside this
//! process, then every client keeps WINDOW ChannelData messages of LEN bytes in flight for SECS
//! seconds (closed loop: each echo that comes back is answered by a new message, a 100 ms silence
//! re-sends one so losses do not shrink the window). Prints the echoes counted and the relayed
//! packets/s (both directions, as uclient counts them: 2 per echo).
//!
//! Threads, not an event loop: one blocking thread per client and one for the echo peer, so the
//! generator sleeps in `recv` instead of spinning while the server works.

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use oxirtc_crypto::{default_provider, SecureRng};
use oxirtc_turn::{ChannelData, ChannelNumber, ClientConfig, ClientState, TurnClient, TurnEvent};

struct Setup {
    socket: UdpSocket,
    client: TurnClient,
    channel: Option<ChannelNumber>,
    failed: bool,
}

/// Echoes every datagram back to its sender until `stop`.
fn echo_peer(socket: UdpSocket, stop: Arc<AtomicBool>) {
    socket.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let mut buf = vec![0u8; 65_536];
    while !stop.load(Ordering::Relaxed) {
        if let Ok((n, from)) = socket.recv_from(&mut buf) {
            let _ = socket.send_to(&buf[..n], from);
        }
    }
}

/// Allocates on every socket and binds a channel to `peer`; returns the clients that got one.
fn set_up(server: SocketAddr, user: &str, pass: &str, count: usize, peer: SocketAddr) -> Vec<Setup> {
    let mut conns: Vec<Setup> = (0..count)
        .map(|i| {
            let ip = Ipv4Addr::new(127, 2, (i / 250) as u8, (i % 250) as u8 + 2);
            let socket = UdpSocket::bind((ip, 0)).unwrap();
            socket.set_nonblocking(true).unwrap();
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&(i as u64 + 1_000_000).to_le_bytes());
            let mut client = TurnClient::new(
                ClientConfig::new(server, user, pass),
                default_provider(),
                SecureRng::from_seed(seed),
            );
            client.allocate(Instant::now());
            Setup {
                socket,
                client,
                channel: None,
                failed: false,
            }
        })
        .collect();
    let mut buf = vec![0u8; 65_536];
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) && conns.iter().any(|c| c.channel.is_none() && !c.failed)
    {
        let now = Instant::now();
        for c in &mut conns {
            c.client.handle_timeout(now);
            while let Some(t) = c.client.poll_transmit(now) {
                let _ = c.socket.send_to(&t.contents, t.destination);
            }
            while let Ok((n, from)) = c.socket.recv_from(&mut buf) {
                c.client.handle_receive(now, from, &buf[..n]);
            }
            while let Some(e) = c.client.poll_event() {
                match e {
                    TurnEvent::Allocated { .. } if c.client.bind_channel(now, peer).is_err() => {
                        c.failed = true
                    }
                    TurnEvent::ChannelBound { channel, .. } => c.channel = Some(channel),
                    TurnEvent::AllocationFailed(_) | TurnEvent::PermissionFailed { .. } => c.failed = true,
                    _ => {}
                }
            }
            if c.client.state() == ClientState::Closed {
                c.failed = true;
            }
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    conns.retain(|c| c.channel.is_some());
    conns
}

/// One client's closed loop; returns (sent, echoes received).
fn blast(socket: UdpSocket, server: SocketAddr, frame: Vec<u8>, window: usize, until: Instant) -> (u64, u64) {
    socket.set_nonblocking(false).unwrap();
    socket.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let mut buf = vec![0u8; 65_536];
    let (mut sent, mut got) = (0u64, 0u64);
    for _ in 0..window {
        if socket.send_to(&frame, server).is_ok() {
            sent += 1;
        }
    }
    while Instant::now() < until {
        match socket.recv_from(&mut buf) {
            Ok((n, from)) if from == server && ChannelData::parse(&buf[..n]).is_some() => got += 1,
            Ok(_) => continue, // a refresh answer or stray datagram: not an echo
            Err(_) => {}       // 100 ms of silence: a message was lost, send one to keep the window
        }
        if socket.send_to(&frame, server).is_ok() {
            sent += 1;
        }
    }
    (sent, got)
}

/// The `relay` mode's entry point (arguments after `relay`).
pub fn run(args: &[String]) {
    if args.len() != 7 {
        eprintln!("usage: turn-load relay SERVER USER PASS CLIENTS SECS LEN WINDOW");
        std::process::exit(2);
    }
    let server: SocketAddr = args[0].parse().unwrap();
    let (user, pass) = (&args[1], &args[2]);
    let count: usize = args[3].parse().unwrap();
    let secs: u64 = args[4].parse().unwrap();
    let len: usize = args[5].parse().unwrap();
    let window: usize = args[6].parse().unwrap();
    let peer_socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let peer = peer_socket.local_addr().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let echo = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || echo_peer(peer_socket, stop))
    };
    let conns = set_up(server, user, pass, count, peer);
    println!("channels bound {} of {count}", conns.len());
    println!("BLASTING");
    let payload = vec![0x5a; len];
    let start = Instant::now();
    let until = start + Duration::from_secs(secs);
    let threads: Vec<_> = conns
        .into_iter()
        .map(|c| {
            let mut frame = Vec::new();
            // Checked by set_up's retain: every remaining client has a channel; the payload size
            // comes from the command line and must fit one ChannelData message.
            ChannelData::encode(c.channel.unwrap(), &payload, false, &mut frame)
                .expect("payload of at most 65535 bytes");
            std::thread::spawn(move || blast(c.socket, server, frame, window, until))
        })
        .collect();
    let (mut sent, mut got) = (0u64, 0u64);
    for t in threads {
        let (s, g) = t.join().unwrap();
        sent += s;
        got += g;
    }
    let elapsed = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let _ = echo.join();
    println!(
        "relay sent {sent} echoed {got} in {elapsed:.3} s: {:.0} relayed packets/s {:.2} relayed MB/s, {} lost or in flight",
        2.0 * got as f64 / elapsed,
        2.0 * (got as f64) * len as f64 / elapsed / 1e6,
        sent.saturating_sub(got),
    );
}
