use crate::CryptoProvider;

/// The hash functions the provider offers for HMAC and the TLS 1.2 PRF.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HashAlgorithm {
    /// SHA-1 (only for legacy HMAC uses such as STUN MESSAGE-INTEGRITY).
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
}

impl HashAlgorithm {
    /// The digest (and HMAC tag) length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha256 => 32,
            Self::Sha384 => 48,
        }
    }
}

/// The TLS 1.2 PRF (RFC 5246 §5): `PRF(secret, label, seed) = P_<hash>(secret, label + seed)`, filling `out`.
///
/// `alg` is the cipher suite's PRF hash (SHA-256 for every suite WebRTC uses except the `_SHA384` ones).
pub fn tls12_prf(
    provider: &dyn CryptoProvider,
    alg: HashAlgorithm,
    secret: &[u8],
    label: &[u8],
    seed: &[u8],
    out: &mut [u8],
) {
    // A(1) = HMAC(secret, label + seed); A(i) = HMAC(secret, A(i-1)).
    let mut a = provider.hmac(alg, secret, &[label, seed]);
    let mut filled = 0;
    while filled < out.len() {
        let block = provider.hmac(alg, secret, &[&a, label, seed]);
        let n = block.len().min(out.len() - filled);
        out[filled..filled + n].copy_from_slice(&block[..n]);
        filled += n;
        if filled < out.len() {
            a = provider.hmac(alg, secret, &[&a]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hex_literal::hex;

    // The widely published TLS 1.2 PRF-SHA256 vector (checked against an independent Python hmac
    // implementation of RFC 5246 §5 before being written down here).
    #[test]
    fn prf_sha256_vector() {
        let mut out = [0u8; 100];
        tls12_prf(
            crate::default_provider(),
            HashAlgorithm::Sha256,
            &hex!("9bbe436ba940f017b17652849a71db35"),
            b"test label",
            &hex!("a0ba9f936cda311827a6f796ffd5198c"),
            &mut out,
        );
        assert_eq!(out, PRF_SHA256_OUT);
    }

    #[test]
    fn prf_sha384_vector() {
        let mut out = [0u8; 148];
        tls12_prf(
            crate::default_provider(),
            HashAlgorithm::Sha384,
            &hex!("b80b733d6ceefcdc71566ea48e5567df"),
            b"test label",
            &hex!("cd665cf6a8447dd6ff8b27555edb7465"),
            &mut out,
        );
        assert_eq!(out, PRF_SHA384_OUT);
    }

    #[test]
    fn prf_short_output_is_prefix() {
        let p = crate::default_provider();
        let (mut short, mut long) = ([0u8; 13], [0u8; 80]);
        tls12_prf(p, HashAlgorithm::Sha384, b"s", b"l", b"seed", &mut short);
        tls12_prf(p, HashAlgorithm::Sha384, b"s", b"l", b"seed", &mut long);
        assert_eq!(short, long[..13]);
    }

    const PRF_SHA256_OUT: [u8; 100] = hex!("e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66");
    const PRF_SHA384_OUT: [u8; 148] = hex!("7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cde9ca0faa60be9fe34f82b1233c9146a0e534cb400fed2700884f9dc236f80edd8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d9184259b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee691c8f3a26854308d5eaa3be85e0990703d73e56f");
}
