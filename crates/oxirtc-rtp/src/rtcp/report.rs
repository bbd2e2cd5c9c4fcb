//! Sender and receiver reports (RFC 3550 §6.4.1, §6.4.2) and their report blocks.

use super::header::{be32, begin, check_count, finish, need};
use super::{PT_RR, PT_SR};
use crate::packet::Ssrc;
use crate::RtpError;

const BLOCK_LEN: usize = 24;
const SENDER_INFO_LEN: usize = 20;

/// The sender information of an SR (RFC 3550 §6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SenderInfo {
    /// NTP timestamp, 32.32 fixed point.
    pub ntp_time: u64,
    /// The same instant in the RTP timestamp units of the stream.
    pub rtp_time: u32,
    /// Packets sent since the start.
    pub packet_count: u32,
    /// Payload octets sent since the start.
    pub octet_count: u32,
}

/// One reception report block (RFC 3550 §6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReportBlock {
    /// The source this block reports on.
    pub ssrc: Ssrc,
    /// Fraction lost since the last report, in 1/256.
    pub fraction_lost: u8,
    /// Cumulative packets lost, a signed 24-bit value.
    pub cumulative_lost: i32,
    /// Extended highest sequence number received.
    pub extended_highest_seq: u32,
    /// Interarrival jitter in timestamp units.
    pub jitter: u32,
    /// Middle 32 bits of the NTP time of the last SR received (LSR).
    pub last_sr: u32,
    /// Delay since that SR, in 1/65536 s (DLSR).
    pub delay_since_last_sr: u32,
}

impl ReportBlock {
    fn parse(b: &[u8]) -> Self {
        // 24-bit two's complement cumulative loss: shift into the top of an i32 and back.
        let lost = (be32(b, 4) << 8) as i32 >> 8;
        ReportBlock {
            ssrc: Ssrc(be32(b, 0)),
            fraction_lost: b[4],
            cumulative_lost: lost,
            extended_highest_seq: be32(b, 8),
            jitter: be32(b, 12),
            last_sr: be32(b, 16),
            delay_since_last_sr: be32(b, 20),
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.ssrc.0.to_be_bytes());
        // Clamp to the 24-bit signed range (RFC 3550 §6.4.1: the field saturates).
        let lost = self.cumulative_lost.clamp(-(1 << 23), (1 << 23) - 1) as u32 & 0x00ff_ffff;
        out.extend_from_slice(&((u32::from(self.fraction_lost) << 24) | lost).to_be_bytes());
        for v in [
            self.extended_highest_seq,
            self.jitter,
            self.last_sr,
            self.delay_since_last_sr,
        ] {
            out.extend_from_slice(&v.to_be_bytes());
        }
    }
}

/// The report blocks of an SR or RR, read on demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportBlocks<'a>(&'a [u8]);

impl<'a> ReportBlocks<'a> {
    /// Iterates the blocks.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = ReportBlock> + 'a {
        self.0.chunks_exact(BLOCK_LEN).map(ReportBlock::parse)
    }

    /// Number of blocks.
    pub fn len(&self) -> usize {
        self.0.len() / BLOCK_LEN
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A sender report (RFC 3550 §6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderReport<'a> {
    /// The sender.
    pub ssrc: Ssrc,
    /// Its sender information.
    pub info: SenderInfo,
    /// Reception report blocks.
    pub reports: ReportBlocks<'a>,
    /// Profile-specific extension bytes after the blocks (usually empty).
    pub extension: &'a [u8],
}

/// A receiver report (RFC 3550 §6.4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiverReport<'a> {
    /// The reporter.
    pub ssrc: Ssrc,
    /// Reception report blocks.
    pub reports: ReportBlocks<'a>,
    /// Profile-specific extension bytes after the blocks (usually empty).
    pub extension: &'a [u8],
}

impl<'a> SenderReport<'a> {
    pub(crate) fn parse(count: u8, body: &'a [u8]) -> Result<Self, RtpError> {
        let blocks_end = 4 + SENDER_INFO_LEN + BLOCK_LEN * usize::from(count);
        need("RTCP sender report", body, blocks_end)?;
        Ok(SenderReport {
            ssrc: Ssrc(be32(body, 0)),
            info: SenderInfo {
                ntp_time: (u64::from(be32(body, 4)) << 32) | u64::from(be32(body, 8)),
                rtp_time: be32(body, 12),
                packet_count: be32(body, 16),
                octet_count: be32(body, 20),
            },
            reports: ReportBlocks(&body[4 + SENDER_INFO_LEN..blocks_end]),
            extension: &body[blocks_end..],
        })
    }

    /// Appends an SR with up to 31 report blocks.
    pub fn write(
        ssrc: Ssrc,
        info: &SenderInfo,
        reports: &[ReportBlock],
        out: &mut Vec<u8>,
    ) -> Result<(), RtpError> {
        let count = check_count("RTCP sender report blocks", reports.len())?;
        let start = begin(out, count, PT_SR);
        out.extend_from_slice(&ssrc.0.to_be_bytes());
        out.extend_from_slice(&info.ntp_time.to_be_bytes());
        for v in [info.rtp_time, info.packet_count, info.octet_count] {
            out.extend_from_slice(&v.to_be_bytes());
        }
        reports.iter().for_each(|r| r.write(out));
        finish(out, start)
    }
}

impl<'a> ReceiverReport<'a> {
    pub(crate) fn parse(count: u8, body: &'a [u8]) -> Result<Self, RtpError> {
        let blocks_end = 4 + BLOCK_LEN * usize::from(count);
        need("RTCP receiver report", body, blocks_end)?;
        Ok(ReceiverReport {
            ssrc: Ssrc(be32(body, 0)),
            reports: ReportBlocks(&body[4..blocks_end]),
            extension: &body[blocks_end..],
        })
    }

    /// Appends an RR with up to 31 report blocks.
    pub fn write(ssrc: Ssrc, reports: &[ReportBlock], out: &mut Vec<u8>) -> Result<(), RtpError> {
        let count = check_count("RTCP receiver report blocks", reports.len())?;
        let start = begin(out, count, PT_RR);
        out.extend_from_slice(&ssrc.0.to_be_bytes());
        reports.iter().for_each(|r| r.write(out));
        finish(out, start)
    }
}
