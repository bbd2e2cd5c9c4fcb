//! One worker: a sans-IO [`TurnServer`] core on its own task, fed by the listener, TCP connection and
//! relay-socket tasks through one channel, sending through the sockets it owns.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use oxirtc_turn::{FiveTuple, ServerEvent, ServerStats, Transport, TurnServer};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::metrics::publish;

/// What reaches a worker.
#[derive(Debug)]
pub(crate) enum Input {
    /// A datagram or TCP frame from a client.
    Client { tuple: FiveTuple, data: Vec<u8> },
    /// A datagram that arrived on a relay socket.
    Relay {
        relay: SocketAddr,
        peer: SocketAddr,
        data: Vec<u8>,
    },
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

pub(crate) struct Worker {
    pub core: TurnServer,
    pub index: usize,
    pub rx: mpsc::Receiver<Input>,
    pub tx: mpsc::Sender<Input>,
    /// Listener sockets by local address.
    pub listeners: HashMap<SocketAddr, Arc<UdpSocket>>,
    pub tcp: HashMap<(SocketAddr, SocketAddr), mpsc::Sender<Vec<u8>>>,
    pub relays: HashMap<SocketAddr, (Arc<UdpSocket>, JoinHandle<()>)>,
    /// This worker's live allocation count, read by the drain logic.
    pub live: Arc<AtomicUsize>,
    pub last: ServerStats,
}

impl Worker {
    pub(crate) async fn run(mut self) {
        let mut next_metrics = Instant::now() + METRICS_EVERY;
        loop {
            let deadline = self
                .core
                .poll_timeout()
                .map_or(next_metrics, |t| t.min(next_metrics));
            tokio::select! {
                input = self.rx.recv() => {
                    let Some(input) = input else { break };
                    self.handle(input);
                    for _ in 1..BATCH {
                        match self.rx.try_recv() {
                            Ok(input) => self.handle(input),
                            Err(_) => break,
                        }
                    }
                }
                () = tokio::time::sleep_until(deadline.into()) => {}
            }
            let now = Instant::now();
            self.core.handle_timeout(now);
            self.flush().await;
            if now >= next_metrics {
                next_metrics = now + METRICS_EVERY;
                publish(
                    self.index,
                    &mut self.last,
                    self.core.stats(),
                    self.core.allocation_count(),
                );
                self.live.store(self.core.allocation_count(), Ordering::Relaxed);
            }
        }
    }

    fn handle(&mut self, input: Input) {
        let now = Instant::now();
        match input {
            Input::Client { tuple, data } => self.core.handle_receive(now, tuple, &data),
            Input::Relay { relay, peer, data } => self.core.handle_relay_receive(now, relay, peer, &data),
            Input::TcpOpened { tuple, writer } => {
                self.tcp.insert((tuple.client, tuple.server), writer);
            }
            Input::TcpClosed { tuple } => {
                self.tcp.remove(&(tuple.client, tuple.server));
                self.core.handle_transport_closed(tuple);
            }
            Input::Drain => self.core.set_draining(true),
        }
    }

    /// Events first (bind relay sockets before the success responses leave), then transmits.
    async fn flush(&mut self) {
        while let Some(event) = self.core.poll_event() {
            match event {
                ServerEvent::AllocationCreated { relay, .. } => self.open_relay(relay),
                ServerEvent::AllocationDeleted { relay, .. } => {
                    if let Some((_, task)) = self.relays.remove(&relay) {
                        task.abort();
                    }
                }
                _ => {}
            }
        }
        self.live.store(self.core.allocation_count(), Ordering::Relaxed);
        while let Some(t) = self.core.poll_transmit() {
            let result = match t.transport {
                Transport::Tcp => {
                    if let Some(w) = self.tcp.get(&(t.destination, t.source)) {
                        // A full writer queue means a stalled client: drop, like a lost datagram.
                        let _ = w.try_send(t.contents.to_vec());
                    }
                    Ok(0)
                }
                _ => {
                    let socket = self
                        .listeners
                        .get(&t.source)
                        .or_else(|| self.relays.get(&t.source).map(|(s, _)| s));
                    match socket {
                        Some(s) => s.send_to(t.contents, t.destination).await,
                        None => Ok(0),
                    }
                }
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, "TURN send failed");
            }
        }
    }

    fn open_relay(&mut self, relay: SocketAddr) {
        let socket = match std::net::UdpSocket::bind(relay).and_then(|s| {
            s.set_nonblocking(true)?;
            UdpSocket::from_std(s)
        }) {
            Ok(s) => Arc::new(s),
            Err(e) => {
                tracing::warn!(%relay, error = %e, "cannot bind relay socket");
                self.core.relay_bind_failed(relay);
                return;
            }
        };
        let (reader, tx) = (Arc::clone(&socket), self.tx.clone());
        let task = tokio::spawn(relay_reader(reader, relay, tx));
        self.relays.insert(relay, (socket, task));
    }
}

thread_local! {
    /// One receive buffer per runtime thread, shared by every relay socket on it: an idle allocation
    /// then costs no 64 KiB buffer of its own.
    static RELAY_BUF: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0u8; 65_536]);
}

/// Reads one relay socket and forwards its datagrams to the worker.
async fn relay_reader(socket: Arc<UdpSocket>, relay: SocketAddr, tx: mpsc::Sender<Input>) {
    loop {
        if socket.readable().await.is_err() {
            return;
        }
        let got = RELAY_BUF.with(|buf| {
            let mut buf = buf.borrow_mut();
            socket
                .try_recv_from(&mut buf)
                .map(|(n, peer)| (buf[..n].to_vec(), peer))
        });
        match got {
            Ok((data, peer)) => match tx.try_send(Input::Relay { relay, peer, data }) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => {
                    metrics::counter!("turn_dropped_total", "reason" => "worker_busy").increment(1);
                }
                Err(mpsc::error::TrySendError::Closed(_)) => return,
            },
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            // ICMP port-unreachable and friends: transient, keep the relay open.
            Err(e) => tracing::debug!(%relay, error = %e, "relay receive error"),
        }
    }
}
