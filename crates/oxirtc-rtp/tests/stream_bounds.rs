//! The stream module under arbitrary input (CONTRIBUTING.md convention 9): random sequences of
//! sequence numbers (reordered, duplicated, lost, jumping, wrapping) and packet sizes never panic,
//! the bounded structures stay within their bounds, and what they hold or report stays true.
#![allow(clippy::unwrap_used)] // test set-up: a failure should panic loudly

use std::collections::HashSet;
use std::time::{Duration, Instant};

use oxirtc_rtp::packet::seq::SeqExtender;
use oxirtc_rtp::packet::{RtpHeader, RtpPacket, Ssrc};
use oxirtc_rtp::stream::*;
use proptest::prelude::*;

#[allow(clippy::disallowed_methods)] // the test owns the clock
fn t0() -> Instant {
    Instant::now()
}

/// One arrival: a sequence-number step (mostly small, sometimes huge), a time step in ms.
fn arrivals() -> impl Strategy<Value = Vec<(i32, u16)>> {
    let step = prop_oneof![
        8 => -20i32..=20,
        1 => -40_000i32..=40_000,
        1 => Just(0),
    ];
    prop::collection::vec((step, 0u16..=40), 1..600)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn receive_stats_and_nack_generator_stay_bounded(
        start in any::<u16>(),
        steps in arrivals(),
        max_missing in 1usize..200,
        rtt_ms in 0u64..300,
    ) {
        let config = NackConfig { max_missing, ..Default::default() };
        let mut nacks = NackGenerator::new(config);
        let mut stats = ReceiveStats::new();
        let mut received = HashSet::new();
        let mut model = SeqExtender::new();
        let (mut seq, mut now) = (start, t0());
        let rtt = Duration::from_millis(rtt_ms);
        for (i, (step, ms)) in steps.iter().enumerate() {
            seq = seq.wrapping_add_signed(*step as i16);
            now += Duration::from_millis(u64::from(*ms));
            stats.on_packet(now, seq, 90 * u32::from(seq), 100, 90_000);
            nacks.on_packet(now, seq);
            received.insert(model.extend(seq));
            prop_assert!(nacks.missing() <= max_missing);
            if let Some(list) = nacks.poll_nacks(now, rtt) {
                prop_assert!(list.len() <= max_missing);
                // Oldest first, and never a packet that was received.
                let highest = model.highest().unwrap();
                for pair in list.windows(2) {
                    prop_assert!(oxirtc_rtp::packet::seq::seq_newer(pair[1], pair[0]));
                }
                for s in list {
                    prop_assert!(!received.contains(&model.peek(*s)), "NACK for received {s}");
                    prop_assert!(model.peek(*s) < highest);
                }
            }
            // A poll leaves nothing due: what it did not send or drop waits for a later time.
            prop_assert!(nacks.poll_timeout().is_none_or(|t| t > now));
            if i % 50 == 0 {
                let block = stats.report_block(now, Ssrc(1));
                prop_assert!((-(1 << 23)..(1 << 23)).contains(&block.cumulative_lost));
            }
        }
        let c = stats.counters();
        prop_assert_eq!(c.packets_received, steps.len() as u64);
        prop_assert!(c.duplicates < c.packets_received);
        prop_assert!(c.jitter_seconds.is_finite() && c.jitter_seconds >= 0.0);
        let _ = nacks.take_keyframe_request();
        // With no more packets, driving the generator by its timeout empties it within the
        // maximum age (and one retry interval) of the last gap.
        let last_arrival = now;
        let mut polls = 0;
        while let Some(t) = nacks.poll_timeout() {
            now = now.max(t);
            let _ = nacks.poll_nacks(now, rtt);
            polls += 1;
            prop_assert!(polls <= 11 * max_missing, "the generator never empties");
        }
        let retry = rtt.max(Duration::from_millis(20));
        prop_assert!(now <= last_arrival + Duration::from_secs(1) + retry);
    }

    /// Without jumps, the loss is what RFC 3550 §A.3 says: expected (from the first packet to the
    /// highest) less received, duplicates included.
    #[test]
    fn loss_matches_the_definition_under_reordering_and_duplication(
        start in any::<u16>(),
        n in 1u16..2000,
        lost in prop::collection::vec(any::<bool>(), 2000),
        dup in prop::collection::vec(0u8..20, 2000),
        shuffles in prop::collection::vec((any::<usize>(), any::<bool>()), 120),
    ) {
        // The stream in order, minus losses, one in 20 duplicated, then reordered within blocks of
        // 40 (rotated, maybe reversed): nothing arrives 100 or more behind the highest, which
        // RFC 3550 §A.1 would take for a jump rather than a late packet.
        let mut order: Vec<u16> = Vec::new();
        for i in 0..n {
            if lost[usize::from(i)] && i % 3 == 0 {
                continue;
            }
            order.push(start.wrapping_add(i));
            if dup[usize::from(i)] == 0 {
                order.push(start.wrapping_add(i));
            }
        }
        for (block, (rotate, reverse)) in order.chunks_mut(40).zip(shuffles) {
            let len = block.len();
            block.rotate_left(rotate % len);
            if reverse {
                block.reverse();
            }
        }
        let mut stats = ReceiveStats::new();
        let mut ext = SeqExtender::new();
        let (mut first, mut highest) = (None, 0u64);
        for s in &order {
            stats.on_packet(t0(), *s, 0, 1, 90_000);
            let e = ext.extend(*s);
            first.get_or_insert(e);
            highest = highest.max(e);
        }
        let Some(first) = first else { return Ok(()) };
        let expected = (highest - first + 1) as i64;
        let c = stats.counters();
        prop_assert_eq!(c.packets_lost, expected - order.len() as i64);
        prop_assert_eq!(c.restarts, 0);
        let distinct: HashSet<_> = order.iter().collect();
        prop_assert_eq!(c.duplicates, (order.len() - distinct.len()) as u64);
    }

    /// The retransmission history holds the newest packets, byte for byte, within its bounds.
    #[test]
    fn retransmit_buffer_holds_a_suffix_within_bounds(
        start in any::<u16>(),
        sizes in prop::collection::vec((0usize..300, 0u8..3), 1..400),
        max_packets in 1usize..64,
        max_bytes in 12usize..4000,
    ) {
        let config = RetransmitConfig { max_packets, max_bytes, ..Default::default() };
        let mut b = RetransmitBuffer::new(config);
        let now = t0();
        let mut sent: Vec<(u16, Vec<u8>)> = Vec::new();
        let mut largest = 0;
        for (i, (payload_len, padding)) in sizes.iter().enumerate() {
            let seq = start.wrapping_add(i as u16);
            let header = RtpHeader { sequence_number: seq, payload_type: 96, ..Default::default() };
            let payload: Vec<u8> = (0..*payload_len).map(|j| (i + j) as u8).collect();
            let mut bytes = Vec::new();
            header.write(&payload, *padding * 4, &mut bytes).unwrap();
            let stored = b.insert(now, &RtpPacket::parse(&bytes).unwrap());
            let unpadded_len = 12 + payload_len;
            prop_assert_eq!(stored, unpadded_len <= max_bytes);
            if stored {
                largest = largest.max(unpadded_len);
                sent.push((seq, payload));
            }
            prop_assert!(b.len() <= max_packets);
            prop_assert!(b.held_bytes() <= max_bytes && b.capacity_bytes() <= max_bytes);
            // What is held is the newest packets, unbroken, each as it was written.
            let held = sent.iter().rev().take_while(|(s, _)| b.get(*s).is_some()).count();
            prop_assert_eq!(held, b.len());
            prop_assert_eq!(stored, b.get(seq).is_some());
            let mut bytes_held = 0;
            for (s, payload) in sent.iter().rev().take(held) {
                let p = b.get(*s).unwrap();
                prop_assert_eq!((p.sequence_number(), p.payload()), (*s, &payload[..]));
                prop_assert_eq!(p.padding_len(), 0);
                bytes_held += p.as_bytes().len();
            }
            prop_assert_eq!(bytes_held, b.held_bytes());
            // The ring wastes at most two packets' worth: the end left unused on a wrap, and the
            // part of the last evicted packet not yet overwritten.
            if held < sent.len() && held < max_packets {
                prop_assert!(b.held_bytes() + 2 * largest > max_bytes,
                    "{} held bytes of {}, largest {}", b.held_bytes(), max_bytes, largest);
            }
        }
    }
}
