//! Short-lived TURN credentials (the "TURN REST API" scheme, draft-uberti-behave-turn-rest-00 §2.2,
//! which `oxirtc turn --auth-secret` and coturn's `use-auth-secret` check).

use std::time::{Duration, SystemTime};

use base64ct::Encoding as _;
use oxirtc_crypto::default_provider;

use super::protocol::IceServer;

/// Where the TURN server is and the secret it shares with us.
#[derive(Clone, Debug)]
pub struct TurnRest {
    /// The shared secret (`auth-secret` of the TURN server).
    pub secret: String,
    /// `turn:` URLs handed to clients, e.g. `turn:127.0.0.1:3478?transport=udp`.
    pub urls: Vec<String>,
    /// How long a credential stays valid.
    pub ttl: Duration,
}

impl TurnRest {
    /// Credentials for `peer_id`, valid from `now` for [`TurnRest::ttl`]:
    /// username `<expiry unix time>:<peer id>`, password base64(HMAC-SHA1(secret, username)).
    pub fn ice_server(&self, peer_id: &str, now: SystemTime) -> IceServer {
        let unix = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let username = format!("{}:{peer_id}", unix + self.ttl.as_secs());
        let tag = default_provider().hmac_sha1(self.secret.as_bytes(), &[username.as_bytes()]);
        IceServer {
            urls: self.urls.clone(),
            username: Some(username),
            credential: Some(base64ct::Base64::encode_string(&tag)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_is_hmac_of_username() {
        let rest = TurnRest {
            secret: "north".into(),
            urls: vec!["turn:127.0.0.1:3478".into()],
            ttl: Duration::from_secs(3600),
        };
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let s = rest.ice_server("p7", at);
        assert_eq!(s.username.as_deref(), Some("1003600:p7"));
        let tag = default_provider().hmac_sha1(b"north", &[b"1003600:p7"]);
        let decoded = base64ct::Base64::decode_vec(s.credential.as_deref().unwrap()).unwrap();
        assert_eq!(decoded, tag);
        let other = rest.ice_server("p8", at);
        assert_ne!(other.credential, s.credential);
    }
}
