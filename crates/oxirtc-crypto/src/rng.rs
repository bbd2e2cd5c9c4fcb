use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

use crate::{CryptoError, CryptoProvider};

/// A cryptographically secure generator (ChaCha20) that protocol state machines own.
///
/// Seeded from the operating system in production and from a fixed seed in tests, so a simulated run is
/// reproducible (quinn-proto's `rng_seed`). Transaction IDs, ICE credentials and tie-breakers come from it.
#[derive(Debug, Clone)]
pub struct SecureRng(ChaCha20Rng);

impl SecureRng {
    /// A generator seeded from the provider's operating-system CSPRNG.
    pub fn from_os(provider: &dyn CryptoProvider) -> Result<Self, CryptoError> {
        let mut seed = [0u8; 32];
        provider.fill_random(&mut seed)?;
        Ok(Self::from_seed(seed))
    }

    /// A reproducible generator for tests and simulations.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self(ChaCha20Rng::from_seed(seed))
    }

    /// A child generator whose stream is independent of this one's later output.
    pub fn fork(&mut self) -> Self {
        let mut seed = [0u8; 32];
        self.fill(&mut seed);
        Self::from_seed(seed)
    }

    /// Fills `out` with random bytes.
    pub fn fill(&mut self, out: &mut [u8]) {
        self.0.fill_bytes(out);
    }

    /// A random `u32`.
    pub fn u32(&mut self) -> u32 {
        self.0.next_u32()
    }

    /// A random `u64`.
    pub fn u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// A uniformly random value in `0..bound` (`bound` > 0), without modulo bias.
    pub fn below(&mut self, bound: u64) -> u64 {
        assert!(bound > 0, "below(0) is a caller bug");
        let zone = u64::MAX - (u64::MAX % bound);
        loop {
            let v = self.u64();
            if v < zone {
                return v % bound;
            }
        }
    }

    /// A random string of `len` characters from the ICE alphabet `[A-Za-z0-9+/]` (RFC 8445 §5.3 ice-char).
    pub fn ice_string(&mut self, len: usize) -> String {
        const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        (0..len)
            .map(|_| ALPHABET[(self.u32() % 64) as usize] as char)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_is_reproducible() {
        let mut a = SecureRng::from_seed([1; 32]);
        let mut b = SecureRng::from_seed([1; 32]);
        assert_eq!(a.u64(), b.u64());
        assert_eq!(a.ice_string(22), b.ice_string(22));
    }

    #[test]
    fn below_stays_in_range() {
        let mut r = SecureRng::from_seed([2; 32]);
        for _ in 0..1000 {
            assert!(r.below(7) < 7);
        }
    }

    #[test]
    fn os_seeded_differs() {
        let p = crate::default_provider();
        let mut a = SecureRng::from_os(p).unwrap();
        let mut b = SecureRng::from_os(p).unwrap();
        assert_ne!(a.u64(), b.u64());
    }
}
