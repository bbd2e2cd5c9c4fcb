//! Writing our offers and answers (RFC 8829 §5.2 initial offers, §5.3 answers; RFC 8841 data sections).

use oxirtc_crypto::Fingerprint;
use oxirtc_ice::IceCredentials;
use oxirtc_sdp::{
    Attribute, Connection, Direction, MediaDescription, MediaKind, Origin, SessionDescription, Setup, Timing,
};

use super::remote::{RemoteSection, DATA_FORMAT, DATA_PROTOCOL, RTP_PROTOCOL};
use crate::media::{CodecParameters, HeaderExtension, TrackKind};

/// One m= section of a description we write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LocalSection {
    /// Our data-channel section (RFC 8841 §4.1) with this mid.
    Data {
        /// The section's mid (RFC 8843 §7.1).
        mid: String,
    },
    /// An audio or video section (RFC 8829 §5.2.1, §5.3.1).
    Media(LocalMedia),
    /// A remote section we do not support, mirrored with port 0 (RFC 8829 §5.3.1, RFC 3264 §6).
    Rejected(RemoteSection),
}

/// Our side of an audio or video section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalMedia {
    /// The section's mid (RFC 8843 §7.1).
    pub mid: String,
    /// Audio or video.
    pub kind: TrackKind,
    /// The codecs we list, most preferred first (in an answer: the offered ones we accept).
    pub codecs: Vec<CodecParameters>,
    /// The header extensions we list.
    pub extensions: Vec<HeaderExtension>,
    /// Our direction (RFC 8829 §5.3.1: the offered one's reverse intersected with ours).
    pub direction: Direction,
    /// `a=rtcp-rsize` (RFC 5506 §5): offered always, answered when offered.
    pub rtcp_rsize: bool,
    /// What we send on the section, announced when the direction includes sending.
    pub sender: Option<LocalSender>,
    /// Simulcast streams we receive, by rid (RFC 8853 §5.3: the answer to an offer's
    /// `a=simulcast:send`), written as `a=rid:<id> recv` and `a=simulcast:recv`.
    pub receive_rids: Vec<String>,
    /// `a=cryptex` (RFC 9335 §5.1): offered always, answered when offered.
    pub cryptex: bool,
}

/// The RTP stream we send on a section, as SDP announces it: `a=msid` (RFC 8830 §2) and the SSRCs
/// with their CNAME and RTX pairing (`a=ssrc`, `a=ssrc-group:FID`, RFC 5576 §4.1, §4.2; RFC 4588
/// §8.1), which lets a receiver demultiplex by SSRC (RFC 8843 §9.2) before any MID arrives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalSender {
    /// The media stream's SSRC.
    pub ssrc: u32,
    /// Its retransmission stream's SSRC, announced when a codec of the section has RTX.
    pub rtx_ssrc: u32,
    /// `a=msid` stream id (`-` for none, RFC 8830 §2).
    pub stream_id: String,
    /// `a=msid` track id.
    pub track_id: String,
}

impl LocalSection {
    /// The mid of a section that is part of the BUNDLE group (not rejected).
    pub fn bundled_mid(&self) -> Option<&str> {
        match self {
            LocalSection::Data { mid } => Some(mid),
            LocalSection::Media(m) => Some(&m.mid),
            LocalSection::Rejected(_) => None,
        }
    }
}

/// Everything that goes into one of our descriptions.
#[derive(Clone, Debug)]
pub struct LocalParams<'a> {
    /// `o=` session id (RFC 8829 §5.2.1: random 62-bit value, kept across renegotiations).
    pub session_id: u64,
    /// `o=` version, incremented on every new description (RFC 8829 §5.2.2).
    pub session_version: u64,
    /// ICE credentials.
    pub ice: &'a IceCredentials,
    /// Our ICE-lite mode (RFC 8839 §5.3).
    pub ice_lite: bool,
    /// Our proposed Ta in ms (`a=ice-pacing`, RFC 8839 §5.5); `None` leaves the 50 ms default implied.
    pub ice_pacing_ms: Option<u64>,
    /// Candidate attribute values gathered so far (`candidate:...`).
    pub candidates: &'a [String],
    /// Gathering finished: add `a=end-of-candidates` (RFC 8838 §8.2).
    pub end_of_candidates: bool,
    /// Our certificate fingerprint (RFC 8842 §5).
    pub fingerprint: &'a Fingerprint,
    /// Our `a=setup` (RFC 8842 §5.1).
    pub setup: Setup,
    /// `a=sctp-port` (RFC 8841 §5).
    pub sctp_port: u16,
    /// `a=max-message-size` (RFC 8841 §6).
    pub max_message_size: u64,
    /// The sections, in order.
    pub sections: &'a [LocalSection],
    /// Our RTCP CNAME (RFC 7022), written with the SSRCs we send.
    pub cname: &'a str,
}

impl LocalParams<'_> {
    /// The session description.
    pub fn build(&self) -> SessionDescription {
        let accepted: Vec<&str> = self
            .sections
            .iter()
            .filter_map(LocalSection::bundled_mid)
            .collect();
        let mut attributes = Vec::new();
        if !accepted.is_empty() {
            // RFC 8843 §7.1: one BUNDLE group of every accepted section.
            attributes.push(Attribute::new("group", format!("BUNDLE {}", accepted.join(" "))));
        }
        if self.ice_lite {
            attributes.push(Attribute::flag("ice-lite"));
        }
        if let Some(ms) = self.ice_pacing_ms {
            // RFC 8839 §5.5, session level: both agents pace at the higher proposal (RFC 8445 §14.2).
            attributes.push(Attribute::new("ice-pacing", ms.to_string()));
        }
        attributes.push(Attribute::new("msid-semantic", " WMS"));
        SessionDescription {
            version: 0,
            origin: Origin {
                username: "-".into(),
                session_id: self.session_id,
                session_version: self.session_version,
                net_type: "IN".into(),
                addr_type: "IP4".into(),
                address: "127.0.0.1".into(),
            },
            session_name: "-".into(),
            information: None,
            uri: None,
            emails: Vec::new(),
            phones: Vec::new(),
            connection: None,
            bandwidth: Vec::new(),
            timing: vec![Timing {
                start: 0,
                stop: 0,
                repeats: Vec::new(),
            }],
            time_zones: None,
            key: None,
            attributes,
            media: self
                .sections
                .iter()
                .enumerate()
                .map(|(i, s)| self.section(s, self.first_bundled() == Some(i)))
                .collect(),
        }
    }

    /// The index of the first bundled section, the tagged one: only it carries the candidates
    /// (RFC 8843 §7.1.3: TRANSPORT attributes in the tagged section; the others share its transport).
    fn first_bundled(&self) -> Option<usize> {
        self.sections.iter().position(|s| s.bundled_mid().is_some())
    }

    fn section(&self, section: &LocalSection, carries_candidates: bool) -> MediaDescription {
        match section {
            LocalSection::Data { mid } => self.data_section(mid, carries_candidates),
            LocalSection::Media(media) => self.media_section(media, carries_candidates),
            LocalSection::Rejected(remote) => {
                let mut m =
                    MediaDescription::new(remote.kind.clone(), 0, &remote.protocol, remote.formats.clone());
                m.connection = Some(any_address());
                if let Some(mid) = &remote.mid {
                    m.attributes.push(Attribute::new("mid", mid));
                }
                m
            }
        }
    }

    /// RFC 8841 §4.1 / RFC 8829 §5.2.1: `m=application 9 UDP/DTLS/SCTP webrtc-datachannel`.
    fn data_section(&self, mid: &str, carries_candidates: bool) -> MediaDescription {
        let mut m = MediaDescription::new(MediaKind::Application, 9, DATA_PROTOCOL, vec![DATA_FORMAT.into()]);
        m.connection = Some(any_address());
        self.transport_attributes(&mut m.attributes, mid, carries_candidates);
        let a = &mut m.attributes;
        a.push(Attribute::new("sctp-port", self.sctp_port.to_string()));
        a.push(Attribute::new(
            "max-message-size",
            self.max_message_size.to_string(),
        ));
        m
    }
}

impl LocalParams<'_> {
    /// Candidates (in the tagged section only), then ICE credentials, fingerprint, setup and mid. The
    /// credentials, fingerprint and setup go in every bundled section as RFC 8829 §5.2.1 lists them
    /// and browsers write them (RFC 8843 §7.1.3 would keep them to the tagged one; peers take both).
    fn transport_attributes(&self, a: &mut Vec<Attribute>, mid: &str, carries_candidates: bool) {
        if carries_candidates {
            for c in self.candidates {
                a.push(Attribute::new(
                    "candidate",
                    c.strip_prefix("candidate:").unwrap_or(c),
                ));
            }
            if self.end_of_candidates {
                a.push(Attribute::flag("end-of-candidates"));
            }
        }
        a.push(Attribute::new("ice-ufrag", &self.ice.ufrag));
        a.push(Attribute::new("ice-pwd", &self.ice.pwd));
        a.push(Attribute::new("ice-options", "trickle"));
        a.push(Attribute::new("fingerprint", self.fingerprint.to_string()));
        a.push(Attribute::new("setup", self.setup.as_str()));
        a.push(Attribute::new("mid", mid));
    }

    /// RFC 8829 §5.2.1 / §5.3.1: `m=audio|video 9 UDP/TLS/RTP/SAVPF <payload types>` with a=extmap,
    /// the direction, a=rtcp-mux, a=rtcp-rsize, and per codec a=rtpmap, a=rtcp-fb and a=fmtp, then
    /// its RTX format (RFC 4588 §8.1).
    fn media_section(&self, media: &LocalMedia, carries_candidates: bool) -> MediaDescription {
        let mut formats = Vec::new();
        for c in &media.codecs {
            formats.push(c.payload_type.to_string());
            formats.extend(c.rtx_payload_type.map(|p| p.to_string()));
        }
        let kind = match media.kind {
            TrackKind::Audio => MediaKind::Audio,
            TrackKind::Video => MediaKind::Video,
        };
        let mut m = MediaDescription::new(kind, 9, RTP_PROTOCOL, formats);
        m.connection = Some(any_address());
        self.transport_attributes(&mut m.attributes, &media.mid, carries_candidates);
        let a = &mut m.attributes;
        for e in &media.extensions {
            a.push(Attribute::new("extmap", format!("{} {}", e.id, e.uri)));
        }
        a.push(Attribute::flag(media.direction.as_str()));
        let sender = media
            .sender
            .as_ref()
            .filter(|_| matches!(media.direction, Direction::SendRecv | Direction::SendOnly));
        if let Some(s) = sender {
            a.push(Attribute::new("msid", format!("{} {}", s.stream_id, s.track_id)));
        }
        a.push(Attribute::flag("rtcp-mux"));
        if media.rtcp_rsize {
            a.push(Attribute::flag("rtcp-rsize"));
        }
        if media.cryptex {
            a.push(Attribute::flag("cryptex"));
        }
        for c in &media.codecs {
            let codec = &c.codec;
            let rtpmap = match (media.kind, codec.channels) {
                (TrackKind::Audio, n) if n > 1 => {
                    format!("{} {}/{}/{n}", c.payload_type, codec.name, codec.clock_rate)
                }
                _ => format!("{} {}/{}", c.payload_type, codec.name, codec.clock_rate),
            };
            a.push(Attribute::new("rtpmap", rtpmap));
            for fb in &c.feedback {
                let value = match &fb.param {
                    Some(p) => format!("{} {} {p}", c.payload_type, fb.kind),
                    None => format!("{} {}", c.payload_type, fb.kind),
                };
                a.push(Attribute::new("rtcp-fb", value));
            }
            if let Some(fmtp) = &codec.fmtp {
                a.push(Attribute::new("fmtp", format!("{} {fmtp}", c.payload_type)));
            }
            if let Some(rtx) = c.rtx_payload_type {
                a.push(Attribute::new(
                    "rtpmap",
                    format!("{rtx} rtx/{}", codec.clock_rate),
                ));
                a.push(Attribute::new("fmtp", format!("{rtx} apt={}", c.payload_type)));
            }
        }
        if !media.receive_rids.is_empty() {
            // RFC 8851 §4, RFC 8853 §5.1: one a=rid per stream, then the stream list.
            for rid in &media.receive_rids {
                a.push(Attribute::new("rid", format!("{rid} recv")));
            }
            a.push(Attribute::new(
                "simulcast",
                format!("recv {}", media.receive_rids.join(";")),
            ));
        }
        if let Some(s) = sender {
            self.ssrc_attributes(a, s, media.codecs.iter().any(|c| c.rtx_payload_type.is_some()));
        }
        m
    }

    /// RFC 5576 §4.2 `a=ssrc-group:FID <media> <rtx>` (RFC 4588 §8.1), then per SSRC its CNAME
    /// (RFC 5576 §6.1) and msid (the form browsers still read beside `a=msid`).
    fn ssrc_attributes(&self, a: &mut Vec<Attribute>, s: &LocalSender, rtx: bool) {
        let ssrcs: &[u32] = if rtx { &[s.ssrc, s.rtx_ssrc] } else { &[s.ssrc] };
        if rtx {
            a.push(Attribute::new(
                "ssrc-group",
                format!("FID {} {}", s.ssrc, s.rtx_ssrc),
            ));
        }
        for ssrc in ssrcs {
            a.push(Attribute::new("ssrc", format!("{ssrc} cname:{}", self.cname)));
            a.push(Attribute::new(
                "ssrc",
                format!("{ssrc} msid:{} {}", s.stream_id, s.track_id),
            ));
        }
    }
}

/// RFC 8829 §5.2.1: `c=IN IP4 0.0.0.0` with port 9 (trickle ICE, RFC 8840 §4.1.1).
fn any_address() -> Connection {
    Connection {
        net_type: "IN".into(),
        addr_type: "IP4".into(),
        address: "0.0.0.0".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jsep::remote::RemoteParams;

    #[test]
    fn offer_parses_back_to_the_same_transport_parameters() {
        let ice = IceCredentials {
            ufrag: "abcd".into(),
            pwd: "0123456789012345678901".into(),
        };
        let fp: Fingerprint = format!("sha-256 {}", ["AB"; 32].join(":")).parse().unwrap();
        let candidates = vec!["candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host".to_owned()];
        let sections = [LocalSection::Data { mid: "0".into() }];
        let params = LocalParams {
            session_id: 42,
            session_version: 1,
            ice: &ice,
            ice_lite: false,
            ice_pacing_ms: Some(5),
            candidates: &candidates,
            end_of_candidates: true,
            fingerprint: &fp,
            setup: Setup::ActPass,
            sctp_port: 5000,
            max_message_size: 262_144,
            sections: &sections,
            cname: "c",
        };
        let text = params.build().to_string();
        assert!(
            text.contains("m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"),
            "{text}"
        );
        assert!(text.contains("a=group:BUNDLE 0\r\n"), "{text}");
        let back = RemoteParams::from_sdp(&SessionDescription::parse(&text).unwrap()).unwrap();
        assert_eq!(back.ice, ice);
        assert_eq!(back.ice_pacing_ms, Some(5));
        assert_eq!(back.fingerprint, fp);
        assert_eq!(back.setup, Setup::ActPass);
        assert_eq!(back.candidates, ["1 1 udp 2130706431 127.0.0.1 5000 typ host"]);
        assert!(back.end_of_candidates);
        assert_eq!(back.data.unwrap().max_message_size, 262_144);
    }
}
