//! The core's events ([`RtcEvent`]) turned into what the handles see: connection events, channel
//! status, messages in the channels' queues.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;
use oxirtc::{ChannelId, RtcEvent};

use super::{ChannelSlot, Driver};
use crate::data_channel::{ChannelStatus, DataChannel, Message, SendGate};
use crate::queue;
use crate::PeerConnectionEvent;

impl Driver {
    /// Everything the core has to tell, to the handles.
    pub(super) fn drain_events(&mut self) {
        while let Some(ev) = self.rtc.poll_event() {
            self.on_event(ev);
        }
    }

    fn on_event(&mut self, ev: RtcEvent) {
        let forward = match ev {
            RtcEvent::LocalCandidate(c) => Some(PeerConnectionEvent::IceCandidate(c)),
            RtcEvent::IceGatheringComplete => {
                self.gathering.send_replace(true);
                Some(PeerConnectionEvent::IceGatheringComplete)
            }
            RtcEvent::IceConnectionState(s) => Some(PeerConnectionEvent::IceConnectionState(s)),
            // Before the channels' closes and the state change that follow it (RtcEvent::Ended).
            RtcEvent::Ended(reason) => {
                let _ = self.ended.set(reason);
                None
            }
            RtcEvent::ConnectionState(s) => {
                if s == oxirtc::PeerConnectionState::Closed {
                    self.closed = true;
                }
                Some(PeerConnectionEvent::ConnectionState(s))
            }
            RtcEvent::SelectedPair { local, remote } => {
                Some(PeerConnectionEvent::SelectedPair { local, remote })
            }
            RtcEvent::IncomingChannel(id) => self.new_handle(id).map(PeerConnectionEvent::DataChannel),
            RtcEvent::ChannelOpen(id) => {
                let stream_id = self.rtc.channel(id).and_then(|c| c.stream_id());
                let max = self.rtc.max_message_size();
                if let Some(slot) = self.channels.get(id) {
                    slot.gate
                        .max_message
                        .store(max, std::sync::atomic::Ordering::Release);
                    slot.status.send_replace(ChannelStatus::Open { stream_id });
                }
                None
            }
            RtcEvent::ChannelMessage { id, data, binary } => {
                if let Some(slot) = self.channels.get(id) {
                    let len = data.len();
                    self.backlog.add(len);
                    let message = Message {
                        data: Bytes::from(data),
                        binary,
                    };
                    if slot.messages.send(message).is_err() {
                        self.backlog.remove(len); // the handle is gone
                    }
                }
                None
            }
            RtcEvent::ChannelBufferedAmountLow(id) => {
                self.flush_waiting(id);
                None
            }
            RtcEvent::ChannelClosed(id) => {
                if let Some(slot) = self.channels.remove(id) {
                    if let Some(reason) = self.ended.get() {
                        let _ = slot.gate.ended_by.set(reason.clone());
                    }
                    slot.status.send_replace(ChannelStatus::Closed);
                    slot.gate.room.notify_waiters();
                    if !slot.waiting.is_empty() {
                        tracing::debug!(
                            messages = slot.waiting.len(),
                            "driver: channel closed with sends queued"
                        );
                    }
                }
                None
            }
            RtcEvent::Track { mid, kind } => {
                let codecs = self.rtc.receive_codecs(&mid);
                let (slot, track) =
                    crate::track::TrackSlot::new(mid.clone(), kind, codecs, self.command_tx.clone());
                self.tracks.insert(mid, slot);
                Some(PeerConnectionEvent::Track(track))
            }
            RtcEvent::KeyframeRequest { mid, .. } => {
                self.keyframe_requested(&mid);
                None
            }
            RtcEvent::NegotiationNeeded => Some(PeerConnectionEvent::NegotiationNeeded),
            RtcEvent::Rtp(rtp) => {
                // A track whose reader is gone stops taking packets.
                if let Some(slot) = self.tracks.get(&rtp.mid) {
                    let mid = rtp.mid.clone();
                    if !slot.deliver(rtp) {
                        self.tracks.remove(&mid);
                    }
                }
                None
            }
            _ => None,
        };
        if let Some(ev) = forward {
            self.events.push(ev);
        }
    }

    /// A handle for channel `id`, registered so messages and status reach it.
    pub(super) fn new_handle(&mut self, id: ChannelId) -> Option<DataChannel> {
        let commands = self.command_tx.upgrade()?;
        let ch = self.rtc.channel(id)?;
        let label = ch.label().to_owned();
        let protocol = ch.protocol().to_owned();
        let (messages, rx) = queue::queue();
        let (status, status_rx) = crate::watch::channel(ChannelStatus::Connecting);
        let gate = Arc::new(SendGate::new(self.high_water_mark));
        self.channels.insert(
            id,
            ChannelSlot {
                messages,
                status,
                waiting: VecDeque::new(),
                waiting_bytes: 0,
                gate: gate.clone(),
                low_threshold: 0,
                above_low: false,
            },
        );
        let links = crate::data_channel::HandleLinks {
            commands,
            messages: rx,
            status: status_rx,
            gate,
            backlog: self.backlog.clone(),
        };
        Some(DataChannel::new(id, label, protocol, links))
    }
}
