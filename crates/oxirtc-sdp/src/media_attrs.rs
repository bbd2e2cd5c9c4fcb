//! Typed views of the RTP media-level attributes: `a=rtcp-fb` (RFC 4585 §4.2), `a=extmap`
//! (RFC 8285 §8), `a=msid` (RFC 8830 §2), `a=ssrc` and `a=ssrc-group` (RFC 5576 §4.1-4.2),
//! `a=rid` (RFC 8851 §4) and `a=simulcast` (RFC 8853 §5.1).
//!
//! Like the rest of this crate's accessors they read and never fail: a line whose value does not
//! have the grammar's shape is skipped (it stays available raw through `attribute_values`).

use crate::attrs::Direction;
use crate::model::MediaDescription;

/// Which payload types an `a=rtcp-fb` line applies to (RFC 4585 §4.2: `<fmt>` or `*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FbPayloadType {
    /// Every payload type of the section (`*`).
    All,
    /// One payload type.
    One(u8),
}

/// An `a=rtcp-fb` value (RFC 4585 §4.2): `<fmt|*> <type> [<param>]`, e.g. `96 nack pli`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtcpFb<'a> {
    /// The payload types it applies to.
    pub payload_type: FbPayloadType,
    /// The feedback type: `ack`, `nack`, `trr-int`, `ccm` (RFC 5104), `goog-remb`, `transport-cc`...
    pub kind: &'a str,
    /// The parameter after the type (`pli`, `fir`, `sli`...), as written.
    pub param: Option<&'a str>,
}

impl RtcpFb<'_> {
    /// Whether this line applies to `payload_type`.
    pub fn applies_to(&self, payload_type: u8) -> bool {
        match self.payload_type {
            FbPayloadType::All => true,
            FbPayloadType::One(pt) => pt == payload_type,
        }
    }
}

/// An `a=extmap` value (RFC 8285 §8): `<id>[/<direction>] <URI> [<extension attributes>]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtMap<'a> {
    /// The local identifier: 1-14 for one-byte headers, 1-255 with two-byte headers (RFC 8285 §5);
    /// 4096-4351 are reserved for negotiation and read as they are.
    pub id: u16,
    /// The direction, when written (RFC 8285 §7).
    pub direction: Option<Direction>,
    /// The extension's URI, e.g. `urn:ietf:params:rtp-hdrext:sdes:mid`.
    pub uri: &'a str,
    /// Extension attributes after the URI, as written.
    pub attributes: Option<&'a str>,
}

/// An `a=msid` value (RFC 8830 §2): `<stream id> [<track id>]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Msid<'a> {
    /// The MediaStream id (`-` for none, RFC 8829 §5.2.1).
    pub stream_id: &'a str,
    /// The application data: the track id in WebRTC, when written.
    pub track_id: Option<&'a str>,
}

/// An `a=ssrc` value (RFC 5576 §4.1): `<ssrc-id> <attribute>[:<value>]`, e.g. `1234 cname:abc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ssrc<'a> {
    /// The SSRC.
    pub ssrc: u32,
    /// The source attribute's name, e.g. `cname`, `msid`.
    pub attribute: &'a str,
    /// Its value, when written.
    pub value: Option<&'a str>,
}

/// An `a=ssrc-group` value (RFC 5576 §4.2): `<semantics> <ssrc-id> ...`, e.g. `FID 1 2` for
/// RTX (RFC 4588 §8.3) or `SIM 1 2 3`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsrcGroup<'a> {
    /// The semantics: `FID`, `FEC-FR`, `SIM`...
    pub semantics: &'a str,
    /// The SSRCs in order (for FID: primary first, then its retransmission stream).
    pub ssrcs: Vec<u32>,
}

/// The direction of an `a=rid` (RFC 8851 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RidDirection {
    /// `send`: the SDP's author sends this RTP stream.
    Send,
    /// `recv`: the SDP's author receives it.
    Recv,
}

/// An `a=rid` value (RFC 8851 §4): `<rid-id> <send|recv> [<pt=..;restrictions>]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rid<'a> {
    /// The rid-id (RFC 8851 §10: alphanumeric, `-` and `_`).
    pub id: &'a str,
    /// Send or receive.
    pub direction: RidDirection,
    /// The restrictions as written (`pt=96,97;max-width=1280`), if any.
    pub restrictions: Option<&'a str>,
}

/// One alternative in an `a=simulcast` stream list (RFC 8853 §5.1): a rid-id, maybe paused (`~`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimulcastRid<'a> {
    /// The rid-id it names.
    pub id: &'a str,
    /// Written with `~`: the stream is offered paused.
    pub paused: bool,
}

/// An `a=simulcast` value (RFC 8853 §5.1): `send <list>` and/or `recv <list>`. Each list holds
/// streams separated by `;`, each stream its alternatives separated by `,`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Simulcast<'a> {
    /// The streams the SDP's author sends.
    pub send: Vec<Vec<SimulcastRid<'a>>>,
    /// The streams the SDP's author receives.
    pub recv: Vec<Vec<SimulcastRid<'a>>>,
}

impl MediaDescription {
    /// `a=rtcp-fb` lines that parse (RFC 4585 §4.2).
    pub fn rtcp_fbs(&self) -> Vec<RtcpFb<'_>> {
        self.attribute_values("rtcp-fb")
            .filter_map(parse_rtcp_fb)
            .collect()
    }

    /// `a=extmap` lines that parse (RFC 8285 §8).
    pub fn extmaps(&self) -> Vec<ExtMap<'_>> {
        self.attribute_values("extmap").filter_map(parse_extmap).collect()
    }

    /// `a=msid` lines that parse (RFC 8830 §2; a section may carry several).
    pub fn msids(&self) -> Vec<Msid<'_>> {
        self.attribute_values("msid").filter_map(parse_msid).collect()
    }

    /// `a=ssrc` lines that parse (RFC 5576 §4.1).
    pub fn ssrcs(&self) -> Vec<Ssrc<'_>> {
        self.attribute_values("ssrc").filter_map(parse_ssrc).collect()
    }

    /// `a=ssrc-group` lines that parse (RFC 5576 §4.2).
    pub fn ssrc_groups(&self) -> Vec<SsrcGroup<'_>> {
        self.attribute_values("ssrc-group")
            .filter_map(parse_ssrc_group)
            .collect()
    }

    /// `a=rid` lines that parse (RFC 8851 §4).
    pub fn rids(&self) -> Vec<Rid<'_>> {
        self.attribute_values("rid").filter_map(parse_rid).collect()
    }

    /// The `a=simulcast` line, if one parses (RFC 8853 §5.1: at most one per section).
    pub fn simulcast(&self) -> Option<Simulcast<'_>> {
        self.attribute_values("simulcast").find_map(parse_simulcast)
    }

    /// `a=rtcp-rsize` (RFC 5506 §5).
    pub fn rtcp_rsize(&self) -> bool {
        self.has_attribute("rtcp-rsize")
    }
}

fn payload_type(token: &str) -> Option<u8> {
    token.parse().ok().filter(|&p: &u8| p < 128)
}

// RFC 4585 §4.2: rtcp-fb-pt SP rtcp-fb-val, the value being a type and an optional parameter.
fn parse_rtcp_fb(v: &str) -> Option<RtcpFb<'_>> {
    let (pt, rest) = v.trim().split_once(' ')?;
    let payload_type = if pt == "*" {
        FbPayloadType::All
    } else {
        FbPayloadType::One(payload_type(pt)?)
    };
    let rest = rest.trim();
    let (kind, param) = match rest.split_once(' ') {
        Some((k, p)) => (k, Some(p.trim()).filter(|p| !p.is_empty())),
        None => (rest, None),
    };
    (!kind.is_empty()).then_some(RtcpFb {
        payload_type,
        kind,
        param,
    })
}

// RFC 8285 §8: extmap = mapentry SP extensionname [SP extensionattributes];
// mapentry = "extmap:" 1*5DIGIT ["/" direction].
fn parse_extmap(v: &str) -> Option<ExtMap<'_>> {
    let mut parts = v.trim().splitn(3, ' ');
    let entry = parts.next()?;
    let uri = parts.next().filter(|u| !u.is_empty())?;
    let attributes = parts.next().map(str::trim).filter(|a| !a.is_empty());
    let (id, direction) = match entry.split_once('/') {
        Some((id, dir)) => (id, Some(Direction::from_token(dir)?)),
        None => (entry, None),
    };
    let id: u16 = id.parse().ok().filter(|&i| i >= 1)?;
    Some(ExtMap {
        id,
        direction,
        uri,
        attributes,
    })
}

// RFC 8830 §2: msid-value = msid-id [ SP msid-appdata ].
fn parse_msid(v: &str) -> Option<Msid<'_>> {
    let mut parts = v.split_whitespace();
    let stream_id = parts.next()?;
    Some(Msid {
        stream_id,
        track_id: parts.next(),
    })
}

// RFC 5576 §4.1: ssrc-id SP attribute [":" value].
fn parse_ssrc(v: &str) -> Option<Ssrc<'_>> {
    let (id, rest) = v.trim().split_once(' ')?;
    let ssrc = id.parse().ok()?;
    let rest = rest.trim();
    let (attribute, value) = match rest.split_once(':') {
        Some((a, v)) => (a, Some(v)),
        None => (rest, None),
    };
    (!attribute.is_empty()).then_some(Ssrc {
        ssrc,
        attribute,
        value,
    })
}

// RFC 5576 §4.2: semantics *(SP ssrc-id). A group bigger than any real one is not a group.
const MAX_GROUP: usize = 16;

fn parse_ssrc_group(v: &str) -> Option<SsrcGroup<'_>> {
    let mut parts = v.split_whitespace();
    let semantics = parts.next()?;
    let mut ssrcs = Vec::new();
    for p in parts {
        if ssrcs.len() == MAX_GROUP {
            return None;
        }
        ssrcs.push(p.parse().ok()?);
    }
    Some(SsrcGroup { semantics, ssrcs })
}

// RFC 8851 §10: rid-id = 1*(alpha-numeric / "-" / "_"); RFC 8852 §3.1 keeps it to 16 bytes on the wire.
fn is_rid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 255
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

// RFC 8851 §10: rid-syntax = "a=rid:" rid-id SP rid-dir [ rid-pt-param-list / rid-param-list ].
fn parse_rid(v: &str) -> Option<Rid<'_>> {
    let mut parts = v.trim().splitn(3, ' ');
    let id = parts.next().filter(|id| is_rid_id(id))?;
    let direction = match parts.next()? {
        "send" => RidDirection::Send,
        "recv" => RidDirection::Recv,
        _ => return None,
    };
    Some(Rid {
        id,
        direction,
        restrictions: parts.next().map(str::trim).filter(|r| !r.is_empty()),
    })
}

// RFC 8853 §5.1: sc-value = ( sc-send [SP sc-recv] ) / ( sc-recv [SP sc-send] );
// sc-str-list = sc-alt-list *( ";" sc-alt-list ); sc-alt-list = sc-id *( "," sc-id );
// sc-id = [sc-id-paused] rid-id, sc-id-paused = "~".
const MAX_SIMULCAST_IDS: usize = 32;

fn parse_simulcast(v: &str) -> Option<Simulcast<'_>> {
    let mut out = Simulcast::default();
    let mut parts = v.split_whitespace();
    let mut seen = (false, false);
    let mut ids = 0;
    while let Some(dir) = parts.next() {
        let list = parse_stream_list(parts.next()?, &mut ids)?;
        match dir {
            "send" if !seen.0 => {
                seen.0 = true;
                out.send = list;
            }
            "recv" if !seen.1 => {
                seen.1 = true;
                out.recv = list;
            }
            _ => return None,
        }
    }
    (seen.0 || seen.1).then_some(out)
}

fn parse_stream_list<'a>(list: &'a str, ids: &mut usize) -> Option<Vec<Vec<SimulcastRid<'a>>>> {
    list.split(';')
        .map(|alternatives| {
            alternatives
                .split(',')
                .map(|id| {
                    *ids += 1;
                    let (paused, id) = match id.strip_prefix('~') {
                        Some(rest) => (true, rest),
                        None => (false, id),
                    };
                    (*ids <= MAX_SIMULCAST_IDS && is_rid_id(id)).then_some(SimulcastRid { id, paused })
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::CHROME_AV;
    use crate::model::{Attribute, MediaKind, SessionDescription};

    fn section(attrs: &[(&str, &str)]) -> MediaDescription {
        let mut m = MediaDescription::new(MediaKind::Video, 9, "UDP/TLS/RTP/SAVPF", vec!["96".into()]);
        m.attributes = attrs.iter().map(|(n, v)| Attribute::new(*n, *v)).collect();
        m
    }

    #[test]
    fn chrome_offer_media_attributes() {
        let sdp = SessionDescription::parse(CHROME_AV).expect("parses");
        let video = &sdp.media[1];
        let fbs = video.rtcp_fbs();
        assert!(fbs.contains(&RtcpFb {
            payload_type: FbPayloadType::One(96),
            kind: "nack",
            param: Some("pli"),
        }));
        assert!(fbs.iter().any(|f| f.kind == "transport-cc" && f.applies_to(96)));
        let exts = video.extmaps();
        assert!(exts
            .iter()
            .any(|e| e.id == 3 && e.uri.ends_with("transport-wide-cc-extensions-01")));
        let audio = sdp.media[0].extmaps();
        assert!(audio
            .iter()
            .any(|e| e.id == 4 && e.uri == "urn:ietf:params:rtp-hdrext:sdes:mid"));
        assert!(exts.iter().all(|e| (1..=255).contains(&e.id)));
        let groups = video.ssrc_groups();
        assert_eq!(
            groups.first().map(|g| (g.semantics, g.ssrcs.len())),
            Some(("FID", 2))
        );
        let msid = video.msids();
        assert_eq!(msid.len(), 1);
        assert!(msid[0].track_id.is_some());
        assert!(video
            .ssrcs()
            .iter()
            .any(|s| s.attribute == "cname" && s.value.is_some()));
        assert!(video.rtcp_rsize());
    }

    #[test]
    fn rtcp_fb_forms() {
        let m = section(&[
            ("rtcp-fb", "* ccm fir"),
            ("rtcp-fb", "96 goog-remb"),
            ("rtcp-fb", "96 trr-int 100"),
            ("rtcp-fb", "200 nack"), // payload type out of range
            ("rtcp-fb", "96"),       // no type
        ]);
        let fbs = m.rtcp_fbs();
        assert_eq!(fbs.len(), 3);
        assert_eq!(fbs[0].payload_type, FbPayloadType::All);
        assert!(fbs[0].applies_to(127));
        assert_eq!((fbs[1].kind, fbs[1].param), ("goog-remb", None));
        assert_eq!(fbs[2].param, Some("100"));
    }

    #[test]
    fn extmap_forms() {
        let m = section(&[
            ("extmap", "1 urn:ietf:params:rtp-hdrext:ssrc-audio-level vad=on"),
            (
                "extmap",
                "3/sendonly http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
            ),
            ("extmap", "0 urn:x"),          // id 0 is not an id
            ("extmap", "5/sideways urn:x"), // unknown direction
            ("extmap", "7"),                // no URI
        ]);
        let e = m.extmaps();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].attributes, Some("vad=on"));
        assert_eq!((e[1].id, e[1].direction), (3, Some(Direction::SendOnly)));
    }

    #[test]
    fn rid_and_simulcast() {
        let m = section(&[
            ("rid", "q send"),
            ("rid", "h send pt=96;max-width=640"),
            ("rid", "f recv"),
            ("rid", "bad! send"),
            ("rid", "x both"),
            ("simulcast", "send q;h,~f recv r"),
        ]);
        let rids = m.rids();
        assert_eq!(rids.len(), 3);
        assert_eq!(rids[1].restrictions, Some("pt=96;max-width=640"));
        assert_eq!(rids[2].direction, RidDirection::Recv);
        let sc = m.simulcast().expect("parses");
        assert_eq!(sc.send.len(), 2);
        assert_eq!(
            sc.send[1][1],
            SimulcastRid {
                id: "f",
                paused: true
            }
        );
        assert_eq!(
            sc.recv,
            vec![vec![SimulcastRid {
                id: "r",
                paused: false
            }]]
        );
        for bad in ["send", "send a recv", "send a send b", "up a", "send a;;b"] {
            assert_eq!(section(&[("simulcast", bad)]).simulcast(), None, "{bad}");
        }
        let many = (0..40).map(|i| format!("r{i}")).collect::<Vec<_>>().join(";");
        assert_eq!(
            section(&[("simulcast", &format!("send {many}"))]).simulcast(),
            None
        );
    }

    #[test]
    fn ssrc_lines_and_groups() {
        let m = section(&[
            ("ssrc", "3735928559 cname:4TOk42mSjXCkVIa6"),
            ("ssrc", "3735928559 msid:stream track"),
            ("ssrc", "12 label"),
            ("ssrc", "x cname:y"),
            ("ssrc-group", "FID 3735928559 12"),
            ("ssrc-group", "SIM 1 2 x"),
        ]);
        let s = m.ssrcs();
        assert_eq!(s.len(), 3);
        assert_eq!(s[1].value, Some("stream track"));
        assert_eq!(
            s[2],
            Ssrc {
                ssrc: 12,
                attribute: "label",
                value: None
            }
        );
        assert_eq!(
            m.ssrc_groups(),
            vec![SsrcGroup {
                semantics: "FID",
                ssrcs: vec![3_735_928_559, 12]
            }]
        );
    }
}
