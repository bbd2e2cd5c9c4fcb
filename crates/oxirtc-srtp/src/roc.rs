//! Packet index estimation from the 16-bit RTP sequence number: the rollover counter (ROC) of
//! RFC 3711 §3.3.1 and its Appendix A.

/// The largest SRTP packet index + 1: ROC (32 bits) || SEQ (16 bits) (RFC 3711 §3.2.1).
pub(crate) const SRTP_INDEX_LIMIT: u64 = 1 << 48;

/// Estimates the 48-bit index i = 2^16·v + SEQ of a packet with sequence number `seq`, given the
/// highest index seen so far, `highest` = 2^16·ROC + s_l (RFC 3711 §3.3.1): v is the one of
/// {ROC − 1, ROC, ROC + 1} that puts i closest to `highest` (Appendix A).
///
/// Two departures from the pseudocode, both at the edges of the index space:
/// - while ROC is 0, ROC − 1 would wrap to 2^32 − 1, an index no sender has used yet; like libsrtp
///   the estimate stays at ROC = 0 (a packet 2^15 or more behind the first one is taken as ahead);
/// - ROC + 1 past 2^32 − 1 is no index at all (the sender must have rekeyed, §3.3.1): `None`.
///
/// `None` therefore means "no valid index": the caller drops the packet. Nothing is updated here: the
/// caller moves `highest` only after the packet authenticated (§3.3.1: "After the packet has been
/// processed and authenticated").
pub(crate) fn estimate_index(highest: u64, seq: u16) -> Option<u64> {
    let roc = highest >> 16;
    let s_l = i64::from(highest as u16);
    let s = i64::from(seq);
    // RFC 3711 Appendix A, in signed arithmetic.
    let v = if s_l < 32_768 {
        if s - s_l > 32_768 {
            roc.checked_sub(1).unwrap_or(roc)
        } else {
            roc
        }
    } else if s_l - 32_768 > s {
        roc + 1
    } else {
        roc
    };
    let index = (v << 16) | u64::from(seq);
    (index < SRTP_INDEX_LIMIT).then_some(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(roc: u64, seq: u16) -> u64 {
        (roc << 16) | u64::from(seq)
    }

    #[test]
    fn in_order_and_small_reordering_keep_the_roc() {
        assert_eq!(estimate_index(idx(3, 1000), 1001), Some(idx(3, 1001)));
        assert_eq!(estimate_index(idx(3, 1000), 990), Some(idx(3, 990)));
        assert_eq!(estimate_index(idx(3, 40_000), 40_100), Some(idx(3, 40_100)));
        assert_eq!(estimate_index(idx(3, 40_000), 39_000), Some(idx(3, 39_000)));
    }

    #[test]
    fn wrap_from_65535_to_0_advances_the_roc() {
        assert_eq!(estimate_index(idx(0, 65_535), 0), Some(idx(1, 0)));
        assert_eq!(estimate_index(idx(0, 65_535), 5), Some(idx(1, 5)));
        assert_eq!(estimate_index(idx(7, 65_000), 100), Some(idx(8, 100)));
    }

    #[test]
    fn late_packet_from_before_the_wrap_takes_the_previous_roc() {
        // s_l = 3 in ROC 1: 65534 is two packets before the wrap, in ROC 0.
        assert_eq!(estimate_index(idx(1, 3), 65_534), Some(idx(0, 65_534)));
        assert_eq!(estimate_index(idx(9, 100), 60_000), Some(idx(8, 60_000)));
    }

    #[test]
    fn roc_zero_never_goes_negative() {
        // libsrtp's choice: with ROC 0, a sequence number far "behind" s_l is taken in ROC 0.
        assert_eq!(estimate_index(idx(0, 10), 65_530), Some(idx(0, 65_530)));
    }

    #[test]
    fn the_index_space_ends_at_2_pow_48() {
        let last_roc = u64::from(u32::MAX);
        assert_eq!(
            estimate_index(idx(last_roc, 65_000), 65_535),
            Some(idx(last_roc, 65_535))
        );
        assert_eq!(estimate_index(idx(last_roc, 65_000), 10), None);
    }

    #[test]
    fn distance_of_exactly_half_the_space() {
        // Appendix A's boundaries: SEQ - s_l == 32768 keeps ROC; s_l - 32768 == SEQ keeps ROC.
        assert_eq!(estimate_index(idx(2, 100), 32_868), Some(idx(2, 32_868)));
        assert_eq!(estimate_index(idx(2, 100), 32_869), Some(idx(1, 32_869)));
        assert_eq!(estimate_index(idx(2, 40_000), 7_232), Some(idx(2, 7_232)));
        assert_eq!(estimate_index(idx(2, 40_000), 7_231), Some(idx(3, 7_231)));
    }
}
