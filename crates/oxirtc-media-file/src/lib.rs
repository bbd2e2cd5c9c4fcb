//! Media files for WebRTC: the sources a test or a sender streams from, and the recordings a
//! receiver writes.
//!
//! - **IVF** (VP8, VP9, AV1): [`IvfReader`], [`IvfWriter`]; hand-written (32 + 12 bytes of header).
//! - **Ogg Opus** (RFC 7845 over RFC 3533 pages): [`OggOpusReader`], [`OggOpusWriter`]; pages by
//!   the `ogg` crate.
//! - **H.264 / H.265 Annex B** byte streams: [`AnnexBReader`] yields access units (ITU-T H.264
//!   §7.4.1.2.3, H.265 §7.4.2.4.4) with a key frame flag and their NAL units.
//! - **Matroska / WebM** recordings (RFC 9559): [`MkvWriter`], VP8 / VP9 / AV1 / H.264 video and
//!   Opus audio; H.264 arrives as Annex B (as a depacketizer produces it) and is stored with an
//!   avcC.
//!
//! Every reader takes any [`std::io::Read`] (a `File`, a `&[u8]`), yields one [`Frame`] (or
//! [`AccessUnit`]) at a time without buffering the file, and is also an iterator of results that
//! stops after the first error. Bad files are errors that name the offset and what was expected
//! ([`MediaError`]), never panics; no length field in a file is trusted beyond
//! [`MAX_FRAME_SIZE`] (16 MiB).
//!
//! A read loop, and a write loop that records VP8 with Opus into WebM:
//!
//! ```
//! use oxirtc_media_file::{Frame, IvfReader, IvfWriter, IvfHeader, MkvWriter, OggOpusReader, Timebase, VideoCodec};
//! # fn main() -> Result<(), oxirtc_media_file::MediaError> {
//! # let mut ivf = IvfWriter::new(Vec::new(), IvfHeader::new(VideoCodec::Vp8, 320, 240, Timebase::new(1, 30).unwrap()))?;
//! # ivf.write(&[0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00], 0)?;
//! # let ivf_bytes = ivf.finish()?;
//! # let mut ogg = oxirtc_media_file::OggOpusWriter::new(Vec::new(), &oxirtc_media_file::OpusHead::new(1, 312), &Default::default(), 1)?;
//! # ogg.write_packet(&[0xfc, 0xff, 0xfe], None)?;
//! # let ogg_bytes = ogg.finish()?;
//! // Reading: any `Read` works (here bytes in memory; a `File` in practice).
//! let mut video = IvfReader::new(&ivf_bytes[..])?;
//! assert_eq!(video.header().codec(), Some(VideoCodec::Vp8));
//! while let Some(frame) = video.read_frame()? {
//!     println!("{} bytes at {} x {:?} s, key frame: {}", frame.data.len(), frame.pts, frame.timebase, frame.keyframe);
//! }
//! let audio = OggOpusReader::new(&ogg_bytes[..])?;
//! let head = audio.head().clone();
//! let packets: Vec<Frame> = audio.collect::<Result<_, _>>()?; // each with pts and duration at 48 kHz
//!
//! // Writing a recording: add the tracks, then frames as they arrive, then finish.
//! let mut webm = MkvWriter::new(Vec::new()); // MkvWriter::new_seekable(File) also patches sizes
//! let v = webm.add_video_track(VideoCodec::Vp8, 320, 240)?;
//! let a = webm.add_opus_track(&head)?;
//! for frame in IvfReader::new(&ivf_bytes[..])? {
//!     webm.write_frame(v, &frame?)?;
//! }
//! for packet in &packets {
//!     webm.write_frame(a, packet)?;
//! }
//! let bytes = webm.finish()?;
//! assert_eq!(&bytes[..4], [0x1a, 0x45, 0xdf, 0xa3]); // the EBML header
//! # Ok(())
//! # }
//! ```
//!
//! The fixtures in `fixtures/` (made once by `fixtures/make.sh` with FFmpeg) are what the tests
//! read; their frame counts and key frames are listed in the crate README.

mod annexb;
mod codec;
mod error;
mod frame;
mod io;
mod ivf;
mod mkv;
mod ogg_opus;

pub use annexb::MAX_NALS_PER_ACCESS_UNIT;
pub use annexb::{nal_units, AccessUnit, AnnexBReader};
pub use codec::VideoCodec;
pub use error::{MediaError, Result, MAX_FRAME_SIZE};
pub use frame::{Frame, Timebase};
pub use ivf::{IvfHeader, IvfReader, IvfWriter, IVF_FRAME_HEADER_LEN, IVF_HEADER_LEN};
pub use mkv::{MkvWriter, TrackId, MAX_CLUSTER_BYTES, MAX_CLUSTER_MS, MAX_QUEUED_BYTES};
pub use ogg_opus::{
    opus_packet_duration, ChannelMapping, OggOpusReader, OggOpusWriter, OpusHead, OpusTags, PAGE_SAMPLES,
};
