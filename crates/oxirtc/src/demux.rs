//! Demultiplexing one UDP port by the first byte of each datagram (RFC 7983 §7, updating RFC 5764 §5.1.2).

/// Which protocol a datagram belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PacketKind {
    /// STUN (ICE checks, consent, TURN control): first byte 0..=3.
    Stun,
    /// ZRTP: 16..=19. WebRTC does not use it; such datagrams are dropped.
    Zrtp,
    /// DTLS records: 20..=63.
    Dtls,
    /// TURN ChannelData: 64..=79.
    TurnChannel,
    /// RTP or RTCP: 128..=191.
    Rtp,
    /// Anything else: dropped (RFC 7983 §7: "the packet MUST be dropped").
    Unknown,
}

/// Classifies `datagram` by its first byte (RFC 7983 §7). An empty datagram is [`PacketKind::Unknown`].
pub fn classify(datagram: &[u8]) -> PacketKind {
    match datagram.first() {
        Some(0..=3) => PacketKind::Stun,
        Some(16..=19) => PacketKind::Zrtp,
        Some(20..=63) => PacketKind::Dtls,
        Some(64..=79) => PacketKind::TurnChannel,
        Some(128..=191) => PacketKind::Rtp,
        _ => PacketKind::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_first_byte_has_the_rfc7983_class() {
        for b in 0..=255u8 {
            let want = match b {
                0..=3 => PacketKind::Stun,
                16..=19 => PacketKind::Zrtp,
                20..=63 => PacketKind::Dtls,
                64..=79 => PacketKind::TurnChannel,
                128..=191 => PacketKind::Rtp,
                _ => PacketKind::Unknown,
            };
            assert_eq!(classify(&[b, 0, 0]), want, "first byte {b}");
        }
        assert_eq!(classify(&[]), PacketKind::Unknown);
    }
}
