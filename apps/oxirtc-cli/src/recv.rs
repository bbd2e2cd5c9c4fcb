//! `oxirtc recv CODE`: joins the sender's room and writes the files into `--dir`, as `NAME.part`
//! until the SHA-256 matches; a later run resumes a `.part`. Never overwrites without `--force`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use bytes::Bytes;
use indicatif::ProgressBar;

use crate::file_io::PartWriter;
use crate::link_io::{next, send_control, Incoming};
use crate::peer_link::{config_for, establish, Link};
use crate::progress::{bar, end};
use crate::signal_ws::{SignalClient, DEFAULT_SERVER};
use crate::term_safe::escape;
use crate::transfer::{hex, part_path, safe_name, Control, FileMeta, TRANSFER_VERSION};

/// `oxirtc recv` arguments.
#[derive(Debug, clap::Args)]
pub struct RecvArgs {
    /// The code `oxirtc send` printed (e.g. 7-orbit-lantern).
    pub code: String,
    /// Directory to write into.
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    /// Overwrite existing files.
    #[arg(long)]
    pub force: bool,
    /// Use the signaling server's TURN relay only (no direct path; both sides' addresses stay hidden).
    #[arg(long)]
    pub relay: bool,
    /// The signaling server (`oxirtc serve`).
    #[arg(long, default_value = DEFAULT_SERVER)]
    pub server: String,
    /// Your name as the other side sees it.
    #[arg(long)]
    pub name: Option<String>,
}

/// Runs `oxirtc recv`.
pub fn run(args: &RecvArgs) -> anyhow::Result<()> {
    if !args.dir.is_dir() {
        bail!("{} is not a directory", args.dir.display());
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(recv(args))
}

async fn recv(args: &RecvArgs) -> anyhow::Result<()> {
    let mut sig = SignalClient::connect(&args.server).await?;
    let joined = sig.join(&args.code, args.name.clone()).await?;
    let Some(sender) = joined.peers.first().cloned() else {
        bail!("unknown or expired code: nobody is sending with {}", args.code);
    };
    eprintln!("connecting to {}…", escape(&sender.name));
    let mut link = establish(
        sig,
        sender.id,
        false,
        config_for(&joined.ice_servers, args.relay).await,
    )
    .await?;
    let result = receive(&mut link, args).await;
    if let Err(e) = &result {
        let _ = send_control(
            &link,
            &Control::Cancel {
                reason: format!("{e:#}"),
            },
        )
        .await;
    }
    // Let the sender read our last message (`done`, `decline`, `cancel`) and close first.
    let _ = tokio::time::timeout(Duration::from_secs(3), next(&mut link)).await;
    link.close().await;
    result
}

/// One file being written.
struct Sink {
    index: usize,
    name: String,
    size: u64,
    received: u64,
    out: PartWriter,
    bar: ProgressBar,
    started: Instant,
    offset: u64,
}

async fn receive(link: &mut Link, args: &RecvArgs) -> anyhow::Result<()> {
    let files = loop {
        match next(link).await? {
            Incoming::Control(Control::Files { v, files }) if v == TRANSFER_VERSION => break files,
            Incoming::Control(Control::Files { v, .. }) => {
                bail!("the sender speaks transfer protocol v{v}, not v{TRANSFER_VERSION}")
            }
            Incoming::Control(Control::Cancel { reason }) => {
                bail!("the sender cancelled: {}", escape(&reason))
            }
            _ => {}
        }
    };
    let offsets = match plan(&files, args) {
        Ok(o) => o,
        Err(refusal) => {
            // The sender learns why, but not where our files live (no absolute paths).
            send_control(
                link,
                &Control::Decline {
                    reason: refusal.for_sender,
                },
            )
            .await?;
            return Err(refusal.here);
        }
    };
    send_control(
        link,
        &Control::Accept {
            offsets: offsets.clone(),
        },
    )
    .await?;
    let mut sink: Option<Sink> = None;
    let result = receive_files(link, &files, &args.dir, &mut sink).await;
    if let Some(s) = sink {
        // Keep what arrived: the .part is complete up to the last byte received (resume).
        let _ = s.out.finish().await;
        return result.map_err(|e| kept_part_hint(e, &s.name, s.received, s.size));
    }
    result
}

/// Why an offer was declined: the full story here, and a version for the sender without our paths.
struct Refusal {
    here: anyhow::Error,
    for_sender: String,
}

impl From<anyhow::Error> for Refusal {
    /// An error that names no local path: the sender may read it as it is.
    fn from(e: anyhow::Error) -> Self {
        Refusal {
            for_sender: format!("{e:#}"),
            here: e,
        }
    }
}

/// Issue 7 §2: a transfer that breaks off (the path died, ICE consent expired, the peer left) fails
/// with its cause and tells the user how to resume from the `.part` it kept.
fn kept_part_hint(e: anyhow::Error, name: &str, received: u64, size: u64) -> anyhow::Error {
    anyhow::anyhow!(
        "{e:#}; {name}.part kept ({received} of {size} bytes): run `oxirtc send` and `oxirtc recv` \
         again (same --dir) to resume from it"
    )
}

async fn receive_files(
    link: &mut Link,
    files: &[FileMeta],
    dir: &Path,
    sink: &mut Option<Sink>,
) -> anyhow::Result<()> {
    let mut done = 0;
    while done < files.len() {
        match next(link).await? {
            Incoming::Control(Control::File { index, offset }) => {
                let meta = files.get(index).context("the sender announced a file it did not offer")?;
                *sink = Some(open_sink(dir, index, meta, offset)?);
            }
            Incoming::Chunk(data) => {
                let s = sink.as_mut().context("the sender sent bytes before announcing a file")?;
                write_chunk(s, data).await?;
            }
            Incoming::Control(Control::End { index, sha256 }) => {
                let s = sink.take().filter(|s| s.index == index).context("`end` for a file not being received")?;
                finish(link, s, &sha256, dir).await?;
                done += 1;
            }
            Incoming::Control(Control::Cancel { reason }) => bail!("the sender cancelled: {} (partial data kept as .part; run recv again with a new code to resume)", escape(&reason)),
            Incoming::Control(Control::Text { text }) => println!("message: {}", escape(&text)),
            Incoming::Control(other) => tracing::debug!(?other, "transfer: message ignored"),
        }
    }
    Ok(())
}

/// Checks the names and existing files; returns the resume offset of each file.
fn plan(files: &[FileMeta], args: &RecvArgs) -> Result<Vec<u64>, Refusal> {
    let mut seen = HashSet::new();
    let mut offsets = Vec::with_capacity(files.len());
    for f in files {
        let name = safe_name(&f.name)?;
        if !seen.insert(name) {
            return Err(anyhow::anyhow!("the sender offered \"{}\" twice", escape(name)).into());
        }
        let target = args.dir.join(name);
        if target.exists() && !args.force {
            return Err(Refusal {
                here: anyhow::anyhow!("{} already exists; use --force to overwrite it", target.display()),
                for_sender: format!(
                    "{name} already exists on the receiving side (it can rerun recv with --force to \
                     overwrite it, or with another --dir)"
                ),
            });
        }
        let have = std::fs::metadata(part_path(&args.dir, name)).map_or(0, |m| m.len());
        let offset = if have <= f.size { have } else { 0 };
        if offset > 0 {
            eprintln!("resuming {name} at byte {offset} ({name}.part)");
        }
        offsets.push(offset);
    }
    Ok(offsets)
}

fn open_sink(dir: &Path, index: usize, meta: &FileMeta, offset: u64) -> anyhow::Result<Sink> {
    let name = safe_name(&meta.name)?.to_owned();
    if offset > meta.size {
        bail!(
            "the sender resumes {name} at {offset}, past its {} bytes",
            meta.size
        );
    }
    // Hashing the .part's prefix, writing and hashing the new bytes run on their own thread (file_io).
    let out = PartWriter::open(part_path(dir, &name), offset, name.clone())?;
    Ok(Sink {
        index,
        bar: bar(&name, meta.size, offset),
        name,
        size: meta.size,
        received: offset,
        out,
        started: Instant::now(),
        offset,
    })
}

async fn write_chunk(s: &mut Sink, data: Bytes) -> anyhow::Result<()> {
    let len = data.len() as u64;
    if s.received + len > s.size {
        bail!(
            "the sender sent more than the {} bytes it announced for {}",
            s.size,
            s.name
        );
    }
    s.out.write(data).await?;
    s.received += len;
    s.bar.set_position(s.received);
    Ok(())
}

async fn finish(link: &mut Link, s: Sink, sha256: &str, dir: &Path) -> anyhow::Result<()> {
    let hash = s.out.finish().await?;
    end(&s.bar);
    let part = part_path(dir, &s.name);
    if s.received != s.size {
        bail!("{} ended at {} of {} bytes", s.name, s.received, s.size);
    }
    let digest = hex(&hash);
    if !digest.eq_ignore_ascii_case(sha256) {
        let _ = std::fs::remove_file(&part);
        let error = format!(
            "checksum mismatch for {}: received {digest}, sender has {sha256}",
            s.name
        );
        send_control(
            link,
            &Control::Done {
                index: s.index,
                ok: false,
                error: Some(error.clone()),
            },
        )
        .await?;
        bail!("{error} (the partial file was deleted)");
    }
    let target = dir.join(&s.name);
    std::fs::rename(&part, &target)
        .with_context(|| format!("cannot rename {} to {}", part.display(), target.display()))?;
    send_control(
        link,
        &Control::Done {
            index: s.index,
            ok: true,
            error: None,
        },
    )
    .await?;
    let secs = s.started.elapsed().as_secs_f64();
    println!(
        "received {} ({} bytes, {} resumed, sha256 {digest}) in {secs:.2} s, {:.1} MB/s",
        target.display(),
        s.size,
        s.offset,
        (s.size - s.offset) as f64 / secs.max(1e-9) / 1e6
    );
    Ok(())
}
