//! JSEP offer/answer state (RFC 8829 §3.2, §4.1.8–§4.1.10; W3C `RTCSignalingState`).
//!
//! The machine is small: `Stable` ⇄ `HaveLocalOffer` / `HaveRemoteOffer`. Each transition is checked
//! before anything is applied, so a rejected description leaves the connection unchanged.

pub(crate) mod compare;
pub mod local;
pub mod remote;

use std::fmt;
use std::str::FromStr;

use crate::RtcError;

/// The type of a session description (RFC 8829 §4.1.8). Provisional answers and rollback are not
/// supported; they are refused with a clear error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SdpType {
    /// An offer.
    Offer,
    /// A final answer.
    Answer,
}

impl fmt::Display for SdpType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SdpType::Offer => "offer",
            SdpType::Answer => "answer",
        })
    }
}

impl FromStr for SdpType {
    type Err = RtcError;

    fn from_str(s: &str) -> Result<Self, RtcError> {
        match s {
            "offer" => Ok(SdpType::Offer),
            "answer" => Ok(SdpType::Answer),
            other => Err(RtcError::InvalidState(format!(
                "session description type {other:?} is not supported (use \"offer\" or \"answer\")"
            ))),
        }
    }
}

/// A session description with its type, as exchanged over signaling (W3C `RTCSessionDescriptionInit`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Description {
    /// Offer or answer.
    pub sdp_type: SdpType,
    /// The SDP text.
    pub sdp: String,
}

/// The signaling state (W3C `RTCSignalingState`, RFC 8829 §3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignalingState {
    /// No offer/answer exchange in progress.
    Stable,
    /// We applied our offer and wait for the answer.
    HaveLocalOffer,
    /// We applied the peer's offer and owe an answer.
    HaveRemoteOffer,
    /// The connection is closed.
    Closed,
}

/// Who applies a description.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// `set_local_description`.
    Local,
    /// `set_remote_description`.
    Remote,
}

impl SignalingState {
    /// The state after applying a `sdp_type` description from `side`, or an error naming why it is not
    /// allowed now (RFC 8829 §5.5 / §5.6 state checks).
    pub fn next(self, side: Side, sdp_type: SdpType) -> Result<SignalingState, RtcError> {
        use SignalingState::*;
        let next = match (self, side, sdp_type) {
            (Stable, Side::Local, SdpType::Offer) => Some(HaveLocalOffer),
            (Stable, Side::Remote, SdpType::Offer) => Some(HaveRemoteOffer),
            (HaveLocalOffer, Side::Local, SdpType::Offer) => Some(HaveLocalOffer),
            (HaveLocalOffer, Side::Remote, SdpType::Answer) => Some(Stable),
            (HaveRemoteOffer, Side::Remote, SdpType::Offer) => Some(HaveRemoteOffer),
            (HaveRemoteOffer, Side::Local, SdpType::Answer) => Some(Stable),
            _ => None,
        };
        next.ok_or_else(|| {
            let who = match side {
                Side::Local => "local",
                Side::Remote => "remote",
            };
            RtcError::InvalidState(format!(
                "cannot apply a {who} {sdp_type} in signaling state {self:?}"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions_follow_rfc8829() {
        use SignalingState::*;
        assert_eq!(Stable.next(Side::Local, SdpType::Offer).unwrap(), HaveLocalOffer);
        assert_eq!(
            HaveLocalOffer.next(Side::Remote, SdpType::Answer).unwrap(),
            Stable
        );
        assert_eq!(
            Stable.next(Side::Remote, SdpType::Offer).unwrap(),
            HaveRemoteOffer
        );
        assert_eq!(
            HaveRemoteOffer.next(Side::Local, SdpType::Answer).unwrap(),
            Stable
        );
        for (state, side, ty) in [
            (Stable, Side::Remote, SdpType::Answer),
            (Stable, Side::Local, SdpType::Answer),
            (HaveLocalOffer, Side::Remote, SdpType::Offer),
            (HaveRemoteOffer, Side::Local, SdpType::Offer),
            (Closed, Side::Remote, SdpType::Offer),
        ] {
            let e = state.next(side, ty).unwrap_err();
            assert!(e.to_string().contains("signaling state"), "{e}");
        }
    }
}
