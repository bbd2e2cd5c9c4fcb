//! Receiving media on an [`Rtc`]: SRTP keyed from the DTLS handshake (RFC 5764 §4.2), SRTP/SRTCP
//! told apart by the payload-type byte (RFC 5761 §4), and each RTP packet routed to its media
//! section by MID header extension, then SSRC, then payload type (RFC 8843 §9.2).

use std::collections::VecDeque;
use std::time::Instant;

use oxirtc_rtp::packet::{RtpPacket, Ssrc};
use oxirtc_rtp::rtcp::compound::Compound;
use oxirtc_rtp::rtcp::Pli;
use oxirtc_srtp::{DtlsRole, ProtectionProfile, ReceiveContext, SendContext, SrtpConfig};

use super::transceivers::receives;
use super::Rtc;
use crate::jsep::local::LocalSection;
use crate::media::{ReceivedRtp, TrackKind, MID, REPAIRED_RTP_STREAM_ID, RTP_STREAM_ID, TRANSPORT_WIDE_CC};
use crate::{RtcError, RtcEvent};

/// The RFC 5764 §4.2 exporter label for SRTP keys.
const SRTP_EXPORTER_LABEL: &[u8] = b"EXTRACTOR-dtls_srtp";

/// SSRCs remembered with the section they belong to (learned from the MID extension or announced
/// in SDP). A sender has a few (primary, RTX, FEC, simulcast layers); a peer that rotates SSRCs
/// without end pushes the oldest out instead of growing the table.
const MAX_ROUTED_SSRCS: usize = 64;

/// The SRTP contexts of a connection and where its RTP streams go.
pub(crate) struct MediaSession {
    rx: ReceiveContext,
    /// Protects what we send.
    pub(crate) tx: SendContext,
    /// Where each known SSRC goes, oldest first.
    ssrcs: VecDeque<RoutedSsrc>,
    /// The SSRC our RTCP is sent from when we send no stream (RFC 3550 §8: random).
    pub(crate) rtcp_ssrc: u32,
    /// The streams we send, one per transceiver that wrote.
    pub(crate) senders: Vec<super::send::SendStream>,
    /// When the first packet went out: abs-send-time counts from here.
    pub(crate) epoch: Option<Instant>,
    /// The next transport-wide sequence number (draft-holmer-rmcat-transport-wide-cc-extensions-01
    /// §2): one space for every stream of the connection.
    pub(crate) next_transport_seq: u16,
    /// Arrivals of the peer's packets, for the transport-wide feedback we send.
    pub(crate) twcc: super::feedback::TwccRecorder,
    /// The streams the peer sends us, most recently heard first.
    pub(crate) receivers: Vec<super::rtcp::ReceiveStream>,
    /// When our next RTCP report is due (made with the first report's turn).
    pub(crate) reports: Option<oxirtc_rtp::stream::ReportSchedule>,
    /// The last round-trip time measured from report blocks (RFC 3550 §6.4.1).
    pub(crate) rtt: Option<std::time::Duration>,
}

/// An SSRC with its section, and whether its last packet was a retransmission (RTX, RFC 4588):
/// keyframe requests go to media sources, not to their repair streams.
struct RoutedSsrc {
    ssrc: u32,
    mid: String,
    rtx: bool,
    /// The simulcast stream (RFC 8852 rid, or repaired rid for RTX), once a packet said: senders
    /// stop writing it once the stream is known to be received.
    rid: Option<String>,
}

impl Rtc {
    /// DTLS is up: if it negotiated an SRTP profile (`use_srtp`, RFC 5764 §4.1.2) and we have a
    /// media section, key SRTP from the exporter (RFC 5764 §4.2).
    pub(crate) fn start_media(&mut self) {
        if self.media.is_some() || !self.sections.iter().any(|s| matches!(s, LocalSection::Media(_))) {
            return;
        }
        let Some(dtls) = self.dtls.as_ref() else { return };
        let Some(profile) = dtls
            .srtp_profile()
            .and_then(|p| ProtectionProfile::from_codepoint(p.codepoint()))
        else {
            tracing::warn!("rtc: media negotiated but DTLS agreed no SRTP profile; media is dropped");
            return;
        };
        let role = match dtls.role() {
            oxirtc_dtls::Role::Client => DtlsRole::Client,
            oxirtc_dtls::Role::Server => DtlsRole::Server,
        };
        let keyed = dtls
            .export_keying_material(SRTP_EXPORTER_LABEL, None, profile.keying_material_len())
            .map_err(|e| e.to_string())
            .and_then(|material| {
                let config = SrtpConfig {
                    cryptex: self.cryptex_negotiated(),
                    ..SrtpConfig::default()
                };
                oxirtc_srtp::from_dtls(self.crypto, profile, &material, role, &config)
                    .map_err(|e| e.to_string())
            });
        match keyed {
            Ok((tx, rx)) => {
                tracing::debug!(?profile, "rtc: SRTP keyed");
                self.install_media(tx, rx);
            }
            Err(e) => tracing::warn!(error = %e, "rtc: SRTP keying failed; media is dropped"),
        }
    }

    /// RFC 9335 §5.1: cryptex applies when both descriptions say `a=cryptex` on their media
    /// sections (one SRTP context serves the whole BUNDLE group, so all of them).
    fn cryptex_negotiated(&self) -> bool {
        let local = self
            .sections
            .iter()
            .filter_map(|s| match s {
                LocalSection::Media(m) => Some(m.cryptex),
                _ => None,
            })
            .all(|c| c);
        let remote = self.remote.as_ref().is_some_and(|r| {
            r.sections
                .iter()
                .filter_map(|s| s.media.as_ref())
                .all(|m| m.cryptex)
        });
        local && remote
    }

    /// An applied answer settled which sections we receive: one [`RtcEvent::Track`] per receiving
    /// section not announced before (W3C webrtc-pc §4.4.1.5: `track` events of a description).
    pub(crate) fn announce_tracks(&mut self) {
        for s in &self.sections {
            let LocalSection::Media(m) = s else { continue };
            let receiving = receives(m.direction);
            if receiving && !self.announced_tracks.contains(&m.mid) {
                self.announced_tracks.push(m.mid.clone());
                self.events.push_back(RtcEvent::Track {
                    mid: m.mid.clone(),
                    kind: m.kind,
                });
            }
        }
    }

    /// Asks the sender of the video section `mid` for a keyframe: a Picture Loss Indication (RFC
    /// 4585 §6.3.1) to each of its media SSRCs seen so far, over SRTCP. Reduced-size (RFC 5506) when
    /// the section negotiated `a=rtcp-rsize`, else in a compound packet after an empty receiver
    /// report and our CNAME (RFC 3550 §6.1). Use it when a decoder starts or lost a reference frame
    /// (oxirtc-rtp's sample builder says so with `needs_keyframe`).
    pub fn request_keyframe(&mut self, now: Instant, mid: &str) -> Result<(), RtcError> {
        let Some(section) = self.sections.iter().find_map(|s| match s {
            LocalSection::Media(m) if m.mid == mid => Some(m),
            _ => None,
        }) else {
            return Err(RtcError::InvalidState(format!(
                "no audio/video section with mid {mid}: use the mid of a RemoteTrack / RtcEvent::Track"
            )));
        };
        if section.kind != TrackKind::Video {
            return Err(RtcError::InvalidState(format!(
                "section {mid} is audio; keyframes exist only for video"
            )));
        }
        let rsize = section.rtcp_rsize;
        let Some((source, destination)) = self.data_path(now) else {
            return Err(RtcError::InvalidState(
                "not connected: no path to the peer yet".into(),
            ));
        };
        let Some(session) = self.media.as_mut() else {
            return Err(RtcError::InvalidState(
                "media is not flowing yet (DTLS-SRTP not established): request the keyframe once packets arrive".into(),
            ));
        };
        let sources: Vec<u32> = session
            .ssrcs
            .iter()
            .filter(|r| r.mid == mid && !r.rtx)
            .map(|r| r.ssrc)
            .collect();
        if sources.is_empty() {
            return Err(RtcError::InvalidState(format!(
                "no RTP from section {mid} yet: nothing to ask a keyframe of"
            )));
        }
        let sender = Ssrc(session.rtcp_ssrc);
        let mut packet = Vec::with_capacity(128);
        let built = if rsize {
            sources.iter().try_for_each(|&media| {
                Pli {
                    sender_ssrc: sender,
                    media_ssrc: Ssrc(media),
                }
                .write(&mut packet)
            })
        } else {
            Compound::receiver_report(&mut packet, sender, &[])
                .and_then(|r| r.cname(sender, &format!("{:016x}", self.cname)))
                .and_then(|mut body| {
                    sources.iter().try_for_each(|&media| {
                        body.add(|out| {
                            Pli {
                                sender_ssrc: sender,
                                media_ssrc: Ssrc(media),
                            }
                            .write(out)
                        })
                    })
                })
        };
        // Our own packet of a few fixed-size parts: it cannot exceed RTCP's limits.
        built.map_err(|e| RtcError::InvalidState(format!("PLI not built: {e}")))?;
        session
            .tx
            .protect_rtcp(&mut packet)
            .map_err(|e| RtcError::InvalidState(format!("SRTCP protection failed: {e}")))?;
        self.stats.rtcp_sent += 1;
        self.out.push_back(crate::Transmit {
            source,
            destination,
            contents: packet,
        });
        self.count_pli(mid);
        Ok(())
    }

    /// Starts media with these SRTP contexts: a random RTCP SSRC and CNAME, and the SSRCs the remote
    /// description announces routed to their sections without a MID (RFC 8843 §9.2).
    fn install_media(&mut self, tx: SendContext, rx: ReceiveContext) {
        let rtcp_ssrc = self.rng.u32();
        let mut session = MediaSession {
            rx,
            tx,
            ssrcs: VecDeque::new(),
            rtcp_ssrc,
            senders: Vec::new(),
            epoch: None,
            next_transport_seq: 0,
            twcc: super::feedback::TwccRecorder::default(),
            receivers: Vec::new(),
            reports: None,
            rtt: None,
        };
        for (mid, ssrcs) in self.announced_ssrcs() {
            for ssrc in ssrcs {
                session.remember(ssrc, &mid, false, None);
            }
        }
        self.media = Some(Box::new(session));
    }

    /// One SRTP or SRTCP datagram from the peer. Dropped and counted when it does not authenticate,
    /// is a replay, or belongs to no section we receive.
    pub(crate) fn receive_srtp(&mut self, now: Instant, data: &[u8]) {
        let Some(session) = self.media.as_mut() else {
            self.stats.dropped_datagrams += 1;
            return;
        };
        let mut packet = data.to_vec();
        // RFC 5761 §4: with RTP and RTCP on one port, a second byte of 192..=223 is RTCP (payload
        // types 64..=95 are kept free for this).
        if matches!(data.get(1), Some(192..=223)) {
            match session.rx.unprotect_rtcp(&mut packet) {
                Ok(len) => {
                    self.stats.rtcp_received += 1;
                    self.handle_rtcp(now, &packet[..len]);
                }
                Err(e) => {
                    self.stats.srtp_dropped += 1;
                    tracing::trace!(error = %e, "rtc: SRTCP dropped");
                }
            }
            return;
        }
        let len = match session.rx.unprotect_rtp(&mut packet) {
            Ok(len) => len,
            Err(e) => {
                self.stats.srtp_dropped += 1;
                tracing::trace!(error = %e, "rtc: SRTP dropped");
                return;
            }
        };
        let Ok(rtp) = RtpPacket::parse(&packet[..len]) else {
            self.stats.rtp_malformed += 1;
            return;
        };
        let Some((mid, rid)) = self.route(&rtp, is_rtx_payload_type(&self.sections, rtp.payload_type()))
        else {
            self.stats.rtp_unroutable += 1;
            tracing::trace!(
                ssrc = rtp.ssrc().0,
                pt = rtp.payload_type(),
                "rtc: RTP for no section dropped"
            );
            return;
        };
        self.stats.rtp_received += 1;
        let rtx = is_rtx_payload_type(&self.sections, rtp.payload_type());
        if let Some(seq) = self.transport_seq(&rtp) {
            if let Some(session) = self.media.as_deref_mut() {
                session.twcc.on_packet(now, seq, rtp.ssrc().0);
                if session.twcc.is_full() {
                    self.send_twcc_feedback(now);
                }
            }
        }
        // RFC 4588 §4: a retransmission is handed on as the packet it repairs.
        let (ssrc, payload_type, sequence_number, payload) = if rtx {
            match self.unwrap_rtx(&mid, rid.as_deref(), rtp) {
                Some(original) => original,
                None => {
                    // Padding-only probes, or repair of a stream not heard yet.
                    self.stats.rtx_unusable += 1;
                    return;
                }
            }
        } else {
            (
                rtp.ssrc().0,
                rtp.payload_type(),
                rtp.sequence_number(),
                rtp.payload().to_vec(),
            )
        };
        let arrived = super::rtcp::Arrived {
            mid: &mid,
            rid: rid.as_deref(),
            ssrc,
            seq: sequence_number,
            timestamp: rtp.timestamp(),
            payload_len: payload.len(),
            payload_type,
            retransmitted: rtx,
        };
        self.count_arrival(now, &arrived);
        self.events.push_back(RtcEvent::Rtp(ReceivedRtp {
            mid,
            rid,
            ssrc,
            payload_type,
            sequence_number,
            timestamp: rtp.timestamp(),
            marker: rtp.marker(),
            payload,
        }));
    }

    /// RFC 8843 §9.2: the section of a packet is the one its MID header extension names, else the
    /// one its SSRC was seen with, else the only receiving section with its payload type.
    fn route(&mut self, rtp: &RtpPacket<'_>, rtx: bool) -> Option<(String, Option<String>)> {
        let receiving = |s: &&LocalSection| matches!(s, LocalSection::Media(m) if receives(m.direction));
        let ext_value = |uri: &str| {
            let id = self.sections.iter().find_map(|s| match s {
                LocalSection::Media(m) => m.extensions.iter().find(|e| e.uri == uri).map(|e| e.id),
                _ => None,
            })?;
            let bytes = rtp.extension(id)?;
            std::str::from_utf8(bytes).ok().map(str::to_owned)
        };
        // RFC 8852 §3.1-3.2: a repair stream names the stream it repairs with repaired-rid.
        let rid = ext_value(RTP_STREAM_ID).or_else(|| ext_value(REPAIRED_RTP_STREAM_ID));
        let ssrc = rtp.ssrc().0;
        let session = self.media.as_mut()?;
        if let Some(mid) = ext_value(MID) {
            let known = self
                .sections
                .iter()
                .filter(receiving)
                .any(|s| s.bundled_mid() == Some(mid.as_str()));
            if !known {
                return None;
            }
            session.remember(ssrc, &mid, rtx, rid.as_deref());
            return Some((mid, rid));
        }
        if let Some(r) = session.ssrcs.iter_mut().find(|r| r.ssrc == ssrc) {
            r.rtx = rtx;
            if rid.is_some() && r.rid != rid {
                r.rid.clone_from(&rid);
            }
            return Some((r.mid.clone(), rid.or_else(|| r.rid.clone())));
        }
        let pt = rtp.payload_type();
        let mut by_pt = self.sections.iter().filter(receiving).filter_map(|s| match s {
            LocalSection::Media(m)
                if m.codecs
                    .iter()
                    .any(|c| c.payload_type == pt || c.rtx_payload_type == Some(pt)) =>
            {
                Some(m.mid.clone())
            }
            _ => None,
        });
        match (by_pt.next(), by_pt.next()) {
            (Some(mid), None) => {
                session.remember(ssrc, &mid, rtx, rid.as_deref());
                Some((mid, rid))
            }
            _ => None,
        }
    }

    /// The transport-wide sequence number of a packet, when we negotiated the extension.
    fn transport_seq(&self, rtp: &RtpPacket<'_>) -> Option<u16> {
        let id = self.sections.iter().find_map(|s| match s {
            LocalSection::Media(m) => m
                .extensions
                .iter()
                .find(|e| e.uri == TRANSPORT_WIDE_CC)
                .map(|e| e.id),
            _ => None,
        })?;
        let b = rtp.extension(id)?;
        Some(u16::from_be_bytes([*b.first()?, *b.get(1)?]))
    }

    /// `(mid, SSRCs)` of every remote section that announced SSRCs.
    fn announced_ssrcs(&self) -> Vec<(String, Vec<u32>)> {
        let Some(remote) = self.remote.as_ref() else {
            return Vec::new();
        };
        remote
            .sections
            .iter()
            .filter_map(|s| Some((s.mid.clone()?, s.media.as_ref()?.ssrcs.clone())))
            .collect()
    }
}

#[cfg(feature = "fuzzing")]
impl Rtc {
    /// Fuzzing only: protects `packet` (RTP, or RTCP when its second byte is 192..=223, RFC 5761
    /// §4) with this connection's SRTP sender keys, so that a fuzzer's bytes get past the peer's
    /// authentication and reach its RTP/RTCP parsing. False when SRTP is not keyed or refuses them.
    #[doc(hidden)]
    pub fn fuzz_protect(&mut self, packet: &mut Vec<u8>) -> bool {
        let Some(session) = self.media.as_deref_mut() else {
            return false;
        };
        if matches!(packet.get(1), Some(192..=223)) {
            session.tx.protect_rtcp(packet).is_ok()
        } else {
            session.tx.protect_rtp(packet).is_ok()
        }
    }
}

impl MediaSession {
    fn remember(&mut self, ssrc: u32, mid: &str, rtx: bool, rid: Option<&str>) {
        if let Some(entry) = self.ssrcs.iter_mut().find(|r| r.ssrc == ssrc) {
            if entry.mid != mid {
                entry.mid = mid.to_owned();
            }
            entry.rtx = rtx;
            if rid.is_some() && entry.rid.as_deref() != rid {
                entry.rid = rid.map(str::to_owned);
            }
            return;
        }
        if self.ssrcs.len() == MAX_ROUTED_SSRCS {
            self.ssrcs.pop_front();
        }
        self.ssrcs.push_back(RoutedSsrc {
            ssrc,
            mid: mid.to_owned(),
            rtx,
            rid: rid.map(str::to_owned),
        });
    }
}

/// Whether `pt` is the RTX payload type of a codec of ours (RFC 4588 §8.1).
fn is_rtx_payload_type(sections: &[LocalSection], pt: u8) -> bool {
    sections.iter().any(|s| match s {
        LocalSection::Media(m) => m.codecs.iter().any(|c| c.rtx_payload_type == Some(pt)),
        _ => false,
    })
}

#[cfg(test)]
#[path = "media_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "media_hostile_tests.rs"]
mod hostile_tests;
