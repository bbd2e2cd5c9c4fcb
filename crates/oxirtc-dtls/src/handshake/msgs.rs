//! Handshake message codec (RFC 5246 §7.4 with the DTLS changes of RFC 6347 §4.2.2 and §4.3.2),
//! ECC messages (RFC 8422 §5) and the hello extensions WebRTC uses. Parsers borrow; encoders append.

use crate::{
    codec::{put_u16, put_u24, put_vec, Reader},
    error::DtlsError,
    record::DTLS_1_2,
};

/// `HandshakeType` codes (RFC 5246 §7.4, RFC 6347 §4.3.2).
pub(crate) mod ty {
    pub const HELLO_REQUEST: u8 = 0;
    pub const CLIENT_HELLO: u8 = 1;
    pub const SERVER_HELLO: u8 = 2;
    pub const HELLO_VERIFY_REQUEST: u8 = 3;
    pub const CERTIFICATE: u8 = 11;
    pub const SERVER_KEY_EXCHANGE: u8 = 12;
    pub const CERTIFICATE_REQUEST: u8 = 13;
    pub const SERVER_HELLO_DONE: u8 = 14;
    pub const CERTIFICATE_VERIFY: u8 = 15;
    pub const CLIENT_KEY_EXCHANGE: u8 = 16;
    pub const FINISHED: u8 = 20;
}

/// Extension codepoints (RFC 8422 §5.1, RFC 5246 §7.4.1.4.1, RFC 5764 §4.1.1, RFC 7627 §5.1,
/// RFC 5746 §3.2).
mod ext {
    pub const SUPPORTED_GROUPS: u16 = 10;
    pub const EC_POINT_FORMATS: u16 = 11;
    pub const SIGNATURE_ALGORITHMS: u16 = 13;
    pub const USE_SRTP: u16 = 14;
    pub const EXTENDED_MASTER_SECRET: u16 = 23;
    pub const RENEGOTIATION_INFO: u16 = 0xff01;
}

/// TLS_EMPTY_RENEGOTIATION_INFO_SCSV (RFC 5746 §3.3).
pub(crate) const EMPTY_RENEGOTIATION_SCSV: u16 = 0x00ff;
/// `ECCurveType.named_curve` (RFC 8422 §5.4).
const NAMED_CURVE: u8 = 3;
/// `ECPointFormat.uncompressed` (RFC 8422 §5.1.2).
const UNCOMPRESSED: u8 = 0;
/// `ClientCertificateType.ecdsa_sign` (RFC 8422 §5.5).
pub(crate) const ECDSA_SIGN: u8 = 64;
/// `ClientCertificateType.rsa_sign` (RFC 5246 §7.4.4).
const RSA_SIGN: u8 = 1;
/// DTLS handshake header length (RFC 6347 §4.2.2).
pub(crate) const HANDSHAKE_HEADER_LEN: usize = 12;

fn malformed(what: &'static str) -> impl Fn() -> DtlsError {
    move || DtlsError::Malformed(what)
}

/// One handshake fragment header (RFC 6347 §4.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FragmentHeader {
    pub msg_type: u8,
    pub length: u32,
    pub message_seq: u16,
    pub fragment_offset: u32,
    pub fragment_length: u32,
}

impl FragmentHeader {
    /// Parses one fragment from a handshake record, returning the header, the fragment bytes and the
    /// rest of the record (several fragments may share a record).
    pub(crate) fn parse(buf: &[u8]) -> Option<(Self, &[u8], &[u8])> {
        let mut r = Reader::new(buf);
        let h = Self {
            msg_type: r.u8()?,
            length: r.u24()?,
            message_seq: r.u16()?,
            fragment_offset: r.u24()?,
            fragment_length: r.u24()?,
        };
        let body = r.take(h.fragment_length as usize)?;
        let end = u64::from(h.fragment_offset) + u64::from(h.fragment_length);
        if end > u64::from(h.length) {
            return None;
        }
        Some((h, body, r.rest()))
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.msg_type);
        put_u24(out, self.length);
        put_u16(out, self.message_seq);
        put_u24(out, self.fragment_offset);
        put_u24(out, self.fragment_length);
    }
}

/// A whole message as it enters the transcript: header with `fragment_offset = 0` and
/// `fragment_length = length` (RFC 6347 §4.2.6), then the body.
pub(crate) fn encode_message(msg_type: u8, message_seq: u16, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HANDSHAKE_HEADER_LEN + body.len());
    let len = body.len() as u32;
    FragmentHeader {
        msg_type,
        length: len,
        message_seq,
        fragment_offset: 0,
        fragment_length: len,
    }
    .encode(&mut out);
    out.extend_from_slice(body);
    out
}

/// The hello extensions oxirtc understands; unknown ones are skipped (RFC 5246 §7.4.1.4).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct HelloExtensions {
    pub groups: Vec<u16>,
    pub point_formats: Option<Vec<u8>>,
    pub signature_algorithms: Vec<u16>,
    pub srtp_profiles: Option<Vec<u16>>,
    pub extended_master_secret: bool,
    /// `renegotiated_connection` of renegotiation_info, if the extension is present.
    pub renegotiation_info: Option<Vec<u8>>,
}

fn u16_list(data: &[u8], what: &'static str) -> Result<Vec<u16>, DtlsError> {
    if !data.len().is_multiple_of(2) {
        return Err(DtlsError::Malformed(what));
    }
    Ok(data
        .chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect())
}

impl HelloExtensions {
    fn parse(r: &mut Reader<'_>) -> Result<Self, DtlsError> {
        let mut out = Self::default();
        if r.is_empty() {
            return Ok(out); // extensions are optional (RFC 5246 §7.4.1.2)
        }
        let mut list = Reader::new(r.vec16().ok_or_else(malformed("extensions"))?);
        let mut seen = Vec::new();
        while !list.is_empty() {
            let kind = list.u16().ok_or_else(malformed("extension"))?;
            let data = list.vec16().ok_or_else(malformed("extension"))?;
            if seen.contains(&kind) {
                // RFC 5246 §7.4.1.4: at most one extension of each type.
                return Err(DtlsError::Malformed("duplicate extension"));
            }
            seen.push(kind);
            out.parse_one(kind, data)?;
        }
        Ok(out)
    }

    fn parse_one(&mut self, kind: u16, data: &[u8]) -> Result<(), DtlsError> {
        let mut d = Reader::new(data);
        match kind {
            ext::SUPPORTED_GROUPS => {
                self.groups = u16_list(
                    d.vec16().ok_or_else(malformed("supported_groups"))?,
                    "supported_groups",
                )?;
            }
            ext::EC_POINT_FORMATS => {
                self.point_formats = Some(d.vec8().ok_or_else(malformed("ec_point_formats"))?.to_vec());
            }
            ext::SIGNATURE_ALGORITHMS => {
                let list = d.vec16().ok_or_else(malformed("signature_algorithms"))?;
                self.signature_algorithms = u16_list(list, "signature_algorithms")?;
            }
            ext::USE_SRTP => {
                // RFC 5764 §4.1.1: SRTPProtectionProfiles, then srtp_mki<0..255>.
                let list = d.vec16().ok_or_else(malformed("use_srtp"))?;
                d.vec8().ok_or_else(malformed("use_srtp mki"))?;
                self.srtp_profiles = Some(u16_list(list, "use_srtp")?);
            }
            ext::EXTENDED_MASTER_SECRET => {
                // RFC 7627 §5.1: the extension_data is empty.
                self.extended_master_secret = true;
            }
            ext::RENEGOTIATION_INFO => {
                let info = d.vec8().ok_or_else(malformed("renegotiation_info"))?;
                self.renegotiation_info = Some(info.to_vec());
            }
            _ => return Ok(()),
        }
        if d.is_empty() {
            Ok(())
        } else {
            Err(DtlsError::Malformed("extension trailing bytes"))
        }
    }
}

fn put_ext(out: &mut Vec<u8>, kind: u16, body: impl FnOnce(&mut Vec<u8>)) {
    put_u16(out, kind);
    put_vec(out, 2, body);
}

fn put_u16_list(out: &mut Vec<u8>, items: &[u16]) {
    put_vec(out, 2, |o| items.iter().for_each(|&v| put_u16(o, v)));
}

/// What a ClientHello offers.
#[derive(Debug, Clone)]
pub(crate) struct ClientHelloParams<'a> {
    pub random: &'a [u8; 32],
    pub cookie: &'a [u8],
    pub suites: &'a [u16],
    pub groups: &'a [u16],
    pub signature_algorithms: &'a [u16],
    pub srtp_profiles: &'a [u16],
}

/// Encodes a ClientHello body (RFC 6347 §4.2.1): version, random, empty session_id, cookie, suites,
/// null compression, extensions.
pub(crate) fn encode_client_hello(p: &ClientHelloParams<'_>) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    put_u16(&mut out, DTLS_1_2);
    out.extend_from_slice(p.random);
    out.push(0); // session_id: no resumption
    put_vec(&mut out, 1, |o| o.extend_from_slice(p.cookie));
    put_vec(&mut out, 2, |o| p.suites.iter().for_each(|&s| put_u16(o, s)));
    out.extend_from_slice(&[1, 0]); // compression_methods: null only
    put_vec(&mut out, 2, |o| {
        put_ext(o, ext::SUPPORTED_GROUPS, |o| put_u16_list(o, p.groups));
        put_ext(o, ext::EC_POINT_FORMATS, |o| {
            o.extend_from_slice(&[1, UNCOMPRESSED])
        });
        put_ext(o, ext::SIGNATURE_ALGORITHMS, |o| {
            put_u16_list(o, p.signature_algorithms)
        });
        if !p.srtp_profiles.is_empty() {
            put_ext(o, ext::USE_SRTP, |o| {
                put_u16_list(o, p.srtp_profiles);
                o.push(0); // empty MKI (RFC 5764 §4.1.1)
            });
        }
        put_ext(o, ext::EXTENDED_MASTER_SECRET, |_| {});
        put_ext(o, ext::RENEGOTIATION_INFO, |o| o.push(0));
    });
    out
}

/// A parsed ClientHello, borrowing the message.
#[derive(Debug, Clone)]
pub(crate) struct ClientHello<'a> {
    pub random: [u8; 32],
    pub session_id: &'a [u8],
    pub cookie: &'a [u8],
    pub suites: Vec<u16>,
    pub suites_raw: &'a [u8],
    pub compression: &'a [u8],
    pub extensions_raw: &'a [u8],
    pub ext: HelloExtensions,
}

impl<'a> ClientHello<'a> {
    pub(crate) fn parse(body: &'a [u8]) -> Result<Self, DtlsError> {
        let m = malformed("ClientHello");
        let mut r = Reader::new(body);
        let version = r.u16().ok_or_else(&m)?;
        // DTLS versions count down: 1.2 = 0xFEFD is "higher" than 1.0 = 0xFEFF (RFC 6347 §4.1).
        if version > DTLS_1_2 {
            return Err(DtlsError::HandshakeFailure("client does not offer DTLS 1.2"));
        }
        let mut random = [0u8; 32];
        random.copy_from_slice(r.take(32).ok_or_else(&m)?);
        let session_id = r.vec8().ok_or_else(&m)?;
        let cookie = r.vec8().ok_or_else(&m)?;
        let suites_raw = r.vec16().ok_or_else(&m)?;
        let compression = r.vec8().ok_or_else(&m)?;
        if session_id.len() > 32 || cookie.len() > 255 || suites_raw.is_empty() || compression.is_empty() {
            return Err(m());
        }
        let extensions_raw = r.rest();
        let ext = HelloExtensions::parse(&mut Reader::new(extensions_raw))?;
        Ok(Self {
            random,
            session_id,
            cookie,
            suites: u16_list(suites_raw, "cipher_suites")?,
            suites_raw,
            compression,
            extensions_raw,
            ext,
        })
    }
}

/// What a ServerHello says (RFC 5246 §7.4.1.3).
#[derive(Debug, Clone)]
pub(crate) struct ServerHello {
    pub random: [u8; 32],
    pub suite: u16,
    pub ext: HelloExtensions,
}

impl ServerHello {
    pub(crate) fn parse(body: &[u8]) -> Result<Self, DtlsError> {
        let m = malformed("ServerHello");
        let mut r = Reader::new(body);
        if r.u16().ok_or_else(&m)? != DTLS_1_2 {
            return Err(DtlsError::HandshakeFailure("server did not choose DTLS 1.2"));
        }
        let mut random = [0u8; 32];
        random.copy_from_slice(r.take(32).ok_or_else(&m)?);
        let session_id = r.vec8().ok_or_else(&m)?;
        let suite = r.u16().ok_or_else(&m)?;
        let compression = r.u8().ok_or_else(&m)?;
        if session_id.len() > 32 || compression != 0 {
            return Err(DtlsError::IllegalParameter("ServerHello compression"));
        }
        let ext = HelloExtensions::parse(&mut r)?;
        Ok(Self { random, suite, ext })
    }

    /// Encodes with an empty session_id (no resumption) and null compression. Extensions answer only
    /// what the client sent (RFC 5246 §7.4.1.4: no unsolicited extensions).
    pub(crate) fn encode(p: &ServerHelloParams) -> Vec<u8> {
        let mut out = Vec::with_capacity(96);
        put_u16(&mut out, DTLS_1_2);
        out.extend_from_slice(&p.random);
        out.push(0);
        put_u16(&mut out, p.suite);
        out.push(0);
        put_vec(&mut out, 2, |o| {
            if p.point_formats {
                // RFC 8422 §5.2: echoed when the client sent ec_point_formats.
                put_ext(o, ext::EC_POINT_FORMATS, |o| {
                    o.extend_from_slice(&[1, UNCOMPRESSED])
                });
            }
            if let Some(profile) = p.srtp {
                // RFC 5764 §4.1.1: one profile, empty MKI.
                put_ext(o, ext::USE_SRTP, |o| {
                    put_u16_list(o, &[profile]);
                    o.push(0);
                });
            }
            put_ext(o, ext::EXTENDED_MASTER_SECRET, |_| {});
            if p.renegotiation_info {
                // RFC 5746 §3.6: only if the client signalled support (extension or SCSV).
                put_ext(o, ext::RENEGOTIATION_INFO, |o| o.push(0));
            }
        });
        out
    }
}

/// What a ServerHello carries.
#[derive(Debug, Clone)]
pub(crate) struct ServerHelloParams {
    pub random: [u8; 32],
    pub suite: u16,
    pub srtp: Option<u16>,
    pub point_formats: bool,
    pub renegotiation_info: bool,
}

/// HelloVerifyRequest (RFC 6347 §4.2.1): version (DTLS 1.0 recommended) and cookie<0..255>.
pub(crate) fn parse_hello_verify_request(body: &[u8]) -> Result<&[u8], DtlsError> {
    let m = malformed("HelloVerifyRequest");
    let mut r = Reader::new(body);
    r.u16().ok_or_else(&m)?;
    let cookie = r.vec8().ok_or_else(&m)?;
    if !r.is_empty() || cookie.is_empty() {
        return Err(m());
    }
    Ok(cookie)
}

pub(crate) fn encode_hello_verify_request(cookie: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(3 + cookie.len());
    // RFC 6347 §4.2.1: "DTLS 1.2 server implementations SHOULD use DTLS version 1.0".
    put_u16(&mut out, crate::record::DTLS_1_0);
    put_vec(&mut out, 1, |o| o.extend_from_slice(cookie));
    out
}

/// Certificate (RFC 5246 §7.4.2): `ASN.1Cert certificate_list<0..2^24-1>`.
pub(crate) fn parse_certificate(body: &[u8]) -> Result<Vec<&[u8]>, DtlsError> {
    let m = malformed("Certificate");
    let mut r = Reader::new(body);
    let mut list = Reader::new(r.vec24().ok_or_else(&m)?);
    if !r.is_empty() {
        return Err(m());
    }
    let mut certs = Vec::new();
    while !list.is_empty() {
        let cert = list.vec24().ok_or_else(&m)?;
        if cert.is_empty() {
            return Err(m());
        }
        certs.push(cert);
    }
    Ok(certs)
}

pub(crate) fn encode_certificate(der: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(der.len() + 6);
    put_vec(&mut out, 3, |o| put_vec(o, 3, |o| o.extend_from_slice(der)));
    out
}

/// ServerKeyExchange for ECDHE (RFC 8422 §5.4): `ServerECDHParams` then a `digitally-signed` struct.
#[derive(Debug, Clone)]
pub(crate) struct ServerKeyExchange<'a> {
    pub group: u16,
    pub public: &'a [u8],
    /// The encoded `ServerECDHParams`, which the signature covers after the two randoms.
    pub params: &'a [u8],
    pub scheme: u16,
    pub signature: &'a [u8],
}

impl<'a> ServerKeyExchange<'a> {
    pub(crate) fn parse(body: &'a [u8]) -> Result<Self, DtlsError> {
        let m = malformed("ServerKeyExchange");
        let mut r = Reader::new(body);
        if r.u8().ok_or_else(&m)? != NAMED_CURVE {
            return Err(DtlsError::IllegalParameter("ServerKeyExchange curve type"));
        }
        let group = r.u16().ok_or_else(&m)?;
        let public = r.vec8().ok_or_else(&m)?;
        let params = &body[..3 + 1 + public.len()];
        let scheme = r.u16().ok_or_else(&m)?;
        let signature = r.vec16().ok_or_else(&m)?;
        if !r.is_empty() || public.is_empty() {
            return Err(m());
        }
        Ok(Self {
            group,
            public,
            params,
            scheme,
            signature,
        })
    }
}

/// `ServerECDHParams` (RFC 8422 §5.4).
pub(crate) fn encode_ecdh_params(group: u16, public: &[u8]) -> Vec<u8> {
    let mut out = vec![NAMED_CURVE];
    put_u16(&mut out, group);
    put_vec(&mut out, 1, |o| o.extend_from_slice(public));
    out
}

/// `digitally-signed` (RFC 5246 §4.7): SignatureAndHashAlgorithm then signature<0..2^16-1>.
pub(crate) fn encode_signed(out: &mut Vec<u8>, scheme: u16, signature: &[u8]) {
    put_u16(out, scheme);
    put_vec(out, 2, |o| o.extend_from_slice(signature));
}

/// CertificateVerify (RFC 5246 §7.4.8): one `digitally-signed` struct.
pub(crate) fn parse_signed(body: &[u8]) -> Result<(u16, &[u8]), DtlsError> {
    let m = malformed("CertificateVerify");
    let mut r = Reader::new(body);
    let scheme = r.u16().ok_or_else(&m)?;
    let sig = r.vec16().ok_or_else(&m)?;
    if !r.is_empty() {
        return Err(m());
    }
    Ok((scheme, sig))
}

/// CertificateRequest (RFC 5246 §7.4.4): certificate types, signature algorithms, no CA names.
pub(crate) fn encode_certificate_request(schemes: &[u16]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16);
    put_vec(&mut out, 1, |o| o.extend_from_slice(&[ECDSA_SIGN, RSA_SIGN]));
    put_u16_list(&mut out, schemes);
    put_u16(&mut out, 0);
    out
}

/// Returns `(certificate_types, supported_signature_algorithms)`.
pub(crate) fn parse_certificate_request(body: &[u8]) -> Result<(&[u8], Vec<u16>), DtlsError> {
    let m = malformed("CertificateRequest");
    let mut r = Reader::new(body);
    let types = r.vec8().ok_or_else(&m)?;
    let schemes = u16_list(r.vec16().ok_or_else(&m)?, "CertificateRequest")?;
    r.vec16().ok_or_else(&m)?; // certificate_authorities: ignored (WebRTC certificates are self-signed)
    if !r.is_empty() || types.is_empty() {
        return Err(m());
    }
    Ok((types, schemes))
}

/// ClientKeyExchange for ECDHE (RFC 8422 §5.7): `opaque point <1..2^8-1>`.
pub(crate) fn parse_client_key_exchange(body: &[u8]) -> Result<&[u8], DtlsError> {
    let m = malformed("ClientKeyExchange");
    let mut r = Reader::new(body);
    let public = r.vec8().ok_or_else(&m)?;
    if !r.is_empty() || public.is_empty() {
        return Err(m());
    }
    Ok(public)
}

pub(crate) fn encode_client_key_exchange(public: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + public.len());
    put_vec(&mut out, 1, |o| o.extend_from_slice(public));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_hello_round_trip() {
        let random = [3u8; 32];
        let body = encode_client_hello(&ClientHelloParams {
            random: &random,
            cookie: b"cookie",
            suites: &[0xC02B, 0xCCA9],
            groups: &[29, 23],
            signature_algorithms: &[0x0403],
            srtp_profiles: &[7, 1],
        });
        let ch = ClientHello::parse(&body).unwrap();
        assert_eq!(ch.random, random);
        assert_eq!(ch.cookie, b"cookie");
        assert_eq!(ch.suites, [0xC02B, 0xCCA9]);
        assert_eq!(ch.ext.groups, [29, 23]);
        assert_eq!(ch.ext.srtp_profiles, Some(vec![7, 1]));
        assert!(ch.ext.extended_master_secret);
        assert_eq!(ch.ext.renegotiation_info, Some(vec![]));
        assert_eq!(ch.ext.point_formats, Some(vec![0]));
        for cut in 0..body.len() {
            let _ = ClientHello::parse(&body[..cut]); // never panics
        }
    }

    #[test]
    fn server_hello_and_ske_round_trip() {
        let body = ServerHello::encode(&ServerHelloParams {
            random: [1; 32],
            suite: 0xC02B,
            srtp: Some(7),
            point_formats: false,
            renegotiation_info: true,
        });
        let sh = ServerHello::parse(&body).unwrap();
        assert_eq!((sh.suite, sh.ext.srtp_profiles), (0xC02B, Some(vec![7])));
        assert_eq!(
            (sh.ext.point_formats, sh.ext.renegotiation_info),
            (None, Some(vec![]))
        );
        let mut ske = encode_ecdh_params(29, &[9; 32]);
        encode_signed(&mut ske, 0x0403, b"sig");
        let p = ServerKeyExchange::parse(&ske).unwrap();
        assert_eq!(
            (p.group, p.public, p.scheme, p.signature),
            (29, &[9u8; 32][..], 0x0403, &b"sig"[..])
        );
        assert_eq!(p.params, &ske[..36]);
    }

    #[test]
    fn fragment_header_bounds() {
        let msg = encode_message(ty::FINISHED, 4, &[0xaa; 12]);
        let (h, body, rest) = FragmentHeader::parse(&msg).unwrap();
        assert_eq!(
            (h.msg_type, h.length, h.message_seq, body.len(), rest.len()),
            (20, 12, 4, 12, 0)
        );
        let mut past_end = msg.clone();
        past_end[8] = 1; // fragment_offset 1 + fragment_length 12 > length 12
        assert!(FragmentHeader::parse(&past_end).is_none());
        assert!(FragmentHeader::parse(&msg[..msg.len() - 1]).is_none());
    }

    #[test]
    fn duplicate_extensions_are_malformed() {
        let mut body = Vec::new();
        put_vec(&mut body, 2, |o| {
            put_ext(o, ext::EXTENDED_MASTER_SECRET, |_| {});
            put_ext(o, ext::EXTENDED_MASTER_SECRET, |_| {});
        });
        assert!(HelloExtensions::parse(&mut Reader::new(&body)).is_err());
    }
}
