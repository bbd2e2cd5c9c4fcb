//! Hand-written examples in the exact shape browsers emit, shared by the unit tests.

/// Chrome's data-channel-only offer (createDataChannel then createOffer), with candidates.
pub const CHROME_DC: &str = "v=0\r\n\
o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n\
s=-\r\n\
t=0 0\r\n\
a=group:BUNDLE 0\r\n\
a=extmap-allow-mixed\r\n\
a=msid-semantic: WMS\r\n\
m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n\
c=IN IP4 0.0.0.0\r\n\
a=candidate:1467250027 1 udp 2122260223 192.168.1.20 54321 typ host generation 0 network-id 1\r\n\
a=candidate:2137383285 1 udp 1686052607 203.0.113.9 61000 typ srflx raddr 192.168.1.20 rport 54321 generation 0 network-id 1\r\n\
a=candidate:435653019 1 tcp 1518280447 192.168.1.20 9 typ host tcptype active generation 0 network-id 1\r\n\
a=ice-ufrag:Hx3v\r\n\
a=ice-pwd:n6Gn0Tc8qAOtGcXlV5SC9NWy\r\n\
a=ice-options:trickle\r\n\
a=fingerprint:sha-256 6B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08\r\n\
a=setup:actpass\r\n\
a=mid:0\r\n\
a=sctp-port:5000\r\n\
a=max-message-size:262144\r\n";

/// Firefox's data-channel offer: session-level fingerprint and ice-options, a=sendrecv,
/// end-of-candidates.
pub const FIREFOX_DC: &str = "v=0\r\n\
o=mozilla...THIS_IS_SDPARTA-99.0 7366530417376545120 0 IN IP4 0.0.0.0\r\n\
s=-\r\n\
t=0 0\r\n\
a=fingerprint:sha-256 2F:0E:3B:86:9D:12:8A:A5:47:6F:3C:C2:A6:7D:5B:40:8A:FE:E9:0E:33:91:7C:11:45:AD:7C:0A:4F:0C:E1:3E\r\n\
a=group:BUNDLE 0\r\n\
a=ice-options:trickle\r\n\
a=msid-semantic:WMS *\r\n\
m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n\
c=IN IP4 0.0.0.0\r\n\
a=candidate:0 1 UDP 2122252543 10.0.0.5 50713 typ host\r\n\
a=candidate:1 1 TCP 2105524479 10.0.0.5 9 typ host tcptype active\r\n\
a=sendrecv\r\n\
a=end-of-candidates\r\n\
a=ice-pwd:4c2e8b2d5c4bd39f3b2e2d8a0b6a4f31\r\n\
a=ice-ufrag:9d2c1f0e\r\n\
a=mid:0\r\n\
a=setup:actpass\r\n\
a=sctp-port:5000\r\n\
a=max-message-size:1073741823\r\n";

/// Chrome audio + video offer with rtpmap, fmtp, rtcp-fb, extmap, msid and ssrc lines, LF only.
pub const CHROME_AV: &str = "v=0
o=- 8403615332048243445 2 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0 1
a=extmap-allow-mixed
a=msid-semantic: WMS 3f7bd8a4-5b1c-4c0e-9e2f-1d2c3b4a5f60
m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126
c=IN IP4 0.0.0.0
b=AS:64
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:Q3mN
a=ice-pwd:Xk7bCw1pS0o7vFJm2aZr4gHe
a=ice-options:trickle
a=fingerprint:sha-256 A1:B2:C3:D4:E5:F6:07:18:29:3A:4B:5C:6D:7E:8F:90:A1:B2:C3:D4:E5:F6:07:18:29:3A:4B:5C:6D:7E:8F:90
a=setup:actpass
a=mid:0
a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
a=sendrecv
a=msid:3f7bd8a4-5b1c-4c0e-9e2f-1d2c3b4a5f60 6c1e9a62-0f43-4a57-bd1e-2a6f4c0b9d11
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:111 opus/48000/2
a=rtcp-fb:111 transport-cc
a=fmtp:111 minptime=10;useinbandfec=1
a=rtpmap:63 red/48000/2
a=fmtp:63 111/111
a=rtpmap:9 G722/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:13 CN/8000
a=rtpmap:110 telephone-event/48000
a=rtpmap:126 telephone-event/8000
a=ssrc:2318462891 cname:x9Lk2Fq1VbN7pQ0s
a=ssrc:2318462891 msid:3f7bd8a4-5b1c-4c0e-9e2f-1d2c3b4a5f60 6c1e9a62-0f43-4a57-bd1e-2a6f4c0b9d11
m=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99 45
c=IN IP4 0.0.0.0
a=rtcp:9 IN IP4 0.0.0.0
a=ice-ufrag:Q3mN
a=ice-pwd:Xk7bCw1pS0o7vFJm2aZr4gHe
a=ice-options:trickle
a=fingerprint:sha-256 A1:B2:C3:D4:E5:F6:07:18:29:3A:4B:5C:6D:7E:8F:90:A1:B2:C3:D4:E5:F6:07:18:29:3A:4B:5C:6D:7E:8F:90
a=setup:actpass
a=mid:1
a=extmap:14 urn:ietf:params:rtp-hdrext:toffset
a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
a=sendonly
a=msid:3f7bd8a4-5b1c-4c0e-9e2f-1d2c3b4a5f60 0b3f6d2e-8c1a-4e9b-a7d5-3c2e1f0a9b8c
a=rtcp-mux
a=rtcp-rsize
a=rtpmap:96 VP8/90000
a=rtcp-fb:96 goog-remb
a=rtcp-fb:96 transport-cc
a=rtcp-fb:96 ccm fir
a=rtcp-fb:96 nack
a=rtcp-fb:96 nack pli
a=rtpmap:97 rtx/90000
a=fmtp:97 apt=96
a=rtpmap:98 H264/90000
a=fmtp:98 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f
a=rtpmap:99 rtx/90000
a=fmtp:99 apt=98
a=rtpmap:45 AV1/90000
a=fmtp:45 level-idx=5;profile=0;tier=0
a=ssrc-group:FID 1873422401 3620164993
a=ssrc:1873422401 cname:x9Lk2Fq1VbN7pQ0s
a=ssrc:3620164993 cname:x9Lk2Fq1VbN7pQ0s
";
