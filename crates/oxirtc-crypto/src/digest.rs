//! Streaming SHA-256 for data that does not fit in memory (file transfers), on the aws-lc-rs backend.

use aws_lc_rs::digest;

/// An incremental SHA-256 (FIPS 180-4): feed any number of slices, then [`Sha256Hasher::finish`].
#[derive(Clone)]
pub struct Sha256Hasher {
    ctx: digest::Context,
}

impl std::fmt::Debug for Sha256Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sha256Hasher").finish_non_exhaustive()
    }
}

impl Default for Sha256Hasher {
    fn default() -> Self {
        Self::new()
    }
}

impl Sha256Hasher {
    /// A hasher over the empty message.
    pub fn new() -> Self {
        Sha256Hasher {
            ctx: digest::Context::new(&digest::SHA256),
        }
    }

    /// Appends `data` to the message.
    pub fn update(&mut self, data: &[u8]) {
        self.ctx.update(data);
    }

    /// The digest of everything fed so far.
    pub fn finish(self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(self.ctx.finish().as_ref());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::default_provider;

    #[test]
    fn streaming_equals_one_shot() {
        // FIPS 180-4 example "abc".
        let mut h = Sha256Hasher::new();
        h.update(b"a");
        h.update(b"bc");
        let d = h.finish();
        assert_eq!(d, default_provider().sha256(&[b"abc"]));
        assert_eq!(d[..4], [0xba, 0x78, 0x16, 0xbf]);
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7) as u8).collect();
        let mut h = Sha256Hasher::default();
        for c in data.chunks(4097) {
            h.update(c);
        }
        assert_eq!(h.finish(), default_provider().sha256(&[&data]));
    }
}
