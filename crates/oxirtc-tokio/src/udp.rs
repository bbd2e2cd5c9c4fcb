//! Batched datagram I/O through quinn-udp: a run of equal-size datagrams to one destination leaves in
//! one `sendmsg` with UDP GSO, and one `recvmmsg` reads several datagrams (each possibly a GRO batch).
//! Where the kernel lacks GSO/GRO quinn-udp falls back to one datagram per call, and if its socket
//! state cannot be set up at all the plain tokio calls are used.

use std::cell::RefCell;
use std::io::{self, IoSliceMut};
use std::net::SocketAddr;

use quinn_udp::{RecvMeta, Transmit, UdpSockRef, UdpSocketState};
use tokio::io::Interest;
use tokio::net::UdpSocket;

/// `recvmmsg` slots per call.
const RECV_SLOTS: usize = 8;
/// Bytes per slot: a GRO batch of up to 64 KiB (the kernel never coalesces more).
const SLOT_BYTES: usize = 64 * 1024;
/// Largest GSO batch we build (the UDP payload limit).
pub(crate) const MAX_BATCH_BYTES: usize = 64_000;

thread_local! {
    /// The receive slots, back to back in one allocation, shared by every socket whose driver runs on
    /// this thread: a read hands each datagram to the core before it returns, so nothing stays in
    /// them between reads. Per connection they cost nothing; an idle connection used to keep the
    /// pages its handshake datagrams had touched in its own 512 KiB of slots.
    static SLOTS: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// One socket's batching state.
pub(crate) struct BatchIo {
    state: Option<UdpSocketState>,
}

impl BatchIo {
    /// Sets the socket up for batching (GRO, pktinfo...); plain I/O if that fails or if `batching`
    /// is off ([`crate::Config::udp_batching`]).
    pub(crate) fn new(socket: &UdpSocket, batching: bool) -> Self {
        if !batching {
            return BatchIo { state: None };
        }
        let state = match UdpSocketState::new(UdpSockRef::from(socket)) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::debug!(error = %e, "udp: no batched I/O on this socket");
                None
            }
        };
        BatchIo { state }
    }

    /// Most datagrams one send may carry.
    pub(crate) fn max_segments(&self) -> usize {
        self.state.as_ref().map_or(1, UdpSocketState::max_gso_segments)
    }

    /// Reads what is waiting (one system call) and hands each datagram to `deliver`; `WouldBlock`
    /// when nothing is.
    pub(crate) fn recv(
        &mut self,
        socket: &UdpSocket,
        deliver: impl FnMut(SocketAddr, &[u8]),
    ) -> io::Result<usize> {
        SLOTS.with(|slots| {
            let mut slots = slots.borrow_mut();
            if slots.is_empty() {
                // Zeroed and this large, the allocation is mapped fresh: pages become resident only
                // where datagrams are written.
                *slots = vec![0u8; RECV_SLOTS * SLOT_BYTES];
            }
            self.recv_into(socket, &mut slots, deliver)
        })
    }

    fn recv_into(
        &mut self,
        socket: &UdpSocket,
        slots: &mut [u8],
        mut deliver: impl FnMut(SocketAddr, &[u8]),
    ) -> io::Result<usize> {
        let Some(state) = &self.state else {
            let (n, source) = socket.try_recv_from(slots)?;
            deliver(source, &slots[..n]);
            return Ok(1);
        };
        let mut chunks = slots.chunks_mut(SLOT_BYTES);
        let mut iovs: [IoSliceMut<'_>; RECV_SLOTS] =
            std::array::from_fn(|_| IoSliceMut::new(chunks.next().unwrap_or_default()));
        // On the stack, not in every socket's state: 8 × RecvMeta is most of a BatchIo.
        let mut meta = [RecvMeta::default(); RECV_SLOTS];
        let n = socket.try_io(Interest::READABLE, || {
            state.recv(UdpSockRef::from(socket), &mut iovs, &mut meta)
        })?;
        let mut datagrams = 0;
        for (m, iov) in meta.iter().zip(iovs.iter()).take(n) {
            let data = &iov[..m.len.min(iov.len())];
            // A GRO batch: `stride`-sized datagrams back to back, the last possibly shorter.
            for datagram in data.chunks(m.stride.max(1)) {
                deliver(m.addr, datagram);
                datagrams += 1;
            }
        }
        Ok(datagrams)
    }

    /// Sends as much of `contents` as the socket takes without waiting (see [`BatchIo::send`] for
    /// the layout) and returns how many bytes of it are done: all of them, or a multiple of
    /// `segment` when the socket is full. Failures other than a full socket are logged and count as
    /// done, as in [`BatchIo::send`]. The driver calls this first and awaits [`BatchIo::send`] (boxed)
    /// only for the rest, so the driver task's future does not carry the waiting path's state
    /// (about 700 bytes per connection) while it idles.
    pub(crate) fn send_now(
        &self,
        socket: &UdpSocket,
        destination: SocketAddr,
        contents: &[u8],
        segment: usize,
    ) -> usize {
        let Some(state) = &self.state else {
            return send_singly_now(socket, destination, contents, segment);
        };
        let transmit = Transmit {
            destination,
            ecn: None,
            contents,
            segment_size: (segment < contents.len()).then_some(segment),
            src_ip: None,
        };
        match socket.try_io(Interest::WRITABLE, || {
            state.try_send(UdpSockRef::from(socket), &transmit)
        }) {
            Ok(()) => contents.len(),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => 0,
            Err(e) if transmit.segment_size.is_some() => {
                // GSO refused (quinn-udp stops using it): send the datagrams one by one.
                tracing::debug!(error = %e, "udp: segmented send failed; sending singly");
                send_singly_now(socket, destination, contents, segment)
            }
            Err(e) => {
                tracing::debug!(error = %e, %destination, "udp: send failed");
                contents.len()
            }
        }
    }

    /// Sends `contents`: one datagram, or `contents.len() / segment` datagrams of `segment` bytes
    /// (the last may be shorter) when `segment` is smaller. Waits while the socket is full.
    pub(crate) async fn send(
        &self,
        socket: &UdpSocket,
        destination: SocketAddr,
        contents: &[u8],
        segment: usize,
    ) {
        let Some(state) = &self.state else {
            for datagram in contents.chunks(segment.max(1)) {
                if let Err(e) = socket.send_to(datagram, destination).await {
                    tracing::debug!(error = %e, %destination, "udp: send failed");
                }
            }
            return;
        };
        let transmit = Transmit {
            destination,
            ecn: None,
            contents,
            segment_size: (segment < contents.len()).then_some(segment),
            src_ip: None,
        };
        loop {
            let sent = socket.try_io(Interest::WRITABLE, || {
                state.try_send(UdpSockRef::from(socket), &transmit)
            });
            match sent {
                Ok(()) => return,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if socket.writable().await.is_err() {
                        return;
                    }
                }
                Err(e) if transmit.segment_size.is_some() => {
                    // GSO refused (quinn-udp stops using it): send the datagrams one by one.
                    tracing::debug!(error = %e, "udp: segmented send failed; sending singly");
                    for datagram in contents.chunks(segment.max(1)) {
                        let _ = socket.send_to(datagram, destination).await;
                    }
                    return;
                }
                Err(e) => {
                    tracing::debug!(error = %e, %destination, "udp: send failed");
                    return;
                }
            }
        }
    }
}

/// The datagrams of `contents` one per call, until the socket is full: the bytes done (whole
/// datagrams; failures other than a full socket are logged and skipped, as a lost datagram).
fn send_singly_now(socket: &UdpSocket, destination: SocketAddr, contents: &[u8], segment: usize) -> usize {
    let mut done = 0;
    for datagram in contents.chunks(segment.max(1)) {
        match socket.try_send_to(datagram, destination) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return done,
            Err(e) => tracing::debug!(error = %e, %destination, "udp: send failed"),
            Ok(_) => {}
        }
        done += datagram.len();
    }
    done
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sends three datagrams to a fresh socket, then reads once through a `BatchIo` built with
    /// `batching`: how many datagrams that one read delivered, and the send batch limit.
    async fn one_read(batching: bool) -> (usize, usize) {
        let rx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let tx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut io = BatchIo::new(&rx, batching);
        let to = rx.local_addr().unwrap();
        for i in 0..3u8 {
            tx.send_to(&[i; 100], to).await.unwrap();
        }
        // Loopback queues a datagram during `send_to`: all three are waiting now.
        rx.readable().await.unwrap();
        let mut seen = Vec::new();
        let n = io.recv(&rx, |_, d| seen.push(d[0])).unwrap();
        assert_eq!(n, seen.len());
        (n, io.max_segments())
    }

    #[tokio::test]
    async fn batching_off_moves_one_datagram_per_system_call() {
        // Config::udp_batching = false: no GSO (one segment per send), no recvmmsg/GRO.
        assert_eq!(one_read(false).await, (1, 1));
        if cfg!(target_os = "linux") {
            // On (the default), the same read takes all three: the switch is what differs.
            let (n, segments) = one_read(true).await;
            assert_eq!(n, 3);
            assert!(segments > 1, "GSO on loopback: {segments} segments");
        }
    }
}
