//! RTP congestion control feedback (RFC 8888 §3.1): per-SSRC report blocks of 16-bit packet
//! metrics (received, ECN, arrival time offset) and a report timestamp.

use super::feedback::FMT_CCFB;
use super::header::{be16, be32, begin, finish, need};
use super::PT_RTPFB;
use crate::packet::Ssrc;
use crate::RtpError;

/// ATO value for an arrival more than 8189/1024 s before the report timestamp (RFC 8888 §3.1).
pub const ATO_OVER_RANGE: u16 = 0x1ffe;
/// ATO value when the arrival time is unknown or after the report timestamp (RFC 8888 §3.1).
pub const ATO_UNAVAILABLE: u16 = 0x1fff;
/// Most packet metric blocks one report block may carry (RFC 8888 §3.1).
pub const MAX_REPORTS_PER_BLOCK: usize = 16384;

const WHAT: &str = "RTCP congestion control feedback (RFC 8888)";

/// One 16-bit packet metric block: R(1) ECN(2) ATO(13).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CcfbMetric {
    /// Whether the packet was received; when false the other fields are zero.
    pub received: bool,
    /// The echoed ECN bits (0 not-ECT, 1 ECT(1), 2 ECT(0), 3 CE).
    pub ecn: u8,
    /// Arrival time offset before the report timestamp in 1/1024 s (13 bits).
    pub ato: u16,
}

impl CcfbMetric {
    /// Decodes the 16-bit block; the ECN and ATO of a packet not received are ignored.
    pub fn from_raw(raw: u16) -> Self {
        if raw & 0x8000 == 0 {
            return CcfbMetric::default();
        }
        CcfbMetric {
            received: true,
            ecn: ((raw >> 13) & 3) as u8,
            ato: raw & 0x1fff,
        }
    }

    /// Encodes the 16-bit block (ECN and ATO masked to their widths; zero when not received).
    pub fn to_raw(self) -> u16 {
        if !self.received {
            return 0;
        }
        0x8000 | (u16::from(self.ecn & 3) << 13) | (self.ato & 0x1fff)
    }
}

/// One report block as parsed: an SSRC, the first sequence number and the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CcfbReport<'a> {
    /// The RTP stream reported on.
    pub ssrc: Ssrc,
    /// Sequence number of the first metric.
    pub begin_seq: u16,
    metrics: &'a [u8],
}

impl<'a> CcfbReport<'a> {
    /// The metrics with their sequence numbers, from `begin_seq` on.
    pub fn metrics(&self) -> impl ExactSizeIterator<Item = (u16, CcfbMetric)> + 'a {
        let begin = self.begin_seq;
        // At most 16384 metrics, so the index fits in a u16.
        self.metrics
            .chunks_exact(2)
            .enumerate()
            .map(move |(i, c)| (begin.wrapping_add(i as u16), CcfbMetric::from_raw(be16(c, 0))))
    }
}

/// An RFC 8888 feedback packet, validated at parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ccfb<'a> {
    /// The sender of the feedback.
    pub sender_ssrc: Ssrc,
    /// Report timestamp: the middle 32 bits of an NTP timestamp.
    pub report_timestamp: u32,
    blocks: &'a [u8],
}

impl<'a> Ccfb<'a> {
    /// Parses the body after the common header (sender SSRC first).
    pub(crate) fn parse(body: &'a [u8]) -> Result<Self, RtpError> {
        need(WHAT, body, 8)?;
        let blocks = &body[4..body.len() - 4];
        let mut pos = 0;
        while pos < blocks.len() {
            need(WHAT, blocks, pos + 8)?;
            let n = usize::from(be16(blocks, pos + 6));
            if n > MAX_REPORTS_PER_BLOCK {
                return Err(RtpError::Malformed {
                    what: WHAT,
                    reason: "a report block has more than 16384 metrics",
                });
            }
            pos += 8 + (2 * n).next_multiple_of(4);
            need(WHAT, blocks, pos)?;
        }
        Ok(Ccfb {
            sender_ssrc: Ssrc(be32(body, 0)),
            report_timestamp: be32(body, body.len() - 4),
            blocks,
        })
    }

    /// The report blocks, in order.
    pub fn reports(&self) -> impl Iterator<Item = CcfbReport<'a>> + 'a {
        let mut rest = self.blocks;
        std::iter::from_fn(move || {
            // Validated at parse: every block and its metrics are there.
            let head = rest.get(..8)?;
            let n = usize::from(be16(head, 6));
            let metrics = rest.get(8..8 + 2 * n)?;
            let report = CcfbReport {
                ssrc: Ssrc(be32(head, 0)),
                begin_seq: be16(head, 4),
                metrics,
            };
            rest = rest.get(8 + (2 * n).next_multiple_of(4)..)?;
            Some(report)
        })
    }

    /// Appends an RFC 8888 feedback packet: one block per `(ssrc, begin_seq, metrics)`.
    pub fn write(
        sender_ssrc: Ssrc,
        report_timestamp: u32,
        reports: &[(Ssrc, u16, &[CcfbMetric])],
        out: &mut Vec<u8>,
    ) -> Result<(), RtpError> {
        if let Some((_, _, m)) = reports.iter().find(|r| r.2.len() > MAX_REPORTS_PER_BLOCK) {
            return Err(RtpError::TooMany {
                what: "RFC 8888 metrics in one block",
                count: m.len(),
                max: 16384,
            });
        }
        let start = begin(out, FMT_CCFB, PT_RTPFB);
        out.extend_from_slice(&sender_ssrc.0.to_be_bytes());
        for (ssrc, begin_seq, metrics) in reports {
            out.extend_from_slice(&ssrc.0.to_be_bytes());
            out.extend_from_slice(&begin_seq.to_be_bytes());
            // Checked above: at most 16384.
            out.extend_from_slice(&(metrics.len() as u16).to_be_bytes());
            metrics
                .iter()
                .for_each(|m| out.extend_from_slice(&m.to_raw().to_be_bytes()));
            if metrics.len() % 2 == 1 {
                out.extend_from_slice(&[0, 0]);
            }
        }
        out.extend_from_slice(&report_timestamp.to_be_bytes());
        finish(out, start)
    }
}
