//! Reading what we need from a remote session description (RFC 8829 §5.10, §5.11; RFC 8841; RFC 8842).

use oxirtc_crypto::Fingerprint;
use oxirtc_ice::IceCredentials;
use oxirtc_sdp::{Direction, MediaDescription, MediaKind, SessionDescription, Setup};

use crate::media::{codecs_in_section, CodecParameters, TrackKind};
use crate::RtcError;

/// The SDP protocol of a data-channel section (RFC 8841 §4.1).
pub const DATA_PROTOCOL: &str = "UDP/DTLS/SCTP";
/// The SDP format of a data-channel section (RFC 8841 §4.1).
pub const DATA_FORMAT: &str = "webrtc-datachannel";
/// RFC 8841 §6.1: without `a=max-message-size` the peer can receive 64 KiB messages.
pub const DEFAULT_REMOTE_MAX_MESSAGE_SIZE: u64 = 65_536;
/// RFC 8841 §5: the default SCTP port.
pub const DEFAULT_SCTP_PORT: u16 = 5000;
/// The SDP protocol of an RTP media section in WebRTC (RFC 8829 §5.1.2).
pub const RTP_PROTOCOL: &str = "UDP/TLS/RTP/SAVPF";

/// One m= section of the remote description, as needed to mirror it in an answer (RFC 8829 §5.3.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteSection {
    /// Media kind.
    pub kind: MediaKind,
    /// Transport protocol token.
    pub protocol: String,
    /// Formats.
    pub formats: Vec<String>,
    /// `a=mid`, if any.
    pub mid: Option<String>,
    /// Port 0 (rejected or bundle-only by the remote).
    pub rejected: bool,
    /// What an audio or video section we can take part in says about its RTP (see
    /// [`RemoteMedia::from_section`]); `None` for data, rejected and unusable sections.
    pub media: Option<RemoteMedia>,
}

/// The RTP side of a remote audio or video section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteMedia {
    /// Audio or video.
    pub kind: TrackKind,
    /// Its codecs, in its preference order, with their payload types (RFC 8829 §5.11).
    pub codecs: Vec<CodecParameters>,
    /// `a=extmap` ids and URIs (RFC 8285 §8).
    pub extensions: Vec<(u16, String)>,
    /// Its direction (RFC 8866 §6.7), from the remote's point of view.
    pub direction: Direction,
    /// SSRCs it announces (`a=ssrc`, RFC 5576 §4.1), for demultiplexing by SSRC (RFC 8843 §9.2).
    pub ssrcs: Vec<u32>,
    /// `a=rtcp-rsize` (RFC 5506 §5).
    pub rtcp_rsize: bool,
    /// The simulcast streams it sends (RFC 8853 §5.1 `a=simulcast:send`): the first alternative of
    /// each stream whose rid has an `a=rid:<id> send` line (RFC 8853 §5.2), in its order.
    pub simulcast_send: Vec<String>,
    /// `(media SSRC, RTX SSRC)` pairs of `a=ssrc-group:FID` (RFC 5576 §4.2, RFC 4588 §8.1).
    pub rtx_pairs: Vec<(u32, u32)>,
    /// `a=cryptex` (RFC 9335 §5.1): it encrypts header extensions too.
    pub cryptex: bool,
}

/// Simulcast streams read from one section: Chromium sends up to 3, more is no real sender.
const MAX_SIMULCAST_STREAMS: usize = 8;

/// Sections with more announced SSRCs than this are read up to it (a real sender announces a few:
/// primary, RTX, FEC, simulcast layers).
const MAX_ANNOUNCED_SSRCS: usize = 32;

impl RemoteMedia {
    /// The RTP parameters of `m` if it is an audio or video section we can take part in: not
    /// rejected, `UDP/TLS/RTP/SAVPF` (RFC 8829 §5.1.2) and RTP/RTCP multiplexed (`a=rtcp-mux`,
    /// which RFC 8829 §5.1.3 makes mandatory to implement; we have no separate RTCP component).
    pub fn from_section(m: &MediaDescription, session: &SessionDescription) -> Option<RemoteMedia> {
        let kind = TrackKind::of(&m.kind)?;
        let usable = (m.port != 0 || m.has_attribute("bundle-only"))
            && m.protocol.eq_ignore_ascii_case(RTP_PROTOCOL)
            && m.rtcp_mux();
        if !usable {
            return None;
        }
        let mut ssrcs: Vec<u32> = Vec::new();
        for s in m.ssrcs() {
            if !ssrcs.contains(&s.ssrc) && ssrcs.len() < MAX_ANNOUNCED_SSRCS {
                ssrcs.push(s.ssrc);
            }
        }
        let section = oxirtc_sdp::Section { session, media: m };
        Some(RemoteMedia {
            kind,
            codecs: codecs_in_section(m),
            extensions: m.extmaps().iter().map(|e| (e.id, e.uri.to_owned())).collect(),
            direction: section.direction(),
            ssrcs,
            rtcp_rsize: m.rtcp_rsize(),
            simulcast_send: simulcast_send(m),
            rtx_pairs: m
                .ssrc_groups()
                .iter()
                .filter(|g| g.semantics.eq_ignore_ascii_case("FID") && g.ssrcs.len() == 2)
                .map(|g| (g.ssrcs[0], g.ssrcs[1]))
                .take(MAX_ANNOUNCED_SSRCS)
                .collect(),
            cryptex: m.has_attribute("cryptex"),
        })
    }
}

/// RFC 8853 §5.1, §5.2: the rids of the simulcast streams a section sends.
fn simulcast_send(m: &MediaDescription) -> Vec<String> {
    let Some(simulcast) = m.simulcast() else {
        return Vec::new();
    };
    let rids = m.rids();
    simulcast
        .send
        .iter()
        .filter_map(|stream| stream.first())
        .filter(|alt| {
            rids.iter()
                .any(|r| r.id == alt.id && r.direction == oxirtc_sdp::RidDirection::Send)
        })
        .map(|alt| alt.id.to_owned())
        .take(MAX_SIMULCAST_STREAMS)
        .collect()
}

/// The remote's data-channel section (RFC 8841).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteData {
    /// Index of the section in the description.
    pub index: usize,
    /// Its mid, if any.
    pub mid: Option<String>,
    /// `a=sctp-port` (RFC 8841 §5), default 5000.
    pub sctp_port: u16,
    /// `a=max-message-size` (RFC 8841 §6); 0 means "no limit" on the wire and is kept as 0.
    pub max_message_size: u64,
}

/// What a remote description says about the transport.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteParams {
    /// ICE credentials of the transport (RFC 8839 §5.4).
    pub ice: IceCredentials,
    /// The peer is ICE-lite (RFC 8839 §5.3).
    pub ice_lite: bool,
    /// The peer's proposed Ta in ms (`a=ice-pacing`, RFC 8839 §5.5); `None` means the 50 ms default.
    pub ice_pacing_ms: Option<u64>,
    /// The certificate fingerprint the DTLS peer must present (RFC 8842 §5).
    pub fingerprint: Fingerprint,
    /// `a=setup` (RFC 8842 §5.1); absent means `active` (RFC 4145 §4).
    pub setup: Setup,
    /// `a=candidate` values of the transport.
    pub candidates: Vec<String>,
    /// `a=end-of-candidates` present (RFC 8838 §8.2).
    pub end_of_candidates: bool,
    /// The data-channel section, if the peer offered or accepted one.
    pub data: Option<RemoteData>,
    /// Every section, in order.
    pub sections: Vec<RemoteSection>,
}

impl RemoteParams {
    /// Extracts the transport parameters from `sdp`. Fails with a message naming the missing or bad
    /// attribute; nothing is applied on failure.
    pub fn from_sdp(sdp: &SessionDescription) -> Result<Self, RtcError> {
        let neg = |m: &str| RtcError::Negotiation(m.to_owned());
        let sections: Vec<RemoteSection> = sdp
            .media
            .iter()
            .map(|m| RemoteSection {
                kind: m.kind.clone(),
                protocol: m.protocol.clone(),
                formats: m.formats.clone(),
                mid: m.mid().map(str::to_owned),
                rejected: m.port == 0 && !m.has_attribute("bundle-only"),
                media: RemoteMedia::from_section(m, sdp),
            })
            .collect();
        let data_index = sdp.media.iter().position(is_data_section);
        // The transport's parameters come from the data section, or (with BUNDLE) from any accepted one.
        let transport_index = data_index
            .or_else(|| sections.iter().position(|s| !s.rejected))
            .ok_or_else(|| neg("no usable m= section (every section is rejected)"))?;
        let section = sdp
            .section(transport_index)
            .ok_or_else(|| neg("missing m= section"))?;
        let ufrag = section.ice_ufrag().ok_or_else(|| neg("missing a=ice-ufrag"))?;
        let pwd = section.ice_pwd().ok_or_else(|| neg("missing a=ice-pwd"))?;
        let ice = IceCredentials {
            ufrag: ufrag.trim().to_owned(),
            pwd: pwd.trim().to_owned(),
        };
        ice.validate()?;
        let fingerprint = pick_fingerprint(&section.fingerprints())?;
        let setup = section.setup().unwrap_or(Setup::Active);
        let mut candidates: Vec<String> = Vec::new();
        let mut end_of_candidates = false;
        for s in sdp
            .sections()
            .filter(|s| s.media.port != 0 || s.media.has_attribute("bundle-only"))
        {
            for c in s.candidates() {
                if !candidates.iter().any(|have| have == c) {
                    candidates.push(c.to_owned());
                }
            }
            end_of_candidates |= s.end_of_candidates();
        }
        let data = data_index.map(|index| {
            let s = sdp.section(index);
            RemoteData {
                index,
                mid: sections[index].mid.clone(),
                sctp_port: s
                    .as_ref()
                    .and_then(|s| s.sctp_port())
                    .unwrap_or(DEFAULT_SCTP_PORT),
                max_message_size: s
                    .as_ref()
                    .and_then(|s| s.max_message_size())
                    .unwrap_or(DEFAULT_REMOTE_MAX_MESSAGE_SIZE),
            }
        });
        Ok(RemoteParams {
            ice,
            ice_lite: sdp.ice_lite(),
            // An unparsable value is ignored: the peer then counts as proposing the default.
            ice_pacing_ms: sdp
                .attribute_values("ice-pacing")
                .next()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .filter(|&ms| ms > 0),
            fingerprint,
            setup,
            candidates,
            end_of_candidates,
            data,
            sections,
        })
    }
}

/// An accepted `m=application ... UDP/DTLS/SCTP webrtc-datachannel` section (RFC 8841 §4.1). The
/// TCP/DTLS/SCTP variant is not usable over our UDP transport.
fn is_data_section(m: &oxirtc_sdp::MediaDescription) -> bool {
    m.kind == MediaKind::Application
        && m.port != 0
        && m.protocol.eq_ignore_ascii_case(DATA_PROTOCOL)
        && m.formats.iter().any(|f| f == DATA_FORMAT)
}

/// RFC 8842 §5: several fingerprints may be given; we need the SHA-256 one (the only hash we verify).
fn pick_fingerprint(fps: &[oxirtc_sdp::Fingerprint<'_>]) -> Result<Fingerprint, RtcError> {
    if fps.is_empty() {
        return Err(RtcError::Negotiation("missing a=fingerprint".into()));
    }
    let sha256 = fps
        .iter()
        .find(|f| f.hash_function.eq_ignore_ascii_case("sha-256"))
        .ok_or_else(|| {
            RtcError::Negotiation(format!(
                "a=fingerprint uses {}; only sha-256 is supported",
                fps[0].hash_function
            ))
        })?;
    format!("{} {}", sha256.hash_function, sha256.value)
        .parse::<Fingerprint>()
        .map_err(|e| RtcError::Negotiation(format!("bad a=fingerprint: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHROME_OFFER: &str = "v=0\r\no=- 46117 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n\
a=extmap-allow-mixed\r\na=msid-semantic: WMS\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n\
c=IN IP4 0.0.0.0\r\na=candidate:1467250027 1 udp 2122260223 127.0.0.1 54321 typ host generation 0\r\n\
a=ice-ufrag:Hx3v\r\na=ice-pwd:n6Gn0Tc8qAOtGcXlV5SC9NWy\r\na=ice-options:trickle\r\n\
a=fingerprint:sha-256 6B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08\r\n\
a=setup:actpass\r\na=mid:0\r\na=sctp-port:5000\r\na=max-message-size:262144\r\n";

    #[test]
    fn chrome_offer_yields_transport_and_data_parameters() {
        let sdp = SessionDescription::parse(CHROME_OFFER).unwrap();
        let p = RemoteParams::from_sdp(&sdp).unwrap();
        assert_eq!(p.ice.ufrag, "Hx3v");
        assert_eq!(p.setup, Setup::ActPass);
        assert_eq!(
            p.ice_pacing_ms, None,
            "Chrome proposes no pacing: the 50 ms default"
        );
        assert_eq!(p.candidates.len(), 1);
        let data = p.data.unwrap();
        assert_eq!(
            (data.mid.as_deref(), data.sctp_port, data.max_message_size),
            (Some("0"), 5000, 262_144)
        );
    }

    #[test]
    fn missing_or_unsupported_fingerprint_is_a_clear_error() {
        let no_fp = CHROME_OFFER.replace("a=fingerprint:sha-256", "a=x-fingerprint:sha-256");
        let e = RemoteParams::from_sdp(&SessionDescription::parse(&no_fp).unwrap()).unwrap_err();
        assert!(e.to_string().contains("missing a=fingerprint"), "{e}");
        let sha1 = CHROME_OFFER.replace("sha-256", "sha-1");
        let e = RemoteParams::from_sdp(&SessionDescription::parse(&sha1).unwrap()).unwrap_err();
        assert!(e.to_string().contains("only sha-256"), "{e}");
    }

    #[test]
    fn missing_max_message_size_defaults_to_64k() {
        let sdp = CHROME_OFFER.replace("a=max-message-size:262144\r\n", "");
        let p = RemoteParams::from_sdp(&SessionDescription::parse(&sdp).unwrap()).unwrap();
        assert_eq!(p.data.unwrap().max_message_size, 65_536);
    }
}
