//! Typed views of the attributes WebRTC uses (RFC 8829 §5), on both levels, and [`Section`], a
//! media section seen together with its session so values fall back to the session level.
//!
//! Accessors read; they never fail. A value that does not have the expected syntax reads as absent
//! (the raw text stays available through [`SessionDescription::attribute`]).

use std::ops::Deref;

use crate::model::{Attribute, MediaDescription, SessionDescription};

/// The `a=fingerprint` value (RFC 8122 §5, used by RFC 8842 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint<'a> {
    /// Hash function name, e.g. `sha-256`.
    pub hash_function: &'a str,
    /// Colon-separated upper-case hex bytes, as written.
    pub value: &'a str,
}

/// The `a=setup` role (RFC 4145 §4, RFC 8842 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Setup {
    /// `active`: this side opens the connection (DTLS client).
    Active,
    /// `passive`: this side accepts the connection (DTLS server).
    Passive,
    /// `actpass`: either role; offers use it (RFC 8842 §5.2).
    ActPass,
    /// `holdconn`: no connection now.
    HoldConn,
}

impl Setup {
    /// Parses the attribute value.
    pub fn from_token(token: &str) -> Option<Self> {
        match token {
            "active" => Some(Self::Active),
            "passive" => Some(Self::Passive),
            "actpass" => Some(Self::ActPass),
            "holdconn" => Some(Self::HoldConn),
            _ => None,
        }
    }

    /// The attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Passive => "passive",
            Self::ActPass => "actpass",
            Self::HoldConn => "holdconn",
        }
    }
}

/// The media direction attributes (RFC 8866 §6.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `a=sendrecv`, the default.
    SendRecv,
    /// `a=sendonly`
    SendOnly,
    /// `a=recvonly`
    RecvOnly,
    /// `a=inactive`
    Inactive,
}

impl Direction {
    /// Maps an attribute name to a direction.
    pub fn from_token(token: &str) -> Option<Self> {
        match token {
            "sendrecv" => Some(Self::SendRecv),
            "sendonly" => Some(Self::SendOnly),
            "recvonly" => Some(Self::RecvOnly),
            "inactive" => Some(Self::Inactive),
            _ => None,
        }
    }

    /// The attribute name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SendRecv => "sendrecv",
            Self::SendOnly => "sendonly",
            Self::RecvOnly => "recvonly",
            Self::Inactive => "inactive",
        }
    }
}

/// An `a=group` value (RFC 5888 §5), e.g. `BUNDLE 0 1` (RFC 8843 §7.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group<'a> {
    /// Semantics token, e.g. `BUNDLE`.
    pub semantics: &'a str,
    /// Identification tags (mids) in order.
    pub mids: Vec<&'a str>,
}

/// An `a=rtpmap` value (RFC 8866 §6.6): `<payload type> <encoding name>/<clock rate>[/<params>]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpMap<'a> {
    /// RTP payload type, 0..=127.
    pub payload_type: u8,
    /// Encoding name, e.g. `opus`, `VP8`.
    pub encoding_name: &'a str,
    /// Clock rate in Hz.
    pub clock_rate: u32,
    /// Encoding parameters (audio: channel count), as written.
    pub encoding_params: Option<&'a str>,
}

/// An `a=fmtp` value (RFC 8866 §6.15): `<format> <format specific parameters>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fmtp<'a> {
    /// The format (RTP payload type) it applies to.
    pub payload_type: u8,
    /// The parameters as written, e.g. `minptime=10;useinbandfec=1`.
    pub params: &'a str,
}

impl<'a> Fmtp<'a> {
    /// The `;`-separated parameters as `(key, value)`; a parameter without `=` has no value.
    pub fn parameters(&self) -> impl Iterator<Item = (&'a str, Option<&'a str>)> + 'a {
        self.params
            .split(';')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (k.trim(), Some(v.trim())),
                None => (p, None),
            })
    }
}

/// Accessors shared by the session level and a media section's own attributes.
fn value<'a>(attrs: &'a [Attribute], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|a| a.name == name)
        .and_then(|a| a.value.as_deref())
}

fn values<'a>(attrs: &'a [Attribute], name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    attrs
        .iter()
        .filter(move |a| a.name == name)
        .filter_map(|a| a.value.as_deref())
}

fn has(attrs: &[Attribute], name: &str) -> bool {
    attrs.iter().any(|a| a.name == name)
}

fn fingerprints(attrs: &[Attribute]) -> Vec<Fingerprint<'_>> {
    values(attrs, "fingerprint")
        .filter_map(|v| {
            let (hash_function, value) = v.trim().split_once(' ')?;
            Some(Fingerprint {
                hash_function,
                value: value.trim(),
            })
        })
        .collect()
}

fn direction(attrs: &[Attribute]) -> Option<Direction> {
    attrs
        .iter()
        .filter(|a| a.value.is_none())
        .find_map(|a| Direction::from_token(&a.name))
}

fn setup(attrs: &[Attribute]) -> Option<Setup> {
    value(attrs, "setup").and_then(|v| Setup::from_token(v.trim()))
}

fn ice_options(attrs: &[Attribute]) -> Option<Vec<&str>> {
    value(attrs, "ice-options").map(|v| v.split_ascii_whitespace().collect())
}

fn first<T>(v: Vec<T>) -> Option<T> {
    v.into_iter().next()
}

impl SessionDescription {
    /// The first session-level attribute called `name`.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// Values of all session-level attributes called `name`.
    pub fn attribute_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        values(&self.attributes, name)
    }

    /// Whether a session-level attribute called `name` is present.
    pub fn has_attribute(&self, name: &str) -> bool {
        has(&self.attributes, name)
    }

    /// All `a=group` lines (RFC 5888 §5).
    pub fn groups(&self) -> Vec<Group<'_>> {
        values(&self.attributes, "group")
            .filter_map(|v| {
                let mut it = v.split_ascii_whitespace();
                Some(Group {
                    semantics: it.next()?,
                    mids: it.collect(),
                })
            })
            .collect()
    }

    /// The mids of the first `a=group:BUNDLE` line (RFC 8843 §7.1).
    pub fn bundle_mids(&self) -> Option<Vec<&str>> {
        self.groups()
            .into_iter()
            .find(|g| g.semantics == "BUNDLE")
            .map(|g| g.mids)
    }

    /// Session-level `a=ice-ufrag` (RFC 8839 §5.4).
    pub fn ice_ufrag(&self) -> Option<&str> {
        value(&self.attributes, "ice-ufrag")
    }

    /// Session-level `a=ice-pwd` (RFC 8839 §5.4).
    pub fn ice_pwd(&self) -> Option<&str> {
        value(&self.attributes, "ice-pwd")
    }

    /// Session-level `a=ice-options` tokens, e.g. `trickle` (RFC 8839 §5.6).
    pub fn ice_options(&self) -> Option<Vec<&str>> {
        ice_options(&self.attributes)
    }

    /// `a=ice-lite`, session level only (RFC 8839 §5.3).
    pub fn ice_lite(&self) -> bool {
        has(&self.attributes, "ice-lite")
    }

    /// Session-level `a=fingerprint` lines (RFC 8842 §5).
    pub fn fingerprints(&self) -> Vec<Fingerprint<'_>> {
        fingerprints(&self.attributes)
    }

    /// Session-level `a=setup` (RFC 8842 §5.1).
    pub fn setup(&self) -> Option<Setup> {
        setup(&self.attributes)
    }

    /// `a=msid-semantic` value, trimmed (Chrome writes `a=msid-semantic: WMS`).
    pub fn msid_semantic(&self) -> Option<&str> {
        value(&self.attributes, "msid-semantic").map(str::trim)
    }

    /// Session-level `a=extmap-allow-mixed` (RFC 8285 §6).
    pub fn extmap_allow_mixed(&self) -> bool {
        has(&self.attributes, "extmap-allow-mixed")
    }

    /// Session-level direction attribute, if any (RFC 8866 §6.7).
    pub fn direction(&self) -> Option<Direction> {
        direction(&self.attributes)
    }

    /// Media section `index` seen with this session, for values that fall back to it.
    pub fn section(&self, index: usize) -> Option<Section<'_>> {
        self.media
            .get(index)
            .map(|media| Section { session: self, media })
    }

    /// All media sections seen with this session.
    pub fn sections(&self) -> impl Iterator<Item = Section<'_>> + '_ {
        self.media
            .iter()
            .map(move |media| Section { session: self, media })
    }

    /// The media section whose `a=mid` is `mid` (RFC 8843 §7.1).
    pub fn section_by_mid(&self, mid: &str) -> Option<Section<'_>> {
        self.sections().find(|s| s.mid() == Some(mid))
    }
}

impl MediaDescription {
    /// The first attribute of this section called `name`.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// Values of all attributes of this section called `name`.
    pub fn attribute_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        values(&self.attributes, name)
    }

    /// Whether this section has an attribute called `name`.
    pub fn has_attribute(&self, name: &str) -> bool {
        has(&self.attributes, name)
    }

    /// `a=mid` (RFC 5888 §4, RFC 8843).
    pub fn mid(&self) -> Option<&str> {
        value(&self.attributes, "mid")
    }

    /// `a=candidate` values, raw (RFC 8839 §5.1).
    pub fn candidates(&self) -> impl Iterator<Item = &str> + '_ {
        values(&self.attributes, "candidate")
    }

    /// `a=end-of-candidates` (RFC 8838 §8.2).
    pub fn end_of_candidates(&self) -> bool {
        has(&self.attributes, "end-of-candidates")
    }

    /// `a=sctp-port` (RFC 8841 §5).
    pub fn sctp_port(&self) -> Option<u16> {
        value(&self.attributes, "sctp-port").and_then(|v| v.trim().parse().ok())
    }

    /// `a=max-message-size` (RFC 8841 §6).
    pub fn max_message_size(&self) -> Option<u64> {
        value(&self.attributes, "max-message-size").and_then(|v| v.trim().parse().ok())
    }

    /// `a=rtcp-mux` (RFC 5761 §5.1.1).
    pub fn rtcp_mux(&self) -> bool {
        has(&self.attributes, "rtcp-mux")
    }

    /// `a=rtpmap` lines that parse (RFC 8866 §6.6).
    pub fn rtpmaps(&self) -> Vec<RtpMap<'_>> {
        values(&self.attributes, "rtpmap")
            .filter_map(parse_rtpmap)
            .collect()
    }

    /// The `a=rtpmap` for one payload type.
    pub fn rtpmap(&self, payload_type: u8) -> Option<RtpMap<'_>> {
        self.rtpmaps()
            .into_iter()
            .find(|r| r.payload_type == payload_type)
    }

    /// `a=fmtp` lines that parse (RFC 8866 §6.15).
    pub fn fmtps(&self) -> Vec<Fmtp<'_>> {
        values(&self.attributes, "fmtp")
            .filter_map(|v| {
                let (pt, params) = v.split_once(' ')?;
                Some(Fmtp {
                    payload_type: pt.parse().ok().filter(|&p: &u8| p < 128)?,
                    params,
                })
            })
            .collect()
    }

    /// The `a=fmtp` for one payload type.
    pub fn fmtp(&self, payload_type: u8) -> Option<Fmtp<'_>> {
        self.fmtps().into_iter().find(|f| f.payload_type == payload_type)
    }

    /// `a=ssrc` values, raw (RFC 5576 §4.1).
    pub fn ssrc_lines(&self) -> impl Iterator<Item = &str> + '_ {
        values(&self.attributes, "ssrc")
    }
}

fn parse_rtpmap(v: &str) -> Option<RtpMap<'_>> {
    let (pt, rest) = v.split_once(' ')?;
    let payload_type = pt.parse().ok().filter(|&p: &u8| p < 128)?;
    let mut parts = rest.trim().splitn(3, '/');
    let encoding_name = parts.next().filter(|n| !n.is_empty())?;
    let clock_rate = parts.next()?.parse().ok()?;
    Some(RtpMap {
        payload_type,
        encoding_name,
        clock_rate,
        encoding_params: parts.next(),
    })
}

/// A media section together with its session: accessors for attributes allowed at both levels
/// return the media-level value, else the session-level one.
#[derive(Debug, Clone, Copy)]
pub struct Section<'a> {
    /// The whole description.
    pub session: &'a SessionDescription,
    /// This media section.
    pub media: &'a MediaDescription,
}

impl<'a> Deref for Section<'a> {
    type Target = MediaDescription;
    fn deref(&self) -> &MediaDescription {
        self.media
    }
}

impl<'a> Section<'a> {
    fn either(&self, name: &str) -> Option<&'a str> {
        value(&self.media.attributes, name).or_else(|| value(&self.session.attributes, name))
    }

    /// `a=ice-ufrag`, media level else session level (RFC 8839 §5.4).
    pub fn ice_ufrag(&self) -> Option<&'a str> {
        self.either("ice-ufrag")
    }

    /// `a=ice-pwd`, media level else session level (RFC 8839 §5.4).
    pub fn ice_pwd(&self) -> Option<&'a str> {
        self.either("ice-pwd")
    }

    /// `a=ice-options`, media level else session level (RFC 8839 §5.6).
    pub fn ice_options(&self) -> Option<Vec<&'a str>> {
        ice_options(&self.media.attributes).or_else(|| ice_options(&self.session.attributes))
    }

    /// `a=fingerprint` lines, media level if any else session level (RFC 8122 §5).
    pub fn fingerprints(&self) -> Vec<Fingerprint<'a>> {
        let own = fingerprints(&self.media.attributes);
        if own.is_empty() {
            fingerprints(&self.session.attributes)
        } else {
            own
        }
    }

    /// The first fingerprint from [`fingerprints`](Self::fingerprints).
    pub fn fingerprint(&self) -> Option<Fingerprint<'a>> {
        first(self.fingerprints())
    }

    /// `a=setup`, media level else session level (RFC 4145 §4).
    pub fn setup(&self) -> Option<Setup> {
        setup(&self.media.attributes).or_else(|| setup(&self.session.attributes))
    }

    /// Direction: media level, else session level, else `sendrecv` (RFC 8866 §6.7).
    pub fn direction(&self) -> Direction {
        direction(&self.media.attributes)
            .or_else(|| direction(&self.session.attributes))
            .unwrap_or(Direction::SendRecv)
    }

    /// `a=extmap-allow-mixed` at either level (RFC 8285 §6).
    pub fn extmap_allow_mixed(&self) -> bool {
        has(&self.media.attributes, "extmap-allow-mixed") || self.session.extmap_allow_mixed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{CHROME_AV, CHROME_DC, FIREFOX_DC};

    fn parse(text: &str) -> SessionDescription {
        SessionDescription::parse(text).expect("parses")
    }

    #[test]
    fn chrome_data_channel_accessors() {
        let sdp = parse(CHROME_DC);
        assert_eq!(sdp.bundle_mids(), Some(vec!["0"]));
        assert_eq!(
            sdp.groups(),
            vec![Group {
                semantics: "BUNDLE",
                mids: vec!["0"]
            }]
        );
        assert!(sdp.extmap_allow_mixed());
        assert_eq!(sdp.msid_semantic(), Some("WMS"));
        assert!(!sdp.ice_lite());
        assert_eq!(sdp.ice_ufrag(), None);
        let s = sdp.section_by_mid("0").expect("mid 0");
        assert_eq!(s.mid(), Some("0"));
        assert_eq!(s.ice_ufrag(), Some("Hx3v"));
        assert_eq!(s.ice_pwd(), Some("n6Gn0Tc8qAOtGcXlV5SC9NWy"));
        assert_eq!(s.ice_options(), Some(vec!["trickle"]));
        let fp = s.fingerprint().expect("fingerprint");
        assert_eq!(fp.hash_function, "sha-256");
        assert!(fp.value.starts_with("6B:8B:F0") && fp.value.ends_with("2C:19:08"));
        assert_eq!(s.setup(), Some(Setup::ActPass));
        assert_eq!(s.sctp_port(), Some(5000));
        assert_eq!(s.max_message_size(), Some(262_144));
        assert_eq!(s.candidates().count(), 3);
        assert!(s.candidates().all(|c| c.contains(" typ ")));
        assert!(!s.end_of_candidates());
        assert_eq!(s.direction(), Direction::SendRecv);
        assert!(s.extmap_allow_mixed());
        assert!(!s.rtcp_mux());
        assert!(sdp.section_by_mid("1").is_none());
        assert!(sdp.section(1).is_none());
    }

    #[test]
    fn firefox_session_level_values_fall_back() {
        let sdp = parse(FIREFOX_DC);
        assert_eq!(sdp.fingerprints().len(), 1);
        assert_eq!(sdp.ice_options(), Some(vec!["trickle"]));
        assert_eq!(sdp.msid_semantic(), Some("WMS *"));
        let s = sdp.section(0).expect("section");
        assert!(s.media.fingerprint_is_absent_here());
        assert_eq!(s.fingerprint().map(|f| f.hash_function), Some("sha-256"));
        assert_eq!(s.ice_options(), Some(vec!["trickle"]));
        assert_eq!(s.ice_ufrag(), Some("9d2c1f0e"));
        assert!(s.end_of_candidates());
        assert_eq!(s.max_message_size(), Some(1_073_741_823));
        assert_eq!(s.direction(), Direction::SendRecv);
    }

    impl MediaDescription {
        fn fingerprint_is_absent_here(&self) -> bool {
            fingerprints(&self.attributes).is_empty()
        }
    }

    #[test]
    fn media_level_overrides_session_level() {
        let text = "v=0\r\no=- 1 2 IN IP4 x\r\ns=-\r\nt=0 0\r\na=ice-lite\r\na=ice-ufrag:sess\r\n\
            a=ice-pwd:sesspwd\r\na=setup:passive\r\na=ice-options:ice2 trickle\r\na=recvonly\r\n\
            m=audio 9 RTP/AVP 0\r\na=ice-ufrag:media\r\na=setup:active\r\na=inactive\r\n\
            m=audio 9 RTP/AVP 0\r\na=setup:bogus\r\n";
        let sdp = parse(text);
        assert!(sdp.ice_lite());
        assert_eq!(sdp.direction(), Some(Direction::RecvOnly));
        assert_eq!(sdp.setup(), Some(Setup::Passive));
        let first = sdp.section(0).expect("first");
        assert_eq!(first.ice_ufrag(), Some("media"));
        assert_eq!(first.ice_pwd(), Some("sesspwd"));
        assert_eq!(first.setup(), Some(Setup::Active));
        assert_eq!(first.direction(), Direction::Inactive);
        assert_eq!(first.ice_options(), Some(vec!["ice2", "trickle"]));
        let second = sdp.section(1).expect("second");
        assert_eq!(second.ice_ufrag(), Some("sess"));
        assert_eq!(
            second.setup(),
            Some(Setup::Passive),
            "malformed media value reads as absent"
        );
        assert_eq!(second.direction(), Direction::RecvOnly);
        assert_eq!(sdp.sections().count(), 2);
    }

    #[test]
    fn chrome_audio_video_rtp_attributes() {
        let sdp = parse(CHROME_AV);
        assert_eq!(sdp.bundle_mids(), Some(vec!["0", "1"]));
        let audio = sdp.section_by_mid("0").expect("audio");
        assert!(audio.rtcp_mux());
        assert_eq!(audio.direction(), Direction::SendRecv);
        let opus = audio.rtpmap(111).expect("opus");
        assert_eq!(
            opus,
            RtpMap {
                payload_type: 111,
                encoding_name: "opus",
                clock_rate: 48_000,
                encoding_params: Some("2")
            }
        );
        assert_eq!(audio.rtpmaps().len(), 8);
        assert_eq!(
            audio.rtpmap(0).map(|r| (r.encoding_name, r.encoding_params)),
            Some(("PCMU", None))
        );
        let fmtp = audio.fmtp(111).expect("fmtp");
        assert_eq!(fmtp.params, "minptime=10;useinbandfec=1");
        let params: Vec<_> = fmtp.parameters().collect();
        assert_eq!(
            params,
            vec![("minptime", Some("10")), ("useinbandfec", Some("1"))]
        );
        assert_eq!(
            audio.fmtp(63).map(|f| f.parameters().collect::<Vec<_>>()),
            Some(vec![("111/111", None)])
        );
        assert_eq!(audio.ssrc_lines().count(), 2);
        assert!(audio.fmtp(9).is_none());

        let video = sdp.section_by_mid("1").expect("video");
        assert_eq!(video.direction(), Direction::SendOnly);
        assert_eq!(video.rtpmap(45).map(|r| r.encoding_name), Some("AV1"));
        assert_eq!(video.fmtp(97).map(|f| f.params), Some("apt=96"));
        assert_eq!(video.fmtps().len(), 4);
        assert_eq!(
            video.ssrc_lines().next(),
            Some("1873422401 cname:x9Lk2Fq1VbN7pQ0s")
        );
        assert_eq!(video.attribute_values("rtcp-fb").count(), 5);
        assert_eq!(
            video.attribute("ssrc-group").and_then(|a| a.value.as_deref()),
            Some("FID 1873422401 3620164993")
        );
    }

    #[test]
    fn malformed_typed_values_read_as_absent() {
        let text = "v=0\r\no=- 1 2 IN IP4 x\r\ns=-\r\nt=0 0\r\na=group\r\na=group:LS a b\r\n\
            m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=sctp-port:70000\r\n\
            a=max-message-size:big\r\na=rtpmap:200 x/1\r\na=rtpmap:96 VP8\r\na=rtpmap:97 /9000\r\n\
            a=fmtp:300 a=b\r\na=fmtp:96\r\na=fingerprint:sha-256\r\na=mid\r\n";
        let sdp = parse(text);
        assert_eq!(
            sdp.groups(),
            vec![Group {
                semantics: "LS",
                mids: vec!["a", "b"]
            }]
        );
        assert_eq!(sdp.bundle_mids(), None);
        let s = sdp.section(0).expect("section");
        assert_eq!(s.sctp_port(), None);
        assert_eq!(s.max_message_size(), None);
        assert!(s.rtpmaps().is_empty());
        assert!(s.fmtps().is_empty());
        assert!(s.fingerprints().is_empty());
        assert_eq!(s.mid(), None);
        assert!(s.has_attribute("mid"));
    }

    #[test]
    fn enum_tokens_round_trip() {
        for s in [Setup::Active, Setup::Passive, Setup::ActPass, Setup::HoldConn] {
            assert_eq!(Setup::from_token(s.as_str()), Some(s));
        }
        for d in [
            Direction::SendRecv,
            Direction::SendOnly,
            Direction::RecvOnly,
            Direction::Inactive,
        ] {
            assert_eq!(Direction::from_token(d.as_str()), Some(d));
        }
        assert_eq!(Setup::from_token("ACTIVE"), None);
        assert_eq!(Direction::from_token("both"), None);
    }
}
