//! Frames from a remote track's RTP packets: one sample builder (oxirtc-rtp's `SampleBuilder`:
//! reordering, loss bounds, keyframe detection) per RTP stream, with the depacketizer of the
//! negotiated codec its payload type names.

use std::collections::VecDeque;

use oxirtc::media::{depacketizer_for, Codec, CodecParameters, ReceivedRtp};
use oxirtc_rtp::codec::Depacketizer;
use oxirtc_rtp::sample::{SampleBuilder, SampleBuilderConfig};

/// RTP streams assembled at once on one track: a simulcast sender has three, with a few SSRC
/// changes over a call; the least recently used is dropped beyond this.
const MAX_STREAMS: usize = 8;

/// Assembled frames waiting for the reader; older ones are dropped beyond this (a reader that does
/// not keep up loses frames, as it loses packets).
const MAX_READY_FRAMES: usize = 64;

/// An assembled frame of a remote track ([`crate::RemoteTrack::recv_frame`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedFrame {
    /// The codec, as negotiated (name, clock rate, fmtp).
    pub codec: Codec,
    /// The payload type it came with.
    pub payload_type: u8,
    /// The RTP stream (one per simulcast layer).
    pub ssrc: u32,
    /// The simulcast stream's rid, when the sender uses them.
    pub rid: Option<String>,
    /// The RTP timestamp of its packets (the codec's clock).
    pub rtp_timestamp: u32,
    /// A keyframe (decodable without earlier frames); always true for audio.
    pub keyframe: bool,
    /// The frame in the codec's frame format (Annex B for H.264/H.265, OBUs with sizes for AV1).
    pub data: Vec<u8>,
}

struct Stream {
    ssrc: u32,
    payload_type: u8,
    codec: Codec,
    rid: Option<String>,
    builder: SampleBuilder<Box<dyn Depacketizer + Send + Sync>>,
    packets: u64,
    /// Video only: frames are held back until a keyframe, at the start and after a lost frame
    /// (a decoder cannot use a frame whose reference it never got).
    waiting_for_keyframe: bool,
    /// `frames_incomplete` of the builder when last looked at: a rise is a lost frame.
    incomplete_seen: u64,
}

/// A stream that has sent this many packets without a keyframe coming out joined mid-stream (or
/// its keyframe was lost): time to ask for one. Fewer may just be the first keyframe's packets.
const PACKETS_BEFORE_ASKING: u64 = 30;

/// The frame assembly of one track.
pub(crate) struct FrameAssembler {
    codecs: Vec<CodecParameters>,
    streams: VecDeque<Stream>,
    ready: VecDeque<ReceivedFrame>,
    /// Packets no codec of the section can depacketize (RTX, FEC, unknown payload types).
    pub(crate) skipped: u64,
    /// Frames dropped because the reader did not take them.
    pub(crate) dropped_frames: u64,
    /// Frames the sample builders could not assemble: incomplete (a packet lost), too large or
    /// malformed, summed over every stream the track has had.
    pub(crate) lost_frames: u64,
    /// Video frames dropped while waiting for a keyframe (their references are missing).
    pub(crate) undecodable: u64,
}

impl FrameAssembler {
    pub(crate) fn new(codecs: Vec<CodecParameters>) -> Self {
        FrameAssembler {
            codecs,
            streams: VecDeque::new(),
            ready: VecDeque::new(),
            skipped: 0,
            dropped_frames: 0,
            lost_frames: 0,
            undecodable: 0,
        }
    }

    /// Takes one packet; returns whether its stream needs a keyframe: it lost a frame later ones
    /// depend on, or no keyframe came in its first packets.
    pub(crate) fn push(&mut self, rtp: &ReceivedRtp) -> bool {
        let at = self
            .streams
            .iter()
            .position(|s| s.ssrc == rtp.ssrc && s.payload_type == rtp.payload_type);
        let mut stream = match at.and_then(|i| self.streams.remove(i)) {
            Some(s) => s,
            None => {
                let Some(codec) = self.codecs.iter().find(|c| c.payload_type == rtp.payload_type) else {
                    self.skipped += 1;
                    return false;
                };
                let Some(depacketizer) = depacketizer_for(&codec.codec) else {
                    self.skipped += 1;
                    return false;
                };
                // A payload-type change on an SSRC is a new codec: the old builder goes.
                self.streams.retain(|s| s.ssrc != rtp.ssrc);
                if self.streams.len() >= MAX_STREAMS {
                    self.streams.pop_back();
                }
                Stream {
                    ssrc: rtp.ssrc,
                    payload_type: rtp.payload_type,
                    codec: codec.codec.clone(),
                    rid: rtp.rid.clone(),
                    waiting_for_keyframe: depacketizer.needs_keyframe_after_loss(),
                    builder: SampleBuilder::new(depacketizer, SampleBuilderConfig::default()),
                    packets: 0,
                    incomplete_seen: 0,
                }
            }
        };
        stream.packets += 1;
        if rtp.rid.is_some() && stream.rid != rtp.rid {
            stream.rid.clone_from(&rtp.rid);
        }
        let lost_before = lost(&stream.builder.stats());
        // Malformed payloads are counted by the builder and dropped.
        let _ = stream
            .builder
            .handle_packet(rtp.sequence_number, rtp.timestamp, rtp.marker, &rtp.payload);
        let depends_on_references = stream.builder.depacketizer().needs_keyframe_after_loss();
        while let Some(f) = stream.builder.poll_frame() {
            let (timestamp, keyframe, data) = (f.timestamp, f.keyframe, f.data.to_vec());
            if depends_on_references {
                // A frame given up since the last look: what follows lacks a reference.
                let incomplete = stream.builder.stats().frames_incomplete;
                if incomplete > stream.incomplete_seen {
                    stream.incomplete_seen = incomplete;
                    stream.waiting_for_keyframe = true;
                }
                if keyframe {
                    stream.waiting_for_keyframe = false;
                } else if stream.waiting_for_keyframe {
                    self.undecodable += 1;
                    continue;
                }
            }
            if self.ready.len() >= MAX_READY_FRAMES {
                self.ready.pop_front();
                self.dropped_frames += 1;
            }
            self.ready.push_back(ReceivedFrame {
                codec: stream.codec.clone(),
                payload_type: stream.payload_type,
                ssrc: stream.ssrc,
                rid: stream.rid.clone(),
                rtp_timestamp: timestamp,
                keyframe,
                data,
            });
        }
        let stats = stream.builder.stats();
        self.lost_frames += lost(&stats).saturating_sub(lost_before);
        let lost_one = stats.frames_incomplete + stats.frames_malformed > 0;
        let needs_keyframe =
            stream.builder.needs_keyframe() && (lost_one || stream.packets >= PACKETS_BEFORE_ASKING);
        // Most recently used first.
        self.streams.push_front(stream);
        needs_keyframe
    }

    /// The oldest assembled frame.
    pub(crate) fn pop(&mut self) -> Option<ReceivedFrame> {
        self.ready.pop_front()
    }
}

/// Frames a sample builder could not hand out.
fn lost(stats: &oxirtc_rtp::sample::SampleStats) -> u64 {
    stats.frames_incomplete + stats.frames_too_large + stats.frames_malformed
}

#[cfg(test)]
mod tests {
    use super::*;
    use oxirtc::media::default_video_codecs;
    use oxirtc_rtp::codec::vp8::Vp8Packetizer;
    use oxirtc_rtp::codec::{Packetizer, Payloads};

    fn packet(seq: u16, ts: u32, marker: bool, payload: &[u8], ssrc: u32, pt: u8) -> ReceivedRtp {
        ReceivedRtp {
            mid: "1".into(),
            rid: None,
            ssrc,
            payload_type: pt,
            sequence_number: seq,
            timestamp: ts,
            marker,
            payload: payload.to_vec(),
        }
    }

    #[test]
    fn two_streams_reordered_come_out_as_whole_frames() {
        let mut a = FrameAssembler::new(default_video_codecs());
        let frame = vec![0x10; 2500]; // a VP8 keyframe
        let mut payloads = Payloads::new();
        Vp8Packetizer::new(Some(1))
            .packetize(&frame, 1000, &mut payloads)
            .unwrap();
        assert_eq!(payloads.len(), 3);
        // Stream 7 in order 2, 0, 1; stream 9 in order; an RTX packet (97) is skipped.
        for (ssrc, order) in [(7, [2, 0, 1]), (9, [0, 1, 2])] {
            for i in order {
                let p = packet(
                    100 + i as u16,
                    9000,
                    payloads.marker(i),
                    payloads.get(i).unwrap(),
                    ssrc,
                    96,
                );
                assert!(!a.push(&p), "a keyframe is what is needed");
            }
        }
        a.push(&packet(1, 9000, false, &[0, 100], 7, 97));
        assert_eq!(a.skipped, 1);
        let got: Vec<(u32, bool, usize)> = std::iter::from_fn(|| a.pop())
            .map(|f| (f.ssrc, f.keyframe, f.data.len()))
            .collect();
        assert_eq!(got, [(7, true, 2500), (9, true, 2500)]);
    }

    #[test]
    fn a_frame_missing_a_packet_is_counted_lost() {
        let mut a = FrameAssembler::new(default_video_codecs());
        let mut payloads = Payloads::new();
        let mut vp8 = Vp8Packetizer::new(Some(1));
        vp8.packetize(&[0x10; 2500], 1000, &mut payloads).unwrap();
        // Frame 1: its middle packet never comes.
        for i in [0, 2] {
            a.push(&packet(
                100 + i as u16,
                1000,
                payloads.marker(i),
                payloads.get(i).unwrap(),
                7,
                96,
            ));
        }
        // Then one-packet delta frames, until the builder gives up on frame 1.
        let mut needs_keyframe = false;
        for n in 0..120u16 {
            let mut p = Payloads::new();
            vp8.packetize(&[0x11; 100], 1200, &mut p).unwrap();
            needs_keyframe |= a.push(&packet(
                103 + n,
                4000 + 3000 * u32::from(n),
                true,
                p.get(0).unwrap(),
                7,
                96,
            ));
        }
        assert_eq!(a.lost_frames, 1);
        assert!(needs_keyframe, "a loss asks for a keyframe");
    }

    #[test]
    fn video_starts_at_a_keyframe() {
        let mut a = FrameAssembler::new(default_video_codecs());
        let mut payloads = Payloads::new();
        let mut packetizer = Vp8Packetizer::new(Some(1));
        // Two delta frames (first byte's bit 0 set), then a keyframe, then a delta frame.
        for (i, first) in [0x11u8, 0x11, 0x10, 0x11].into_iter().enumerate() {
            packetizer.packetize(&[first; 100], 1000, &mut payloads).unwrap();
            let p = packet(i as u16, 3000 * i as u32, true, payloads.get(0).unwrap(), 5, 96);
            a.push(&p);
        }
        let got: Vec<bool> = std::iter::from_fn(|| a.pop()).map(|f| f.keyframe).collect();
        assert_eq!(
            got,
            [true, false],
            "the deltas before the keyframe are useless to a decoder"
        );
        assert_eq!(a.undecodable, 2);
    }
}
