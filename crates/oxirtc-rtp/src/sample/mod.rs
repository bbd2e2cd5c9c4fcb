//! Frame assembly: [`SampleBuilder`] reorders the payloads of one RTP stream by sequence number and
//! hands out whole frames, in order, through one reused buffer.
//!
//! A frame is the run of packets from one whose payload begins a frame (its depacketizer says so,
//! or the packet before it ended a frame: RTP marker, an end flag, or another timestamp) to one
//! that ends it (marker, end flag, or the next packet carries another timestamp), with no sequence
//! number missing. A frame that stays incomplete past a bound (a packet that many sequence numbers
//! newer has arrived, or one that much newer in RTP time) is dropped and counted, and for video
//! [`SampleBuilder::needs_keyframe`] turns true until a keyframe comes out, so the caller can send
//! a PLI (RFC 4585 §6.3.1). Memory is bounded by [`SampleBuilderConfig`]; everything dropped is
//! counted in [`SampleStats`].
//!
//! At the start of a stream, the first packet received begins a frame when its payload may begin
//! one (and packets reordered ahead of it are still taken until a frame is out). For codecs whose
//! payloads cannot say that a frame begins (H.264, H.265, AV1: [`FrameStart::MayBegin`]), a frame
//! whose first packet is lost or overtaken at the very start of the stream comes out without it;
//! after that, frame starts follow from the packet before.
//!
//! Drive it as every oxirtc machine (CONTRIBUTING.md convention 2): after each
//! [`SampleBuilder::handle_packet`], drain [`SampleBuilder::poll_frame`].
//!
//! ```
//! use oxirtc_rtp::codec::vp8::{Vp8Depacketizer, Vp8Packetizer};
//! use oxirtc_rtp::codec::{Packetizer, Payloads};
//! use oxirtc_rtp::sample::{SampleBuilder, SampleBuilderConfig};
//!
//! // Sender: one VP8 keyframe (the first bit of its frame tag is 0) into three payloads.
//! let frame = vec![0x10; 3000];
//! let mut payloads = Payloads::new();
//! Vp8Packetizer::new(Some(1234)).packetize(&frame, 1200, &mut payloads)?;
//! assert_eq!(payloads.len(), 3);
//!
//! // Receiver: the packets arrive out of order; the frame comes out whole.
//! let mut builder = SampleBuilder::new(Vp8Depacketizer, SampleBuilderConfig::default());
//! for i in [1, 0, 2] {
//!     let payload = payloads.get(i).expect("three payloads");
//!     builder.handle_packet(500 + i as u16, 90_000, payloads.marker(i), payload)?;
//! }
//! let f = builder.poll_frame().expect("all three packets are in");
//! assert_eq!((f.data, f.keyframe, f.timestamp), (&frame[..], true, 90_000));
//! assert!(!builder.needs_keyframe());
//! # Ok::<(), oxirtc_rtp::RtpError>(())
//! ```

mod ring;

use crate::codec::{Depacketizer, FrameStart, PayloadInfo};
use crate::RtpError;
use ring::{Meta, Ring};

/// Bounds of a [`SampleBuilder`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleBuilderConfig {
    /// Packets held at most (and the widest span of sequence numbers held). Default 512.
    pub max_packets: usize,
    /// An incomplete frame is dropped once a packet this many sequence numbers newer than its first
    /// missing one has arrived. Default 100.
    pub max_late_packets: u16,
    /// An incomplete frame is dropped once a packet this much newer in RTP timestamp units has
    /// arrived; 0 turns this bound off. Default 0 (use e.g. 45 000 for half a second of 90 kHz video).
    pub max_delay: u32,
    /// Largest frame, in bytes, that is assembled; larger ones are dropped. Default 4 MiB.
    pub max_frame_bytes: usize,
    /// Depacketized bytes held at most, over all held packets (overshot by one packet at most,
    /// until the caller drains the frames that dropping an incomplete one let out). Default 8 MiB.
    pub max_held_bytes: usize,
}

impl Default for SampleBuilderConfig {
    fn default() -> Self {
        Self {
            max_packets: 512,
            max_late_packets: 100,
            max_delay: 0,
            max_frame_bytes: 4 << 20,
            max_held_bytes: 8 << 20,
        }
    }
}

/// Counters of a [`SampleBuilder`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SampleStats {
    /// Frames handed out.
    pub frames: u64,
    /// Frames dropped because a packet was missing past the bounds, or the buffer overflowed.
    pub frames_incomplete: u64,
    /// Frames dropped for being above [`SampleBuilderConfig::max_frame_bytes`].
    pub frames_too_large: u64,
    /// Frames whose payloads the depacketizer could not assemble ([`Depacketizer::finish_frame`]).
    pub frames_malformed: u64,
    /// Packets whose payload the depacketizer refused.
    pub packets_malformed: u64,
    /// Packets that came after their place had been passed (their frame emitted or dropped).
    pub packets_late: u64,
    /// Packets received twice.
    pub packets_duplicate: u64,
    /// Packets held and then thrown away with a dropped frame, or refused for lack of room.
    pub packets_dropped: u64,
}

/// A frame handed out by [`SampleBuilder::poll_frame`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame<'a> {
    /// The RTP timestamp of its packets.
    pub timestamp: u32,
    /// A payload showed it is a keyframe.
    pub keyframe: bool,
    /// What the first payload held (codec information such as the VP8 picture id); for H.264 and
    /// H.265 the NAL unit types of all the frame's payloads.
    pub info: PayloadInfo,
    /// Sequence number of the first packet.
    pub first_sequence: u16,
    /// Sequence number of the last packet.
    pub last_sequence: u16,
    /// The assembled frame, in the depacketizer's frame format.
    pub data: &'a [u8],
}

/// Reorders one stream's packets and assembles frames. See the module documentation.
#[derive(Debug)]
pub struct SampleBuilder<D> {
    depacketizer: D,
    config: SampleBuilderConfig,
    ring: Ring,
    /// Extended sequence number of the first packet not yet emitted or dropped.
    next: u64,
    /// Highest extended sequence number received; `None` before the first packet.
    highest: Option<u64>,
    /// What is known of packet `next - 1`.
    prev: Prev,
    /// Whether a frame has been emitted or dropped (before that, earlier packets may still arrive).
    started: bool,
    needs_keyframe: bool,
    frame: Vec<u8>,
    /// The next packet's depacketized bytes; swapped with a ring slot's buffer on insertion.
    scratch: Vec<u8>,
    stats: SampleStats,
}

/// What is known of the packet just before `next`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prev {
    /// Nothing yet: the first packet may begin a frame.
    StreamStart,
    /// It was lost or skipped: only a payload that says so begins a frame.
    Unknown,
    /// It was received.
    Known { timestamp: u32, ends_frame: bool },
}

impl<D: Depacketizer> SampleBuilder<D> {
    /// A builder over `depacketizer`.
    ///
    /// # Panics
    /// If `config.max_packets` is 0 or above 32 768 (half the sequence number space), a local misuse.
    pub fn new(depacketizer: D, config: SampleBuilderConfig) -> Self {
        assert!(
            (1..=32_768).contains(&config.max_packets),
            "SampleBuilderConfig::max_packets must be 1..=32768"
        );
        let needs_keyframe = depacketizer.needs_keyframe_after_loss();
        Self {
            depacketizer,
            ring: Ring::new(config.max_packets),
            config,
            next: 0,
            highest: None,
            prev: Prev::StreamStart,
            started: false,
            needs_keyframe,
            frame: Vec::new(),
            scratch: Vec::new(),
            stats: SampleStats::default(),
        }
    }

    /// Takes one RTP packet's sequence number, timestamp, marker bit and payload. A payload the
    /// depacketizer refuses, or one above the frame size bound, is an error (counted); late and
    /// duplicate packets are counted and ignored.
    pub fn handle_packet(
        &mut self,
        sequence: u16,
        timestamp: u32,
        marker: bool,
        payload: &[u8],
    ) -> Result<(), RtpError> {
        if payload.len() > self.config.max_frame_bytes {
            self.stats.packets_dropped += 1;
            return Err(RtpError::FrameTooLarge {
                size: payload.len(),
                max: self.config.max_frame_bytes,
            });
        }
        let ext = self.extend(sequence);
        // Before any frame is out, a packet reordered ahead of the first one received still counts.
        let rewind = !self.started
            && ext < self.next
            && self
                .highest
                .is_some_and(|h| h - ext < self.ring.capacity() as u64);
        if ext < self.next && !rewind {
            self.stats.packets_late += 1;
            tracing::trace!(sequence, "late RTP packet dropped");
            return Ok(());
        }
        if self.ring.get(ext).is_some() {
            self.stats.packets_duplicate += 1;
            return Ok(());
        }
        self.scratch.clear();
        let info = match self.depacketizer.depacketize(payload, &mut self.scratch) {
            Ok(info) => info,
            Err(e) => {
                self.stats.packets_malformed += 1;
                tracing::debug!(sequence, error = %e, "malformed RTP payload dropped");
                return Err(e);
            }
        };
        if self.highest.is_none() || rewind {
            self.next = ext;
        }
        if !self.make_room(ext, self.scratch.len()) || ext < self.next {
            // No room, or making room moved past this packet's place.
            self.stats.packets_dropped += 1;
            tracing::debug!(sequence, "RTP packet dropped: the sample builder is full");
            return Ok(());
        }
        self.ring.insert(
            ext,
            Meta {
                timestamp,
                marker,
                info,
            },
            &mut self.scratch,
        );
        if self.highest.is_none_or(|h| ext > h) {
            self.highest = Some(ext);
        }
        Ok(())
    }

    /// The next complete frame, if there is one. The frame borrows the builder's buffer, which the
    /// next call reuses.
    #[must_use]
    pub fn poll_frame(&mut self) -> Option<Frame<'_>> {
        let highest = self.highest?;
        loop {
            if self.next > highest {
                return None;
            }
            if !self.begins_frame(self.next) {
                if self.ring.get(self.next).is_some() {
                    // It can never begin a frame: the rest of a broken one. At the stream's start
                    // the packets before it may still come, up to the bound.
                    if self.prev != Prev::StreamStart || self.is_stale(self.next, highest) {
                        self.give_up();
                        continue;
                    }
                    return None;
                }
                if self.is_stale(self.next, highest) {
                    self.give_up();
                    continue;
                }
                return None;
            }
            match self.frame_end(highest) {
                Some(last) => {
                    if self.assemble(last) {
                        return Some(self.emitted(last));
                    }
                }
                None if self.is_stale(self.first_missing(highest), highest) => self.give_up(),
                None => return None,
            }
        }
    }

    /// Whether frames were lost since the last keyframe (or none has come yet), for a codec whose
    /// frames depend on earlier ones: the caller should ask the sender for a keyframe (PLI).
    pub fn needs_keyframe(&self) -> bool {
        self.needs_keyframe
    }

    /// The counters.
    pub fn stats(&self) -> SampleStats {
        self.stats
    }

    /// The depacketizer.
    pub fn depacketizer(&self) -> &D {
        &self.depacketizer
    }
}

impl<D: Depacketizer> SampleBuilder<D> {
    /// The extended sequence number nearest the highest one received (RFC 3550 §A.1); the first
    /// packet starts at 2^32 so that earlier ones stay positive.
    fn extend(&self, sequence: u16) -> u64 {
        match self.highest {
            None => (1u64 << 32) + u64::from(sequence),
            Some(highest) => {
                let delta = i64::from(sequence.wrapping_sub(highest as u16) as i16);
                highest.saturating_add_signed(delta)
            }
        }
    }

    /// Drops incomplete frames from the front until `ext` fits in the ring and `bytes` more fit
    /// the byte bound. A complete frame at the front, not yet polled, stops it: if nothing was
    /// dropped in this call (the caller did not drain [`Self::poll_frame`]) or the ring slot is
    /// taken, it returns false and the new packet is the one dropped; otherwise the packet is
    /// taken, the byte bound overshot by that one packet until the caller drains.
    fn make_room(&mut self, ext: u64, bytes: usize) -> bool {
        let cap = self.ring.capacity() as u64;
        let mut dropped = false;
        loop {
            let ring_full = ext >= self.next + cap;
            if !ring_full && self.ring.held_bytes() + bytes <= self.config.max_held_bytes {
                break;
            }
            let Some(highest) = self.highest.filter(|&h| self.next <= h) else {
                break;
            };
            if self.begins_frame(self.next) && self.frame_end(highest).is_some() {
                if ring_full || !dropped {
                    return false;
                }
                break;
            }
            self.give_up();
            dropped = true;
        }
        if ext >= self.next + cap {
            // A jump ahead of everything held: what lies between is lost.
            self.next = ext;
            self.prev = Prev::Unknown;
            self.started = true;
        }
        true
    }

    /// Whether packet `ext` is held and begins a frame.
    fn begins_frame(&self, ext: u64) -> bool {
        let Some(slot) = self.ring.get(ext) else {
            return false;
        };
        match slot.info.start {
            FrameStart::Continues => false,
            FrameStart::Begins => true,
            FrameStart::MayBegin => match self.prev {
                Prev::StreamStart => true,
                Prev::Unknown => false,
                Prev::Known {
                    timestamp,
                    ends_frame,
                } => ends_frame || timestamp != slot.timestamp,
            },
        }
    }

    /// The last packet of the frame that begins at `next`, if all of it is here.
    fn frame_end(&self, highest: u64) -> Option<u64> {
        let first = self.ring.get(self.next)?.timestamp;
        let mut ext = self.next;
        loop {
            let slot = self.ring.get(ext)?;
            if slot.timestamp != first {
                return Some(ext - 1);
            }
            if slot.marker || slot.info.end {
                return Some(ext);
            }
            if ext == highest {
                return None;
            }
            ext += 1;
        }
    }

    /// The first sequence number from `next` on that is not held (`highest` when all are).
    fn first_missing(&self, highest: u64) -> u64 {
        (self.next..=highest)
            .find(|&e| self.ring.get(e).is_none())
            .unwrap_or(highest)
    }

    /// Whether the frame at `next`, waiting for packet `waiting_for`, has waited past the bounds.
    fn is_stale(&self, waiting_for: u64, highest: u64) -> bool {
        if highest - waiting_for >= u64::from(self.config.max_late_packets) {
            return true;
        }
        if self.config.max_delay == 0 {
            return false;
        }
        let Some(newest) = self.ring.get(highest).map(|s| s.timestamp) else {
            return false;
        };
        let oldest = (self.next..=highest)
            .find_map(|e| self.ring.get(e))
            .map_or(newest, |s| s.timestamp);
        newest.wrapping_sub(oldest) as i32 > self.config.max_delay as i32
    }

    /// Drops the incomplete frame at `next` and everything after it up to a packet that begins a
    /// frame.
    fn give_up(&mut self) {
        self.stats.frames_incomplete += 1;
        tracing::debug!(next = self.next as u16, "incomplete frame dropped");
        self.lost_frame();
        self.drop_one();
        self.skip_broken();
    }

    /// Drops packets from `next` on until one that begins a frame (or none is left).
    fn skip_broken(&mut self) {
        while self.highest.is_some_and(|h| self.next <= h) && !self.begins_frame(self.next) {
            self.drop_one();
        }
    }

    /// Drops packet `next` (held or missing) and remembers what is known of it.
    fn drop_one(&mut self) {
        self.started = true;
        self.prev = match self.ring.remove(self.next) {
            Some(m) => {
                self.stats.packets_dropped += 1;
                self.lost_frame();
                Prev::Known {
                    timestamp: m.timestamp,
                    ends_frame: m.marker || m.info.end,
                }
            }
            None => Prev::Unknown,
        };
        self.next += 1;
    }

    fn lost_frame(&mut self) {
        if self.depacketizer.needs_keyframe_after_loss() {
            self.needs_keyframe = true;
        }
    }

    /// Copies packets `next..=last` into the frame buffer and consumes them; false (and the frame
    /// dropped and counted) when it is too large or the depacketizer cannot finish it.
    fn assemble(&mut self, last: u64) -> bool {
        let size: usize = (self.next..=last)
            .filter_map(|e| self.ring.get(e))
            .map(|s| s.data.len())
            .sum();
        let ok = if size > self.config.max_frame_bytes {
            self.stats.frames_too_large += 1;
            false
        } else {
            self.frame.clear();
            for e in self.next..=last {
                if let Some(slot) = self.ring.get(e) {
                    self.frame.extend_from_slice(&slot.data);
                }
            }
            let finished = self.depacketizer.finish_frame(&mut self.frame).is_ok();
            if !finished {
                self.stats.frames_malformed += 1;
            }
            finished && self.frame.len() <= self.config.max_frame_bytes
        };
        if !ok {
            self.lost_frame();
            while self.next <= last {
                self.drop_one();
            }
        }
        ok
    }

    /// Consumes the assembled packets `next..=last` and describes the frame.
    fn emitted(&mut self, last: u64) -> Frame<'_> {
        let first_ext = self.next;
        let mut keyframe = false;
        let mut first = None;
        while self.next <= last {
            if let Some(m) = self.ring.remove(self.next) {
                keyframe |= m.info.keyframe;
                match &mut first {
                    None => first = Some((m.timestamp, m.info)),
                    Some((_, info)) => info.codec.merge(&m.info.codec),
                }
                self.prev = Prev::Known {
                    timestamp: m.timestamp,
                    ends_frame: true,
                };
            }
            self.next += 1;
        }
        self.started = true;
        if keyframe {
            self.needs_keyframe = false;
        }
        self.stats.frames += 1;
        // frame_end found a held packet at `first_ext`.
        let (timestamp, info) = first.unwrap_or_default();
        Frame {
            timestamp,
            keyframe,
            info,
            first_sequence: first_ext as u16,
            last_sequence: last as u16,
            data: &self.frame,
        }
    }
}
