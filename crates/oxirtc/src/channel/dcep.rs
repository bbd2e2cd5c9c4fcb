//! The Data Channel Establishment Protocol messages (RFC 8832 §5), carried with PPID 50.

use std::time::Duration;

use crate::RtcError;

/// DATA_CHANNEL_ACK message type (RFC 8832 §8.2.1).
pub const MSG_ACK: u8 = 0x02;
/// DATA_CHANNEL_OPEN message type (RFC 8832 §8.2.1).
pub const MSG_OPEN: u8 = 0x03;
/// Longest label or protocol we accept from a peer. The wire format allows 65,535 bytes each; the W3C
/// API caps both at 65,535 too, so this is the protocol maximum, stated to make the bound visible.
pub const MAX_LABEL_LEN: usize = 65_535;

/// How a channel delivers messages: the DCEP channel type plus its reliability parameter
/// (RFC 8832 §5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ChannelReliability {
    /// Every message is delivered (retransmitted until acknowledged).
    #[default]
    Reliable,
    /// A message is retransmitted at most this many times (`maxRetransmits`).
    MaxRetransmits(u16),
    /// A message is given up after this long (`maxPacketLifeTime`, milliseconds on the wire).
    MaxPacketLifeTime(Duration),
}

/// A parsed DATA_CHANNEL_OPEN (RFC 8832 §5.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenMessage {
    /// Whether messages may arrive out of order (the 0x80 bit of the channel type).
    pub unordered: bool,
    /// The reliability policy.
    pub reliability: ChannelReliability,
    /// Priority (RFC 8832 §5.1; W3C webrtc-priority maps "very-low" to 128, "low" 256, "medium" 512,
    /// "high" 1024).
    pub priority: u16,
    /// The label (UTF-8; invalid bytes are replaced).
    pub label: String,
    /// The sub-protocol (UTF-8; invalid bytes are replaced).
    pub protocol: String,
}

/// A DCEP message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DcepMessage {
    /// DATA_CHANNEL_OPEN.
    Open(OpenMessage),
    /// DATA_CHANNEL_ACK.
    Ack,
}

// RFC 8832 §8.2.2: channel types.
const RELIABLE: u8 = 0x00;
const PARTIAL_RELIABLE_REXMIT: u8 = 0x01;
const PARTIAL_RELIABLE_TIMED: u8 = 0x02;
const UNORDERED_BIT: u8 = 0x80;

impl DcepMessage {
    /// Parses one DCEP message (RFC 8832 §5). Trailing bytes after the label and protocol are refused.
    pub fn parse(buf: &[u8]) -> Result<Self, RtcError> {
        let bad = |why: &'static str| RtcError::MalformedDcep(why);
        match buf.first() {
            Some(&MSG_ACK) if buf.len() == 1 => Ok(DcepMessage::Ack),
            Some(&MSG_ACK) => Err(bad("DATA_CHANNEL_ACK must be one byte")),
            Some(&MSG_OPEN) => parse_open(buf).map(DcepMessage::Open),
            Some(_) => Err(bad("unknown message type")),
            None => Err(bad("empty message")),
        }
    }

    /// Appends the wire form to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            DcepMessage::Ack => out.push(MSG_ACK),
            DcepMessage::Open(open) => encode_open(open, out),
        }
    }
}

fn parse_open(buf: &[u8]) -> Result<OpenMessage, RtcError> {
    let bad = |why: &'static str| RtcError::MalformedDcep(why);
    // RFC 8832 §5.1: type(1) channel type(1) priority(2) reliability(4) label len(2) protocol len(2).
    let header: &[u8; 12] = buf
        .get(..12)
        .and_then(|h| h.try_into().ok())
        .ok_or(bad("DATA_CHANNEL_OPEN shorter than its 12-byte header"))?;
    let channel_type = header[1];
    let priority = u16::from_be_bytes([header[2], header[3]]);
    let param = u32::from_be_bytes([header[4], header[5], header[6], header[7]]);
    let label_len = usize::from(u16::from_be_bytes([header[8], header[9]]));
    let protocol_len = usize::from(u16::from_be_bytes([header[10], header[11]]));
    if buf.len() != 12 + label_len + protocol_len {
        return Err(bad("label and protocol lengths do not match the message length"));
    }
    let label = String::from_utf8_lossy(&buf[12..12 + label_len]).into_owned();
    let protocol = String::from_utf8_lossy(&buf[12 + label_len..]).into_owned();
    let reliability = match channel_type & !UNORDERED_BIT {
        RELIABLE => ChannelReliability::Reliable,
        // RFC 8832 §5.1: the reliability parameter is the retransmission count or the lifetime in ms.
        PARTIAL_RELIABLE_REXMIT => {
            ChannelReliability::MaxRetransmits(u16::try_from(param).unwrap_or(u16::MAX))
        }
        PARTIAL_RELIABLE_TIMED => {
            ChannelReliability::MaxPacketLifeTime(Duration::from_millis(u64::from(param)))
        }
        _ => return Err(bad("unknown channel type")),
    };
    Ok(OpenMessage {
        unordered: channel_type & UNORDERED_BIT != 0,
        reliability,
        priority,
        label,
        protocol,
    })
}

fn encode_open(open: &OpenMessage, out: &mut Vec<u8>) {
    let (kind, param) = match open.reliability {
        ChannelReliability::Reliable => (RELIABLE, 0),
        ChannelReliability::MaxRetransmits(n) => (PARTIAL_RELIABLE_REXMIT, u32::from(n)),
        ChannelReliability::MaxPacketLifeTime(d) => (
            PARTIAL_RELIABLE_TIMED,
            u32::try_from(d.as_millis()).unwrap_or(u32::MAX),
        ),
    };
    let channel_type = kind | if open.unordered { UNORDERED_BIT } else { 0 };
    // Callers validate lengths (`Rtc::create_data_channel`); clamp anyway so the header never lies.
    let label = &open.label.as_bytes()[..open.label.len().min(MAX_LABEL_LEN)];
    let protocol = &open.protocol.as_bytes()[..open.protocol.len().min(MAX_LABEL_LEN)];
    out.extend_from_slice(&[MSG_OPEN, channel_type]);
    out.extend_from_slice(&open.priority.to_be_bytes());
    out.extend_from_slice(&param.to_be_bytes());
    out.extend_from_slice(&(label.len() as u16).to_be_bytes());
    out.extend_from_slice(&(protocol.len() as u16).to_be_bytes());
    out.extend_from_slice(label);
    out.extend_from_slice(protocol);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(msg: &DcepMessage) -> Vec<u8> {
        let mut out = Vec::new();
        msg.encode(&mut out);
        assert_eq!(&DcepMessage::parse(&out).unwrap(), msg);
        out
    }

    #[test]
    fn open_wire_format_matches_rfc8832_section_5_1() {
        let open = DcepMessage::Open(OpenMessage {
            unordered: true,
            reliability: ChannelReliability::MaxRetransmits(3),
            priority: 256,
            label: "chat".into(),
            protocol: "p".into(),
        });
        let wire = round_trip(&open);
        assert_eq!(
            wire,
            [3, 0x81, 1, 0, 0, 0, 0, 3, 0, 4, 0, 1, b'c', b'h', b'a', b't', b'p']
        );
    }

    #[test]
    fn every_reliability_round_trips() {
        for unordered in [false, true] {
            for reliability in [
                ChannelReliability::Reliable,
                ChannelReliability::MaxRetransmits(0),
                ChannelReliability::MaxPacketLifeTime(Duration::from_millis(100)),
            ] {
                round_trip(&DcepMessage::Open(OpenMessage {
                    unordered,
                    reliability,
                    priority: 0,
                    label: String::new(),
                    protocol: String::new(),
                }));
            }
        }
        assert_eq!(round_trip(&DcepMessage::Ack), [2]);
    }

    #[test]
    fn invalid_utf8_label_is_replaced_and_re_encodes_consistently() {
        // Fuzz regression (fuzz/corpus/dcep/regression-lossy-utf8-split): the label and protocol are
        // each invalid UTF-8 though their bytes together are valid; lossy parsing makes them longer.
        let wire = [3, 0, 4, 3, 0x24, 1, 0, 0, 0, 1, 0, 4, 0xda, 0x87, 0x24, 0, 1];
        let msg = DcepMessage::parse(&wire).unwrap();
        let mut out = Vec::new();
        msg.encode(&mut out);
        assert_eq!(DcepMessage::parse(&out).unwrap(), msg);
        let DcepMessage::Open(open) = msg else {
            panic!("an OPEN")
        };
        assert_eq!(open.label, "\u{fffd}");
    }

    #[test]
    fn malformed_messages_are_errors() {
        for bad in [
            &[][..],
            &[2, 0],
            &[3, 0, 0, 0],
            &[3, 0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            &[3, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, b'a'],
            &[3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, b'x'],
            &[9],
        ] {
            assert!(DcepMessage::parse(bad).is_err(), "{bad:?}");
        }
    }
}
