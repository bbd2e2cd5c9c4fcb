//! The sockets' side of the driver: reading what is waiting straight into the core, and sending the
//! core's datagrams with each run of equal-size datagrams on one path coalesced into one segmented
//! send (UDP GSO) where the socket supports it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use tokio::net::UdpSocket;

use super::Driver;
use crate::udp::BatchIo;

/// Batched reads (each up to 8 datagrams, or 8 GRO batches) from one socket per wake-up before the
/// core's output is drained.
const RECEIVE_BATCH: usize = 8;

impl Driver {
    /// Reads the datagrams waiting in socket `index` (a bounded number of batched reads) straight
    /// into the core.
    pub(super) fn read_socket(&mut self, index: usize) {
        let (Some((local, socket)), Some(io)) = (self.sockets.get(index), self.io.get_mut(index)) else {
            return;
        };
        let local = *local;
        let rtc = &mut self.rtc;
        for _ in 0..RECEIVE_BATCH {
            // One clock read per system call: the datagrams of one batch arrived together.
            let mut now = None;
            let read = io.recv(socket, |source, datagram| {
                let now = *now.get_or_insert_with(Instant::now);
                rtc.handle_receive(now, source, local, datagram);
            });
            match read {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                // ICMP port unreachable and the like surface as errors on some systems; keep reading.
                Err(e) => tracing::trace!(error = %e, "driver: recv error"),
            }
        }
    }

    /// Sends everything the core has, coalescing each run of equal-size datagrams on one path into
    /// one segmented send (GSO) where the socket supports it.
    pub(super) async fn transmit(&mut self, now: Instant) {
        // The batch buffer is kept between flushes: it grows to one GSO batch under load and is then
        // reused instead of being regrown (and copied) on every flush. It is borrowed from the
        // worker thread, not owned by the connection, so an idle connection holds none.
        let mut buf = BATCH_BUF.with(std::cell::Cell::take);
        if buf.capacity() == 0 {
            // Another flush on this thread holds the buffer: a second one, at full size at once
            // rather than regrown step by step while datagrams are copied in.
            buf.reserve(crate::udp::MAX_BATCH_BYTES);
        }
        let mut batch = Batch {
            buf,
            ..Batch::default()
        };
        // Each datagram is appended by the core straight to the batch buffer (SCTP packets are sealed
        // there in place); one that cannot ride in the current batch is moved to the front of the
        // next one once the current one is sent.
        loop {
            let start = batch.buf.len();
            let Some(t) = self.rtc.poll_transmit_into(now, &mut batch.buf) else {
                break;
            };
            if let Some(s) = self
                .streams
                .iter()
                .find(|s| s.local == t.source && s.server == t.destination)
            {
                // A full write queue drops the frame, like a lost datagram; STUN retransmits.
                let _ = s.frames.try_send(batch.buf[start..].to_vec());
                batch.buf.truncate(start);
                continue;
            }
            let index = self
                .sockets
                .iter()
                .position(|(local, _)| *local == t.source)
                .unwrap_or(0);
            if !batch.admit(index, t.destination, start, self.max_segments(index)) {
                self.send_batch(&mut batch).await;
                batch.begin_with_tail(index, t.destination);
            }
        }
        self.send_batch(&mut batch).await;
        return_batch_buf(batch.buf);
    }

    fn max_segments(&self, index: usize) -> usize {
        self.io.get(index).map_or(1, BatchIo::max_segments)
    }

    async fn send_batch(&mut self, batch: &mut Batch) {
        if batch.count == 0 {
            return;
        }
        if let (Some((_, socket)), Some(io)) = (self.sockets.get(batch.index), self.io.get(batch.index)) {
            let contents = &batch.buf[..batch.bytes];
            let done = io.send_now(socket, batch.destination, contents, batch.segment);
            if done < contents.len() {
                // The socket is full: wait for room. Boxed, and so allocated only then, so that
                // every connection's task is not as large as this path's state (issue 15).
                Box::pin(io.send(socket, batch.destination, &contents[done..], batch.segment)).await;
            }
        }
        // What follows the batch (a datagram that did not fit) moves to the front.
        batch.buf.drain(..batch.bytes);
        batch.count = 0;
        batch.bytes = 0;
    }
}

thread_local! {
    /// The batch buffer of the flushes that run on this worker thread. A flush takes it and puts it
    /// back (on whichever thread it ends); two flushes interleaved on one thread (one waiting for a
    /// full socket) each get one, and the larger is kept.
    static BATCH_BUF: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

fn return_batch_buf(mut buf: Vec<u8>) {
    buf.clear();
    BATCH_BUF.with(|slot| {
        let other = slot.take();
        slot.set(if other.capacity() > buf.capacity() {
            other
        } else {
            buf
        });
    });
}

/// Datagrams collected for one segmented send: same socket, same destination, all `segment` bytes
/// long except possibly the last (which closes the batch).
struct Batch {
    index: usize,
    destination: SocketAddr,
    segment: usize,
    count: usize,
    closed: bool,
    /// Bytes of `buf` in the batch; a datagram after them is waiting for the next batch.
    bytes: usize,
    buf: Vec<u8>,
}

impl Default for Batch {
    fn default() -> Self {
        Batch {
            index: 0,
            destination: SocketAddr::from(([0, 0, 0, 0], 0)),
            segment: 0,
            count: 0,
            closed: false,
            bytes: 0,
            buf: Vec::new(),
        }
    }
}

impl Batch {
    /// The datagram just appended at `buf[start..]` rides in this batch if it can (true); false when
    /// the batch before it must be sent first (the datagram stays where it is, see
    /// [`Batch::begin_with_tail`]).
    fn admit(&mut self, index: usize, destination: SocketAddr, start: usize, max: usize) -> bool {
        let len = self.buf.len() - start;
        if self.count == 0 {
            self.begin(index, destination, len);
            return true;
        }
        let fits = !self.closed
            && self.index == index
            && self.destination == destination
            && self.count < max
            && len <= self.segment
            && len > 0
            && self.buf.len() <= crate::udp::MAX_BATCH_BYTES;
        if !fits {
            return false;
        }
        // A shorter datagram can only be the last segment.
        self.closed = len < self.segment;
        self.count += 1;
        self.bytes = self.buf.len();
        true
    }

    /// The batch before it was sent (its bytes dropped): the datagram left in `buf` starts the next.
    fn begin_with_tail(&mut self, index: usize, destination: SocketAddr) {
        self.begin(index, destination, self.buf.len());
    }

    fn begin(&mut self, index: usize, destination: SocketAddr, len: usize) {
        self.bytes = self.buf.len();
        self.index = index;
        self.destination = destination;
        self.segment = len;
        self.count = 1;
        self.closed = false;
    }
}

/// Resolves with the index of a socket that has a datagram to read (cancel-safe: only readiness is
/// polled, nothing is consumed).
pub(super) async fn readable(sockets: &[(SocketAddr, Arc<UdpSocket>)]) -> usize {
    std::future::poll_fn(|cx| {
        for (i, (_, socket)) in sockets.iter().enumerate() {
            // An error (e.g. a pending ICMP error) is also "ready": try_recv_from reports and clears it.
            if socket.poll_recv_ready(cx).is_ready() {
                return std::task::Poll::Ready(i);
            }
        }
        std::task::Poll::Pending
    })
    .await
}
