//! Codecs as SDP describes them (`a=rtpmap`, `a=fmtp`, `a=rtcp-fb`, RTX by `apt`), the codecs
//! oxirtc offers by default, and reading the codecs of a remote media section.

use oxirtc_sdp::{MediaDescription, MediaKind};

/// Audio or video: the kinds of media section that carry RTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrackKind {
    /// `m=audio`.
    Audio,
    /// `m=video`.
    Video,
}

impl TrackKind {
    /// The section's kind, if it carries RTP media.
    pub fn of(kind: &MediaKind) -> Option<TrackKind> {
        match kind {
            MediaKind::Audio => Some(TrackKind::Audio),
            MediaKind::Video => Some(TrackKind::Video),
            _ => None,
        }
    }
}

/// A codec (W3C webrtc-pc §5.2 `RTCRtpCodec`): what `a=rtpmap` and `a=fmtp` say of one format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Codec {
    /// Audio or video.
    pub kind: TrackKind,
    /// The encoding name as written in `a=rtpmap` (`opus`, `VP8`, `H264`...); compared without case.
    pub name: String,
    /// The RTP clock rate in Hz.
    pub clock_rate: u32,
    /// Audio channels (RFC 8866 §6.6: 1 when not written); 1 for video.
    pub channels: u16,
    /// The `a=fmtp` parameters as written (`minptime=10;useinbandfec=1`), if any.
    pub fmtp: Option<String>,
}

impl Codec {
    /// The value of one `a=fmtp` parameter (`None` when absent or written without a value).
    pub fn param(&self, key: &str) -> Option<&str> {
        self.fmtp.as_deref()?.split(';').find_map(|p| {
            let (k, v) = p.split_once('=')?;
            k.trim().eq_ignore_ascii_case(key).then_some(v.trim())
        })
    }

    /// Whether the encoding name is `name` (ASCII case-insensitive, RFC 4855 §3 media subtypes).
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }
}

/// An RTCP feedback mechanism of a codec (`a=rtcp-fb`, RFC 4585 §4.2; W3C `RTCRtcpFeedback`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Feedback {
    /// `nack`, `ccm`, `goog-remb`, `transport-cc`...
    pub kind: String,
    /// `pli`, `fir`..., if any.
    pub param: Option<String>,
}

impl Feedback {
    fn new(kind: &str, param: Option<&str>) -> Feedback {
        Feedback {
            kind: kind.to_owned(),
            param: param.map(str::to_owned),
        }
    }
}

/// A codec with its payload type, its feedback and its retransmission format (W3C
/// `RTCRtpCodecParameters`, with RTX folded in as JSEP pairs them, RFC 8829 §5.2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecParameters {
    /// The RTP payload type (0-127).
    pub payload_type: u8,
    /// The codec.
    pub codec: Codec,
    /// Its RTCP feedback mechanisms.
    pub feedback: Vec<Feedback>,
    /// The payload type of its RTX stream (RFC 4588 §8.1, `a=fmtp:<rtx> apt=<payload_type>`).
    pub rtx_payload_type: Option<u8>,
}

/// Encoding names that are not codecs of their own: retransmission, redundancy and FEC formats,
/// comfort noise and DTMF. They are paired with codecs or left out, never chosen to send.
const NOT_CODECS: [&str; 6] = ["rtx", "red", "ulpfec", "flexfec-03", "CN", "telephone-event"];

/// RFC 3551 §6 Table 4: static audio payload types WebRTC peers still send without `a=rtpmap`.
fn static_payload_type(pt: u8) -> Option<(&'static str, u32)> {
    match pt {
        0 => Some(("PCMU", 8000)),
        8 => Some(("PCMA", 8000)),
        9 => Some(("G722", 8000)),
        _ => None,
    }
}

/// The feedback oxirtc uses on video codecs: generic NACK (RFC 4585 §4.2), PLI (§6.3.1), FIR
/// (RFC 5104 §7.1), REMB and transport-wide congestion control feedback.
fn video_feedback() -> Vec<Feedback> {
    vec![
        Feedback::new("goog-remb", None),
        Feedback::new("transport-cc", None),
        Feedback::new("ccm", Some("fir")),
        Feedback::new("nack", None),
        Feedback::new("nack", Some("pli")),
    ]
}

fn codec(kind: TrackKind, name: &str, clock_rate: u32, channels: u16, fmtp: Option<&str>) -> Codec {
    Codec {
        kind,
        name: name.to_owned(),
        clock_rate,
        channels,
        fmtp: fmtp.map(str::to_owned),
    }
}

/// The audio codecs offered by default, most preferred first, with the payload types browsers use:
/// Opus (RFC 7587 §7: `opus/48000/2`), G.722, PCMU, PCMA (RFC 3551).
pub fn default_audio_codecs() -> Vec<CodecParameters> {
    let a = TrackKind::Audio;
    let opus = codec(a, "opus", 48_000, 2, Some("minptime=10;useinbandfec=1"));
    let fb = vec![Feedback::new("transport-cc", None)];
    [
        (111, opus),
        (9, codec(a, "G722", 8000, 1, None)),
        (0, codec(a, "PCMU", 8000, 1, None)),
        (8, codec(a, "PCMA", 8000, 1, None)),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, (payload_type, codec))| CodecParameters {
        payload_type,
        codec,
        feedback: if i == 0 { fb.clone() } else { Vec::new() },
        rtx_payload_type: None,
    })
    .collect()
}

/// The video codecs offered by default, most preferred first, each with RTX: VP8 (RFC 7741), VP9
/// profile 0 (RFC 9628), H.264 Constrained Baseline in packetization modes 1 and 0 and Baseline
/// (RFC 6184), AV1 profile 0 (AOM RTP payload format), H.265 Main (RFC 7798).
pub fn default_video_codecs() -> Vec<CodecParameters> {
    let v = TrackKind::Video;
    let h264 = |mode: u8, plid: &str| {
        let fmtp = format!("level-asymmetry-allowed=1;packetization-mode={mode};profile-level-id={plid}");
        codec(v, "H264", 90_000, 1, Some(&fmtp))
    };
    [
        (96, 97, codec(v, "VP8", 90_000, 1, None)),
        (98, 99, codec(v, "VP9", 90_000, 1, Some("profile-id=0"))),
        (102, 103, h264(1, "42e01f")),
        (104, 105, h264(0, "42e01f")),
        (106, 107, h264(1, "42001f")),
        (
            45,
            46,
            codec(v, "AV1", 90_000, 1, Some("level-idx=5;profile=0;tier=0")),
        ),
        (
            49,
            50,
            codec(
                v,
                "H265",
                90_000,
                1,
                Some("level-id=93;profile-id=1;tier-flag=0;tx-mode=SRST"),
            ),
        ),
    ]
    .into_iter()
    .map(|(payload_type, rtx, codec)| CodecParameters {
        payload_type,
        codec,
        feedback: video_feedback(),
        rtx_payload_type: Some(rtx),
    })
    .collect()
}

/// The codecs a media section declares, in `m=` line order (the sender's preference, RFC 3264
/// §5.1), with their feedback and RTX payload types. Formats that are not codecs (see
/// `NOT_CODECS`), formats without an `a=rtpmap` that are not static, and repeated payload types
/// are left out; an RTX format whose `apt` names no codec here is ignored.
pub fn codecs_in_section(section: &MediaDescription) -> Vec<CodecParameters> {
    let Some(kind) = TrackKind::of(&section.kind) else {
        return Vec::new();
    };
    let rtpmaps = section.rtpmaps();
    let fmtps = section.fmtps();
    let feedback = section.rtcp_fbs();
    let mut out: Vec<CodecParameters> = Vec::new();
    let mut rtx = Vec::new();
    for pt in section
        .formats
        .iter()
        .filter_map(|f| f.parse::<u8>().ok())
        .filter(|&p| p < 128)
    {
        let (name, clock_rate, params) = match rtpmaps.iter().find(|r| r.payload_type == pt) {
            Some(r) => (r.encoding_name, r.clock_rate, r.encoding_params),
            None => match static_payload_type(pt) {
                Some((name, rate)) => (name, rate, None),
                None => continue,
            },
        };
        let fmtp = fmtps
            .iter()
            .find(|f| f.payload_type == pt)
            .map(|f| f.params.to_owned());
        if name.eq_ignore_ascii_case("rtx") {
            let apt = fmtp.as_deref().and_then(|f| {
                f.split(';')
                    .find_map(|p| p.trim().strip_prefix("apt="))
                    .and_then(|v| v.trim().parse::<u8>().ok())
            });
            if let Some(apt) = apt {
                rtx.push((pt, apt));
            }
            continue;
        }
        if NOT_CODECS.iter().any(|n| n.eq_ignore_ascii_case(name)) || out.iter().any(|c| c.payload_type == pt)
        {
            continue;
        }
        let channels = match (kind, params) {
            (TrackKind::Audio, Some(p)) => p.parse().unwrap_or(1),
            _ => 1,
        };
        out.push(CodecParameters {
            payload_type: pt,
            codec: Codec {
                kind,
                name: name.to_owned(),
                clock_rate,
                channels,
                fmtp,
            },
            feedback: feedback
                .iter()
                .filter(|f| f.applies_to(pt))
                .map(|f| Feedback::new(f.kind, f.param))
                .collect(),
            rtx_payload_type: None,
        });
    }
    for (rtx_pt, apt) in rtx {
        if let Some(c) = out
            .iter_mut()
            .find(|c| c.payload_type == apt && c.rtx_payload_type.is_none())
        {
            c.rtx_payload_type = Some(rtx_pt);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use oxirtc_sdp::SessionDescription;

    const CHROME_AV: &str = include_str!("../../tests/fixtures/chromium156_av_offer.sdp");

    #[test]
    fn chrome_offer_codecs() {
        let sdp = SessionDescription::parse(CHROME_AV).expect("parses");
        let audio = codecs_in_section(&sdp.media[0]);
        let names: Vec<_> = audio
            .iter()
            .map(|c| (c.payload_type, c.codec.name.as_str()))
            .collect();
        // red (63), CN (13) and telephone-event (110, 126) are not codecs.
        assert_eq!(names, [(111, "opus"), (9, "G722"), (0, "PCMU"), (8, "PCMA")]);
        assert_eq!(audio[0].codec.channels, 2);
        assert_eq!(audio[0].codec.param("useinbandfec"), Some("1"));
        assert_eq!(audio[0].feedback, [Feedback::new("transport-cc", None)]);

        let video = codecs_in_section(&sdp.media[1]);
        let vp8 = &video[0];
        assert_eq!((vp8.payload_type, vp8.rtx_payload_type), (96, Some(97)));
        assert!(vp8.feedback.contains(&Feedback::new("nack", Some("pli"))));
        assert_eq!(vp8.feedback.len(), 5);
        let h264: Vec<_> = video.iter().filter(|c| c.codec.is("h264")).collect();
        assert_eq!(h264.len(), 6);
        assert_eq!(h264[0].codec.param("profile-level-id"), Some("42001f"));
        assert_eq!(h264[0].codec.param("packetization-mode"), Some("1"));
        assert_eq!(h264[0].rtx_payload_type, Some(103));
        let vp9: Vec<_> = video
            .iter()
            .filter(|c| c.codec.is("vp9"))
            .map(|c| c.codec.param("profile-id"))
            .collect();
        assert_eq!(vp9, [Some("0"), Some("2")]);
        // red (118, with its own rtx 119) and ulpfec (120) are not codecs.
        assert!(video.iter().all(|c| ![118, 119, 120].contains(&c.payload_type)));
        assert!(
            codecs_in_section(&sdp.media[2]).is_empty(),
            "m=application has no codecs"
        );
    }

    #[test]
    fn static_payload_types_and_broken_formats() {
        let mut m = MediaDescription::new(
            MediaKind::Audio,
            9,
            "UDP/TLS/RTP/SAVPF",
            ["0", "8", "101", "abc", "200", "0"].map(String::from).to_vec(),
        );
        m.attributes
            .push(oxirtc_sdp::Attribute::new("rtpmap", "8 PCMA/8000"));
        let codecs = codecs_in_section(&m);
        // 0 is static PCMU without rtpmap, 101 has no rtpmap and is dynamic, the rest do not parse,
        // and the repeated 0 is dropped.
        let pts: Vec<_> = codecs.iter().map(|c| c.payload_type).collect();
        assert_eq!(pts, [0, 8]);
        assert_eq!(codecs[0].codec.name, "PCMU");
    }

    #[test]
    fn defaults_have_distinct_payload_types() {
        let mut pts: Vec<u8> = default_audio_codecs().iter().map(|c| c.payload_type).collect();
        for c in default_video_codecs() {
            pts.push(c.payload_type);
            pts.extend(c.rtx_payload_type);
        }
        let n = pts.len();
        pts.sort_unstable();
        pts.dedup();
        assert_eq!(pts.len(), n);
        // RFC 5761 §4: with rtcp-mux, payload types 64-95 could be taken for RTCP packet types.
        assert!(pts.iter().all(|&p| p < 128 && !(64..96).contains(&p)));
    }
}
