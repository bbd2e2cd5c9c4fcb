//! `oxirtc recv CODE`: joins the sender's room and writes the files into `--dir`, as `NAME.part`
//! until the SHA-256 matches; a later run resumes a `.part` (the sender waits for it in the room, so
//! the same command works). Never overwrites without `--force`; a file already there with the
//! offered size is checked against the sender's SHA-256 instead of being sent again. When the sender
//! goes away mid-transfer we wait `--wait` seconds in the room for it to come back
//! (`oxirtc send --code CODE FILE...`), then resume.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use bytes::Bytes;
use indicatif::ProgressBar;

use crate::file_io::{hash_file, PartWriter};
use crate::link_io::{next, send_control, Incoming};
use crate::peer_link::{config_for, establish, EstablishError, Link};
use crate::progress::{bar, end};
use crate::signal_ws::{SignalClient, DEFAULT_SERVER};
use crate::term_safe::escape;
use crate::transfer::{hex, part_path, safe_name, Control, FileMeta, TRANSFER_VERSION};
use crate::wait::{clock, wait_for_peer, DEFAULT_WAIT_SECS};

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
    /// How long to wait for a sender that went away mid-transfer to come back (`oxirtc send --code
    /// CODE FILE...` on its side); 0 gives up at once. What arrived is kept as `.part` either way.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_WAIT_SECS)]
    pub wait: u64,
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

/// What this run agreed to receive, across a sender that goes away and comes back.
#[derive(Default)]
struct Session {
    /// The first offer we accepted: a returning sender may offer only these files (or some of them).
    offered: Option<Vec<FileMeta>>,
    /// The last attempt ended for good (the sender cancelled, a checksum failed, the disk is full,
    /// we declined): waiting would not help.
    fatal: bool,
    /// The last offer came from someone else than the sender we wait for; we declined it and go on
    /// waiting.
    foreign: bool,
}

async fn recv(args: &RecvArgs) -> anyhow::Result<()> {
    let mut sig = SignalClient::connect(&args.server).await?;
    let joined = sig.join(&args.code, args.name.clone(), false).await?;
    let code = joined.room.clone();
    let Some(mut sender) = joined.peers.first().cloned() else {
        bail!("unknown or expired code: nobody is sending with {}", args.code);
    };
    let mut session = Session::default();
    // Members whose offer we declined as foreign: not connected to again.
    let mut strangers = HashSet::new();
    // Set once the sender went away: until when we wait for it.
    let mut deadline: Option<Instant> = None;
    loop {
        eprintln!("connecting to {}…", escape(&sender.name));
        let config = config_for(&joined.ice_servers, args.relay).await;
        let (result, gone, back) = match establish(sig, sender.id.clone(), false, config).await {
            Ok(mut link) => {
                session.fatal = false;
                session.foreign = false;
                let result = receive(&mut link, args, &mut session).await;
                let gone = link.gone.borrow().is_some();
                if result.is_err() && !gone && !session.foreign {
                    if let Err(e) = &result {
                        let _ = send_control(
                            &link,
                            &Control::Cancel {
                                reason: format!("{e:#}"),
                            },
                        )
                        .await;
                    }
                }
                if !gone {
                    // Let the sender read our last message (`done`, `decline`, `cancel`) and close first.
                    let _ = tokio::time::timeout(Duration::from_secs(3), next(&mut link)).await;
                }
                (result, gone, link.close().await)
            }
            Err(EstablishError { error, sig }) => (Err(error), true, Some(sig)),
        };
        let error = match result {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        let resumable = (gone || session.foreign) && !session.fatal && session.offered.is_some();
        if !resumable || args.wait == 0 {
            return Err(error);
        }
        let until = *deadline.get_or_insert_with(|| Instant::now() + Duration::from_secs(args.wait));
        if session.foreign {
            strangers.insert(sender.id.clone());
        } else {
            eprintln!(
                "{error:#}\nwaiting up to {} for the sender to come back (on its side: oxirtc send --code {code} FILE...; --wait to change)",
                clock(until.saturating_duration_since(Instant::now()))
            );
        }
        // Leave and join again: a sender still in the room (waiting for us after its connection
        // broke) sees us come back; if it is gone the room is kept for it.
        sig = match back {
            Some(mut s) => {
                s.leave().await?;
                s
            }
            None => SignalClient::connect(&args.server).await?,
        };
        let rejoined = sig.join(&code, args.name.clone(), true).await?;
        let waiting = rejoined.peers.into_iter().find(|p| !strangers.contains(&p.id));
        sender = match waiting {
            Some(p) => p,
            None => {
                let what = "waiting for the sender to come back";
                match wait_for_peer(&mut sig, Some(until), what).await? {
                    Some(p) => p,
                    None => bail!(
                        "{error:#}; the sender did not come back within {} s (--wait); what arrived \
                         is kept as .part: run `oxirtc recv` again with the sender's new code (same --dir) to resume",
                        args.wait
                    ),
                }
            }
        };
    }
}

/// One file being received.
struct Sink {
    index: usize,
    name: String,
    size: u64,
    received: u64,
    out: Output,
    bar: ProgressBar,
    started: Instant,
    offset: u64,
}

/// Where a file's bytes go.
enum Output {
    /// Into `NAME.part`.
    Part(PartWriter),
    /// Nowhere: `NAME` is already here with the offered size (received earlier in this run, or
    /// before); the sender's SHA-256 decides whether it is the same file.
    Existing,
}

/// What `plan` decided for one offered file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Plan {
    /// Receive into `.part` from this offset.
    From(u64),
    /// `NAME` exists with the offered size: compare it with the sender's SHA-256.
    Compare,
}

impl Plan {
    fn offset(self, size: u64) -> u64 {
        match self {
            Plan::From(o) => o,
            Plan::Compare => size,
        }
    }
}

async fn receive(link: &mut Link, args: &RecvArgs, session: &mut Session) -> anyhow::Result<()> {
    let files = loop {
        match next(link).await? {
            Incoming::Control(Control::Files { v, files }) if v == TRANSFER_VERSION => break files,
            Incoming::Control(Control::Files { v, .. }) => {
                session.fatal = true;
                bail!("the sender speaks transfer protocol v{v}, not v{TRANSFER_VERSION}")
            }
            Incoming::Control(Control::Cancel { reason }) => {
                session.fatal = true;
                bail!("the sender cancelled: {}", escape(&reason))
            }
            _ => {}
        }
    };
    if let Some(first) = &session.offered {
        // A sender coming back may offer what is left of the first offer, nothing else: whoever
        // else knows the code cannot slip other files into this directory.
        if let Some(f) = files.iter().find(|f| !first.contains(f)) {
            session.foreign = true;
            let reason = "this receiver waits for the rest of an earlier transfer; start another \
                          `oxirtc recv` for other files";
            send_control(
                link,
                &Control::Decline {
                    reason: reason.into(),
                },
            )
            .await?;
            bail!(
                "declined an offer of {} ({} bytes): not part of the transfer being resumed",
                escape(&f.name),
                f.size
            );
        }
    }
    let plans = match plan(&files, args) {
        Ok(o) => o,
        Err(refusal) => {
            session.fatal = true;
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
    let offsets = files.iter().zip(&plans).map(|(f, p)| p.offset(f.size)).collect();
    send_control(link, &Control::Accept { offsets }).await?;
    session.offered.get_or_insert_with(|| files.clone());
    let mut sink: Option<Sink> = None;
    let result = receive_files(link, &files, &plans, &args.dir, &mut sink, session).await;
    if let Some(s) = sink {
        if let Output::Part(out) = s.out {
            // Keep what arrived: the .part is complete up to the last byte received (resume).
            let _ = out.finish().await;
            return result.map_err(|e| kept_part_hint(e, &s.name, s.received, s.size));
        }
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
/// with its cause and says that the `.part` is kept.
fn kept_part_hint(e: anyhow::Error, name: &str, received: u64, size: u64) -> anyhow::Error {
    anyhow::anyhow!("{e:#}; {name}.part kept ({received} of {size} bytes)")
}

async fn receive_files(
    link: &mut Link,
    files: &[FileMeta],
    plans: &[Plan],
    dir: &Path,
    sink: &mut Option<Sink>,
    session: &mut Session,
) -> anyhow::Result<()> {
    let mut done = 0;
    // Errors from the sender breaking the protocol or from our disk end the run for good.
    let fatal = |session: &mut Session, e: anyhow::Error| {
        session.fatal = true;
        e
    };
    while done < files.len() {
        match next(link).await? {
            Incoming::Control(Control::File { index, offset }) => {
                let (Some(meta), Some(&plan)) = (files.get(index), plans.get(index)) else {
                    return Err(fatal(
                        session,
                        anyhow::anyhow!("the sender announced a file it did not offer"),
                    ));
                };
                if offset != plan.offset(meta.size) {
                    return Err(fatal(
                        session,
                        anyhow::anyhow!(
                            "the sender sends {} from byte {offset}, not from the {} we asked for",
                            escape(&meta.name),
                            plan.offset(meta.size)
                        ),
                    ));
                }
                *sink = Some(open_sink(dir, index, meta, plan).map_err(|e| fatal(session, e))?);
            }
            Incoming::Chunk(data) => {
                let Some(s) = sink.as_mut() else {
                    return Err(fatal(
                        session,
                        anyhow::anyhow!("the sender sent bytes before announcing a file"),
                    ));
                };
                write_chunk(s, data).await.map_err(|e| fatal(session, e))?;
            }
            Incoming::Control(Control::End { index, sha256 }) => {
                let Some(s) = sink.take().filter(|s| s.index == index) else {
                    return Err(fatal(
                        session,
                        anyhow::anyhow!("`end` for a file not being received"),
                    ));
                };
                finish(link, s, &sha256, dir)
                    .await
                    .map_err(|e| fatal(session, e))?;
                done += 1;
            }
            Incoming::Control(Control::Cancel { reason }) => {
                session.fatal = true;
                bail!("the sender cancelled: {}", escape(&reason))
            }
            Incoming::Control(Control::Text { text }) => println!("message: {}", escape(&text)),
            Incoming::Control(other) => tracing::debug!(?other, "transfer: message ignored"),
        }
    }
    Ok(())
}

/// Checks the names and existing files; says where each file starts.
fn plan(files: &[FileMeta], args: &RecvArgs) -> Result<Vec<Plan>, Refusal> {
    let mut seen = HashSet::new();
    let mut plans = Vec::with_capacity(files.len());
    for f in files {
        let name = safe_name(&f.name)?;
        if !seen.insert(name) {
            return Err(anyhow::anyhow!("the sender offered \"{}\" twice", escape(name)).into());
        }
        let target = args.dir.join(name);
        if let Ok(md) = std::fs::metadata(&target) {
            if !args.force {
                if md.is_file() && md.len() == f.size {
                    plans.push(Plan::Compare);
                    continue;
                }
                return Err(Refusal {
                    here: anyhow::anyhow!("{} already exists; use --force to overwrite it", target.display()),
                    for_sender: format!(
                        "{name} already exists on the receiving side (it can rerun recv with --force to \
                         overwrite it, or with another --dir)"
                    ),
                });
            }
        }
        let have = std::fs::metadata(part_path(&args.dir, name)).map_or(0, |m| m.len());
        let offset = if have <= f.size { have } else { 0 };
        if offset > 0 {
            eprintln!("resuming {name} at byte {offset} ({name}.part)");
        }
        plans.push(Plan::From(offset));
    }
    Ok(plans)
}

fn open_sink(dir: &Path, index: usize, meta: &FileMeta, plan: Plan) -> anyhow::Result<Sink> {
    let name = safe_name(&meta.name)?.to_owned();
    let offset = plan.offset(meta.size);
    let out = match plan {
        // Hashing the .part's prefix, writing and hashing the new bytes run on their own thread.
        Plan::From(offset) => Output::Part(PartWriter::open(part_path(dir, &name), offset, name.clone())?),
        Plan::Compare => Output::Existing,
    };
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
    let Output::Part(out) = &mut s.out else {
        bail!("the sender sent bytes of {}, which is complete here", s.name);
    };
    out.write(data).await?;
    s.received += len;
    s.bar.set_position(s.received);
    Ok(())
}

async fn finish(link: &mut Link, s: Sink, sha256: &str, dir: &Path) -> anyhow::Result<()> {
    let target = dir.join(&s.name);
    let existing = matches!(s.out, Output::Existing);
    let hash = match s.out {
        Output::Part(out) => out.finish().await?,
        Output::Existing => hash_file(target.clone()).await?,
    };
    end(&s.bar);
    let part = part_path(dir, &s.name);
    if s.received != s.size {
        bail!("{} ended at {} of {} bytes", s.name, s.received, s.size);
    }
    let digest = hex(&hash);
    if !digest.eq_ignore_ascii_case(sha256) {
        let error = if existing {
            format!(
                "{} already exists on the receiving side with other content (it can rerun recv with \
                 --force to overwrite it, or with another --dir)",
                s.name
            )
        } else {
            let _ = std::fs::remove_file(&part);
            format!(
                "checksum mismatch for {}: received {digest}, sender has {sha256}",
                s.name
            )
        };
        send_control(
            link,
            &Control::Done {
                index: s.index,
                ok: false,
                error: Some(error.clone()),
            },
        )
        .await?;
        if existing {
            bail!(
                "{} already exists with other content; use --force to overwrite it",
                target.display()
            );
        }
        bail!("{error} (the partial file was deleted)");
    }
    if !existing {
        std::fs::rename(&part, &target)
            .with_context(|| format!("cannot rename {} to {}", part.display(), target.display()))?;
    }
    send_control(
        link,
        &Control::Done {
            index: s.index,
            ok: true,
            error: None,
        },
    )
    .await?;
    if existing {
        println!(
            "already here: {} ({} bytes, sha256 {digest} equal to the sender's)",
            target.display(),
            s.size
        );
        return Ok(());
    }
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
