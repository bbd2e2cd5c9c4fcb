//! Reads Opus packets from an Ogg Opus file (RFC 7845) page by page.

use std::io::Read;

use ogg::reading::{BasePacketReader, PageParser};
use ogg::OggReadError;

use super::head::{opus_packet_duration, OpusHead, OpusTags};
use crate::error::{MediaError, Result, MAX_FRAME_SIZE};
use crate::frame::{Frame, Timebase};
use crate::io::OffsetReader;

const FORMAT: &str = "Ogg Opus";
/// RFC 3533 §6: the fixed part of a page header.
const PAGE_HEADER_LEN: usize = 27;
/// RFC 3533 §6, header_type_flag bits.
const FLAG_BOS: u8 = 0x02;
const FLAG_EOS: u8 = 0x04;

/// Reads an Ogg Opus file from any `Read`: the OpusHead and OpusTags headers at once, then one
/// Opus packet at a time as a [`Frame`] at 48 kHz (memory: one page, at most 64 KiB, plus a
/// packet that spans pages, at most [`MAX_FRAME_SIZE`]).
///
/// Ogg pages come from the `ogg` crate's page parser, which checks each page's CRC (RFC 3533 §6).
/// Timestamps follow RFC 7845 §4: the first packet starts at `-pre_skip`; each packet lasts what
/// its TOC byte says (RFC 6716 §3.1), and the last packet of the stream is trimmed to the end
/// granule position of its page (§4.5). Only the first logical stream is read; pages of other
/// streams are skipped and reading stops at its end-of-stream page (a chained stream after it is
/// not read).
pub struct OggOpusReader<R> {
    src: OffsetReader<R>,
    packets: BasePacketReader,
    serial: u32,
    head: OpusHead,
    tags: OpusTags,
    /// Samples of all packets returned so far (the granule position where the next one starts).
    position: u64,
    /// Offset of the page the unread packets come from.
    page_offset: u64,
    /// Bytes of a packet continued onto the next page.
    continued: u64,
    /// The end-of-stream page has been pushed.
    eos: bool,
    failed: bool,
}

/// One page, parsed and CRC-checked.
struct Page {
    offset: u64,
    serial: u32,
    flags: u8,
    segments: usize,
    /// Bytes at the end of the page that belong to a packet continued on the next page.
    trailing_continued: u64,
    /// Whether some packet ends on this page.
    has_packet_end: bool,
    parsed: ogg::reading::OggPage,
}

impl<R: Read> OggOpusReader<R> {
    /// Reads the first logical stream's OpusHead and OpusTags packets (its first page must hold
    /// the OpusHead, RFC 7845 §3).
    pub fn new(src: R) -> Result<Self> {
        let mut src = OffsetReader::new(src, FORMAT);
        let first = loop {
            let page = read_page(&mut src)?.ok_or(MediaError::Truncated {
                format: FORMAT,
                what: "the first page (no Opus stream found before the end)",
                offset: 0,
                needed: PAGE_HEADER_LEN as u64,
                found: 0,
            })?;
            if page.flags & FLAG_BOS == 0 {
                return Err(MediaError::malformed(
                    FORMAT,
                    "page",
                    page.offset,
                    "no beginning-of-stream page holds an OpusHead packet; expected an Ogg Opus file".into(),
                ));
            }
            if page.segments > 0 {
                break page;
            }
        };
        let mut reader = OggOpusReader {
            src,
            packets: BasePacketReader::new(),
            serial: first.serial,
            head: OpusHead::new(1, 0),
            tags: OpusTags::default(),
            position: 0,
            page_offset: first.offset,
            continued: 0,
            eos: false,
            failed: false,
        };
        reader.push(first)?;
        let (offset, head) = reader.next_packet()?.ok_or_else(|| reader.missing("OpusHead"))?;
        reader.head = OpusHead::parse(&head.data, offset)?;
        let (offset, tags) = reader.next_packet()?.ok_or_else(|| reader.missing("OpusTags"))?;
        reader.tags = OpusTags::parse(&tags.data, offset)?;
        Ok(reader)
    }

    /// The identification header.
    pub fn head(&self) -> &OpusHead {
        &self.head
    }

    /// The comment header.
    pub fn tags(&self) -> &OpusTags {
        &self.tags
    }

    /// The Ogg serial number of the Opus stream.
    pub fn serial(&self) -> u32 {
        self.serial
    }

    /// The next Opus packet as a frame at 48 kHz ([`Timebase::OPUS`]) with its duration,
    /// `Ok(None)` after the last packet.
    pub fn read_packet(&mut self) -> Result<Option<Frame>> {
        let Some((offset, packet)) = self.next_packet()? else {
            return Ok(None);
        };
        let duration = opus_packet_duration(&packet.data).ok_or_else(|| {
            MediaError::malformed(
                FORMAT,
                "Opus packet",
                offset,
                format!(
                    "its TOC byte ({:02x?}) gives no valid duration (RFC 6716 §3.1); expected 2.5 to 120 ms",
                    packet.data.get(..2).unwrap_or(&[])
                ),
            )
        })?;
        let start = self.position;
        let mut duration = u64::from(duration);
        if packet.last_in_stream() {
            // RFC 7845 §4.5: the last page's granule position ends the stream, trimming its last packet.
            let end = packet.absgp_page();
            if end < start {
                return Err(MediaError::malformed(
                    FORMAT,
                    "end-of-stream page",
                    offset,
                    format!("granule position {end} is before the start ({start}) of its last packet"),
                ));
            }
            duration = duration.min(end - start);
        }
        self.position = start + duration;
        Ok(Some(Frame {
            data: packet.data,
            pts: start as i64 - i64::from(self.head.pre_skip),
            timebase: Timebase::OPUS,
            keyframe: true,
            duration: Some(duration),
        }))
    }

    /// The next packet of the Opus stream with the offset of the page it ends on.
    fn next_packet(&mut self) -> Result<Option<(u64, ogg::Packet)>> {
        loop {
            if let Some(p) = self.packets.read_packet() {
                return Ok(Some((self.page_offset, p)));
            }
            if self.eos {
                return Ok(None);
            }
            let Some(page) = read_page(&mut self.src)? else {
                if self.continued > 0 {
                    return Err(MediaError::Truncated {
                        format: FORMAT,
                        what: "a packet continued past the last page",
                        offset: self.src.offset(),
                        needed: 1,
                        found: 0,
                    });
                }
                return Ok(None); // no end-of-stream page: a recording cut short at a page boundary
            };
            if page.serial == self.serial {
                self.push(page)?;
            }
        }
    }

    /// Hands a page of the Opus stream to the packet reader, bounding a packet spread over pages.
    fn push(&mut self, page: Page) -> Result<()> {
        self.eos |= page.flags & FLAG_EOS != 0;
        if page.segments == 0 {
            return Ok(()); // no data; the ogg crate cannot take a continued empty page
        }
        self.continued = if page.has_packet_end { 0 } else { self.continued } + page.trailing_continued;
        if self.continued > MAX_FRAME_SIZE as u64 {
            return Err(MediaError::TooLarge {
                format: FORMAT,
                what: "packet spread over pages",
                offset: page.offset,
                size: self.continued,
                limit: MAX_FRAME_SIZE as u64,
            });
        }
        self.page_offset = page.offset;
        self.packets
            .push_page(page.parsed)
            .map_err(|e| ogg_error(e, page.offset))
    }

    fn missing(&self, what: &'static str) -> MediaError {
        MediaError::Truncated {
            format: FORMAT,
            what,
            offset: self.src.offset(),
            needed: 1,
            found: 0,
        }
    }
}

/// Yields packets until the end of the stream or the first error (then stops).
impl<R: Read> Iterator for OggOpusReader<R> {
    type Item = Result<Frame>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let item = self.read_packet().transpose();
        self.failed = matches!(item, Some(Err(_)));
        item
    }
}

/// Reads one page (RFC 3533 §6): the 27-byte header, the segment table, the body; the CRC is
/// checked by `ogg`'s page parser. `None` at a clean end of file.
fn read_page<R: Read>(src: &mut OffsetReader<R>) -> Result<Option<Page>> {
    let offset = src.offset();
    let mut header = [0u8; PAGE_HEADER_LEN];
    if !src.read_exact_or_eof(&mut header, "an Ogg page header")? {
        return Ok(None);
    }
    if &header[0..4] != b"OggS" {
        return Err(MediaError::BadSignature {
            format: FORMAT,
            expected: "the page capture pattern \"OggS\"",
            offset,
            found: header[0..4].to_vec(),
        });
    }
    let (mut parser, segments) = PageParser::new(header).map_err(|e| ogg_error(e, offset))?;
    let mut lacing = vec![0u8; segments];
    src.read_exact(&mut lacing, "an Ogg page's segment table")?;
    let has_packet_end = lacing.iter().any(|&l| l < 255);
    let trailing_continued = lacing
        .iter()
        .rev()
        .take_while(|&&l| l == 255)
        .map(|&l| u64::from(l))
        .sum::<u64>();
    let ends_continued = lacing.last().is_some_and(|&l| l == 255);
    let body_size = parser.parse_segments(lacing);
    let body = src.read_vec(body_size as u64, "an Ogg page body")?;
    let parsed = parser.parse_packet_data(body).map_err(|e| ogg_error(e, offset))?;
    Ok(Some(Page {
        offset,
        serial: u32::from_le_bytes([header[14], header[15], header[16], header[17]]),
        flags: header[5],
        segments,
        trailing_continued: if ends_continued { trailing_continued } else { 0 },
        has_packet_end,
        parsed,
    }))
}

fn ogg_error(e: OggReadError, offset: u64) -> MediaError {
    match e {
        OggReadError::HashMismatch(stored, computed) => MediaError::BadCrc {
            offset,
            stored,
            computed,
        },
        OggReadError::InvalidStreamStructVer(v) => MediaError::Unsupported {
            format: FORMAT,
            what: "Ogg stream structure version",
            offset,
            reason: format!("version {v} (RFC 3533 defines only version 0)"),
        },
        OggReadError::InvalidData => MediaError::malformed(
            FORMAT,
            "page",
            offset,
            "its continuation or beginning-of-stream flag contradicts the pages before it \
             (a page is missing or repeated)"
                .into(),
        ),
        other => MediaError::malformed(FORMAT, "page", offset, other.to_string()),
    }
}
