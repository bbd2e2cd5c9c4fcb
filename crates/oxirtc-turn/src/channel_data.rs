//! Channel numbers and the ChannelData message (RFC 8656 §12.4).

use crate::TurnError;

/// A TURN channel number, 0x4000..=0x4FFF (RFC 8656 §12). The newtype guarantees the range.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct ChannelNumber(u16);

impl ChannelNumber {
    /// The lowest valid channel number.
    pub const MIN: ChannelNumber = ChannelNumber(0x4000);
    /// The highest valid channel number.
    pub const MAX: ChannelNumber = ChannelNumber(0x4FFF);

    /// `Some` if `n` is in 0x4000..=0x4FFF (RFC 8656 §12.2).
    pub fn new(n: u16) -> Option<Self> {
        (Self::MIN.0..=Self::MAX.0)
            .contains(&n)
            .then_some(ChannelNumber(n))
    }

    /// `Some` if `n` is in RFC 5766's wider range 0x4000..=0x7FFF. RFC 8656 §12 reserves
    /// 0x5000..=0x7FFF, but RFC 5766 clients (coturn's among them) still pick numbers there, so the
    /// server accepts them; clients of this crate only use [`Self::new`]'s range.
    pub fn new_rfc5766(n: u16) -> Option<Self> {
        (Self::MIN.0..=0x7FFF).contains(&n).then_some(ChannelNumber(n))
    }

    /// The numeric value.
    pub fn get(self) -> u16 {
        self.0
    }
}

/// Length of the ChannelData header (RFC 8656 §12.4).
pub const CHANNEL_DATA_HEADER_LEN: usize = 4;

/// True if the first byte says "ChannelData": 64..=79 (RFC 8656 §12, RFC 7983), or up to 127 for
/// RFC 5766 channel numbers.
pub fn is_channel_data(buf: &[u8]) -> bool {
    matches!(buf.first(), Some(0x40..=0x7F))
}

/// A parsed ChannelData message borrowing the datagram.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ChannelData<'a> {
    /// The channel.
    pub channel: ChannelNumber,
    /// The application data (without padding).
    pub data: &'a [u8],
}

impl<'a> ChannelData<'a> {
    /// Parses one ChannelData message. RFC 8656 §12.6: the buffer must hold at least the claimed length;
    /// up to 3 bytes of padding after it are accepted (§12.5, mandatory over TCP), more is rejected.
    pub fn parse(buf: &'a [u8]) -> Option<Self> {
        let (head, rest) = buf.split_at_checked(CHANNEL_DATA_HEADER_LEN)?;
        let channel = ChannelNumber::new_rfc5766(u16::from_be_bytes([head[0], head[1]]))?;
        let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
        let data = rest.get(..len)?;
        if rest.len() - len > 3 {
            return None;
        }
        Some(ChannelData { channel, data })
    }

    /// Appends the message to `out`; `pad` adds the §12.5 padding to a multiple of 4 (TCP).
    ///
    /// RFC 8656 §12.4: the Length field is 16 bits, so `data` longer than 65535 bytes cannot be
    /// framed: that is [`TurnError::TooLarge`] and nothing is written (send less per message).
    pub fn encode(
        channel: ChannelNumber,
        data: &[u8],
        pad: bool,
        out: &mut Vec<u8>,
    ) -> Result<(), TurnError> {
        let len = u16::try_from(data.len()).map_err(|_| TurnError::TooLarge(data.len()))?;
        out.extend_from_slice(&channel.0.to_be_bytes());
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(data);
        if pad {
            // RFC 8656 §12.5: pad to a multiple of 4 bytes.
            let padded = data.len().div_ceil(4) * 4;
            out.resize(out.len() + padded - data.len(), 0);
        }
        Ok(())
    }
}

/// Length of the first TURN frame in a TCP byte stream (RFC 8656 §12.5, RFC 8489 §6.2.2): a STUN
/// message is 20 + length bytes, a ChannelData message 4 + length rounded up to 4. `None` until 4
/// bytes are available, or if the first byte is neither STUN (0..=3) nor ChannelData.
pub fn tcp_frame_len(buf: &[u8]) -> Option<usize> {
    let [b0, _, l0, l1, ..] = *buf else {
        return None;
    };
    let len = usize::from(u16::from_be_bytes([l0, l1]));
    match b0 {
        0..=3 => Some(20 + len),
        0x40..=0x7F => Some((4 + len).div_ceil(4) * 4),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_number_range() {
        assert!(ChannelNumber::new(0x3FFF).is_none());
        assert_eq!(ChannelNumber::new(0x4000), Some(ChannelNumber::MIN));
        assert_eq!(ChannelNumber::new(0x4FFF), Some(ChannelNumber::MAX));
        assert!(ChannelNumber::new(0x5000).is_none());
    }

    #[test]
    fn round_trip_with_and_without_padding() {
        let ch = ChannelNumber::new(0x4001).unwrap();
        for pad in [false, true] {
            let mut out = Vec::new();
            ChannelData::encode(ch, b"hello", pad, &mut out).unwrap();
            assert_eq!(out.len(), if pad { 12 } else { 9 });
            let parsed = ChannelData::parse(&out).unwrap();
            assert_eq!(parsed.channel, ch);
            assert_eq!(parsed.data, b"hello");
            assert_eq!(tcp_frame_len(&out), Some(12));
        }
    }

    #[test]
    fn rejects_short_reserved_and_overlong() {
        assert!(ChannelData::parse(&[0x40, 0x00, 0x00]).is_none());
        assert!(ChannelData::parse(&[0x40, 0x00, 0x00, 0x05, 1, 2]).is_none());
        assert!(ChannelData::parse(&[0x80, 0x00, 0x00, 0x00]).is_none());
        assert_eq!(
            ChannelData::parse(&[0x7F, 0xFF, 0x00, 0x00])
                .unwrap()
                .channel
                .get(),
            0x7FFF
        );
        assert!(ChannelNumber::new(0x7FFF).is_none());
        assert!(ChannelData::parse(&[0x40, 0x00, 0x00, 0x00, 0, 0, 0, 0]).is_none());
        assert_eq!(ChannelData::parse(&[0x40, 0x00, 0x00, 0x00]).unwrap().data, b"");
        assert_eq!(tcp_frame_len(&[0x80, 0, 0, 0]), None);
    }

    #[test]
    fn encode_refuses_data_the_16_bit_length_cannot_carry() {
        let ch = ChannelNumber::new(0x4001).unwrap();
        // RFC 8656 §12.4: 65535 bytes is the most one message carries; over TCP it pads to 65540.
        let mut out = Vec::new();
        ChannelData::encode(ch, &[7; 65_535], true, &mut out).unwrap();
        assert_eq!(out.len(), 65_540);
        assert_eq!(tcp_frame_len(&out), Some(out.len()));
        assert_eq!(ChannelData::parse(&out[..65_539]).unwrap().data.len(), 65_535);
        // One byte more does not fit: refused, nothing written (it used to write a 65535-byte
        // message padded for 65536, a frame whose length disagreed with its header).
        for pad in [false, true] {
            let mut out = vec![1, 2];
            assert_eq!(
                ChannelData::encode(ch, &[7; 65_536], pad, &mut out),
                Err(TurnError::TooLarge(65_536))
            );
            assert_eq!(out, [1, 2]);
        }
    }
}
