//! File reading and writing for `oxirtc send` / `oxirtc recv` on a blocking thread each, pipelined
//! with the data channel: the async task only moves [`Bytes`] between the channel and a bounded queue,
//! while the thread does the disk I/O and the SHA-256 (aws-lc-rs through oxirtc-crypto). Before this,
//! both ran per 64 KiB chunk on the task that also awaited the channel.
//!
//! The reader reads [`READ_BLOCK`] bytes per system call into one buffer, hashes it once and hands it
//! out as zero-copy slices of at most `chunk` bytes. The writer hashes and writes each message as it
//! comes (one `write` per message, no intermediate copy).

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use bytes::Bytes;
use oxirtc_crypto::Sha256Hasher;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Bytes read from the file per system call.
pub const READ_BLOCK: usize = 1 << 20;

/// Messages queued between the channel task and the disk thread (each at most one chunk).
const QUEUE: usize = 64;

/// What the reader thread hands out.
#[derive(Debug)]
pub enum Piece {
    /// The next chunk of the file.
    Data(Bytes),
    /// The end: the SHA-256 of the whole file, from byte 0.
    Digest([u8; 32]),
}

/// Reads `path` from `offset` to `size` on a blocking thread; the bytes before `offset` are only hashed.
/// Dropping the returned receiver stops the thread.
pub fn spawn_reader(
    path: PathBuf,
    offset: u64,
    size: u64,
    chunk: usize,
) -> mpsc::Receiver<anyhow::Result<Piece>> {
    let (tx, rx) = mpsc::channel(QUEUE);
    tokio::task::spawn_blocking(move || {
        let result = read_file(&path, offset, size, chunk, &tx);
        if let Err(e) = result {
            let _ = tx.blocking_send(Err(e));
        }
    });
    rx
}

fn read_file(
    path: &Path,
    offset: u64,
    size: u64,
    chunk: usize,
    tx: &mpsc::Sender<anyhow::Result<Piece>>,
) -> anyhow::Result<()> {
    let mut file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut hasher = Sha256Hasher::new();
    let mut pos = 0u64;
    while pos < size {
        let block = read_block(&mut file, pos, size, path)?;
        hasher.update(&block);
        let end = pos + block.len() as u64;
        if end > offset {
            // The part before `offset` (resume) is hashed, not sent.
            let skip = usize::try_from(offset.saturating_sub(pos)).unwrap_or(usize::MAX);
            let mut rest = block.slice(skip.min(block.len())..);
            while !rest.is_empty() {
                let piece = rest.split_to(chunk.min(rest.len()));
                if tx.blocking_send(Ok(Piece::Data(piece))).is_err() {
                    return Ok(()); // the transfer stopped; nobody reads any more
                }
            }
        }
        pos = end;
    }
    let _ = tx.blocking_send(Ok(Piece::Digest(hasher.finish())));
    Ok(())
}

/// Up to [`READ_BLOCK`] bytes from `pos` (never past `size`), without zero-filling the buffer first.
fn read_block(file: &mut File, pos: u64, size: u64, path: &Path) -> anyhow::Result<Bytes> {
    let want = usize::try_from(size - pos).map_or(READ_BLOCK, |r| r.min(READ_BLOCK));
    let mut buf = Vec::with_capacity(want);
    let got = std::io::Read::take(&mut *file, want as u64)
        .read_to_end(&mut buf)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if got != want {
        bail!(
            "{} ended at byte {} of {size} (did it change while sending?)",
            path.display(),
            pos + got as u64
        );
    }
    Ok(Bytes::from(buf))
}

/// A `.part` file being written on a blocking thread.
#[derive(Debug)]
pub struct PartWriter {
    tx: Option<mpsc::Sender<Bytes>>,
    task: JoinHandle<anyhow::Result<[u8; 32]>>,
}

impl PartWriter {
    /// Opens `path` (created if missing), checks it holds at least `offset` bytes, hashes them, cuts it
    /// to `offset` and appends from there. `name` is used in error messages.
    pub fn open(path: PathBuf, offset: u64, name: String) -> anyhow::Result<Self> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        let have = file.metadata()?.len();
        if offset > have {
            bail!(
                "the sender resumes {name} at {offset}, but {} has {have} bytes",
                path.display()
            );
        }
        let (tx, rx) = mpsc::channel(QUEUE);
        let task = tokio::task::spawn_blocking(move || {
            // The digest covers the whole file: hash what is already in the .part.
            let hasher = hash_prefix(&mut file, offset, &path)?;
            file.set_len(offset)?;
            file.seek(SeekFrom::Start(offset))?;
            write_all(file, hasher, rx, &name)
        });
        Ok(PartWriter { tx: Some(tx), task })
    }

    /// Queues `data` for writing; waits while the queue is full. An error if the thread failed (disk
    /// full, ...).
    pub async fn write(&mut self, data: Bytes) -> anyhow::Result<()> {
        let Some(tx) = &self.tx else {
            bail!("the file is already finished");
        };
        if tx.send(data).await.is_err() {
            // The thread stopped early: its result says why.
            self.tx = None;
            return match (&mut self.task).await {
                Ok(Err(e)) => Err(e),
                Ok(Ok(_)) => bail!("the file writer stopped"),
                Err(e) => bail!("the file writer failed: {e}"),
            };
        }
        Ok(())
    }

    /// Writes what is queued, flushes, and returns the SHA-256 of the whole file.
    pub async fn finish(mut self) -> anyhow::Result<[u8; 32]> {
        self.tx = None;
        match self.task.await {
            Ok(r) => r,
            Err(e) => bail!("the file writer failed: {e}"),
        }
    }
}

/// SHA-256 of the whole file at `path`, read on a blocking thread.
pub async fn hash_file(path: PathBuf) -> anyhow::Result<[u8; 32]> {
    tokio::task::spawn_blocking(move || {
        let mut file = File::open(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let size = file.metadata()?.len();
        hash_prefix(&mut file, size, &path).map(Sha256Hasher::finish)
    })
    .await
    .context("the hashing thread failed")?
}

fn hash_prefix(file: &mut File, offset: u64, path: &Path) -> anyhow::Result<Sha256Hasher> {
    let mut hasher = Sha256Hasher::new();
    let mut pos = 0u64;
    while pos < offset {
        let block = read_block(file, pos, offset, path)?;
        hasher.update(&block);
        pos += block.len() as u64;
    }
    Ok(hasher)
}

fn write_all(
    mut file: File,
    mut hasher: Sha256Hasher,
    mut rx: mpsc::Receiver<Bytes>,
    name: &str,
) -> anyhow::Result<[u8; 32]> {
    while let Some(data) = rx.blocking_recv() {
        hasher.update(&data);
        file.write_all(&data).map_err(|e| write_error(e, name))?;
    }
    file.flush().map_err(|e| write_error(e, name))?;
    Ok(hasher.finish())
}

/// A clear message for a failed write (disk full says so).
pub fn write_error(e: std::io::Error, name: &str) -> anyhow::Error {
    if e.kind() == std::io::ErrorKind::StorageFull {
        anyhow::anyhow!(
            "disk full while writing {name}.part (partial data kept; free space and run recv again)"
        )
    } else {
        anyhow::anyhow!("cannot write {name}.part: {e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("oxirtc-file-io-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
    }

    fn one_shot(data: &[u8]) -> [u8; 32] {
        let mut h = Sha256Hasher::new();
        h.update(data);
        h.finish()
    }

    #[tokio::test]
    async fn reader_slices_and_hashes_from_byte_zero() {
        let dir = scratch("reader");
        let data = pattern(3 * READ_BLOCK + 12_345);
        let path = dir.join("f");
        std::fs::write(&path, &data).unwrap();
        let offset = READ_BLOCK as u64 + 100;
        let mut rx = spawn_reader(path, offset, data.len() as u64, 64 * 1024);
        let mut got = Vec::new();
        let digest = loop {
            match rx.recv().await.unwrap().unwrap() {
                Piece::Data(b) => {
                    assert!(!b.is_empty() && b.len() <= 64 * 1024);
                    got.extend_from_slice(&b);
                }
                Piece::Digest(d) => break d,
            }
        };
        assert_eq!(got, &data[offset as usize..]);
        assert_eq!(digest, one_shot(&data));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn reader_reports_a_file_that_shrank() {
        let dir = scratch("shrank");
        let path = dir.join("f");
        std::fs::write(&path, pattern(1000)).unwrap();
        let mut rx = spawn_reader(path, 0, 5000, 64 * 1024);
        let err = loop {
            match rx.recv().await.unwrap() {
                Ok(Piece::Data(_)) => {}
                Ok(Piece::Digest(_)) => panic!("a short file must not end with a digest"),
                Err(e) => break e,
            }
        };
        assert!(err.to_string().contains("did it change"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn writer_resumes_a_part_and_hashes_the_whole_file() {
        let dir = scratch("writer");
        let data = pattern(2 * READ_BLOCK + 777);
        let path = dir.join("f.part");
        // A .part with the first 1000 bytes and some garbage beyond the resume offset.
        let mut part = data[..1000].to_vec();
        part.extend_from_slice(b"garbage");
        std::fs::write(&path, &part).unwrap();
        let mut w = PartWriter::open(path.clone(), 1000, "f".into()).unwrap();
        for c in data[1000..].chunks(64 * 1024) {
            w.write(Bytes::copy_from_slice(c)).await.unwrap();
        }
        assert_eq!(w.finish().await.unwrap(), one_shot(&data));
        assert_eq!(std::fs::read(&path).unwrap(), data);
        assert!(PartWriter::open(path, data.len() as u64 + 1, "f".into()).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
