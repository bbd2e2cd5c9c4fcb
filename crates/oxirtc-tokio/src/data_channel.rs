//! [`DataChannel`]: one W3C-shaped data channel handle.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use oxirtc::{ChannelId, CloseReason, RtcError};
use tokio::sync::{oneshot, Notify};

use crate::driver::Command;
use crate::queue;
use crate::watch;
use crate::Error;

/// One message: a text (UTF-8) or binary payload, exactly as the peer sent it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// The payload.
    pub data: Bytes,
    /// Binary (W3C `ArrayBuffer`) or text (`string`).
    pub binary: bool,
}

impl Message {
    /// A text message.
    pub fn text(s: impl Into<String>) -> Self {
        Message {
            data: Bytes::from(s.into()),
            binary: false,
        }
    }

    /// A binary message.
    pub fn binary(data: impl Into<Bytes>) -> Self {
        Message {
            data: data.into(),
            binary: true,
        }
    }
}

/// W3C `readyState` plus the stream id once known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChannelStatus {
    /// Not open yet.
    Connecting,
    /// Open; `stream_id` is the W3C `id`.
    Open {
        /// The SCTP stream id.
        stream_id: Option<u16>,
    },
    /// Closed.
    Closed,
}

/// What a channel's handle and the driver share so that [`DataChannel::send`] needs no round trip to
/// the driver while the channel is below its high-water mark (one message used to cost one command,
/// one reply and two task wake-ups).
#[derive(Debug)]
pub(crate) struct SendGate {
    /// `send` waits while at least this much is queued or buffered.
    pub(crate) high_water_mark: usize,
    /// Bytes in `Send` commands the driver has not handed to the core yet.
    pub(crate) queued: AtomicUsize,
    /// The channel's buffered amount in the core plus sends parked in the driver, published by the
    /// driver after every turn of its loop.
    pub(crate) buffered: AtomicUsize,
    /// Largest message the connection accepts (RFC 8841 §6.1), published when the channel opens.
    pub(crate) max_message: AtomicUsize,
    /// Woken when the buffered amount falls below the high-water mark or the channel closes.
    pub(crate) room: Notify,
    /// Why the connection ended, when its end closed this channel; set by the driver before it
    /// reports the channel closed.
    pub(crate) ended_by: OnceLock<CloseReason>,
    /// W3C `bufferedAmountLowThreshold`, as last set by the application.
    pub(crate) low_threshold: AtomicUsize,
    /// `bufferedamountlow` events fired so far (counted by the driver).
    pub(crate) low_events: AtomicU64,
    /// Woken when `bufferedamountlow` fires.
    pub(crate) low: Notify,
}

impl SendGate {
    pub(crate) fn new(high_water_mark: usize) -> Self {
        SendGate {
            high_water_mark,
            queued: AtomicUsize::new(0),
            buffered: AtomicUsize::new(0),
            max_message: AtomicUsize::new(0),
            room: Notify::new(),
            ended_by: OnceLock::new(),
            low_threshold: AtomicUsize::new(0),
            low_events: AtomicU64::new(0),
            low: Notify::new(),
        }
    }

    fn in_use(&self) -> usize {
        self.queued.load(Ordering::Acquire) + self.buffered.load(Ordering::Acquire)
    }
}

/// Bytes of received messages waiting in the handles' queues, shared by the driver and every channel
/// handle of one connection. The driver reports it to the core (`Rtc::set_receive_backlog`), which
/// counts it against the SCTP receive window (RFC 9260 §6.2): a reader that stops reading stops the
/// sender, and memory stays bounded by the window.
#[derive(Debug)]
pub(crate) struct ReceiveBacklog {
    bytes: AtomicUsize,
    /// While more than this waits, each read wakes the driver so a reopened window is announced at
    /// once rather than at the sender's next zero-window probe.
    wake_above: usize,
    /// Woken when a read shrank a large backlog.
    pub(crate) drained: Notify,
}

impl ReceiveBacklog {
    pub(crate) fn new(wake_above: usize) -> Self {
        ReceiveBacklog {
            bytes: AtomicUsize::new(0),
            wake_above,
            drained: Notify::new(),
        }
    }

    pub(crate) fn bytes(&self) -> usize {
        self.bytes.load(Ordering::Acquire)
    }

    /// Counted before the message is queued, so a concurrent drop that drains the queue never
    /// subtracts more than was added.
    pub(crate) fn add(&self, n: usize) {
        self.bytes.fetch_add(n, Ordering::AcqRel);
    }

    /// A message left a queue (read, or dropped with its handle).
    pub(crate) fn remove(&self, n: usize) {
        let before = self.bytes.fetch_sub(n, Ordering::AcqRel);
        if before > self.wake_above {
            self.drained.notify_one();
        }
    }
}

/// What a channel handle shares with the driver.
pub(crate) struct HandleLinks {
    pub(crate) commands: queue::Sender<Command>,
    pub(crate) messages: queue::Receiver<Message>,
    pub(crate) status: watch::Receiver<ChannelStatus>,
    pub(crate) gate: Arc<SendGate>,
    pub(crate) backlog: Arc<ReceiveBacklog>,
}

/// A data channel (W3C `RTCDataChannel`, webrtc-pc §6.2). Messages arrive through
/// [`DataChannel::recv`]; [`DataChannel::send`] waits while too much is buffered (see also
/// [`DataChannel::buffered_amount_low`]). Get one from [`crate::PeerConnection::create_data_channel`]
/// or a peer's [`crate::PeerConnectionEvent::DataChannel`]. Dropping every handle of the
/// connection closes it.
///
/// ```no_run
/// use oxirtc_tokio::{DataChannelInit, PeerConnection};
///
/// # async fn demo(pc: PeerConnection) -> Result<(), oxirtc_tokio::Error> {
/// let mut dc = pc.create_data_channel("echo", DataChannelInit::default()).await?;
/// // ... negotiate ...
/// dc.opened().await?;
/// dc.send_text("ping").await?;
/// while let Some(message) = dc.recv().await {
///     if message.binary {
///         dc.send_binary(message.data).await?; // echo it
///     } else {
///         println!("text: {}", String::from_utf8_lossy(&message.data));
///     }
/// }
/// // None: the channel closed (by either side, or with the connection: see close_reason).
/// println!("closed: {:?}", dc.close_reason());
/// # Ok(()) }
/// ```
pub struct DataChannel {
    id: ChannelId,
    label: String,
    protocol: String,
    commands: queue::Sender<Command>,
    messages: queue::Receiver<Message>,
    status: watch::Receiver<ChannelStatus>,
    gate: Arc<SendGate>,
    backlog: Arc<ReceiveBacklog>,
    /// `bufferedamountlow` events [`DataChannel::buffered_amount_low`] has reported.
    low_seen: u64,
}

impl Drop for DataChannel {
    fn drop(&mut self) {
        // Messages nobody will read no longer hold the receive window shut.
        self.messages.close();
        while let Ok(m) = self.messages.try_recv() {
            self.backlog.remove(m.data.len());
        }
    }
}

impl std::fmt::Debug for DataChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataChannel")
            .field("id", &self.id)
            .field("label", &self.label)
            .finish()
    }
}

impl DataChannel {
    pub(crate) fn new(id: ChannelId, label: String, protocol: String, links: HandleLinks) -> Self {
        let HandleLinks {
            commands,
            messages,
            status,
            gate,
            backlog,
        } = links;
        DataChannel {
            id,
            label,
            protocol,
            commands,
            messages,
            status,
            gate,
            backlog,
            low_seen: 0,
        }
    }

    /// The core's handle of this channel.
    pub fn id(&self) -> ChannelId {
        self.id
    }

    /// The label.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The sub-protocol.
    pub fn protocol(&self) -> &str {
        &self.protocol
    }

    /// The current status.
    pub fn status(&self) -> ChannelStatus {
        self.status.get()
    }

    /// The SCTP stream id (W3C `id`), once open.
    pub fn stream_id(&self) -> Option<u16> {
        match self.status() {
            ChannelStatus::Open { stream_id } => stream_id,
            _ => None,
        }
    }

    /// Why the channel closed when it closed because its connection ended (a peer's ABORT, a
    /// fatal DTLS alert, ICE failing, either side closing the connection); `None` while it is open
    /// or when it was closed on its own (by [`DataChannel::close`] or by the peer).
    pub fn close_reason(&self) -> Option<&CloseReason> {
        self.gate.ended_by.get()
    }

    /// The error for an operation on the closed channel: why the connection ended, if that closed it.
    fn closed_error(&self) -> Error {
        match self.close_reason() {
            Some(reason) => Error::ConnectionEnded(reason.clone()),
            None => Error::ChannelClosed,
        }
    }

    /// Waits until the channel is open; an error if it closes (or the connection ends: then
    /// [`Error::ConnectionEnded`] says why) first.
    pub async fn opened(&mut self) -> Result<(), Error> {
        loop {
            let status = self.status.get_and_update();
            match status {
                ChannelStatus::Open { .. } => return Ok(()),
                ChannelStatus::Closed => return Err(self.closed_error()),
                ChannelStatus::Connecting => {}
            }
            self.status.changed().await.map_err(|_| Error::Closed)?;
        }
    }

    /// Waits until the channel is closed (by either side or with the connection).
    pub async fn closed(&mut self) {
        loop {
            if self.status.get_and_update() == ChannelStatus::Closed {
                return;
            }
            if self.status.changed().await.is_err() {
                return;
            }
        }
    }

    /// Sends one message. Waits while the channel's buffered amount is above the high-water mark
    /// ([`crate::Config::send_high_water_mark`]); fails if the channel is not open or the message
    /// exceeds the negotiated maximum size. Below the mark it returns as soon as the message is queued
    /// for the driver, so many sends are handled (and bundled into packets) per driver turn.
    pub async fn send(&self, message: Message) -> Result<(), Error> {
        match self.status() {
            ChannelStatus::Open { .. } => {}
            ChannelStatus::Closed => return Err(self.closed_error()),
            ChannelStatus::Connecting => {
                return Err(Error::Rtc(RtcError::ChannelNotOpen(self.id.0)));
            }
        }
        let size = message.data.len();
        let max = self.gate.max_message.load(Ordering::Acquire);
        if max != 0 && size > max {
            return Err(Error::Rtc(RtcError::MessageTooLarge { size, max }));
        }
        self.wait_for_room().await?;
        self.gate.queued.fetch_add(size, Ordering::AcqRel);
        self.commands
            .send(Command::Send(self.id, message.data, message.binary))
            .map_err(|_| Error::Closed)
    }

    /// Waits until the buffered amount is below the high-water mark.
    async fn wait_for_room(&self) -> Result<(), Error> {
        let mut status = self.status.clone();
        loop {
            let room = self.gate.room.notified();
            tokio::pin!(room);
            // Registered before the check, so a wake-up between the check and the await is not lost.
            room.as_mut().enable();
            if self.gate.in_use() < self.gate.high_water_mark {
                return Ok(());
            }
            if status.get_and_update() == ChannelStatus::Closed {
                return Err(self.closed_error());
            }
            tokio::select! {
                () = &mut room => {}
                changed = status.changed() => {
                    if changed.is_err() {
                        return Err(Error::Closed);
                    }
                }
            }
        }
    }

    /// Sends a text message.
    pub async fn send_text(&self, text: impl Into<String>) -> Result<(), Error> {
        self.send(Message::text(text)).await
    }

    /// Sends a binary message.
    pub async fn send_binary(&self, data: impl Into<Bytes>) -> Result<(), Error> {
        self.send(Message::binary(data)).await
    }

    /// The next message, or `None` once the channel is closed and every message was read.
    ///
    /// Read every channel you keep (or drop it): unread messages count against the connection's
    /// receive window, which all its channels share, so a channel nobody reads eventually stops the
    /// peer from sending on the others too.
    pub async fn recv(&mut self) -> Option<Message> {
        let m = self.messages.recv().await?;
        self.backlog.remove(m.data.len());
        Some(m)
    }

    /// W3C `bufferedAmount`: bytes [`DataChannel::send`] accepted that the peer has not
    /// acknowledged yet (queued for the driver, waiting for room in the core, or in flight).
    pub async fn buffered_amount(&self) -> usize {
        let (tx, rx) = oneshot::channel();
        if self.commands.send(Command::BufferedAmount(self.id, tx)).is_err() {
            return 0;
        }
        rx.await.unwrap_or(0)
    }

    /// W3C `bufferedAmountLowThreshold`: [`DataChannel::buffered_amount_low`] resolves when the
    /// buffered amount falls from above this many bytes to at or below it. 0 until set.
    pub fn set_buffered_amount_low_threshold(&self, bytes: usize) {
        self.gate.low_threshold.store(bytes, Ordering::Release);
        let _ = self.commands.send(Command::SetLowThreshold(self.id, bytes));
    }

    /// The threshold last set with [`DataChannel::set_buffered_amount_low_threshold`].
    pub fn buffered_amount_low_threshold(&self) -> usize {
        self.gate.low_threshold.load(Ordering::Acquire)
    }

    /// The W3C `bufferedamountlow` event (webrtc-pc §6.2) as an awaitable: resolves when the
    /// buffered amount falls from above the low threshold to at or below it. An event that fired
    /// since the previous call is not lost: the call returns at once (several such events count
    /// as one). An error once the channel is closed (the connection's end: then
    /// [`Error::ConnectionEnded`] says why).
    ///
    /// Pause and resume a large send around two marks:
    ///
    /// ```no_run
    /// # async fn demo(mut dc: oxirtc_tokio::DataChannel, chunks: Vec<Vec<u8>>) -> Result<(), oxirtc_tokio::Error> {
    /// const HIGH: usize = 4 * 1024 * 1024;
    /// dc.set_buffered_amount_low_threshold(1024 * 1024);
    /// for chunk in chunks {
    ///     while dc.buffered_amount().await > HIGH {
    ///         dc.buffered_amount_low().await?; // paused until the peer caught up
    ///     }
    ///     dc.send_binary(chunk).await?;
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn buffered_amount_low(&mut self) -> Result<(), Error> {
        let mut status = self.status.clone();
        loop {
            let low = self.gate.low.notified();
            tokio::pin!(low);
            // Registered before the check, so an event between the check and the await is not lost.
            low.as_mut().enable();
            let fired = self.gate.low_events.load(Ordering::Acquire);
            if fired > self.low_seen {
                self.low_seen = fired;
                return Ok(());
            }
            if status.get_and_update() == ChannelStatus::Closed {
                return Err(self.closed_error());
            }
            tokio::select! {
                () = &mut low => {}
                changed = status.changed() => {
                    if changed.is_err() {
                        return Err(Error::Closed);
                    }
                }
            }
        }
    }

    /// How many `bufferedamountlow` events fired on this channel so far.
    pub fn buffered_amount_low_count(&self) -> u64 {
        self.gate.low_events.load(Ordering::Acquire)
    }

    /// Closes the channel (stream reset, RFC 8831 §6.7); [`DataChannel::closed`] resolves when done.
    pub fn close(&self) {
        let _ = self.commands.send(Command::CloseChannel(self.id));
    }
}
