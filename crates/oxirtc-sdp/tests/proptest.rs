//! Properties: SDP-ish text never panics the parser, and whatever parses survives
//! serialize → parse unchanged.

use oxirtc_sdp::SessionDescription;
use proptest::prelude::*;

/// Lines that are often valid, sometimes subtly not.
fn line() -> impl Strategy<Value = String> {
    let token = "[a-zA-Z0-9:./*+-]{0,12}";
    let text = "[ -~\t\u{e9}]{0,24}";
    prop_oneof![
        8 => (token, text).prop_map(|(n, v)| format!("a={n}:{v}")),
        4 => token.prop_map(|n| format!("a={n}")),
        3 => (
            "(audio|video|application|x)",
            0u32..66_000,
            "[A-Z/]{1,16}",
            "[0-9a-z -]{0,20}"
        )
            .prop_map(|(k, p, proto, f)| format!("m={k} {p} {proto} {f}")),
        1 => ("[0-9]{1,3}", "[0-9]{1,2}").prop_map(|(p, n)| format!("m=audio {p}/{n} RTP/AVP 0")),
        1 => Just("c=IN IP4 0.0.0.0".to_owned()),
        1 => ("[A-Z]{0,4}", "[0-9x]{0,6}").prop_map(|(t, v)| format!("b={t}:{v}")),
        1 => ("[0-9]{1,4}", "[0-9]{1,4}").prop_map(|(a, b)| format!("t={a} {b}")),
        1 => text.prop_map(|v| format!("r={v}")),
        1 => ("[isuepkzxyv]", text).prop_map(|(k, v)| format!("{k}={v}")),
        1 => Just(String::new()),
        1 => text.prop_map(|v| v.to_owned()),
    ]
}

fn sdpish() -> impl Strategy<Value = String> {
    let head = prop_oneof![
        4 => Just("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n".to_owned()),
        1 => Just("v=0\no=- 1 2 IN IP4 x\n".to_owned()),
        1 => Just(String::new()),
    ];
    let ending = prop_oneof![Just("\r\n"), Just("\n"), Just("\r\r\n")];
    (head, prop::collection::vec((line(), ending), 0..16)).prop_map(|(head, lines)| {
        let mut s = head;
        for (l, e) in lines {
            s.push_str(&l);
            s.push_str(e);
        }
        s
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn sdpish_text_round_trips_when_it_parses(text in sdpish()) {
        if let Ok(sdp) = SessionDescription::parse(&text) {
            let written = sdp.to_string();
            let again = SessionDescription::parse(&written);
            prop_assert_eq!(again.as_ref(), Ok(&sdp), "written:\n{}", written);
            prop_assert_eq!(again.map(|s| s.to_string()), Ok(written));
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = SessionDescription::parse_bytes(&bytes);
    }
}
