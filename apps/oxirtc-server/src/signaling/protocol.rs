//! The signaling wire protocol, version 1 (docs/signaling.md): JSON text frames over one WebSocket.
//! Every client frame carries `"v": 1`; the server answers a frame of another version with
//! `unsupported-version`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The protocol version this server speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// A member of a room as the other members see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerInfo {
    /// Server-assigned id, unique within the room.
    pub id: String,
    /// Display name (a friendly name chosen by the server if the client gave none).
    pub name: String,
    /// `browser` or `cli` (free text, at most 16 characters).
    #[serde(default)]
    pub kind: String,
}

/// An ICE server entry in the W3C `RTCIceServer` shape.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceServer {
    /// `stun:` / `turn:` URLs.
    pub urls: Vec<String>,
    /// TURN REST username (`<expiry unix time>:<peer id>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// TURN REST password: base64(HMAC-SHA1(secret, username)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// A frame from a client.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ClientMsg {
    /// Make a new room with a fresh code and join it.
    Create {
        /// Protocol version (1).
        v: u32,
        /// Display name; the server picks one if absent.
        #[serde(default)]
        name: Option<String>,
        /// `browser` or `cli`.
        #[serde(default)]
        kind: Option<String>,
    },
    /// Join an existing room (or, with `create: true`, make it if it does not exist).
    Join {
        /// Protocol version (1).
        v: u32,
        /// The room code, e.g. `7-orbit-lantern`.
        room: String,
        /// Display name; the server picks one if absent.
        #[serde(default)]
        name: Option<String>,
        /// `browser` or `cli`.
        #[serde(default)]
        kind: Option<String>,
        /// Create the room if it does not exist (room links opened in a browser).
        #[serde(default)]
        create: bool,
    },
    /// Relay `data` (an offer, answer, candidate or app message) to one member of the room.
    Signal {
        /// Protocol version (1).
        v: u32,
        /// The member's id.
        to: String,
        /// Opaque JSON handed to the member unchanged.
        data: Value,
    },
    /// Leave the room (closing the socket does the same).
    Leave {
        /// Protocol version (1).
        v: u32,
    },
    /// Keep-alive; the server answers `pong`.
    Ping {
        /// Protocol version (1).
        v: u32,
    },
}

impl ClientMsg {
    /// The version the client claims.
    pub fn version(&self) -> u32 {
        match self {
            ClientMsg::Create { v, .. }
            | ClientMsg::Join { v, .. }
            | ClientMsg::Signal { v, .. }
            | ClientMsg::Leave { v }
            | ClientMsg::Ping { v } => *v,
        }
    }
}

/// Why a request failed; the `code` field of an `error` frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorCode {
    /// The frame is not JSON or not a known message.
    BadMessage,
    /// The frame's `v` is not 1.
    UnsupportedVersion,
    /// The frame is larger than the limit; the connection is closed.
    TooLarge,
    /// No room has this code (never created, or every member left).
    UnknownRoom,
    /// The room already has the maximum number of members.
    RoomFull,
    /// `create`/`join` while already in a room.
    AlreadyInRoom,
    /// `signal`/`leave` before joining a room.
    NotInRoom,
    /// `signal` to an id that is not in the room (it may just have left).
    UnknownPeer,
    /// The client sends too fast.
    RateLimited,
    /// The server could not make a room (e.g. too many rooms).
    ServerBusy,
}

/// A frame from the server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ServerMsg {
    /// First frame on every connection.
    Hello {
        /// Protocol version (1).
        v: u32,
        /// The server's version string.
        server: String,
    },
    /// You are in `room` as `you`; `peers` are the other members already there.
    Joined {
        /// Room code.
        room: String,
        /// Your own entry.
        you: PeerInfo,
        /// The other members.
        peers: Vec<PeerInfo>,
        /// STUN/TURN servers to use (TURN credentials are short-lived).
        #[serde(rename = "iceServers")]
        ice_servers: Vec<IceServer>,
    },
    /// Someone joined your room.
    PeerJoined {
        /// The new member.
        peer: PeerInfo,
    },
    /// Someone left your room (or their connection dropped).
    PeerLeft {
        /// Their id.
        id: String,
    },
    /// A relayed `signal` from `from`.
    Signal {
        /// Sender's id.
        from: String,
        /// The sender's `data`, unchanged.
        data: Value,
    },
    /// Answer to `ping`.
    Pong,
    /// A request failed; the connection stays open unless the code says otherwise.
    Error {
        /// Machine-readable cause.
        code: ErrorCode,
        /// Human-readable explanation.
        message: String,
    },
}

impl ServerMsg {
    /// An `error` frame.
    pub fn error(code: ErrorCode, message: impl Into<String>) -> Self {
        ServerMsg::Error {
            code,
            message: message.into(),
        }
    }

    /// The JSON text of this frame.
    pub fn to_json(&self) -> String {
        // Serializing these plain data types cannot fail (no maps with non-string keys).
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{\"type\":\"pong\"}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_render() {
        let m: ClientMsg = serde_json::from_str(r#"{"v":1,"type":"join","room":"7-orbit-lantern"}"#).unwrap();
        assert_eq!(
            m,
            ClientMsg::Join {
                v: 1,
                room: "7-orbit-lantern".into(),
                name: None,
                kind: None,
                create: false
            }
        );
        assert!(serde_json::from_str::<ClientMsg>(r#"{"type":"join"}"#).is_err());
        let e = ServerMsg::error(ErrorCode::UnknownRoom, "no room 1-a-b").to_json();
        assert_eq!(
            e,
            r#"{"type":"error","code":"unknown-room","message":"no room 1-a-b"}"#
        );
        let s = ServerMsg::PeerLeft { id: "p2".into() }.to_json();
        assert_eq!(s, r#"{"type":"peer-left","id":"p2"}"#);
    }
}
