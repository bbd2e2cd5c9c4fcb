//! The transmit queue: one byte arena plus metadata, so queuing a packet does not allocate once the
//! arena has grown (CONTRIBUTING.md convention 7).

use std::collections::VecDeque;
use std::net::SocketAddr;

use crate::Transport;

/// One datagram (or TCP frame) to send.
#[derive(Debug, PartialEq, Eq)]
pub struct Transmit<'a> {
    /// The local address to send from: a listener address for client traffic, a relay address for
    /// peer traffic.
    pub source: SocketAddr,
    /// Where to send it.
    pub destination: SocketAddr,
    /// UDP, or TCP for a client connected over TCP (the runtime finds the connection by
    /// `(source, destination)`).
    pub transport: Transport,
    /// The bytes.
    pub contents: &'a [u8],
}

#[derive(Debug)]
struct Queued {
    source: SocketAddr,
    destination: SocketAddr,
    transport: Transport,
    start: usize,
    end: usize,
}

#[derive(Debug)]
pub(crate) struct Outbox {
    arena: Vec<u8>,
    queue: VecDeque<Queued>,
    cap: usize,
}

impl Outbox {
    pub(crate) fn new(cap: usize) -> Self {
        Outbox {
            arena: Vec::new(),
            queue: VecDeque::new(),
            cap: cap.max(1),
        }
    }

    /// The arena to encode into, or `None` if the queue is full. Call [`Self::commit`] or
    /// [`Self::abort`] with the returned start offset.
    pub(crate) fn begin(&mut self) -> Option<(usize, &mut Vec<u8>)> {
        if self.queue.len() >= self.cap {
            return None;
        }
        if self.queue.is_empty() {
            self.arena.clear();
        }
        Some((self.arena.len(), &mut self.arena))
    }

    pub(crate) fn commit(
        &mut self,
        start: usize,
        source: SocketAddr,
        destination: SocketAddr,
        transport: Transport,
    ) {
        let end = self.arena.len();
        self.queue.push_back(Queued {
            source,
            destination,
            transport,
            start,
            end,
        });
    }

    pub(crate) fn abort(&mut self, start: usize) {
        self.arena.truncate(start);
    }

    pub(crate) fn len_since(&self, start: usize) -> usize {
        self.arena.len() - start
    }

    pub(crate) fn pop(&mut self) -> Option<Transmit<'_>> {
        let Some(q) = self.queue.pop_front() else {
            self.arena.clear();
            return None;
        };
        Some(Transmit {
            source: q.source,
            destination: q.destination,
            transport: q.transport,
            contents: &self.arena[q.start..q.end],
        })
    }
}
