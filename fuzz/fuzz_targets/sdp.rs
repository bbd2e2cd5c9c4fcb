//! Parses arbitrary bytes as SDP; whatever parses must serialize, re-parse to an equal model, and
//! serialize to the same text again. Typed accessors must return, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oxirtc_sdp::SessionDescription;

fuzz_target!(|data: &[u8]| {
    let Ok(sdp) = SessionDescription::parse_bytes(data) else {
        return;
    };
    let _ = (
        sdp.bundle_mids(),
        sdp.ice_ufrag(),
        sdp.ice_pwd(),
        sdp.ice_options(),
    );
    let _ = (
        sdp.ice_lite(),
        sdp.fingerprints(),
        sdp.setup(),
        sdp.msid_semantic(),
    );
    let _ = (sdp.extmap_allow_mixed(), sdp.direction(), sdp.groups());
    for s in sdp.sections() {
        let _ = (
            s.mid(),
            s.ice_ufrag(),
            s.ice_pwd(),
            s.ice_options(),
            s.fingerprint(),
        );
        let _ = (s.setup(), s.direction(), s.extmap_allow_mixed(), s.rtcp_mux());
        let _ = (s.sctp_port(), s.max_message_size(), s.end_of_candidates());
        let _ = (s.candidates().count(), s.ssrc_lines().count());
        for f in s.fmtps() {
            let _ = f.parameters().count();
        }
        let _ = s.rtpmaps();
    }
    let text = sdp.to_string();
    let again = SessionDescription::parse(&text).expect("serialized SDP re-parses");
    assert_eq!(again, sdp);
    assert_eq!(again.to_string(), text);
});
