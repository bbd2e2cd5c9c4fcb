//! Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01
//! §3.1): packet status chunks (run-length, 1-bit and 2-bit vectors) and receive deltas in 250 µs
//! units, parsed as a view and built from (sequence number, arrival time) lists.

use super::feedback::{write_feedback_header, FMT_TWCC};
use super::header::{be16, finish, need};
use super::PT_RTPFB;
use crate::packet::seq::seq_diff;
use crate::packet::Ssrc;
use crate::RtpError;

/// One reference-time unit, in microseconds (§3.1: multiples of 64 ms).
pub const REFERENCE_TIME_UNIT_US: i64 = 64_000;
/// One receive-delta unit, in microseconds (§3.1.5: multiples of 250 µs).
pub const DELTA_UNIT_US: i64 = 250;

const NOT_RECEIVED: u8 = 0;
const SMALL_DELTA: u8 = 1;
const LARGE_DELTA: u8 = 2;
const WHAT: &str = "transport-cc feedback";

/// One packet's status in a transport-cc feedback message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TwccPacket {
    /// The transport-wide sequence number.
    pub seq: u16,
    /// Its arrival time in µs on the receiver's clock (reference time × 64 ms + the deltas so
    /// far), or `None` if it was not received.
    pub arrival_us: Option<i64>,
}

/// A transport-cc feedback message, validated at parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransportCc<'a> {
    /// The sender of the feedback.
    pub sender_ssrc: Ssrc,
    /// The media source field (ignored by the format; usually one of the streams).
    pub media_ssrc: Ssrc,
    /// Sequence number of the first packet reported.
    pub base_seq: u16,
    /// Number of packets reported, from `base_seq` on.
    pub status_count: u16,
    /// 24-bit reference time, in 64 ms units.
    pub reference_time: u32,
    /// Feedback packet count, to detect lost feedback.
    pub feedback_count: u8,
    chunks: &'a [u8],
    deltas: &'a [u8],
}

impl<'a> TransportCc<'a> {
    pub(crate) fn parse(sender_ssrc: Ssrc, media_ssrc: Ssrc, fci: &'a [u8]) -> Result<Self, RtpError> {
        need(WHAT, fci, 8)?;
        let status_count = be16(fci, 2);
        let mut statuses = 0usize;
        let mut delta_bytes = 0usize;
        let mut pos = 8;
        // Each chunk is 2 bytes, so the walk is bounded by the packet length.
        while statuses < usize::from(status_count) {
            need(WHAT, fci, pos + 2)?;
            let chunk = be16(fci, pos);
            pos += 2;
            let n = chunk_len(chunk).min(usize::from(status_count) - statuses);
            if chunk & 0x8000 == 0 {
                delta_bytes += n * delta_size(chunk_symbol(chunk, 0))?;
            } else {
                for i in 0..n {
                    delta_bytes += delta_size(chunk_symbol(chunk, i))?;
                }
            }
            statuses += n;
        }
        let end = pos + delta_bytes;
        need(WHAT, fci, end)?;
        if fci.len() - end > 3 {
            return Err(RtpError::TrailingBytes {
                what: WHAT,
                count: fci.len() - end,
            });
        }
        Ok(TransportCc {
            sender_ssrc,
            media_ssrc,
            base_seq: be16(fci, 0),
            status_count,
            reference_time: u32::from_be_bytes([0, fci[4], fci[5], fci[6]]),
            feedback_count: fci[7],
            chunks: &fci[8..pos],
            deltas: &fci[pos..end],
        })
    }

    /// Every reported packet in sequence order, with its arrival time if received.
    pub fn packets(&self) -> impl Iterator<Item = TwccPacket> + 'a {
        let symbols = self.chunks.chunks_exact(2).flat_map(|c| {
            let chunk = be16(c, 0);
            (0..chunk_len(chunk)).map(move |i| chunk_symbol(chunk, i))
        });
        let mut deltas = self.deltas;
        let mut time = i64::from(self.reference_time) * REFERENCE_TIME_UNIT_US;
        let base = self.base_seq;
        symbols
            .take(usize::from(self.status_count))
            .enumerate()
            .map(move |(i, sym)| {
                // Validated at parse: the delta bytes are there and no symbol is the reserved 3.
                let delta = match sym {
                    SMALL_DELTA => deltas.first().map(|d| (i64::from(*d), 1)),
                    LARGE_DELTA => deltas.get(..2).map(|d| (i64::from(be16(d, 0) as i16), 2)),
                    _ => None,
                };
                let arrival_us = delta.map(|(d, size)| {
                    deltas = &deltas[size..];
                    time += d * DELTA_UNIT_US;
                    time
                });
                // i < status_count ≤ 65535.
                TwccPacket {
                    seq: base.wrapping_add(i as u16),
                    arrival_us,
                }
            })
    }

    /// Appends a feedback message for `packets`: (sequence number, arrival time in µs or `None`
    /// if lost), in increasing sequence order across the wrap; gaps are reported as lost.
    ///
    /// The reference time is the first arrival rounded down to 64 ms (modulo 2^24 units on the
    /// wire); arrivals are rounded down to 250 µs. Deltas that do not fit 16 bits (about ±8 s
    /// between consecutive arrivals) are an error: split the list.
    pub fn write(
        sender_ssrc: Ssrc,
        media_ssrc: Ssrc,
        feedback_count: u8,
        packets: &[(u16, Option<i64>)],
        out: &mut Vec<u8>,
    ) -> Result<(), RtpError> {
        let Some(&(base_seq, _)) = packets.first() else {
            return Err(RtpError::TooMany {
                what: "transport-cc feedback without packets",
                count: 0,
                max: 0,
            });
        };
        let mut span = 1u32;
        for w in packets.windows(2) {
            let d = seq_diff(w[1].0, w[0].0);
            if d <= 0 {
                return Err(RtpError::Malformed {
                    what: "transport-cc packets to write",
                    reason: "sequence numbers must increase (across the wrap) without repeats",
                });
            }
            span += d as u32;
        }
        let Ok(status_count) = u16::try_from(span) else {
            return Err(RtpError::TooMany {
                what: "transport-cc statuses",
                count: span as usize,
                max: 65535,
            });
        };
        let reference = packets
            .iter()
            .find_map(|p| p.1)
            .unwrap_or(0)
            .div_euclid(REFERENCE_TIME_UNIT_US);
        let start = write_feedback_header(out, FMT_TWCC, PT_RTPFB, sender_ssrc, media_ssrc);
        out.extend_from_slice(&base_seq.to_be_bytes());
        out.extend_from_slice(&status_count.to_be_bytes());
        let reference_raw = (reference.rem_euclid(1 << 24) as u32) << 8 | u32::from(feedback_count);
        out.extend_from_slice(&reference_raw.to_be_bytes());
        let result = write_body(packets, reference * REFERENCE_TIME_UNIT_US, out);
        if let Err(e) = result {
            out.truncate(start);
            return Err(e);
        }
        finish(out, start)
    }
}

/// Writes chunks, then deltas.
fn write_body(packets: &[(u16, Option<i64>)], reference_us: i64, out: &mut Vec<u8>) -> Result<(), RtpError> {
    let mut enc = ChunkEncoder::default();
    for_each_status(packets, reference_us, |sym, _| {
        enc.push(sym, out);
        Ok(())
    })?;
    enc.flush(out);
    for_each_status(packets, reference_us, |sym, delta| {
        match sym {
            SMALL_DELTA => out.push(delta as u8),
            LARGE_DELTA => out.extend_from_slice(&(delta as i16).to_be_bytes()),
            _ => {}
        }
        Ok(())
    })
}

/// Calls `f(symbol, delta_ticks)` for every status from the first packet to the last, gaps lost.
fn for_each_status(
    packets: &[(u16, Option<i64>)],
    reference_us: i64,
    mut f: impl FnMut(u8, i64) -> Result<(), RtpError>,
) -> Result<(), RtpError> {
    let mut prev_ticks = 0i64;
    let mut prev_seq = None;
    for &(seq, arrival) in packets {
        if let Some(p) = prev_seq {
            for _ in 1..seq_diff(seq, p) {
                f(NOT_RECEIVED, 0)?;
            }
        }
        prev_seq = Some(seq);
        let Some(at) = arrival else {
            f(NOT_RECEIVED, 0)?;
            continue;
        };
        let ticks = (at - reference_us).div_euclid(DELTA_UNIT_US);
        let delta = ticks - prev_ticks;
        prev_ticks = ticks;
        let sym = match delta {
            0..=255 => SMALL_DELTA,
            -32768..=32767 => LARGE_DELTA,
            _ => {
                return Err(RtpError::OutOfRange {
                    what: "transport-cc receive delta (250 µs units)",
                    value: delta.unsigned_abs(),
                    max: 32767,
                })
            }
        };
        f(sym, delta)?;
    }
    Ok(())
}

/// Statuses one chunk carries (§3.1.3, §3.1.4).
fn chunk_len(chunk: u16) -> usize {
    match chunk >> 14 {
        0 | 1 => usize::from(chunk & 0x1fff),
        2 => 14,
        _ => 7,
    }
}

/// The `i`th symbol of a chunk (i < chunk_len).
fn chunk_symbol(chunk: u16, i: usize) -> u8 {
    match chunk >> 14 {
        0 | 1 => ((chunk >> 13) & 3) as u8,
        2 => ((chunk >> (13 - i)) & 1) as u8,
        _ => ((chunk >> (12 - 2 * i)) & 3) as u8,
    }
}

fn delta_size(symbol: u8) -> Result<usize, RtpError> {
    match symbol {
        NOT_RECEIVED => Ok(0),
        SMALL_DELTA => Ok(1),
        LARGE_DELTA => Ok(2),
        _ => Err(RtpError::Malformed {
            what: WHAT,
            reason: "packet status symbol 11 is reserved (§3.1.1)",
        }),
    }
}

/// Greedy chunk encoder: a run-length chunk when the buffered symbols are all the same, else a
/// 1-bit vector of 14 when none needs a large delta, else a 2-bit vector of 7.
#[derive(Default)]
struct ChunkEncoder {
    syms: [u8; 14],
    size: usize,
    all_same: bool,
    has_large: bool,
}

impl ChunkEncoder {
    fn can_add(&self, s: u8) -> bool {
        self.size < 7
            || (self.size < 14 && !self.has_large && s != LARGE_DELTA)
            || (self.size < 0x1fff && self.all_same && self.syms[0] == s)
    }

    fn push(&mut self, s: u8, out: &mut Vec<u8>) {
        while !self.can_add(s) {
            self.emit_one(false, out);
        }
        if self.size < 14 {
            self.syms[self.size] = s;
        }
        self.all_same = if self.size == 0 {
            true
        } else {
            self.all_same && self.syms[0] == s
        };
        self.has_large |= s == LARGE_DELTA;
        self.size += 1;
    }

    /// Emits one chunk from the front of the buffer. A vector chunk always stands for all its
    /// slots, so a partly filled one is only written at the end (`last`), where the slots past
    /// the status count are ignored by the reader.
    fn emit_one(&mut self, last: bool, out: &mut Vec<u8>) {
        let chunk = if self.all_same {
            let c = (u16::from(self.syms[0]) << 13) | self.size as u16;
            self.size = 0;
            c
        } else if !self.has_large && (self.size == 14 || last) {
            let c = self.vector(1, 14);
            self.size = 0;
            c
        } else {
            let c = self.vector(2, 7);
            let rest = self.size.saturating_sub(7);
            self.syms.copy_within(7..7 + rest, 0);
            self.size = rest;
            self.all_same = self.syms[..rest].iter().all(|&x| x == self.syms[0]);
            self.has_large = self.syms[..rest].contains(&LARGE_DELTA);
            c
        };
        out.extend_from_slice(&chunk.to_be_bytes());
    }

    fn vector(&self, bits: usize, slots: usize) -> u16 {
        let mut c: u16 = if bits == 1 { 0x8000 } else { 0xc000 };
        for i in 0..slots.min(self.size) {
            c |= u16::from(self.syms[i]) << (14 - bits * (i + 1));
        }
        c
    }

    fn flush(&mut self, out: &mut Vec<u8>) {
        while self.size > 0 {
            self.emit_one(true, out);
        }
    }
}
