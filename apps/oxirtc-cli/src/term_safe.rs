//! Text from the peer (file names, reasons, chat) made safe to print and to use as a file name:
//! control characters and the invisible or direction-changing format characters that let a name
//! pose as another (`invoice\u{202E}fdp.exe` shows as `invoiceexe.pdf`) are refused in names and
//! escaped as `\u{...}` when printed.

use std::fmt::Write as _;

/// A character that must not reach a file name or a terminal unescaped: C0 and C1 controls,
/// zero-width and direction marks (U+200B-U+200F), bidi embeddings and overrides (U+202A-U+202E),
/// bidi isolates (U+2066-U+2069), the Arabic letter mark (U+061C), line and paragraph separators
/// (U+2028, U+2029), word joiner and invisible operators (U+2060-U+2064) and the byte-order mark
/// (U+FEFF).
pub fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{FEFF}'
        )
}

/// `text` with every [`is_hidden`] character written as `\u{hex}` (and `\` as `\\`, so an escape
/// cannot be faked), for printing text that came from the peer.
pub fn escape(text: &str) -> String {
    escape_except(text, None)
}

/// Like [`escape`] but keeps line breaks (`\n`): for multi-line error messages.
pub fn escape_keep_lines(text: &str) -> String {
    escape_except(text, Some('\n'))
}

fn escape_except(text: &str, keep: Option<char>) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if Some(c) == keep {
            out.push(c);
        } else if c == '\\' {
            out.push_str("\\\\");
        } else if is_hidden(c) {
            // Writing into a String cannot fail.
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_and_invisible_characters_are_escaped() {
        assert_eq!(escape("invoice\u{202E}fdp.exe"), "invoice\\u{202e}fdp.exe");
        for c in [
            '\u{0}', '\u{1b}', '\u{7f}', '\u{85}', '\u{9b}', '\u{200B}', '\u{200F}', '\u{202A}', '\u{2066}',
            '\u{2069}', '\u{FEFF}', '\u{061C}',
        ] {
            assert!(is_hidden(c), "{c:?}");
            assert!(!escape(&format!("a{c}b")).contains(c), "{c:?}");
        }
        assert_eq!(escape("été 東京 a\\b"), "été 東京 a\\\\b");
        assert_eq!(escape_keep_lines("a\nb\r"), "a\nb\\u{d}");
    }
}
