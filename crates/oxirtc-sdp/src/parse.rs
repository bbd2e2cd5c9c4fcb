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
