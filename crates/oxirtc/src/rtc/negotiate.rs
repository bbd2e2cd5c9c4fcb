//! Offer/answer on an [`Rtc`] (RFC 8829 §5): creating and applying descriptions, ICE and DTLS roles.

use std::net::SocketAddr;
use std::time::Instant;

use oxirtc_dtls::{Dtls, Role};
use oxirtc_ice::Candidate;
use oxirtc_sdp::{SessionDescription, Setup};

use super::transceivers::default_codecs;
use super::Rtc;
use crate::jsep::local::{LocalParams, LocalSection};
use crate::jsep::remote::RemoteParams;
use crate::jsep::{Description, SdpType, Side};
use crate::media::answer_codecs;
use crate::{RtcError, RtcEvent};

impl Rtc {
    /// Creates an offer (RFC 8829 §5.2). After [`Rtc::restart_ice`] it carries new ICE credentials
    /// (RFC 8829 §5.2.2). Apply it with [`Rtc::set_local_description`].
    pub fn create_offer(&mut self, _now: Instant) -> Result<Description, RtcError> {
        self.signaling.next(Side::Local, SdpType::Offer)?;
        if self.sections.is_empty() {
            // Exact: a push would allocate room for four sections.
            self.sections = vec![LocalSection::Data { mid: "0".into() }];
        }
        self.refresh_offer_sections();
        // RFC 8842 §5.5: a subsequent offer keeps the established DTLS role; the first one is actpass.
        let setup = match self.dtls_role {
            None => Setup::ActPass,
            Some(Role::Client) => Setup::Active,
            Some(Role::Server) => Setup::Passive,
        };
        Ok(self.describe(SdpType::Offer, setup))
    }

    /// Creates the answer to the applied remote offer (RFC 8829 §5.3): our data section accepted,
    /// each audio or video section we share a codec with accepted (sending on it when its
    /// transceiver has a track, see [`Rtc::add_track`]), every other section rejected with port 0.
    pub fn create_answer(&mut self, _now: Instant) -> Result<Description, RtcError> {
        self.signaling.next(Side::Local, SdpType::Answer)?;
        let remote = self
            .pending_remote
            .as_deref()
            .ok_or_else(|| RtcError::InvalidState("no remote offer to answer".into()))?;
        let sections = remote
            .sections
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let mid = || s.mid.clone().unwrap_or_else(|| i.to_string());
                match (&remote.data, &s.media) {
                    (Some(d), _) if d.index == i => LocalSection::Data { mid: mid() },
                    (_, Some(media)) => match self.answer_media(mid(), media) {
                        Some(m) => LocalSection::Media(m),
                        None => LocalSection::Rejected(s.clone()),
                    },
                    _ => LocalSection::Rejected(s.clone()),
                }
            })
            .collect();
        self.sections = sections;
        let role = answer_role(self.dtls_role, remote.setup)?;
        let setup = match role {
            Role::Client => Setup::Active,
            Role::Server => Setup::Passive,
        };
        Ok(self.describe(SdpType::Answer, setup))
    }

    fn describe(&mut self, sdp_type: SdpType, setup: Setup) -> Description {
        self.session_version += 1;
        let desc = self.build_description(sdp_type, setup);
        self.created = Some(desc.clone());
        self.created_setup = Some((sdp_type, setup));
        desc
    }

    /// Our current local description (W3C `localDescription`): the one last applied, with every
    /// candidate gathered since and `a=end-of-candidates` once gathering finished. `None` before
    /// `set_local_description`.
    pub fn local_description(&self) -> Option<Description> {
        let (sdp_type, setup) = self.applied_setup?;
        Some(self.build_description(sdp_type, setup))
    }

    fn build_description(&self, sdp_type: SdpType, setup: Setup) -> Description {
        let params = LocalParams {
            session_id: self.session_id,
            session_version: self.session_version,
            ice: self.ice.local_credentials(),
            ice_lite: self.ice.is_lite(),
            ice_pacing_ms: (self.config.ice.ta != oxirtc_ice::DEFAULT_TA)
                .then_some(u64::try_from(self.config.ice.ta.as_millis()).unwrap_or(u64::MAX)),
            candidates: &self.local_candidates,
            end_of_candidates: self.gathering_complete,
            fingerprint: &self.fingerprint,
            setup,
            sctp_port: self.config.sctp.local_port,
            max_message_size: self.config.max_message_size,
            sections: &self.sections,
            cname: &format!("{:016x}", self.cname),
        };
        Description {
            sdp_type,
            sdp: params.build().to_string(),
        }
    }

    /// Applies the peer's offer or answer. A description that does not parse or lacks what a data
    /// connection needs is refused with an error naming the problem, and nothing changes.
    pub fn set_remote_description(&mut self, now: Instant, desc: &Description) -> Result<(), RtcError> {
        let next = self.signaling.next(Side::Remote, desc.sdp_type)?;
        let sdp = SessionDescription::parse(&desc.sdp)?;
        let mut params = RemoteParams::from_sdp(&sdp)?;
        let usable_media = params
            .sections
            .iter()
            .filter_map(|s| s.media.as_ref())
            .any(|m| !answer_codecs(&m.codecs, &default_codecs(m.kind)).is_empty());
        if params.data.is_none() && !usable_media {
            return Err(RtcError::Negotiation(
                "no section oxirtc can use: neither a data channel section (m=application ... \
                 UDP/DTLS/SCTP webrtc-datachannel) nor an audio/video section (UDP/TLS/RTP/SAVPF with \
                 a=rtcp-mux) with a codec in common"
                    .into(),
            ));
        }
        if let Some(current) = &self.remote {
            if current.fingerprint != params.fingerprint {
                return Err(RtcError::Negotiation(
                    "the peer's certificate fingerprint changed; a new DTLS association is not supported"
                        .into(),
                ));
            }
        }
        let role = match desc.sdp_type {
            SdpType::Answer => Some(offer_answer_role(params.setup)?),
            SdpType::Offer => {
                answer_role(self.dtls_role, params.setup)?;
                None
            }
        };
        self.signaling = next;
        self.negotiations = self.negotiations.wrapping_add(1);
        // A description we created before this one no longer describes what we would apply
        // (W3C webrtc-pc §4.4.1.6 "no longer accurately represents"): set_local_description
        // needs a new one.
        self.created = None;
        self.apply_remote_transport(now, &params, desc.sdp_type)?;
        // Handed to ICE: the text of the candidates is not needed again.
        params.candidates = Vec::new();
        match role {
            Some(role) => {
                self.remote = Some(params);
                self.set_dtls_role(now, role);
                self.announce_tracks();
            }
            None => {
                self.associate_offer(&params);
                self.pending_remote = Some(Box::new(params));
            }
        }
        self.pump(now);
        Ok(())
    }

    /// ICE side of a remote description: role, credentials (a change is an ICE restart, RFC 8445 §9),
    /// candidates.
    fn apply_remote_transport(
        &mut self,
        now: Instant,
        p: &RemoteParams,
        ty: SdpType,
    ) -> Result<(), RtcError> {
        if !self.ice_role_set {
            // RFC 8445 §6.1.1: the answerer is controlled, unless the offerer is lite.
            self.ice.set_controlling(now, ty == SdpType::Offer && p.ice_lite);
            self.ice_role_set = true;
        }
        let known = self
            .remote
            .as_ref()
            .or(self.pending_remote.as_deref())
            .map(|r| &r.ice);
        if ty == SdpType::Offer && known.is_some_and(|k| *k != p.ice) {
            // The peer restarted ICE: we restart too, so our answer carries new credentials.
            self.ice.restart(now);
            self.local_candidates.clear();
            self.gathering_complete = false;
            self.ice_gathered = self.config.ice.stun_servers.is_empty();
            self.refresh_local_candidates();
        }
        self.ice.set_remote_lite(p.ice_lite);
        self.ice
            .set_remote_pacing(p.ice_pacing_ms.map(std::time::Duration::from_millis));
        self.ice.set_remote_credentials(now, p.ice.clone())?;
        for c in &p.candidates {
            self.add_candidate_value(now, c);
        }
        if p.end_of_candidates {
            self.ice.end_of_remote_candidates(now);
        }
        Ok(())
    }

    /// A trickled remote candidate (`candidate:...` value of `a=candidate`, RFC 8838 §4.1). An empty
    /// string means end-of-candidates (W3C `addIceCandidate` with an empty candidate).
    pub fn add_remote_candidate(&mut self, now: Instant, candidate: &str) -> Result<(), RtcError> {
        if self.remote.is_none() && self.pending_remote.is_none() {
            return Err(RtcError::InvalidState(
                "add_remote_candidate before set_remote_description".into(),
            ));
        }
        if candidate.trim().is_empty() {
            self.ice.end_of_remote_candidates(now);
        } else {
            let c = Candidate::parse_sdp(candidate)?;
            self.ice.add_remote_candidate(now, c)?;
        }
        self.pump(now);
        Ok(())
    }

    /// Asks for an ICE restart (RFC 8445 §9): the next offer carries new credentials. The current pair
    /// keeps carrying data until the new one is nominated.
    pub fn restart_ice(&mut self, now: Instant) {
        // An offer created before carries the old credentials.
        self.created = None;
        self.ice.restart(now);
        self.local_candidates.clear();
        self.gathering_complete = false;
        self.ice_gathered = self.config.ice.stun_servers.is_empty();
        self.refresh_local_candidates();
        self.pump(now);
    }

    fn add_candidate_value(&mut self, now: Instant, value: &str) {
        // TCP and mDNS candidates are not usable by the UDP agent: skipped, not an error (RFC 8839 §5.1
        // lets an agent ignore candidates it does not understand).
        match Candidate::parse_sdp(value) {
            Ok(c) => {
                if let Err(e) = self.ice.add_remote_candidate(now, c) {
                    tracing::debug!(error = %e, "rtc: remote candidate not added");
                }
            }
            Err(e) => tracing::debug!(error = %e, "rtc: skipping remote candidate"),
        }
    }

    pub(crate) fn refresh_local_candidates(&mut self) {
        for c in self.ice.local_candidates() {
            let line = c.to_sdp();
            if !self.local_candidates.contains(&line) {
                self.local_candidates.push(line);
            }
        }
    }

    /// The DTLS role is settled (RFC 8842 §5.1): create the endpoint and replay what arrived early.
    pub(super) fn set_dtls_role(&mut self, now: Instant, role: Role) {
        let Some(remote) = &self.remote else { return };
        let fingerprint = remote.fingerprint;
        if let Some(dtls) = &self.dtls {
            if dtls.role() != role {
                tracing::warn!(
                    ?role,
                    "rtc: peer asked for a DTLS role change; keeping the association"
                );
            }
            return;
        }
        // The endpoint is created once per connection: it takes the certificate for good.
        let Some(certificate) = self.certificate.take() else {
            return;
        };
        let mut dtls = Dtls::new(
            self.config.dtls.clone(),
            role,
            certificate,
            self.crypto,
            self.rng.fork(),
        );
        dtls.set_remote_fingerprint(fingerprint);
        if let Some(key) = self.spare_ecdhe.take() {
            dtls.set_spare_ecdhe_key(key);
        }
        for datagram in std::mem::take(&mut self.early_dtls) {
            dtls.handle_receive(now, &datagram);
        }
        self.dtls_role = Some(role);
        self.dtls = Some(dtls);
        self.events.push_back(RtcEvent::DtlsRole(role));
        self.maybe_start_dtls(now);
    }

    /// Starts the DTLS handshake (as client; a server just waits) once ICE has a valid pair: RFC 8445
    /// §12.1 lets data go on a valid pair before selection, so the handshake overlaps the nomination
    /// instead of waiting one more pacing interval (Ta) for it. Returns whether it started.
    ///
    /// As answerer and DTLS client we also wait for the offerer's first authenticated check (or the
    /// nomination, which needs one): it is signed with our answer's password (RFC 8445 §7.2.2), so it
    /// proves the offerer has applied our answer and knows our certificate fingerprint (RFC 8842 §5).
    /// Our own check can be answered before that (§7.3 answers with the local password alone), and a
    /// ClientHello that arrives first is refused by stacks that verify the fingerprint on receipt
    /// (libdatachannel sends unknown_ca and tears down). On an honest path the wait is at most about
    /// one round trip: the offerer's checks follow its answer. An ICE-lite offerer sends no checks,
    /// so against one we do not wait.
    pub(crate) fn maybe_start_dtls(&mut self, now: Instant) -> bool {
        if self.dtls_started || self.ice.valid_pair(now).is_none() {
            return false;
        }
        if self.dtls_waits_for_peer_check
            && self.ice.stats().checks_received == 0
            && self.ice.selected_pair().is_none()
        {
            return false;
        }
        if let Some(dtls) = self.dtls.as_mut() {
            if let Some(rtt) = self.ice.rtt() {
                // RFC 9147 §5.8.2: 1.5 × the ICE RTT as the first retransmission timeout, not below
                // MIN_DTLS_RETRANSMIT (a loopback RTT would make it a busy loop) nor above the
                // configured one. libdatachannel drops a ClientHello that arrives before its DTLS
                // transport is up, moments after ICE connects: the retransmission then comes
                // tens of milliseconds later instead of a second.
                let rto = (rtt * 3 / 2)
                    .max(MIN_DTLS_RETRANSMIT)
                    .min(self.config.dtls.initial_retransmit);
                dtls.set_initial_retransmit(rto);
            }
            dtls.start(now);
            self.dtls_started = true;
            self.set_state(crate::PeerConnectionState::Connecting);
            return true;
        }
        false
    }

    pub(crate) fn receive_dtls(&mut self, now: Instant, source: SocketAddr, data: &[u8]) {
        tracing::trace!(
            len = data.len(),
            early = self.dtls.is_none(),
            "rtc: DTLS datagram in"
        );
        match self.dtls.as_mut() {
            Some(d) => {
                if !d.is_handshake_complete() {
                    // A ClientHello from an address our own check proved needs no cookie exchange
                    // (RFC 6347 §4.2.1, RFC 8445 §7.2.5.3): the server flight goes one round trip sooner.
                    d.set_peer_address_validated(self.ice.is_validated_remote(source));
                }
                // Each SCTP packet goes to the association straight from DTLS's plaintext buffer (no
                // copy, no allocation); before the association exists it is queued as an event.
                let sctp = &mut self.sctp;
                d.handle_receive_with(now, data, &mut |packet| match sctp.as_mut() {
                    Some(s) => {
                        s.handle_receive(now, packet);
                        true
                    }
                    None => false,
                });
            }
            None => {
                if self.early_dtls.len() >= self.config.max_early_dtls {
                    self.early_dtls.pop_front();
                    self.stats.dropped_datagrams += 1;
                }
                self.early_dtls.push_back(data.to_vec());
            }
        }
    }
}

/// Floor of the first DTLS retransmission timeout derived from the ICE RTT.
const MIN_DTLS_RETRANSMIT: std::time::Duration = std::time::Duration::from_millis(50);

/// Our role from the answer's `a=setup` to our offer (RFC 8842 §5.3): the answerer picks.
fn offer_answer_role(answer_setup: Setup) -> Result<Role, RtcError> {
    match answer_setup {
        Setup::Active => Ok(Role::Server),
        Setup::Passive => Ok(Role::Client),
        Setup::ActPass | Setup::HoldConn => Err(RtcError::Negotiation(format!(
            "an answer must say a=setup:active or a=setup:passive, not {}",
            answer_setup.as_str()
        ))),
    }
}

/// Our role when answering an offer with `offer_setup` (RFC 8842 §5.2: answer `active` to `actpass`),
/// keeping an established role on renegotiation.
fn answer_role(established: Option<Role>, offer_setup: Setup) -> Result<Role, RtcError> {
    let wanted = match offer_setup {
        Setup::Active => Some(Role::Server),
        Setup::Passive => Some(Role::Client),
        Setup::ActPass => None,
        Setup::HoldConn => {
            return Err(RtcError::Negotiation("a=setup:holdconn is not supported".into()));
        }
    };
    match (established, wanted) {
        (Some(have), Some(want)) if have != want => Err(RtcError::Negotiation(
            "the offer asks for the other DTLS role; a new DTLS association is not supported".into(),
        )),
        (Some(have), _) => Ok(have),
        (None, Some(want)) => Ok(want),
        (None, None) => Ok(Role::Client),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DataChannelInit, RtcConfig};

    /// Issue 15: once applied, neither side keeps the candidate lines (ICE has them) nor the
    /// answer's text (it cannot be applied again), and the remote offer is gone once answered.
    #[test]
    fn applied_descriptions_keep_no_text_they_no_longer_need() {
        #[allow(clippy::disallowed_methods)] // the test owns the clock
        let now = Instant::now();
        let mut a = Rtc::new(RtcConfig::default()).unwrap();
        let mut b = Rtc::new(RtcConfig::default()).unwrap();
        a.add_host_candidate(now, "127.0.0.1:5000".parse().unwrap())
            .unwrap();
        b.add_host_candidate(now, "127.0.0.1:6000".parse().unwrap())
            .unwrap();
        a.create_data_channel(now, "chat", DataChannelInit::default())
            .unwrap();
        let offer = a.create_offer(now).unwrap();
        assert_eq!(a.sections.capacity(), 1, "room for exactly the data section");
        a.set_local_description(now, &offer).unwrap();
        b.set_remote_description(now, &offer).unwrap();
        assert!(b.pending_remote.as_ref().is_some_and(|r| r.candidates.is_empty()));
        let answer = b.set_local_description_implicit(now).unwrap();
        assert!(b.created.is_none() && b.pending_remote.is_none());
        assert!(b.remote.as_ref().is_some_and(|r| r.candidates.is_empty()));
        a.set_remote_description(now, &answer).unwrap();
        assert!(a.created.is_none() && a.remote.as_ref().is_some_and(|r| r.candidates.is_empty()));
        // The local description is still there to read (rebuilt from state, not from `created`).
        assert!(b
            .local_description()
            .is_some_and(|d| d.sdp.contains("a=candidate")));
    }

    #[test]
    fn setup_roles_follow_rfc8842() {
        assert_eq!(offer_answer_role(Setup::Active).unwrap(), Role::Server);
        assert_eq!(offer_answer_role(Setup::Passive).unwrap(), Role::Client);
        assert!(offer_answer_role(Setup::ActPass).is_err());
        assert_eq!(answer_role(None, Setup::ActPass).unwrap(), Role::Client);
        assert_eq!(answer_role(None, Setup::Active).unwrap(), Role::Server);
        assert_eq!(
            answer_role(Some(Role::Server), Setup::ActPass).unwrap(),
            Role::Server
        );
        assert!(answer_role(Some(Role::Server), Setup::Passive).is_err());
    }
}
