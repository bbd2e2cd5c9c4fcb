//! The typed SDP model (RFC 8866 §5). Owned strings: SDP is small and parsed rarely.
//!
//! Strings stored here are written out verbatim; a value containing a line break would not survive
//! a round trip, so callers building descriptions by hand should not put one there.

use std::fmt;

/// A whole session description: the session-level lines followed by the media sections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription {
    /// `v=`: protocol version, always 0 (RFC 8866 §5.1).
    pub version: u8,
    /// `o=`: session originator and identifier (RFC 8866 §5.2).
    pub origin: Origin,
    /// `s=`: session name (RFC 8866 §5.3); browsers send `-`.
    pub session_name: String,
    /// `i=`: session information (RFC 8866 §5.4).
    pub information: Option<String>,
    /// `u=`: URI of a description (RFC 8866 §5.5).
    pub uri: Option<String>,
    /// `e=` lines: email addresses (RFC 8866 §5.6).
    pub emails: Vec<String>,
    /// `p=` lines: phone numbers (RFC 8866 §5.6).
    pub phones: Vec<String>,
    /// Session-level `c=` (RFC 8866 §5.7).
    pub connection: Option<Connection>,
    /// Session-level `b=` lines (RFC 8866 §5.8).
    pub bandwidth: Vec<Bandwidth>,
    /// `t=` lines, each with its `r=` lines (RFC 8866 §5.9, §5.10); at least one when parsed.
    pub timing: Vec<Timing>,
    /// `z=`: time-zone adjustments, kept raw (RFC 8866 §5.11).
    pub time_zones: Option<String>,
    /// `k=`: obsolete encryption key, kept raw (RFC 8866 §5.12).
    pub key: Option<String>,
    /// Session-level `a=` lines in order (RFC 8866 §5.13).
    pub attributes: Vec<Attribute>,
    /// `m=` sections in order (RFC 8866 §5.14).
    pub media: Vec<MediaDescription>,
}

/// The `o=` line (RFC 8866 §5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// User name, `-` when there is none.
    pub username: String,
    /// Numeric session identifier.
    pub session_id: u64,
    /// Version, increased on each change of the description.
    pub session_version: u64,
    /// Network type, `IN`.
    pub net_type: String,
    /// Address type, `IP4` or `IP6`.
    pub addr_type: String,
    /// Unicast address of the originating machine.
    pub address: String,
}

/// A `c=` line (RFC 8866 §5.7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// Network type, `IN`.
    pub net_type: String,
    /// Address type, `IP4` or `IP6`.
    pub addr_type: String,
    /// Connection address, possibly with `/ttl` and `/count` suffixes kept as written.
    pub address: String,
}

/// A `b=` line (RFC 8866 §5.8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bandwidth {
    /// Bandwidth type such as `AS`, `CT` or `TIAS`.
    pub bw_type: String,
    /// The value, in the unit the type defines.
    pub bandwidth: u64,
}

/// A `t=` line and its `r=` lines (RFC 8866 §5.9, §5.10).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Timing {
    /// Start time (NTP seconds); 0 for unbounded.
    pub start: u64,
    /// Stop time (NTP seconds); 0 for unbounded.
    pub stop: u64,
    /// `r=` values, kept raw.
    pub repeats: Vec<String>,
}

/// An `a=` line (RFC 8866 §5.13): a property (`a=rtcp-mux`) or a value (`a=mid:0`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// Text before the first `:`.
    pub name: String,
    /// Text after the first `:`, verbatim (including any leading space); `None` for a property.
    pub value: Option<String>,
}

impl Attribute {
    /// An attribute with a value: `a=<name>:<value>`.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: Some(value.into()),
        }
    }

    /// A property attribute without a value: `a=<name>`.
    pub fn flag(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: None,
        }
    }
}

/// The media type of an `m=` line (RFC 8866 §5.14).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MediaKind {
    /// `audio`
    Audio,
    /// `video`
    Video,
    /// `application` (data channels in WebRTC)
    Application,
    /// `text`
    Text,
    /// `message`
    Message,
    /// Any other token, kept as written.
    Other(String),
}

impl MediaKind {
    /// Maps a token to a kind; unknown tokens become [`MediaKind::Other`].
    pub fn from_token(token: &str) -> Self {
        match token {
            "audio" => Self::Audio,
            "video" => Self::Video,
            "application" => Self::Application,
            "text" => Self::Text,
            "message" => Self::Message,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The token as written on the `m=` line.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Audio => "audio",
            Self::Video => "video",
            Self::Application => "application",
            Self::Text => "text",
            Self::Message => "message",
            Self::Other(s) => s,
        }
    }
}

impl fmt::Display for MediaKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One media section: the `m=` line and the lines after it (RFC 8866 §5.14).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaDescription {
    /// Media type.
    pub kind: MediaKind,
    /// Transport port; 9 (discard) in WebRTC, 0 for a rejected section.
    pub port: u16,
    /// The `/<number of ports>` suffix, when written.
    pub port_count: Option<u16>,
    /// Transport protocol, e.g. `UDP/DTLS/SCTP` or `UDP/TLS/RTP/SAVPF`.
    pub protocol: String,
    /// Media formats: RTP payload types, or `webrtc-datachannel`.
    pub formats: Vec<String>,
    /// `i=`: media title (RFC 8866 §5.4).
    pub title: Option<String>,
    /// Media-level `c=` (RFC 8866 §5.7).
    pub connection: Option<Connection>,
    /// Media-level `b=` lines (RFC 8866 §5.8).
    pub bandwidth: Vec<Bandwidth>,
    /// Media-level `k=`, kept raw (RFC 8866 §5.12).
    pub key: Option<String>,
    /// Media-level `a=` lines in order.
    pub attributes: Vec<Attribute>,
}

impl MediaDescription {
    /// A section with only its `m=` line filled in.
    pub fn new(kind: MediaKind, port: u16, protocol: impl Into<String>, formats: Vec<String>) -> Self {
        Self {
            kind,
            port,
            port_count: None,
            protocol: protocol.into(),
            formats,
            title: None,
            connection: None,
            bandwidth: Vec::new(),
            key: None,
            attributes: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_kind_tokens() {
        for t in ["audio", "video", "application", "text", "message", "x-other"] {
            assert_eq!(MediaKind::from_token(t).as_str(), t);
            assert_eq!(MediaKind::from_token(t).to_string(), t);
        }
        assert_eq!(
            MediaKind::from_token("x-other"),
            MediaKind::Other("x-other".into())
        );
    }

    #[test]
    fn attribute_constructors() {
        assert_eq!(Attribute::new("mid", "0").value.as_deref(), Some("0"));
        assert_eq!(Attribute::flag("rtcp-mux").value, None);
    }
}
