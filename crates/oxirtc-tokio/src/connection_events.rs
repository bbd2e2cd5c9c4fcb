//! A connection's events (W3C `onicecandidate`, `ondatachannel`, `onconnectionstatechange`, ...)
//! as a stream: [`PeerConnectionEvent`], read through [`PeerConnectionEvents`] or
//! [`crate::PeerConnection::next_event`], and the bounded queue between the driver and the reader.
//!
//! The queue holds at most [`crate::Config::event_queue_capacity`] events. When an application does
//! not read them and it is full, the driver drops the oldest event that only informs — a candidate,
//! a state change, a peer's channel that has already closed again — and counts it in
//! [`DroppedEvents`]. It never drops a peer's channel that is still open nor the connection's end
//! (state failed or closed): those are queued beyond the capacity, and there are at most
//! `RtcConfig::max_channels` of the first and two of the second.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use oxirtc::{IceConnectionState, PeerConnectionState};

use crate::data_channel::ChannelStatus;
use crate::queue;
use crate::DataChannel;

/// What happens on a connection (W3C events as a stream: `onicecandidate`, `ondatachannel`, ...).
///
/// ```no_run
/// use oxirtc_tokio::{PeerConnection, PeerConnectionEvent, PeerConnectionState};
///
/// # async fn demo(pc: PeerConnection) {
/// while let Some(event) = pc.next_event().await {
///     match event {
///         PeerConnectionEvent::IceCandidate(c) => println!("trickle {c} to the peer"),
///         PeerConnectionEvent::DataChannel(dc) => println!("the peer opened {}", dc.label()),
///         PeerConnectionEvent::ConnectionState(PeerConnectionState::Failed) => {
///             println!("failed: {:?}", pc.close_reason());
///             break;
///         }
///         _ => {}
///     }
/// }
/// # }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum PeerConnectionEvent {
    /// A local candidate to trickle (`candidate:...`).
    IceCandidate(String),
    /// Gathering finished.
    IceGatheringComplete,
    /// ICE connection state.
    IceConnectionState(IceConnectionState),
    /// Combined connection state. Once it is failed or closed, [`crate::PeerConnection::close_reason`]
    /// says why.
    ConnectionState(PeerConnectionState),
    /// ICE selected a pair.
    SelectedPair {
        /// Local address.
        local: SocketAddr,
        /// Remote address.
        remote: SocketAddr,
    },
    /// The peer opened a channel.
    DataChannel(DataChannel),
    /// The peer sends audio or video on a section we receive (W3C `ontrack`).
    Track(crate::RemoteTrack),
    /// A track or transceiver was added, removed or changed direction (W3C `negotiationneeded`):
    /// create an offer and send it when signaling is stable.
    NegotiationNeeded,
}

/// How many events the connection dropped because nobody read them and its queue was full
/// ([`crate::Config::event_queue_capacity`]), by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DroppedEvents {
    /// [`PeerConnectionEvent::IceCandidate`]s.
    pub ice_candidates: u64,
    /// State changes: ICE and connection states other than the end, gathering complete, selected
    /// pairs.
    pub state_changes: u64,
    /// [`PeerConnectionEvent::DataChannel`]s whose channel had closed again before it was read.
    pub closed_channels: u64,
}

impl DroppedEvents {
    /// Every dropped event.
    pub fn total(&self) -> u64 {
        self.ice_candidates + self.state_changes + self.closed_channels
    }
}

/// The events of one connection, in order. Get it from [`crate::PeerConnection::events`] and read
/// it in the task that handles events, while clones of the `PeerConnection` negotiate and close
/// elsewhere.
///
/// It does not keep the connection open: once every `PeerConnection` and [`DataChannel`] handle is
/// dropped (a `DataChannel` still waiting unread in the queue counts as one), the connection closes
/// and [`PeerConnectionEvents::next`] returns `None`. Each event goes to one reader: with several
/// `PeerConnectionEvents` (or `next_event` calls) at once, each sees part of them.
///
/// ```no_run
/// use oxirtc_tokio::{Config, PeerConnection, PeerConnectionEvent};
///
/// # async fn demo() -> Result<(), oxirtc_tokio::Error> {
/// let pc = PeerConnection::new(Config::default()).await?;
/// let events = pc.events();
/// let reader = tokio::spawn(async move {
///     while let Some(event) = events.next().await {
///         if let PeerConnectionEvent::ConnectionState(s) = event {
///             println!("{s:?}");
///         }
///     }
///     // None: the connection ended (closed by another clone below, or by the peer).
/// });
/// // ... negotiate with `pc` ...
/// pc.close().await; // no `&mut` needed: the reader task owns the events
/// let _ = reader.await;
/// # Ok(()) }
/// ```
pub struct PeerConnectionEvents {
    shared: Arc<EventReader>,
}

impl std::fmt::Debug for PeerConnectionEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerConnectionEvents")
            .field("dropped", &self.dropped())
            .finish()
    }
}

impl PeerConnectionEvents {
    pub(crate) fn new(shared: Arc<EventReader>) -> Self {
        PeerConnectionEvents { shared }
    }

    /// The next event, or `None` once the connection's task has ended. Cancel-safe: an event is
    /// only taken when this resolves.
    pub async fn next(&self) -> Option<PeerConnectionEvent> {
        self.shared.next().await
    }

    /// Events dropped so far because the queue was full (see [`crate::Config::event_queue_capacity`]).
    pub fn dropped(&self) -> DroppedEvents {
        self.shared.dropped.snapshot()
    }
}

/// The reading end of a connection's event queue, shared by its `PeerConnection` clones and
/// `PeerConnectionEvents`.
pub(crate) struct EventReader {
    rx: tokio::sync::Mutex<queue::Receiver<Box<PeerConnectionEvent>>>,
    pub(crate) dropped: Arc<DropCounters>,
}

impl EventReader {
    pub(crate) async fn next(&self) -> Option<PeerConnectionEvent> {
        self.rx.lock().await.recv().await.map(|e| *e)
    }
}

/// The driver's end of the event queue: bounded, with the drop policy of the module docs.
pub(crate) struct EventSink {
    tx: queue::Sender<Box<PeerConnectionEvent>>,
    capacity: usize,
    dropped: Arc<DropCounters>,
}

/// A connection's event queue: the driver's end and the readers' end.
pub(crate) fn event_queue(capacity: usize) -> (EventSink, Arc<EventReader>) {
    let (tx, rx) = queue::queue();
    let dropped = Arc::new(DropCounters::default());
    let sink = EventSink {
        tx,
        // A queue of 0 would drop every informational event at once; 1 is the least that works.
        capacity: capacity.max(1),
        dropped: dropped.clone(),
    };
    let reader = EventReader {
        rx: tokio::sync::Mutex::new(rx),
        dropped,
    };
    (sink, Arc::new(reader))
}

impl EventSink {
    /// Queues `event`; when the queue is full the oldest informational event makes room.
    pub(crate) fn push(&self, event: PeerConnectionEvent) {
        let evicted = match self
            .tx
            .send_evicting(Box::new(event), self.capacity, |e| kind(e).is_some())
        {
            Ok(evicted) => evicted,
            // Every reader is gone: nobody will see it.
            Err(_) => return,
        };
        if let Some(kind) = evicted.as_deref().and_then(kind) {
            let before = self.dropped.total.fetch_add(1, Ordering::AcqRel);
            if before == 0 {
                tracing::warn!(
                    capacity = self.capacity,
                    "the application is not reading this connection's events: dropping the oldest \
                     informational ones (PeerConnection::dropped_events counts them)"
                );
            }
            self.dropped.by_kind(kind).fetch_add(1, Ordering::AcqRel);
        }
        // `evicted` (a closed channel's handle, perhaps) is dropped here, outside the queue's lock.
    }
}

/// What an event that may be dropped is, for [`DroppedEvents`]; `None` for one that is never
/// dropped.
#[derive(Clone, Copy)]
enum Kind {
    Candidate,
    State,
    ClosedChannel,
}

fn kind(event: &PeerConnectionEvent) -> Option<Kind> {
    match event {
        PeerConnectionEvent::IceCandidate(_) => Some(Kind::Candidate),
        PeerConnectionEvent::ConnectionState(PeerConnectionState::Failed | PeerConnectionState::Closed) => {
            None
        }
        PeerConnectionEvent::IceGatheringComplete
        | PeerConnectionEvent::IceConnectionState(_)
        | PeerConnectionEvent::ConnectionState(_)
        | PeerConnectionEvent::SelectedPair { .. }
        | PeerConnectionEvent::NegotiationNeeded => Some(Kind::State),
        PeerConnectionEvent::DataChannel(dc) if dc.status() == ChannelStatus::Closed => {
            Some(Kind::ClosedChannel)
        }
        PeerConnectionEvent::DataChannel(_) | PeerConnectionEvent::Track(_) => None,
    }
}

/// Counters behind [`DroppedEvents`].
#[derive(Default)]
pub(crate) struct DropCounters {
    total: AtomicU64,
    ice_candidates: AtomicU64,
    state_changes: AtomicU64,
    closed_channels: AtomicU64,
}

impl DropCounters {
    fn by_kind(&self, kind: Kind) -> &AtomicU64 {
        match kind {
            Kind::Candidate => &self.ice_candidates,
            Kind::State => &self.state_changes,
            Kind::ClosedChannel => &self.closed_channels,
        }
    }

    pub(crate) fn snapshot(&self) -> DroppedEvents {
        DroppedEvents {
            ice_candidates: self.ice_candidates.load(Ordering::Acquire),
            state_changes: self.state_changes.load(Ordering::Acquire),
            closed_channels: self.closed_channels.load(Ordering::Acquire),
        }
    }
}
