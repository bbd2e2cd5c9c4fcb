//! A client of the WebSocket signaling protocol (docs/signaling.md), used by `oxirtc send`/`recv`.

use std::time::Duration;

use anyhow::{bail, Context as _};
use futures_util::{SinkExt, StreamExt};
use oxirtc_server::signaling::{ClientMsg, ErrorCode, IceServer, PeerInfo, ServerMsg, PROTOCOL_VERSION};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// The default `--server`: a local `oxirtc serve`.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";

/// A joined room.
#[derive(Clone, Debug)]
pub struct Joined {
    /// The room code.
    pub room: String,
    /// Our own entry.
    pub me: PeerInfo,
    /// Members already there.
    pub peers: Vec<PeerInfo>,
    /// STUN/TURN servers the server handed out.
    pub ice_servers: Vec<IceServer>,
}

/// One signaling connection.
#[derive(Debug)]
pub struct SignalClient {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// The server's base HTTP URL (for browser links).
    pub http_base: String,
    /// Frames read by someone who did not want them (a `peer-joined` that came while a connection was
    /// up): [`SignalClient::next`] returns these first.
    unread: std::collections::VecDeque<ServerMsg>,
}

/// `http://h:p` → (`http://h:p`, `ws://h:p/ws`); `ws://h:p/ws` → (`http://h:p`, itself).
pub fn server_urls(server: &str) -> anyhow::Result<(String, String)> {
    let s = server.trim().trim_end_matches('/');
    let (scheme, rest) = s.split_once("://").map_or(("http", s), |(a, b)| (a, b));
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() {
        bail!("`{server}` is not a server URL; write e.g. http://127.0.0.1:8080");
    }
    let (http, ws) = match scheme {
        "http" | "ws" => ("http", "ws"),
        "https" | "wss" => ("https", "wss"),
        other => bail!("unsupported scheme `{other}` in `{server}`; use http:// or ws://"),
    };
    Ok((format!("{http}://{host}"), format!("{ws}://{host}/ws")))
}

impl SignalClient {
    /// Connects and reads the server's `hello`.
    pub async fn connect(server: &str) -> anyhow::Result<Self> {
        let (http_base, ws_url) = server_urls(server)?;
        let connect = tokio_tungstenite::connect_async(ws_url.as_str());
        let (ws, _) = tokio::time::timeout(Duration::from_secs(10), connect)
            .await
            .map_err(|_| anyhow::anyhow!("signaling server {ws_url} did not answer within 10 s"))?
            .with_context(|| {
                format!("cannot reach the signaling server at {ws_url} (is `oxirtc serve` running?)")
            })?;
        let mut client = SignalClient {
            ws,
            http_base,
            unread: Default::default(),
        };
        match client.next().await? {
            ServerMsg::Hello { v, .. } if v == PROTOCOL_VERSION => Ok(client),
            other => {
                bail!("{ws_url} is not an oxirtc signaling server v{PROTOCOL_VERSION} (it said {other:?})")
            }
        }
    }

    /// Makes a room and joins it.
    pub async fn create(&mut self, name: Option<String>) -> anyhow::Result<Joined> {
        self.send(&ClientMsg::Create {
            v: PROTOCOL_VERSION,
            name,
            kind: Some("cli".into()),
        })
        .await?;
        self.joined().await
    }

    /// Joins room `code`; an unknown code is a clear error unless `create` (then the room is made).
    pub async fn join(&mut self, code: &str, name: Option<String>, create: bool) -> anyhow::Result<Joined> {
        self.send(&ClientMsg::Join {
            v: PROTOCOL_VERSION,
            room: code.into(),
            name,
            kind: Some("cli".into()),
            create,
        })
        .await?;
        self.joined().await
    }

    /// Leaves the room (the others hear `peer-left`); frames still queued for us are dropped.
    pub async fn leave(&mut self) -> anyhow::Result<()> {
        self.unread.clear();
        self.send(&ClientMsg::Leave { v: PROTOCOL_VERSION }).await
    }

    /// Puts frames back to be returned by the next calls of [`SignalClient::next`], in order.
    pub fn unread(&mut self, frames: impl IntoIterator<Item = ServerMsg>) {
        self.unread.extend(frames);
    }

    async fn joined(&mut self) -> anyhow::Result<Joined> {
        let reply = loop {
            // Frames about the room we were in before (a late `peer-left`) are not the answer.
            match self.next().await? {
                ServerMsg::PeerJoined { .. } | ServerMsg::PeerLeft { .. } | ServerMsg::Signal { .. } => {}
                other => break other,
            }
        };
        match reply {
            ServerMsg::Joined {
                room,
                you,
                peers,
                ice_servers,
            } => Ok(Joined {
                room,
                me: you,
                peers,
                ice_servers,
            }),
            ServerMsg::Error {
                code: ErrorCode::UnknownRoom,
                ..
            } => bail!("unknown or expired code: no sender is waiting with it (check the code, or ask the sender to run `oxirtc send` again)"),
            ServerMsg::Error { message, .. } => bail!("signaling server refused: {message}"),
            other => bail!("unexpected signaling message {other:?}"),
        }
    }

    /// Relays `data` to member `to`.
    pub async fn signal(&mut self, to: &str, data: Value) -> anyhow::Result<()> {
        self.send(&ClientMsg::Signal {
            v: PROTOCOL_VERSION,
            to: to.into(),
            data,
        })
        .await
    }

    async fn send(&mut self, msg: &ClientMsg) -> anyhow::Result<()> {
        let text = serde_json::to_string(msg)?;
        self.ws
            .send(Message::text(text))
            .await
            .context("lost the signaling server")
    }

    /// The next server frame (pings answered, other frames skipped).
    pub async fn next(&mut self) -> anyhow::Result<ServerMsg> {
        if let Some(m) = self.unread.pop_front() {
            return Ok(m);
        }
        loop {
            let frame = self
                .ws
                .next()
                .await
                .ok_or_else(|| anyhow::anyhow!("the signaling server closed the connection"))?
                .context("lost the signaling server")?;
            if let Message::Text(t) = frame {
                match serde_json::from_str(t.as_str()) {
                    Ok(m) => return Ok(m),
                    Err(e) => tracing::warn!(error = %e, "signaling: unreadable frame skipped"),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_accept_http_and_ws() {
        let (h, w) = server_urls("http://127.0.0.1:8080/").unwrap();
        assert_eq!(
            (h.as_str(), w.as_str()),
            ("http://127.0.0.1:8080", "ws://127.0.0.1:8080/ws")
        );
        let (h, w) = server_urls("ws://example.org/ws").unwrap();
        assert_eq!(
            (h.as_str(), w.as_str()),
            ("http://example.org", "ws://example.org/ws")
        );
        assert_eq!(server_urls("localhost:9").unwrap().1, "ws://localhost:9/ws");
        assert!(server_urls("ftp://x").is_err());
    }
}
