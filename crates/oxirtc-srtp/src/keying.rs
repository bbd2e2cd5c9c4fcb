//! DTLS-SRTP keying (RFC 5764 §4.2): splitting the exporter's output into the local and the remote
//! master key and salt.

use oxirtc_crypto::CryptoProvider;

use crate::{ProtectionProfile, ReceiveContext, SendContext, SrtpConfig, SrtpError};

/// Our role in the DTLS handshake that keyed the session (`a=setup`, RFC 8842): it decides which half
/// of the keying material protects what we send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DtlsRole {
    /// We sent the ClientHello: we protect with the client write key.
    Client,
    /// We answered it: we protect with the server write key.
    Server,
}

/// The send and receive contexts of a DTLS-SRTP session, from the keying material the DTLS exporter
/// returned for label "EXTRACTOR-dtls_srtp" with no context, of
/// [`ProtectionProfile::keying_material_len`] bytes (RFC 5764 §4.2).
///
/// The material is laid out as client_write_SRTP_master_key, server_write_SRTP_master_key,
/// client_write_SRTP_master_salt, server_write_SRTP_master_salt (RFC 5764 §4.2). The client protects
/// with the client's key and salt and the server only uses them to unprotect, and the other way round.
pub fn from_dtls(
    crypto: &dyn CryptoProvider,
    profile: ProtectionProfile,
    keying_material: &[u8],
    role: DtlsRole,
    config: &SrtpConfig,
) -> Result<(SendContext, ReceiveContext), SrtpError> {
    let expected = profile.keying_material_len();
    if keying_material.len() != expected {
        return Err(SrtpError::KeyingMaterialLength {
            profile,
            expected,
            got: keying_material.len(),
        });
    }
    let (keys, salts) = keying_material.split_at(2 * profile.master_key_len());
    let (client_key, server_key) = keys.split_at(profile.master_key_len());
    let (client_salt, server_salt) = salts.split_at(profile.master_salt_len());
    let ((local_key, local_salt), (remote_key, remote_salt)) = match role {
        DtlsRole::Client => ((client_key, client_salt), (server_key, server_salt)),
        DtlsRole::Server => ((server_key, server_salt), (client_key, client_salt)),
    };
    Ok((
        SendContext::new(crypto, profile, local_key, local_salt, config)?,
        ReceiveContext::new(crypto, profile, remote_key, remote_salt, config)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use oxirtc_crypto::default_provider;

    #[test]
    fn client_and_server_pair_up() {
        let crypto = default_provider();
        for profile in ProtectionProfile::ALL {
            let material: Vec<u8> = (0..profile.keying_material_len() as u8).collect();
            let config = SrtpConfig::default();
            let (mut client_tx, mut client_rx) =
                from_dtls(crypto, profile, &material, DtlsRole::Client, &config).unwrap();
            let (mut server_tx, mut server_rx) =
                from_dtls(crypto, profile, &material, DtlsRole::Server, &config).unwrap();
            let rtp = [0x80, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 7, 0xaa, 0xbb];
            let mut p = rtp.to_vec();
            client_tx.protect_rtp(&mut p).unwrap();
            assert_eq!(
                server_rx.unprotect_rtp(&mut p.clone()),
                Ok(rtp.len()),
                "{profile}"
            );
            // The client cannot read its own packets: they are under the client key, not the server's.
            assert!(matches!(
                client_rx.unprotect_rtp(&mut p),
                Err(SrtpError::AuthFailed { .. })
            ));
            let mut back = rtp.to_vec();
            server_tx.protect_rtp(&mut back).unwrap();
            assert_eq!(client_rx.unprotect_rtp(&mut back), Ok(rtp.len()), "{profile}");
        }
    }

    #[test]
    fn wrong_material_length_is_refused() {
        let err = from_dtls(
            default_provider(),
            ProtectionProfile::AeadAes128Gcm,
            &[0; 60],
            DtlsRole::Client,
            &SrtpConfig::default(),
        )
        .unwrap_err();
        assert_eq!(
            err,
            SrtpError::KeyingMaterialLength {
                profile: ProtectionProfile::AeadAes128Gcm,
                expected: 56,
                got: 60
            }
        );
    }
}
