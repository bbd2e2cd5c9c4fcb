//! The file-transfer protocol on the `oxirtc-transfer` data channel, shared by `oxirtc send`,
//! `oxirtc recv` and the web UI (docs/transfer.md). Control messages are JSON text; file bytes are
//! binary messages of at most [`CHUNK`] bytes, for the file announced by the last `file` message.
//!
//! ```text
//! sender                                   receiver
//!   files {v:1, files:[{name,size}]}  ->
//!                                     <-   accept {offsets:[n..]}  |  decline {reason}
//!   file {index, offset}              ->   (offset = bytes already in NAME.part)
//!   <binary chunks from offset>       ->
//!   end {index, sha256}               ->   (SHA-256 of the whole file)
//!                                     <-   done {index, ok, error?}
//!   cancel {reason}                  <->   either side, any time
//! ```

use std::path::{Path, PathBuf};

use anyhow::bail;
use serde::{Deserialize, Serialize};

use crate::term_safe::{escape, is_hidden};

/// Version of the transfer protocol.
pub const TRANSFER_VERSION: u32 = 1;

/// Largest binary message (browsers accept 256 KiB; 64 KiB keeps latency low under backpressure).
pub const CHUNK: usize = 64 * 1024;

/// One offered file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileMeta {
    /// The bare file name (no directories).
    pub name: String,
    /// Size in bytes.
    pub size: u64,
}

/// A control message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Control {
    /// The sender offers these files.
    Files {
        /// Protocol version.
        v: u32,
        /// The files, in sending order.
        files: Vec<FileMeta>,
    },
    /// The receiver accepts; `offsets[i]` bytes of file `i` are already here (resume).
    Accept {
        /// Resume offset per file.
        offsets: Vec<u64>,
    },
    /// The receiver refuses the offer.
    Decline {
        /// Why.
        reason: String,
    },
    /// The binary messages that follow are file `index` from byte `offset`.
    File {
        /// Index into `files`.
        index: usize,
        /// First byte sent.
        offset: u64,
    },
    /// File `index` is complete; `sha256` (hex) is the digest of the whole file.
    End {
        /// Index into `files`.
        index: usize,
        /// Lower-case hex SHA-256.
        sha256: String,
    },
    /// The receiver's verdict on file `index`.
    Done {
        /// Index into `files`.
        index: usize,
        /// Checksum matched and the file is in place.
        ok: bool,
        /// Why not.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// Either side stops the transfer.
    Cancel {
        /// Why.
        reason: String,
    },
    /// A chat message (web UI).
    Text {
        /// The text.
        text: String,
    },
}

impl Control {
    /// The JSON text.
    pub fn to_json(&self) -> String {
        // Plain data with string keys: serialization cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Longest name accepted, in bytes: 255 (the usual file-name limit) less the `.part` suffix the
/// receiver writes to first.
pub const MAX_NAME_BYTES: usize = 255 - PART_SUFFIX.len();

/// The suffix of a file being received.
pub const PART_SUFFIX: &str = ".part";

/// Checks a file name that came from the peer: a bare name that stays inside the target directory.
/// Refuses (never rewrites) names with path separators, `.`/`..`, control characters, bidi or
/// invisible format characters ([`crate::term_safe::is_hidden`]), or longer than [`MAX_NAME_BYTES`]
/// (so `NAME.part` fits). The error shows the name escaped.
pub fn safe_name(name: &str) -> anyhow::Result<&str> {
    let why = if name.is_empty() {
        "it is empty"
    } else if name == "." || name == ".." {
        "it names a directory"
    } else if name.contains('/') || name.contains('\\') {
        "it contains a path separator"
    } else if name.chars().any(char::is_control) {
        "it contains control characters"
    } else if name.chars().any(is_hidden) {
        "it contains invisible or text-direction characters that can disguise a name"
    } else if name.len() > MAX_NAME_BYTES {
        "it is longer than 250 bytes (255 with the .part suffix used while receiving)"
    } else if name.ends_with(PART_SUFFIX) {
        "it ends in .part"
    } else {
        return Ok(name);
    };
    bail!(
        "refusing the file name \"{}\" from the peer: {why}; ask the sender to rename the file",
        escape(name)
    )
}

/// `dir/NAME.part`.
pub fn part_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}{PART_SUFFIX}"))
}

/// Human-readable bytes (MiB with one decimal above 1 MiB).
pub fn human_bytes(n: u64) -> String {
    if n >= 1 << 20 {
        format!("{:.1} MiB", n as f64 / f64::from(1u32 << 20))
    } else {
        format!("{n} B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_are_refused() {
        for bad in [
            "",
            ".",
            "..",
            "../x",
            "/etc/passwd",
            "a/b",
            "a\\b",
            "x\ny",
            "a\0",
            "x.part",
        ] {
            assert!(safe_name(bad).is_err(), "{bad:?}");
        }
        assert!(safe_name(&"a".repeat(256)).is_err());
        // `NAME.part` must fit in 255 bytes too.
        assert!(safe_name(&"a".repeat(251)).is_err());
        assert!(safe_name(&"a".repeat(254)).is_err());
        assert_eq!(safe_name(&"a".repeat(250)).unwrap().len(), 250);
        assert_eq!(part_path(Path::new(""), &"a".repeat(250)).as_os_str().len(), 255);
        // Bidi overrides, zero-width and BOM characters disguise names (`invoice<RLO>fdp.exe`).
        for hidden in [
            "invoice\u{202E}fdp.exe",
            "a\u{200B}b",
            "\u{FEFF}x",
            "x\u{2066}y",
            "\u{85}z",
        ] {
            let e = safe_name(hidden).unwrap_err().to_string();
            assert!(
                !e.contains(|c: char| is_hidden(c)),
                "the error escapes the name: {e:?}"
            );
            assert!(e.contains("\\u{"), "{e}");
        }
        for good in ["report.pdf", "..hidden", "a b (1).txt", "été.png"] {
            assert_eq!(safe_name(good).unwrap(), good);
        }
    }

    #[test]
    fn control_messages_have_the_documented_shape() {
        let m = Control::Accept { offsets: vec![0, 5] };
        assert_eq!(m.to_json(), r#"{"type":"accept","offsets":[0,5]}"#);
        let d: Control = serde_json::from_str(r#"{"type":"done","index":0,"ok":true}"#).unwrap();
        assert_eq!(
            d,
            Control::Done {
                index: 0,
                ok: true,
                error: None
            }
        );
        assert_eq!(hex(&[0, 255, 16]), "00ff10");
        assert_eq!(human_bytes(3 << 20), "3.0 MiB");
    }
}
