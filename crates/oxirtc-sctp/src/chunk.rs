//! SCTP chunks (RFC 9260 §3.2, §3.3; RFC 3758 §3.2; RFC 6525 §3.1): a borrowing parser and encoders.

use crate::reader::{padded, Reader, TlvIter};
use crate::SctpError;

/// Chunk type numbers (RFC 9260 §3.2, RFC 3758 §3.2, RFC 6525 §3.1).
pub mod ty {
    /// Payload Data.
    pub const DATA: u8 = 0;
    /// Initiation.
    pub const INIT: u8 = 1;
    /// Initiation Acknowledgement.
    pub const INIT_ACK: u8 = 2;
    /// Selective Acknowledgement.
    pub const SACK: u8 = 3;
    /// Heartbeat Request.
    pub const HEARTBEAT: u8 = 4;
    /// Heartbeat Acknowledgement.
    pub const HEARTBEAT_ACK: u8 = 5;
    /// Abort.
    pub const ABORT: u8 = 6;
    /// Shutdown.
    pub const SHUTDOWN: u8 = 7;
    /// Shutdown Acknowledgement.
    pub const SHUTDOWN_ACK: u8 = 8;
    /// Operation Error.
    pub const ERROR: u8 = 9;
    /// State Cookie echo.
    pub const COOKIE_ECHO: u8 = 10;
    /// Cookie Acknowledgement.
    pub const COOKIE_ACK: u8 = 11;
    /// Shutdown Complete.
    pub const SHUTDOWN_COMPLETE: u8 = 14;
    /// Re-configuration (RFC 6525 §3.1).
    pub const RECONFIG: u8 = 130;
    /// Padding (RFC 4820 §3). The upper bits `10` tell a receiver that does not know it to skip it
    /// silently and go on with the packet (RFC 9260 §3.2), so a PLPMTUD probe is safe to any peer.
    pub const PAD: u8 = 0x84;
    /// Forward Cumulative TSN (RFC 3758 §3.2).
    pub const FORWARD_TSN: u8 = 192;
}

/// DATA chunk flag bits (RFC 9260 §3.3.1; I bit from RFC 7053).
pub mod data_flags {
    /// Last fragment.
    pub const END: u8 = 0x01;
    /// First fragment.
    pub const BEGIN: u8 = 0x02;
    /// Unordered.
    pub const UNORDERED: u8 = 0x04;
    /// SACK-IMMEDIATELY (RFC 7053 §3).
    pub const IMMEDIATE: u8 = 0x08;
}

/// A DATA chunk (RFC 9260 §3.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataChunk<'a> {
    /// Flag bits, see [`data_flags`].
    pub flags: u8,
    /// Transmission Sequence Number.
    pub tsn: u32,
    /// Stream identifier.
    pub stream: u16,
    /// Stream sequence number.
    pub ssn: u16,
    /// Payload protocol identifier.
    pub ppid: u32,
    /// The user data (at least one byte).
    pub payload: &'a [u8],
}

impl DataChunk<'_> {
    /// The B bit: first fragment of a message.
    pub fn begin(&self) -> bool {
        self.flags & data_flags::BEGIN != 0
    }
    /// The E bit: last fragment of a message.
    pub fn end(&self) -> bool {
        self.flags & data_flags::END != 0
    }
    /// The U bit: unordered delivery.
    pub fn unordered(&self) -> bool {
        self.flags & data_flags::UNORDERED != 0
    }
}

/// An INIT or INIT ACK chunk (RFC 9260 §3.3.2, §3.3.3); parameters stay raw, see [`InitChunk::params`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InitChunk<'a> {
    /// Initiate Tag: the verification tag the sender expects on packets sent to it.
    pub initiate_tag: u32,
    /// Advertised receiver window credit.
    pub a_rwnd: u32,
    /// Number of outbound streams.
    pub num_outbound_streams: u16,
    /// Number of inbound streams.
    pub num_inbound_streams: u16,
    /// Initial TSN.
    pub initial_tsn: u32,
    /// The optional/variable-length parameters, already checked to be well framed.
    pub params_raw: &'a [u8],
}

impl<'a> InitChunk<'a> {
    /// The parameters (RFC 9260 §3.2.1).
    pub fn params(&self) -> TlvIter<'a> {
        TlvIter::new(self.params_raw)
    }
}

/// A SACK chunk (RFC 9260 §3.3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SackChunk<'a> {
    /// Cumulative TSN Ack.
    pub cum_tsn_ack: u32,
    /// Advertised receiver window credit.
    pub a_rwnd: u32,
    gaps: &'a [u8],
    dups: &'a [u8],
}

impl<'a> SackChunk<'a> {
    /// A SACK without gap blocks or duplicates (the cumulative ack a SHUTDOWN carries, RFC 9260 §9.2).
    pub fn cum_only(cum_tsn_ack: u32, a_rwnd: u32) -> Self {
        Self {
            cum_tsn_ack,
            a_rwnd,
            gaps: &[],
            dups: &[],
        }
    }

    /// Gap Ack Blocks as (start, end) offsets from the cumulative TSN ack.
    pub fn gap_blocks(&self) -> impl Iterator<Item = (u16, u16)> + 'a {
        self.gaps
            .chunks_exact(4)
            .map(|b| (u16::from_be_bytes([b[0], b[1]]), u16::from_be_bytes([b[2], b[3]])))
    }
    /// Duplicate TSNs.
    pub fn dup_tsns(&self) -> impl Iterator<Item = u32> + 'a {
        self.dups
            .chunks_exact(4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// A FORWARD TSN chunk (RFC 3758 §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForwardTsnChunk<'a> {
    /// The new cumulative TSN.
    pub new_cum_tsn: u32,
    streams: &'a [u8],
}

impl<'a> ForwardTsnChunk<'a> {
    /// The (stream, SSN) pairs of the skipped ordered messages.
    pub fn streams(&self) -> impl Iterator<Item = (u16, u16)> + 'a {
        self.streams
            .chunks_exact(4)
            .map(|b| (u16::from_be_bytes([b[0], b[1]]), u16::from_be_bytes([b[2], b[3]])))
    }
}

/// One parsed chunk. Values that are lists stay borrowed and are decoded lazily.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chunk<'a> {
    /// DATA (RFC 9260 §3.3.1).
    Data(DataChunk<'a>),
    /// INIT (RFC 9260 §3.3.2).
    Init(InitChunk<'a>),
    /// INIT ACK (RFC 9260 §3.3.3).
    InitAck(InitChunk<'a>),
    /// SACK (RFC 9260 §3.3.4).
    Sack(SackChunk<'a>),
    /// HEARTBEAT with its Heartbeat Info value (RFC 9260 §3.3.5).
    Heartbeat(&'a [u8]),
    /// HEARTBEAT ACK echoing the Heartbeat Info value (RFC 9260 §3.3.6).
    HeartbeatAck(&'a [u8]),
    /// ABORT (RFC 9260 §3.3.7): T bit and raw error causes.
    Abort {
        /// The T bit: the verification tag is reflected.
        t_bit: bool,
        /// Raw error causes (TLVs).
        causes: &'a [u8],
    },
    /// SHUTDOWN (RFC 9260 §3.3.8).
    Shutdown {
        /// Cumulative TSN Ack.
        cum_tsn_ack: u32,
    },
    /// SHUTDOWN ACK (RFC 9260 §3.3.9).
    ShutdownAck,
    /// ERROR (RFC 9260 §3.3.10): raw error causes (TLVs).
    Error(&'a [u8]),
    /// COOKIE ECHO (RFC 9260 §3.3.11).
    CookieEcho(&'a [u8]),
    /// COOKIE ACK (RFC 9260 §3.3.12).
    CookieAck,
    /// SHUTDOWN COMPLETE (RFC 9260 §3.3.13).
    ShutdownComplete {
        /// The T bit: the verification tag is reflected.
        t_bit: bool,
    },
    /// FORWARD TSN (RFC 3758 §3.2).
    ForwardTsn(ForwardTsnChunk<'a>),
    /// RE-CONFIG (RFC 6525 §3.1): raw parameters, see [`crate::ReconfigParam`].
    Reconfig(&'a [u8]),
    /// Any other chunk type; the upper two bits of `ty` say how to treat it (RFC 9260 §3.2).
    Unknown {
        /// Chunk type.
        ty: u8,
        /// Chunk flags.
        flags: u8,
        /// Value.
        value: &'a [u8],
    },
}

fn malformed(chunk: &'static str, reason: &'static str) -> SctpError {
    SctpError::Malformed { chunk, reason }
}

impl<'a> Chunk<'a> {
    /// Parses one chunk value of type `ty` (framing already checked by the packet parser).
    pub fn parse(ty: u8, flags: u8, value: &'a [u8]) -> Result<Chunk<'a>, SctpError> {
        let mut r = Reader::new(value);
        Ok(match ty {
            ty::DATA => Chunk::Data(parse_data(flags, &mut r)?),
            ty::INIT => Chunk::Init(parse_init("INIT", &mut r)?),
            ty::INIT_ACK => Chunk::InitAck(parse_init("INIT ACK", &mut r)?),
            ty::SACK => Chunk::Sack(parse_sack(&mut r)?),
            ty::HEARTBEAT | ty::HEARTBEAT_ACK => {
                // RFC 9260 §3.3.5: the value is one Heartbeat Info parameter (type 1).
                let mut it = TlvIter::new(value);
                let info = match it.next() {
                    Some(Ok(t)) if t.ty == 1 => t.value,
                    _ => return Err(malformed("HEARTBEAT", "no Heartbeat Info parameter")),
                };
                if ty == ty::HEARTBEAT {
                    Chunk::Heartbeat(info)
                } else {
                    Chunk::HeartbeatAck(info)
                }
            }
            ty::ABORT => Chunk::Abort {
                t_bit: flags & 1 != 0,
                causes: value,
            },
            ty::SHUTDOWN => Chunk::Shutdown {
                cum_tsn_ack: r.u32().ok_or(malformed("SHUTDOWN", "too short"))?,
            },
            ty::SHUTDOWN_ACK => Chunk::ShutdownAck,
            ty::ERROR => Chunk::Error(value),
            ty::COOKIE_ECHO => Chunk::CookieEcho(value),
            ty::COOKIE_ACK => Chunk::CookieAck,
            ty::SHUTDOWN_COMPLETE => Chunk::ShutdownComplete {
                t_bit: flags & 1 != 0,
            },
            ty::FORWARD_TSN => {
                let new_cum_tsn = r.u32().ok_or(malformed("FORWARD TSN", "too short"))?;
                let streams = r.rest();
                if !streams.len().is_multiple_of(4) {
                    return Err(malformed("FORWARD TSN", "stream list not a multiple of 4"));
                }
                Chunk::ForwardTsn(ForwardTsnChunk { new_cum_tsn, streams })
            }
            ty::RECONFIG => {
                TlvIter::validate(value)?;
                Chunk::Reconfig(value)
            }
            _ => Chunk::Unknown { ty, flags, value },
        })
    }

    /// The chunk type number.
    pub fn chunk_type(&self) -> u8 {
        match self {
            Chunk::Data(_) => ty::DATA,
            Chunk::Init(_) => ty::INIT,
            Chunk::InitAck(_) => ty::INIT_ACK,
            Chunk::Sack(_) => ty::SACK,
            Chunk::Heartbeat(_) => ty::HEARTBEAT,
            Chunk::HeartbeatAck(_) => ty::HEARTBEAT_ACK,
            Chunk::Abort { .. } => ty::ABORT,
            Chunk::Shutdown { .. } => ty::SHUTDOWN,
            Chunk::ShutdownAck => ty::SHUTDOWN_ACK,
            Chunk::Error(_) => ty::ERROR,
            Chunk::CookieEcho(_) => ty::COOKIE_ECHO,
            Chunk::CookieAck => ty::COOKIE_ACK,
            Chunk::ShutdownComplete { .. } => ty::SHUTDOWN_COMPLETE,
            Chunk::ForwardTsn(_) => ty::FORWARD_TSN,
            Chunk::Reconfig(_) => ty::RECONFIG,
            Chunk::Unknown { ty, .. } => *ty,
        }
    }

    /// Appends the chunk (header, value, padding) to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match *self {
            Chunk::Data(d) => encode_data(out, &d),
            Chunk::Init(i) => encode_init(out, ty::INIT, &i),
            Chunk::InitAck(i) => encode_init(out, ty::INIT_ACK, &i),
            Chunk::Sack(s) => {
                let start = begin(out, ty::SACK, 0);
                put32(out, s.cum_tsn_ack);
                put32(out, s.a_rwnd);
                put16(out, (s.gaps.len() / 4) as u16);
                put16(out, (s.dups.len() / 4) as u16);
                out.extend_from_slice(s.gaps);
                out.extend_from_slice(s.dups);
                finish(out, start);
            }
            Chunk::Heartbeat(info) => encode_heartbeat(out, ty::HEARTBEAT, &[info]),
            Chunk::HeartbeatAck(info) => encode_heartbeat(out, ty::HEARTBEAT_ACK, &[info]),
            Chunk::Abort { t_bit, causes } => encode_raw(out, ty::ABORT, u8::from(t_bit), causes),
            Chunk::Shutdown { cum_tsn_ack } => encode_raw(out, ty::SHUTDOWN, 0, &cum_tsn_ack.to_be_bytes()),
            Chunk::ShutdownAck => encode_raw(out, ty::SHUTDOWN_ACK, 0, &[]),
            Chunk::Error(causes) => encode_raw(out, ty::ERROR, 0, causes),
            Chunk::CookieEcho(c) => encode_raw(out, ty::COOKIE_ECHO, 0, c),
            Chunk::CookieAck => encode_raw(out, ty::COOKIE_ACK, 0, &[]),
            Chunk::ShutdownComplete { t_bit } => encode_raw(out, ty::SHUTDOWN_COMPLETE, u8::from(t_bit), &[]),
            Chunk::ForwardTsn(f) => {
                let start = begin(out, ty::FORWARD_TSN, 0);
                put32(out, f.new_cum_tsn);
                out.extend_from_slice(f.streams);
                finish(out, start);
            }
            Chunk::Reconfig(params) => encode_raw(out, ty::RECONFIG, 0, params),
            Chunk::Unknown { ty, flags, value } => encode_raw(out, ty, flags, value),
        }
    }
}

fn parse_data<'a>(flags: u8, r: &mut Reader<'a>) -> Result<DataChunk<'a>, SctpError> {
    let short = || malformed("DATA", "shorter than its 12-byte header");
    let tsn = r.u32().ok_or_else(short)?;
    let stream = r.u16().ok_or_else(short)?;
    let ssn = r.u16().ok_or_else(short)?;
    let ppid = r.u32().ok_or_else(short)?;
    let payload = r.rest();
    if payload.is_empty() {
        // RFC 9260 §6.2: a DATA chunk without user data is a protocol error ("No User Data").
        return Err(malformed("DATA", "no user data"));
    }
    Ok(DataChunk {
        flags,
        tsn,
        stream,
        ssn,
        ppid,
        payload,
    })
}

fn parse_init<'a>(name: &'static str, r: &mut Reader<'a>) -> Result<InitChunk<'a>, SctpError> {
    let short = || malformed(name, "shorter than its 16-byte fixed part");
    let chunk = InitChunk {
        initiate_tag: r.u32().ok_or_else(short)?,
        a_rwnd: r.u32().ok_or_else(short)?,
        num_outbound_streams: r.u16().ok_or_else(short)?,
        num_inbound_streams: r.u16().ok_or_else(short)?,
        initial_tsn: r.u32().ok_or_else(short)?,
        params_raw: r.rest(),
    };
    TlvIter::validate(chunk.params_raw)?;
    Ok(chunk)
}

fn parse_sack<'a>(r: &mut Reader<'a>) -> Result<SackChunk<'a>, SctpError> {
    let short = || malformed("SACK", "too short");
    let cum_tsn_ack = r.u32().ok_or_else(short)?;
    let a_rwnd = r.u32().ok_or_else(short)?;
    let n_gaps = usize::from(r.u16().ok_or_else(short)?);
    let n_dups = usize::from(r.u16().ok_or_else(short)?);
    let gaps = r.take(n_gaps * 4).ok_or_else(short)?;
    let dups = r.take(n_dups * 4).ok_or_else(short)?;
    if r.remaining() != 0 {
        return Err(malformed("SACK", "trailing bytes"));
    }
    Ok(SackChunk {
        cum_tsn_ack,
        a_rwnd,
        gaps,
        dups,
    })
}

pub(crate) fn put16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

pub(crate) fn put32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_be_bytes());
}

/// Starts a chunk; returns its offset for [`finish`].
pub(crate) fn begin(out: &mut Vec<u8>, ty: u8, flags: u8) -> usize {
    let start = out.len();
    out.extend_from_slice(&[ty, flags, 0, 0]);
    start
}

/// Writes the length of the chunk started at `start` and pads it to 4 bytes (RFC 9260 §3.2).
pub(crate) fn finish(out: &mut Vec<u8>, start: usize) {
    let len = out.len() - start;
    out[start + 2..start + 4].copy_from_slice(&(len as u16).to_be_bytes());
    out.resize(start + padded(len), 0);
}

/// Encodes a PAD chunk (RFC 4820 §3) of `len` bytes in all (header included; rounded down to a
/// multiple of 4, at least 4). The padding bytes are zero; a receiver ignores them.
pub fn encode_pad(out: &mut Vec<u8>, len: usize) {
    let len = len.clamp(4, 65_532) & !3;
    let start = begin(out, ty::PAD, 0);
    out.resize(start + len, 0);
    out[start + 2..start + 4].copy_from_slice(&(len as u16).to_be_bytes());
}

pub(crate) fn encode_raw(out: &mut Vec<u8>, ty: u8, flags: u8, value: &[u8]) {
    let start = begin(out, ty, flags);
    out.extend_from_slice(value);
    finish(out, start);
}

/// Encodes a DATA chunk (RFC 9260 §3.3.1).
pub fn encode_data(out: &mut Vec<u8>, d: &DataChunk<'_>) {
    let start = begin(out, ty::DATA, d.flags);
    put32(out, d.tsn);
    put16(out, d.stream);
    put16(out, d.ssn);
    put32(out, d.ppid);
    out.extend_from_slice(d.payload);
    finish(out, start);
}

/// Encodes an INIT or INIT ACK chunk with raw parameters (RFC 9260 §3.3.2).
pub fn encode_init(out: &mut Vec<u8>, chunk_type: u8, i: &InitChunk<'_>) {
    let start = begin(out, chunk_type, 0);
    put32(out, i.initiate_tag);
    put32(out, i.a_rwnd);
    put16(out, i.num_outbound_streams);
    put16(out, i.num_inbound_streams);
    put32(out, i.initial_tsn);
    out.extend_from_slice(i.params_raw);
    finish(out, start);
}

/// Encodes a HEARTBEAT (or ACK) whose Heartbeat Info is the concatenation of `info` (RFC 9260 §3.3.5).
pub fn encode_heartbeat(out: &mut Vec<u8>, chunk_type: u8, info: &[&[u8]]) {
    let start = begin(out, chunk_type, 0);
    crate::reader::put_tlv_parts(out, 1, info);
    finish(out, start);
}

/// Encodes a SACK (RFC 9260 §3.3.4) from gap blocks (offsets from `cum_tsn_ack`) and duplicate TSNs.
pub fn encode_sack(out: &mut Vec<u8>, cum_tsn_ack: u32, a_rwnd: u32, gaps: &[(u16, u16)], dups: &[u32]) {
    let start = begin(out, ty::SACK, 0);
    put32(out, cum_tsn_ack);
    put32(out, a_rwnd);
    put16(out, gaps.len() as u16);
    put16(out, dups.len() as u16);
    for &(s, e) in gaps {
        put16(out, s);
        put16(out, e);
    }
    for &d in dups {
        put32(out, d);
    }
    finish(out, start);
}

/// Encodes a FORWARD TSN (RFC 3758 §3.2).
pub fn encode_forward_tsn(out: &mut Vec<u8>, new_cum_tsn: u32, streams: &[(u16, u16)]) {
    let start = begin(out, ty::FORWARD_TSN, 0);
    put32(out, new_cum_tsn);
    for &(s, n) in streams {
        put16(out, s);
        put16(out, n);
    }
    finish(out, start);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(bytes: &[u8]) -> Chunk<'_> {
        let len = usize::from(u16::from_be_bytes([bytes[2], bytes[3]]));
        let c = Chunk::parse(bytes[0], bytes[1], &bytes[4..len]).unwrap();
        let mut again = Vec::new();
        c.encode(&mut again);
        assert_eq!(again, bytes, "re-encoding {c:?}");
        c
    }

    #[test]
    fn data_round_trip() {
        let mut out = Vec::new();
        let d = DataChunk {
            flags: 3,
            tsn: 9,
            stream: 2,
            ssn: 7,
            ppid: 51,
            payload: b"hello",
        };
        encode_data(&mut out, &d);
        assert_eq!(out.len(), 16 + 8);
        assert_eq!(round_trip(&out), Chunk::Data(d));
        assert!(d.begin() && d.end() && !d.unordered());
    }

    #[test]
    fn init_and_init_ack_round_trip() {
        for t in [ty::INIT, ty::INIT_ACK] {
            let mut params = Vec::new();
            crate::reader::put_tlv(&mut params, 0xC000, &[]);
            crate::reader::put_tlv(&mut params, 7, b"cookie!");
            let i = InitChunk {
                initiate_tag: 0xdead_beef,
                a_rwnd: 1 << 20,
                num_outbound_streams: 1024,
                num_inbound_streams: 65535,
                initial_tsn: 42,
                params_raw: &params,
            };
            let mut out = Vec::new();
            encode_init(&mut out, t, &i);
            let c = round_trip(&out);
            let got = match c {
                Chunk::Init(g) if t == ty::INIT => g,
                Chunk::InitAck(g) if t == ty::INIT_ACK => g,
                other => panic!("{other:?}"),
            };
            assert_eq!(got, i);
            assert_eq!(got.params().count(), 2);
        }
    }

    #[test]
    fn sack_round_trip() {
        let mut out = Vec::new();
        encode_sack(&mut out, 100, 5000, &[(2, 3), (5, 9)], &[99, 98]);
        let Chunk::Sack(s) = round_trip(&out) else {
            panic!()
        };
        assert_eq!(s.cum_tsn_ack, 100);
        assert_eq!(s.a_rwnd, 5000);
        assert_eq!(s.gap_blocks().collect::<Vec<_>>(), vec![(2, 3), (5, 9)]);
        assert_eq!(s.dup_tsns().collect::<Vec<_>>(), vec![99, 98]);
        // A count that runs past the chunk is malformed, not a panic.
        assert!(Chunk::parse(ty::SACK, 0, &out[4..out.len() - 4]).is_err());
    }

    #[test]
    fn control_chunks_round_trip() {
        let cases: Vec<(u8, u8, Vec<u8>)> = vec![
            (ty::ABORT, 1, vec![0, 12, 0, 4]),
            (ty::SHUTDOWN, 0, 77u32.to_be_bytes().to_vec()),
            (ty::SHUTDOWN_ACK, 0, vec![]),
            (ty::ERROR, 0, vec![0, 6, 0, 8, 0xAB, 0, 0, 4]),
            (ty::COOKIE_ECHO, 0, b"opaque cookie".to_vec()),
            (ty::COOKIE_ACK, 0, vec![]),
            (ty::SHUTDOWN_COMPLETE, 1, vec![]),
            (ty::RECONFIG, 0, vec![0, 16, 0, 12, 0, 0, 0, 1, 0, 0, 0, 1]),
            (0x3F, 5, vec![1, 2, 3]),
        ];
        for (t, flags, value) in cases {
            let mut out = Vec::new();
            encode_raw(&mut out, t, flags, &value);
            let c = round_trip(&out);
            assert_eq!(c.chunk_type(), t);
        }
    }

    #[test]
    fn heartbeat_and_forward_tsn_round_trip() {
        let mut out = Vec::new();
        encode_heartbeat(&mut out, ty::HEARTBEAT, &[b"abc", b"de"]);
        assert_eq!(round_trip(&out), Chunk::Heartbeat(b"abcde"));
        out.clear();
        encode_heartbeat(&mut out, ty::HEARTBEAT_ACK, &[b"x"]);
        assert_eq!(round_trip(&out), Chunk::HeartbeatAck(b"x"));
        out.clear();
        encode_forward_tsn(&mut out, 12345, &[(1, 2), (3, 4)]);
        let Chunk::ForwardTsn(f) = round_trip(&out) else {
            panic!()
        };
        assert_eq!(f.new_cum_tsn, 12345);
        assert_eq!(f.streams().collect::<Vec<_>>(), vec![(1, 2), (3, 4)]);
    }

    #[test]
    fn malformed_values_are_errors() {
        assert!(Chunk::parse(ty::DATA, 3, &[0; 12]).is_err()); // no user data
        assert!(Chunk::parse(ty::DATA, 3, &[0; 5]).is_err());
        assert!(Chunk::parse(ty::INIT, 0, &[0; 15]).is_err());
        assert!(Chunk::parse(ty::HEARTBEAT, 0, &[0, 2, 0, 4]).is_err());
        assert!(Chunk::parse(ty::FORWARD_TSN, 0, &[0, 0, 0, 1, 0, 1]).is_err());
        assert!(Chunk::parse(ty::SHUTDOWN, 0, &[0, 0]).is_err());
        assert!(Chunk::parse(ty::RECONFIG, 0, &[0, 13, 0, 40]).is_err());
    }
}
