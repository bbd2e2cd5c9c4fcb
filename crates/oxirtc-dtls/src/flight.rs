//! Packing a flight into datagrams: handshake messages fragmented to the path MTU (RFC 6347 §4.1.1.1,
//! §4.2.3), several records per datagram (§4.1.1), fresh record sequence numbers on every
//! retransmission (§4.2.4).

use crate::{
    handshake::{msgs::FragmentHeader, msgs::HANDSHAKE_HEADER_LEN, FlightItem},
    record::{ContentType, RecordLayer},
};

/// Smallest MTU honoured: room for the largest record overhead, a fragment header and some payload.
pub const MIN_MTU: usize = 128;
/// Start a new datagram rather than send a fragment shorter than this.
const MIN_FRAGMENT: usize = 64;

/// Seals `flight` into datagrams of at most `mtu` bytes; returns them and the number of records.
pub(crate) fn pack(records: &mut RecordLayer, flight: &[FlightItem], mtu: usize) -> (Vec<Vec<u8>>, u64) {
    let mtu = mtu.max(MIN_MTU);
    let mut out = Vec::new();
    let mut cur = Vec::with_capacity(mtu);
    let mut count = 0;
    for item in flight {
        match item {
            FlightItem::ChangeCipherSpec { epoch } => {
                if cur.len() + records.overhead(*epoch) + 1 > mtu && !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                // RFC 5246 §7.1: the ChangeCipherSpec message is a single byte of value 1.
                count += u64::from(records.seal(&mut cur, ContentType::ChangeCipherSpec, *epoch, &[1]));
            }
            FlightItem::Handshake {
                epoch,
                msg_type,
                message_seq,
                body,
            } => {
                let mut offset = 0;
                loop {
                    let fixed = records.overhead(*epoch) + HANDSHAKE_HEADER_LEN;
                    let remaining = body.len() - offset;
                    let mut room = mtu.saturating_sub(cur.len() + fixed);
                    if room < remaining.min(MIN_FRAGMENT) && !cur.is_empty() {
                        out.push(std::mem::take(&mut cur));
                        room = mtu.saturating_sub(fixed);
                    }
                    let n = remaining.min(room.max(1));
                    let mut plain = Vec::with_capacity(HANDSHAKE_HEADER_LEN + n);
                    FragmentHeader {
                        msg_type: *msg_type,
                        length: body.len() as u32,
                        message_seq: *message_seq,
                        fragment_offset: offset as u32,
                        fragment_length: n as u32,
                    }
                    .encode(&mut plain);
                    plain.extend_from_slice(&body[offset..offset + n]);
                    count += u64::from(records.seal(&mut cur, ContentType::Handshake, *epoch, &plain));
                    offset += n;
                    if offset >= body.len() {
                        break;
                    }
                }
            }
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    (out, count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{fragment::Reassembler, handshake::msgs::FragmentHeader, record::Record};

    #[test]
    fn fragments_fit_the_mtu_and_reassemble() {
        let body: Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
        let flight = vec![
            FlightItem::Handshake {
                epoch: 0,
                msg_type: 11,
                message_seq: 0,
                body: body.clone(),
            },
            FlightItem::Handshake {
                epoch: 0,
                msg_type: 14,
                message_seq: 1,
                body: Vec::new(),
            },
        ];
        let mut layer = RecordLayer::new();
        let (dgrams, records) = pack(&mut layer, &flight, 300);
        assert!(dgrams.len() >= 11, "{}", dgrams.len());
        assert!(records as usize >= dgrams.len());
        let mut r = Reassembler::new();
        for d in dgrams.iter().rev() {
            assert!(d.len() <= 300);
            let mut rest = &d[..];
            while !rest.is_empty() {
                let (rec, tail) = Record::parse(rest).unwrap();
                rest = tail;
                let (h, frag, more) = FragmentHeader::parse(rec.fragment).unwrap();
                assert!(more.is_empty());
                r.insert(&h, frag, 0);
            }
        }
        let m = r.pop().unwrap();
        assert_eq!((m.msg_type, m.body), (11, body));
        assert_eq!(r.pop().unwrap().msg_type, 14);
    }
}
