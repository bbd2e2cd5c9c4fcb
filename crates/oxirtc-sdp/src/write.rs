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
