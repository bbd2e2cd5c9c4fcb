//! str0m (sans-IO) driven as its documentation's run loop prescribes (crate docs, "Run loop"): every
//! mutation (one datagram, a timeout that is due, a channel write) is followed by `poll_output`
//! drained until `Output::Timeout` before the next one.
//!
//! The waiting is an event loop per thread (mio, i.e. epoll) over non-blocking sockets instead of
//! the docs' blocking `recv_from` after a fresh `set_read_timeout`: one `epoll_wait` with the
//! earliest deadline as its timeout, then every datagram that is waiting is read (`recv_from` until
//! `WouldBlock`), each followed by its drain. `Input::Timeout` is fed only when str0m's deadline has
//! passed. The loop threads exist before a measurement starts and are handed `Rtc`s the way str0m's
//! `chat` example hands a new client's `Rtc` to its running loop.

use std::any::Any;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use mio::net::UdpSocket;
use mio::{Events, Interest, Poll, Token, Waker};
use str0m::channel::{ChannelConfig, ChannelId, Reliability};
use str0m::format::Codec;
use str0m::media::{Direction, MediaKind, Mid, Pt};
use str0m::net::{Protocol, Receive};
use str0m::rtp::RtpWrite;
use str0m::{Candidate, Event, Input, Output, Rtc};

use crate::workload::{cpu_time, expected_crc, judge, MediaWindow, Outcome, Pattern, Transfer, Verifier};

/// Event-loop threads the next str0m pair runs on: with one, both peers share it; with two, the
/// offerer runs on the first and the answerer on the second. Set per figure by main.rs
/// (`competitor_settings`, `--str0m-threads`).
static THREADS: AtomicUsize = AtomicUsize::new(2);

/// Channel writes between two drains: 1 keeps the documented one-mutation-then-drain contract for
/// writes too (`--str0m-writes-per-drain`).
static WRITES_PER_DRAIN: AtomicUsize = AtomicUsize::new(usize::MAX);

/// Socket buffer size asked for (SO_RCVBUF and SO_SNDBUF; 0: the kernel's default). Set per
/// figure by main.rs (`competitor_settings`, `--str0m-socket-buffer`).
static SOCKET_BUFFER: AtomicUsize = AtomicUsize::new(2 * 1024 * 1024);

/// str0m's data-channel send buffer (`set_sctp_max_buffered_amount`); 0 keeps its default, 128 KiB
/// (`--str0m-sctp-buffer`).
static SCTP_BUFFER: AtomicUsize = AtomicUsize::new(0);

/// Sends that found the socket buffer full (retried after a yield), and sends given up on.
static SEND_FULL: AtomicU64 = AtomicU64::new(0);
static SEND_DROPPED: AtomicU64 = AtomicU64::new(0);

/// How many event-loop threads drive the str0m pairs connected from now on.
pub fn set_threads(n: usize) {
    THREADS.store(n.max(1), Ordering::Relaxed);
}

/// Channel writes between two drains.
pub fn set_writes_per_drain(n: usize) {
    WRITES_PER_DRAIN.store(n.max(1), Ordering::Relaxed);
}

/// Socket buffer size str0m's sockets ask for.
pub fn set_socket_buffer(bytes: usize) {
    SOCKET_BUFFER.store(bytes, Ordering::Relaxed);
}

/// str0m's data-channel send buffer in bytes (0: its default).
pub fn set_sctp_buffer(bytes: usize) {
    SCTP_BUFFER.store(bytes, Ordering::Relaxed);
}

/// Installs the crypto provider once per process.
pub fn init() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| str0m::crypto::from_feature_flags().install_process_default());
}

/// One peer: its `Rtc` and socket.
pub struct Peer {
    rtc: Rtc,
    socket: UdpSocket,
    local: SocketAddr,
}

fn peer() -> anyhow::Result<Peer> {
    peer_with(false)
}

/// A peer; `rtp_mode`: str0m's RTP-level API (`StreamTx::write_rtp`, `Event::RtpPacket`).
fn peer_with(rtp_mode: bool) -> anyhow::Result<Peer> {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0")?;
    // The harness owns str0m's sockets: the buffer size main.rs picks for the figure (2 MiB like
    // oxirtc-tokio's, or the kernel's default where str0m is faster with it).
    let size = SOCKET_BUFFER.load(Ordering::Relaxed);
    if size > 0 {
        let sock = socket2::SockRef::from(&socket);
        sock.set_recv_buffer_size(size)?;
        sock.set_send_buffer_size(size)?;
    }
    socket.set_nonblocking(true)?;
    let local = socket.local_addr()?;
    // str0m's default data-channel send buffer (128 KiB) unless `--str0m-sctp-buffer` says other.
    let mut builder = Rtc::builder().set_rtp_mode(rtp_mode);
    let sctp_buffer = SCTP_BUFFER.load(Ordering::Relaxed);
    if sctp_buffer > 0 {
        builder = builder.set_sctp_max_buffered_amount(sctp_buffer);
    }
    let mut rtc = builder.build(Instant::now());
    let candidate = Candidate::host(local, "udp").map_err(|e| anyhow!("str0m candidate: {e}"))?;
    rtc.add_local_candidate(candidate);
    Ok(Peer {
        rtc,
        socket: UdpSocket::from_std(socket),
        local,
    })
}

/// What the application asks of the loop after an event or a turn.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flow {
    /// Nothing to do until the next input.
    Idle,
    /// The app mutated the `Rtc` (wrote): drain again, then ask again.
    Mutated,
    /// Finish this drain and hand the peer back.
    Done,
}

/// The application side of one peer, run on its loop thread.
trait App: Send + 'static {
    /// An event out of `poll_output`.
    fn on_event(&mut self, rtc: &mut Rtc, ev: Event) -> anyhow::Result<Flow>;
    /// After each complete drain: at most one batch of writes (see `WRITES_PER_DRAIN`).
    fn on_turn(&mut self, _rtc: &mut Rtc) -> anyhow::Result<Flow> {
        Ok(Flow::Idle)
    }
    /// When the app wants a turn even without input (an idle limit).
    fn deadline(&self) -> Option<Instant> {
        None
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send>;
}

/// A peer handed to a loop, and where it goes back.
struct Job {
    id: u64,
    peer: Peer,
    app: Box<dyn App>,
    back: mpsc::Sender<Returned>,
}

/// A peer handed back: its app says it is done, it was released, or it failed.
struct Returned {
    id: u64,
    peer: Peer,
    app: Box<dyn App>,
    result: anyhow::Result<()>,
}

enum Command {
    Drive(Box<Job>),
    Release(u64),
}

/// One event-loop thread's inbox.
struct Loop {
    commands: mpsc::Sender<Command>,
    waker: Arc<Waker>,
}

impl Loop {
    fn send(&self, c: Command) -> anyhow::Result<()> {
        self.commands
            .send(c)
            .map_err(|_| anyhow!("str0m loop thread is gone"))?;
        self.waker.wake()?;
        Ok(())
    }
}

/// The pool of `THREADS` loop threads, started the first time that size is asked for and kept for
/// the life of the process (idle loops sleep in `epoll_wait` without a timeout).
fn loops() -> anyhow::Result<&'static [Loop]> {
    static POOLS: Mutex<Vec<&'static [Loop]>> = Mutex::new(Vec::new());
    let n = THREADS.load(Ordering::Relaxed);
    let mut pools = POOLS.lock().map_err(|_| anyhow!("str0m loop pools poisoned"))?;
    if let Some(pool) = pools.iter().find(|p| p.len() == n) {
        return Ok(pool);
    }
    let mut started = Vec::new();
    for i in 0..n {
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKE)?);
        let (tx, rx) = mpsc::channel();
        thread::Builder::new()
            .name(format!("str0m-{n}-loop{i}"))
            .spawn(move || run_loop(poll, rx))?;
        started.push(Loop { commands: tx, waker });
    }
    let pool: &'static [Loop] = Box::leak(started.into_boxed_slice());
    pools.push(pool);
    Ok(pool)
}

fn next_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

const WAKE: Token = Token(usize::MAX);
/// Datagrams read from one socket before the other sockets of the loop get a turn.
const READ_BATCH: usize = 64;

struct Slot {
    job: Job,
    /// str0m's next deadline (from the last drain).
    timeout: Instant,
    /// The socket may hold more datagrams (a read batch stopped before `WouldBlock`).
    readable: bool,
}

/// One loop thread: waits in epoll for the earliest deadline or a datagram, then serves what is due.
fn run_loop(mut poll: Poll, commands: mpsc::Receiver<Command>) {
    let mut slots: Vec<Option<Slot>> = Vec::new();
    let mut events = Events::with_capacity(1024);
    let mut buf = vec![0u8; 2048];
    loop {
        let now = Instant::now();
        let wait = if slots.iter().flatten().any(|s| s.readable) {
            Some(Duration::ZERO)
        } else {
            slots
                .iter()
                .flatten()
                .map(|s| s.job.app.deadline().map_or(s.timeout, |d| d.min(s.timeout)))
                .min()
                .map(|t| t.saturating_duration_since(now))
        };
        if let Err(e) = poll.poll(&mut events, wait) {
            if e.kind() == ErrorKind::Interrupted {
                continue;
            }
            eprintln!("str0m loop: poll failed, loop ends: {e}");
            return;
        }
        for ev in events.iter() {
            if ev.token() == WAKE {
                if !take_commands(&poll, &commands, &mut slots) {
                    return;
                }
            } else if let Some(Some(slot)) = slots.get_mut(ev.token().0) {
                slot.readable = true;
            }
        }
        for entry in slots.iter_mut() {
            let Some(slot) = entry.as_mut() else {
                continue;
            };
            let mut flow = Ok(Flow::Idle);
            if slot.readable {
                flow = read_socket(slot, &mut buf);
            }
            let now = Instant::now();
            if matches!(flow, Ok(Flow::Idle)) && slot.timeout <= now {
                flow = slot
                    .job
                    .peer
                    .rtc
                    .handle_input(Input::Timeout(now))
                    .map_err(|e| anyhow!("str0m: {e}"))
                    .and_then(|()| serve(slot));
            } else if matches!(flow, Ok(Flow::Idle)) && slot.job.app.deadline().is_some_and(|d| d <= now) {
                flow = turns(slot);
            }
            match flow {
                Ok(Flow::Idle) | Ok(Flow::Mutated) => {}
                Ok(Flow::Done) => hand_back(&poll, entry, Ok(())),
                Err(e) => hand_back(&poll, entry, Err(e)),
            }
        }
    }
}

/// Registers new peers and hands released ones back; false when every sender is gone.
fn take_commands(poll: &Poll, commands: &mpsc::Receiver<Command>, slots: &mut Vec<Option<Slot>>) -> bool {
    loop {
        match commands.try_recv() {
            Ok(Command::Drive(job)) => {
                let mut job = *job;
                let index = slots.iter().position(Option::is_none).unwrap_or(slots.len());
                if index == slots.len() {
                    slots.push(None);
                }
                if let Err(e) =
                    poll.registry()
                        .register(&mut job.peer.socket, Token(index), Interest::READABLE)
                {
                    let _ = job.back.send(Returned {
                        id: job.id,
                        peer: job.peer,
                        app: job.app,
                        result: Err(anyhow!("str0m loop: register: {e}")),
                    });
                    continue;
                }
                // The Rtc was mutated (SDP) before it came here: drain it first.
                let mut slot = Slot {
                    job,
                    timeout: Instant::now(),
                    readable: false,
                };
                match serve(&mut slot) {
                    Ok(Flow::Done) => {
                        slots[index] = Some(slot);
                        hand_back(poll, &mut slots[index], Ok(()));
                    }
                    Ok(_) => slots[index] = Some(slot),
                    Err(e) => {
                        slots[index] = Some(slot);
                        hand_back(poll, &mut slots[index], Err(e));
                    }
                }
            }
            Ok(Command::Release(id)) => {
                if let Some(entry) = slots
                    .iter_mut()
                    .find(|s| s.as_ref().is_some_and(|s| s.job.id == id))
                {
                    hand_back(poll, entry, Ok(()));
                }
            }
            Err(mpsc::TryRecvError::Empty) => return true,
            Err(mpsc::TryRecvError::Disconnected) => return false,
        }
    }
}

fn hand_back(poll: &Poll, entry: &mut Option<Slot>, result: anyhow::Result<()>) {
    if let Some(mut slot) = entry.take() {
        let _ = poll.registry().deregister(&mut slot.job.peer.socket);
        let _ = slot.job.back.send(Returned {
            id: slot.job.id,
            peer: slot.job.peer,
            app: slot.job.app,
            result,
        });
    }
}

/// Reads up to `READ_BATCH` datagrams, each fed to the Rtc and followed by a full drain.
fn read_socket(slot: &mut Slot, buf: &mut [u8]) -> anyhow::Result<Flow> {
    for _ in 0..READ_BATCH {
        let (n, source) = match slot.job.peer.socket.recv_from(buf) {
            Ok(r) => r,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                slot.readable = false;
                return Ok(Flow::Idle);
            }
            // ICMP errors (a peer socket already closed) surface here; keep reading.
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => continue,
            Err(e) => return Err(e.into()),
        };
        let Ok(contents) = buf[..n].try_into() else {
            continue; // not a datagram str0m can demultiplex
        };
        let input = Input::Receive(
            Instant::now(),
            Receive {
                proto: Protocol::Udp,
                source,
                destination: slot.job.peer.local,
                contents,
            },
        );
        slot.job
            .peer
            .rtc
            .handle_input(input)
            .map_err(|e| anyhow!("str0m: {e}"))?;
        if serve(slot)? == Flow::Done {
            return Ok(Flow::Done);
        }
    }
    Ok(Flow::Idle)
}

/// Drains the Rtc, then lets the app write (each write followed by its drain) until it is idle.
fn serve(slot: &mut Slot) -> anyhow::Result<Flow> {
    if drain(slot)? == Flow::Done {
        return Ok(Flow::Done);
    }
    turns(slot)
}

fn turns(slot: &mut Slot) -> anyhow::Result<Flow> {
    loop {
        match slot.job.app.on_turn(&mut slot.job.peer.rtc)? {
            Flow::Idle => return Ok(Flow::Idle),
            Flow::Done => return Ok(Flow::Done),
            Flow::Mutated => {
                if drain(slot)? == Flow::Done {
                    return Ok(Flow::Done);
                }
            }
        }
    }
}

/// `poll_output` until `Output::Timeout`: datagrams to the socket, events to the app.
fn drain(slot: &mut Slot) -> anyhow::Result<Flow> {
    let mut flow = Flow::Idle;
    let Job { peer, app, .. } = &mut slot.job;
    loop {
        match peer.rtc.poll_output().map_err(|e| anyhow!("str0m: {e}"))? {
            Output::Transmit(t) => send(&peer.socket, &t.contents, t.destination),
            Output::Timeout(t) => {
                slot.timeout = t;
                return Ok(flow);
            }
            Output::Event(ev) => {
                if app.on_event(&mut peer.rtc, ev)? == Flow::Done {
                    flow = Flow::Done;
                }
            }
        }
    }
}

/// Sends one datagram; a full socket buffer (rare on loopback) is waited out by yielding.
fn send(socket: &UdpSocket, contents: &[u8], destination: SocketAddr) {
    for attempt in 0..100_000 {
        match socket.send_to(contents, destination) {
            Ok(_) => return,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                if attempt == 0 {
                    SEND_FULL.fetch_add(1, Ordering::Relaxed);
                }
                thread::yield_now();
            }
            // An ICMP error from an earlier datagram (peer gone): nothing to retry.
            Err(_) => return,
        }
    }
    SEND_DROPPED.fetch_add(1, Ordering::Relaxed);
}

/// Reports the peer's `ChannelOpen` with the time it came out of `poll_output`, then keeps the
/// peer answering until it is released.
struct Opener {
    opened: Option<mpsc::Sender<(Instant, ChannelId)>>,
}

impl App for Opener {
    fn on_event(&mut self, _rtc: &mut Rtc, ev: Event) -> anyhow::Result<Flow> {
        if let Event::ChannelOpen(id, _) = ev {
            if let Some(tx) = self.opened.take() {
                let _ = tx.send((Instant::now(), id));
            }
        }
        Ok(Flow::Idle)
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        self
    }
}

/// A pair handed to the loops, opening one channel.
struct Opening {
    loops: &'static [Loop],
    t0: Instant,
    cid: ChannelId,
    ids: [u64; 2],
    opened: mpsc::Receiver<(Instant, ChannelId)>,
    back: mpsc::Receiver<Returned>,
}

/// Negotiates a pair on this thread (as the `chat` example does before handing the Rtc to its
/// loop), then hands each peer to its loop. The clock starts before the offer is created.
fn start_pair(reliable: bool) -> anyhow::Result<Opening> {
    init();
    let loops = loops()?;
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
    let (open_tx, opened) = mpsc::channel();
    let (back_tx, back) = mpsc::channel();
    let ids = [next_id(), next_id()];
    for (k, p) in [a, b].into_iter().enumerate() {
        let job = Job {
            id: ids[k],
            peer: p,
            app: Box::new(Opener {
                opened: Some(open_tx.clone()),
            }),
            back: back_tx.clone(),
        };
        loops[k % loops.len()].send(Command::Drive(Box::new(job)))?;
    }
    Ok(Opening {
        loops,
        t0,
        cid,
        ids,
        opened,
        back,
    })
}

impl Opening {
    /// Waits for both `ChannelOpen`s; the set-up time ends at the later one.
    fn wait_open(&self) -> anyhow::Result<Duration> {
        let mut last = self.t0;
        for _ in 0..2 {
            let (t, _) = self
                .opened
                .recv_timeout(Duration::from_secs(20))
                .map_err(|_| anyhow!("str0m: channel did not open"))?;
            last = last.max(t);
        }
        Ok(last - self.t0)
    }

    /// Takes both peers back from their loops (offerer first).
    fn release(self) -> anyhow::Result<(Peer, Peer)> {
        for (k, id) in self.ids.iter().enumerate() {
            self.loops[k % self.loops.len()].send(Command::Release(*id))?;
        }
        let mut got: [Option<Peer>; 2] = [None, None];
        for _ in 0..2 {
            let r = self
                .back
                .recv_timeout(Duration::from_secs(20))
                .map_err(|_| anyhow!("str0m: loop did not hand a peer back"))?;
            r.result?;
            let k = usize::from(r.id == self.ids[1]);
            got[k] = Some(r.peer);
        }
        match got {
            [Some(a), Some(b)] => Ok((a, b)),
            _ => Err(anyhow!("str0m: a peer was not handed back")),
        }
    }
}

/// Connects a pair and opens one channel; returns both peers (taken back from their loops), the
/// channel and the set-up time.
fn connect(reliable: bool) -> anyhow::Result<(Peer, Peer, ChannelId, Duration)> {
    let opening = start_pair(reliable)?;
    let setup = match opening.wait_open() {
        Ok(s) => s,
        Err(e) => {
            let _ = opening.release();
            return Err(e);
        }
    };
    let cid = opening.cid;
    let (a, b) = opening.release()?;
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
    writes_per_drain: usize,
}

impl App for Sender {
    fn on_event(&mut self, _rtc: &mut Rtc, _ev: Event) -> anyhow::Result<Flow> {
        Ok(Flow::Idle)
    }
    fn on_turn(&mut self, rtc: &mut Rtc) -> anyhow::Result<Flow> {
        let Some(mut ch) = rtc.channel(self.cid) else {
            return Ok(Flow::Idle);
        };
        let mut wrote = 0;
        while self.next < self.t.count && wrote < self.writes_per_drain {
            if self.built != Some(self.next) {
                self.pattern.message_into(self.next, self.t.size, &mut self.buf);
                self.built = Some(self.next);
            }
            if !ch
                .write(true, &self.buf)
                .map_err(|e| anyhow!("str0m write: {e}"))?
            {
                break; // str0m's send buffer is full: wait for SACKs
            }
            self.next += 1;
            wrote += 1;
        }
        Ok(if wrote > 0 { Flow::Mutated } else { Flow::Idle })
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        self
    }
}

struct Receiver {
    verifier: Verifier,
    start: Instant,
    last: Instant,
    idle: Duration,
}

impl App for Receiver {
    fn on_event(&mut self, _rtc: &mut Rtc, ev: Event) -> anyhow::Result<Flow> {
        if let Event::ChannelData(d) = ev {
            self.last = Instant::now();
            if self.verifier.on_message(&d.data) {
                return Ok(Flow::Done);
            }
        }
        Ok(Flow::Idle)
    }
    fn on_turn(&mut self, _rtc: &mut Rtc) -> anyhow::Result<Flow> {
        // Nothing more after this long: unreliable messages that were dropped will not come.
        if self.last.max(self.start).elapsed() > self.idle {
            return Ok(Flow::Done);
        }
        Ok(Flow::Idle)
    }
    fn deadline(&self) -> Option<Instant> {
        Some(self.last.max(self.start) + self.idle)
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        self
    }
}

/// A transfer that has not ended after this long is stalled.
const STALL_LIMIT: Duration = Duration::from_secs(300);

/// One transfer from `a` to `b`, the offerer on the first loop thread, the answerer on the second.
pub fn transfer(pattern: &Pattern, t: Transfer) -> anyhow::Result<Outcome> {
    let (a, b, cid, _) = connect(t.reliable)?;
    let crc = t.reliable.then(|| expected_crc(pattern, t));
    let loops = loops()?;
    let (back_tx, back) = mpsc::channel();
    let (ida, idb) = (next_id(), next_id());
    let full0 = SEND_FULL.load(Ordering::Relaxed);
    let dropped0 = SEND_DROPPED.load(Ordering::Relaxed);
    let cpu0 = cpu_time();
    let start = Instant::now();
    let receiver = Receiver {
        verifier: Verifier::new(pattern.clone(), t),
        start,
        last: start,
        idle: Duration::from_millis(if t.reliable { 20_000 } else { 1_000 }),
    };
    let sender = Sender {
        cid,
        pattern: pattern.clone(),
        t,
        next: 0,
        buf: Vec::with_capacity(t.size),
        built: None,
        writes_per_drain: WRITES_PER_DRAIN.load(Ordering::Relaxed),
    };
    let job = |id, peer, app: Box<dyn App>| {
        Box::new(Job {
            id,
            peer,
            app,
            back: back_tx.clone(),
        })
    };
    loops[1 % loops.len()].send(Command::Drive(job(idb, b, Box::new(receiver))))?;
    loops[0].send(Command::Drive(job(ida, a, Box::new(sender))))?;
    let returned = back
        .recv_timeout(STALL_LIMIT)
        .map_err(|_| anyhow!("str0m: stalled, not finished after {} s", STALL_LIMIT.as_secs()))?;
    let cpu = cpu_time().saturating_sub(cpu0);
    if returned.id != idb {
        // The sender came back first: it failed.
        returned.result?;
        return Err(anyhow!("str0m: the sender stopped before the receiver"));
    }
    returned.result?;
    loops[0].send(Command::Release(ida))?;
    let sender_back = back
        .recv_timeout(Duration::from_secs(20))
        .map_err(|_| anyhow!("str0m: sender not handed back"))?;
    sender_back.result?;
    let receiver = returned
        .app
        .into_any()
        .downcast::<Receiver>()
        .map_err(|_| anyhow!("str0m: receiver came back as another app"))?;
    let full = SEND_FULL.load(Ordering::Relaxed) - full0;
    let dropped = SEND_DROPPED.load(Ordering::Relaxed) - dropped0;
    if full > 0 || dropped > 0 {
        eprintln!("  (str0m: {full} sends found the socket full, {dropped} given up)");
    }
    judge(&receiver.verifier, crc, "str0m")?;
    Ok(Outcome {
        elapsed: receiver.last - start,
        received: receiver.verifier.received,
        bytes: receiver.verifier.bytes,
        cpu,
    })
}

/// `pairs` connected pairs with an open channel each, set up `batch` at a time and kept driven by
/// their loops (str0m does nothing without its caller); returned so their inboxes stay alive.
pub fn idle_pairs(pairs: usize, batch: usize) -> anyhow::Result<Vec<Box<dyn Any + Send>>> {
    let mut out: Vec<Box<dyn Any + Send>> = Vec::with_capacity(pairs);
    while out.len() < pairs {
        let n = batch.clamp(1, pairs - out.len());
        let opening: Vec<Opening> = (0..n).map(|_| start_pair(true)).collect::<anyhow::Result<_>>()?;
        for o in opening {
            o.wait_open()?;
            out.push(Box::new(o));
        }
    }
    Ok(out)
}

// ---- Media: str0m's RTP mode (`Rtc::builder().set_rtp_mode(true)`), as its RTP-level API is
// documented (crate docs, "RTP mode"): `StreamTx::write_rtp` on the sender, `Event::RtpPacket` on
// the receiver. The offerer adds an audio and a video section (SendRecv), the answerer accepts.

/// Packets the media sender writes per turn before str0m's output is drained and the loop reads
/// its socket again (oxirtc's sender yields after as many).
const MEDIA_WRITE_BURST: u64 = 64;

/// Reports `Event::Connected` with the time it came out of `poll_output`.
struct MediaOpener {
    connected: Option<mpsc::Sender<Instant>>,
}

impl App for MediaOpener {
    fn on_event(&mut self, _rtc: &mut Rtc, ev: Event) -> anyhow::Result<Flow> {
        if let Event::Connected = ev {
            if let Some(tx) = self.connected.take() {
                let _ = tx.send(Instant::now());
            }
        }
        Ok(Flow::Idle)
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        self
    }
}

/// A media pair handed to the loops until both are connected.
struct MediaOpening {
    loops: &'static [Loop],
    video: Mid,
    ids: [u64; 2],
    connected: mpsc::Receiver<Instant>,
    back: mpsc::Receiver<Returned>,
}

fn start_media_pair() -> anyhow::Result<MediaOpening> {
    init();
    let loops = loops()?;
    let mut a = peer_with(true)?;
    let mut b = peer_with(true)?;
    let mut change = a.rtc.sdp_api();
    change.add_media(MediaKind::Audio, Direction::SendRecv, None, None, None);
    let video = change.add_media(MediaKind::Video, Direction::SendRecv, None, None, None);
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
    let (tx, connected) = mpsc::channel();
    let (back_tx, back) = mpsc::channel();
    let ids = [next_id(), next_id()];
    for (k, p) in [a, b].into_iter().enumerate() {
        let job = Job {
            id: ids[k],
            peer: p,
            app: Box::new(MediaOpener {
                connected: Some(tx.clone()),
            }),
            back: back_tx.clone(),
        };
        loops[k % loops.len()].send(Command::Drive(Box::new(job)))?;
    }
    Ok(MediaOpening {
        loops,
        video,
        ids,
        connected,
        back,
    })
}

impl MediaOpening {
    fn wait_connected(&self) -> anyhow::Result<()> {
        for _ in 0..2 {
            self.connected
                .recv_timeout(Duration::from_secs(20))
                .map_err(|_| anyhow!("str0m: media pair did not connect"))?;
        }
        Ok(())
    }

    fn release(self) -> anyhow::Result<(Peer, Peer)> {
        for (k, id) in self.ids.iter().enumerate() {
            self.loops[k % self.loops.len()].send(Command::Release(*id))?;
        }
        let mut got: [Option<Peer>; 2] = [None, None];
        for _ in 0..2 {
            let r = self
                .back
                .recv_timeout(Duration::from_secs(20))
                .map_err(|_| anyhow!("str0m: loop did not hand a peer back"))?;
            r.result?;
            let k = usize::from(r.id == self.ids[1]);
            got[k] = Some(r.peer);
        }
        match got {
            [Some(a), Some(b)] => Ok((a, b)),
            _ => Err(anyhow!("str0m: a peer was not handed back")),
        }
    }
}

struct MediaSender {
    mid: Mid,
    pt: Pt,
    pattern: Pattern,
    count: u64,
    size: usize,
    next: u64,
    buf: Vec<u8>,
    /// A burst was written this turn: the next call ends the turn so the loop reads its socket.
    burst_done: bool,
    window: Arc<MediaWindow>,
    /// When the sender started: a deadline that is always due.
    since: Instant,
}

impl App for MediaSender {
    fn on_event(&mut self, _rtc: &mut Rtc, _ev: Event) -> anyhow::Result<Flow> {
        Ok(Flow::Idle)
    }
    fn on_turn(&mut self, rtc: &mut Rtc) -> anyhow::Result<Flow> {
        if self.burst_done || self.next >= self.count {
            self.burst_done = false;
            return Ok(Flow::Idle);
        }
        let mut api = rtc.direct_api();
        let stream = api
            .stream_tx_by_mid(self.mid, None)
            .context("str0m: no send stream for the video mid")?;
        let end = (self.next + MEDIA_WRITE_BURST).min(self.count);
        while self.next < end {
            let i = self.next;
            if !self.window.may_send(i) {
                // Wait for the receiver: it wakes this loop (or the 5 ms deadline below does).
                self.window.sender_waiting.store(true, Ordering::Release);
                if !self.window.may_send(i) {
                    break;
                }
                self.window.sender_waiting.store(false, Ordering::Release);
            }
            self.pattern.message_into(i, self.size, &mut self.buf);
            let write = RtpWrite::new(
                self.pt,
                i.into(),
                (i / 8) as u32 * 3000,
                Instant::now(),
                &self.buf[..],
            )
            .marker(i % 8 == 7);
            stream.write_rtp(write);
            self.next += 1;
        }
        // str0m's pacer hands out what was written on its next timeout: drive time forward after
        // the writes, as the chat example does after every input ("Drive time forward in all
        // clients").
        rtc.handle_input(Input::Timeout(Instant::now()))
            .map_err(|e| anyhow!("str0m: {e}"))?;
        self.burst_done = true;
        Ok(Flow::Mutated)
    }
    fn deadline(&self) -> Option<Instant> {
        // More to write: a turn as soon as the loop comes round, or once the receiver has made room
        // (it wakes the loop; 5 ms at the latest, to notice a receiver that stopped).
        if self.next >= self.count {
            None
        } else if self.window.may_send(self.next) {
            Some(self.since)
        } else {
            Some(Instant::now() + Duration::from_millis(5))
        }
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        self
    }
}

struct MediaReceiver {
    verifier: Verifier,
    start: Instant,
    last: Instant,
    idle: Duration,
    window: Arc<MediaWindow>,
    /// The sender's loop, woken when the window opens for a sender that waits.
    sender_loop: Arc<Waker>,
}

impl App for MediaReceiver {
    fn on_event(&mut self, _rtc: &mut Rtc, ev: Event) -> anyhow::Result<Flow> {
        if let Event::RtpPacket(p) = ev {
            self.last = Instant::now();
            let done = self.verifier.on_message(&p.payload);
            if self.window.on_received(self.verifier.received) {
                self.sender_loop.wake()?;
            }
            if done {
                return Ok(Flow::Done);
            }
        }
        Ok(Flow::Idle)
    }
    fn on_turn(&mut self, _rtc: &mut Rtc) -> anyhow::Result<Flow> {
        if self.last.max(self.start).elapsed() > self.idle {
            return Ok(Flow::Done);
        }
        Ok(Flow::Idle)
    }
    fn deadline(&self) -> Option<Instant> {
        Some(self.last.max(self.start) + self.idle)
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        self
    }
}

/// `count` video RTP packets of `size` payload bytes from the offerer (first loop thread) to the
/// answerer (second): delivered packets per second at the receiver.
pub fn media(
    pattern: &Pattern,
    count: u64,
    size: usize,
    window: Arc<MediaWindow>,
) -> anyhow::Result<Outcome> {
    let opening = start_media_pair()?;
    if let Err(e) = opening.wait_connected() {
        let _ = opening.release();
        return Err(e);
    }
    let mid = opening.video;
    let (a, b) = opening.release()?;
    let pt = a
        .rtc
        .codec_config()
        .find(|p| p.spec().codec == Codec::Vp8)
        .map(|p| p.pt())
        .context("str0m: no VP8 payload type")?;
    let loops = loops()?;
    let (back_tx, back) = mpsc::channel();
    let (ida, idb) = (next_id(), next_id());
    let full0 = SEND_FULL.load(Ordering::Relaxed);
    let dropped0 = SEND_DROPPED.load(Ordering::Relaxed);
    let t = Transfer {
        count,
        size,
        reliable: false,
    };
    let cpu0 = cpu_time();
    let start = Instant::now();
    let receiver = MediaReceiver {
        verifier: Verifier::new(pattern.clone(), t),
        start,
        last: start,
        idle: Duration::from_millis(1000),
        window: window.clone(),
        sender_loop: loops[0].waker.clone(),
    };
    let sender = MediaSender {
        mid,
        pt,
        pattern: pattern.clone(),
        count,
        size,
        next: 0,
        buf: Vec::with_capacity(size),
        burst_done: false,
        window,
        since: start,
    };
    let job = |id, peer, app: Box<dyn App>| {
        Box::new(Job {
            id,
            peer,
            app,
            back: back_tx.clone(),
        })
    };
    loops[1 % loops.len()].send(Command::Drive(job(idb, b, Box::new(receiver))))?;
    loops[0].send(Command::Drive(job(ida, a, Box::new(sender))))?;
    let returned = back
        .recv_timeout(STALL_LIMIT)
        .map_err(|_| anyhow!("str0m: stalled, not finished after {} s", STALL_LIMIT.as_secs()))?;
    let cpu = cpu_time().saturating_sub(cpu0);
    if returned.id != idb {
        returned.result?;
        return Err(anyhow!("str0m: the sender stopped before the receiver"));
    }
    returned.result?;
    loops[0].send(Command::Release(ida))?;
    let sender_back = back
        .recv_timeout(Duration::from_secs(20))
        .map_err(|_| anyhow!("str0m: sender not handed back"))?;
    sender_back.result?;
    let receiver = returned
        .app
        .into_any()
        .downcast::<MediaReceiver>()
        .map_err(|_| anyhow!("str0m: receiver came back as another app"))?;
    let full = SEND_FULL.load(Ordering::Relaxed) - full0;
    let dropped = SEND_DROPPED.load(Ordering::Relaxed) - dropped0;
    if full > 0 || dropped > 0 {
        eprintln!("  (str0m: {full} sends found the socket full, {dropped} given up)");
    }
    judge(&receiver.verifier, None, "str0m")?;
    Ok(Outcome {
        elapsed: receiver.last - start,
        received: receiver.verifier.received,
        bytes: receiver.verifier.bytes,
        cpu,
    })
}

/// `pairs` connected pairs with one audio and one video section each, set up `batch` at a time and
/// kept driven by their loops, idle.
pub fn idle_media_pairs(pairs: usize, batch: usize) -> anyhow::Result<Vec<Box<dyn Any + Send>>> {
    let mut out: Vec<Box<dyn Any + Send>> = Vec::with_capacity(pairs);
    while out.len() < pairs {
        let n = batch.clamp(1, pairs - out.len());
        let opening: Vec<MediaOpening> = (0..n)
            .map(|_| start_media_pair())
            .collect::<anyhow::Result<_>>()?;
        for o in opening {
            o.wait_connected()?;
            out.push(Box::new(o));
        }
    }
    Ok(out)
}
