//! oxirtc servers: the TURN daemon runtime behind `oxirtc turn` ([`turn`]), which drives
//! `oxirtc-turn`'s sans-IO server core with tokio sockets on every core, the WebSocket
//! signaling service of `oxirtc serve` ([`signaling`]), and its SFU with WHIP/WHEP ([`sfu`]).
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use oxirtc_server::turn::{start, TurnOptions};
//! let options = TurnOptions {
//!     listen: vec!["127.0.0.1:3478".parse()?],
//!     user: vec!["alice:secret".into()],
//!     ..TurnOptions::default()
//! };
//! let daemon = start(&options).await?;
//! println!("serving TURN on {:?}", daemon.udp);
//! daemon.drain(std::time::Duration::from_secs(30)).await;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod serve;
pub mod sfu;
pub mod signaling;
pub mod turn;

/// Lower-case hex of `bytes`.
pub(crate) fn transfer_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
