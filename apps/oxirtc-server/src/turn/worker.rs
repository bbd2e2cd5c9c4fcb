//! One worker: a sans-IO [`TurnServer`] core on its own thread (a current-thread tokio runtime and
//! a `LocalSet`), together with the sockets it serves: its readers of the shared listeners and the
//! relay sockets of its allocations (see `udp.rs`). Other threads reach it through one channel:
//! datagrams of its clients read by another worker, TCP/TLS frames, drain.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use oxirtc_turn::{FiveTuple, ServerEvent, ServerStats, Transport, TurnServer};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::metrics::{publish, SizeRule};
use super::udp::{listener_reader, relay_reader, Batch};

/// What reaches a worker from other threads.
#[derive(Debug)]
pub(crate) enum Input {
    /// UDP datagrams of this worker's clients, read by another worker's listener reader.
    Datagrams(Batch),
    /// A TCP frame from a client.
    Client { tuple: FiveTuple, data: Vec<u8> },
    /// A TCP client connected; frames for it go to `writer`.
    TcpOpened {
        tuple: FiveTuple,
        writer: mpsc::Sender<Vec<u8>>,
    },
    /// A TCP client went away.
    TcpClosed { tuple: FiveTuple },
    /// Stop accepting allocations (SIGTERM).
    Drain,
}

/// Inputs handled per wake-up before sending, so bursts are processed in batches.
const BATCH: usize = 64;
const METRICS_EVERY: Duration = Duration::from_millis(250);

/// Everything a worker thread starts from (all `Send`; the thread builds its local state).
pub(crate) struct WorkerSetup {
    pub core: TurnServer,
    pub index: usize,
    pub rx: mpsc::Receiver<Input>,
    /// Every worker's input channel, by index (this one's included).
    pub workers: Vec<mpsc::Sender<Input>>,
    /// This worker's handles on the shared listener sockets (duplicated descriptors).
    pub listeners: Vec<std::net::UdpSocket>,
    /// This worker's live allocation count, read by the drain logic.
    pub live: Arc<AtomicUsize>,
    /// Closed when the daemon is dropped: the worker then stops.
    pub stop: watch::Receiver<()>,
    /// The optional 401 size rule (`--unauth-size-slack`), named in its warning.
    pub size_rule: Option<SizeRule>,
    /// The daemon's start, shared by all workers (paces the size-rule warning).
    pub epoch: Instant,
}

/// The worker's state, shared by the tasks on its thread (never across threads).
pub(crate) struct State {
    pub core: TurnServer,
    listeners: HashMap<SocketAddr, Rc<UdpSocket>>,
    relays: HashMap<SocketAddr, (Rc<UdpSocket>, JoinHandle<()>)>,
    tcp: HashMap<(SocketAddr, SocketAddr), mpsc::Sender<Vec<u8>>>,
    live: Arc<AtomicUsize>,
}

pub(crate) type Shared = Rc<RefCell<State>>;

/// Starts the worker thread on `runtime` (built by the caller, so a failure is a start-up error).
pub(crate) fn spawn(setup: WorkerSetup, runtime: tokio::runtime::Runtime) -> io::Result<()> {
    std::thread::Builder::new()
        .name(format!("turn-worker-{}", setup.index))
        .spawn(move || {
            let local = tokio::task::LocalSet::new();
            local.block_on(&runtime, run(setup));
        })
        .map(drop)
}

async fn run(setup: WorkerSetup) {
    let WorkerSetup {
        core,
        index,
        mut rx,
        workers,
        listeners,
        live,
        mut stop,
        size_rule,
        epoch,
    } = setup;
    let shared: Shared = Rc::new(RefCell::new(State {
        core,
        listeners: HashMap::new(),
        relays: HashMap::new(),
        tcp: HashMap::new(),
        live,
    }));
    for std_socket in listeners {
        let socket = match std_socket
            .local_addr()
            .and_then(|a| Ok((a, UdpSocket::from_std(std_socket)?)))
        {
            Ok((addr, s)) => {
                let s = Rc::new(s);
                shared.borrow_mut().listeners.insert(addr, Rc::clone(&s));
                s
            }
            Err(e) => {
                tracing::error!(worker = index, error = %e, "turn: cannot register a listener socket");
                continue;
            }
        };
        tokio::task::spawn_local(listener_reader(
            Rc::clone(&shared),
            socket,
            index,
            workers.clone(),
        ));
    }
    drop(workers);
    let mut last = ServerStats::default();
    let mut next_metrics = Instant::now() + METRICS_EVERY;
    loop {
        let deadline = shared
            .borrow()
            .core
            .poll_timeout()
            .map_or(next_metrics, |t| t.min(next_metrics));
        tokio::select! {
            input = rx.recv() => {
                let Some(input) = input else { break };
                handle(&shared, input);
                for _ in 1..BATCH {
                    match rx.try_recv() {
                        Ok(input) => handle(&shared, input),
                        Err(_) => break,
                    }
                }
            }
            () = tokio::time::sleep_until(deadline.into()) => {}
            _ = stop.changed() => break,
        }
        let now = Instant::now();
        shared.borrow_mut().core.handle_timeout(now);
        flush(&shared);
        if now >= next_metrics {
            next_metrics = now + METRICS_EVERY;
            let state = shared.borrow();
            let count = state.core.allocation_count();
            publish(
                index,
                &mut last,
                state.core.stats(),
                count,
                size_rule,
                (now, epoch),
            );
            state.live.store(count, Ordering::Relaxed);
        }
    }
}

fn handle(shared: &Shared, input: Input) {
    let now = Instant::now();
    let mut state = shared.borrow_mut();
    match input {
        Input::Datagrams(batch) => {
            for (client, server, data) in batch.iter() {
                let tuple = FiveTuple {
                    client,
                    server,
                    transport: Transport::Udp,
                };
                state.core.handle_receive(now, tuple, data);
            }
        }
        Input::Client { tuple, data } => state.core.handle_receive(now, tuple, &data),
        Input::TcpOpened { tuple, writer } => {
            state.tcp.insert((tuple.client, tuple.server), writer);
        }
        Input::TcpClosed { tuple } => {
            state.tcp.remove(&(tuple.client, tuple.server));
            state.core.handle_transport_closed(tuple);
        }
        Input::Drain => state.core.set_draining(true),
    }
}

/// Events first (bind relay sockets before the success responses leave), then transmits, each with
/// one non-blocking send: a full socket buffer drops the datagram (counted), as a full queue would.
pub(crate) fn flush(shared: &Shared) {
    let mut guard = shared.borrow_mut();
    let state = &mut *guard;
    while let Some(event) = state.core.poll_event() {
        match event {
            ServerEvent::AllocationCreated { relay, .. } => open_relay(shared, state, relay),
            ServerEvent::AllocationDeleted { relay, .. } => {
                if let Some((_, task)) = state.relays.remove(&relay) {
                    task.abort();
                }
            }
            _ => {}
        }
    }
    state.live.store(state.core.allocation_count(), Ordering::Relaxed);
    let State {
        core,
        listeners,
        relays,
        tcp,
        ..
    } = state;
    while let Some(t) = core.poll_transmit() {
        if t.transport == Transport::Tcp {
            if let Some(w) = tcp.get(&(t.destination, t.source)) {
                // A full writer queue means a stalled client: drop, like a lost datagram.
                let _ = w.try_send(t.contents.to_vec());
            }
            continue;
        }
        let socket = listener_for(listeners, t.source).or_else(|| relays.get(&t.source).map(|(s, _)| s));
        let Some(socket) = socket else { continue };
        // The system call itself, not tokio's `try_send_to`: that one answers `WouldBlock` without
        // trying until the reactor has seen the socket writable once, which drops the first packets
        // of a relay socket bound a moment ago. Nothing here waits for writability, so bypassing
        // tokio's readiness cache loses nothing.
        let raw = socket2::SockRef::from(socket.as_ref());
        match raw.send_to(t.contents, &t.destination.into()) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                metrics::counter!("turn_dropped_total", "reason" => "send_buffer_full").increment(1);
            }
            Err(e) => tracing::debug!(error = %e, destination = %t.destination, "TURN send failed"),
        }
    }
}

/// The listener socket bound to `source`, or the wildcard one of its family and port that received
/// the client's datagram (the core answers from the address the client reached). From a wildcard
/// socket the kernel picks the source IP by route, which is the reached one on hosts without
/// asymmetric routing.
fn listener_for(
    listeners: &HashMap<SocketAddr, Rc<UdpSocket>>,
    source: SocketAddr,
) -> Option<&Rc<UdpSocket>> {
    listeners.get(&source).or_else(|| {
        let any: IpAddr = match source {
            SocketAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
            SocketAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
        };
        listeners.get(&SocketAddr::new(any, source.port()))
    })
}

/// Binds the relay socket the core chose and starts its reader on this thread.
fn open_relay(shared: &Shared, state: &mut State, relay: SocketAddr) {
    let socket = match std::net::UdpSocket::bind(relay).and_then(|s| {
        s.set_nonblocking(true)?;
        UdpSocket::from_std(s)
    }) {
        Ok(s) => Rc::new(s),
        Err(e) => {
            tracing::warn!(%relay, error = %e, "cannot bind relay socket");
            state.core.relay_bind_failed(relay);
            return;
        }
    };
    let task = tokio::task::spawn_local(relay_reader(Rc::clone(shared), Rc::clone(&socket), relay));
    state.relays.insert(relay, (socket, task));
}
