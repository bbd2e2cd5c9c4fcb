//! Sending media on an [`Rtc`]: RTP packets and frames written to a transceiver go out with the
//! stream's SSRC, the negotiated payload type and header extensions (RFC 8285; mid RFC 8843 §15.2,
//! abs-send-time, transport-wide sequence numbers), protected with SRTP (RFC 3711 §3.3).

use std::time::Instant;

use oxirtc_rtp::codec::{Packetizer, Payloads};
use oxirtc_rtp::ext::Extension;
use oxirtc_rtp::packet::{RtpHeader, RtpPacket, Ssrc};
use oxirtc_rtp::stream::{RetransmitBuffer, RetransmitConfig, SendStats};

use super::transceivers::{receives, sends};
use super::Rtc;
use crate::media::{
    packetizer_for, send_codec, CodecParameters, OutgoingRtp, TransceiverId, ABS_SEND_TIME, MID,
    TRANSPORT_WIDE_CC,
};
use crate::{RtcError, Transmit};

/// Largest RTP packet we build before SRTP: the 1200-byte payload budget WebRTC stacks use, which
/// with SRTP's tag and UDP/IP headers stays under any path MTU of 1280 or more (RFC 8085 §3.2).
const MAX_RTP_PACKET: usize = 1200;

/// What the negotiation settled for sending on one section; recomputed when a description is
/// applied.
#[derive(Debug, Clone)]
pub(crate) struct SendParams {
    pub(crate) mid: String,
    /// The codecs the peer accepts on the section, in its preference order, with its payload types.
    pub(crate) codecs: Vec<CodecParameters>,
    mid_ext: Option<u8>,
    abs_send_time_ext: Option<u8>,
    transport_cc_ext: Option<u8>,
}

/// One RTP stream we send: the sequence and timestamp spaces, and the packetizer of its codec.
pub(crate) struct SendStream {
    pub(crate) id: TransceiverId,
    pub(crate) ssrc: u32,
    /// The negotiation these parameters come from (`Rtc::negotiations`).
    generation: u32,
    pub(crate) params: SendParams,
    /// RFC 3550 §5.1: the first sequence number and timestamp are random.
    next_seq: u16,
    /// `write_rtp`: our sequence number = theirs + this, fixed by their first packet, so that their
    /// gaps and order survive (a forwarded stream stays decodable).
    seq_offset: Option<u16>,
    timestamp_offset: u32,
    packetizer: Option<(u8, Box<dyn Packetizer + Send + Sync>)>,
    payloads: Payloads,
    pub(crate) packets_sent: u64,
    pub(crate) bytes_sent: u64,
    /// RFC 3550 §6.4.1 sender information and what the peer's report blocks say of the stream.
    pub(crate) stats: SendStats,
    /// The clock rate of the codec of the last packet (for the SR's RTP time).
    pub(crate) clock_rate: u32,
    /// Copies of the packets sent, to answer NACKs (when the codec negotiated them).
    pub(crate) history: Option<RetransmitBuffer>,
    /// The retransmission stream (RFC 4588 §4): its SSRC and next sequence number.
    pub(crate) rtx_ssrc: u32,
    pub(crate) rtx_seq: u16,
    pub(crate) retransmitted_packets: u64,
    pub(crate) retransmitted_bytes: u64,
    pub(crate) nacks_received: u64,
    pub(crate) plis_received: u64,
    pub(crate) firs_received: u64,
}

impl Rtc {
    /// The codec we send with on a transceiver (RFC 8829 §5.11: the peer's most preferred one that
    /// we support, with its payload type), once the negotiation lets us send on it.
    pub fn send_codec(&self, id: TransceiverId) -> Option<CodecParameters> {
        self.send_params(id).ok()?.codecs.into_iter().next()
    }

    /// Every codec we may send with on a transceiver, the peer's most preferred first, with the
    /// peer's payload types (empty before the negotiation allows sending): what a forwarder maps
    /// an incoming stream's payload type to.
    pub fn send_codecs(&self, id: TransceiverId) -> Vec<CodecParameters> {
        self.send_params(id).map(|p| p.codecs).unwrap_or_default()
    }

    /// Sends one RTP packet on a transceiver (see [`OutgoingRtp`]). Errors when the transceiver
    /// may not send (not negotiated to, or its track removed), when DTLS-SRTP is not up yet, or
    /// when the payload type was not negotiated on its section.
    pub fn write_rtp(
        &mut self,
        now: Instant,
        id: TransceiverId,
        rtp: &OutgoingRtp<'_>,
    ) -> Result<(), RtcError> {
        let path = self.media_path(now)?;
        let stream = self.send_stream(id)?;
        if !stream
            .params
            .codecs
            .iter()
            .any(|c| c.payload_type == rtp.payload_type)
        {
            return Err(RtcError::InvalidArgument(format!(
                "payload type {} is not negotiated on section {}: send with one of {:?}",
                rtp.payload_type,
                stream.params.mid,
                stream
                    .params
                    .codecs
                    .iter()
                    .map(|c| c.payload_type)
                    .collect::<Vec<_>>()
            )));
        }
        let offset = *stream
            .seq_offset
            .get_or_insert(stream.next_seq.wrapping_sub(rtp.sequence_number));
        let seq = rtp.sequence_number.wrapping_add(offset);
        if oxirtc_rtp::packet::seq::seq_newer(seq, stream.next_seq.wrapping_sub(1)) {
            stream.next_seq = seq.wrapping_add(1);
        }
        let timestamp = rtp.timestamp.wrapping_add(stream.timestamp_offset);
        self.send_packet(
            now,
            path,
            id,
            rtp.payload_type,
            seq,
            timestamp,
            rtp.marker,
            rtp.payload,
        )
    }

    /// Packetizes one encoded frame with the negotiated codec (see `oxirtc_rtp::codec` for the
    /// frame formats) and sends its packets; `rtp_timestamp` is the frame's time in the codec's
    /// clock. Returns the number of packets sent.
    pub fn write_frame(
        &mut self,
        now: Instant,
        id: TransceiverId,
        rtp_timestamp: u32,
        frame: &[u8],
    ) -> Result<usize, RtcError> {
        let path = self.media_path(now)?;
        let stream = self.send_stream(id)?;
        let Some(codec) = stream.params.codecs.first() else {
            return Err(RtcError::InvalidState("no codec negotiated to send".into()));
        };
        let pt = codec.payload_type;
        if stream.packetizer.as_ref().map(|(p, _)| *p) != Some(pt) {
            let packetizer = packetizer_for(&codec.codec).ok_or_else(|| {
                RtcError::InvalidState(format!(
                    "oxirtc cannot packetize {}: send RTP packets with write_rtp instead",
                    codec.codec.name
                ))
            })?;
            stream.packetizer = Some((pt, packetizer));
        }
        let mut payloads = std::mem::take(&mut stream.payloads);
        let max_payload = MAX_RTP_PACKET - 12 - 32; // fixed header and our extensions
        let packetized = match stream.packetizer.as_mut() {
            Some((_, p)) => p.packetize(frame, max_payload, &mut payloads),
            None => Ok(()),
        };
        if let Err(e) = packetized {
            stream.payloads = payloads;
            return Err(RtcError::InvalidArgument(format!("frame not packetized: {e}")));
        }
        let timestamp = rtp_timestamp.wrapping_add(stream.timestamp_offset);
        let mut seq = stream.next_seq;
        stream.next_seq = seq.wrapping_add(payloads.len() as u16);
        let mut result = Ok(payloads.len());
        for (payload, marker) in payloads.iter() {
            if let Err(e) = self.send_packet(now, path, id, pt, seq, timestamp, marker, payload) {
                result = Err(e);
                break;
            }
            seq = seq.wrapping_add(1);
        }
        if let Ok(stream) = self.send_stream(id) {
            stream.payloads = payloads;
        }
        result
    }

    /// Writes, protects and queues one packet of a stream that exists.
    #[allow(clippy::too_many_arguments)] // the RTP header fields, each needed
    fn send_packet(
        &mut self,
        now: Instant,
        (source, destination): (std::net::SocketAddr, std::net::SocketAddr),
        id: TransceiverId,
        payload_type: u8,
        sequence_number: u16,
        timestamp: u32,
        marker: bool,
        payload: &[u8],
    ) -> Result<(), RtcError> {
        let Some(session) = self.media.as_deref_mut() else {
            return Err(not_keyed());
        };
        let epoch = *session.epoch.get_or_insert(now);
        let twcc = session.next_transport_seq;
        let Some(stream) = session.senders.iter_mut().find(|s| s.id == id) else {
            return Err(RtcError::InvalidArgument(format!(
                "transceiver {} does not send",
                id.get()
            )));
        };
        let p = &stream.params;
        let abs_send_time = abs_send_time(now.saturating_duration_since(epoch));
        let twcc_bytes = twcc.to_be_bytes();
        let mut extensions: [Extension<'_>; 3] = [Extension { id: 0, data: &[] }; 3];
        let mut n = 0;
        for (ext, data) in [
            (p.mid_ext, p.mid.as_bytes()),
            (p.abs_send_time_ext, &abs_send_time[..]),
            (p.transport_cc_ext, &twcc_bytes[..]),
        ] {
            if let Some(id) = ext {
                extensions[n] = Extension { id, data };
                n += 1;
            }
        }
        let header = RtpHeader {
            marker,
            payload_type,
            sequence_number,
            timestamp,
            ssrc: Ssrc(stream.ssrc),
            extensions: &extensions[..n],
            ..RtpHeader::default()
        };
        let mut packet = Vec::with_capacity(payload.len() + 64 + session.tx.max_rtp_overhead());
        header
            .write(payload, 0, &mut packet)
            .map_err(|e| RtcError::InvalidArgument(format!("RTP packet not written: {e}")))?;
        stream.packets_sent += 1;
        stream.bytes_sent += payload.len() as u64;
        stream.stats.on_packet(now, timestamp, payload.len());
        if let Some(c) = p.codecs.iter().find(|c| c.payload_type == payload_type) {
            stream.clock_rate = c.codec.clock_rate;
        }
        if let (Some(history), Ok(plain)) = (stream.history.as_mut(), RtpPacket::parse(&packet)) {
            history.insert(now, &plain);
        }
        if p.transport_cc_ext.is_some() {
            session.next_transport_seq = twcc.wrapping_add(1);
        }
        session
            .tx
            .protect_rtp(&mut packet)
            .map_err(|e| RtcError::InvalidState(format!("SRTP protection failed: {e}")))?;
        self.stats.rtp_sent += 1;
        self.out.push_back(Transmit {
            source,
            destination,
            contents: packet,
        });
        Ok(())
    }

    /// The stream of a transceiver, made on first use and refreshed after a negotiation.
    fn send_stream(&mut self, id: TransceiverId) -> Result<&mut SendStream, RtcError> {
        let generation = self.negotiations;
        let fresh = self
            .media
            .as_deref()
            .and_then(|m| m.senders.iter().find(|s| s.id == id))
            .is_some_and(|s| s.generation == generation);
        if !fresh {
            let params = self.send_params(id)?;
            let (ssrc, rtx_ssrc) = self
                .transceivers
                .iter()
                .find(|t| t.id == id)
                .map(|t| (t.sender.ssrc, t.sender.rtx_ssrc))
                .unwrap_or_default();
            let (seq, ts, rtx_seq) = (self.rng.u32() as u16, self.rng.u32(), self.rng.u32() as u16);
            let nack = params
                .codecs
                .iter()
                .any(|c| c.feedback.iter().any(|f| f.kind == "nack" && f.param.is_none()));
            let Some(session) = self.media.as_deref_mut() else {
                return Err(not_keyed());
            };
            match session.senders.iter_mut().find(|s| s.id == id) {
                Some(s) => {
                    s.params = params;
                    s.generation = generation;
                }
                None => session.senders.push(SendStream {
                    id,
                    ssrc,
                    generation,
                    params,
                    next_seq: seq,
                    seq_offset: None,
                    timestamp_offset: ts,
                    packetizer: None,
                    payloads: Payloads::new(),
                    packets_sent: 0,
                    bytes_sent: 0,
                    stats: SendStats::new(),
                    clock_rate: 0,
                    history: nack.then(|| RetransmitBuffer::new(RetransmitConfig::default())),
                    rtx_ssrc,
                    rtx_seq,
                    retransmitted_packets: 0,
                    retransmitted_bytes: 0,
                    nacks_received: 0,
                    plis_received: 0,
                    firs_received: 0,
                }),
            }
        }
        self.media
            .as_deref_mut()
            .and_then(|m| m.senders.iter_mut().find(|s| s.id == id))
            .ok_or_else(not_keyed)
    }

    /// What the applied descriptions let us send on a transceiver, or why nothing.
    fn send_params(&self, id: TransceiverId) -> Result<SendParams, RtcError> {
        let t = self.transceivers.iter().find(|t| t.id == id).ok_or_else(|| {
            RtcError::InvalidArgument(format!("no transceiver {} on this connection", id.get()))
        })?;
        let mid = t.mid.as_deref().ok_or_else(|| {
            RtcError::InvalidState(
                "the transceiver is not negotiated yet: create and apply an offer first".into(),
            )
        })?;
        if !t.has_track && !sends(t.direction) {
            return Err(RtcError::InvalidState(format!(
                "section {mid} does not send (its track was removed or its direction excludes sending)"
            )));
        }
        let local = self.local_media(mid).filter(|m| sends(m.direction));
        let remote = self.remote_media(mid).filter(|r| receives(r.direction));
        let (Some(local), Some(remote)) = (local, remote) else {
            return Err(RtcError::InvalidState(format!(
                "section {mid} is not negotiated to send: both descriptions must allow it (add_track \
                 before the offer or answer, and a peer that receives)"
            )));
        };
        let codecs: Vec<CodecParameters> = remote
            .codecs
            .iter()
            .filter(|c| send_codec(std::slice::from_ref(c), &local.codecs).is_some())
            .cloned()
            .collect();
        if codecs.is_empty() {
            return Err(RtcError::InvalidState(format!(
                "no codec in common to send on section {mid}"
            )));
        }
        // RFC 8285 §6: the ids the peer's description uses, for the URIs we both have.
        let ext = |uri: &str| {
            let ours = local.extensions.iter().any(|e| e.uri == uri);
            remote
                .extensions
                .iter()
                .find(|(_, u)| u == uri && ours)
                .and_then(|(id, _)| u8::try_from(*id).ok())
                .filter(|id| (1..=14).contains(id))
        };
        Ok(SendParams {
            mid: mid.to_owned(),
            codecs,
            mid_ext: ext(MID),
            abs_send_time_ext: ext(ABS_SEND_TIME),
            transport_cc_ext: ext(TRANSPORT_WIDE_CC),
        })
    }

    /// The path media goes on, or why there is none yet.
    fn media_path(&self, now: Instant) -> Result<(std::net::SocketAddr, std::net::SocketAddr), RtcError> {
        if self.media.is_none() {
            return Err(not_keyed());
        }
        self.data_path(now)
            .ok_or_else(|| RtcError::InvalidState("not connected: no path to the peer".into()))
    }
}

fn not_keyed() -> RtcError {
    RtcError::InvalidState(
        "media is not flowing yet (DTLS-SRTP not established): wait for the connection state Connected"
            .into(),
    )
}

/// abs-send-time: 24 bits of 6.18 fixed-point seconds (webrtc.org abs-send-time extension).
fn abs_send_time(since_epoch: std::time::Duration) -> [u8; 3] {
    let value = ((since_epoch.as_micros() << 18) / 1_000_000) as u32 & 0x00ff_ffff;
    let b = value.to_be_bytes();
    [b[1], b[2], b[3]]
}

#[cfg(test)]
mod tests {
    use super::abs_send_time;
    use std::time::Duration;

    #[test]
    fn abs_send_time_is_six_point_eighteen_seconds_modulo_64() {
        assert_eq!(abs_send_time(Duration::from_secs(1)), [0x04, 0x00, 0x00]);
        assert_eq!(abs_send_time(Duration::from_millis(500)), [0x02, 0x00, 0x00]);
        // 64 s wraps to 0.
        assert_eq!(abs_send_time(Duration::from_secs(65)), [0x04, 0x00, 0x00]);
    }
}
