//! What is measured: the workloads, the payloads every stack sends, and how a receiver checks them.

use std::time::Duration;

/// One transfer: `count` messages of `size` bytes from one peer to the other.
#[derive(Clone, Copy, Debug)]
pub struct Transfer {
    /// Messages to send.
    pub count: u64,
    /// Bytes per message (at least 8: the first 8 bytes carry the message index).
    pub size: usize,
    /// Reliable ordered (true) or unordered with maxRetransmits 0 (false).
    pub reliable: bool,
}

/// What one transfer measured.
#[derive(Clone, Copy, Debug, Default)]
pub struct Outcome {
    /// From the first send to the last message received.
    pub elapsed: Duration,
    /// Messages that arrived intact.
    pub received: u64,
    /// Payload bytes that arrived intact.
    pub bytes: u64,
    /// Process CPU time (user + system) spent over the transfer.
    pub cpu: Duration,
}

/// Bytes of pattern beyond the largest message, so message `i` starts at a varying offset.
const SKEW: usize = 4096;
/// The largest message the workloads send.
pub const MAX_MESSAGE: usize = 64 * 1024;

/// The deterministic payload source shared by senders and receivers.
#[derive(Clone)]
pub struct Pattern {
    bytes: Vec<u8>,
}

impl Default for Pattern {
    fn default() -> Self {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let bytes = (0..MAX_MESSAGE + SKEW)
            .map(|_| {
                // xorshift64: any fixed, non-trivial byte sequence does.
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        Pattern { bytes }
    }
}

impl Pattern {
    fn body(&self, index: u64, size: usize) -> &[u8] {
        let offset = (index.wrapping_mul(61) % SKEW as u64) as usize;
        &self.bytes[offset..offset + size - 8]
    }

    /// Message `index` of `size` bytes, appended to `out` (cleared first).
    pub fn message_into(&self, index: u64, size: usize, out: &mut Vec<u8>) {
        out.clear();
        out.extend_from_slice(&index.to_le_bytes());
        out.extend_from_slice(self.body(index, size));
    }

    /// Message `index` as a fresh vector.
    pub fn message(&self, index: u64, size: usize) -> Vec<u8> {
        let mut v = Vec::with_capacity(size);
        self.message_into(index, size, &mut v);
        v
    }

    /// The index of a received message if every byte is what the sender sent.
    pub fn check(&self, data: &[u8], size: usize) -> Option<u64> {
        if data.len() != size {
            return None;
        }
        let index = u64::from_le_bytes(data[..8].try_into().ok()?);
        (data[8..] == *self.body(index, size)).then_some(index)
    }
}

/// The receiving side's bookkeeping: every byte compared against the pattern, order checked for
/// reliable transfers, duplicates refused, and a CRC-32 over the stream compared with the sender's.
pub struct Verifier {
    pattern: Pattern,
    transfer: Transfer,
    seen: Vec<u64>,
    next: u64,
    crc: crc32fast::Hasher,
    /// Messages that arrived intact.
    pub received: u64,
    /// Bytes that arrived intact.
    pub bytes: u64,
    /// Messages that were corrupt, duplicated or out of order on a reliable channel.
    pub errors: u64,
}

impl Verifier {
    /// A verifier for `transfer`.
    pub fn new(pattern: Pattern, transfer: Transfer) -> Self {
        Verifier {
            pattern,
            transfer,
            seen: vec![0; (transfer.count as usize).div_ceil(64)],
            next: 0,
            crc: crc32fast::Hasher::new(),
            received: 0,
            bytes: 0,
            errors: 0,
        }
    }

    /// Checks one message; true when every expected message has arrived.
    pub fn on_message(&mut self, data: &[u8]) -> bool {
        let Some(index) = self.pattern.check(data, self.transfer.size) else {
            self.errors += 1;
            return self.done();
        };
        if index >= self.transfer.count {
            self.errors += 1;
            return self.done();
        }
        let (word, bit) = ((index / 64) as usize, 1u64 << (index % 64));
        if self.seen[word] & bit != 0 || (self.transfer.reliable && index != self.next) {
            self.errors += 1;
            return self.done();
        }
        self.seen[word] |= bit;
        self.next = index + 1;
        if self.transfer.reliable {
            self.crc.update(data);
        }
        self.received += 1;
        self.bytes += data.len() as u64;
        self.done()
    }

    /// Every message arrived.
    pub fn done(&self) -> bool {
        self.received == self.transfer.count
    }

    /// The CRC-32 of the in-order stream (reliable transfers).
    pub fn crc(&self) -> u32 {
        self.crc.clone().finalize()
    }
}

/// The CRC-32 the sender expects the receiver to compute over a reliable transfer.
pub fn expected_crc(pattern: &Pattern, transfer: Transfer) -> u32 {
    let mut crc = crc32fast::Hasher::new();
    let mut buf = Vec::with_capacity(transfer.size);
    for i in 0..transfer.count {
        pattern.message_into(i, transfer.size, &mut buf);
        crc.update(&buf);
    }
    crc.finalize()
}

/// Fails the run unless the receiver saw exactly what was sent (lossless for reliable transfers).
pub fn judge(v: &Verifier, expected_crc: Option<u32>, stack: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        v.errors == 0,
        "{stack}: {} corrupt/duplicate/out-of-order messages",
        v.errors
    );
    if let Some(crc) = expected_crc {
        anyhow::ensure!(
            v.done(),
            "{stack}: reliable transfer incomplete ({} of {})",
            v.received,
            v.transfer.count
        );
        anyhow::ensure!(v.crc() == crc, "{stack}: CRC mismatch");
    }
    anyhow::ensure!(v.received > 0, "{stack}: nothing arrived");
    Ok(())
}

/// Process CPU time (user + system) so far, from /proc/self/stat (clock ticks of 10 ms).
pub fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after the ')'.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// Resident set size of the process in bytes, from /proc/self/statm.
pub fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// Peak resident set size of the process in bytes (VmHWM in /proc/self/status).
pub fn peak_rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

/// Resets VmHWM to the current RSS (writing 5 to /proc/self/clear_refs, Linux 4.0+).
pub fn reset_peak_rss() -> std::io::Result<()> {
    std::fs::write("/proc/self/clear_refs", "5")
}

/// The bench's own flow control for the media figure, the same for every stack: the sender keeps
/// at most `packets` packets written but not yet read by the receiving application (0: no limit,
/// as fast as the stack's write API takes them). A real sender is held back by its congestion
/// controller instead; in one process the receiver's count does that job without loss. A sender
/// that waits longer than `MEDIA_WINDOW_STALL` stops (packets were lost, so the count never
/// catches up).
pub struct MediaWindow {
    packets: u64,
    received: std::sync::atomic::AtomicU64,
    /// Set by a sender that found the window full (for senders that are woken by hand: str0m).
    pub sender_waiting: std::sync::atomic::AtomicBool,
    notify: tokio::sync::Notify,
}

/// How long a sender waits for the window to open before it stops sending.
pub const MEDIA_WINDOW_STALL: Duration = Duration::from_secs(1);

impl MediaWindow {
    /// A window of `packets` (0: none).
    pub fn new(packets: u64) -> std::sync::Arc<Self> {
        std::sync::Arc::new(Self {
            packets,
            received: std::sync::atomic::AtomicU64::new(0),
            sender_waiting: std::sync::atomic::AtomicBool::new(false),
            notify: tokio::sync::Notify::new(),
        })
    }

    /// Whether packet `index` (counted from 0) may be written now.
    pub fn may_send(&self, index: u64) -> bool {
        self.packets == 0 || index < self.received.load(std::sync::atomic::Ordering::Acquire) + self.packets
    }

    /// Waits until packet `index` may be written; false if that took longer than
    /// `MEDIA_WINDOW_STALL`.
    pub async fn wait_to_send(&self, index: u64) -> bool {
        let deadline = tokio::time::Instant::now() + MEDIA_WINDOW_STALL;
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.may_send(index) {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.may_send(index);
            }
        }
    }

    /// The receiving application has read `count` packets; true if a sender that waits by hand
    /// should be woken.
    pub fn on_received(&self, count: u64) -> bool {
        self.received.store(count, std::sync::atomic::Ordering::Release);
        self.notify.notify_one();
        self.sender_waiting
            .swap(false, std::sync::atomic::Ordering::AcqRel)
    }
}
