//! Batched datagram I/O through quinn-udp: a run of equal-size datagrams to one destination leaves in
//! one `sendmsg` with UDP GSO, and one `recvmmsg` reads several datagrams (each possibly a GRO batch).
//! Where the kernel lacks GSO/GRO quinn-udp falls back to one datagram per call, and if its socket
//! state cannot be set up at all the plain tokio calls are used.

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

/// One socket's batching state and receive buffers.
pub(crate) struct BatchIo {
    state: Option<UdpSocketState>,
    /// The receive slots, back to back in one allocation: at 512 KiB it is mapped fresh from the
    /// kernel, so only pages a datagram was written to become resident (an idle connection that
    /// only sees STUN keeps a few pages, not half a megabyte).
    slots: Vec<u8>,
    meta: [RecvMeta; RECV_SLOTS],
}

impl BatchIo {
    /// Sets the socket up for batching (GRO, pktinfo...); plain I/O if that fails.
    pub(crate) fn new(socket: &UdpSocket) -> Self {
        let state = match UdpSocketState::new(UdpSockRef::from(socket)) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::debug!(error = %e, "udp: no batched I/O on this socket");
                None
            }
        };
        let slots = if state.is_some() { RECV_SLOTS } else { 1 };
        BatchIo {
            state,
            slots: vec![0u8; slots * SLOT_BYTES],
            meta: [RecvMeta::default(); RECV_SLOTS],
        }
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
        mut deliver: impl FnMut(SocketAddr, &[u8]),
    ) -> io::Result<usize> {
        let Some(state) = &self.state else {
            let (n, source) = socket.try_recv_from(&mut self.slots)?;
            deliver(source, &self.slots[..n]);
            return Ok(1);
        };
        let mut iovs: Vec<IoSliceMut<'_>> = self.slots.chunks_mut(SLOT_BYTES).map(IoSliceMut::new).collect();
        let meta = &mut self.meta;
        let n = socket.try_io(Interest::READABLE, || {
            state.recv(UdpSockRef::from(socket), &mut iovs, meta)
        })?;
        let mut datagrams = 0;
        for (m, iov) in self.meta.iter().zip(iovs.iter()).take(n) {
            let data = &iov[..m.len.min(iov.len())];
            // A GRO batch: `stride`-sized datagrams back to back, the last possibly shorter.
            for datagram in data.chunks(m.stride.max(1)) {
                deliver(m.addr, datagram);
                datagrams += 1;
            }
        }
        Ok(datagrams)
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
