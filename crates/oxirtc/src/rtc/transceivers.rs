//! Transceivers on an [`Rtc`] (W3C webrtc-pc §5.4, RFC 8829 §5.2.1, §5.3.1, §5.10): adding and
//! removing what we send, and turning transceivers into the media sections of our offers and
//! answers.

use oxirtc_sdp::Direction;

use super::Rtc;
use crate::jsep::local::{LocalMedia, LocalSection, LocalSender};
use crate::jsep::remote::{RemoteMedia, RemoteParams};
use crate::jsep::SignalingState;
use crate::media::{
    answer_codecs, answer_extensions, default_audio_codecs, default_extensions, default_video_codecs,
    same_configuration, CodecParameters, TrackKind, TransceiverId, TransceiverInfo, TransceiverInit,
};
use crate::{RtcError, RtcEvent};

/// Transceivers a connection may hold: a call has a few, an SFU subscriber some tens. Each one is
/// a media section in every later description, so the bound also bounds the SDP.
pub const MAX_TRANSCEIVERS: usize = 64;

/// One transceiver: a media section we send and/or receive on, before and after negotiation.
#[derive(Debug, Clone)]
pub(crate) struct Transceiver {
    pub(crate) id: TransceiverId,
    pub(crate) kind: TrackKind,
    /// Set when the transceiver is first part of a description (ours or the peer's).
    pub(crate) mid: Option<String>,
    /// What the application asked for (W3C `direction`).
    pub(crate) direction: Direction,
    /// Our stream on it; its SSRCs are chosen once, when the transceiver is made.
    pub(crate) sender: LocalSender,
    /// Codec preferences; empty means the defaults.
    pub(crate) codecs: Vec<CodecParameters>,
    /// Made by `add_track` (JSEP §5.10: such a transceiver may take a remote offer's new section).
    pub(crate) from_add_track: bool,
    /// A track is attached (W3C `sender.track` is not null).
    pub(crate) has_track: bool,
}

impl Transceiver {
    fn supported_codecs(&self) -> Vec<CodecParameters> {
        if !self.codecs.is_empty() {
            return self.codecs.clone();
        }
        match self.kind {
            TrackKind::Audio => default_audio_codecs(),
            TrackKind::Video => default_video_codecs(),
        }
    }
}

impl Rtc {
    /// Adds a transceiver (W3C `addTransceiver`): a new audio or video section in the next offer.
    /// Write to it with [`Rtc::write_rtp`] / [`Rtc::write_frame`] once negotiated; what the peer
    /// sends on it arrives as [`RtcEvent::Rtp`]. Emits [`RtcEvent::NegotiationNeeded`].
    pub fn add_transceiver(
        &mut self,
        kind: TrackKind,
        init: TransceiverInit,
    ) -> Result<TransceiverId, RtcError> {
        if let Some(bad) = init
            .codecs
            .iter()
            .find(|c| c.codec.kind != kind || !is_supported(c))
        {
            return Err(RtcError::InvalidArgument(format!(
                "codec preference {}/{} is not a {kind:?} codec oxirtc can send and receive: pick \
                 from oxirtc::media::default_audio_codecs / default_video_codecs",
                bad.codec.name, bad.codec.clock_rate
            )));
        }
        let id = self.new_transceiver(kind, init.direction, init.stream_id, init.track_id, init.codecs)?;
        self.negotiation_needed();
        Ok(id)
    }

    /// Adds a track to send (W3C `addTrack`): takes a transceiver of the same kind that a remote
    /// offer created and that has never sent (so an answer can send on the offered section),
    /// else adds a new `sendrecv` transceiver. Returns the transceiver.
    pub fn add_track(&mut self, kind: TrackKind, stream_id: Option<&str>) -> Result<TransceiverId, RtcError> {
        let reusable = self
            .transceivers
            .iter_mut()
            .find(|t| t.kind == kind && !t.has_track && !t.from_add_track && t.mid.is_some());
        if let Some(t) = reusable {
            t.has_track = true;
            t.from_add_track = true;
            t.direction = with_send(t.direction, true);
            if let Some(s) = stream_id {
                t.sender.stream_id = s.to_owned();
            }
            let id = t.id;
            self.negotiation_needed();
            return Ok(id);
        }
        let id = self.new_transceiver(
            kind,
            Direction::SendRecv,
            stream_id.map(str::to_owned),
            None,
            Vec::new(),
        )?;
        if let Some(t) = self.transceivers.iter_mut().find(|t| t.id == id) {
            t.from_add_track = true;
            t.has_track = true;
        }
        self.negotiation_needed();
        Ok(id)
    }

    /// Stops sending on a transceiver (W3C `removeTrack`): its direction loses "send" in the next
    /// negotiation; until then, writes are refused.
    pub fn remove_track(&mut self, id: TransceiverId) -> Result<(), RtcError> {
        let t = self.transceiver_mut(id)?;
        t.has_track = false;
        t.direction = with_send(t.direction, false);
        self.negotiations = self.negotiations.wrapping_add(1);
        self.negotiation_needed();
        Ok(())
    }

    /// Changes the direction we want (W3C `transceiver.direction`); takes effect with the next
    /// negotiation.
    pub fn set_direction(&mut self, id: TransceiverId, direction: Direction) -> Result<(), RtcError> {
        let t = self.transceiver_mut(id)?;
        if t.direction != direction {
            t.direction = direction;
            self.negotiations = self.negotiations.wrapping_add(1);
            self.negotiation_needed();
        }
        Ok(())
    }

    /// The mid of a transceiver's section, once it is in a description.
    pub fn mid(&self, id: TransceiverId) -> Option<&str> {
        self.transceivers.iter().find(|t| t.id == id)?.mid.as_deref()
    }

    /// The transceiver of a section.
    pub fn transceiver_of(&self, mid: &str) -> Option<TransceiverId> {
        self.transceivers
            .iter()
            .find(|t| t.mid.as_deref() == Some(mid))
            .map(|t| t.id)
    }

    /// Every transceiver (W3C `getTransceivers`).
    pub fn transceivers(&self) -> Vec<TransceiverInfo> {
        self.transceivers
            .iter()
            .map(|t| TransceiverInfo {
                id: t.id,
                kind: t.kind,
                mid: t.mid.clone(),
                direction: t.direction,
                current_direction: t.mid.as_deref().and_then(|m| self.local_media(m)).map(|m| {
                    let remote = self.remote_media(&m.mid).map(|r| r.direction);
                    match remote {
                        Some(r) => with_send(
                            with_recv(m.direction, sends(r)),
                            sends(m.direction) && receives(r),
                        ),
                        None => m.direction,
                    }
                }),
            })
            .collect()
    }

    /// The codecs we receive on a section (its negotiated formats with our payload types), most
    /// preferred first; empty for an unknown mid.
    pub fn receive_codecs(&self, mid: &str) -> Vec<CodecParameters> {
        self.local_media(mid)
            .map(|m| m.codecs.clone())
            .unwrap_or_default()
    }

    /// Our media section with this mid.
    pub(crate) fn local_media(&self, mid: &str) -> Option<&LocalMedia> {
        self.sections.iter().find_map(|s| match s {
            LocalSection::Media(m) if m.mid == mid => Some(m),
            _ => None,
        })
    }

    /// The remote description's media section with this mid (usable, not rejected).
    pub(crate) fn remote_media(&self, mid: &str) -> Option<&RemoteMedia> {
        self.remote
            .as_ref()?
            .sections
            .iter()
            .find(|s| s.mid.as_deref() == Some(mid))?
            .media
            .as_ref()
    }

    /// The media sections of a new offer (RFC 8829 §5.2.1, §5.2.2): the sections of the last
    /// negotiation with each transceiver's current wishes, then a new section for each transceiver
    /// not yet in a description.
    pub(crate) fn refresh_offer_sections(&mut self) {
        for section in &mut self.sections {
            let LocalSection::Media(m) = section else { continue };
            if let Some(t) = self
                .transceivers
                .iter()
                .find(|t| t.mid.as_deref() == Some(&m.mid))
            {
                m.direction = t.direction;
                m.sender = Some(t.sender.clone());
            }
        }
        let new: Vec<usize> = (0..self.transceivers.len())
            .filter(|&i| self.transceivers[i].mid.is_none())
            .collect();
        for i in new {
            let mid = self.unused_mid();
            let t = &mut self.transceivers[i];
            t.mid = Some(mid.clone());
            let media = LocalMedia {
                mid,
                kind: t.kind,
                codecs: t.supported_codecs(),
                extensions: default_extensions(t.kind),
                direction: t.direction,
                rtcp_rsize: true,
                sender: Some(t.sender.clone()),
                receive_rids: Vec::new(),
                cryptex: true,
            };
            self.sections.push(LocalSection::Media(media));
        }
    }

    /// JSEP §5.10 for a remote offer: each media section is associated with the transceiver of its
    /// mid, else with one `add_track` made that is in no description yet, else with a new
    /// receive-only transceiver.
    pub(crate) fn associate_offer(&mut self, offer: &RemoteParams) {
        for (i, s) in offer.sections.iter().enumerate() {
            let Some(media) = &s.media else { continue };
            let mid = s.mid.clone().unwrap_or_else(|| i.to_string());
            let known = self
                .transceivers
                .iter()
                .any(|t| t.mid.as_deref() == Some(mid.as_str()));
            if known {
                continue;
            }
            let waiting = self
                .transceivers
                .iter_mut()
                .find(|t| t.mid.is_none() && t.from_add_track && t.kind == media.kind);
            match waiting {
                Some(t) => t.mid = Some(mid),
                None => {
                    if let Ok(id) =
                        self.new_transceiver(media.kind, Direction::RecvOnly, None, None, Vec::new())
                    {
                        if let Some(t) = self.transceivers.iter_mut().find(|t| t.id == id) {
                            t.mid = Some(mid);
                        }
                    }
                }
            }
        }
    }

    /// Our answer to an offered audio or video section (RFC 8829 §5.3.1): the codecs and header
    /// extensions we share with the offer (in our preference order when the transceiver has
    /// preferences), and the direction: RFC 3264 §6.1 reverses the offered one, intersected with
    /// the transceiver's. `None` when no codec is common: the section is then rejected.
    pub(crate) fn answer_media(&self, mid: String, offered: &RemoteMedia) -> Option<LocalMedia> {
        let t = self
            .transceivers
            .iter()
            .find(|t| t.mid.as_deref() == Some(mid.as_str()));
        let (supported, wanted, sender) = match t {
            Some(t) if t.kind == offered.kind => (t.supported_codecs(), t.direction, Some(t.sender.clone())),
            _ => (default_codecs(offered.kind), Direction::RecvOnly, None),
        };
        let mut codecs = answer_codecs(&offered.codecs, &supported);
        if t.is_some_and(|t| !t.codecs.is_empty()) {
            // W3C setCodecPreferences: the answer lists the common codecs in our order.
            codecs.sort_by_key(|c| supported.iter().position(|s| same_configuration(s, c)));
        }
        if codecs.is_empty() {
            return None;
        }
        let direction = with_send(
            with_recv(Direction::Inactive, sends(offered.direction) && receives(wanted)),
            receives(offered.direction) && sends(wanted),
        );
        Some(LocalMedia {
            mid,
            kind: offered.kind,
            codecs,
            extensions: answer_extensions(
                offered.kind,
                offered.extensions.iter().map(|(id, uri)| (*id, uri.as_str())),
            ),
            direction,
            rtcp_rsize: offered.rtcp_rsize,
            sender,
            // RFC 8853 §5.3: we receive the offered simulcast streams when we receive at all.
            receive_rids: if receives(direction) {
                offered.simulcast_send.clone()
            } else {
                Vec::new()
            },
            cryptex: offered.cryptex,
        })
    }

    fn new_transceiver(
        &mut self,
        kind: TrackKind,
        direction: Direction,
        stream_id: Option<String>,
        track_id: Option<String>,
        codecs: Vec<CodecParameters>,
    ) -> Result<TransceiverId, RtcError> {
        if self.transceivers.len() >= MAX_TRANSCEIVERS {
            return Err(RtcError::InvalidState(format!(
                "this connection has {MAX_TRANSCEIVERS} transceivers, the most oxirtc keeps: remove \
                 unused ones, or open another connection"
            )));
        }
        let id = TransceiverId(self.next_transceiver);
        self.next_transceiver += 1;
        // RFC 3550 §8.1: SSRCs are random; RFC 7022: so are track ids we make up.
        let ssrc = self.rng.u32();
        let rtx_ssrc = self.rng.u32();
        let track_id = track_id.unwrap_or_else(|| format!("{:016x}", self.rng.u64()));
        self.transceivers.push(Transceiver {
            id,
            kind,
            mid: None,
            direction,
            sender: LocalSender {
                ssrc,
                rtx_ssrc,
                stream_id: stream_id.unwrap_or_else(|| "-".into()),
                track_id,
            },
            codecs,
            from_add_track: false,
            has_track: false,
        });
        Ok(id)
    }

    fn transceiver_mut(&mut self, id: TransceiverId) -> Result<&mut Transceiver, RtcError> {
        self.transceivers
            .iter_mut()
            .find(|t| t.id == id)
            .ok_or_else(|| RtcError::InvalidArgument(format!("no transceiver {} on this connection", id.0)))
    }

    /// W3C "update the negotiation-needed flag": said once per stable period.
    fn negotiation_needed(&mut self) {
        if self.signaling == SignalingState::Stable {
            self.events.push_back(RtcEvent::NegotiationNeeded);
        }
    }

    /// The lowest number not yet used as a mid (ours are decimal, as browsers write them).
    fn unused_mid(&self) -> String {
        let used = |m: &str| {
            self.sections.iter().any(|s| match s {
                LocalSection::Rejected(r) => r.mid.as_deref() == Some(m),
                other => other.bundled_mid() == Some(m),
            }) || self.transceivers.iter().any(|t| t.mid.as_deref() == Some(m))
        };
        (0..)
            .map(|n: u32| n.to_string())
            .find(|m| !used(m))
            .unwrap_or_default()
    }
}

/// The codecs we can receive of a kind by default.
pub(crate) fn default_codecs(kind: TrackKind) -> Vec<CodecParameters> {
    match kind {
        TrackKind::Audio => default_audio_codecs(),
        TrackKind::Video => default_video_codecs(),
    }
}

fn is_supported(c: &CodecParameters) -> bool {
    default_codecs(c.codec.kind)
        .iter()
        .any(|d| same_configuration(d, c))
}

/// Whether a direction includes sending (from the point of view of whoever wrote it).
pub(crate) fn sends(d: Direction) -> bool {
    matches!(d, Direction::SendRecv | Direction::SendOnly)
}

/// Whether a direction includes receiving.
pub(crate) fn receives(d: Direction) -> bool {
    matches!(d, Direction::SendRecv | Direction::RecvOnly)
}

fn with_send(d: Direction, send: bool) -> Direction {
    direction(send, receives(d))
}

fn with_recv(d: Direction, recv: bool) -> Direction {
    direction(sends(d), recv)
}

fn direction(send: bool, recv: bool) -> Direction {
    match (send, recv) {
        (true, true) => Direction::SendRecv,
        (true, false) => Direction::SendOnly,
        (false, true) => Direction::RecvOnly,
        (false, false) => Direction::Inactive,
    }
}
