//! str0m (sans-IO) driven the way its `chat` example does: one thread per peer, a blocking UDP socket
//! with a read timeout, `poll_output` until `Timeout`.

use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use str0m::channel::{ChannelConfig, ChannelId, Reliability};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, Input, Output, Rtc};

use crate::workload::{cpu_time, expected_crc, judge, Outcome, Pattern, Transfer, Verifier};

/// Installs the crypto provider once per process.
pub fn init() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| str0m::crypto::from_feature_flags().install_process_default());
}

/// One peer: its `Rtc` and socket, movable between threads.
pub struct Peer {
    rtc: Rtc,
    socket: UdpSocket,
    local: SocketAddr,
}

fn peer() -> anyhow::Result<Peer> {
    let socket = UdpSocket::bind("127.0.0.1:0")?;
    // The same 2 MiB socket buffers oxirtc-tokio asks for (the harness owns str0m's sockets).
    let sock = socket2::SockRef::from(&socket);
    sock.set_recv_buffer_size(2 * 1024 * 1024)?;
    sock.set_send_buffer_size(2 * 1024 * 1024)?;
    let local = socket.local_addr()?;
    // str0m's default send buffer (128 KiB): raising it to the 1 MiB the others get made str0m slower
    // here (6 vs 12 MB/s bulk, 1.8k vs 5.3k msg/s small), so it keeps its best setting.
    let mut rtc = Rtc::builder().build(Instant::now());
    let candidate = Candidate::host(local, "udp").map_err(|e| anyhow!("str0m candidate: {e}"))?;
    rtc.add_local_candidate(candidate);
    Ok(Peer { rtc, socket, local })
}

/// What the application does on each turn of a peer's loop.
trait App: Send {
    /// An event from the Rtc. Return true to stop the loop.
    fn on_event(&mut self, rtc: &mut Rtc, ev: Event) -> anyhow::Result<bool>;
    /// Once per turn: write what can be written. Return true to stop the loop.
    fn on_turn(&mut self, _rtc: &mut Rtc) -> anyhow::Result<bool> {
        Ok(false)
    }
}

/// Drives `peer` until the app or `stop` says so.
fn run(peer: &mut Peer, app: &mut dyn App, stop: &AtomicBool) -> anyhow::Result<()> {
    let mut buf = vec![0u8; 2048];
    loop {
        let timeout = loop {
            match peer.rtc.poll_output().map_err(|e| anyhow!("str0m: {e}"))? {
                Output::Transmit(t) => {
                    let _ = peer.socket.send_to(&t.contents, t.destination);
                }
                Output::Timeout(t) => break t,
                Output::Event(ev) => {
                    if app.on_event(&mut peer.rtc, ev)? {
                        return Ok(());
                    }
                }
            }
        };
        if app.on_turn(&mut peer.rtc)? || stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        let now = Instant::now();
        let wait = timeout
            .saturating_duration_since(now)
            .clamp(Duration::from_micros(50), Duration::from_millis(50));
        peer.socket.set_read_timeout(Some(wait))?;
        match peer.socket.recv_from(&mut buf) {
            Ok((n, source)) => {
                if let Ok(contents) = buf[..n].try_into() {
                    let input = Input::Receive(
                        Instant::now(),
                        Receive {
                            proto: Protocol::Udp,
                            source,
                            destination: peer.local,
                            contents,
                        },
                    );
                    peer.rtc.handle_input(input).map_err(|e| anyhow!("str0m: {e}"))?;
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => return Err(e.into()),
        }
        let now = Instant::now();
        if now >= timeout {
            peer.rtc
                .handle_input(Input::Timeout(now))
                .map_err(|e| anyhow!("str0m: {e}"))?;
        }
    }
}

/// Reports `ChannelOpen` with its time, and keeps answering the peer until stopped.
struct Opener {
    opened: Option<mpsc::Sender<(Instant, ChannelId)>>,
}

impl App for Opener {
    fn on_event(&mut self, _rtc: &mut Rtc, ev: Event) -> anyhow::Result<bool> {
        if let Event::ChannelOpen(id, _) = ev {
            if let Some(tx) = self.opened.take() {
                let _ = tx.send((Instant::now(), id));
            }
        }
        Ok(false)
    }
}

/// Connects a pair and opens one channel; returns both peers (threads joined), the channel and the
/// set-up time.
fn connect(reliable: bool) -> anyhow::Result<(Peer, Peer, ChannelId, Duration)> {
    init();
    let mut a = peer()?;
    let mut b = peer()?;
    let t0 = Instant::now();
    let mut change = a.rtc.sdp_api();
    let cid = change.add_channel_with_config(ChannelConfig {
        label: "bench".into(),
        ordered: reliable,
        reliability: if reliable {
            Reliability::Reliable
        } else {
            Reliability::MaxRetransmits { retransmits: 0 }
        },
        ..ChannelConfig::default()
    });
    let (offer, pending) = change.apply().context("str0m: no offer")?;
    let answer = b
        .rtc
        .sdp_api()
        .accept_offer(offer)
        .map_err(|e| anyhow!("str0m: {e}"))?;
    a.rtc
        .sdp_api()
        .accept_answer(pending, answer)
        .map_err(|e| anyhow!("str0m: {e}"))?;
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel();
    let spawn = |mut p: Peer, tx: mpsc::Sender<(Instant, ChannelId)>, stop: Arc<AtomicBool>| {
        thread::spawn(move || {
            let r = run(&mut p, &mut Opener { opened: Some(tx) }, &stop);
            r.map(|()| p)
        })
    };
    let ha = spawn(a, tx.clone(), stop.clone());
    let hb = spawn(b, tx, stop.clone());
    let mut opened = Vec::new();
    while opened.len() < 2 {
        match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(o) => opened.push(o),
            Err(_) => {
                stop.store(true, Ordering::Relaxed);
                return Err(anyhow!("str0m: channel did not open"));
            }
        }
    }
    let setup = opened.iter().map(|(t, _)| *t).max().unwrap_or(t0) - t0;
    stop.store(true, Ordering::Relaxed);
    let a = ha.join().map_err(|_| anyhow!("str0m thread panicked"))??;
    let b = hb.join().map_err(|_| anyhow!("str0m thread panicked"))??;
    Ok((a, b, cid, setup))
}

/// Create offer → channel open on both sides.
pub fn setup() -> anyhow::Result<Duration> {
    let (_a, _b, _cid, setup) = connect(true)?;
    Ok(setup)
}

struct Sender {
    cid: ChannelId,
    pattern: Pattern,
    t: Transfer,
    next: u64,
    buf: Vec<u8>,
    built: Option<u64>,
}

impl App for Sender {
    fn on_event(&mut self, _rtc: &mut Rtc, _ev: Event) -> anyhow::Result<bool> {
        Ok(false)
    }
    fn on_turn(&mut self, rtc: &mut Rtc) -> anyhow::Result<bool> {
        let Some(mut ch) = rtc.channel(self.cid) else {
            return Ok(false);
        };
        while self.next < self.t.count {
            if self.built != Some(self.next) {
                self.pattern.message_into(self.next, self.t.size, &mut self.buf);
                self.built = Some(self.next);
            }
            if !ch
                .write(true, &self.buf)
                .map_err(|e| anyhow!("str0m write: {e}"))?
            {
                break;
            }
            self.next += 1;
        }
        Ok(false)
    }
}

struct Receiver {
    verifier: Verifier,
    start: Instant,
    last: Instant,
    idle: Duration,
}

impl App for Receiver {
    fn on_event(&mut self, _rtc: &mut Rtc, ev: Event) -> anyhow::Result<bool> {
        if let Event::ChannelData(d) = ev {
            self.last = Instant::now();
            return Ok(self.verifier.on_message(&d.data));
        }
        Ok(false)
    }
    fn on_turn(&mut self, _rtc: &mut Rtc) -> anyhow::Result<bool> {
        Ok(self.last.max(self.start).elapsed() > self.idle)
    }
}

/// One transfer from `a` to `b`, each peer on its own thread.
pub fn transfer(pattern: &Pattern, t: Transfer) -> anyhow::Result<Outcome> {
    let (mut a, mut b, cid, _) = connect(t.reliable)?;
    let crc = t.reliable.then(|| expected_crc(pattern, t));
    let stop = Arc::new(AtomicBool::new(false));
    let cpu0 = cpu_time();
    let start = Instant::now();
    let mut sender = Sender {
        cid,
        pattern: pattern.clone(),
        t,
        next: 0,
        buf: Vec::with_capacity(t.size),
        built: None,
    };
    let stop_a = stop.clone();
    let ha = thread::spawn(move || run(&mut a, &mut sender, &stop_a));
    let mut receiver = Receiver {
        verifier: Verifier::new(pattern.clone(), t),
        start,
        last: start,
        idle: Duration::from_millis(if t.reliable { 20_000 } else { 1_000 }),
    };
    let stop_b = stop.clone();
    let hb = thread::spawn(move || run(&mut b, &mut receiver, &stop_b).map(|()| receiver));
    let receiver = hb.join().map_err(|_| anyhow!("str0m receiver panicked"))??;
    let cpu = cpu_time().saturating_sub(cpu0);
    stop.store(true, Ordering::Relaxed);
    ha.join().map_err(|_| anyhow!("str0m sender panicked"))??;
    judge(&receiver.verifier, crc, "str0m")?;
    Ok(Outcome {
        elapsed: receiver.last - start,
        received: receiver.verifier.received,
        bytes: receiver.verifier.bytes,
        cpu,
    })
}

/// `pairs` connected pairs with an open channel each (not driven any more once open: str0m does
/// nothing without its caller), returned so they stay alive.
pub fn idle_pairs(pairs: usize) -> anyhow::Result<Vec<Box<dyn std::any::Any + Send>>> {
    let mut out: Vec<Box<dyn std::any::Any + Send>> = Vec::with_capacity(pairs);
    for _ in 0..pairs {
        let (a, b, _, _) = connect(true)?;
        out.push(Box::new((a, b)));
    }
    Ok(out)
}
