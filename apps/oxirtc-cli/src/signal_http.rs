//! The HTTP/JSON signaling protocol that `oxirtc echo` serves and `oxirtc dial` speaks (documented in
//! docs/interop-signaling.md): one POST per step, no trickle.

use serde::{Deserialize, Serialize};

/// A pre-negotiated channel both sides create (`negotiated: true, id`).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct NegotiatedChannel {
    /// SCTP stream id.
    pub id: u16,
    /// Label.
    #[serde(default)]
    pub label: String,
    /// In-order delivery (default true).
    #[serde(default)]
    pub ordered: Option<bool>,
    /// `maxRetransmits`.
    #[serde(default)]
    pub max_retransmits: Option<u16>,
    /// `maxPacketLifeTime` in milliseconds.
    #[serde(default)]
    pub max_packet_life_time: Option<u32>,
}

/// A request to the answering endpoint.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum SignalRequest {
    /// The caller offers (or re-offers on `session`, e.g. for an ICE restart).
    Offer {
        /// The SDP.
        sdp: String,
        /// The session to renegotiate; absent for a new session.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session: Option<String>,
        /// Pre-negotiated channels to create.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        negotiated: Vec<NegotiatedChannel>,
    },
    /// The caller asks us to offer, with a channel called `label`.
    RequestOffer {
        /// Label of the channel we create.
        #[serde(default)]
        label: Option<String>,
        /// Pre-negotiated channels to create.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        negotiated: Vec<NegotiatedChannel>,
        /// Also offer an audio and a video section (sendrecv): `oxirtc echo` sends back on them
        /// what the caller sends.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        media: bool,
        /// With `media`: offer only this video codec (`VP8`, `VP9`, `H264`, `AV1`, `H265`), as
        /// W3C setCodecPreferences would.
        #[serde(default, rename = "videoCodec", skip_serializing_if = "Option::is_none")]
        video_codec: Option<String>,
    },
    /// The caller's answer to our offer in `session`.
    Answer {
        /// The SDP.
        sdp: String,
        /// The session.
        session: Option<String>,
    },
}

/// A reply with a description.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct SignalReply {
    /// `answer` or `offer`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The SDP.
    pub sdp: String,
    /// The session id, for follow-up requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
}

impl NegotiatedChannel {
    /// The channel's init for the core.
    pub fn init(&self) -> oxirtc::DataChannelInit {
        use oxirtc::ChannelReliability;
        let reliability = match (self.max_retransmits, self.max_packet_life_time) {
            (Some(n), _) => ChannelReliability::MaxRetransmits(n),
            (None, Some(ms)) => {
                ChannelReliability::MaxPacketLifeTime(std::time::Duration::from_millis(ms.into()))
            }
            (None, None) => ChannelReliability::Reliable,
        };
        oxirtc::DataChannelInit {
            ordered: self.ordered.unwrap_or(true),
            reliability,
            negotiated: Some(self.id),
            ..oxirtc::DataChannelInit::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browser_requests_parse() {
        let r: SignalRequest =
            serde_json::from_str(r#"{"type":"offer","sdp":"v=0","label":"echo","browserSendsVideo":false}"#)
                .unwrap();
        assert!(matches!(r, SignalRequest::Offer { session: None, .. }));
        let r: SignalRequest = serde_json::from_str(r#"{"type":"request-offer","label":"echo"}"#).unwrap();
        assert_eq!(
            r,
            SignalRequest::RequestOffer {
                label: Some("echo".into()),
                negotiated: vec![],
                media: false,
                video_codec: None
            }
        );
        let r: SignalRequest = serde_json::from_str(
            r#"{"type":"offer","sdp":"x","negotiated":[{"id":5,"label":"n","ordered":false}]}"#,
        )
        .unwrap();
        let SignalRequest::Offer { negotiated, .. } = r else {
            panic!()
        };
        assert_eq!(negotiated[0].init().negotiated, Some(5));
        assert!(!negotiated[0].init().ordered);
    }
}
