//! INIT parameters (RFC 9260 §3.2.1, §3.3.2.1; RFC 3758 §3.1; RFC 5061 §4.2.7), RE-CONFIG parameters
//! (RFC 6525 §4) and error causes (RFC 9260 §3.3.10).

use crate::chunk::{put16, put32};
use crate::reader::{put_tlv, put_tlv_parts, Reader, Tlv};
use crate::SctpError;

/// Parameter and cause type numbers.
pub mod pty {
    /// Heartbeat Info (RFC 9260 §3.3.5).
    pub const HEARTBEAT_INFO: u16 = 1;
    /// State Cookie (RFC 9260 §3.3.3.1.1).
    pub const STATE_COOKIE: u16 = 7;
    /// Unrecognized Parameter (RFC 9260 §3.3.3.1.2).
    pub const UNRECOGNIZED_PARAM: u16 = 8;
    /// Outgoing SSN Reset Request (RFC 6525 §4.1).
    pub const OUTGOING_RESET: u16 = 13;
    /// Incoming SSN Reset Request (RFC 6525 §4.2).
    pub const INCOMING_RESET: u16 = 14;
    /// Re-configuration Response (RFC 6525 §4.4).
    pub const RECONFIG_RESPONSE: u16 = 16;
    /// Supported Extensions (RFC 5061 §4.2.7).
    pub const SUPPORTED_EXTENSIONS: u16 = 0x8008;
    /// Forward-TSN-Supported (RFC 3758 §3.1).
    pub const FORWARD_TSN_SUPPORTED: u16 = 0xC000;
    /// Zero Checksum Acceptable (RFC 9653 §4): its upper bits `10` make peers that do not know it
    /// skip it and continue.
    pub const ZERO_CHECKSUM_ACCEPTABLE: u16 = 0x8001;
}

/// RFC 9653 §4: the Error Detection Method Identifier of "SCTP over DTLS" (RFC 8261), the only
/// alternate method WebRTC has.
pub const EDMID_DTLS: u32 = 1;

/// Error cause codes (RFC 9260 §3.3.10).
pub mod cause {
    /// Invalid Stream Identifier.
    pub const INVALID_STREAM: u16 = 1;
    /// Stale Cookie Error.
    pub const STALE_COOKIE: u16 = 3;
    /// Unrecognized Chunk Type.
    pub const UNRECOGNIZED_CHUNK: u16 = 6;
    /// No User Data.
    pub const NO_USER_DATA: u16 = 9;
    /// User-Initiated Abort.
    pub const USER_ABORT: u16 = 12;
    /// Protocol Violation.
    pub const PROTOCOL_VIOLATION: u16 = 13;
}

/// What an INIT or INIT ACK announces beyond its fixed fields.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InitParams<'a> {
    /// The State Cookie (INIT ACK only).
    pub cookie: Option<&'a [u8]>,
    /// The peer supports FORWARD TSN (RFC 3758 §3.1, or 0xC0 in Supported Extensions).
    pub forward_tsn: bool,
    /// The peer supports RE-CONFIG (0x82 in Supported Extensions, RFC 6525 §3.1).
    pub reconfig: bool,
    /// The peer accepts a zero checksum on SCTP over DTLS (RFC 9653 §4, EDMID 1).
    pub zero_checksum_dtls: bool,
    /// The peer lists the PAD chunk (0x84, RFC 4820 §3) in Supported Extensions: it takes PLPMTUD probes
    /// padded with PAD. A peer that does not list it gets probes padded inside the Heartbeat Info instead,
    /// since some stacks drop the whole packet (or die) on a chunk type they do not know.
    pub pad: bool,
}

impl<'a> InitParams<'a> {
    /// Reads the parameters, treating unknown ones by the upper two bits of their type (RFC 9260 §3.2.1):
    /// `00`/`01` stop processing the remaining parameters, `10`/`11` skip and continue.
    pub fn read(params: impl Iterator<Item = Result<Tlv<'a>, SctpError>>) -> Result<Self, SctpError> {
        let mut out = InitParams::default();
        for p in params {
            let p = p?;
            match p.ty {
                pty::STATE_COOKIE => out.cookie = Some(p.value),
                pty::FORWARD_TSN_SUPPORTED => out.forward_tsn = true,
                pty::ZERO_CHECKSUM_ACCEPTABLE => {
                    out.zero_checksum_dtls |= p.value == EDMID_DTLS.to_be_bytes();
                }
                pty::SUPPORTED_EXTENSIONS => {
                    out.reconfig |= p.value.contains(&crate::chunk::ty::RECONFIG);
                    out.forward_tsn |= p.value.contains(&crate::chunk::ty::FORWARD_TSN);
                    out.pad |= p.value.contains(&crate::chunk::ty::PAD);
                }
                t if is_known(t) => {}
                t if t & 0x8000 == 0 => break,
                _ => {}
            }
        }
        Ok(out)
    }
}

/// Parameters this endpoint understands (and mostly ignores: addresses, cookie preservative, ECN, ...).
fn is_known(t: u16) -> bool {
    matches!(
        t,
        5 | 6
            | 9
            | 11
            | 12
            | 0x8000
            | pty::STATE_COOKIE
            | pty::FORWARD_TSN_SUPPORTED
            | pty::ZERO_CHECKSUM_ACCEPTABLE
            | pty::SUPPORTED_EXTENSIONS
    )
}

/// Upper bound on the Unrecognized Parameter bytes one INIT ACK carries.
const MAX_UNRECOGNIZED_REPORT: usize = 256;

/// RFC 9260 §3.2.1, §3.2.2: the Unrecognized Parameter parameters (type 8) an INIT ACK must carry for
/// the INIT's unknown parameters whose type has the 0x4000 bit set, up to where processing stops.
pub fn unrecognized_params_report<'a>(params: impl Iterator<Item = Result<Tlv<'a>, SctpError>>) -> Vec<u8> {
    let mut out = Vec::new();
    for p in params {
        let Ok(p) = p else { break };
        if is_known(p.ty) {
            continue;
        }
        let report = p.ty & 0x4000 != 0;
        if report && out.len() + 8 + p.value.len() <= MAX_UNRECOGNIZED_REPORT {
            let header = [p.ty.to_be_bytes(), ((4 + p.value.len()) as u16).to_be_bytes()].concat();
            let pad = [0u8; 3];
            let padding = &pad[..crate::reader::padded(p.value.len()) - p.value.len()];
            put_tlv_parts(&mut out, pty::UNRECOGNIZED_PARAM, &[&header, p.value, padding]);
        }
        if p.ty & 0x8000 == 0 {
            break;
        }
    }
    out
}

/// Appends the parameters this endpoint announces in INIT / INIT ACK: Supported Extensions listing
/// RE-CONFIG, FORWARD TSN and PAD (RFC 5061 §4.2.7, RFC 4820 §3) and Forward-TSN-Supported (RFC 3758
/// §3.1). Every WebRTC stack needs these (RFC 8831 §6: partial reliability and stream reset), so unlike
/// Zero Checksum Acceptable they stay in a fallback INIT.
pub fn put_local_init_params(out: &mut Vec<u8>) {
    put_tlv(
        out,
        pty::SUPPORTED_EXTENSIONS,
        &[
            crate::chunk::ty::RECONFIG,
            crate::chunk::ty::FORWARD_TSN,
            crate::chunk::ty::PAD,
        ],
    );
    put_tlv(out, pty::FORWARD_TSN_SUPPORTED, &[]);
}

/// RFC 9653 §5.1: announces that packets with a zero checksum are accepted because the lower layer
/// (DTLS, RFC 8261) already detects errors.
pub fn put_zero_checksum_acceptable(out: &mut Vec<u8>) {
    put_tlv(out, pty::ZERO_CHECKSUM_ACCEPTABLE, &EDMID_DTLS.to_be_bytes());
}

/// Result codes of a Re-configuration Response (RFC 6525 §4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReconfigResult {
    /// 0: Success - Nothing to do.
    SuccessNothingToDo,
    /// 1: Success - Performed.
    SuccessPerformed,
    /// 2: Denied.
    Denied,
    /// 3: Error - Wrong SSN.
    ErrorWrongSsn,
    /// 4: Error - Request already in progress.
    ErrorRequestAlreadyInProgress,
    /// 5: Error - Bad Sequence Number.
    ErrorBadSequenceNumber,
    /// 6: In progress.
    InProgress,
    /// Any other value.
    Other(u32),
}

impl ReconfigResult {
    /// The wire value.
    pub fn to_u32(self) -> u32 {
        match self {
            Self::SuccessNothingToDo => 0,
            Self::SuccessPerformed => 1,
            Self::Denied => 2,
            Self::ErrorWrongSsn => 3,
            Self::ErrorRequestAlreadyInProgress => 4,
            Self::ErrorBadSequenceNumber => 5,
            Self::InProgress => 6,
            Self::Other(v) => v,
        }
    }

    /// From the wire value.
    pub fn from_u32(v: u32) -> Self {
        match v {
            0 => Self::SuccessNothingToDo,
            1 => Self::SuccessPerformed,
            2 => Self::Denied,
            3 => Self::ErrorWrongSsn,
            4 => Self::ErrorRequestAlreadyInProgress,
            5 => Self::ErrorBadSequenceNumber,
            6 => Self::InProgress,
            v => Self::Other(v),
        }
    }
}

/// One RE-CONFIG parameter (RFC 6525 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReconfigParam<'a> {
    /// Outgoing SSN Reset Request (RFC 6525 §4.1).
    OutgoingReset {
        /// Re-configuration Request Sequence Number.
        req_seq: u32,
        /// Re-configuration Response Sequence Number.
        resp_seq: u32,
        /// Sender's last assigned TSN.
        last_tsn: u32,
        /// Raw stream list (2 bytes each); empty means all streams.
        streams: &'a [u8],
    },
    /// Incoming SSN Reset Request (RFC 6525 §4.2).
    IncomingReset {
        /// Re-configuration Request Sequence Number.
        req_seq: u32,
        /// Raw stream list (2 bytes each).
        streams: &'a [u8],
    },
    /// Re-configuration Response (RFC 6525 §4.4).
    Response {
        /// Re-configuration Response Sequence Number.
        resp_seq: u32,
        /// Result.
        result: ReconfigResult,
    },
    /// Another parameter (SSN/TSN reset, add streams, ...), not supported here.
    Other(Tlv<'a>),
}

/// Decodes a raw list of 16-bit stream numbers.
pub fn stream_list(raw: &[u8]) -> impl Iterator<Item = u16> + '_ {
    raw.chunks_exact(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
}

impl<'a> ReconfigParam<'a> {
    /// Interprets one TLV of a RE-CONFIG chunk.
    pub fn parse(t: Tlv<'a>) -> Result<Self, SctpError> {
        let bad = SctpError::Malformed {
            chunk: "RE-CONFIG",
            reason: "bad parameter value",
        };
        let mut r = Reader::new(t.value);
        let p = match t.ty {
            pty::OUTGOING_RESET => {
                let (Some(req_seq), Some(resp_seq), Some(last_tsn)) = (r.u32(), r.u32(), r.u32()) else {
                    return Err(bad);
                };
                ReconfigParam::OutgoingReset {
                    req_seq,
                    resp_seq,
                    last_tsn,
                    streams: r.rest(),
                }
            }
            pty::INCOMING_RESET => {
                let Some(req_seq) = r.u32() else { return Err(bad) };
                ReconfigParam::IncomingReset {
                    req_seq,
                    streams: r.rest(),
                }
            }
            pty::RECONFIG_RESPONSE => {
                let (Some(resp_seq), Some(result)) = (r.u32(), r.u32()) else {
                    return Err(bad);
                };
                ReconfigParam::Response {
                    resp_seq,
                    result: ReconfigResult::from_u32(result),
                }
            }
            _ => return Ok(ReconfigParam::Other(t)),
        };
        let streams_ok = match p {
            ReconfigParam::OutgoingReset { streams, .. } | ReconfigParam::IncomingReset { streams, .. } => {
                streams.len() % 2 == 0
            }
            _ => true,
        };
        if streams_ok {
            Ok(p)
        } else {
            Err(bad)
        }
    }
}

/// Appends an Outgoing SSN Reset Request parameter (RFC 6525 §4.1).
pub fn put_outgoing_reset(out: &mut Vec<u8>, req_seq: u32, resp_seq: u32, last_tsn: u32, streams: &[u16]) {
    let mut v = Vec::with_capacity(12 + 2 * streams.len());
    put32(&mut v, req_seq);
    put32(&mut v, resp_seq);
    put32(&mut v, last_tsn);
    for &s in streams {
        put16(&mut v, s);
    }
    put_tlv(out, pty::OUTGOING_RESET, &v);
}

/// Appends an Incoming SSN Reset Request parameter (RFC 6525 §4.2).
pub fn put_incoming_reset(out: &mut Vec<u8>, req_seq: u32, streams: &[u16]) {
    let mut v = Vec::with_capacity(4 + 2 * streams.len());
    put32(&mut v, req_seq);
    for &s in streams {
        put16(&mut v, s);
    }
    put_tlv(out, pty::INCOMING_RESET, &v);
}

/// Appends a Re-configuration Response parameter without the optional TSN fields (RFC 6525 §4.4).
pub fn put_reconfig_response(out: &mut Vec<u8>, resp_seq: u32, result: ReconfigResult) {
    put_tlv_parts(
        out,
        pty::RECONFIG_RESPONSE,
        &[&resp_seq.to_be_bytes(), &result.to_u32().to_be_bytes()],
    );
}

/// Appends a whole RE-CONFIG chunk carrying one Outgoing SSN Reset Request (RFC 6525 §3.1, §4.1).
pub fn put_outgoing_reconfig_chunk(
    out: &mut Vec<u8>,
    req_seq: u32,
    resp_seq: u32,
    last_tsn: u32,
    streams: &[u16],
) {
    let mut value = Vec::new();
    put_outgoing_reset(&mut value, req_seq, resp_seq, last_tsn, streams);
    crate::chunk::encode_raw(out, crate::chunk::ty::RECONFIG, 0, &value);
}

/// Appends an error cause (RFC 9260 §3.3.10).
pub fn put_cause(out: &mut Vec<u8>, code: u16, info: &[u8]) {
    put_tlv(out, code, info);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::TlvIter;

    #[test]
    fn local_init_params_are_understood() {
        let mut v = Vec::new();
        put_local_init_params(&mut v);
        let p = InitParams::read(TlvIter::new(&v)).unwrap();
        assert!(p.forward_tsn && p.reconfig && p.cookie.is_none());
    }

    #[test]
    fn unknown_param_upper_bits() {
        let mut v = Vec::new();
        put_tlv(&mut v, 0x4001, b"x"); // 01: stop processing
        put_tlv(&mut v, pty::FORWARD_TSN_SUPPORTED, &[]);
        assert!(!InitParams::read(TlvIter::new(&v)).unwrap().forward_tsn);
        v.clear();
        put_tlv(&mut v, 0xC123, b"x"); // 11: skip and continue
        put_tlv(&mut v, pty::STATE_COOKIE, b"ck");
        assert_eq!(
            InitParams::read(TlvIter::new(&v)).unwrap().cookie,
            Some(&b"ck"[..])
        );
    }

    #[test]
    fn unrecognized_params_are_reported_by_their_upper_bits() {
        let mut v = Vec::new();
        put_tlv(&mut v, 0x8123, b"skip"); // 10: skip silently
        put_tlv(&mut v, 0xC006, b"abcde"); // 11: skip and report
        put_tlv(&mut v, pty::FORWARD_TSN_SUPPORTED, &[]);
        put_tlv(&mut v, 0x4001, b"xy"); // 01: stop and report
        put_tlv(&mut v, 0xC007, b"never"); // not reached
        let report = unrecognized_params_report(TlvIter::new(&v));
        let reported: Vec<_> = TlvIter::new(&report).map(|t| t.unwrap()).collect();
        assert_eq!(reported.len(), 2);
        assert!(reported.iter().all(|t| t.ty == pty::UNRECOGNIZED_PARAM));
        let inner: Vec<_> = reported
            .iter()
            .map(|t| TlvIter::new(t.value).next().unwrap().unwrap())
            .collect();
        assert_eq!(
            inner,
            vec![
                Tlv {
                    ty: 0xC006,
                    value: b"abcde"
                },
                Tlv {
                    ty: 0x4001,
                    value: b"xy"
                }
            ]
        );
    }

    #[test]
    fn reconfig_params_round_trip() {
        let mut v = Vec::new();
        put_outgoing_reset(&mut v, 7, 6, 1000, &[1, 3]);
        put_incoming_reset(&mut v, 8, &[5]);
        put_reconfig_response(&mut v, 9, ReconfigResult::InProgress);
        put_tlv(&mut v, 17, &[0; 4]);
        let ps: Vec<_> = TlvIter::new(&v)
            .map(|t| ReconfigParam::parse(t.unwrap()).unwrap())
            .collect();
        let ReconfigParam::OutgoingReset {
            req_seq: 7,
            resp_seq: 6,
            last_tsn: 1000,
            streams,
        } = ps[0]
        else {
            panic!("{:?}", ps[0])
        };
        assert_eq!(stream_list(streams).collect::<Vec<_>>(), vec![1, 3]);
        assert!(matches!(ps[1], ReconfigParam::IncomingReset { req_seq: 8, .. }));
        assert_eq!(
            ps[2],
            ReconfigParam::Response {
                resp_seq: 9,
                result: ReconfigResult::InProgress
            }
        );
        assert!(matches!(ps[3], ReconfigParam::Other(Tlv { ty: 17, .. })));
        for r in 0..8 {
            assert_eq!(ReconfigResult::from_u32(r).to_u32(), r);
        }
        assert!(ReconfigParam::parse(Tlv {
            ty: pty::OUTGOING_RESET,
            value: &[0; 13]
        })
        .is_err());
    }
}
