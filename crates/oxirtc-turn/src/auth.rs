//! Long-term credentials for the server (RFC 8489 §9.2): a static user list, the TURN REST shared
//! secret scheme (draft-uberti-behave-turn-rest: username `expiry:user`, password
//! `base64(HMAC-SHA1(secret, username))`), and stateless expiring nonces.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use base64ct::{Base64, Base64UrlUnpadded, Encoding};
use oxirtc_crypto::CryptoProvider;
use oxirtc_stun::{long_term_key, PasswordAlgorithm};

/// Where the server finds passwords.
#[derive(Clone, Debug, Default)]
pub struct Credentials {
    users: HashMap<String, String>,
    rest_secrets: Vec<Vec<u8>>,
}

impl Credentials {
    /// No users: every authenticated request fails.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a static user.
    pub fn user(mut self, name: &str, password: &str) -> Self {
        self.users.insert(name.to_owned(), password.to_owned());
        self
    }

    /// Adds a TURN REST shared secret (several may be active during a rotation).
    pub fn rest_secret(mut self, secret: &[u8]) -> Self {
        self.rest_secrets.push(secret.to_vec());
        self
    }

    /// True if no user and no secret is configured.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty() && self.rest_secrets.is_empty()
    }

    /// The candidate long-term keys for `username` (RFC 8489 §9.2.2), or none if the user is unknown or
    /// its REST expiry (`unix_now` seconds since 1970) has passed. A static user wins over REST.
    pub fn keys(
        &self,
        crypto: &dyn CryptoProvider,
        username: &str,
        realm: &str,
        unix_now: u64,
    ) -> Vec<Vec<u8>> {
        if let Some(pw) = self.users.get(username) {
            return vec![long_term_key(crypto, username, realm, pw, PasswordAlgorithm::Md5)];
        }
        if self.rest_secrets.is_empty() || !rest_username_valid(username, unix_now) {
            return Vec::new();
        }
        self.rest_secrets
            .iter()
            .map(|secret| {
                let password = rest_password(crypto, secret, username);
                long_term_key(crypto, username, realm, &password, PasswordAlgorithm::Md5)
            })
            .collect()
    }
}

/// TURN REST: the password for `username` is `base64(HMAC-SHA1(secret, username))`.
pub fn rest_password(crypto: &dyn CryptoProvider, secret: &[u8], username: &str) -> String {
    Base64::encode_string(&crypto.hmac_sha1(secret, &[username.as_bytes()]))
}

/// TURN REST: the username starts with a decimal Unix expiry, optionally followed by `:user`.
fn rest_username_valid(username: &str, unix_now: u64) -> bool {
    let expiry = username.split(':').next().unwrap_or("");
    expiry.parse::<u64>().is_ok_and(|e| e > unix_now)
}

/// Issues and checks stateless nonces: `base64url(expiry || HMAC-SHA1(key, expiry || client)[..5])`,
/// 12 characters. Nothing is stored per client; any core holding the same key and epoch accepts the
/// nonce.
///
/// The nonce is short because every 401 carries one and a 401 is what an unauthenticated (possibly
/// spoofed) request gets (see [`crate::ServerConfig::unauth_size_slack`]). 40 bits of MAC are enough:
/// a forged nonce only passes the freshness check, the request still needs MESSAGE-INTEGRITY made
/// with the user's key (RFC 8489 §9.2.4), and each guess costs an online request.
#[derive(Clone, Debug)]
pub(crate) struct Nonces {
    key: [u8; 32],
    epoch: Instant,
    lifetime: Duration,
}

/// Length of every nonce this server issues (kept short: 401 responses must stay small).
pub(crate) const NONCE_LEN: usize = 12;
/// Bytes behind a nonce: a 4-byte expiry and a 5-byte truncated MAC (12 base64url characters).
const NONCE_RAW: usize = 9;
const EXPIRY: usize = 4;

impl Nonces {
    pub(crate) fn new(key: [u8; 32], epoch: Instant, lifetime: Duration) -> Self {
        Nonces { key, epoch, lifetime }
    }

    fn secs(&self, now: Instant) -> u32 {
        u32::try_from(now.saturating_duration_since(self.epoch).as_secs()).unwrap_or(u32::MAX)
    }

    fn mac(&self, crypto: &dyn CryptoProvider, expiry: u32, client: SocketAddr) -> [u8; NONCE_RAW - EXPIRY] {
        let addr = client.to_string();
        let mac = crypto.hmac_sha1(&self.key, &[&expiry.to_be_bytes(), addr.as_bytes()]);
        let mut out = [0u8; NONCE_RAW - EXPIRY];
        out.copy_from_slice(&mac[..NONCE_RAW - EXPIRY]);
        out
    }

    /// A fresh nonce for `client`, valid for the configured lifetime.
    pub(crate) fn issue(&self, crypto: &dyn CryptoProvider, now: Instant, client: SocketAddr) -> String {
        let lifetime = u32::try_from(self.lifetime.as_secs()).unwrap_or(u32::MAX);
        let expiry = self.secs(now).saturating_add(lifetime);
        let mut raw = [0u8; NONCE_RAW];
        raw[..EXPIRY].copy_from_slice(&expiry.to_be_bytes());
        raw[EXPIRY..].copy_from_slice(&self.mac(crypto, expiry, client));
        Base64UrlUnpadded::encode_string(&raw)
    }

    /// RFC 8489 §9.2.4: `Ok` if the nonce is ours for this client and unexpired, `Err(true)` if it is
    /// ours but stale (438), `Err(false)` if it is not ours at all (401).
    pub(crate) fn check(
        &self,
        crypto: &dyn CryptoProvider,
        now: Instant,
        client: SocketAddr,
        nonce: &str,
    ) -> Result<(), bool> {
        let mut bytes = [0u8; NONCE_RAW];
        match Base64UrlUnpadded::decode(nonce.as_bytes(), &mut bytes) {
            Ok(b) if b.len() == NONCE_RAW => {}
            _ => return Err(false),
        }
        let expiry = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        let mac = self.mac(crypto, expiry, client);
        let ok = mac
            .iter()
            .zip(&bytes[EXPIRY..])
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
        match (ok, expiry > self.secs(now)) {
            (true, true) => Ok(()),
            (true, false) => Err(true),
            // A nonce we cannot recognise is treated as stale so the client retries with a fresh one.
            (false, _) => Err(true),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oxirtc_crypto::default_provider;

    #[test]
    fn rest_password_matches_coturn_reference() {
        // HMAC-SHA1 (20 bytes) in standard base64 with padding: 28 characters.
        let c = default_provider();
        let pw = rest_password(c, b"secret", "1700000000:alice");
        assert_eq!(pw.len(), 28);
        assert!(pw.ends_with('='));
        assert_eq!(
            pw,
            Base64::encode_string(&c.hmac_sha1(b"secret", &[b"1700000000:alice"]))
        );
    }

    #[test]
    fn rest_username_expiry() {
        let c = default_provider();
        let creds = Credentials::new().rest_secret(b"s3cret");
        assert_eq!(creds.keys(c, "2000:bob", "r", 1999).len(), 1);
        assert!(creds.keys(c, "2000:bob", "r", 2000).is_empty());
        assert!(creds.keys(c, "bob", "r", 0).is_empty());
        let creds = creds.user("bob", "pw");
        assert_eq!(creds.keys(c, "bob", "r", 0).len(), 1);
    }

    #[test]
    #[allow(clippy::disallowed_methods)] // test owns the clock
    fn nonce_round_trip_stale_and_foreign() {
        let c = default_provider();
        let t0 = Instant::now();
        let n = Nonces::new([7; 32], t0, Duration::from_secs(60));
        let a: SocketAddr = "192.0.2.1:5000".parse().unwrap();
        let b: SocketAddr = "192.0.2.1:5001".parse().unwrap();
        let nonce = n.issue(c, t0, a);
        assert_eq!(nonce.len(), NONCE_LEN);
        assert_eq!(n.check(c, t0 + Duration::from_secs(59), a, &nonce), Ok(()));
        assert_eq!(n.check(c, t0 + Duration::from_secs(61), a, &nonce), Err(true));
        assert!(n.check(c, t0, b, &nonce).is_err());
        assert_eq!(n.check(c, t0, a, "zz"), Err(false));
        let other = Nonces::new([8; 32], t0, Duration::from_secs(60));
        assert!(other.check(c, t0, a, &nonce).is_err());
    }
}
