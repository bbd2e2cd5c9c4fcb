//! Text → model. Lenient where browsers are (CRLF or LF, blank lines, unknown line types, unknown
//! attributes), strict about structure and numbers (RFC 8866 §5, §9 grammar).

use std::str::{FromStr, SplitAsciiWhitespace};

use crate::model::{
    Attribute, Bandwidth, Connection, MediaDescription, MediaKind, Origin, SessionDescription, Timing,
};
use crate::SdpError;

/// Largest input accepted, in bytes; longer input is an error, never truncated.
pub const MAX_SDP_LEN: usize = 64 * 1024;
/// Most `m=` sections accepted in one description.
pub const MAX_MEDIA: usize = 256;
/// Most `a=` lines accepted at the session level or in one media section.
pub const MAX_ATTRIBUTES: usize = 1024;

/// What the lenient parser skipped, returned by [`SessionDescription::parse_with_report`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParseReport {
    /// Lines whose type letter RFC 8866 does not define (RFC 8866 §5: "parsers MUST ignore").
    pub ignored_lines: usize,
}

impl SessionDescription {
    /// Parses a description; see [`parse_with_report`](Self::parse_with_report).
    pub fn parse(text: &str) -> Result<Self, SdpError> {
        Self::parse_with_report(text).map(|(sdp, _)| sdp)
    }

    /// Parses raw bytes, reporting the line of the first invalid UTF-8 sequence.
    pub fn parse_bytes(bytes: &[u8]) -> Result<Self, SdpError> {
        check_len(bytes.len())?;
        match std::str::from_utf8(bytes) {
            Ok(text) => Self::parse(text),
            Err(e) => {
                let before = &bytes[..e.valid_up_to()];
                let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
                Err(SdpError::NotUtf8 { line })
            }
        }
    }

    /// Parses a description and reports what was skipped. Lines may end in CRLF or LF; blank
    /// lines are skipped; lines of unknown type are counted and dropped; unknown attributes are
    /// kept verbatim.
    pub fn parse_with_report(text: &str) -> Result<(Self, ParseReport), SdpError> {
        check_len(text.len())?;
        let mut p = Parser::default();
        let mut last = 0;
        for (index, raw) in text.split('\n').enumerate() {
            let line = index + 1;
            last = line;
            let content = raw.strip_suffix('\r').unwrap_or(raw);
            if !content.is_empty() {
                p.line(line, content)?;
            }
        }
        p.finish(last + 1)
    }
}

fn check_len(len: usize) -> Result<(), SdpError> {
    if len > MAX_SDP_LEN {
        return Err(SdpError::TooLarge {
            len,
            max: MAX_SDP_LEN,
        });
    }
    Ok(())
}

#[derive(Default)]
struct Parser {
    seen_version: bool,
    origin: Option<Origin>,
    session_name: Option<String>,
    information: Option<String>,
    uri: Option<String>,
    emails: Vec<String>,
    phones: Vec<String>,
    connection: Option<Connection>,
    bandwidth: Vec<Bandwidth>,
    timing: Vec<Timing>,
    time_zones: Option<String>,
    key: Option<String>,
    attributes: Vec<Attribute>,
    media: Vec<MediaDescription>,
    report: ParseReport,
}

impl Parser {
    fn line(&mut self, line: usize, content: &str) -> Result<(), SdpError> {
        // RFC 8866 §5: `<type>=<value>`, where <type> is exactly one character.
        let bytes = content.as_bytes();
        if bytes.len() < 2 || bytes[1] != b'=' {
            return Err(SdpError::MissingEquals { line });
        }
        // bytes[1] is '=', so bytes[0] is a one-byte (ASCII) character and index 2 is a boundary.
        let kind = char::from(bytes[0]);
        let value = &content[2..];
        if !self.seen_version {
            // RFC 8866 §5.1: v=0 comes first.
            if kind != 'v' {
                return Err(SdpError::VersionNotFirst { line });
            }
            if value != "0" {
                return Err(SdpError::BadVersion {
                    line,
                    value: value.to_owned(),
                });
            }
            self.seen_version = true;
            return Ok(());
        }
        if kind == 'm' {
            return self.media_line(line, value);
        }
        if self.media.is_empty() {
            self.session_line(line, kind, value)
        } else {
            self.media_level_line(line, kind, value)
        }
    }

    fn session_line(&mut self, line: usize, kind: char, value: &str) -> Result<(), SdpError> {
        match kind {
            'v' => return Err(SdpError::Duplicate { line, kind }),
            'o' => set_once(&mut self.origin, parse_origin(line, value)?, line, kind)?,
            's' => set_once(&mut self.session_name, value.to_owned(), line, kind)?,
            'i' => set_once(&mut self.information, value.to_owned(), line, kind)?,
            'u' => set_once(&mut self.uri, value.to_owned(), line, kind)?,
            'e' => self.emails.push(value.to_owned()),
            'p' => self.phones.push(value.to_owned()),
            'c' => set_once(&mut self.connection, parse_connection(line, value)?, line, kind)?,
            'b' => self.bandwidth.push(parse_bandwidth(line, value)?),
            't' => self.timing.push(parse_timing(line, value)?),
            // RFC 8866 §5.10: r= belongs to the t= line before it.
            'r' => match self.timing.last_mut() {
                Some(t) => t.repeats.push(value.to_owned()),
                None => return Err(SdpError::Misplaced { line, kind }),
            },
            'z' => set_once(&mut self.time_zones, value.to_owned(), line, kind)?,
            'k' => set_once(&mut self.key, value.to_owned(), line, kind)?,
            'a' => push_attribute(&mut self.attributes, line, value)?,
            _ => self.report.ignored_lines += 1,
        }
        Ok(())
    }

    fn media_level_line(&mut self, line: usize, kind: char, value: &str) -> Result<(), SdpError> {
        let Some(m) = self.media.last_mut() else {
            return Err(SdpError::Misplaced { line, kind });
        };
        // RFC 8866 §5: a media description holds only i=, c=, b=, k= and a= lines.
        match kind {
            'i' => set_once(&mut m.title, value.to_owned(), line, kind)?,
            'c' => set_once(&mut m.connection, parse_connection(line, value)?, line, kind)?,
            'b' => m.bandwidth.push(parse_bandwidth(line, value)?),
            'k' => set_once(&mut m.key, value.to_owned(), line, kind)?,
            'a' => push_attribute(&mut m.attributes, line, value)?,
            'v' | 'o' | 's' | 'u' | 'e' | 'p' | 't' | 'r' | 'z' => {
                return Err(SdpError::Misplaced { line, kind })
            }
            _ => self.report.ignored_lines += 1,
        }
        Ok(())
    }

    fn media_line(&mut self, line: usize, value: &str) -> Result<(), SdpError> {
        if self.media.is_empty() {
            self.check_required(line)?;
        }
        if self.media.len() >= MAX_MEDIA {
            return Err(SdpError::TooManyMedia { line, max: MAX_MEDIA });
        }
        self.media.push(parse_media(line, value)?);
        Ok(())
    }

    fn check_required(&self, line: usize) -> Result<(), SdpError> {
        // RFC 8866 §5: o=, s= and at least one t= are mandatory.
        let missing = if self.origin.is_none() {
            Some('o')
        } else if self.session_name.is_none() {
            Some('s')
        } else if self.timing.is_empty() {
            Some('t')
        } else {
            None
        };
        match missing {
            Some(kind) => Err(SdpError::MissingLine { line, kind }),
            None => Ok(()),
        }
    }

    fn finish(self, end_line: usize) -> Result<(SessionDescription, ParseReport), SdpError> {
        if !self.seen_version {
            return Err(SdpError::Empty);
        }
        if self.media.is_empty() {
            self.check_required(end_line)?;
        }
        let (Some(origin), Some(session_name)) = (self.origin, self.session_name) else {
            return Err(SdpError::MissingLine {
                line: end_line,
                kind: 'o',
            });
        };
        let sdp = SessionDescription {
            version: 0,
            origin,
            session_name,
            information: self.information,
            uri: self.uri,
            emails: self.emails,
            phones: self.phones,
            connection: self.connection,
            bandwidth: self.bandwidth,
            timing: self.timing,
            time_zones: self.time_zones,
            key: self.key,
            attributes: self.attributes,
            media: self.media,
        };
        Ok((sdp, self.report))
    }
}

fn set_once<T>(slot: &mut Option<T>, value: T, line: usize, kind: char) -> Result<(), SdpError> {
    if slot.is_some() {
        return Err(SdpError::Duplicate { line, kind });
    }
    *slot = Some(value);
    Ok(())
}

/// RFC 8866 §5.13: `a=<attribute-name>` or `a=<attribute-name>:<attribute-value>`.
fn push_attribute(list: &mut Vec<Attribute>, line: usize, value: &str) -> Result<(), SdpError> {
    if list.len() >= MAX_ATTRIBUTES {
        return Err(SdpError::TooManyAttributes {
            line,
            max: MAX_ATTRIBUTES,
        });
    }
    let (name, value) = match value.split_once(':') {
        Some((name, v)) => (name, Some(v.to_owned())),
        None => (value, None),
    };
    if name.is_empty() {
        return Err(SdpError::MissingField {
            line,
            kind: 'a',
            field: "attribute name",
        });
    }
    list.push(Attribute {
        name: name.to_owned(),
        value,
    });
    Ok(())
}

/// Whitespace-separated fields of one structured line.
struct Fields<'a> {
    it: SplitAsciiWhitespace<'a>,
    line: usize,
    kind: char,
}

impl<'a> Fields<'a> {
    fn new(line: usize, kind: char, value: &'a str) -> Self {
        Self {
            it: value.split_ascii_whitespace(),
            line,
            kind,
        }
    }

    fn text(&mut self, field: &'static str) -> Result<&'a str, SdpError> {
        let (line, kind) = (self.line, self.kind);
        self.it.next().ok_or(SdpError::MissingField { line, kind, field })
    }

    fn number<T: FromStr>(&mut self, field: &'static str) -> Result<T, SdpError> {
        let text = self.text(field)?;
        number(self.line, self.kind, field, text)
    }

    fn end(mut self) -> Result<(), SdpError> {
        match self.it.next() {
            None => Ok(()),
            Some(extra) => Err(self.invalid("end of line", extra)),
        }
    }

    fn invalid(&self, field: &'static str, value: &str) -> SdpError {
        SdpError::InvalidField {
            line: self.line,
            kind: self.kind,
            field,
            value: value.to_owned(),
        }
    }
}

/// Digits only (no sign, no spaces), in range for `T`.
fn number<T: FromStr>(line: usize, kind: char, field: &'static str, text: &str) -> Result<T, SdpError> {
    let invalid = || SdpError::InvalidField {
        line,
        kind,
        field,
        value: text.to_owned(),
    };
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    text.parse().map_err(|_| invalid())
}

/// RFC 8866 §5.2: `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address>`.
fn parse_origin(line: usize, value: &str) -> Result<Origin, SdpError> {
    let mut f = Fields::new(line, 'o', value);
    let origin = Origin {
        username: f.text("username")?.to_owned(),
        session_id: f.number("session id")?,
        session_version: f.number("session version")?,
        net_type: f.text("network type")?.to_owned(),
        addr_type: f.text("address type")?.to_owned(),
        address: f.text("address")?.to_owned(),
    };
    f.end()?;
    Ok(origin)
}

/// RFC 8866 §5.7: `c=<nettype> <addrtype> <connection-address>`.
fn parse_connection(line: usize, value: &str) -> Result<Connection, SdpError> {
    let mut f = Fields::new(line, 'c', value);
    let c = Connection {
        net_type: f.text("network type")?.to_owned(),
        addr_type: f.text("address type")?.to_owned(),
        address: f.text("address")?.to_owned(),
    };
    f.end()?;
    Ok(c)
}

/// RFC 8866 §5.8: `b=<bwtype>:<bandwidth>`.
fn parse_bandwidth(line: usize, value: &str) -> Result<Bandwidth, SdpError> {
    let Some((bw_type, amount)) = value.split_once(':') else {
        return Err(SdpError::MissingField {
            line,
            kind: 'b',
            field: "bandwidth",
        });
    };
    if bw_type.is_empty() || bw_type.contains(|c: char| c.is_ascii_whitespace()) {
        let value = bw_type.to_owned();
        return Err(SdpError::InvalidField {
            line,
            kind: 'b',
            field: "bandwidth type",
            value,
        });
    }
    let bandwidth = number(line, 'b', "bandwidth", amount)?;
    Ok(Bandwidth {
        bw_type: bw_type.to_owned(),
        bandwidth,
    })
}

/// RFC 8866 §5.9: `t=<start-time> <stop-time>`.
fn parse_timing(line: usize, value: &str) -> Result<Timing, SdpError> {
    let mut f = Fields::new(line, 't', value);
    let start = f.number("start time")?;
    let stop = f.number("stop time")?;
    f.end()?;
    Ok(Timing {
        start,
        stop,
        repeats: Vec::new(),
    })
}

/// RFC 8866 §5.14: `m=<media> <port>[/<number of ports>] <proto> <fmt> ...`.
fn parse_media(line: usize, value: &str) -> Result<MediaDescription, SdpError> {
    let mut f = Fields::new(line, 'm', value);
    let kind = MediaKind::from_token(f.text("media type")?);
    let ports = f.text("port")?;
    let (port, port_count) = match ports.split_once('/') {
        Some((p, n)) => (p, Some(number(line, 'm', "number of ports", n)?)),
        None => (ports, None),
    };
    let port = number(line, 'm', "port", port)?;
    let protocol = f.text("protocol")?.to_owned();
    let formats: Vec<String> = f.it.by_ref().map(str::to_owned).collect();
    if formats.is_empty() {
        return Err(SdpError::MissingField {
            line,
            kind: 'm',
            field: "format",
        });
    }
    let mut m = MediaDescription::new(kind, port, protocol, formats);
    m.port_count = port_count;
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{CHROME_AV, CHROME_DC, FIREFOX_DC};

    const HEAD: &str = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";

    fn err(text: &str) -> SdpError {
        match SessionDescription::parse(text) {
            Ok(sdp) => panic!("parsed unexpectedly: {sdp:?}"),
            Err(e) => e,
        }
    }

    fn with_head(rest: &str) -> String {
        format!("{HEAD}{rest}")
    }

    #[test]
    fn chrome_data_channel_offer() {
        let sdp = SessionDescription::parse(CHROME_DC).expect("parses");
        assert_eq!(sdp.version, 0);
        assert_eq!(sdp.origin.username, "-");
        assert_eq!(sdp.origin.session_id, 4_611_731_400_430_051_336);
        assert_eq!(sdp.origin.session_version, 2);
        assert_eq!(sdp.origin.address, "127.0.0.1");
        assert_eq!(sdp.session_name, "-");
        assert_eq!(sdp.timing, vec![Timing::default()]);
        assert_eq!(sdp.attributes.len(), 3);
        assert_eq!(sdp.attributes[2], Attribute::new("msid-semantic", " WMS"));
        assert_eq!(sdp.media.len(), 1);
        let m = &sdp.media[0];
        assert_eq!(m.kind, MediaKind::Application);
        assert_eq!((m.port, m.port_count), (9, None));
        assert_eq!(m.protocol, "UDP/DTLS/SCTP");
        assert_eq!(m.formats, vec!["webrtc-datachannel"]);
        let c = m.connection.as_ref().expect("c=");
        assert_eq!(
            (c.net_type.as_str(), c.addr_type.as_str(), c.address.as_str()),
            ("IN", "IP4", "0.0.0.0")
        );
        assert_eq!(m.attributes.len(), 11);
    }

    #[test]
    fn firefox_data_channel_offer() {
        let (sdp, report) = SessionDescription::parse_with_report(FIREFOX_DC).expect("parses");
        assert_eq!(report.ignored_lines, 0);
        assert_eq!(sdp.origin.username, "mozilla...THIS_IS_SDPARTA-99.0");
        assert_eq!(sdp.origin.session_id, 7_366_530_417_376_545_120);
        assert_eq!(sdp.attributes.len(), 4);
        assert_eq!(sdp.media[0].attributes.len(), 10);
    }

    #[test]
    fn chrome_audio_video_offer_with_lf_endings() {
        let sdp = SessionDescription::parse(CHROME_AV).expect("parses");
        assert_eq!(sdp.media.len(), 2);
        let audio = &sdp.media[0];
        assert_eq!(audio.kind, MediaKind::Audio);
        assert_eq!(
            audio.formats,
            vec!["111", "63", "9", "0", "8", "13", "110", "126"]
        );
        assert_eq!(
            audio.bandwidth,
            vec![Bandwidth {
                bw_type: "AS".into(),
                bandwidth: 64
            }]
        );
        assert_eq!(sdp.media[1].kind, MediaKind::Video);
        assert_eq!(sdp.media[1].protocol, "UDP/TLS/RTP/SAVPF");
    }

    #[test]
    fn optional_lines_and_unknown_types() {
        let text = "v=0\r\no=jdoe 3724394400 3724394405 IN IP4 198.51.100.1\r\ns=Call\r\n\
            i=A Seminar\r\nu=https://www.example.com/seminars/sdp.pdf\r\ne=j.doe@example.com (Jane Doe)\r\n\
            p=+1 617 555-6011\r\nc=IN IP4 233.252.0.1/127\r\nb=CT:1000\r\nt=2873397496 2873404696\r\n\
            r=604800 3600 0 90000\r\nz=2882844526 -1h\r\nk=clear:x\r\nx=unknown\r\na=recvonly\r\n\
            m=audio 49170/2 RTP/AVP 0\r\ni=voice\r\nc=IN IP4 233.252.0.1/127\r\nb=AS:8\r\nk=prompt\r\ny=what\r\n";
        let (sdp, report) = SessionDescription::parse_with_report(text).expect("parses");
        assert_eq!(report.ignored_lines, 2);
        assert_eq!(sdp.information.as_deref(), Some("A Seminar"));
        assert_eq!(sdp.emails.len(), 1);
        assert_eq!(sdp.phones, vec!["+1 617 555-6011"]);
        assert_eq!(sdp.timing[0].repeats, vec!["604800 3600 0 90000"]);
        assert_eq!(sdp.time_zones.as_deref(), Some("2882844526 -1h"));
        assert_eq!(sdp.media[0].port_count, Some(2));
        assert_eq!(sdp.media[0].title.as_deref(), Some("voice"));
        assert_eq!(sdp.media[0].key.as_deref(), Some("prompt"));
    }

    #[test]
    fn blank_lines_and_missing_final_newline() {
        let sdp = SessionDescription::parse("v=0\n\no=- 1 2 IN IP4 ::1\ns=\nt=0 0").expect("parses");
        assert_eq!(sdp.session_name, "");
        assert!(sdp.media.is_empty());
    }

    #[test]
    fn input_caps() {
        let big = "a".repeat(MAX_SDP_LEN + 1);
        assert_eq!(
            err(&big),
            SdpError::TooLarge {
                len: MAX_SDP_LEN + 1,
                max: MAX_SDP_LEN
            }
        );
        let bytes = big.as_bytes();
        assert!(matches!(
            SessionDescription::parse_bytes(bytes),
            Err(SdpError::TooLarge { .. })
        ));

        let media = "m=audio 9 RTP/AVP 0\r\n".repeat(MAX_MEDIA + 1);
        let line = 4 + MAX_MEDIA + 1;
        assert_eq!(
            err(&with_head(&media)),
            SdpError::TooManyMedia { line, max: MAX_MEDIA }
        );

        let attrs = "a=x\r\n".repeat(MAX_ATTRIBUTES + 1);
        let line = 4 + MAX_ATTRIBUTES + 1;
        assert_eq!(
            err(&with_head(&attrs)),
            SdpError::TooManyAttributes {
                line,
                max: MAX_ATTRIBUTES
            }
        );
        let in_media = format!("m=audio 9 RTP/AVP 0\r\n{attrs}");
        let line = 5 + MAX_ATTRIBUTES + 1;
        assert_eq!(
            err(&with_head(&in_media)),
            SdpError::TooManyAttributes {
                line,
                max: MAX_ATTRIBUTES
            }
        );
    }

    #[test]
    fn not_utf8_names_its_line() {
        let mut bytes = with_head("a=ok\r\na=bad:").into_bytes();
        bytes.extend_from_slice(&[0xff, 0xfe, b'\r', b'\n']);
        assert_eq!(
            SessionDescription::parse_bytes(&bytes),
            Err(SdpError::NotUtf8 { line: 6 })
        );
        let ok = SessionDescription::parse_bytes(CHROME_DC.as_bytes()).expect("parses");
        assert_eq!(ok, SessionDescription::parse(CHROME_DC).expect("parses"));
    }

    #[test]
    fn structural_errors() {
        assert_eq!(err(""), SdpError::Empty);
        assert_eq!(err("\r\n\n"), SdpError::Empty);
        assert_eq!(err("o=- 1 2 IN IP4 x\r\n"), SdpError::VersionNotFirst { line: 1 });
        assert_eq!(
            err("\nv=1\n"),
            SdpError::BadVersion {
                line: 2,
                value: "1".into()
            }
        );
        assert_eq!(err("v=0\nno equals\n"), SdpError::MissingEquals { line: 2 });
        assert_eq!(err("v=0\nab=c\n"), SdpError::MissingEquals { line: 2 });
        assert_eq!(err("v=0\nx\n"), SdpError::MissingEquals { line: 2 });
        assert_eq!(err("v=0\n=x\n"), SdpError::MissingEquals { line: 2 });
        assert_eq!(err("é=0\n"), SdpError::MissingEquals { line: 1 });
        assert_eq!(
            err(&with_head("v=0\n")),
            SdpError::Duplicate { line: 5, kind: 'v' }
        );
        assert_eq!(
            err(&with_head("s=again\n")),
            SdpError::Duplicate { line: 5, kind: 's' }
        );
        assert_eq!(
            err(&with_head("o=- 1 2 IN IP4 x\n")),
            SdpError::Duplicate { line: 5, kind: 'o' }
        );
        assert_eq!(
            err(&with_head("c=IN IP4 x\nc=IN IP4 y\n")),
            SdpError::Duplicate { line: 6, kind: 'c' }
        );
        let dup_media_c = with_head("m=audio 9 RTP/AVP 0\nc=IN IP4 x\nc=IN IP4 y\n");
        assert_eq!(err(&dup_media_c), SdpError::Duplicate { line: 7, kind: 'c' });
        assert_eq!(
            err(&with_head("m=audio 9 RTP/AVP 0\nt=0 0\n")),
            SdpError::Misplaced { line: 6, kind: 't' }
        );
        assert_eq!(
            err(&with_head("m=audio 9 RTP/AVP 0\nv=0\n")),
            SdpError::Misplaced { line: 6, kind: 'v' }
        );
        assert_eq!(
            err("v=0\no=- 1 2 IN IP4 x\ns=-\nr=1 2 3\nt=0 0\n"),
            SdpError::Misplaced { line: 4, kind: 'r' }
        );
        assert_eq!(
            err(&with_head("a=\n")),
            SdpError::MissingField {
                line: 5,
                kind: 'a',
                field: "attribute name"
            }
        );
        assert_eq!(
            err(&with_head("a=:x\n")),
            SdpError::MissingField {
                line: 5,
                kind: 'a',
                field: "attribute name"
            }
        );
    }

    #[test]
    fn missing_required_lines() {
        assert_eq!(
            err("v=0\ns=-\nt=0 0\n"),
            SdpError::MissingLine { line: 5, kind: 'o' }
        );
        assert_eq!(
            err("v=0\no=- 1 2 IN IP4 x\nt=0 0\n"),
            SdpError::MissingLine { line: 5, kind: 's' }
        );
        assert_eq!(
            err("v=0\r\no=- 1 2 IN IP4 x\r\ns=-"),
            SdpError::MissingLine { line: 4, kind: 't' }
        );
        let no_t = "v=0\no=- 1 2 IN IP4 x\ns=-\nm=audio 9 RTP/AVP 0\nt=0 0\n";
        assert_eq!(err(no_t), SdpError::MissingLine { line: 4, kind: 't' });
    }

    #[test]
    fn origin_errors() {
        let o = |v: &str| err(&format!("v=0\no={v}\ns=-\nt=0 0\n"));
        let missing = |field| SdpError::MissingField {
            line: 2,
            kind: 'o',
            field,
        };
        let invalid = |field, value: &str| SdpError::InvalidField {
            line: 2,
            kind: 'o',
            field,
            value: value.into(),
        };
        assert_eq!(o(""), missing("username"));
        assert_eq!(o("-"), missing("session id"));
        assert_eq!(o("- 1"), missing("session version"));
        assert_eq!(o("- 1 2"), missing("network type"));
        assert_eq!(o("- 1 2 IN"), missing("address type"));
        assert_eq!(o("- 1 2 IN IP4"), missing("address"));
        assert_eq!(o("- 1 2 IN IP4 x extra"), invalid("end of line", "extra"));
        assert_eq!(o("- x 2 IN IP4 a"), invalid("session id", "x"));
        assert_eq!(o("- +1 2 IN IP4 a"), invalid("session id", "+1"));
        assert_eq!(o("- 1 -2 IN IP4 a"), invalid("session version", "-2"));
        assert_eq!(
            o("- 18446744073709551616 2 IN IP4 a"),
            invalid("session id", "18446744073709551616")
        );
    }

    #[test]
    fn connection_bandwidth_timing_errors() {
        let c = err(&with_head("c=IN IP4\n"));
        assert_eq!(
            c,
            SdpError::MissingField {
                line: 5,
                kind: 'c',
                field: "address"
            }
        );
        let c = err(&with_head("c=IN IP4 a b\n"));
        assert_eq!(
            c,
            SdpError::InvalidField {
                line: 5,
                kind: 'c',
                field: "end of line",
                value: "b".into()
            }
        );
        let b = err(&with_head("b=AS\n"));
        assert_eq!(
            b,
            SdpError::MissingField {
                line: 5,
                kind: 'b',
                field: "bandwidth"
            }
        );
        let b = err(&with_head("b=AS:x\n"));
        assert_eq!(
            b,
            SdpError::InvalidField {
                line: 5,
                kind: 'b',
                field: "bandwidth",
                value: "x".into()
            }
        );
        let b = err(&with_head("b=:1\n"));
        assert_eq!(
            b,
            SdpError::InvalidField {
                line: 5,
                kind: 'b',
                field: "bandwidth type",
                value: "".into()
            }
        );
        let t = err("v=0\no=- 1 2 IN IP4 x\ns=-\nt=0\n");
        assert_eq!(
            t,
            SdpError::MissingField {
                line: 4,
                kind: 't',
                field: "stop time"
            }
        );
        let t = err("v=0\no=- 1 2 IN IP4 x\ns=-\nt=now 0\n");
        assert_eq!(
            t,
            SdpError::InvalidField {
                line: 4,
                kind: 't',
                field: "start time",
                value: "now".into()
            }
        );
    }

    #[test]
    fn media_line_errors() {
        let m = |v: &str| err(&with_head(&format!("m={v}\r\n")));
        let missing = |field| SdpError::MissingField {
            line: 5,
            kind: 'm',
            field,
        };
        let invalid = |field, value: &str| SdpError::InvalidField {
            line: 5,
            kind: 'm',
            field,
            value: value.into(),
        };
        assert_eq!(m(""), missing("media type"));
        assert_eq!(m("audio"), missing("port"));
        assert_eq!(m("audio 9"), missing("protocol"));
        assert_eq!(m("audio 9 RTP/AVP"), missing("format"));
        assert_eq!(m("audio 65536 RTP/AVP 0"), invalid("port", "65536"));
        assert_eq!(m("audio x RTP/AVP 0"), invalid("port", "x"));
        assert_eq!(m("audio 9/ RTP/AVP 0"), invalid("number of ports", ""));
        assert_eq!(m("audio /2 RTP/AVP 0"), invalid("port", ""));
        assert_eq!(m("audio 9/2/3 RTP/AVP 0"), invalid("number of ports", "2/3"));
    }
}
