//! [`DataChannel`]: one W3C-shaped data channel handle.

use bytes::Bytes;
use oxirtc::ChannelId;
use tokio::sync::{mpsc, oneshot, watch};

use crate::driver::Command;
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

/// A data channel. Messages arrive through [`DataChannel::recv`]; [`DataChannel::send`] waits while
/// too much is buffered. Dropping every handle of the connection closes it.
pub struct DataChannel {
    id: ChannelId,
    label: String,
    protocol: String,
    commands: mpsc::UnboundedSender<Command>,
    messages: mpsc::UnboundedReceiver<Message>,
    status: watch::Receiver<ChannelStatus>,
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
    pub(crate) fn new(
        id: ChannelId,
        label: String,
        protocol: String,
        commands: mpsc::UnboundedSender<Command>,
        messages: mpsc::UnboundedReceiver<Message>,
        status: watch::Receiver<ChannelStatus>,
    ) -> Self {
        DataChannel {
            id,
            label,
            protocol,
            commands,
            messages,
            status,
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
        *self.status.borrow()
    }

    /// The SCTP stream id (W3C `id`), once open.
    pub fn stream_id(&self) -> Option<u16> {
        match self.status() {
            ChannelStatus::Open { stream_id } => stream_id,
            _ => None,
        }
    }

    /// Waits until the channel is open; an error if it closes (or the connection ends) first.
    pub async fn opened(&mut self) -> Result<(), Error> {
        loop {
            match *self.status.borrow_and_update() {
                ChannelStatus::Open { .. } => return Ok(()),
                ChannelStatus::Closed => return Err(Error::ChannelClosed),
                ChannelStatus::Connecting => {}
            }
            self.status.changed().await.map_err(|_| Error::Closed)?;
        }
    }

    /// Waits until the channel is closed (by either side or with the connection).
    pub async fn closed(&mut self) {
        loop {
            if *self.status.borrow_and_update() == ChannelStatus::Closed {
                return;
            }
            if self.status.changed().await.is_err() {
                return;
            }
        }
    }

    /// Sends one message. Waits while the channel's buffered amount is above the high-water mark
    /// ([`crate::Config::send_high_water_mark`]); fails if the message exceeds the peer's maximum size.
    pub async fn send(&self, message: Message) -> Result<(), Error> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::Send(self.id, message.data, message.binary, tx))
            .map_err(|_| Error::Closed)?;
        rx.await.map_err(|_| Error::Closed)?
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
    pub async fn recv(&mut self) -> Option<Message> {
        self.messages.recv().await
    }

    /// Bytes queued and not yet acknowledged (W3C `bufferedAmount`).
    pub async fn buffered_amount(&self) -> usize {
        let (tx, rx) = oneshot::channel();
        if self.commands.send(Command::BufferedAmount(self.id, tx)).is_err() {
            return 0;
        }
        rx.await.unwrap_or(0)
    }

    /// W3C `bufferedAmountLowThreshold`.
    pub fn set_buffered_amount_low_threshold(&self, bytes: usize) {
        let _ = self.commands.send(Command::SetLowThreshold(self.id, bytes));
    }

    /// Closes the channel (stream reset, RFC 8831 §6.7); [`DataChannel::closed`] resolves when done.
    pub fn close(&self) {
        let _ = self.commands.send(Command::CloseChannel(self.id));
    }
}
