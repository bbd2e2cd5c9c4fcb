//! The driver task: owns one [`Rtc`] and its sockets, feeds it datagrams and time, and turns its events
//! into what the handles wait on. One task per peer connection; it ends when the last handle is dropped.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use oxirtc::{ChannelId, DataChannelInit, Description, Rtc, RtcError, RtcEvent};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinSet;

use crate::data_channel::{ChannelStatus, DataChannel, Message};
use crate::peer_connection::{PeerConnectionEvent, Stats};
use crate::Error;

/// Datagrams read but not yet handled, per connection.
const RECEIVE_QUEUE: usize = 1024;
/// Largest datagram we read (UDP over Ethernet never exceeds it; jumbo frames are not used by WebRTC).
const MAX_DATAGRAM: usize = 2048;

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
    CreateChannel(String, DataChannelInit, Reply<DataChannel>),
    Send(ChannelId, Bytes, bool, Reply<()>),
    CloseChannel(ChannelId),
    BufferedAmount(ChannelId, oneshot::Sender<usize>),
    SetLowThreshold(ChannelId, usize),
    Stats(oneshot::Sender<Stats>),
    Close(oneshot::Sender<()>),
}

struct ChannelSlot {
    messages: mpsc::UnboundedSender<Message>,
    status: watch::Sender<ChannelStatus>,
    waiting: VecDeque<(Bytes, bool, Reply<()>)>,
}

/// The channels between the driver and its handles.
pub(crate) struct DriverLinks {
    pub commands: mpsc::UnboundedReceiver<Command>,
    pub command_tx: mpsc::WeakUnboundedSender<Command>,
    pub events: mpsc::UnboundedSender<PeerConnectionEvent>,
    pub gathering: watch::Sender<bool>,
}

pub(crate) struct Driver {
    rtc: Rtc,
    turn_tls_roots: Vec<Vec<u8>>,
    streams: Vec<crate::turn_stream::StreamHandle>,
    sockets: Vec<(SocketAddr, Arc<UdpSocket>)>,
    commands: mpsc::UnboundedReceiver<Command>,
    command_tx: mpsc::WeakUnboundedSender<Command>,
    events: mpsc::UnboundedSender<PeerConnectionEvent>,
    channels: HashMap<ChannelId, ChannelSlot>,
    high_water_mark: usize,
    closed: bool,
    gathering: watch::Sender<bool>,
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
        } = links;
        Driver {
            rtc,
            turn_tls_roots,
            streams: Vec::new(),
            sockets,
            commands,
            command_tx,
            events,
            channels: HashMap::new(),
            high_water_mark,
            closed: false,
            gathering,
        }
    }

    /// Runs until every handle is dropped or the connection is closed.
    pub(crate) async fn run(mut self) {
        let (packet_tx, mut packets) = mpsc::channel(RECEIVE_QUEUE);
        // Readers end with the JoinSet when the driver returns, which closes the sockets.
        let mut readers = JoinSet::new();
        for (local, socket) in &self.sockets {
            readers.spawn(read_loop(*local, socket.clone(), packet_tx.clone()));
        }
        // TURN over TCP/TLS: one connection task per server, its frames fed in like datagrams.
        for stream in self.rtc.turn_streams() {
            let handle =
                crate::turn_stream::spawn(stream, &self.turn_tls_roots, packet_tx.clone(), &mut readers);
            self.streams.push(handle);
        }
        drop(packet_tx);
        loop {
            self.flush().await;
            if self.closed {
                break;
            }
            let deadline = self.rtc.poll_timeout().map(tokio::time::Instant::from_std);
            tokio::select! {
                cmd = self.commands.recv() => match cmd {
                    Some(cmd) => self.on_command(cmd),
                    None => {
                        // The last handle is gone: close politely, send what that produced, end.
                        self.rtc.close(Instant::now());
                        self.flush().await;
                        break;
                    }
                },
                Some((local, source, data)) = packets.recv() => {
                    self.rtc.handle_receive(Instant::now(), source, local, &data);
                }
                () = sleep_until(deadline) => self.rtc.handle_timeout(Instant::now()),
            }
        }
        readers.shutdown().await;
        tracing::debug!("driver: peer connection ended");
    }

    async fn flush(&mut self) {
        let now = Instant::now();
        while let Some(t) = self.rtc.poll_transmit(now) {
            if let Some(s) = self
                .streams
                .iter()
                .find(|s| s.local == t.source && s.server == t.destination)
            {
                // A full write queue drops the frame, like a lost datagram; STUN retransmits.
                let _ = s.frames.try_send(t.contents);
                continue;
            }
            let socket = self
                .sockets
                .iter()
                .find(|(local, _)| *local == t.source)
                .or_else(|| self.sockets.first())
                .map(|(_, s)| s.clone());
            if let Some(socket) = socket {
                if let Err(e) = socket.send_to(&t.contents, t.destination).await {
                    tracing::debug!(error = %e, destination = %t.destination, "driver: send failed");
                }
            }
        }
        while let Some(ev) = self.rtc.poll_event() {
            self.on_event(ev);
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
                if let Some(slot) = self.channels.get(&id) {
                    slot.status.send_replace(ChannelStatus::Open { stream_id });
                }
                None
            }
            RtcEvent::ChannelMessage { id, data, binary } => {
                if let Some(slot) = self.channels.get(&id) {
                    let _ = slot.messages.send(Message {
                        data: Bytes::from(data),
                        binary,
                    });
                }
                None
            }
            RtcEvent::ChannelBufferedAmountLow(id) => {
                self.flush_waiting(id);
                None
            }
            RtcEvent::ChannelClosed(id) => {
                if let Some(slot) = self.channels.remove(&id) {
                    slot.status.send_replace(ChannelStatus::Closed);
                    for (_, _, reply) in slot.waiting {
                        let _ = reply.send(Err(Error::ChannelClosed));
                    }
                }
                None
            }
            _ => None,
        };
        if let Some(ev) = forward {
            let _ = self.events.send(ev);
        }
    }

    /// A handle for channel `id`, registered so messages and status reach it.
    fn new_handle(&mut self, id: ChannelId) -> Option<DataChannel> {
        let commands = self.command_tx.upgrade()?;
        let ch = self.rtc.channel(id)?;
        let label = ch.label().to_owned();
        let protocol = ch.protocol().to_owned();
        let (messages, rx) = mpsc::unbounded_channel();
        let (status, status_rx) = watch::channel(ChannelStatus::Connecting);
        self.channels.insert(
            id,
            ChannelSlot {
                messages,
                status,
                waiting: VecDeque::new(),
            },
        );
        Some(DataChannel::new(id, label, protocol, commands, rx, status_rx))
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
            Command::CreateChannel(label, init, r) => {
                let result = self
                    .rtc
                    .create_data_channel(now, &label, init)
                    .map_err(Error::from)
                    .and_then(|id| self.new_handle(id).ok_or(Error::Closed));
                let _ = r.send(result);
            }
            Command::Send(id, data, binary, r) => self.send(id, data, binary, r),
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
                let _ = r.send(());
            }
        }
    }

    /// Sends now if the channel is below the high-water mark, else parks the send until
    /// `ChannelBufferedAmountLow` (backpressure without unbounded buffering).
    fn send(&mut self, id: ChannelId, data: Bytes, binary: bool, r: Reply<()>) {
        let Some(slot) = self.channels.get_mut(&id) else {
            let _ = r.send(Err(Error::ChannelClosed));
            return;
        };
        if !slot.waiting.is_empty() {
            slot.waiting.push_back((data, binary, r));
            return;
        }
        let hwm = self.high_water_mark;
        let Some(mut ch) = self.rtc.channel(id) else {
            let _ = r.send(Err(Error::ChannelClosed));
            return;
        };
        if ch.buffered_amount() >= hwm {
            ch.set_buffered_amount_low_threshold(hwm / 2);
            slot.waiting.push_back((data, binary, r));
            return;
        }
        let result = ch.send(Instant::now(), &data, binary);
        match result {
            Err(RtcError::BufferFull) | Err(RtcError::Sctp(_)) if ch.buffered_amount() > 0 => {
                ch.set_buffered_amount_low_threshold(hwm / 2);
                slot.waiting.push_back((data, binary, r));
            }
            other => reply(r, other),
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
            let Some((data, binary, r)) = slot.waiting.pop_front() else {
                return;
            };
            let result = ch.send(Instant::now(), &data, binary);
            match result {
                Err(RtcError::BufferFull) => {
                    slot.waiting.push_front((data, binary, r));
                    return;
                }
                other => reply(r, other),
            }
        }
    }
}

fn reply<T>(r: Reply<T>, result: Result<T, RtcError>) {
    let _ = r.send(result.map_err(Error::from));
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

async fn read_loop(
    local: SocketAddr,
    socket: Arc<UdpSocket>,
    tx: mpsc::Sender<(SocketAddr, SocketAddr, Vec<u8>)>,
) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        match socket.recv_from(&mut buf).await {
            Ok((n, source)) => {
                if tx.send((local, source, buf[..n].to_vec())).await.is_err() {
                    return;
                }
            }
            // ICMP port unreachable and the like surface as errors on some systems; keep reading.
            Err(e) => tracing::trace!(error = %e, "driver: recv error"),
        }
    }
}
