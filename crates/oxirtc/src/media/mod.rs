//! Media negotiation building blocks (issue 18): codecs as SDP describes them, the codecs and RTP
//! header extensions oxirtc offers, and the offer/answer rules that pick the common ones.
//!
//! These are pure functions over parsed SDP (`oxirtc_sdp`); `Rtc` uses them for its audio and
//! video sections.
//!
//! ```
//! use oxirtc::media::{answer_codecs, codecs_in_section, default_video_codecs};
//! use oxirtc_sdp::SessionDescription;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let offer = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
//!     m=video 9 UDP/TLS/RTP/SAVPF 96 97 100\r\n\
//!     a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack pli\r\n\
//!     a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n\
//!     a=rtpmap:100 MP4V-ES/90000\r\n";
//! let sdp = SessionDescription::parse(offer)?;
//! let offered = codecs_in_section(&sdp.media[0]);
//! let answer = answer_codecs(&offered, &default_video_codecs());
//! assert_eq!(answer.len(), 1); // VP8 with its RTX; MP4V-ES is not ours
//! assert_eq!((answer[0].payload_type, answer[0].rtx_payload_type), (96, Some(97)));
//! # Ok(()) }
//! ```

mod codec;
mod extmap;
mod h264_profile;
mod negotiate;
mod payload;
mod received;
mod stats;
mod transceiver;

pub use codec::{
    codecs_in_section, default_audio_codecs, default_video_codecs, Codec, CodecParameters, Feedback,
    TrackKind,
};
pub use extmap::{
    answer_extensions, default_extensions, HeaderExtension, ABS_CAPTURE_TIME, ABS_SEND_TIME, AUDIO_LEVEL,
    MID, PLAYOUT_DELAY, REPAIRED_RTP_STREAM_ID, RTP_STREAM_ID, TRANSPORT_WIDE_CC, VIDEO_ORIENTATION,
};
pub use h264_profile::{H264Profile, ProfileLevelId, DEFAULT_PROFILE_LEVEL_ID};
pub use negotiate::{answer_codecs, same_configuration, send_codec};
pub use oxirtc_sdp::Direction;
pub use payload::{depacketizer_for, packetizer_for};
pub use received::ReceivedRtp;
pub use stats::{InboundRtpStats, MediaStats, OutboundRtpStats};
pub use transceiver::{KeyframeRequestKind, OutgoingRtp, TransceiverId, TransceiverInfo, TransceiverInit};
