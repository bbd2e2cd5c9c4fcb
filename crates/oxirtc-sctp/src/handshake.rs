//! Association set-up (RFC 9260 §5.1–§5.2): INIT / INIT ACK / COOKIE ECHO / COOKIE ACK, the stateless
//! cookie, INIT collision (both WebRTC peers connect at once, RFC 8831 §6.2) and T1 retransmission.

use std::time::Instant;

use crate::association::{Association, Ctrl, PeerInfo, SctpEvent, State};
use crate::chunk::{encode_init, encode_raw, ty, InitChunk};
use crate::cookie::Cookie;
use crate::param::{cause, pty, put_cause, put_local_init_params, unrecognized_params_report, InitParams};
use crate::reader::put_tlv;
use crate::receiver::Receiver;
use crate::timer::Timer;

impl Association {
    /// Encodes our INIT or INIT ACK (RFC 9260 §3.3.2, §3.3.3) with `tag` and extra parameters.
    /// `zero_checksum` adds Zero Checksum Acceptable (RFC 9653 §5.1) when the config allows it.
    pub(crate) fn build_init(
        &self,
        chunk_type: u8,
        tag: u32,
        cookie: &[u8],
        report: &[u8],
        zero_checksum: bool,
    ) -> Vec<u8> {
        let mut params = Vec::new();
        if !cookie.is_empty() {
            put_tlv(&mut params, pty::STATE_COOKIE, cookie);
        }
        put_local_init_params(&mut params);
        if zero_checksum && self.config.zero_checksum_dtls {
            crate::param::put_zero_checksum_acceptable(&mut params);
        }
        params.extend_from_slice(report);
        let init = InitChunk {
            initiate_tag: tag,
            a_rwnd: self.config.receive_window,
            num_outbound_streams: self.config.num_outbound_streams.max(1),
            num_inbound_streams: self.config.max_inbound_streams.max(1),
            initial_tsn: self.local_initial_tsn,
            params_raw: &params,
        };
        let mut out = Vec::new();
        encode_init(&mut out, chunk_type, &init);
        out
    }

    /// Our INIT. The first one announces Zero Checksum Acceptable (RFC 9653 §5.1); a retransmission
    /// leaves it out. RFC 9260 §3.2.1 makes a receiver skip a parameter of type 0x8001 it does not
    /// know, but some deployed stacks (Pion 3.1's SCTP) refuse the whole chunk instead and never
    /// answer: an INIT that drew no INIT ACK may have met one of them, and the plain INIT costs
    /// nothing but the zero checksum in the peer's direction.
    pub(crate) fn build_our_init(&self, retransmission: bool) -> Vec<u8> {
        self.build_init(ty::INIT, self.local_tag, &[], &[], !retransmission)
    }

    /// INIT received (RFC 9260 §5.1 B, §5.2.1, §5.2.2): answer with INIT ACK and a cookie, keep no state.
    pub(crate) fn on_init(&mut self, now: Instant, init: &InitChunk<'_>) {
        // §3.3.2: a zero Initiate Tag or zero stream counts are invalid; drop rather than answer.
        if init.initiate_tag == 0 || init.num_outbound_streams == 0 || init.num_inbound_streams == 0 {
            self.stats.drops.malformed += 1;
            tracing::debug!("INIT with a zero tag or stream count dropped");
            return;
        }
        let Ok(params) = InitParams::read(init.params()) else {
            self.stats.drops.malformed += 1;
            return;
        };
        if self.finished {
            return;
        }
        // Tag and tie-tags by state: §5.2.1 (COOKIE-WAIT / COOKIE-ECHOED: same tag), §5.2.2 (later: new tag).
        let (tag, local_tie, peer_tie) = match self.state {
            State::Closed | State::CookieWait => (self.local_tag, 0, 0),
            State::CookieEchoed => (self.local_tag, self.local_tag, self.peer.tag),
            _ => {
                let fresh = loop {
                    let t = self.rng.u32();
                    if t != 0 && t != self.local_tag {
                        break t;
                    }
                };
                (fresh, self.local_tag, self.peer.tag)
            }
        };
        let cookie = Cookie {
            created_ms: self.clock_ms(now),
            lifetime_ms: self.config.cookie_lifetime.as_millis().min(u128::from(u32::MAX)) as u32,
            local_tag: tag,
            peer_tag: init.initiate_tag,
            local_initial_tsn: self.local_initial_tsn,
            peer_initial_tsn: init.initial_tsn,
            peer_a_rwnd: init.a_rwnd,
            local_tie_tag: local_tie,
            peer_tie_tag: peer_tie,
            // §5.1.1: the usable counts are the minimum of what each side offers.
            outbound_streams: self.config.num_outbound_streams.min(init.num_inbound_streams),
            inbound_streams: self.config.max_inbound_streams.min(init.num_outbound_streams),
            peer_forward_tsn: params.forward_tsn,
            peer_reconfig: params.reconfig,
            peer_zero_checksum: params.zero_checksum_dtls,
            peer_pad: params.pad,
        };
        let sealed = cookie.seal(self.crypto, &self.cookie_secret);
        let report = unrecognized_params_report(init.params());
        // RFC 9653 §5.1 lets either side announce Zero Checksum Acceptable on its own; we do so in
        // the INIT ACK only to a peer whose INIT announced it, so an INIT ACK never carries a
        // parameter the peer may refuse (Pion 3.1 drops an INIT ACK with one it does not know).
        let ack = self.build_init(ty::INIT_ACK, tag, &sealed, &report, params.zero_checksum_dtls);
        if ack.len() + crate::packet::COMMON_HEADER_LEN > self.config.mtu.max(1200) {
            tracing::warn!("INIT ACK larger than the MTU");
        }
        self.ctrl.push_back(Ctrl {
            vtag: init.initiate_tag,
            bytes: ack,
            alone: true,
        });
    }

    /// INIT ACK received (RFC 9260 §5.1 C, §5.2.3): only meaningful in COOKIE-WAIT.
    pub(crate) fn on_init_ack(&mut self, now: Instant, ack: &InitChunk<'_>) {
        if self.state != State::CookieWait {
            self.stats.drops.unexpected_chunk += 1;
            return;
        }
        let params = match InitParams::read(ack.params()) {
            Ok(p)
                if ack.initiate_tag != 0 && ack.num_outbound_streams != 0 && ack.num_inbound_streams != 0 =>
            {
                p
            }
            _ => {
                self.stats.drops.malformed += 1;
                return;
            }
        };
        let Some(cookie) = params.cookie else {
            // §5.1 C: a missing State Cookie is a missing mandatory parameter; the handshake stalls
            // and T1 retries rather than trusting this INIT ACK.
            self.stats.drops.malformed += 1;
            return;
        };
        self.peer = PeerInfo {
            tag: ack.initiate_tag,
            initial_tsn: ack.initial_tsn,
            a_rwnd: ack.a_rwnd,
            outbound_streams: self.config.num_outbound_streams.min(ack.num_inbound_streams),
            inbound_streams: self.config.max_inbound_streams.min(ack.num_outbound_streams),
            forward_tsn: params.forward_tsn,
            reconfig: params.reconfig,
            zero_checksum: params.zero_checksum_dtls,
            pad: params.pad,
        };
        self.peer_known = true;
        let mut echo = Vec::new();
        encode_raw(&mut echo, ty::COOKIE_ECHO, 0, cookie);
        self.ctrl.retain(|c| c.vtag != 0); // a queued INIT retransmission is moot now
        self.ctrl.push_back(Ctrl {
            vtag: self.peer.tag,
            bytes: echo.clone(),
            alone: false,
        });
        self.cookie_echo = Some(echo);
        self.state = State::CookieEchoed;
        self.init_retransmits = 0;
        self.timers.set(Timer::T1, now + self.rto.rto());
    }

    /// COOKIE ECHO received (RFC 9260 §5.1 D, §5.1.5, §5.2.4).
    pub(crate) fn on_cookie_echo(&mut self, now: Instant, vtag: u32, raw: &[u8]) {
        let Ok(cookie) = Cookie::open(raw, self.crypto, &self.cookie_secret) else {
            self.stats.drops.bad_cookie += 1;
            tracing::debug!("COOKIE ECHO with a bad MAC dropped");
            return;
        };
        // §5.1.5 step 3: the packet's tag must be the one we put in the cookie.
        if vtag != cookie.local_tag {
            self.stats.drops.bad_verification_tag += 1;
            return;
        }
        let expired = self.clock_ms(now).saturating_sub(cookie.created_ms) > u64::from(cookie.lifetime_ms);
        let tags_match =
            self.peer_known && cookie.local_tag == self.local_tag && cookie.peer_tag == self.peer.tag;
        if self.finished {
            return;
        }
        if expired && !tags_match {
            self.stats.drops.bad_cookie += 1;
            self.send_stale_cookie_error(cookie.peer_tag);
            return;
        }
        match self.state {
            State::Closed => self.establish_from_cookie(now, &cookie),
            _ => self.cookie_echo_with_tcb(now, &cookie),
        }
    }

    /// Table 12 of RFC 9260 §5.2.4.
    fn cookie_echo_with_tcb(&mut self, now: Instant, c: &Cookie) {
        let local_match = c.local_tag == self.local_tag;
        let peer_match = self.peer_known && c.peer_tag == self.peer.tag;
        if local_match && peer_match {
            // (D): establish if not yet, always answer with COOKIE ACK.
            if !self.is_established() {
                self.establish_from_cookie(now, c);
            } else {
                self.send_cookie_ack();
            }
        } else if local_match {
            // (B): collision; take the peer's tag from the cookie.
            if self.receiver.is_some() {
                self.peer.tag = c.peer_tag;
                self.send_cookie_ack();
            } else {
                self.establish_from_cookie(now, c);
            }
        } else if peer_match && c.local_tie_tag == 0 && c.peer_tie_tag == 0 {
            // (C): a late cookie; silently discard.
            self.stats.drops.bad_cookie += 1;
        } else {
            // (A) peer restart is not supported: the data channel layer re-creates the association.
            self.stats.drops.bad_cookie += 1;
            tracing::debug!("COOKIE ECHO for a peer restart (RFC 9260 §5.2.4 A) discarded");
        }
    }

    fn establish_from_cookie(&mut self, now: Instant, c: &Cookie) {
        self.peer = PeerInfo {
            tag: c.peer_tag,
            initial_tsn: c.peer_initial_tsn,
            a_rwnd: c.peer_a_rwnd,
            outbound_streams: c.outbound_streams,
            inbound_streams: c.inbound_streams,
            forward_tsn: c.peer_forward_tsn,
            reconfig: c.peer_reconfig,
            zero_checksum: c.peer_zero_checksum,
            pad: c.peer_pad,
        };
        self.peer_known = true;
        self.send_cookie_ack();
        self.establish(now);
    }

    fn send_cookie_ack(&mut self) {
        let mut out = Vec::new();
        encode_raw(&mut out, ty::COOKIE_ACK, 0, &[]);
        self.queue_ctrl(out);
    }

    fn send_stale_cookie_error(&mut self, peer_tag: u32) {
        let mut causes = Vec::new();
        // Measure of staleness in microseconds; the exact value is advisory.
        put_cause(&mut causes, cause::STALE_COOKIE, &0u32.to_be_bytes());
        let mut out = Vec::new();
        encode_raw(&mut out, ty::ERROR, 0, &causes);
        self.ctrl.push_back(Ctrl {
            vtag: peer_tag,
            bytes: out,
            alone: false,
        });
    }

    /// COOKIE ACK received (RFC 9260 §5.1 E, §5.2.5).
    pub(crate) fn on_cookie_ack(&mut self, now: Instant) {
        if self.state == State::CookieEchoed {
            self.establish(now);
        }
    }

    /// Enters ESTABLISHED: set up both halves and tell the application (RFC 9260 §5.1 D, E).
    fn establish(&mut self, now: Instant) {
        self.timers.stop(Timer::T1);
        self.ctrl
            .retain(|c| c.vtag != 0 && c.bytes.first().is_none_or(|&t| t != ty::COOKIE_ECHO));
        self.cookie_echo = None;
        self.state = if self.shutdown_requested {
            State::ShutdownPending
        } else {
            State::Established
        };
        self.receiver = Some(Receiver::new(
            self.peer.initial_tsn,
            self.config.receive_window,
            self.config.max_message_size,
            self.peer.inbound_streams,
        ));
        self.reconfig.peer_established(self.peer.initial_tsn);
        self.sender.peer_rwnd = self.peer.a_rwnd as usize;
        self.sender.peer_forward_tsn = self.peer.forward_tsn;
        self.timers.set(
            Timer::Heartbeat,
            now + self.rto.rto() + self.config.heartbeat_interval,
        );
        self.events.push_back(SctpEvent::Connected);
        tracing::debug!(
            local_tag = self.local_tag,
            peer_tag = self.peer.tag,
            "SCTP association established"
        );
    }

    /// RFC 9260 §5.2.6: a "Stale Cookie" ERROR in COOKIE-ECHOED restarts the handshake with a new INIT
    /// (counted against Max.Init.Retransmits). Other causes are only logged.
    pub(crate) fn on_error_while_cookie_echoed(&mut self, now: Instant, causes: &[u8]) {
        let stale = crate::reader::TlvIter::new(causes)
            .flatten()
            .any(|t| t.ty == cause::STALE_COOKIE);
        tracing::debug!(stale, causes = %crate::reconfig::describe_causes(causes), "ERROR in COOKIE-ECHOED");
        if !stale {
            return;
        }
        self.init_retransmits += 1;
        if self.init_retransmits > self.config.max_init_retransmits {
            self.terminate(SctpEvent::Aborted(
                "association set-up failed: stale cookies".into(),
            ));
            return;
        }
        self.ctrl
            .retain(|c| c.bytes.first().is_none_or(|&t| t != ty::COOKIE_ECHO));
        self.cookie_echo = None;
        self.peer_known = false;
        self.state = State::CookieWait;
        self.queue_init(now, true);
    }

    /// Queues our INIT (alone, tag 0: RFC 9260 §8.5.1 A) and starts T1-init (§5.1 A).
    pub(crate) fn queue_init(&mut self, now: Instant, retransmission: bool) {
        let bytes = self.build_our_init(retransmission);
        self.ctrl.push_back(Ctrl {
            vtag: 0,
            bytes,
            alone: true,
        });
        self.timers.set(Timer::T1, now + self.rto.rto());
    }

    /// T1-init / T1-cookie expired (RFC 9260 §5.1 A, C): retransmit with back-off, give up after
    /// Max.Init.Retransmits. A retransmitted INIT is the plain one (see [`Self::build_our_init`]).
    pub(crate) fn on_t1(&mut self, now: Instant) {
        let bytes = match self.state {
            // In COOKIE-WAIT our INIT is outstanding; it is rebuilt rather than kept.
            State::CookieWait => Some((0, self.build_our_init(true), true)),
            State::CookieEchoed => self.cookie_echo.clone().map(|b| (self.peer.tag, b, false)),
            _ => None,
        };
        let Some((vtag, bytes, alone)) = bytes else { return };
        self.init_retransmits += 1;
        if self.init_retransmits > self.config.max_init_retransmits {
            self.terminate(SctpEvent::Aborted("association set-up timed out".into()));
            return;
        }
        self.rto.back_off();
        self.ctrl.push_back(Ctrl { vtag, bytes, alone });
        self.timers.set(Timer::T1, now + self.rto.rto());
    }
}
