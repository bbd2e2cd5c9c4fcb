//! What the handles ask the driver to do ([`Command`]), handled in arrival order.

use std::time::Instant;

use oxirtc::RtcError;

use super::{Command, Driver, Reply};
use crate::peer_connection::Stats;
use crate::queue;
use crate::Error;

/// Commands handled per wake-up before sockets and timers get their turn.
const COMMAND_BATCH: usize = 256;

impl Driver {
    /// Handles the commands already queued (bounded, so datagrams are not starved); false when every
    /// handle is gone.
    pub(super) fn drain_commands(&mut self) -> bool {
        for _ in 0..COMMAND_BATCH {
            match self.commands.try_recv() {
                Ok(cmd) => self.on_command(cmd),
                Err(queue::TryRecvError::Empty) => return true,
                Err(queue::TryRecvError::Disconnected) => return false,
            }
        }
        true
    }

    pub(super) fn on_command(&mut self, cmd: Command) {
        let now = Instant::now();
        match cmd {
            Command::CreateOffer(r) => reply(r, self.rtc.create_offer(now)),
            Command::CreateAnswer(r) => reply(r, self.rtc.create_answer(now)),
            Command::SetLocal(d, r) => reply(r, self.rtc.set_local_description(now, &d)),
            Command::SetLocalImplicit(r) => reply(r, self.rtc.set_local_description_implicit(now)),
            Command::SetRemote(d, r) => reply(r, self.rtc.set_remote_description(now, &d)),
            Command::AddCandidate(c, r) => reply(r, self.rtc.add_remote_candidate(now, &c)),
            Command::LocalDescription(r) => {
                let _ = r.send(self.rtc.local_description());
            }
            Command::RestartIce(r) => {
                self.gathering.send_replace(false);
                self.rtc.restart_ice(now);
                let _ = r.send(Ok(()));
            }
            Command::CreateChannel(args, r) => {
                let (label, init) = *args;
                let result = self
                    .rtc
                    .create_data_channel(now, &label, init)
                    .map_err(Error::from)
                    .and_then(|id| self.new_handle(id).ok_or(Error::Closed));
                let _ = r.send(result);
            }
            Command::Send(id, data, binary) => self.send(id, data, binary),
            Command::CloseChannel(id) => {
                if let Some(mut ch) = self.rtc.channel(id) {
                    ch.close(now);
                }
            }
            Command::BufferedAmount(id, r) => {
                let _ = r.send(self.buffered_amount(id));
            }
            Command::SetLowThreshold(id, n) => self.set_low_threshold(id, n),
            Command::RequestKeyframe(mid, r) => reply(r, self.rtc.request_keyframe(now, &mid)),
            Command::AddTrack(args, r) => {
                let (kind, args) = *args;
                self.add_track(kind, args, r);
            }
            Command::TrackMid(id, r) => {
                let _ = r.send(Ok(self.rtc.mid(id).map(str::to_owned)));
            }
            Command::ReceiveCodecs(mid, r) => {
                let _ = r.send(Ok(self.rtc.receive_codecs(&mid)));
            }
            Command::SendCodecs(id, r) => {
                let _ = r.send(Ok(self.rtc.send_codecs(id)));
            }
            Command::Transceivers(r) => {
                let _ = r.send(Ok(self.rtc.transceivers()));
            }
            Command::SendCodec(id, r) => {
                let _ = r.send(Ok(self.rtc.send_codec(id)));
            }
            Command::WriteFrame(args) => {
                let (id, frame, duration) = *args;
                self.write_frame(id, &frame, duration);
            }
            Command::WriteRtp(id, rtp) => self.write_rtp(id, &rtp),
            Command::Stats(r) => {
                let _ = r.send(Stats::collect(&mut self.rtc));
            }
            Command::Close(r) => {
                self.rtc.close(now);
                // Readable once `close` returns, before the flush delivers the events.
                if let Some(reason) = self.rtc.close_reason() {
                    let _ = self.ended.set(reason.clone());
                }
                let _ = r.send(());
            }
        }
    }
}

fn reply<T>(r: Reply<T>, result: Result<T, RtcError>) {
    let _ = r.send(result.map_err(Error::from));
}
