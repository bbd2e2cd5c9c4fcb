//! SRTP protect and unprotect side by side (issue 18): nanoseconds per RTP packet for oxirtc-srtp,
//! webrtc-rs's SRTP (`rtc-srtp` 0.21.1, what `webrtc` 0.21.1 runs, with its default ring provider and
//! with its aws-lc-rs one) and libsrtp2 (the system library through a small C harness, see build.rs),
//! beside the floor: the same AES-GCM seal/open or AES-CTR + HMAC-SHA1 of the same bytes, called on
//! aws-lc-rs directly with nothing around it.
//!
//! `srtp-bench [--quick] [--runs N] [--packets N] [--stacks a,b] [--profiles gcm128,cm80]
//! [--sizes 1200,160]`
//!
//! Every stack processes the same packets: a 12-byte RTP header plus a one-word RFC 8285 extension
//! block (20 bytes, as WebRTC media always carries one), then 1200 or 160 bytes of payload, one SSRC,
//! sequence numbers counting up (so the ROC wraps during a run). Receivers check replay (each stack's
//! WebRTC default window: oxirtc 1024, rtc-srtp 64 as webrtc sets it, libsrtp2 1024 as libwebrtc
//! sets it); senders refuse a repeated index where the stack does (oxirtc, libsrtp2).
//!
//! How it is timed: packets go in batches of 64 buffers (about what one recvmmsg / GSO batch holds;
//! 77 KiB at 1200 B, so the batch stays in L2 as a real receive batch would). Before each batch,
//! untimed, the buffers get their headers (and, to unprotect, are protected by the stack's own
//! sender); then the batch is processed under the clock. So no copy or set-up is in the figure; an
//! API that returns a new buffer (rtc-srtp) pays for making it, one that works in place does not.
//! Each figure is the median over `--runs` runs, stacks alternating within a run.
//! Allocations per packet are counted in a separate untimed pass (Rust's allocator only: libsrtp2's
//! mallocs are not seen, it makes none per packet).

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

/// Counts allocations while `COUNTING` is on (a relaxed load otherwise: nothing in the timed runs).
struct CountingAlloc;
static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is passed on to `System` unchanged; the counter never touches the memory.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

const SSRC: u32 = 0x1234_5678;
/// RTP header: 12 fixed bytes + a one-byte-header extension block of one word (abs-send-time).
const HEADER_LEN: usize = 20;
/// Packets per timed batch.
const BATCH: usize = 64;
/// Buffer size: room for the largest packet and any tag.
const BUF: usize = 1500;
/// The first sequence number: 60000, so a run's ROC wraps to 1 early on.
const FIRST_SEQ: u64 = 60_000;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Profile {
    Cm80,
    Gcm128,
}

impl Profile {
    fn name(self) -> &'static str {
        match self {
            Profile::Cm80 => "AES_CM_128_HMAC_SHA1_80",
            Profile::Gcm128 => "AEAD_AES_128_GCM",
        }
    }
    fn key(self) -> &'static str {
        match self {
            Profile::Cm80 => "cm80",
            Profile::Gcm128 => "gcm128",
        }
    }
    fn salt_len(self) -> usize {
        match self {
            Profile::Cm80 => 14,
            Profile::Gcm128 => 12,
        }
    }
    fn tag_len(self) -> usize {
        match self {
            Profile::Cm80 => 10,
            Profile::Gcm128 => 16,
        }
    }
}

/// One master key and salt for every stack (the session keys are derived from them by each).
const MASTER_KEY: [u8; 16] = [
    0xe1, 0xf9, 0x7a, 0x0d, 0x3e, 0x01, 0x8b, 0xe0, 0xd6, 0x4f, 0xa3, 0x2c, 0x06, 0xde, 0x41, 0x39,
];
const MASTER_SALT: [u8; 14] = [
    0x0e, 0xc6, 0x75, 0xad, 0x49, 0x8a, 0xfe, 0xeb, 0xb6, 0x96, 0x0b, 0x3a, 0xab, 0xe6,
];

/// Writes the RTP header of packet `n` (sequence number `n mod 2^16`) into `buf`.
fn write_header(buf: &mut [u8], n: u64) {
    let seq = (n & 0xffff) as u16;
    let ts = (n as u32).wrapping_mul(3000);
    buf[0] = 0x90; // V=2, X=1
    buf[1] = 96;
    buf[2..4].copy_from_slice(&seq.to_be_bytes());
    buf[4..8].copy_from_slice(&ts.to_be_bytes());
    buf[8..12].copy_from_slice(&SSRC.to_be_bytes());
    buf[12..16].copy_from_slice(&[0xbe, 0xde, 0, 1]);
    buf[16..20].copy_from_slice(&[0x32, (n >> 16) as u8, (n >> 8) as u8, n as u8]);
}

/// One stack's sender and receiver for one profile.
trait Srtp {
    /// Protects `buf[..len]` (room after it); the protected length.
    fn protect(&mut self, buf: &mut [u8], len: usize) -> usize;
    /// Unprotects `buf[..len]` with the receiver; the plain length (0 if refused).
    fn unprotect(&mut self, buf: &mut [u8], len: usize) -> usize;
    /// Protects `buf[..len]` in `buf` for the unprotect runs (untimed): `protect` unless the stack
    /// returns the protected packet in a buffer of its own.
    fn protect_in_buffer(&mut self, buf: &mut [u8], len: usize) -> usize {
        self.protect(buf, len)
    }
}

mod ox {
    use oxirtc_crypto::default_provider;
    use oxirtc_srtp::{ReceiveContext, SendContext, SrtpConfig};

    use super::{Profile, MASTER_KEY, MASTER_SALT};

    /// oxirtc-srtp with its defaults (replay window 1024), in place: `protect_rtp_in` and
    /// `unprotect_rtp` on the caller's buffer, as oxirtc's connection uses them.
    pub struct Oxirtc {
        tx: SendContext,
        rx: ReceiveContext,
    }

    impl Oxirtc {
        pub fn new(p: Profile) -> anyhow::Result<Self> {
            let profile = match p {
                Profile::Cm80 => oxirtc_srtp::ProtectionProfile::Aes128CmHmacSha1_80,
                Profile::Gcm128 => oxirtc_srtp::ProtectionProfile::AeadAes128Gcm,
            };
            let config = SrtpConfig::default();
            let salt = &MASTER_SALT[..p.salt_len()];
            let crypto = default_provider();
            Ok(Self {
                tx: SendContext::new(crypto, profile, &MASTER_KEY, salt, &config)?,
                rx: ReceiveContext::new(crypto, profile, &MASTER_KEY, salt, &config)?,
            })
        }
    }

    impl super::Srtp for Oxirtc {
        fn protect(&mut self, buf: &mut [u8], len: usize) -> usize {
            self.tx.protect_rtp_in(buf, len).unwrap_or(0)
        }
        fn unprotect(&mut self, buf: &mut [u8], len: usize) -> usize {
            self.rx.unprotect_rtp(&mut buf[..len]).unwrap_or(0)
        }
    }
}

mod rtc {
    use std::sync::Arc;

    use rtc_crypto::RTCCryptoProvider;
    use rtc_srtp::context::Context;
    use rtc_srtp::option::srtp_replay_protection;
    use rtc_srtp::protection_profile::ProtectionProfile;

    use super::{Profile, MASTER_KEY, MASTER_SALT};

    /// webrtc-rs's SRTP: `Context::encrypt_rtp` / `decrypt_rtp` as webrtc 0.21.1 calls them (the
    /// remote context with `srtp_replay_protection(64)`, its DEFAULT_SESSION_SRTP_REPLAY_PROTECTION_WINDOW;
    /// the local one without). Both return a new `BytesMut`.
    pub struct RtcSrtp {
        tx: Context,
        rx: Context,
    }

    impl RtcSrtp {
        pub fn new(p: Profile, provider: Arc<dyn RTCCryptoProvider>) -> anyhow::Result<Self> {
            let profile = match p {
                Profile::Cm80 => ProtectionProfile::Aes128CmHmacSha1_80,
                Profile::Gcm128 => ProtectionProfile::AeadAes128Gcm,
            };
            let salt = &MASTER_SALT[..p.salt_len()];
            let e = |e| anyhow::anyhow!("rtc-srtp: {e}");
            Ok(Self {
                tx: Context::new(&MASTER_KEY, salt, profile, None, None, provider.crypto()).map_err(e)?,
                rx: Context::new(
                    &MASTER_KEY,
                    salt,
                    profile,
                    Some(srtp_replay_protection(64)),
                    None,
                    provider.crypto(),
                )
                .map_err(e)?,
            })
        }
    }

    impl super::Srtp for RtcSrtp {
        fn protect(&mut self, buf: &mut [u8], len: usize) -> usize {
            match self.tx.encrypt_rtp(&buf[..len]) {
                Ok(out) => std::hint::black_box(out).len(),
                Err(_) => 0,
            }
        }
        fn unprotect(&mut self, buf: &mut [u8], len: usize) -> usize {
            match self.rx.decrypt_rtp(&buf[..len]) {
                Ok(out) => std::hint::black_box(out).len(),
                Err(_) => 0,
            }
        }
        fn protect_in_buffer(&mut self, buf: &mut [u8], len: usize) -> usize {
            match self.tx.encrypt_rtp(&buf[..len]) {
                Ok(out) => {
                    buf[..out.len()].copy_from_slice(&out);
                    out.len()
                }
                Err(_) => 0,
            }
        }
    }
}

#[cfg(libsrtp2)]
mod libsrtp {
    use std::os::raw::{c_int, c_uchar, c_void};

    use super::{Profile, MASTER_KEY, MASTER_SALT};

    extern "C" {
        fn bench_srtp_init() -> c_int;
        fn bench_srtp_new(profile: c_int, key_salt: *const c_uchar, inbound: c_int) -> *mut c_void;
        fn bench_srtp_protect(session: *mut c_void, buf: *mut c_uchar, len: *mut c_int) -> c_int;
        fn bench_srtp_unprotect(session: *mut c_void, buf: *mut c_uchar, len: *mut c_int) -> c_int;
        fn bench_srtp_free(session: *mut c_void);
    }

    /// libsrtp2 (the system's, Debian's package: built against NSS for its AES and HMAC), sessions
    /// as libwebrtc makes them (src/libsrtp_shim.c), `srtp_protect` / `srtp_unprotect` in place.
    pub struct Libsrtp {
        tx: *mut c_void,
        rx: *mut c_void,
    }

    impl Libsrtp {
        pub fn new(p: Profile) -> anyhow::Result<Self> {
            static INIT: std::sync::OnceLock<c_int> = std::sync::OnceLock::new();
            // SAFETY: srtp_init takes no arguments; called once per process.
            let init = *INIT.get_or_init(|| unsafe { bench_srtp_init() });
            anyhow::ensure!(init == 0, "libsrtp2: srtp_init failed ({init})");
            let mut key_salt = MASTER_KEY.to_vec();
            key_salt.extend_from_slice(&MASTER_SALT[..p.salt_len()]);
            let profile = c_int::from(p == Profile::Gcm128);
            // SAFETY: key_salt holds the 30 or 28 bytes the profile reads; libsrtp copies them.
            let (tx, rx) = unsafe {
                (
                    bench_srtp_new(profile, key_salt.as_ptr(), 0),
                    bench_srtp_new(profile, key_salt.as_ptr(), 1),
                )
            };
            anyhow::ensure!(
                !tx.is_null() && !rx.is_null(),
                "libsrtp2: srtp_create failed for {}",
                p.name()
            );
            Ok(Self { tx, rx })
        }
    }

    impl Drop for Libsrtp {
        fn drop(&mut self) {
            // SAFETY: both sessions came from bench_srtp_new and are freed once.
            unsafe {
                bench_srtp_free(self.tx);
                bench_srtp_free(self.rx);
            }
        }
    }

    impl super::Srtp for Libsrtp {
        fn protect(&mut self, buf: &mut [u8], len: usize) -> usize {
            // libsrtp writes at most its trailer (16 bytes here) past `len`.
            if buf.len() < len + 16 {
                return 0;
            }
            let mut n = len as c_int;
            // SAFETY: the session is live; buf has room for the tag after len (checked above).
            let rc = unsafe { bench_srtp_protect(self.tx, buf.as_mut_ptr(), &mut n) };
            if rc == 0 {
                n as usize
            } else {
                0
            }
        }
        fn unprotect(&mut self, buf: &mut [u8], len: usize) -> usize {
            let mut n = len as c_int;
            // SAFETY: the session is live; libsrtp reads and writes within buf[..len].
            let rc = unsafe { bench_srtp_unprotect(self.rx, buf.as_mut_ptr(), &mut n) };
            if rc == 0 {
                n as usize
            } else {
                0
            }
        }
    }
}

mod floor {
    use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM};
    use aws_lc_rs::cipher::{EncryptingKey, EncryptionContext, UnboundCipherKey, AES_128};
    use aws_lc_rs::constant_time::verify_slices_are_equal;
    use aws_lc_rs::hmac;
    use aws_lc_rs::iv::FixedLength;

    use super::{Profile, HEADER_LEN};

    /// The crypto alone, on aws-lc-rs (the library under oxirtc-crypto): per packet one AES-128-GCM
    /// seal (header as AAD) or open, or one AES-128-CTR pass over the payload and one HMAC-SHA1 over
    /// header, payload and 4 ROC bytes (checked before decrypting); keys scheduled once, the IV or
    /// nonce from the packet's index (its sequence number and the extension byte the bench puts the
    /// index's next bits in). No header parsing, no ROC estimation, no replay window.
    // One per measurement, built once and never moved per packet: boxing the larger variant would
    // only add an indirection the stacks measured against it do not have.
    #[allow(clippy::large_enum_variant)]
    pub enum Floor {
        Gcm { key: LessSafeKey },
        Cm { ctr: EncryptingKey, mac: hmac::Key },
    }

    /// The packet index `write_header` encoded.
    fn index(buf: &[u8]) -> u64 {
        u64::from(u16::from_be_bytes([buf[2], buf[3]])) | (u64::from(buf[17]) << 16)
    }

    impl Floor {
        pub fn new(p: Profile) -> anyhow::Result<Self> {
            let err = |_| anyhow::anyhow!("aws-lc-rs key");
            let key = [7u8; 16];
            Ok(match p {
                Profile::Gcm128 => Floor::Gcm {
                    key: LessSafeKey::new(UnboundKey::new(&AES_128_GCM, &key).map_err(err)?),
                },
                Profile::Cm80 => Floor::Cm {
                    ctr: EncryptingKey::ctr(UnboundCipherKey::new(&AES_128, &key).map_err(err)?)
                        .map_err(err)?,
                    mac: hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &[9u8; 20]),
                },
            })
        }

        fn iv(n: u64) -> [u8; 16] {
            let mut iv = [0x5a; 16];
            iv[8..14].copy_from_slice(&n.to_be_bytes()[2..]);
            iv[14..].fill(0);
            iv
        }

        fn nonce(n: u64) -> [u8; 12] {
            let mut nonce = [0x5a; 12];
            nonce[6..].copy_from_slice(&n.to_be_bytes()[2..]);
            nonce
        }
    }

    impl super::Srtp for Floor {
        fn protect(&mut self, buf: &mut [u8], len: usize) -> usize {
            match self {
                Floor::Gcm { key } => {
                    let n = index(buf);
                    let (head, rest) = buf.split_at_mut(HEADER_LEN);
                    let (body, trailer) = rest.split_at_mut(len - HEADER_LEN);
                    let Ok(tag) = key.seal_in_place_separate_tag(
                        Nonce::assume_unique_for_key(Self::nonce(n)),
                        Aad::from(&*head),
                        body,
                    ) else {
                        return 0;
                    };
                    trailer[..16].copy_from_slice(tag.as_ref());
                    len + 16
                }
                Floor::Cm { ctr, mac } => {
                    let n = index(buf);
                    let ctx = EncryptionContext::Iv128(FixedLength::from(Self::iv(n)));
                    if ctr.less_safe_encrypt(&mut buf[HEADER_LEN..len], ctx).is_err() {
                        return 0;
                    }
                    let mut m = hmac::Context::with_key(mac);
                    m.update(&buf[..len]);
                    m.update(&((n >> 16) as u32).to_be_bytes());
                    let tag = m.sign();
                    buf[len..len + 10].copy_from_slice(&tag.as_ref()[..10]);
                    len + 10
                }
            }
        }

        fn unprotect(&mut self, buf: &mut [u8], len: usize) -> usize {
            match self {
                Floor::Gcm { key } => {
                    let n = index(buf);
                    let (head, rest) = buf[..len].split_at_mut(HEADER_LEN);
                    match key.open_in_place(
                        Nonce::assume_unique_for_key(Self::nonce(n)),
                        Aad::from(&*head),
                        rest,
                    ) {
                        Ok(plain) => HEADER_LEN + plain.len(),
                        Err(_) => 0,
                    }
                }
                Floor::Cm { ctr, mac } => {
                    let n = index(buf);
                    let body = len - 10;
                    let mut m = hmac::Context::with_key(mac);
                    m.update(&buf[..body]);
                    m.update(&((n >> 16) as u32).to_be_bytes());
                    let tag = m.sign();
                    if verify_slices_are_equal(&tag.as_ref()[..10], &buf[body..len]).is_err() {
                        return 0;
                    }
                    let ctx = EncryptionContext::Iv128(FixedLength::from(Self::iv(n)));
                    if ctr.less_safe_encrypt(&mut buf[HEADER_LEN..body], ctx).is_err() {
                        return 0;
                    }
                    body
                }
            }
        }
    }
}

const STACKS: [&str; 5] = ["oxirtc", "rtc-srtp", "rtc-srtp-awslc", "libsrtp2", "floor"];

fn make(stack: &str, p: Profile) -> anyhow::Result<Box<dyn Srtp>> {
    Ok(match stack {
        "oxirtc" => Box::new(ox::Oxirtc::new(p)?),
        "rtc-srtp" => Box::new(rtc::RtcSrtp::new(
            p,
            rtc_crypto::default_provider().map_err(|e| anyhow::anyhow!("{e}"))?,
        )?),
        "rtc-srtp-awslc" => Box::new(rtc::RtcSrtp::new(
            p,
            std::sync::Arc::new(rtc_crypto::providers::AwsLcRsProvider::new()),
        )?),
        #[cfg(libsrtp2)]
        "libsrtp2" => Box::new(libsrtp::Libsrtp::new(p)?),
        #[cfg(not(libsrtp2))]
        "libsrtp2" => bail!("libsrtp2 was not found when the bench was built (apt-get install libsrtp2-dev)"),
        "floor" => Box::new(floor::Floor::new(p)?),
        other => bail!("unknown stack {other}"),
    })
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Op {
    Protect,
    Unprotect,
}

/// One measurement: `packets` packets through a fresh context pair; ns per packet and allocations
/// per packet (when `count_allocs`).
fn run_one(
    stack: &str,
    p: Profile,
    payload: usize,
    op: Op,
    packets: usize,
    count_allocs: bool,
) -> anyhow::Result<f64> {
    let mut s = make(stack, p)?;
    let len = HEADER_LEN + payload;
    let mut bufs: Vec<Vec<u8>> = (0..BATCH)
        .map(|i| {
            let mut b = vec![0u8; BUF];
            for (k, x) in b.iter_mut().enumerate() {
                *x = (k * 7 + i) as u8;
            }
            b
        })
        .collect();
    let mut lens = [0usize; BATCH];
    let mut n = FIRST_SEQ;
    let mut elapsed = Duration::ZERO;
    let mut done = 0usize;
    let expected = match op {
        Op::Protect => len + p.tag_len(),
        Op::Unprotect => len,
    };
    // One batch first, untimed: creates the per-SSRC state (an allocation per new SSRC, not per
    // packet) and warms the caches.
    let mut first = true;
    let mut allocs = 0u64;
    while done < packets {
        for (b, l) in bufs.iter_mut().zip(lens.iter_mut()) {
            write_header(b, n);
            n += 1;
            *l = match op {
                Op::Protect => len,
                Op::Unprotect => s.protect_in_buffer(b, len),
            };
        }
        let count = count_allocs && !first;
        let a0 = ALLOCATIONS.load(Ordering::Relaxed);
        COUNTING.store(count, Ordering::Relaxed);
        let t0 = Instant::now();
        for (b, &l) in bufs.iter_mut().zip(lens.iter()) {
            let out = match op {
                Op::Protect => s.protect(black_box(b), l),
                Op::Unprotect => s.unprotect(black_box(b), l),
            };
            if out != expected {
                COUNTING.store(false, Ordering::Relaxed);
                bail!(
                    "{stack} {} {payload} B {op:?}: got {out} bytes, expected {expected}",
                    p.name()
                );
            }
        }
        let dt = t0.elapsed();
        COUNTING.store(false, Ordering::Relaxed);
        if count {
            allocs += ALLOCATIONS.load(Ordering::Relaxed) - a0;
        }
        if first {
            first = false;
            continue;
        }
        elapsed += dt;
        done += BATCH;
    }
    if count_allocs {
        return Ok(allocs as f64 / done as f64);
    }
    Ok(elapsed.as_nanos() as f64 / done as f64)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn main() -> anyhow::Result<()> {
    let mut runs = 5;
    let mut packets = 200_000;
    let mut stacks: Vec<&str> = STACKS.to_vec();
    let mut profiles = vec![Profile::Gcm128, Profile::Cm80];
    let mut sizes = vec![1200usize, 160];
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quick" => {
                runs = 1;
                packets = 20_000;
            }
            "--runs" => runs = args.next().context("--runs N")?.parse()?,
            "--packets" => packets = args.next().context("--packets N")?.parse()?,
            "--profiles" => {
                let list = args.next().context("--profiles gcm128,cm80")?;
                profiles.retain(|p| list.split(',').any(|x| x == p.key()));
            }
            "--sizes" => {
                let list = args.next().context("--sizes 1200,160")?;
                sizes = list.split(',').map(str::parse).collect::<Result<_, _>>()?;
            }
            "--stacks" => {
                let list = args.next().context("--stacks a,b")?;
                stacks = STACKS.iter().copied().filter(|s| list.split(',').any(|x| x == *s)).collect();
            }
            other => bail!("unknown argument {other} (srtp-bench [--quick] [--runs N] [--packets N] [--stacks {}] [--profiles gcm128,cm80] [--sizes 1200,160])", STACKS.join(",")),
        }
    }
    #[cfg(not(libsrtp2))]
    {
        eprintln!("(libsrtp2 was not found when the bench was built: its column stays empty; apt-get install libsrtp2-dev and rebuild)");
        stacks.retain(|s| *s != "libsrtp2");
    }
    println!(
        "settings: runs {runs}, {packets} packets per run and figure, batches of {BATCH}, stacks {}",
        stacks.join(",")
    );
    let cases: Vec<(Profile, usize, Op)> = profiles
        .iter()
        .flat_map(|&p| {
            sizes
                .iter()
                .flat_map(move |&n| [Op::Protect, Op::Unprotect].into_iter().map(move |op| (p, n, op)))
        })
        .collect();
    let mut results: Vec<Vec<Vec<f64>>> = vec![vec![Vec::new(); stacks.len()]; cases.len()];
    for run in 0..runs {
        for (c, &(p, payload, op)) in cases.iter().enumerate() {
            for k in 0..stacks.len() {
                let i = (run + k) % stacks.len();
                let ns = run_one(stacks[i], p, payload, op, packets, false)?;
                eprintln!(
                    "  run {run} {:>14} {:<24} {payload:>5} B {op:?}: {ns:8.1} ns",
                    stacks[i],
                    p.name()
                );
                results[c][i].push(ns);
            }
        }
    }
    let mut allocs: Vec<Vec<f64>> = Vec::new();
    for &(p, payload, op) in &cases {
        let mut row = Vec::new();
        for s in &stacks {
            row.push(run_one(s, p, payload, op, 4096, true)?);
        }
        allocs.push(row);
    }
    println!();
    print!("{:<36}", "ns per packet (median; min-max)");
    for s in &stacks {
        print!(" {s:>20}");
    }
    println!(" {:>10} {:>10}", "ox-floor", "ox/floor");
    let mut json = Vec::new();
    for (c, &(p, payload, op)) in cases.iter().enumerate() {
        let label = format!(
            "{} {payload} B {}",
            p.name(),
            if op == Op::Protect { "protect" } else { "unprotect" }
        );
        print!("{label:<36}");
        let mut med = Vec::new();
        for v in results[c].iter_mut() {
            let m = median(v);
            med.push(m);
            print!(" {:>20}", format!("{m:.0} ({:.0}-{:.0})", v[0], v[v.len() - 1]));
        }
        let get = |name: &str| stacks.iter().position(|s| *s == name).map(|i| med[i]);
        match (get("oxirtc"), get("floor")) {
            (Some(o), Some(f)) => println!(" {:>10.1} {:>10.3}", o - f, o / f),
            _ => println!(),
        }
        let key = format!(
            "srtp_{}_{payload}_{}_ns",
            p.key(),
            if op == Op::Protect { "protect" } else { "unprotect" }
        );
        let fields: Vec<String> = stacks
            .iter()
            .zip(&med)
            .zip(&allocs[c])
            .map(|((s, m), a)| {
                format!(
                    "\"{}\":{m:.1},\"{}_allocs\":{a:.2}",
                    s.replace('-', "_"),
                    s.replace('-', "_")
                )
            })
            .collect();
        json.push(format!(
            "{{\"figure\":\"{key}\",{},\"runs\":{runs}}}",
            fields.join(",")
        ));
    }
    println!();
    print!("{:<36}", "allocations per packet");
    for s in &stacks {
        print!(" {s:>20}");
    }
    println!();
    for (c, &(p, payload, op)) in cases.iter().enumerate() {
        let label = format!(
            "{} {payload} B {}",
            p.name(),
            if op == Op::Protect { "protect" } else { "unprotect" }
        );
        print!("{label:<36}");
        for a in &allocs[c] {
            print!(" {a:>20.2}");
        }
        println!();
    }
    println!();
    for j in json {
        println!("{j}");
    }
    Ok(())
}
