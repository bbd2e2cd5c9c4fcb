//! Typed SDP for oxirtc (RFC 8866): parse a session description into owned structs and write it
//! back, with typed accessors for the attributes WebRTC uses (RFC 8829 §5). No offer/answer logic.
//!
//! ```
//! use oxirtc_sdp::{Attribute, SessionDescription, Setup};
//!
//! let offer = "v=0\r\n\
//! o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n\
//! s=-\r\n\
//! t=0 0\r\n\
//! a=group:BUNDLE 0\r\n\
//! a=extmap-allow-mixed\r\n\
//! a=msid-semantic: WMS\r\n\
//! m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n\
//! c=IN IP4 0.0.0.0\r\n\
//! a=ice-ufrag:Hx3v\r\n\
//! a=ice-pwd:n6Gn0Tc8qAOtGcXlV5SC9NWy\r\n\
//! a=ice-options:trickle\r\n\
//! a=fingerprint:sha-256 6B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08\r\n\
//! a=setup:actpass\r\n\
//! a=mid:0\r\n\
//! a=sctp-port:5000\r\n\
//! a=max-message-size:262144\r\n";
//!
//! let sdp = SessionDescription::parse(offer)?;
//! assert_eq!(sdp.bundle_mids(), Some(vec!["0"]));
//! let section = sdp.section_by_mid("0").ok_or("no mid 0")?;
//! assert_eq!(section.ice_ufrag(), Some("Hx3v"));
//! assert_eq!(section.setup(), Some(Setup::ActPass));
//! assert_eq!(section.sctp_port(), Some(5000));
//!
//! // An answer: same shape, our own origin, credentials, fingerprint and DTLS role.
//! let mut answer = sdp.clone();
//! answer.origin.session_id = 8_203_114_229_000_112_000;
//! answer.attributes.retain(|a| a.name == "group" || a.name == "msid-semantic");
//! answer.media[0].attributes = vec![
//!     Attribute::new("ice-ufrag", "a1B2"),
//!     Attribute::new("ice-pwd", "answerpasswordanswerpass"),
//!     Attribute::new("ice-options", "trickle"),
//!     Attribute::new("fingerprint", "sha-256 01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF"),
//!     Attribute::new("setup", Setup::Active.as_str()),
//!     Attribute::new("mid", "0"),
//!     Attribute::new("sctp-port", "5000"),
//!     Attribute::new("max-message-size", "262144"),
//! ];
//! let text = answer.to_string();
//! assert!(text.contains("\r\na=setup:active\r\n"));
//! assert_eq!(SessionDescription::parse(&text)?, answer);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod attrs;
mod error;
#[cfg(test)]
mod fixtures;
mod media_attrs;
mod model;
mod parse;
mod write;

pub use attrs::{Direction, Fingerprint, Fmtp, Group, RtpMap, Section, Setup};
pub use error::SdpError;
pub use media_attrs::{
    ExtMap, FbPayloadType, Msid, Rid, RidDirection, RtcpFb, Simulcast, SimulcastRid, Ssrc, SsrcGroup,
};
pub use model::{
    Attribute, Bandwidth, Connection, MediaDescription, MediaKind, Origin, SessionDescription, Timing,
};
pub use parse::{ParseReport, MAX_ATTRIBUTES, MAX_MEDIA, MAX_SDP_LEN};
