//! Reading and writing [`Control`] messages on a [`Link`], with the peer going away turned into an error.

use anyhow::{anyhow, bail};
use bytes::Bytes;
use futures_util::FutureExt as _;
use oxirtc_tokio::Message;

use crate::peer_link::Link;
use crate::transfer::Control;

/// What arrived on the channel.
#[derive(Debug)]
pub enum Incoming {
    /// A control message.
    Control(Control),
    /// File bytes.
    Chunk(Bytes),
}

/// Sends a control message.
pub async fn send_control(link: &Link, msg: &Control) -> anyhow::Result<()> {
    send_message(link, Message::text(msg.to_json())).await
}

/// Sends a message; an error, not an endless wait, when the peer goes away while the channel's
/// buffer is full (ICE consent expired, the peer left): the channel itself stays open then.
pub async fn send_message(link: &Link, msg: Message) -> anyhow::Result<()> {
    let mut gone = link.gone.clone();
    tokio::select! {
        biased;
        r = link.dc.send(msg) => r.map_err(|e| anyhow!("the peer went away ({e})")),
        why = wait_gone(&mut gone) => bail!("{why}"),
    }
}

async fn wait_gone(gone: &mut tokio::sync::watch::Receiver<Option<String>>) -> String {
    loop {
        if let Some(why) = gone.borrow_and_update().clone() {
            return why;
        }
        if gone.changed().await.is_err() {
            return "the connection to the peer ended".into();
        }
    }
}

fn gone_reason(link: &Link) -> Option<String> {
    link.gone.borrow().clone()
}

fn parse(msg: Message) -> anyhow::Result<Incoming> {
    if msg.binary {
        return Ok(Incoming::Chunk(msg.data));
    }
    serde_json::from_slice(&msg.data)
        .map(Incoming::Control)
        .map_err(|e| anyhow!("the peer sent an unreadable control message: {e}"))
}

/// The next message; an error if the peer leaves or the channel closes first. Messages that
/// arrived before the peer left are still delivered.
pub async fn next(link: &mut Link) -> anyhow::Result<Incoming> {
    if let Some(m) = link.dc.recv().now_or_never() {
        return match m {
            Some(m) => parse(m),
            None => bail!("the peer closed the connection"),
        };
    }
    if let Some(why) = gone_reason(link) {
        bail!("{why}");
    }
    tokio::select! {
        biased;
        m = link.dc.recv() => match m {
            Some(m) => parse(m),
            None => bail!("the peer closed the connection"),
        },
        _ = link.gone.changed() => bail!("{}", gone_reason(link).unwrap_or_else(|| "the peer went away".into())),
    }
}

/// A message if one is already waiting (never blocks); an error if the peer is gone.
pub fn poll_next(link: &mut Link) -> anyhow::Result<Option<Incoming>> {
    match link.dc.recv().now_or_never() {
        None => match gone_reason(link) {
            Some(why) => bail!("{why}"),
            None => Ok(None),
        },
        Some(Some(m)) => parse(m).map(Some),
        Some(None) => bail!("the peer closed the connection"),
    }
}
