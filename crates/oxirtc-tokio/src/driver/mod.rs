//! The driver task: owns one [`Rtc`] and its sockets, feeds it datagrams and time, and turns its events
//! into what the handles wait on. One task per peer connection; it ends when the last handle is dropped.
//!
//! This file is the task loop; the jobs it runs each turn are beside it: `commands` (what handles
//! ask), `batch` (socket reads and GSO-batched sends), `events` (core events into handle events),
//! `gating` (send backpressure and buffered-amount publishing).

mod batch;
mod commands;
mod events;
mod gating;
mod media;
mod slots;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use bytes::Bytes;
use oxirtc::{ChannelId, CloseReason, DataChannelInit, Description, Rtc};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

use crate::connection_events::EventSink;
use crate::data_channel::{ChannelStatus, DataChannel, Message, SendGate};
use crate::peer_connection::Stats;
use crate::queue;
use crate::udp::BatchIo;
use crate::watch;
use crate::Error;

use batch::readable;

pub(crate) type Reply<T> = oneshot::Sender<Result<T, Error>>;

/// What a handle asks the driver to do.
pub(crate) enum Command {
    CreateOffer(Reply<Description>),
    CreateAnswer(Reply<Description>),
    SetLocal(Description, Reply<()>),
    SetLocalImplicit(Reply<Description>),
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
    /// A PLI for the video section with this mid (`RemoteTrack::request_keyframe`).
    RequestKeyframe(String, Reply<()>),
    /// `PeerConnection::add_track` / `add_transceiver` (boxed: see `CreateChannel`).
    AddTrack(
        Box<(oxirtc::media::TrackKind, AddTrackArgs)>,
        Reply<crate::LocalTrack>,
    ),
    TrackMid(oxirtc::media::TransceiverId, Reply<Option<String>>),
    Transceivers(Reply<Vec<oxirtc::media::TransceiverInfo>>),
    /// Codecs negotiated to receive on a section / to send on a transceiver.
    ReceiveCodecs(String, Reply<Vec<oxirtc::media::CodecParameters>>),
    SendCodecs(
        oxirtc::media::TransceiverId,
        Reply<Vec<oxirtc::media::CodecParameters>>,
    ),
    SendCodec(
        oxirtc::media::TransceiverId,
        Reply<Option<oxirtc::media::CodecParameters>>,
    ),
    /// A frame and its duration (`LocalTrack::write_frame`).
    WriteFrame(Box<(oxirtc::media::TransceiverId, Bytes, std::time::Duration)>),
    /// An RTP packet (`LocalTrack::write_rtp`).
    WriteRtp(oxirtc::media::TransceiverId, Box<crate::local_track::QueuedRtp>),
    Close(oneshot::Sender<()>),
}

/// How a track is added: `add_track` (W3C addTrack, may take an offered section) or
/// `add_transceiver` with its options.
pub(crate) enum AddTrackArgs {
    Track(Option<String>),
    Transceiver(oxirtc::media::TransceiverInit),
}

struct ChannelSlot {
    messages: queue::Sender<Message>,
    status: watch::Sender<ChannelStatus>,
    /// Sends the core refused for lack of buffer space, in order, until it has room.
    waiting: VecDeque<(Bytes, bool)>,
    /// Bytes in `waiting`.
    waiting_bytes: usize,
    gate: Arc<SendGate>,
    /// W3C `bufferedAmountLowThreshold` (the application's; 0 until set).
    low_threshold: usize,
    /// The buffered amount was above `low_threshold` since the last `bufferedamountlow`.
    above_low: bool,
}

#[cfg(test)]
impl ChannelSlot {
    /// A slot whose handle side is gone, for tests of the driver's tables.
    fn for_test() -> Self {
        ChannelSlot {
            messages: queue::queue().0,
            status: watch::channel(ChannelStatus::Connecting).0,
            waiting: VecDeque::new(),
            waiting_bytes: 0,
            gate: Arc::new(SendGate::new(1)),
            low_threshold: 0,
            above_low: false,
        }
    }
}

/// The channels between the driver and its handles.
pub(crate) struct DriverLinks {
    pub commands: queue::Receiver<Command>,
    pub command_tx: queue::WeakSender<Command>,
    /// The bounded event queue (boxed events: they are few, so a box each costs nothing that
    /// matters, and the queue's slots stay small).
    pub events: EventSink,
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
    events: EventSink,
    channels: slots::Slots,
    /// The receiving end of each remote track, by mid.
    tracks: HashMap<String, crate::track::TrackSlot>,
    /// The driver's side of each local track.
    local_tracks: HashMap<oxirtc::media::TransceiverId, crate::local_track::LocalTrackSlot>,
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
        udp_batching: bool,
    ) -> Self {
        let DriverLinks {
            commands,
            command_tx,
            events,
            gathering,
            backlog,
            ended,
        } = links;
        let io = sockets
            .iter()
            .map(|(_, s)| BatchIo::new(s, udp_batching))
            .collect();
        Driver {
            rtc,
            turn_tls_roots,
            streams: Vec::new(),
            sockets,
            io,
            commands,
            command_tx,
            events,
            channels: slots::Slots::default(),
            tracks: HashMap::new(),
            local_tracks: HashMap::new(),
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
        let mut due_in_a_row = 0;
        loop {
            self.flush().await;
            if self.closed {
                break;
            }
            let deadline = self.rtc.poll_timeout();
            // A deadline that is already due runs now, not through tokio's timer: that one has
            // millisecond granularity, so each "due now" timer (a triggered ICE check, a flight
            // retransmitted at once) would cost up to a millisecond, several times per set-up. The
            // cap keeps a core that reports the same past deadline again from spinning.
            let now = Instant::now();
            if deadline.is_some_and(|d| d <= now) && due_in_a_row < MAX_DUE_IN_A_ROW {
                due_in_a_row += 1;
                self.rtc.handle_timeout(now);
                continue;
            }
            due_in_a_row = 0;
            let deadline = deadline.map(tokio::time::Instant::from_std);
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

    /// Hands the core's events to the handles, then sends everything the core has (batched, see
    /// `batch.rs`), then the events that produced, then tells senders how much is buffered.
    async fn flush(&mut self) {
        let now = Instant::now();
        // Messages first, into the handles' queues; what those hold counts against the receive
        // window advertised in the SACKs sent below.
        self.drain_events();
        self.rtc.set_receive_backlog(self.backlog.bytes());
        self.transmit(now).await;
        self.drain_events();
        self.publish_buffered();
    }
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

/// Due deadlines handled back to back before the driver waits on tokio's timer anyway.
const MAX_DUE_IN_A_ROW: u32 = 16;

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
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

    /// Issue 15: the wait for a full socket is boxed, so the task is only as large as its idle
    /// wait (the select over commands, sockets, timer): it was 1288 bytes with the sending path's
    /// state inline, 696 without.
    #[test]
    fn the_driver_task_does_not_hold_the_socket_wait_inline() {
        let task = future_size(super::Driver::run);
        assert!(task <= 900, "driver task future {task} B");
    }
}
