//! A blocking driver for one sans-IO STUN client transaction over a std UDP socket: the CLI's run loop
//! (send what the transaction asks, sleep until its next timeout or a datagram, feed the datagram in).

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use oxirtc_stun::{Class, ClientTransaction, Message, RetransmitConfig, TransactionId, TransactionState};

/// How a transaction ended.
pub(crate) enum Outcome {
    /// A response with our transaction ID arrived.
    Answered {
        /// The datagram.
        response: Vec<u8>,
        /// Where it came from.
        from: SocketAddr,
        /// Time since the last transmission of the request (the RTT when nothing was lost).
        rtt: Duration,
    },
    /// No response in time.
    TimedOut {
        /// Requests sent.
        transmissions: u32,
        /// Datagrams that were not STUN responses at all, and the parse error of the first one.
        garbage: u32,
        first_garbage: Option<String>,
    },
}

/// Sends `request` to `server` on the RFC 8489 §6.2.1 schedule of `config`, for at most `limit`.
pub(crate) fn transact(
    socket: &UdpSocket,
    server: SocketAddr,
    tid: TransactionId,
    request: Vec<u8>,
    config: &RetransmitConfig,
    limit: Duration,
) -> io::Result<Outcome> {
    let start = Instant::now();
    let deadline = start + limit;
    let mut tx = ClientTransaction::new(start, tid, request, config, false);
    let mut last_sent = start;
    let (mut garbage, mut first_garbage) = (0u32, None);
    let mut buf = vec![0u8; 2048];
    loop {
        let now = Instant::now();
        tx.handle_timeout(now);
        while let Some(bytes) = tx.poll_transmit(now) {
            socket.send_to(bytes, server)?;
            last_sent = now;
        }
        if tx.state() == TransactionState::TimedOut || now >= deadline {
            return Ok(Outcome::TimedOut {
                transmissions: tx.transmissions(),
                garbage,
                first_garbage,
            });
        }
        let wake = tx.poll_timeout().map_or(deadline, |t| t.min(deadline));
        socket.set_read_timeout(Some(
            wake.saturating_duration_since(now).max(Duration::from_millis(1)),
        ))?;
        match socket.recv_from(&mut buf) {
            Ok((n, from)) => match Message::parse(&buf[..n]) {
                Ok(msg)
                    if matches!(msg.class(), Class::Success | Class::Error) && tx.handle_response(&msg) =>
                {
                    let rtt = Instant::now().saturating_duration_since(last_sent);
                    return Ok(Outcome::Answered {
                        response: buf[..n].to_vec(),
                        from,
                        rtt,
                    });
                }
                Ok(_) => {} // a late answer to an earlier request: not ours
                Err(e) => {
                    garbage += 1;
                    first_garbage.get_or_insert_with(|| format!("{n} bytes from {from}: {e}"));
                }
            },
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {}
            // An ICMP port-unreachable reported on the socket: keep waiting, the schedule decides.
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {}
            Err(e) => return Err(e),
        }
    }
}
