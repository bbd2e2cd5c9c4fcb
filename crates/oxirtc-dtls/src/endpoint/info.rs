//! What a [`Dtls`] endpoint tells about itself: connection state, the negotiated parameters, the
//! peer's certificate, counters, and the RFC 5705 exporter. Read-only; the state machine is in
//! `endpoint.rs`.

use super::{Dtls, Phase};
use crate::{
    config::{CipherSuite, Role, SrtpProfile},
    error::DtlsError,
    keys,
    stats::DtlsStats,
};

impl Dtls {
    /// RFC 5705 keying-material exporter, e.g. `("EXTRACTOR-dtls_srtp", None, 2 * (key + salt))` for
    /// SRTP (RFC 5764 §4.2). Available once connected.
    pub fn export_keying_material(
        &self,
        label: &[u8],
        context: Option<&[u8]>,
        len: usize,
    ) -> Result<Vec<u8>, DtlsError> {
        let session = match (&self.session, self.phase) {
            (Some(s), Phase::Connected) => s,
            _ => return Err(DtlsError::NotConnected),
        };
        let h = &session.hello;
        keys::export_keying_material(
            self.crypto,
            h.suite,
            &session.master,
            (&h.client_random, &h.server_random),
            label,
            context,
            len,
        )
        .map_err(DtlsError::InvalidExporter)
    }

    /// Whether the handshake completed and the peer fingerprint was verified.
    pub fn is_connected(&self) -> bool {
        self.phase == Phase::Connected
    }

    /// This endpoint's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The negotiated cipher suite, once the handshake completed.
    pub fn cipher_suite(&self) -> Option<CipherSuite> {
        self.session.as_ref().map(|s| s.hello.suite)
    }

    /// The negotiated SRTP profile, once the handshake completed (None if use_srtp was not agreed).
    pub fn srtp_profile(&self) -> Option<SrtpProfile> {
        self.session.as_ref().and_then(|s| s.hello.srtp)
    }

    /// The peer's end-entity certificate (DER), once the handshake completed.
    pub fn peer_certificate(&self) -> Option<&[u8]> {
        self.session.as_ref().map(|s| s.peer.cert.as_slice())
    }

    /// Counters.
    pub fn stats(&self) -> &DtlsStats {
        &self.stats
    }

    /// Bytes held by handshake reassembly (bounded by [`MAX_BUFFERED`](crate::MAX_BUFFERED)).
    pub fn buffered_handshake_bytes(&self) -> usize {
        self.reassembler.buffered_bytes()
    }

    /// Whether the handshake completed (even if the fingerprint is not verified yet).
    pub fn is_handshake_complete(&self) -> bool {
        self.session.is_some()
    }
}
