//! Model → text, CRLF line endings, lines in the RFC 8866 §5 order:
//! `v o s i u e p c b t r z k a`, then per media section `m i c b k a`.

use std::fmt::{self, Write};

use crate::model::{Attribute, Bandwidth, Connection, MediaDescription, Origin, SessionDescription, Timing};

impl SessionDescription {
    /// Appends the description to `out` (the caller's buffer, reusable across calls).
    pub fn write_to(&self, out: &mut String) {
        // Writing into a String cannot fail.
        let _ = write!(out, "{self}");
    }
}

impl fmt::Display for SessionDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // RFC 8866 §5: the order of lines is fixed.
        write!(
            f,
            "v={}\r\no={}\r\ns={}\r\n",
            self.version, self.origin, self.session_name
        )?;
        line(f, 'i', self.information.as_deref())?;
        line(f, 'u', self.uri.as_deref())?;
        for e in &self.emails {
            write!(f, "e={e}\r\n")?;
        }
        for p in &self.phones {
            write!(f, "p={p}\r\n")?;
        }
        if let Some(c) = &self.connection {
            write!(f, "c={c}\r\n")?;
        }
        for b in &self.bandwidth {
            write!(f, "b={b}\r\n")?;
        }
        for t in &self.timing {
            write!(f, "{t}")?;
        }
        line(f, 'z', self.time_zones.as_deref())?;
        line(f, 'k', self.key.as_deref())?;
        for a in &self.attributes {
            write!(f, "a={a}\r\n")?;
        }
        for m in &self.media {
            write!(f, "{m}")?;
        }
        Ok(())
    }
}

fn line(f: &mut fmt::Formatter<'_>, kind: char, value: Option<&str>) -> fmt::Result {
    match value {
        Some(v) => write!(f, "{kind}={v}\r\n"),
        None => Ok(()),
    }
}

/// Writes the whole section, from `m=` to its last `a=` line, each line ending in CRLF.
impl fmt::Display for MediaDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // RFC 8866 §5.14
        write!(f, "m={} {}", self.kind, self.port)?;
        if let Some(n) = self.port_count {
            write!(f, "/{n}")?;
        }
        write!(f, " {}", self.protocol)?;
        for fmt in &self.formats {
            write!(f, " {fmt}")?;
        }
        f.write_str("\r\n")?;
        line(f, 'i', self.title.as_deref())?;
        if let Some(c) = &self.connection {
            write!(f, "c={c}\r\n")?;
        }
        for b in &self.bandwidth {
            write!(f, "b={b}\r\n")?;
        }
        line(f, 'k', self.key.as_deref())?;
        for a in &self.attributes {
            write!(f, "a={a}\r\n")?;
        }
        Ok(())
    }
}

/// The value of an `o=` line (without `o=`).
impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} {} {}",
            self.username, self.session_id, self.session_version, self.net_type, self.addr_type, self.address
        )
    }
}

/// The value of a `c=` line (without `c=`).
impl fmt::Display for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.net_type, self.addr_type, self.address)
    }
}

/// The value of a `b=` line (without `b=`).
impl fmt::Display for Bandwidth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.bw_type, self.bandwidth)
    }
}

/// The `t=` line and its `r=` lines, each ending in CRLF.
impl fmt::Display for Timing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t={} {}\r\n", self.start, self.stop)?;
        for r in &self.repeats {
            write!(f, "r={r}\r\n")?;
        }
        Ok(())
    }
}

/// The value of an `a=` line (without `a=`): `name` or `name:value`.
impl fmt::Display for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(v) => write!(f, "{}:{}", self.name, v),
            None => f.write_str(&self.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::fixtures::{CHROME_AV, CHROME_DC, FIREFOX_DC};
    use crate::{Attribute, MediaDescription, MediaKind, SessionDescription};

    fn round_trip(text: &str) {
        let sdp = SessionDescription::parse(text).expect("parses");
        let written = sdp.to_string();
        let crlf = text.replace("\r\n", "\n").replace('\n', "\r\n");
        assert_eq!(written, crlf);
        assert_eq!(SessionDescription::parse(&written).expect("reparses"), sdp);
    }

    #[test]
    fn browser_offers_round_trip_exactly() {
        round_trip(CHROME_DC);
        round_trip(FIREFOX_DC);
        round_trip(CHROME_AV);
    }

    #[test]
    fn every_line_type_round_trips_in_rfc_order() {
        round_trip(
            "v=0\r\no=jdoe 3724394400 3724394405 IN IP4 198.51.100.1\r\ns=Call\r\ni=A Seminar\r\n\
             u=https://www.example.com/seminars/sdp.pdf\r\ne=j.doe@example.com (Jane Doe)\r\n\
             e=x@example.com\r\np=+1 617 555-6011\r\nc=IN IP4 233.252.0.1/127\r\nb=CT:1000\r\n\
             t=2873397496 2873404696\r\nr=604800 3600 0 90000\r\nr=7d 1h 0 25h\r\nt=0 0\r\n\
             z=2882844526 -1h\r\nk=clear:x\r\na=recvonly\r\na=tool:x:y\r\na=empty:\r\n\
             m=audio 49170/2 RTP/AVP 0\r\ni=voice\r\nc=IN IP4 233.252.0.1/127\r\nb=AS:8\r\n\
             k=prompt\r\na=rtpmap:0 PCMU/8000\r\nm=video 0 RTP/AVP 31\r\n",
        );
    }

    #[test]
    fn out_of_order_input_is_written_in_order() {
        let text = "v=0\r\no=- 1 2 IN IP4 x\r\na=first\r\nt=0 0\r\ns=-\r\nm=audio 9 RTP/AVP 0\r\na=x\r\nc=IN IP4 y\r\n";
        let sdp = SessionDescription::parse(text).expect("parses");
        let written = sdp.to_string();
        assert_eq!(
            written,
            "v=0\r\no=- 1 2 IN IP4 x\r\ns=-\r\nt=0 0\r\na=first\r\nm=audio 9 RTP/AVP 0\r\nc=IN IP4 y\r\na=x\r\n"
        );
        assert_eq!(SessionDescription::parse(&written).expect("reparses"), sdp);
    }

    #[test]
    fn write_to_appends_and_built_sections_serialize() {
        let mut sdp = SessionDescription::parse(CHROME_DC).expect("parses");
        let mut m = MediaDescription::new(MediaKind::Other("x-game".into()), 0, "UDP/FOO", vec!["a".into()]);
        m.attributes.push(Attribute::flag("inactive"));
        sdp.media.push(m);
        let mut out = String::from("prefix");
        sdp.write_to(&mut out);
        assert!(out.starts_with("prefixv=0\r\n"));
        assert!(out.ends_with("m=x-game 0 UDP/FOO a\r\na=inactive\r\n"));
        assert_eq!(
            SessionDescription::parse(&out["prefix".len()..]).expect("reparses"),
            sdp
        );
    }
}
