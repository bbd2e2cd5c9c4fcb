//! Writing compound RTCP packets in the order RFC 3550 §6.1 requires: an SR or RR first, then an
//! SDES with a CNAME, then anything else. The order is enforced by types: [`Compound::sender_report`]
//! or [`Compound::receiver_report`] starts it, [`WithReport::cname`] must follow, and only then can
//! further packets be added. A single feedback packet written on its own (e.g. [`Nack::write`])
//! is a reduced-size packet (RFC 5506).
//!
//! [`Nack::write`]: super::Nack::write

use super::{ReceiverReport, ReportBlock, Sdes, SenderInfo, SenderReport};
use crate::packet::Ssrc;
use crate::RtpError;

/// Starts a compound packet.
#[derive(Debug)]
pub struct Compound;

impl Compound {
    /// Starts with a sender report; on error `out` is left as it was.
    pub fn sender_report<'o>(
        out: &'o mut Vec<u8>,
        ssrc: Ssrc,
        info: &SenderInfo,
        reports: &[ReportBlock],
    ) -> Result<WithReport<'o>, RtpError> {
        let start = out.len();
        SenderReport::write(ssrc, info, reports, out)?;
        Ok(WithReport { out, start })
    }

    /// Starts with a receiver report; on error `out` is left as it was.
    pub fn receiver_report<'o>(
        out: &'o mut Vec<u8>,
        ssrc: Ssrc,
        reports: &[ReportBlock],
    ) -> Result<WithReport<'o>, RtpError> {
        let start = out.len();
        ReceiverReport::write(ssrc, reports, out)?;
        Ok(WithReport { out, start })
    }
}

/// A compound with its report written; the CNAME comes next.
#[derive(Debug)]
pub struct WithReport<'o> {
    out: &'o mut Vec<u8>,
    start: usize,
}

impl<'o> WithReport<'o> {
    /// Adds the SDES CNAME (RFC 3550 §6.1). On error everything this compound wrote is removed.
    pub fn cname(self, ssrc: Ssrc, cname: &str) -> Result<CompoundBody<'o>, RtpError> {
        if let Err(e) = Sdes::write_cname(ssrc, cname, self.out) {
            self.out.truncate(self.start);
            return Err(e);
        }
        Ok(CompoundBody {
            out: self.out,
            start: self.start,
        })
    }
}

/// A compound whose mandatory part is written; add more packets with [`add`](Self::add).
#[derive(Debug)]
pub struct CompoundBody<'o> {
    out: &'o mut Vec<u8>,
    start: usize,
}

impl CompoundBody<'_> {
    /// Appends one more packet with any of this module's writers, e.g.
    /// `body.add(|out| Nack::write(me, them, lost, out))`.
    pub fn add(&mut self, write: impl FnOnce(&mut Vec<u8>) -> Result<(), RtpError>) -> Result<(), RtpError> {
        let before = self.out.len();
        let result = write(self.out);
        if result.is_err() {
            self.out.truncate(before);
        }
        result
    }

    /// The length of the compound so far.
    pub fn len(&self) -> usize {
        self.out.len() - self.start
    }

    /// Never true: a compound holds at least its report and SDES.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
