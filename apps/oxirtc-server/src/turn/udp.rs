//! The UDP fast path, run on each worker's own thread: listener readers (one per listener socket
//! per worker, `recvmmsg` through quinn-udp) hand datagrams of this worker's clients straight to its
//! core and batch the others' into one channel message per receive call; relay readers (one local
//! task per relay socket) call the core directly. Transmits leave with non-blocking sends, so a
//! relayed packet costs no channel hop, no task switch to another thread and no allocation.

use std::cell::RefCell;
use std::io::{self, IoSliceMut};
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Instant;

use oxirtc_turn::{FiveTuple, Transport};
use quinn_udp::{RecvMeta, UdpSockRef, UdpSocketState};
use tokio::io::Interest;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use super::net::worker_for;
use super::worker::{flush, Input, Shared};

/// `recvmmsg` slots per call.
const RECV_SLOTS: usize = 16;
/// Bytes per slot: a GRO batch of up to 64 KiB (the kernel never coalesces more).
const SLOT_BYTES: usize = 64 * 1024;
/// Receive calls on one socket before the task yields to the others on its thread.
const RECV_CALLS_PER_WAKE: usize = 4;
/// Datagrams read from one relay socket before the task yields.
const RELAY_BURST: usize = 32;

/// Datagrams for another worker, read by this one: one arena, one channel message per receive call.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    bytes: Vec<u8>,
    /// (client, server address it reached, end offset in `bytes`).
    items: Vec<(SocketAddr, SocketAddr, usize)>,
}

impl Batch {
    fn push(&mut self, client: SocketAddr, server: SocketAddr, data: &[u8]) {
        self.bytes.extend_from_slice(data);
        self.items.push((client, server, self.bytes.len()));
    }

    /// Number of datagrams.
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    /// `(client, server, datagram)` in arrival order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (SocketAddr, SocketAddr, &[u8])> {
        let mut start = 0;
        self.items.iter().map(move |&(client, server, end)| {
            let data = &self.bytes[start..end];
            start = end;
            (client, server, data)
        })
    }
}

/// Batched receive on one listener socket (quinn-udp: `recvmmsg`, GRO); plain `recv_from` if the
/// socket cannot be set up for it.
struct BatchRecv {
    state: Option<UdpSocketState>,
    slots: Vec<u8>,
    meta: [RecvMeta; RECV_SLOTS],
}

impl BatchRecv {
    fn new(socket: &UdpSocket) -> Self {
        let state = match UdpSocketState::new(UdpSockRef::from(socket)) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::debug!(error = %e, "turn: no batched receive on the listener");
                None
            }
        };
        let slots = if state.is_some() { RECV_SLOTS } else { 1 };
        BatchRecv {
            state,
            slots: vec![0u8; slots * SLOT_BYTES],
            meta: [RecvMeta::default(); RECV_SLOTS],
        }
    }

    /// One receive call; every datagram goes to `deliver` with its client and the server address
    /// it reached: `local` (the socket's address), with the datagram's destination IP in place of a
    /// wildcard (IP_PKTINFO, which quinn-udp turns on). `WouldBlock` when nothing waits.
    fn recv(
        &mut self,
        socket: &UdpSocket,
        local: SocketAddr,
        mut deliver: impl FnMut(SocketAddr, SocketAddr, &[u8]),
    ) -> io::Result<()> {
        let Some(state) = &self.state else {
            let (n, source) = socket.try_recv_from(&mut self.slots)?;
            deliver(source, local, &self.slots[..n]);
            return Ok(());
        };
        let mut iovs: Vec<IoSliceMut<'_>> = self.slots.chunks_mut(SLOT_BYTES).map(IoSliceMut::new).collect();
        let meta = &mut self.meta;
        let n = socket.try_io(Interest::READABLE, || {
            state.recv(UdpSockRef::from(socket), &mut iovs, meta)
        })?;
        for (m, iov) in self.meta.iter().zip(iovs.iter()).take(n) {
            let data = &iov[..m.len.min(iov.len())];
            let server = match m.dst_ip {
                Some(ip) if local.ip().is_unspecified() => SocketAddr::new(ip, local.port()),
                _ => local,
            };
            // A GRO batch: `stride`-sized datagrams back to back, the last possibly shorter.
            for datagram in data.chunks(m.stride.max(1)) {
                deliver(m.addr, server, datagram);
            }
        }
        Ok(())
    }
}

/// Reads one listener socket on worker `index`'s thread until the worker stops.
pub(crate) async fn listener_reader(
    shared: Shared,
    socket: Rc<UdpSocket>,
    index: usize,
    workers: Vec<mpsc::Sender<Input>>,
) {
    let Ok(local) = socket.local_addr() else { return };
    let mut io = BatchRecv::new(&socket);
    let n = workers.len();
    let mut others: Vec<Option<Batch>> = (0..n).map(|_| None).collect();
    loop {
        if socket.readable().await.is_err() {
            return;
        }
        for _ in 0..RECV_CALLS_PER_WAKE {
            let now = Instant::now();
            let mut mine = false;
            let result = {
                let mut state = shared.borrow_mut();
                io.recv(&socket, local, |client, server, data| {
                    let w = worker_for(client.ip(), n);
                    if w == index {
                        let tuple = FiveTuple {
                            client,
                            server,
                            transport: Transport::Udp,
                        };
                        state.core.handle_receive(now, tuple, data);
                        mine = true;
                    } else if let Some(slot) = others.get_mut(w) {
                        slot.get_or_insert_with(Batch::default).push(client, server, data);
                    }
                })
            };
            if mine {
                flush(&shared);
            }
            if !hand_off(&workers, &mut others) {
                return;
            }
            match result {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                // ICMP errors surface as receive errors on some systems: keep serving.
                Err(e) => tracing::debug!(error = %e, "UDP receive error"),
            }
        }
        tokio::task::yield_now().await;
    }
}

/// Sends each pending batch to its worker. A full queue drops the batch (UDP semantics) instead of
/// stalling this reader. `false` once the workers are gone.
fn hand_off(workers: &[mpsc::Sender<Input>], others: &mut [Option<Batch>]) -> bool {
    for (tx, slot) in workers.iter().zip(others.iter_mut()) {
        let Some(batch) = slot.take() else { continue };
        let count = batch.len() as u64;
        match tx.try_send(Input::Datagrams(batch)) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                metrics::counter!("turn_dropped_total", "reason" => "worker_busy").increment(count);
            }
            Err(mpsc::error::TrySendError::Closed(_)) => return false,
        }
    }
    true
}

thread_local! {
    /// One receive buffer per worker thread, shared by every relay socket on it: an idle allocation
    /// then costs no 64 KiB buffer of its own.
    static RELAY_BUF: RefCell<Vec<u8>> = RefCell::new(vec![0u8; 65_536]);
}

/// Reads one relay socket and hands its datagrams to the core on this thread (RFC 8656 §11.3,
/// §12.7 happen in [`oxirtc_turn::TurnServer::handle_relay_receive`]).
pub(crate) async fn relay_reader(shared: Shared, socket: Rc<UdpSocket>, relay: SocketAddr) {
    loop {
        if socket.readable().await.is_err() {
            return;
        }
        let got = RELAY_BUF.with(|buf| {
            let mut buf = buf.borrow_mut();
            let mut state = shared.borrow_mut();
            let now = Instant::now();
            let mut got = 0;
            while got < RELAY_BURST {
                match socket.try_recv_from(&mut buf) {
                    Ok((n, peer)) => {
                        state.core.handle_relay_receive(now, relay, peer, &buf[..n]);
                        got += 1;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    // ICMP port-unreachable and friends: transient, keep the relay open.
                    Err(e) => {
                        tracing::debug!(%relay, error = %e, "relay receive error");
                        break;
                    }
                }
            }
            got
        });
        if got > 0 {
            flush(&shared);
        }
        if got == RELAY_BURST {
            tokio::task::yield_now().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_keeps_datagram_boundaries_and_order() {
        let a: SocketAddr = "192.0.2.1:1".parse().unwrap();
        let b: SocketAddr = "192.0.2.2:2".parse().unwrap();
        let s: SocketAddr = "198.51.100.1:3478".parse().unwrap();
        let t: SocketAddr = "198.51.100.2:3478".parse().unwrap();
        let mut batch = Batch::default();
        batch.push(a, s, b"one");
        batch.push(b, t, b"");
        batch.push(a, s, b"three");
        assert_eq!(batch.len(), 3);
        let got: Vec<(SocketAddr, SocketAddr, Vec<u8>)> =
            batch.iter().map(|(c, s, d)| (c, s, d.to_vec())).collect();
        assert_eq!(
            got,
            vec![
                (a, s, b"one".to_vec()),
                (b, t, Vec::new()),
                (a, s, b"three".to_vec())
            ]
        );
    }
}
