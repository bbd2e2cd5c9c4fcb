//! Writes IVF files.

use std::io::{Seek, Write};

use super::{IvfHeader, IVF_FRAME_HEADER_LEN};
use crate::error::{MediaError, Result, MAX_FRAME_SIZE};
use crate::frame::Frame;
use crate::io::PosWriter;

const FORMAT: &str = "IVF";

/// Writes an IVF file: the header at once, then each frame with its 12-byte header.
///
/// The header's frame count is known only at the end. On a seekable sink
/// ([`IvfWriter::new_seekable`], e.g. a `File`) [`IvfWriter::finish`] patches it; on a stream
/// ([`IvfWriter::new`]) the count given in the header is written as is (players do not rely on
/// it; pass the count up front if you know it).
pub struct IvfWriter<W: Write> {
    sink: PosWriter<W>,
    header: IvfHeader,
    frames: u32,
}

impl<W: Write> IvfWriter<W> {
    /// Writes `header` to a sink that is only written forwards.
    pub fn new(sink: W, header: IvfHeader) -> Result<Self> {
        Self::start(PosWriter::new(sink, FORMAT), header)
    }

    /// Writes one frame: its data with `frame.pts` converted to the header's timebase (rounded
    /// to the nearest tick; exact when the clocks are the same).
    pub fn write_frame(&mut self, frame: &Frame) -> Result<()> {
        let pts = frame.timebase.rescale(frame.pts, self.header.timebase);
        self.write(&frame.data, pts)
    }

    /// Writes one frame's bytes with a timestamp in the header's timebase.
    pub fn write(&mut self, data: &[u8], pts: i64) -> Result<()> {
        if data.len() > MAX_FRAME_SIZE {
            return Err(MediaError::invalid(
                FORMAT,
                format!(
                    "a frame of {} bytes is over the {MAX_FRAME_SIZE}-byte limit; split or drop it",
                    data.len()
                ),
            ));
        }
        self.frames = self.frames.checked_add(1).ok_or_else(|| {
            MediaError::invalid(
                FORMAT,
                "more than 2^32 - 1 frames do not fit the frame count; start a new file".into(),
            )
        })?;
        let mut fh = [0u8; IVF_FRAME_HEADER_LEN];
        fh[0..4].copy_from_slice(&(data.len() as u32).to_le_bytes());
        fh[4..12].copy_from_slice(&pts.to_le_bytes());
        self.sink.write_all(&fh, "writing a frame header")?;
        self.sink.write_all(data, "writing a frame")
    }

    /// Frames written so far.
    pub fn frames_written(&self) -> u32 {
        self.frames
    }

    /// Patches the frame count (seekable sinks), flushes and returns the sink.
    pub fn finish(mut self) -> Result<W> {
        if self.sink.can_patch() && self.frames != self.header.frame_count {
            self.sink
                .patch(24, &self.frames.to_le_bytes(), "patching the frame count")?;
        }
        self.sink.flush_into_inner()
    }

    fn start(mut sink: PosWriter<W>, header: IvfHeader) -> Result<Self> {
        sink.write_all(&header.to_bytes(), "writing the file header")?;
        Ok(IvfWriter {
            sink,
            header,
            frames: 0,
        })
    }
}

impl<W: Write + Seek> IvfWriter<W> {
    /// Writes `header` to a seekable sink; [`IvfWriter::finish`] patches the frame count.
    pub fn new_seekable(sink: W, header: IvfHeader) -> Result<Self> {
        Self::start(PosWriter::seekable(sink, FORMAT)?, header)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::VideoCodec;
    use crate::frame::Timebase;
    use crate::ivf::IvfReader;
    use std::io::Cursor;

    #[test]
    fn frame_count_patched_on_seekable_sink_only() {
        let h = IvfHeader::new(VideoCodec::Vp9, 64, 48, Timebase::new(1, 30).unwrap());
        let mut w = IvfWriter::new_seekable(Cursor::new(Vec::new()), h).unwrap();
        w.write(&[1, 2, 3], 0).unwrap();
        w.write(&[4], 1).unwrap();
        let bytes = w.finish().unwrap().into_inner();
        assert_eq!(bytes.len(), 32 + 12 + 3 + 12 + 1);
        assert_eq!(bytes[24..28], 2u32.to_le_bytes());

        let mut w = IvfWriter::new(Vec::new(), IvfHeader { frame_count: 9, ..h }).unwrap();
        w.write(&[1], 0).unwrap();
        let bytes = w.finish().unwrap();
        assert_eq!(
            bytes[24..28],
            9u32.to_le_bytes(),
            "a stream keeps the count given up front"
        );

        let frames: Vec<Frame> = IvfReader::new(&bytes[..])
            .unwrap()
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(frames.len(), 1);
        assert_eq!((frames[0].data.clone(), frames[0].pts), (vec![1], 0));
    }

    #[test]
    fn timestamps_are_rescaled() {
        let h = IvfHeader::new(VideoCodec::Vp8, 64, 48, Timebase::new(1, 30).unwrap());
        let mut w = IvfWriter::new(Vec::new(), h).unwrap();
        let frame = Frame {
            data: vec![0],
            pts: 6000,
            timebase: Timebase::RTP_VIDEO,
            keyframe: false,
            duration: None,
        };
        w.write_frame(&frame).unwrap();
        let bytes = w.finish().unwrap();
        assert_eq!(bytes[36..44], 2i64.to_le_bytes()); // 6000 / 90 kHz = 1/15 s = 2 frames at 30 fps
    }
}
