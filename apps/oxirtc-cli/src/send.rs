//! `oxirtc send FILE...`: makes a room, prints its code and a browser link, and streams the files to
//! the first peer that joins (an `oxirtc recv` or a browser), with backpressure and SHA-256.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context as _};
use oxirtc_server::signaling::{PeerInfo, ServerMsg};
use oxirtc_tokio::Message;

use crate::file_io::{spawn_reader, Piece};
use crate::link_io::{next, poll_next, send_control, send_message, Incoming};
use crate::peer_link::{config_for, establish, Link};
use crate::progress::{bar, end};
use crate::signal_ws::{SignalClient, DEFAULT_SERVER};
use crate::term_safe::escape;
use crate::transfer::{hex, Control, FileMeta, CHUNK, TRANSFER_VERSION};

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
    let joined = sig.create(args.name.clone()).await?;
    let code = &joined.room;
    println!("code: {code}");
    println!("On the other computer run:  oxirtc recv {code}");
    println!("or open in a browser:       {}/#{code}", sig.http_base);
    let peer = wait_for_peer(&mut sig).await?;
    eprintln!("{} joined; connecting…", escape(&peer.name));
    let mut link = establish(
        sig,
        peer.id,
        true,
        config_for(&joined.ice_servers, args.relay).await,
    )
    .await?;
    let mut sent = Sent::default();
    let result = transfer(&mut link, &files, args.stop_after, &mut sent).await;
    if let Err(e) = &result {
        let _ = send_control(
            &link,
            &Control::Cancel {
                reason: format!("{e:#}"),
            },
        )
        .await;
    }
    let lost = link.gone.borrow().is_some();
    link.close().await;
    // Only a transfer that broke off after file bytes went out can have left a `.part`; a receiver that
    // declined or cancelled (bad name, no space, already exists) kept nothing we can promise.
    let hint = lost && sent.bytes > 0 && !sent.refused;
    result.map_err(|e| if hint { resume_hint(e) } else { e })
}

/// What happened on the way, for the final error message.
#[derive(Default)]
struct Sent {
    /// File bytes handed to the channel.
    bytes: u64,
    /// The receiver declined, cancelled or rejected a file.
    refused: bool,
}

/// Issue 7 §2: the connection died mid-transfer (path, consent, relay lost): say how to resume.
fn resume_hint(e: anyhow::Error) -> anyhow::Error {
    anyhow::anyhow!(
        "{e:#}; the receiver keeps what arrived as .part: run `oxirtc send` again and `oxirtc recv` \
         with the new code (same --dir) to resume"
    )
}

async fn wait_for_peer(sig: &mut SignalClient) -> anyhow::Result<PeerInfo> {
    loop {
        if let ServerMsg::PeerJoined { peer } = sig.next().await? {
            return Ok(peer);
        }
    }
}

async fn transfer(
    link: &mut Link,
    files: &[Source],
    stop_after: Option<u64>,
    sent: &mut Sent,
) -> anyhow::Result<()> {
    let metas = files.iter().map(|f| f.meta.clone()).collect();
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
            other => bail!("unexpected message before accept: {other:?}"),
        }
    };
    if offsets.len() != files.len() {
        bail!(
            "the receiver answered for {} files, not {}",
            offsets.len(),
            files.len()
        );
    }
    for (index, (f, &offset)) in files.iter().zip(&offsets).enumerate() {
        let t0 = Instant::now();
        let digest = send_file(link, index, f, offset, stop_after, sent).await?;
        wait_done(link, index, sent).await?;
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
        let piece = pieces.recv().await.context("the file reader stopped")??;
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
