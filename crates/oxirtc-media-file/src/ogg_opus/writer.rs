//! Writes Ogg Opus files (RFC 7845) through the `ogg` crate's page writer.

use std::io::{self, Write};

use ogg::writing::{PacketWriteEndInfo, PacketWriter};

use super::head::{opus_packet_duration, OpusHead, OpusTags};
use crate::error::{MediaError, Result, MAX_FRAME_SIZE};
use crate::frame::{Frame, Timebase};

const FORMAT: &str = "Ogg Opus";

/// A page is closed once its packets reach this many samples (1 s at 48 kHz), as libopusenc and
/// FFmpeg do: about 50 packets of 20 ms per page, a few KiB, so a reader waits at most 1 s for a
/// page and the per-page overhead stays under 1 %.
pub const PAGE_SAMPLES: u64 = 48_000;

/// Writes an Ogg Opus file: OpusHead on the first page, OpusTags ending the second (RFC 7845 §3),
/// then the audio packets with granule positions summed from their durations (RFC 7845 §4), the
/// last page flagged end-of-stream by [`OggOpusWriter::finish`].
///
/// The last packet is held back until the next one (or `finish`) so that it can end the stream.
pub struct OggOpusWriter<W: Write> {
    pages: PacketWriter<'static, Counting<W>>,
    serial: u32,
    /// Granule position after the pending packet (samples of all packets given).
    granule: u64,
    /// The packet given last, not yet handed to the page writer.
    pending: Option<Pending>,
    /// Samples of the packets on the open page.
    page_samples: u64,
    /// A packet shorter than its TOC duration ended the stream.
    trimmed: bool,
}

struct Pending {
    data: Vec<u8>,
    granule: u64,
    samples: u64,
    /// Must end its page (OpusTags, RFC 7845 §3).
    end_page: bool,
}

impl<W: Write> OggOpusWriter<W> {
    /// Writes OpusHead (alone on the first page) and holds OpusTags for the second page.
    /// `serial` is the Ogg stream serial number (any value; random ones help when files are
    /// chained).
    pub fn new(sink: W, head: &OpusHead, tags: &OpusTags, serial: u32) -> Result<Self> {
        let mut pages = PacketWriter::new(Counting {
            inner: sink,
            written: 0,
        });
        let bytes = head.to_bytes();
        pages
            .write_packet(bytes, serial, PacketWriteEndInfo::EndPage, 0)
            .map_err(|e| io_error(e, 0))?;
        Ok(OggOpusWriter {
            pages,
            serial,
            granule: 0,
            pending: Some(Pending {
                data: tags.to_bytes(),
                granule: 0,
                samples: 0,
                end_page: true,
            }),
            page_samples: 0,
            trimmed: false,
        })
    }

    /// Writes one Opus packet lasting `duration` samples at 48 kHz, or what its TOC byte says
    /// when `None`. A duration shorter than the TOC's trims the end of the stream (RFC 7845 §4.5)
    /// and must be the last packet.
    pub fn write_packet(&mut self, packet: &[u8], duration: Option<u32>) -> Result<()> {
        let toc = opus_packet_duration(packet).ok_or_else(|| {
            MediaError::invalid(
                FORMAT,
                "the packet's TOC byte gives no valid duration (RFC 6716 §3.1): not an Opus packet".into(),
            )
        })?;
        let samples = duration.unwrap_or(toc);
        if samples > toc {
            return Err(MediaError::invalid(
                FORMAT,
                format!(
                    "a duration of {samples} samples is longer than the packet's {toc}; give at most {toc}"
                ),
            ));
        }
        if self.trimmed {
            return Err(MediaError::invalid(
                FORMAT,
                "a packet after a trimmed (shortened) one: only the last packet of a stream may be trimmed"
                    .into(),
            ));
        }
        if packet.len() > MAX_FRAME_SIZE {
            return Err(MediaError::invalid(
                FORMAT,
                format!("a packet of {} bytes is over the limit", packet.len()),
            ));
        }
        self.trimmed = samples < toc;
        self.flush_pending(false)?;
        self.granule += u64::from(samples);
        self.pending = Some(Pending {
            data: packet.to_vec(),
            granule: self.granule,
            samples: u64::from(samples),
            end_page: false,
        });
        Ok(())
    }

    /// Writes a frame's data with its duration (rescaled to 48 kHz); its `pts` is not used: Ogg
    /// Opus timestamps are the running sum of durations.
    pub fn write_frame(&mut self, frame: &Frame) -> Result<()> {
        let duration = match frame.duration {
            Some(d) => {
                let d = frame
                    .timebase
                    .rescale(i64::try_from(d).unwrap_or(i64::MAX), Timebase::OPUS);
                Some(
                    u32::try_from(d)
                        .map_err(|_| MediaError::invalid(FORMAT, format!("a duration of {d} samples")))?,
                )
            }
            None => None,
        };
        self.write_packet(&frame.data, duration)
    }

    /// Samples written so far (the granule position of the last packet).
    pub fn granule_position(&self) -> u64 {
        self.granule
    }

    /// Writes the held-back packet on an end-of-stream page, flushes and returns the sink.
    pub fn finish(mut self) -> Result<W> {
        self.flush_pending(true)?;
        let mut sink = self.pages.into_inner();
        let offset = sink.written;
        sink.inner.flush().map_err(|e| io_error(e, offset))?;
        Ok(sink.inner)
    }

    fn flush_pending(&mut self, end_stream: bool) -> Result<()> {
        let Some(p) = self.pending.take() else {
            return Ok(());
        };
        self.page_samples += p.samples;
        let end = if end_stream {
            PacketWriteEndInfo::EndStream
        } else if p.end_page || self.page_samples >= PAGE_SAMPLES {
            PacketWriteEndInfo::EndPage
        } else {
            PacketWriteEndInfo::NormalPacket
        };
        if end != PacketWriteEndInfo::NormalPacket {
            self.page_samples = 0;
        }
        let offset = self.pages.inner().written;
        self.pages
            .write_packet(p.data, self.serial, end, p.granule)
            .map_err(|e| io_error(e, offset))
    }
}

/// Counts bytes for error messages.
struct Counting<W> {
    inner: W,
    written: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn io_error(source: io::Error, offset: u64) -> MediaError {
    MediaError::Io {
        format: FORMAT,
        action: "writing a page",
        offset,
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ogg_opus::OggOpusReader;

    #[test]
    fn granules_pages_and_end_trim() {
        let head = OpusHead::new(1, 312);
        let mut w = OggOpusWriter::new(Vec::new(), &head, &OpusTags::default(), 7).unwrap();
        for _ in 0..60 {
            w.write_packet(&[0xfc, 0xff], None).unwrap(); // CELT 20 ms
        }
        w.write_packet(&[0xfc, 0xfe], Some(100)).unwrap();
        assert!(
            w.write_packet(&[0xfc], None).is_err(),
            "nothing may follow a trimmed packet"
        );
        let bytes = w.finish().unwrap();

        let mut r = OggOpusReader::new(&bytes[..]).unwrap();
        assert_eq!((r.head(), r.serial()), (&head, 7));
        let frames: Vec<Frame> = r.by_ref().collect::<Result<_>>().unwrap();
        assert_eq!(frames.len(), 61);
        assert_eq!(frames[0].pts, -312);
        assert_eq!(frames[60].pts, 60 * 960 - 312);
        assert_eq!(frames[60].duration, Some(100));
        assert_eq!(frames[60].data, [0xfc, 0xfe]);
        assert_eq!(frames.iter().filter(|f| f.duration == Some(960)).count(), 60);
        // Pages: OpusHead, OpusTags, 50 packets (1 s), 11 packets with EOS.
        assert_eq!(bytes.windows(4).filter(|w| w == b"OggS").count(), 4);
    }

    #[test]
    fn empty_stream_still_ends() {
        let w = OggOpusWriter::new(Vec::new(), &OpusHead::new(2, 0), &OpusTags::default(), 1).unwrap();
        let bytes = w.finish().unwrap();
        let mut r = OggOpusReader::new(&bytes[..]).unwrap();
        assert!(r.read_packet().unwrap().is_none());
    }

    #[test]
    fn rejects_what_is_not_opus() {
        let mut w = OggOpusWriter::new(Vec::new(), &OpusHead::new(2, 0), &OpusTags::default(), 1).unwrap();
        assert!(w.write_packet(&[], None).is_err());
        assert!(w.write_packet(&[0xfc], Some(961)).is_err());
    }
}
