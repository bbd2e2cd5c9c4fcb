//! Is this SDP the description we created? `set_local_description` (W3C webrtc-pc §4.4.1.6)
//! accepts our own offer or answer back with changes that do not change the session: line endings
//! (CRLF or LF), trailing whitespace, blank lines, and candidate lines (`a=candidate`,
//! `a=end-of-candidates`: our candidates come from ICE, not from the text). Anything else is SDP
//! munging, which is refused with what differs.

/// Lines of `sdp` that describe the session, with their 1-based line numbers in `sdp`.
fn session_lines(sdp: &str) -> Vec<(usize, &str)> {
    sdp.split('\n')
        .enumerate()
        .map(|(i, line)| (i + 1, line.trim_end()))
        .filter(|(_, line)| {
            !line.is_empty() && !line.starts_with("a=candidate:") && !line.starts_with("a=end-of-candidates")
        })
        .collect()
}

/// `None` when `given` describes the same session as `created`; otherwise what differs first,
/// naming the line of `given` and both texts.
pub(crate) fn session_difference(created: &str, given: &str) -> Option<String> {
    let ours = session_lines(created);
    let theirs = session_lines(given);
    for (i, (_, want)) in ours.iter().enumerate() {
        match theirs.get(i) {
            Some((_, got)) if got == want => {}
            Some((line, got)) => {
                return Some(format!(
                    "line {line} is `{}` where the created description has `{}`",
                    clip(got),
                    clip(want)
                ));
            }
            None => {
                return Some(format!(
                    "it ends before the created description's `{}`",
                    clip(want)
                ))
            }
        }
    }
    theirs
        .get(ours.len())
        .map(|(line, extra)| format!("line {line} `{}` is not in the created description", clip(extra)))
}

/// A line short enough for an error message (lines come from the application, any length).
fn clip(line: &str) -> String {
    const MAX: usize = 100;
    match line.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", &line[..cut]),
        None => line.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CREATED: &str =
        "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n\
                           a=candidate:1 1 udp 1 10.0.0.1 5000 typ host\r\na=sctp-port:5000\r\n";

    #[test]
    fn line_endings_whitespace_and_candidates_do_not_change_the_session() {
        assert_eq!(session_difference(CREATED, CREATED), None);
        let lf = CREATED.replace("\r\n", "\n");
        assert_eq!(session_difference(CREATED, &lf), None);
        let trailing = CREATED.replace("s=-\r\n", "s=-  \t\r\n\r\n");
        assert_eq!(session_difference(CREATED, &trailing), None);
        let no_candidates = CREATED.replace("a=candidate:1 1 udp 1 10.0.0.1 5000 typ host\r\n", "");
        assert_eq!(session_difference(CREATED, &no_candidates), None);
        let more = CREATED.replace(
            "a=sctp-port",
            "a=candidate:2 1 udp 1 10.0.0.2 5000 typ host\r\na=end-of-candidates\r\na=sctp-port",
        );
        assert_eq!(session_difference(CREATED, &more), None);
    }

    #[test]
    fn a_changed_missing_or_extra_line_is_named() {
        let changed = CREATED.replace("a=sctp-port:5000", "a=sctp-port:6000");
        assert_eq!(
            session_difference(CREATED, &changed).unwrap(),
            "line 6 is `a=sctp-port:6000` where the created description has `a=sctp-port:5000`"
        );
        let cut = CREATED.replace("a=sctp-port:5000\r\n", "");
        assert!(session_difference(CREATED, &cut).unwrap().contains("ends before"));
        let extra = format!("{CREATED}a=max-message-size:1\r\n");
        assert_eq!(
            session_difference(CREATED, &extra).unwrap(),
            "line 7 `a=max-message-size:1` is not in the created description"
        );
        let long = CREATED.replace("s=-", &format!("s={}", "x".repeat(500)));
        assert!(session_difference(CREATED, &long).unwrap().len() < 300);
    }
}
