//! `oxirtc send FILE...`: makes a room, prints its code and a browser link, and streams the files to
//! the first peer that joins (an `oxirtc recv` or a browser), with backpressure and SHA-256. A
//! receiver that goes away mid-transfer (killed, its connection lost) is waited for, `--wait` seconds
//! with a countdown: the same `oxirtc recv` command joins the same room again and resumes from its
//! `.part`. `--code` reuses a code, for a sender that was stopped while its receiver waits.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use oxirtc_tokio::Message;

use crate::file_io::{spawn_reader, Piece};
use crate::link_io::{next, poll_next, send_control, send_message, Incoming};
use crate::peer_link::{config_for, establish, EstablishError, Link};
use crate::progress::{bar, end};
use crate::signal_ws::{SignalClient, DEFAULT_SERVER};
use crate::term_safe::escape;
use crate::transfer::{hex, Control, FileMeta, CHUNK, TRANSFER_VERSION};
use crate::wait::{clock, wait_for_peer, DEFAULT_WAIT_SECS};

/// `oxirtc send` arguments.
#[derive(Debug, clap::Args)]
pub struct SendArgs {
    /// Files to send.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Use the signaling server's TURN relay only (no direct path; both sides' addresses stay hidden).
    #[arg(long)]
    pub relay: bool,
    /// The signaling server (`oxirtc serve`).
    #[arg(long, default_value = DEFAULT_SERVER)]
    pub server: String,
    /// Your name as the other side sees it.
    #[arg(long)]
    pub name: Option<String>,
    /// How long to wait for a receiver that went away mid-transfer to come back (it resumes by
    /// running the same `oxirtc recv` command again); 0 gives up at once.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_WAIT_SECS)]
    pub wait: u64,
    /// Use this code instead of a fresh one: to resume after this command was stopped while the
    /// receiver waits in the room (the room is made if nobody is in it).
    #[arg(long)]
    pub code: Option<String>,
    /// Test hook: announce the first file under this name.
    #[arg(long, hide = true)]
    pub as_name: Option<String>,
    /// Test hook: exit abruptly (status 3) after this many file bytes, as if killed.
    #[arg(long, hide = true)]
    pub stop_after: Option<u64>,
}

struct Source {
    path: PathBuf,
    meta: FileMeta,
}

/// Runs `oxirtc send`.
pub fn run(args: &SendArgs) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(send(args))
}

fn sources(args: &SendArgs) -> anyhow::Result<Vec<Source>> {
    let mut out = Vec::new();
    for (i, path) in args.files.iter().enumerate() {
        let md = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
        if !md.is_file() {
            bail!("{} is not a regular file", path.display());
        }
        let name = match (&args.as_name, i) {
            (Some(n), 0) => n.clone(),
            _ => path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .with_context(|| format!("{} has no file name", path.display()))?,
        };
        out.push(Source {
            path: path.clone(),
            meta: FileMeta { name, size: md.len() },
        });
    }
    Ok(out)
}

async fn send(args: &SendArgs) -> anyhow::Result<()> {
    let files = sources(args)?;
    let mut sig = SignalClient::connect(&args.server).await?;
    let joined = match &args.code {
        Some(code) => sig.join(code, args.name.clone(), true).await?,
        None => sig.create(args.name.clone()).await?,
    };
    let code = joined.room.clone();
    println!("code: {code}");
    println!("On the other computer run:  oxirtc recv {code}");
    println!("or open in a browser:       {}/#{code}", sig.http_base);
    let mut sent = Sent {
        done: vec![false; files.len()],
        ..Sent::default()
    };
    // A receiver already in the room (it waits there for us after `--code`).
    let mut next_peer = joined.peers.first().cloned();
    // Set once a receiver went away: until when we wait for it, and why it went.
    let mut lost: Option<(Instant, anyhow::Error)> = None;
    loop {
        let peer = match next_peer.take() {
            Some(p) => p,
            None => match &lost {
                None => wait_for_peer(&mut sig, None, "").await?.context("no receiver")?,
                Some((deadline, why)) => {
                    let what = "waiting for the receiver to come back";
                    match wait_for_peer(&mut sig, Some(*deadline), what).await? {
                        Some(p) => p,
                        None => return Err(gave_up(why, args.wait, &sent, &code)),
                    }
                }
            },
        };
        eprintln!("{} joined; connecting…", escape(&peer.name));
        let config = config_for(&joined.ice_servers, args.relay).await;
        let mut link = match establish(sig, peer.id, true, config).await {
            Ok(link) => link,
            Err(EstablishError { error, sig: back }) => {
                sig = back;
                match &lost {
                    // Resuming: the returning receiver may be the one that failed; keep waiting.
                    Some((deadline, _)) if Instant::now() < *deadline => {
                        eprintln!("{error:#}");
                        continue;
                    }
                    _ => return Err(error),
                }
            }
        };
        sent.refused = false;
        sent.fatal = false;
        let result = transfer(&mut link, &files, args.stop_after, &mut sent).await;
        let gone = link.gone.borrow().is_some();
        if let Err(e) = &result {
            if !gone {
                let _ = send_control(
                    &link,
                    &Control::Cancel {
                        reason: format!("{e:#}"),
                    },
                )
                .await;
            }
        }
        let back = link.close().await;
        let error = match result {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        if sent.refused || sent.fatal || args.wait == 0 {
            // Only a transfer that broke off after file bytes went out can have left a `.part`; a
            // receiver that declined or cancelled (bad name, no space, already exists) kept nothing
            // we can promise.
            let hint = !sent.refused && !sent.fatal && sent.bytes > 0;
            return Err(if hint { resume_hint(error, &code) } else { error });
        }
        // The receiver went away (killed, its network gone): keep the code alive for it.
        sig = match back {
            Some(s) => s,
            None => rejoin(args, &code).await?,
        };
        let deadline = match &lost {
            Some((d, _)) => *d,
            None => Instant::now() + Duration::from_secs(args.wait),
        };
        eprintln!(
            "{error:#}\nwaiting up to {} for the receiver to come back: the same `oxirtc recv {code}` \
             command resumes (--wait to change)",
            clock(deadline.saturating_duration_since(Instant::now()))
        );
        lost = Some((deadline, error));
    }
}

/// A fresh signaling connection in room `code` (the old one was lost).
async fn rejoin(args: &SendArgs, code: &str) -> anyhow::Result<SignalClient> {
    let mut sig = SignalClient::connect(&args.server).await?;
    sig.join(code, args.name.clone(), true).await?;
    Ok(sig)
}

/// What happened on the way, for the final error message and a resumed transfer.
#[derive(Default)]
struct Sent {
    /// File bytes handed to the channel (in every attempt).
    bytes: u64,
    /// The receiver declined, cancelled or rejected a file.
    refused: bool,
    /// A failure on our side or a receiver breaking the protocol: waiting would not help.
    fatal: bool,
    /// Files the receiver has verified (a returning receiver is offered the others).
    done: Vec<bool>,
}

/// Issue 7 §2: the connection died mid-transfer (path, consent, relay lost): say how to resume.
fn resume_hint(e: anyhow::Error, code: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "{e:#}; the receiver keeps what arrived as .part: run the same `oxirtc recv {code}` command \
         while a sender waits with this code (`oxirtc send --code {code} FILE...`) to resume"
    )
}

/// The receiver did not come back within `--wait`.
fn gave_up(why: &anyhow::Error, wait: u64, sent: &Sent, code: &str) -> anyhow::Error {
    let e = anyhow::anyhow!("{why:#}; the receiver did not come back within {wait} s (--wait)");
    if sent.bytes > 0 {
        resume_hint(e, code)
    } else {
        e
    }
}

async fn transfer(
    link: &mut Link,
    files: &[Source],
    stop_after: Option<u64>,
    sent: &mut Sent,
) -> anyhow::Result<()> {
    // A returning receiver is offered only what it has not verified yet.
    let todo: Vec<usize> = (0..files.len()).filter(|&i| !sent.done[i]).collect();
    let metas = todo.iter().map(|&i| files[i].meta.clone()).collect();
    send_control(
        link,
        &Control::Files {
            v: TRANSFER_VERSION,
            files: metas,
        },
    )
    .await?;
    let offsets = loop {
        match next(link).await? {
            Incoming::Control(Control::Accept { offsets }) => break offsets,
            Incoming::Control(Control::Decline { reason }) => {
                sent.refused = true;
                bail!("the receiver declined: {}", escape(&reason))
            }
            Incoming::Control(Control::Cancel { reason }) => {
                sent.refused = true;
                bail!("the receiver cancelled: {}", escape(&reason))
            }
            Incoming::Control(Control::Text { text }) => println!("message: {}", escape(&text)),
            other => {
                sent.fatal = true;
                bail!("unexpected message before accept: {other:?}")
            }
        }
    };
    if offsets.len() != todo.len() {
        sent.fatal = true;
        bail!(
            "the receiver answered for {} files, not {}",
            offsets.len(),
            todo.len()
        );
    }
    for (index, (&i, &offset)) in todo.iter().zip(&offsets).enumerate() {
        let f = &files[i];
        let t0 = Instant::now();
        let digest = send_file(link, index, f, offset, stop_after, sent).await?;
        wait_done(link, index, sent).await?;
        sent.done[i] = true;
        let secs = t0.elapsed().as_secs_f64();
        let sent = f.meta.size - offset;
        println!(
            "sent {} ({} bytes from offset {offset}, sha256 {digest}) in {secs:.2} s, {:.1} MB/s",
            escape(&f.meta.name),
            f.meta.size,
            sent as f64 / secs.max(1e-9) / 1e6
        );
    }
    Ok(())
}

async fn send_file(
    link: &mut Link,
    index: usize,
    f: &Source,
    offset: u64,
    stop_after: Option<u64>,
    sent: &mut Sent,
) -> anyhow::Result<String> {
    let size = f.meta.size;
    if offset > size {
        sent.fatal = true;
        bail!(
            "the receiver asked to resume {} at {offset}, past its end",
            escape(&f.meta.name)
        );
    }
    if offset > 0 {
        eprintln!("resuming {} at byte {offset}", escape(&f.meta.name));
    }
    // Reading and hashing run on their own thread, ahead of the channel (file_io).
    let mut pieces = spawn_reader(f.path.clone(), offset, size, CHUNK);
    send_control(link, &Control::File { index, offset }).await?;
    let progress = bar(&escape(&f.meta.name), size, offset);
    let mut pos = offset;
    let digest = loop {
        let piece = match pieces.recv().await {
            Some(Ok(piece)) => piece,
            Some(Err(e)) => {
                sent.fatal = true;
                return Err(e);
            }
            None => {
                sent.fatal = true;
                bail!("the file reader stopped")
            }
        };
        let data = match piece {
            Piece::Data(data) => data,
            Piece::Digest(d) => break hex(&d),
        };
        let len = data.len() as u64;
        pos += len;
        // Gives up when the peer is gone (consent expired) instead of waiting for buffer room.
        send_message(link, Message::binary(data)).await?;
        sent.bytes += len;
        progress.set_position(pos);
        check_cancel(link, sent)?;
        if stop_after.is_some_and(|n| pos - offset >= n) {
            eprintln!("stopping after {} bytes (--stop-after)", pos - offset);
            std::process::exit(3);
        }
    };
    end(&progress);
    send_control(
        link,
        &Control::End {
            index,
            sha256: digest.clone(),
        },
    )
    .await?;
    Ok(digest)
}

fn check_cancel(link: &mut Link, sent: &mut Sent) -> anyhow::Result<()> {
    match poll_next(link)? {
        Some(Incoming::Control(Control::Cancel { reason })) => {
            sent.refused = true;
            bail!("the receiver cancelled: {}", escape(&reason))
        }
        Some(Incoming::Control(Control::Text { text })) => {
            println!("message: {}", escape(&text));
            Ok(())
        }
        _ => Ok(()),
    }
}

async fn wait_done(link: &mut Link, index: usize, sent: &mut Sent) -> anyhow::Result<()> {
    loop {
        match next(link).await? {
            Incoming::Control(Control::Done { index: i, ok, error }) if i == index => {
                if ok {
                    return Ok(());
                }
                sent.refused = true;
                bail!(
                    "the receiver rejected the file: {}",
                    escape(&error.unwrap_or_default())
                );
            }
            Incoming::Control(Control::Cancel { reason }) => {
                sent.refused = true;
                bail!("the receiver cancelled: {}", escape(&reason))
            }
            Incoming::Control(Control::Text { text }) => println!("message: {}", escape(&text)),
            _ => {}
        }
    }
}
