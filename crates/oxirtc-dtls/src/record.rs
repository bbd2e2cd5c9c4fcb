//! The DTLS 1.2 record layer (RFC 6347 §4.1): record framing, epochs, 48-bit sequence numbers, the
//! anti-replay window and AEAD protection (RFC 5288 for AES-GCM, RFC 7905 for ChaCha20-Poly1305).
//!
//! It knows nothing about the handshake: the handshake installs a [`RecordCipher`] per epoch and hands
//! plaintext in and out. A DTLS 1.3 record layer (RFC 9147 §4) can sit beside it.

use oxirtc_crypto::{AeadKey, CryptoProvider, AEAD_TAG_LEN};

use crate::{
    codec::{put_u16, put_u48, Reader},
    config::CipherSuite,
    replay::ReplayWindow,
};

/// DTLS 1.2 on the wire (RFC 6347 §4.1: `{254, 253}`).
pub const DTLS_1_2: u16 = 0xFEFD;
/// DTLS 1.0 on the wire: allowed in epoch-0 records and HelloVerifyRequest (RFC 6347 §4.2.1).
pub const DTLS_1_0: u16 = 0xFEFF;
/// `DTLSPlaintext` header length: type, version, epoch, sequence_number, length.
pub const RECORD_HEADER_LEN: usize = 13;
/// Largest plaintext fragment (RFC 6347 §4.1, RFC 5246 §6.2.1: 2^14).
pub const MAX_PLAINTEXT: usize = 1 << 14;
/// Largest ciphertext fragment (RFC 5246 §6.2.3: 2^14 + 2048).
const MAX_CIPHERTEXT: usize = MAX_PLAINTEXT + 2048;
/// Epochs this endpoint tracks: 0 (plaintext) and 1 (after the one handshake; no renegotiation).
pub const MAX_EPOCHS: usize = 2;
/// 48-bit sequence numbers must not wrap (RFC 6347 §4.1).
const MAX_SEQ: u64 = (1 << 48) - 1;

/// `ContentType` (RFC 5246 §6.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentType {
    /// change_cipher_spec(20)
    ChangeCipherSpec,
    /// alert(21)
    Alert,
    /// handshake(22)
    Handshake,
    /// application_data(23)
    ApplicationData,
}

impl ContentType {
    /// The wire code.
    pub fn code(self) -> u8 {
        match self {
            Self::ChangeCipherSpec => 20,
            Self::Alert => 21,
            Self::Handshake => 22,
            Self::ApplicationData => 23,
        }
    }

    /// The content type with wire code `code`, if known.
    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            20 => Self::ChangeCipherSpec,
            21 => Self::Alert,
            22 => Self::Handshake,
            23 => Self::ApplicationData,
            _ => return None,
        })
    }
}

/// One record as it appears in a datagram, borrowing its fragment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    /// The content type.
    pub content_type: ContentType,
    /// `ProtocolVersion` of the record.
    pub version: u16,
    /// The epoch (RFC 6347 §4.1).
    pub epoch: u16,
    /// The 48-bit record sequence number.
    pub sequence: u64,
    /// The (possibly protected) fragment.
    pub fragment: &'a [u8],
}

/// Why the record layer refused a record (counted in [`DtlsStats`](crate::DtlsStats)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordDrop {
    /// Undecodable framing: short header, length past the datagram, unknown type or version.
    Malformed,
    /// An epoch this endpoint has no keys for (yet, or ever).
    UnknownEpoch,
    /// Already received, or older than the replay window (RFC 6347 §4.1.2.6).
    Replay,
    /// AEAD authentication failed (RFC 6347 §4.1.2.7: silently discarded).
    BadMac,
}

impl<'a> Record<'a> {
    /// Parses the first record of `buf`, returning it and the bytes after it (RFC 6347 §4.1: several
    /// records may share a datagram).
    pub fn parse(buf: &'a [u8]) -> Result<(Self, &'a [u8]), RecordDrop> {
        let mut r = Reader::new(buf);
        let malformed = RecordDrop::Malformed;
        let content_type = ContentType::from_code(r.u8().ok_or(malformed)?).ok_or(malformed)?;
        let version = r.u16().ok_or(malformed)?;
        let epoch = r.u16().ok_or(malformed)?;
        let sequence = r.u48().ok_or(malformed)?;
        let fragment = r.vec16().ok_or(malformed)?;
        if version != DTLS_1_2 && version != DTLS_1_0 || fragment.len() > MAX_CIPHERTEXT {
            return Err(malformed);
        }
        let rec = Self {
            content_type,
            version,
            epoch,
            sequence,
            fragment,
        };
        Ok((rec, r.rest()))
    }

    /// Appends the record with `fragment` as its body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        write_header(
            out,
            self.content_type,
            self.version,
            self.epoch,
            self.sequence,
            self.fragment.len(),
        );
        out.extend_from_slice(self.fragment);
    }
}

fn write_header(out: &mut Vec<u8>, ct: ContentType, version: u16, epoch: u16, seq: u64, len: usize) {
    out.push(ct.code());
    put_u16(out, version);
    put_u16(out, epoch);
    put_u48(out, seq);
    put_u16(out, len as u16);
}

/// The AEAD additional data: `seq_num(epoch + sequence) + type + version + length` (RFC 6347 §4.1.2.1,
/// RFC 5246 §6.2.3.3), `length` being the plaintext length.
fn additional_data(epoch: u16, seq: u64, ct: ContentType, version: u16, len: usize) -> [u8; 13] {
    let mut aad = [0u8; 13];
    aad[..8].copy_from_slice(&epoch_seq(epoch, seq));
    aad[8] = ct.code();
    aad[9..11].copy_from_slice(&version.to_be_bytes());
    aad[11..].copy_from_slice(&(len as u16).to_be_bytes());
    aad
}

fn epoch_seq(epoch: u16, seq: u64) -> [u8; 8] {
    (u64::from(epoch) << 48 | seq).to_be_bytes()
}

/// One direction's AEAD record protection for one epoch.
#[derive(Debug)]
pub struct RecordCipher {
    suite: CipherSuite,
    key: AeadKey,
    iv: Vec<u8>,
}

impl RecordCipher {
    /// A cipher from the `write_key` and `write_IV` of the key block (RFC 5246 §6.3).
    pub fn new(
        crypto: &dyn CryptoProvider,
        suite: CipherSuite,
        key: &[u8],
        iv: &[u8],
    ) -> Result<Self, oxirtc_crypto::CryptoError> {
        Ok(Self {
            suite,
            key: crypto.aead_key(suite.aead(), key)?,
            iv: iv.to_vec(),
        })
    }

    /// Bytes a protected record adds to its plaintext (explicit nonce and tag).
    pub fn overhead(&self) -> usize {
        self.suite.explicit_nonce_len() + AEAD_TAG_LEN
    }

    fn nonce(&self, explicit: [u8; 8]) -> [u8; 12] {
        let mut nonce = [0u8; 12];
        if self.suite.explicit_nonce_len() == 0 {
            // RFC 7905 §2: the 64-bit record sequence number, left-padded, XORed with the 12-byte IV.
            nonce[4..].copy_from_slice(&explicit);
            for (n, iv) in nonce.iter_mut().zip(&self.iv) {
                *n ^= iv;
            }
        } else {
            // RFC 5288 §3: salt (4 bytes of write_IV) || nonce_explicit (8 bytes, in the record).
            nonce[..4].copy_from_slice(&self.iv[..4]);
            nonce[4..].copy_from_slice(&explicit);
        }
        nonce
    }

    /// Appends the protected record for `plaintext`. The explicit nonce is `epoch || sequence`, which
    /// never repeats under one key (RFC 5288 §3 allows any unique value). Sealed in place in `out`:
    /// header, explicit nonce and plaintext are written once and encrypted where they lie (no
    /// intermediate buffer, one copy of the plaintext).
    fn seal(&self, out: &mut Vec<u8>, ct: ContentType, epoch: u16, seq: u64, plaintext: &[u8]) {
        let explicit = epoch_seq(epoch, seq);
        let aad = additional_data(epoch, seq, ct, DTLS_1_2, plaintext.len());
        let explicit_len = self.suite.explicit_nonce_len();
        let record_start = out.len();
        // RFC 6347 §4.1: the length covers explicit nonce, ciphertext and tag (RFC 5246 §6.2.3.3).
        write_header(
            out,
            ct,
            DTLS_1_2,
            epoch,
            seq,
            explicit_len + plaintext.len() + AEAD_TAG_LEN,
        );
        out.extend_from_slice(&explicit[..explicit_len]);
        let start = out.len();
        out.extend_from_slice(plaintext);
        match self
            .key
            .seal_in_place_separate_tag(self.nonce(explicit), &aad, &mut out[start..])
        {
            Ok(tag) => out.extend_from_slice(&tag),
            // Unreachable: plaintext is at most 2^14 bytes, far below any AEAD limit. Leave `out` as
            // it was rather than send a record without its tag.
            Err(_) => out.truncate(record_start),
        }
    }

    /// Authenticates and decrypts `rec` into `out[..n]`, returning `n`: straight from the received
    /// datagram into `out` (grown to fit, never shrunk, so a reused buffer stops allocating).
    fn open_into(&self, rec: &Record<'_>, out: &mut Vec<u8>) -> Option<usize> {
        let n = self.suite.explicit_nonce_len();
        if rec.fragment.len() < n + AEAD_TAG_LEN {
            return None;
        }
        let mut explicit = epoch_seq(rec.epoch, rec.sequence);
        if n == 8 {
            explicit.copy_from_slice(&rec.fragment[..8]);
        }
        let body = &rec.fragment[n..];
        let plain_len = body.len() - AEAD_TAG_LEN;
        let aad = additional_data(rec.epoch, rec.sequence, rec.content_type, rec.version, plain_len);
        if out.len() < plain_len {
            // Exact: this buffer lives as long as the connection; doubling would keep up to twice
            // the largest record for good (a PLPMTUD probe is the largest an idle peer receives).
            out.reserve_exact(plain_len - out.len());
            out.resize(plain_len, 0);
        }
        self.key
            .open_to(self.nonce(explicit), &aad, body, &mut out[..plain_len])
            .ok()?;
        Some(plain_len)
    }
}

#[derive(Debug, Default)]
struct ReadEpoch {
    cipher: Option<RecordCipher>,
    window: ReplayWindow,
}

#[derive(Debug, Default)]
struct WriteEpoch {
    cipher: Option<RecordCipher>,
    next_seq: u64,
}

/// Both directions of the record layer: per-epoch ciphers, sequence numbers and replay windows.
#[derive(Debug, Default)]
pub struct RecordLayer {
    read: [ReadEpoch; MAX_EPOCHS],
    write: [WriteEpoch; MAX_EPOCHS],
}

impl RecordLayer {
    /// A record layer with only epoch 0 (plaintext) in both directions.
    pub fn new() -> Self {
        Self::default()
    }

    /// Installs the read cipher for `epoch` (≥ 1); records of that epoch are accepted from now on.
    pub fn install_read(&mut self, epoch: u16, cipher: RecordCipher) {
        if let Some(e) = self.read.get_mut(usize::from(epoch)) {
            e.cipher = Some(cipher);
        }
    }

    /// Installs the write cipher for `epoch` (≥ 1).
    pub fn install_write(&mut self, epoch: u16, cipher: RecordCipher) {
        if let Some(e) = self.write.get_mut(usize::from(epoch)) {
            e.cipher = Some(cipher);
        }
    }

    /// Whether records of `epoch` can be read.
    pub fn can_read(&self, epoch: u16) -> bool {
        epoch == 0
            || self
                .read
                .get(usize::from(epoch))
                .is_some_and(|e| e.cipher.is_some())
    }

    /// Sets the next sequence number written in `epoch`: a stateless server mirrors the ClientHello's
    /// record sequence number in its HelloVerifyRequest and first ServerHello (RFC 6347 §4.2.1).
    pub fn set_next_write_seq(&mut self, epoch: u16, seq: u64) {
        if let Some(w) = self.write.get_mut(usize::from(epoch)) {
            w.next_seq = seq.min(MAX_SEQ);
        }
    }

    /// Whether records of `epoch` can be written.
    pub fn can_write(&self, epoch: u16) -> bool {
        epoch == 0
            || self
                .write
                .get(usize::from(epoch))
                .is_some_and(|e| e.cipher.is_some())
    }

    /// Bytes a record of `epoch` adds to its plaintext (header, explicit nonce, tag).
    pub fn overhead(&self, epoch: u16) -> usize {
        let cipher = self.write.get(usize::from(epoch)).and_then(|e| e.cipher.as_ref());
        RECORD_HEADER_LEN + cipher.map_or(0, RecordCipher::overhead)
    }

    /// Appends one record of `epoch` carrying `plaintext` to `out`; returns false (and writes nothing)
    /// if the epoch has no keys or its sequence numbers are exhausted.
    pub fn seal(&mut self, out: &mut Vec<u8>, ct: ContentType, epoch: u16, plaintext: &[u8]) -> bool {
        let Some(w) = self.write.get_mut(usize::from(epoch)) else {
            return false;
        };
        if w.next_seq > MAX_SEQ || epoch > 0 && w.cipher.is_none() {
            return false;
        }
        let seq = w.next_seq;
        w.next_seq += 1;
        match &w.cipher {
            Some(c) => c.seal(out, ct, epoch, seq, plaintext),
            None => write_header(out, ct, DTLS_1_2, epoch, seq, plaintext.len()),
        }
        if w.cipher.is_none() {
            out.extend_from_slice(plaintext);
        }
        true
    }

    /// Checks the replay window, authenticates and decrypts `rec` (RFC 6347 §4.1.2.6: the window is
    /// updated only after authentication succeeds). Epoch 0 records are returned as they are, without
    /// replay tracking.
    pub fn open(&mut self, rec: &Record<'_>) -> Result<Vec<u8>, RecordDrop> {
        let mut out = Vec::new();
        let n = self.open_into(rec, &mut out)?;
        out.truncate(n);
        Ok(out)
    }

    /// [`open`](Self::open) into a caller's buffer: the plaintext is `out[..n]` for the returned `n`
    /// (`out` grows to fit and is never shrunk, so a reused buffer makes the hot path allocation-free;
    /// the received datagram is only read). Same checks, same order.
    pub fn open_into(&mut self, rec: &Record<'_>, out: &mut Vec<u8>) -> Result<usize, RecordDrop> {
        let e = self
            .read
            .get_mut(usize::from(rec.epoch))
            .ok_or(RecordDrop::UnknownEpoch)?;
        if rec.epoch > 0 && e.cipher.is_none() {
            return Err(RecordDrop::UnknownEpoch);
        }
        let Some(cipher) = &e.cipher else {
            // Epoch 0 is unauthenticated, so it has no replay window (RFC 6347 §4.1.2.6 makes replay
            // detection optional): anyone could poison a window with forged sequence numbers and make
            // the real ClientHello look old, and a stateless server (§4.2.1) must keep no such state.
            // Duplicates are caught by message_seq instead; plaintext application data is never accepted.
            if rec.fragment.len() > MAX_PLAINTEXT {
                return Err(RecordDrop::Malformed);
            }
            let n = rec.fragment.len();
            if out.len() < n {
                out.reserve_exact(n - out.len());
                out.resize(n, 0);
            }
            out[..n].copy_from_slice(rec.fragment);
            return Ok(n);
        };
        if !e.window.check(rec.sequence) {
            return Err(RecordDrop::Replay);
        }
        let n = cipher.open_into(rec, out).ok_or(RecordDrop::BadMac)?;
        e.window.mark(rec.sequence);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oxirtc_crypto::default_provider;

    fn pair(suite: CipherSuite) -> (RecordLayer, RecordLayer) {
        let c = default_provider();
        let key = vec![7u8; suite.aead().key_len()];
        let iv = vec![9u8; suite.fixed_iv_len()];
        let (mut a, mut b) = (RecordLayer::new(), RecordLayer::new());
        a.install_write(1, RecordCipher::new(c, suite, &key, &iv).unwrap());
        b.install_read(1, RecordCipher::new(c, suite, &key, &iv).unwrap());
        (a, b)
    }

    #[test]
    fn protected_records_round_trip_and_replays_are_dropped() {
        for suite in CipherSuite::ALL {
            let (mut a, mut b) = pair(suite);
            let mut dgram = Vec::new();
            assert!(a.seal(&mut dgram, ContentType::ApplicationData, 1, b"one"));
            assert!(a.seal(&mut dgram, ContentType::ApplicationData, 1, b"two"));
            assert_eq!(
                dgram.len(),
                2 * (RECORD_HEADER_LEN + 3) + 2 * (a.overhead(1) - 13)
            );
            let (r1, rest) = Record::parse(&dgram).unwrap();
            let (r2, rest) = Record::parse(rest).unwrap();
            assert!(rest.is_empty());
            assert_eq!((r1.epoch, r1.sequence, r2.sequence), (1, 0, 1));
            assert_eq!(b.open(&r2).unwrap(), b"two");
            assert_eq!(b.open(&r1).unwrap(), b"one", "reordered within the window");
            assert_eq!(b.open(&r1), Err(RecordDrop::Replay));
            let mut bad = dgram.clone();
            bad[RECORD_HEADER_LEN + 1] ^= 1;
            let (r, _) = Record::parse(&bad).unwrap();
            let mut fresh = pair(suite).1;
            assert_eq!(fresh.open(&r), Err(RecordDrop::BadMac), "{suite}");
        }
    }

    #[test]
    fn unknown_epochs_and_bad_framing() {
        let mut layer = RecordLayer::new();
        let mut out = Vec::new();
        assert!(
            !layer.seal(&mut out, ContentType::Handshake, 1, b"x"),
            "no epoch-1 keys"
        );
        assert!(!layer.seal(&mut out, ContentType::Handshake, 5, b"x"));
        assert!(layer.seal(&mut out, ContentType::Handshake, 0, b"x"));
        let (rec, _) = Record::parse(&out).unwrap();
        assert_eq!(layer.open(&rec).unwrap(), b"x");
        let mut e1 = out.clone();
        e1[4] = 1;
        assert_eq!(
            layer.open(&Record::parse(&e1).unwrap().0),
            Err(RecordDrop::UnknownEpoch)
        );
        assert_eq!(Record::parse(&out[..12]), Err(RecordDrop::Malformed));
        assert_eq!(Record::parse(&out[..out.len() - 1]), Err(RecordDrop::Malformed));
        let mut ver = out.clone();
        ver[1] = 3;
        assert_eq!(Record::parse(&ver), Err(RecordDrop::Malformed));
        let mut ty = out;
        ty[0] = 24;
        assert_eq!(Record::parse(&ty), Err(RecordDrop::Malformed));
    }
}
