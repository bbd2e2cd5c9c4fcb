use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

use crate::{CryptoError, CryptoProvider};

/// A cryptographically secure generator (ChaCha20) that protocol state machines own.
///
/// Seeded from the operating system in production and from a fixed seed in tests, so a simulated run is
/// reproducible (quinn-proto's `rng_seed`). Transaction IDs, ICE credentials and tie-breakers come from it.
///
/// Only the seed and the stream position are kept (48 bytes): the generator is rebuilt at that
/// position for each call, which yields exactly the stream of one long-lived `ChaCha20Rng` without
/// keeping its 256-byte output buffer. Every connection owns several of these and draws from them
/// rarely (credentials, transaction ids, tags), so the bytes matter more than the rebuild.
#[derive(Clone)]
pub struct SecureRng {
    seed: [u8; 32],
    /// The next 32-bit word of the ChaCha20 stream to hand out.
    word_pos: u128,
}

impl std::fmt::Debug for SecureRng {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The seed is secret; the position says how far the stream went.
        f.debug_struct("SecureRng")
            .field("word_pos", &self.word_pos)
            .finish_non_exhaustive()
    }
}

impl SecureRng {
    /// A generator seeded from the provider's operating-system CSPRNG.
    pub fn from_os(provider: &dyn CryptoProvider) -> Result<Self, CryptoError> {
        let mut seed = [0u8; 32];
        provider.fill_random(&mut seed)?;
        Ok(Self::from_seed(seed))
    }

    /// A reproducible generator for tests and simulations.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self { seed, word_pos: 0 }
    }

    /// Runs `f` on the generator at the current position and moves the position past what it drew.
    fn draw<T>(&mut self, f: impl FnOnce(&mut ChaCha20Rng) -> T) -> T {
        let mut rng = ChaCha20Rng::from_seed(self.seed);
        rng.set_word_pos(self.word_pos);
        let out = f(&mut rng);
        self.word_pos = rng.get_word_pos();
        out
    }

    /// A child generator whose stream is independent of this one's later output.
    pub fn fork(&mut self) -> Self {
        let mut seed = [0u8; 32];
        self.fill(&mut seed);
        Self::from_seed(seed)
    }

    /// Fills `out` with random bytes.
    pub fn fill(&mut self, out: &mut [u8]) {
        self.draw(|r| r.fill_bytes(out));
    }

    /// A random `u32`.
    pub fn u32(&mut self) -> u32 {
        self.draw(RngCore::next_u32)
    }

    /// A random `u64`.
    pub fn u64(&mut self) -> u64 {
        self.draw(RngCore::next_u64)
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
        self.draw(|r| {
            (0..len)
                .map(|_| ALPHABET[(r.next_u32() % 64) as usize] as char)
                .collect()
        })
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

    /// The compact form hands out exactly the stream of one long-lived ChaCha20 generator, across
    /// mixed calls and block boundaries (64 words per block).
    #[test]
    fn same_stream_as_one_long_lived_chacha20() {
        let mut compact = SecureRng::from_seed([7; 32]);
        let mut reference = ChaCha20Rng::from_seed([7; 32]);
        for i in 0..300u32 {
            match i % 5 {
                0 => assert_eq!(compact.u32(), reference.next_u32()),
                1 => assert_eq!(compact.u64(), reference.next_u64()),
                2 => {
                    let (mut a, mut b) = ([0u8; 13], [0u8; 13]);
                    compact.fill(&mut a);
                    reference.fill_bytes(&mut b);
                    assert_eq!(a, b);
                }
                3 => {
                    let (mut a, mut b) = ([0u8; 300], [0u8; 300]);
                    compact.fill(&mut a);
                    reference.fill_bytes(&mut b);
                    assert_eq!(a, b);
                }
                _ => {
                    let s = compact.ice_string(5);
                    let expected: String = (0..5)
                        .map(|_| {
                            let alphabet =
                                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
                            alphabet[(reference.next_u32() % 64) as usize] as char
                        })
                        .collect();
                    assert_eq!(s, expected);
                }
            }
        }
        assert!(std::mem::size_of::<SecureRng>() <= 48);
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
