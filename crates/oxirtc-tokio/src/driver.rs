//! The driver task: owns one [`Rtc`] and its sockets, feeds it datagrams and time, and turns its events
//! into what the handles wait on. One task per peer connection; it ends when the last handle is dropped.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use bytes::Bytes;
use oxirtc::{ChannelId, CloseReason, DataChannelInit, Description, Rtc, RtcError, RtcEvent};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot, watch};

use crate::queue;
use tokio::task::JoinSet;

use crate::data_channel::{ChannelStatus, DataChannel, Message, SendGate};
use crate::peer_connection::{PeerConnectionEvent, Stats};
use crate::udp::BatchIo;
use crate::Error;

/// Batched reads (each up to 8 datagrams, or 8 GRO batches) from one socket per wake-up before the
/// core's output is drained.
const RECEIVE_BATCH: usize = 8;
/// Commands handled per wake-up before sockets and timers get their turn.
const COMMAND_BATCH: usize = 256;

pub(crate) type Reply<T> = oneshot::Sender<Result<T, Error>>;

/// What a handle asks the driver to do.
pub(crate) enum Command {
    CreateOffer(Reply<Description>),
    CreateAnswer(Reply<Description>),
    SetLocal(Description, Reply<()>),
    SetRemote(Description, Reply<()>),
    AddCandidate(String, Reply<()>),
    RestartIce(Reply<()>),
    LocalDescription(oneshot::Sender<Option<Description>>),
    /// Boxed: the largest variant sets the size of every slot of the command queue (its first block
    /// of 32 slots is allocated per connection).
    CreateChannel(Box<(String, DataChannelInit)>, Reply<DataChannel>),
    /// A message the handle already checked (open, size) and counted in its gate's `queued`.
    Send(ChannelId, Bytes, bool),
    CloseChannel(ChannelId),
    BufferedAmount(ChannelId, oneshot::Sender<usize>),
    SetLowThreshold(ChannelId, usize),
    Stats(oneshot::Sender<Stats>),
    Close(oneshot::Sender<()>),
}

struct ChannelSlot {
    messages: queue::Sender<Message>,
    status: watch::Sender<ChannelStatus>,
    /// Sends the core refused for lack of buffer space, in order, until it has room.
    waiting: VecDeque<(Bytes, bool)>,
    /// Bytes in `waiting`.
    waiting_bytes: usize,
    gate: Arc<SendGate>,
}

/// The channels between the driver and its handles.
pub(crate) struct DriverLinks {
    pub commands: queue::Receiver<Command>,
    pub command_tx: queue::WeakSender<Command>,
    /// Boxed events: events are few, so a box each costs nothing that matters, and the queue's
    /// slots stay small.
    pub events: queue::Sender<Box<PeerConnectionEvent>>,
    pub gathering: watch::Sender<bool>,
    pub backlog: Arc<crate::data_channel::ReceiveBacklog>,
    /// Why the connection ended, once it has (read by `PeerConnection::close_reason`).
    pub ended: Arc<OnceLock<CloseReason>>,
}

pub(crate) struct Driver {
    rtc: Rtc,
    turn_tls_roots: Vec<Vec<u8>>,
    streams: Vec<crate::turn_stream::StreamHandle>,
    sockets: Vec<(SocketAddr, Arc<UdpSocket>)>,
    /// Batched I/O state per socket, same order as `sockets`.
    io: Vec<BatchIo>,
    commands: queue::Receiver<Command>,
    command_tx: queue::WeakSender<Command>,
    events: queue::Sender<Box<PeerConnectionEvent>>,
    channels: HashMap<ChannelId, ChannelSlot>,
    high_water_mark: usize,
    closed: bool,
    gathering: watch::Sender<bool>,
    backlog: Arc<crate::data_channel::ReceiveBacklog>,
    ended: Arc<OnceLock<CloseReason>>,
}

impl Driver {
    pub(crate) fn new(
        rtc: Rtc,
        sockets: Vec<(SocketAddr, Arc<UdpSocket>)>,
        links: DriverLinks,
        high_water_mark: usize,
        turn_tls_roots: Vec<Vec<u8>>,
    ) -> Self {
        let DriverLinks {
            commands,
            command_tx,
            events,
            gathering,
            backlog,
            ended,
        } = links;
        let io = sockets.iter().map(|(_, s)| BatchIo::new(s)).collect();
        Driver {
            rtc,
            turn_tls_roots,
            streams: Vec::new(),
            sockets,
            io,
            commands,
            command_tx,
            events,
            channels: HashMap::new(),
            high_water_mark,
            closed: false,
            gathering,
            backlog,
            ended,
        }
    }

    /// Runs until every handle is dropped or the connection is closed.
    ///
    /// One wake-up handles everything that is ready (up to a bound): every queued command, then every
    /// datagram waiting in the sockets (read in place, no reader task, no copy), and only then
    /// drains the core's output. Before, each datagram crossed a channel from a reader task and each
    /// command or datagram was followed by its own flush.
    pub(crate) async fn run(mut self: Box<Self>) {
        // TURN over TCP/TLS: one connection task per server; its frames come in like datagrams. The
        // tasks end with the JoinSet when the driver returns. The channel exists only when there is
        // such a server (its first block costs 3 KB per connection otherwise).
        let turn_streams = self.rtc.turn_streams();
        let (frame_tx, mut frames) = if turn_streams.is_empty() {
            (None, None)
        } else {
            let (tx, rx) = mpsc::channel(1024);
            (Some(tx), Some(rx))
        };
        let mut stream_tasks = JoinSet::new();
        for (stream, tx) in turn_streams.into_iter().zip(frame_tx.iter().cycle()) {
            let handle =
                crate::turn_stream::spawn(stream, &self.turn_tls_roots, tx.clone(), &mut stream_tasks);
            self.streams.push(handle);
        }
        let backlog = self.backlog.clone();
        loop {
            self.flush().await;
            if self.closed {
                break;
            }
            let deadline = self.rtc.poll_timeout().map(tokio::time::Instant::from_std);
            tokio::select! {
                cmd = self.commands.recv() => match cmd {
                    Some(cmd) => {
                        self.on_command(cmd);
                        if !self.drain_commands() {
                            self.shut_down().await;
                            break;
                        }
                    }
                    None => {
                        self.shut_down().await;
                        break;
                    }
                },
                index = readable(&self.sockets) => self.read_socket(index),
                Some((local, source, frame)) = recv_frame(&mut frames) => {
                    self.rtc.handle_receive(Instant::now(), source, local, &frame);
                }
                () = sleep_until(deadline) => self.rtc.handle_timeout(Instant::now()),
                // A reader caught up: the flush at the top of the loop announces the reopened window.
                () = backlog.drained.notified() => {}
            }
        }
        drop(frame_tx);
        stream_tasks.shutdown().await;
        tracing::debug!("driver: peer connection ended");
    }

    /// The last handle is gone: close politely, send what that produced.
    async fn shut_down(&mut self) {
        self.rtc.close(Instant::now());
        self.flush().await;
    }

    /// Handles the commands already queued (bounded, so datagrams are not starved); false when every
    /// handle is gone.
    fn drain_commands(&mut self) -> bool {
        for _ in 0..COMMAND_BATCH {
            match self.commands.try_recv() {
                Ok(cmd) => self.on_command(cmd),
                Err(queue::TryRecvError::Empty) => return true,
                Err(queue::TryRecvError::Disconnected) => return false,
            }
        }
        true
    }

    /// Reads the datagrams waiting in socket `index` (a bounded number of batched reads) straight
    /// into the core.
    fn read_socket(&mut self, index: usize) {
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
    async fn flush(&mut self) {
        let now = Instant::now();
        // Messages first, into the handles' queues; what those hold counts against the receive
        // window advertised in the SACKs sent below.
        while let Some(ev) = self.rtc.poll_event() {
            self.on_event(ev);
        }
        self.rtc.set_receive_backlog(self.backlog.bytes());
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
        while let Some(ev) = self.rtc.poll_event() {
            self.on_event(ev);
        }
        self.publish_buffered();
    }

    fn max_segments(&self, index: usize) -> usize {
        self.io.get(index).map_or(1, BatchIo::max_segments)
    }

    async fn send_batch(&mut self, batch: &mut Batch) {
        if batch.count == 0 {
            return;
        }
        if let (Some((_, socket)), Some(io)) = (self.sockets.get(batch.index), self.io.get(batch.index)) {
            io.send(
                socket,
                batch.destination,
                &batch.buf[..batch.bytes],
                batch.segment,
            )
            .await;
        }
        // What follows the batch (a datagram that did not fit) moves to the front.
        batch.buf.drain(..batch.bytes);
        batch.count = 0;
        batch.bytes = 0;
    }

    /// Tells every channel's handles how much is buffered, and wakes senders when there is room.
    fn publish_buffered(&mut self) {
        for (id, slot) in &self.channels {
            let core = self.rtc.channel(*id).map_or(0, |c| c.buffered_amount());
            let buffered = core + slot.waiting_bytes;
            slot.gate
                .buffered
                .store(buffered, std::sync::atomic::Ordering::Release);
            if buffered < self.high_water_mark {
                slot.gate.room.notify_waiters();
            }
        }
    }

    fn on_event(&mut self, ev: RtcEvent) {
        let forward = match ev {
            RtcEvent::LocalCandidate(c) => Some(PeerConnectionEvent::IceCandidate(c)),
            RtcEvent::IceGatheringComplete => {
                self.gathering.send_replace(true);
                Some(PeerConnectionEvent::IceGatheringComplete)
            }
            RtcEvent::IceConnectionState(s) => Some(PeerConnectionEvent::IceConnectionState(s)),
            // Before the channels' closes and the state change that follow it (RtcEvent::Ended).
            RtcEvent::Ended(reason) => {
                let _ = self.ended.set(reason);
                None
            }
            RtcEvent::ConnectionState(s) => {
                if s == oxirtc::PeerConnectionState::Closed {
                    self.closed = true;
                }
                Some(PeerConnectionEvent::ConnectionState(s))
            }
            RtcEvent::SelectedPair { local, remote } => {
                Some(PeerConnectionEvent::SelectedPair { local, remote })
            }
            RtcEvent::IncomingChannel(id) => self.new_handle(id).map(PeerConnectionEvent::DataChannel),
            RtcEvent::ChannelOpen(id) => {
                let stream_id = self.rtc.channel(id).and_then(|c| c.stream_id());
                let max = self.rtc.max_message_size();
                if let Some(slot) = self.channels.get(&id) {
                    slot.gate
                        .max_message
                        .store(max, std::sync::atomic::Ordering::Release);
                    slot.status.send_replace(ChannelStatus::Open { stream_id });
                }
                None
            }
            RtcEvent::ChannelMessage { id, data, binary } => {
                if let Some(slot) = self.channels.get(&id) {
                    let len = data.len();
                    self.backlog.add(len);
                    let message = Message {
                        data: Bytes::from(data),
                        binary,
                    };
                    if slot.messages.send(message).is_err() {
                        self.backlog.remove(len); // the handle is gone
                    }
                }
                None
            }
            RtcEvent::ChannelBufferedAmountLow(id) => {
                self.flush_waiting(id);
                None
            }
            RtcEvent::ChannelClosed(id) => {
                if let Some(slot) = self.channels.remove(&id) {
                    if let Some(reason) = self.ended.get() {
                        let _ = slot.gate.ended_by.set(reason.clone());
                    }
                    slot.status.send_replace(ChannelStatus::Closed);
                    slot.gate.room.notify_waiters();
                    if !slot.waiting.is_empty() {
                        tracing::debug!(
                            messages = slot.waiting.len(),
                            "driver: channel closed with sends queued"
                        );
                    }
                }
                None
            }
            _ => None,
        };
        if let Some(ev) = forward {
            let _ = self.events.send(Box::new(ev));
        }
    }

    /// A handle for channel `id`, registered so messages and status reach it.
    fn new_handle(&mut self, id: ChannelId) -> Option<DataChannel> {
        let commands = self.command_tx.upgrade()?;
        let ch = self.rtc.channel(id)?;
        let label = ch.label().to_owned();
        let protocol = ch.protocol().to_owned();
        let (messages, rx) = queue::queue();
        let (status, status_rx) = watch::channel(ChannelStatus::Connecting);
        let gate = Arc::new(SendGate::new(self.high_water_mark));
        self.channels.insert(
            id,
            ChannelSlot {
                messages,
                status,
                waiting: VecDeque::new(),
                waiting_bytes: 0,
                gate: gate.clone(),
            },
        );
        let links = crate::data_channel::HandleLinks {
            commands,
            messages: rx,
            status: status_rx,
            gate,
            backlog: self.backlog.clone(),
        };
        Some(DataChannel::new(id, label, protocol, links))
    }

    fn on_command(&mut self, cmd: Command) {
        let now = Instant::now();
        match cmd {
            Command::CreateOffer(r) => reply(r, self.rtc.create_offer(now)),
            Command::CreateAnswer(r) => reply(r, self.rtc.create_answer(now)),
            Command::SetLocal(d, r) => reply(r, self.rtc.set_local_description(now, &d)),
            Command::SetRemote(d, r) => reply(r, self.rtc.set_remote_description(now, &d)),
            Command::AddCandidate(c, r) => reply(r, self.rtc.add_remote_candidate(now, &c)),
            Command::LocalDescription(r) => {
                let _ = r.send(self.rtc.local_description());
            }
            Command::RestartIce(r) => {
                self.gathering.send_replace(false);
                self.rtc.restart_ice(now);
                let _ = r.send(Ok(()));
            }
            Command::CreateChannel(args, r) => {
                let (label, init) = *args;
                let result = self
                    .rtc
                    .create_data_channel(now, &label, init)
                    .map_err(Error::from)
                    .and_then(|id| self.new_handle(id).ok_or(Error::Closed));
                let _ = r.send(result);
            }
            Command::Send(id, data, binary) => self.send(id, data, binary),
            Command::CloseChannel(id) => {
                if let Some(mut ch) = self.rtc.channel(id) {
                    ch.close(now);
                }
            }
            Command::BufferedAmount(id, r) => {
                let n = self.rtc.channel(id).map_or(0, |c| c.buffered_amount());
                let _ = r.send(n);
            }
            Command::SetLowThreshold(id, n) => {
                if let Some(mut ch) = self.rtc.channel(id) {
                    ch.set_buffered_amount_low_threshold(n);
                }
            }
            Command::Stats(r) => {
                let _ = r.send(Stats::collect(&mut self.rtc));
            }
            Command::Close(r) => {
                self.rtc.close(now);
                // Readable once `close` returns, before the flush delivers the events.
                if let Some(reason) = self.rtc.close_reason() {
                    let _ = self.ended.set(reason.clone());
                }
                let _ = r.send(());
            }
        }
    }

    /// Hands a message to the core, or parks it (in order) while the core's send buffer is full; the
    /// handle already waited for the high-water mark, so parking is rare and bounded by it.
    fn send(&mut self, id: ChannelId, data: Bytes, binary: bool) {
        let Some(slot) = self.channels.get_mut(&id) else {
            tracing::debug!(?id, "driver: send on a closed channel dropped");
            return;
        };
        slot.gate
            .queued
            .fetch_sub(data.len(), std::sync::atomic::Ordering::AcqRel);
        if !slot.waiting.is_empty() {
            slot.waiting_bytes += data.len();
            slot.waiting.push_back((data, binary));
            return;
        }
        let hwm = self.high_water_mark;
        let Some(mut ch) = self.rtc.channel(id) else {
            return;
        };
        match ch.send_bytes(Instant::now(), data.clone(), binary) {
            Ok(()) => {}
            Err(RtcError::BufferFull) | Err(RtcError::Sctp(_)) if ch.buffered_amount() > 0 => {
                ch.set_buffered_amount_low_threshold(hwm / 2);
                slot.waiting_bytes += data.len();
                slot.waiting.push_back((data, binary));
            }
            // The handle checked state and size; this is a race with a closing channel.
            Err(e) => tracing::debug!(error = %e, "driver: send failed"),
        }
    }

    fn flush_waiting(&mut self, id: ChannelId) {
        let hwm = self.high_water_mark;
        loop {
            let Some(slot) = self.channels.get_mut(&id) else {
                return;
            };
            let Some(mut ch) = self.rtc.channel(id) else {
                return;
            };
            if ch.buffered_amount() >= hwm {
                return;
            }
            let Some((data, binary)) = slot.waiting.pop_front() else {
                return;
            };
            match ch.send_bytes(Instant::now(), data.clone(), binary) {
                Err(RtcError::BufferFull) | Err(RtcError::Sctp(_)) if ch.buffered_amount() > 0 => {
                    slot.waiting.push_front((data, binary));
                    return;
                }
                Err(e) => tracing::debug!(error = %e, "driver: queued send failed"),
                Ok(()) => {}
            }
            slot.waiting_bytes -= data.len();
        }
    }
}

fn reply<T>(r: Reply<T>, result: Result<T, RtcError>) {
    let _ = r.send(result.map_err(Error::from));
}

/// The next frame from a TURN stream task; never, when there are none.
async fn recv_frame(
    frames: &mut Option<mpsc::Receiver<(SocketAddr, SocketAddr, Vec<u8>)>>,
) -> Option<(SocketAddr, SocketAddr, Vec<u8>)> {
    match frames {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
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
async fn readable(sockets: &[(SocketAddr, Arc<UdpSocket>)]) -> usize {
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
#[cfg(test)]
mod tests {
    fn future_size<F, Fut>(_: F) -> usize
    where
        F: FnOnce(Box<super::Driver>) -> Fut,
    {
        std::mem::size_of::<Fut>()
    }

    /// Every connection's task holds this future: with the driver by value it was 15.9 KB (the
    /// driver twice over), boxed it is about 1.3 KB beside the 7.3 KB driver.
    #[test]
    fn the_driver_task_does_not_hold_the_driver_inline() {
        let driver = std::mem::size_of::<super::Driver>();
        let task = future_size(super::Driver::run);
        assert!(
            task < driver / 2,
            "driver task future {task} B, driver {driver} B"
        );
    }
}
