//! `turn-load SERVER USER PASS ALLOCATIONS HOLD_SECS`: opens ALLOCATIONS UDP sockets spread over
//! 127.0.0.0/8 source addresses (so per-source 401 rate limits do not throttle one IP), allocates on
//! every one, prints the allocation rate, holds them HOLD_SECS (the bench script samples the server's
//! RSS then), deallocates and exits. Single-threaded, non-blocking sockets, the client's own clock
//! loop.
//!
//! `turn-load relay ...`: the relay-throughput mode, see `relay.rs`.
#![forbid(unsafe_code)]
#![allow(clippy::unwrap_used, clippy::disallowed_methods)] // a benchmark tool owns its clock

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use oxirtc_crypto::{default_provider, SecureRng};
use oxirtc_turn::{ClientConfig, ClientState, TurnClient, TurnEvent};

mod relay;

struct Conn {
    socket: UdpSocket,
    client: TurnClient,
    done: bool,
}

fn pump(conns: &mut [Conn], buf: &mut [u8]) -> (usize, usize) {
    let now = Instant::now();
    let (mut ok, mut failed) = (0, 0);
    for c in conns.iter_mut() {
        c.client.handle_timeout(now);
        while let Some(t) = c.client.poll_transmit(now) {
            let _ = c.socket.send_to(&t.contents, t.destination);
        }
        while let Ok((n, from)) = c.socket.recv_from(buf) {
            c.client.handle_receive(now, from, &buf[..n]);
        }
        while let Some(e) = c.client.poll_event() {
            match e {
                TurnEvent::Allocated { .. } => c.done = true,
                TurnEvent::AllocationFailed(_) | TurnEvent::Deallocated => c.done = true,
                _ => {}
            }
        }
        match c.client.state() {
            ClientState::Allocated { .. } => ok += 1,
            ClientState::Closed => failed += 1,
            _ => {}
        }
    }
    (ok, failed)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("relay") {
        relay::run(&args[2..]);
        return;
    }
    if args.len() != 6 {
        eprintln!("usage: turn-load SERVER USER PASS ALLOCATIONS HOLD_SECS");
        std::process::exit(2);
    }
    let server: SocketAddr = args[1].parse().unwrap();
    let (user, pass) = (&args[2], &args[3]);
    let count: usize = args[4].parse().unwrap();
    let hold = Duration::from_secs(args[5].parse().unwrap());
    let mut conns: Vec<Conn> = (0..count)
        .map(|i| {
            // 127.0.x.y with y in 2..=251: 250 sources per /24.
            let ip = Ipv4Addr::new(
                127,
                1 + (i / 250 / 250) as u8,
                ((i / 250) % 250) as u8,
                (i % 250) as u8 + 2,
            );
            let socket = UdpSocket::bind((ip, 0)).unwrap();
            socket.set_nonblocking(true).unwrap();
            let mut seed = [0u8; 32];
            seed[..8].copy_from_slice(&(i as u64).to_le_bytes());
            let client = TurnClient::new(
                ClientConfig::new(server, user, pass),
                default_provider(),
                SecureRng::from_seed(seed),
            );
            Conn {
                socket,
                client,
                done: false,
            }
        })
        .collect();
    let mut buf = vec![0u8; 65_536];
    let start = Instant::now();
    for c in &mut conns {
        c.client.allocate(start);
    }
    let (mut ok, mut failed) = (0, 0);
    while start.elapsed() < Duration::from_secs(120) {
        (ok, failed) = pump(&mut conns, &mut buf);
        if conns.iter().all(|c| c.done) {
            break;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "allocations {ok} failed {failed} in {secs:.3} s: {:.0} allocations/s",
        ok as f64 / secs
    );
    println!("HOLDING");
    let until = Instant::now() + hold;
    while Instant::now() < until {
        pump(&mut conns, &mut buf); // keeps refreshing if the hold is long
        std::thread::sleep(Duration::from_millis(5));
    }
    for c in &mut conns {
        c.done = false;
        c.client.deallocate(Instant::now());
    }
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(10)
        && !conns
            .iter()
            .all(|c| c.done || c.client.state() == ClientState::Closed)
    {
        pump(&mut conns, &mut buf);
    }
    println!("released");
}
