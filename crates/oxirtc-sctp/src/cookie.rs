//! The stateless State Cookie (RFC 9260 §5.1.3, §5.1.5): the TCB the responder needs, a timestamp and
//! lifetime, authenticated with HMAC-SHA256 under a per-association secret.

use oxirtc_crypto::CryptoProvider;

use crate::reader::Reader;

/// Length of the MAC at the end of the cookie.
const MAC_LEN: usize = 32;
/// Length of the authenticated body.
const BODY_LEN: usize = 8 + 4 * 9 + 2 * 2 + 2;
/// Total cookie length.
pub(crate) const COOKIE_LEN: usize = BODY_LEN + MAC_LEN;

/// The TCB fields carried in the cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cookie {
    /// Creation time, milliseconds since the association's epoch.
    pub created_ms: u64,
    /// Lifespan in milliseconds.
    pub lifetime_ms: u32,
    pub local_tag: u32,
    pub peer_tag: u32,
    pub local_initial_tsn: u32,
    pub peer_initial_tsn: u32,
    pub peer_a_rwnd: u32,
    /// Tie-tags (RFC 9260 §5.2.2): zero when the cookie was made with no existing association.
    pub local_tie_tag: u32,
    pub peer_tie_tag: u32,
    pub outbound_streams: u16,
    pub inbound_streams: u16,
    pub peer_forward_tsn: bool,
    pub peer_reconfig: bool,
    /// The INIT announced Zero Checksum Acceptable for DTLS (RFC 9653 §4).
    pub peer_zero_checksum: bool,
    /// The INIT listed PAD in Supported Extensions (RFC 4820 §3).
    pub peer_pad: bool,
}

/// Why a cookie was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CookieError {
    /// Wrong length or MAC (RFC 9260 §5.1.5 step 2).
    BadMac,
}

impl Cookie {
    /// Serializes the cookie and appends its MAC (RFC 9260 §5.1.3).
    pub(crate) fn seal(&self, crypto: &dyn CryptoProvider, secret: &[u8]) -> Vec<u8> {
        let mut v = Vec::with_capacity(COOKIE_LEN);
        v.extend_from_slice(&self.created_ms.to_be_bytes());
        for x in [
            self.lifetime_ms,
            self.local_tag,
            self.peer_tag,
            self.local_initial_tsn,
            self.peer_initial_tsn,
            self.peer_a_rwnd,
            self.local_tie_tag,
            self.peer_tie_tag,
            // Flags (was reserved, zero): bit 0 = the peer accepts zero checksums (RFC 9653),
            // bit 1 = the peer takes PAD chunks (RFC 4820).
            u32::from(self.peer_zero_checksum) | u32::from(self.peer_pad) << 1,
        ] {
            v.extend_from_slice(&x.to_be_bytes());
        }
        v.extend_from_slice(&self.outbound_streams.to_be_bytes());
        v.extend_from_slice(&self.inbound_streams.to_be_bytes());
        v.push(u8::from(self.peer_forward_tsn));
        v.push(u8::from(self.peer_reconfig));
        let mac = crypto.hmac_sha256(secret, &[&v]);
        v.extend_from_slice(&mac);
        v
    }

    /// Checks the MAC in constant time and decodes the cookie (RFC 9260 §5.1.5 steps 1–2). The caller
    /// checks the lifetime against its own clock (step 3).
    pub(crate) fn open(
        bytes: &[u8],
        crypto: &dyn CryptoProvider,
        secret: &[u8],
    ) -> Result<Self, CookieError> {
        if bytes.len() != COOKIE_LEN {
            return Err(CookieError::BadMac);
        }
        let (body, mac) = bytes.split_at(BODY_LEN);
        let expected = crypto.hmac_sha256(secret, &[body]);
        let diff = expected.iter().zip(mac).fold(0u8, |acc, (a, b)| acc | (a ^ b));
        if diff != 0 {
            return Err(CookieError::BadMac);
        }
        let mut r = Reader::new(body);
        // The body length was checked above, so every read below succeeds; `unwrap_or` keeps this
        // panic-free without an unwrap.
        let hi = u64::from(r.u32().unwrap_or(0));
        let lo = u64::from(r.u32().unwrap_or(0));
        let mut u32s = [0u32; 9];
        for x in &mut u32s {
            *x = r.u32().unwrap_or(0);
        }
        let outbound_streams = r.u16().unwrap_or(0);
        let inbound_streams = r.u16().unwrap_or(0);
        let fwd = r.u8().unwrap_or(0);
        let reconf = r.u8().unwrap_or(0);
        Ok(Cookie {
            created_ms: hi << 32 | lo,
            lifetime_ms: u32s[0],
            local_tag: u32s[1],
            peer_tag: u32s[2],
            local_initial_tsn: u32s[3],
            peer_initial_tsn: u32s[4],
            peer_a_rwnd: u32s[5],
            local_tie_tag: u32s[6],
            peer_tie_tag: u32s[7],
            outbound_streams,
            inbound_streams,
            peer_forward_tsn: fwd != 0,
            peer_reconfig: reconf != 0,
            peer_zero_checksum: u32s[8] & 1 != 0,
            peer_pad: u32s[8] & 2 != 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oxirtc_crypto::default_provider;

    fn sample() -> Cookie {
        Cookie {
            created_ms: 0x1_0000_0005,
            lifetime_ms: 60_000,
            local_tag: 1,
            peer_tag: 2,
            local_initial_tsn: 3,
            peer_initial_tsn: 4,
            peer_a_rwnd: 5,
            local_tie_tag: 6,
            peer_tie_tag: 7,
            outbound_streams: 8,
            inbound_streams: 9,
            peer_forward_tsn: true,
            peer_reconfig: false,
            peer_zero_checksum: true,
            peer_pad: false,
        }
    }

    #[test]
    fn seal_open_round_trip() {
        let c = sample();
        let sealed = c.seal(default_provider(), b"secret");
        assert_eq!(sealed.len(), COOKIE_LEN);
        assert_eq!(Cookie::open(&sealed, default_provider(), b"secret"), Ok(c));
        let flipped = Cookie {
            peer_zero_checksum: false,
            peer_pad: true,
            ..c
        };
        let opened = Cookie::open(
            &flipped.seal(default_provider(), b"secret"),
            default_provider(),
            b"secret",
        );
        assert_eq!(opened, Ok(flipped));
    }

    #[test]
    fn tampering_or_wrong_key_is_refused() {
        let sealed = sample().seal(default_provider(), b"secret");
        assert_eq!(
            Cookie::open(&sealed, default_provider(), b"other"),
            Err(CookieError::BadMac)
        );
        for i in [0, 10, COOKIE_LEN - 1] {
            let mut t = sealed.clone();
            t[i] ^= 0x40;
            assert_eq!(
                Cookie::open(&t, default_provider(), b"secret"),
                Err(CookieError::BadMac)
            );
        }
        assert!(Cookie::open(&sealed[1..], default_provider(), b"secret").is_err());
    }
}
