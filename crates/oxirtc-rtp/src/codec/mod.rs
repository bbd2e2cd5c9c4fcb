//! Packetizers and depacketizers per codec.
//!
//! The APIs take plain values, not RTP packets: a [`Packetizer`] turns one encoded frame (an access
//! unit, a temporal unit, an audio frame) into RTP payloads written into a reusable [`Payloads`]
//! buffer, the marker bit going on the last one for video; a [`Depacketizer`] reads one RTP payload,
//! says what it holds ([`PayloadInfo`]) and appends the frame bytes it carries to a caller's buffer.
//! Each codec also has a borrowing parser for its payload header (e.g. [`vp8::Vp8Descriptor::parse`]).
//! [`crate::sample::SampleBuilder`] puts the two together into frames.
//!
//! Frame formats handed to packetizers and produced by depacketizers:
//! - H.264 and H.265: Annex B byte streams, each NAL unit after a 4-byte start code `00 00 00 01`
//!   (packetizers accept 3- and 4-byte start codes).
//! - AV1: a temporal unit as a sequence of OBUs, each with `obu_has_size_field` set (the "Low
//!   overhead bitstream format"), temporal delimiters left out on output and dropped on input.
//! - VP8, VP9, Opus, G.711, G.722: the codec's own frame bytes.

pub mod audio;
pub mod av1;
pub mod h264;
pub mod h265;
mod nal;
pub mod vp8;
pub mod vp9;

use crate::RtpError;

/// Splits encoded frames into RTP payloads.
pub trait Packetizer {
    /// Writes the payloads of one frame into `out` (cleared first). Each payload is at most
    /// `max_payload` bytes. On error `out` is left empty.
    fn packetize(&mut self, frame: &[u8], max_payload: usize, out: &mut Payloads) -> Result<(), RtpError>;
}

/// Reads RTP payloads back into frames.
pub trait Depacketizer {
    /// Reads one RTP payload: returns what it holds and appends its frame bytes to `out`. On error
    /// `out` is as it was before the call.
    fn depacketize(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Result<PayloadInfo, RtpError>;

    /// Called once on the concatenated output of all the payloads of a complete frame, in order;
    /// codecs whose frame format needs the whole frame (AV1 OBU sizes) rewrite it here. The default
    /// leaves it unchanged.
    fn finish_frame(&mut self, frame: &mut Vec<u8>) -> Result<(), RtpError> {
        let _ = frame;
        Ok(())
    }

    /// Whether a lost frame breaks the frames after it until the next keyframe (video), so that a
    /// receiver should ask for a keyframe (RTCP PLI) after a loss.
    fn needs_keyframe_after_loss(&self) -> bool;
}

/// A boxed depacketizer is one too, so that the codec can be chosen at run time (from the
/// negotiated payload type) and still feed a [`crate::sample::SampleBuilder`].
impl<D: Depacketizer + ?Sized> Depacketizer for Box<D> {
    fn depacketize(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Result<PayloadInfo, RtpError> {
        (**self).depacketize(payload, out)
    }

    fn finish_frame(&mut self, frame: &mut Vec<u8>) -> Result<(), RtpError> {
        (**self).finish_frame(frame)
    }

    fn needs_keyframe_after_loss(&self) -> bool {
        (**self).needs_keyframe_after_loss()
    }
}

/// Where a payload sits in its frame, as far as the payload itself can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FrameStart {
    /// The payload continues a frame begun in an earlier packet (a middle fragment).
    #[default]
    Continues,
    /// The payload may begin a frame (H.264 and H.265: any packet that is not a continued
    /// fragment); whether it does follows from the packet before it.
    MayBegin,
    /// The payload's own header says it is the first of its frame (VP8 S=1 with PID 0, VP9 B=1,
    /// any audio payload).
    Begins,
}

/// What one RTP payload holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PayloadInfo {
    /// Whether the payload begins a frame.
    pub start: FrameStart,
    /// The payload's own header says it is the last of its frame (VP9 E=1, audio). Frames also end
    /// at the RTP marker bit or where the timestamp changes.
    pub end: bool,
    /// The payload shows its frame is a keyframe (decodable without earlier frames).
    pub keyframe: bool,
    /// Codec-specific information from the payload header.
    pub codec: CodecInfo,
}

/// Codec-specific information read from one payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CodecInfo {
    /// Nothing beyond [`PayloadInfo`].
    #[default]
    None,
    /// An audio payload and its duration, when the codec lets it be computed.
    Audio(audio::AudioInfo),
    /// The VP8 payload descriptor.
    Vp8(vp8::Vp8Descriptor),
    /// The VP9 payload descriptor (without its scalability structure; see [`vp9::Vp9Descriptor`]).
    Vp9(vp9::Vp9Info),
    /// H.264 NAL unit types present.
    H264(h264::H264Info),
    /// H.265 NAL unit types present.
    H265(h265::H265Info),
    /// The AV1 aggregation header.
    Av1(av1::Av1AggregationHeader),
}

impl CodecInfo {
    /// Adds what a later payload of the same frame says: the NAL unit types for H.264 and H.265;
    /// the other codecs keep the first payload's information.
    pub(crate) fn merge(&mut self, later: &CodecInfo) {
        match (self, later) {
            (CodecInfo::H264(a), CodecInfo::H264(b)) => a.nal_types |= b.nal_types,
            (CodecInfo::H265(a), CodecInfo::H265(b)) => a.nal_types |= b.nal_types,
            _ => {}
        }
    }
}

/// The payloads of one frame, stored in one reusable buffer: once it has grown to the largest
/// frame, packetizing allocates nothing.
#[derive(Debug, Clone, Default)]
pub struct Payloads {
    buf: Vec<u8>,
    ends: Vec<usize>,
    marker_on_last: bool,
}

impl Payloads {
    /// An empty set; buffers grow on first use.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many payloads there are.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Payload `i`, if there is one.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.buf.get(start..end)
    }

    /// The RTP marker bit for payload `i`: set on the last payload of a video frame (RFC 6184
    /// §5.1, RFC 7741 §4.1, RFC 7798 §4.1, RFC 9628 §4.1, AV1 RTP §4.1); never set by the audio
    /// packetizers, where it marks a talkspurt's first packet, which only the caller knows
    /// (RFC 3551 §4.1).
    pub fn marker(&self, i: usize) -> bool {
        self.marker_on_last && i + 1 == self.ends.len()
    }

    /// The payloads in order, each with its marker bit.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], bool)> + '_ {
        (0..self.len()).filter_map(move |i| Some((self.get(i)?, self.marker(i))))
    }

    /// Empties the set, keeping its buffers.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.ends.clear();
        self.marker_on_last = false;
    }

    /// Starts a new payload; its bytes are then added with [`Self::extend`] or [`Self::push_byte`].
    pub(crate) fn begin(&mut self) {
        self.ends.push(self.buf.len());
    }

    /// Appends bytes to the payload begun last.
    pub(crate) fn extend(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
        if let Some(end) = self.ends.last_mut() {
            *end = self.buf.len();
        }
    }

    /// Appends one byte to the payload begun last.
    pub(crate) fn push_byte(&mut self, byte: u8) {
        self.extend(&[byte]);
    }

    /// Length so far of the payload begun last.
    pub(crate) fn current_len(&self) -> usize {
        let start = if self.ends.len() < 2 {
            0
        } else {
            self.ends[self.ends.len() - 2]
        };
        self.buf.len() - start
    }

    /// Mutable access to the payload begun last, to patch a header written earlier.
    pub(crate) fn current_mut(&mut self) -> &mut [u8] {
        let start = if self.ends.len() < 2 {
            0
        } else {
            self.ends[self.ends.len() - 2]
        };
        &mut self.buf[start..]
    }

    /// Mutable access to payload `i`, to patch a header written earlier.
    pub(crate) fn payload_mut(&mut self, i: usize) -> Option<&mut [u8]> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.buf.get_mut(start..end)
    }

    /// Sets the marker on the last payload (video).
    pub(crate) fn set_marker_on_last(&mut self) {
        self.marker_on_last = true;
    }
}

/// Checks `payload` has at least `needed` bytes.
pub(crate) fn need(what: &'static str, payload: &[u8], needed: usize) -> Result<(), RtpError> {
    if payload.len() < needed {
        return Err(RtpError::Truncated {
            what,
            needed,
            available: payload.len(),
        });
    }
    Ok(())
}

pub(crate) fn malformed(what: &'static str, detail: &'static str) -> RtpError {
    RtpError::MalformedPayload { what, detail }
}
