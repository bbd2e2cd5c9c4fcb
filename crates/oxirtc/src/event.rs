//! What an [`crate::Rtc`] tells its owner, drained with [`crate::Rtc::poll_event`].

use std::net::SocketAddr;

use oxirtc_dtls::Role;
use oxirtc_ice::IceConnectionState;

use crate::{ChannelId, CloseReason, PeerConnectionState};

/// An event of one peer connection.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RtcEvent {
    /// A local candidate to trickle to the peer (`candidate:...`, W3C `onicecandidate`).
    LocalCandidate(String),
    /// Candidate gathering finished (W3C `onicecandidate` with `null`).
    IceGatheringComplete,
    /// The ICE connection state changed.
    IceConnectionState(IceConnectionState),
    /// The combined connection state changed.
    ConnectionState(PeerConnectionState),
    /// The connection ended, and why (also [`crate::Rtc::close_reason`]). The `ChannelClosed` of
    /// every channel and `ConnectionState` with Failed or Closed follow.
    Ended(CloseReason),
    /// ICE selected (or changed) the pair application data uses.
    SelectedPair {
        /// Local address.
        local: SocketAddr,
        /// Remote address.
        remote: SocketAddr,
    },
    /// The DTLS role was settled by `a=setup` (RFC 8842 §5.1).
    DtlsRole(Role),
    /// The peer opened a channel (W3C `ondatachannel`); [`RtcEvent::ChannelOpen`] follows.
    IncomingChannel(ChannelId),
    /// A channel is open: messages can be sent.
    ChannelOpen(ChannelId),
    /// A message arrived on a channel.
    ChannelMessage {
        /// The channel.
        id: ChannelId,
        /// The payload (empty for an empty message).
        data: Vec<u8>,
        /// Binary (`true`) or text (`false`) message.
        binary: bool,
    },
    /// The channel's buffered amount fell to its low threshold (W3C `onbufferedamountlow`).
    ChannelBufferedAmountLow(ChannelId),
    /// The channel is closed; its id is gone and its stream id free again.
    ChannelClosed(ChannelId),
    /// The negotiation added an audio or video section we receive (W3C `ontrack`): its RTP comes as
    /// [`RtcEvent::Rtp`] with this mid.
    Track {
        /// The section's mid.
        mid: String,
        /// Audio or video.
        kind: crate::media::TrackKind,
    },
    /// An RTP packet arrived on an audio or video section we receive (decrypted, routed by mid).
    Rtp(crate::media::ReceivedRtp),
    /// Something changed that the peer learns only from a new offer (W3C `negotiationneeded`): a
    /// transceiver was added, removed or changed direction. Create and send an offer when stable.
    NegotiationNeeded,
    /// The peer asked for a keyframe on a video section we send (RTCP PLI or FIR, RFC 4585 §6.3.1,
    /// RFC 5104 §4.3.1): encode the next frame as one.
    KeyframeRequest {
        /// The section's mid.
        mid: String,
        /// PLI or FIR.
        kind: crate::media::KeyframeRequestKind,
    },
}
