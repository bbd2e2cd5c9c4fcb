//! Send-side congestion control for WebRTC media, sans-IO: a bandwidth estimator in the style of
//! Google Congestion Control (draft-ietf-rmcat-gcc-02 and today's libwebrtc `goog_cc`) driven by
//! transport-wide feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01), and a pacer.
//!
//! - [`BandwidthEstimator`]: takes what was sent ([`SentPacket`]), the feedback, RTTs, REMB and
//!   receiver-report loss; gives [`Estimate`]s (target, available, pacing and padding rates) and
//!   probe clusters ([`ProbeCluster`]).
//! - [`Pacer`]: queues packets by [`PacketClass`] and releases them at the pacing rate
//!   ([`Release`]), sends probe clusters, asks for padding.
//!
//! Nothing here reads a clock, opens a socket or spawns: time is the caller's `now`. Every
//! history is bounded, and no input (feedback comes from the network) can make it panic.
//!
//! The connection drives both like this:
//!
//! ```
//! use std::time::{Duration, Instant};
//! use oxirtc_cc::*;
//!
//! # #[allow(clippy::disallowed_methods)] // the doctest is the driver: it owns the clock
//! let mut now = Instant::now();
//! let mut bwe = BandwidthEstimator::new(CcConfig::default())?;
//! let mut pacer = Pacer::new(PacerConfig::default())?;
//! bwe.on_network_change(now); // ICE selected a pair: start (initial probes at 900k and 1.8M)
//!
//! let mut next_seq: u16 = 0;
//! let mut sent = Vec::new(); // what the receiver will report: (transport seq, arrival µs)
//! for frame in 0..30u32 {
//!     // The encoder produced a frame: packetize, keep the packets, queue them in the pacer.
//!     for _ in 0..3 {
//!         let _id: PacketId = pacer.enqueue(now, PacketClass::Video, 1000);
//!     }
//!     while let Some(_dropped) = pacer.poll_dropped() { /* free that stored packet */ }
//!     // On every wake-up: timers, then whatever the pacer releases.
//!     bwe.handle_timeout(now);
//!     while let Some(release) = pacer.poll_send(now) {
//!         let (size, probe) = match release {
//!             Release::Packet { id: _, class: _, probe } => (1000, probe), // write packet `id`
//!             Release::Padding { size_bytes, probe } => (size_bytes, probe), // RTX padding
//!         };
//!         // Stamp the transport-wide sequence number as the packet leaves, protect, send...
//!         let seq = next_seq;
//!         next_seq = next_seq.wrapping_add(1);
//!         let packet = SentPacket { transport_seq: Some(seq), size_bytes: size, probe_cluster: probe, ..Default::default() };
//!         bwe.on_packet_sent(now, packet);
//!         sent.push((seq, Some(i64::from(frame) * 33_000 + 20_000)));
//!     }
//!     // RTCP: transport-cc feedback (`fb.packets().map(|p| (p.seq, p.arrival_us))`), RTT, REMB.
//!     if frame % 2 == 1 {
//!         bwe.on_transport_feedback(now, sent.drain(..));
//!         bwe.on_rtt(now, Duration::from_millis(40));
//!     }
//!     // Estimates: to the pacer (rates, probes) and to the encoders (target).
//!     while let Some(estimate) = bwe.poll_event() {
//!         pacer.set_estimate(now, &estimate);
//!         let _encoder_target = estimate.target_bps;
//!     }
//!     // Sleep until the earliest of the two timeouts (and the connection's own).
//!     let wake = [bwe.poll_timeout(), pacer.poll_timeout()].into_iter().flatten().min();
//!     now = wake.unwrap_or(now).max(now + Duration::from_millis(33));
//! }
//! assert!(bwe.stats().feedback_messages > 0 && bwe.target_bitrate() >= 30_000);
//! # Ok::<(), CcError>(())
//! ```

#![forbid(unsafe_code)]

mod acked_bitrate;
mod aimd;
mod alr;
mod config;
mod delay_based;
mod error;
mod estimator;
mod feedback;
mod history;
mod inter_arrival;
mod loss_based;
mod pacer;
mod probe_controller;
mod probe_estimator;
mod seq;
mod time;
mod trendline;
mod types;

pub use config::CcConfig;
pub use error::CcError;
pub use estimator::{BandwidthEstimator, CcStats};
pub use pacer::{ClassCounters, Pacer, PacerConfig, PacerStats, PacketClass, PacketId, Release};
pub use seq::SeqUnwrapper;
pub use trendline::BandwidthUsage;
pub use types::{Estimate, ProbeCluster, ProbeClusterId, SentPacket};
