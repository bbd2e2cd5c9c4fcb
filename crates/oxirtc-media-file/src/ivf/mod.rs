//! IVF, the simple container libvpx and libaom write for VP8, VP9 and AV1.
//!
//! Layout (all integers little-endian), as libvpx's `ivfenc`/`ivfdec` and FFmpeg write and read it:
//!
//! ```text
//! file header, 32 bytes:
//!   0  "DKIF"            4  version (0)         6  header length (32)
//!   8  FourCC            12 width (u16)          14 height (u16)
//!   16 timebase denominator (u32)  20 timebase numerator (u32)
//!   24 frame count (u32)           28 unused (u32)
//! each frame, 12-byte header then the frame:
//!   0  frame size (u32)  4  presentation timestamp (u64, in timebase ticks)
//! ```

mod reader;
mod writer;

pub use reader::IvfReader;
pub use writer::IvfWriter;

use crate::codec::VideoCodec;
use crate::frame::Timebase;

/// Bytes of the IVF file header.
pub const IVF_HEADER_LEN: usize = 32;
/// Bytes of each IVF frame header.
pub const IVF_FRAME_HEADER_LEN: usize = 12;

/// The IVF file header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IvfHeader {
    /// The codec FourCC: `VP80`, `VP90` or `AV01` (others are kept as found).
    pub fourcc: [u8; 4],
    /// Width in pixels.
    pub width: u16,
    /// Height in pixels.
    pub height: u16,
    /// The clock of the frame timestamps.
    pub timebase: Timebase,
    /// The frame count the header claims (writers may leave 0; readers do not rely on it).
    pub frame_count: u32,
}

impl IvfHeader {
    /// A header for `codec` at `width` x `height` with timestamps in `timebase` and a frame
    /// count of 0 (patched by [`IvfWriter::finish`] on a seekable sink).
    pub fn new(codec: VideoCodec, width: u16, height: u16, timebase: Timebase) -> IvfHeader {
        IvfHeader {
            fourcc: codec.fourcc(),
            width,
            height,
            timebase,
            frame_count: 0,
        }
    }

    /// The codec named by the FourCC, if this crate knows it.
    pub fn codec(&self) -> Option<VideoCodec> {
        VideoCodec::from_fourcc(self.fourcc)
    }

    /// The 32 header bytes.
    pub fn to_bytes(&self) -> [u8; IVF_HEADER_LEN] {
        let mut b = [0u8; IVF_HEADER_LEN];
        b[0..4].copy_from_slice(b"DKIF");
        b[4..6].copy_from_slice(&0u16.to_le_bytes());
        b[6..8].copy_from_slice(&(IVF_HEADER_LEN as u16).to_le_bytes());
        b[8..12].copy_from_slice(&self.fourcc);
        b[12..14].copy_from_slice(&self.width.to_le_bytes());
        b[14..16].copy_from_slice(&self.height.to_le_bytes());
        b[16..20].copy_from_slice(&self.timebase.den().to_le_bytes());
        b[20..24].copy_from_slice(&self.timebase.num().to_le_bytes());
        b[24..28].copy_from_slice(&self.frame_count.to_le_bytes());
        b
    }
}
