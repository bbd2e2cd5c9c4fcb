//! Applying our own description (W3C webrtc-pc §4.4.1.5-6 `setLocalDescription`, RFC 8829 §5.4):
//! implicitly, by type with an empty SDP, or with the SDP we created, give or take what does not
//! change the session.

use std::time::Instant;

use oxirtc_dtls::Role;
use oxirtc_sdp::{SessionDescription, Setup};

use super::Rtc;
use crate::jsep::compare::session_difference;
use crate::jsep::{Description, SdpType, Side, SignalingState};
use crate::RtcError;

impl Rtc {
    /// Applies our own offer or answer (W3C `setLocalDescription(description)`):
    ///
    /// - the description [`Rtc::create_offer`] / [`Rtc::create_answer`] returned, or the same text
    ///   with other line endings, trailing whitespace or other `a=candidate` / `a=end-of-candidates`
    ///   lines (our candidates come from ICE, not from the text);
    /// - an empty `sdp`: the offer or answer created last, or a new one if there is none or the
    ///   last one is out of date (W3C §4.4.1.6 steps 6-7).
    ///
    /// Any other change (SDP munging) is refused with [`RtcError::DescriptionModified`], naming the
    /// line that differs; nothing changes then. A description created before a later
    /// `set_remote_description` or [`Rtc::restart_ice`] is out of date and refused the same way.
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use oxirtc::{Description, Rtc, RtcConfig, SdpType};
    /// # fn main() -> Result<(), oxirtc::RtcError> {
    /// let now = Instant::now();
    /// let mut rtc = Rtc::new(RtcConfig::default())?;
    /// let offer = rtc.create_offer(now)?;
    /// // What signaling may do to the text is fine: here, LF line endings.
    /// let relayed = Description { sdp_type: SdpType::Offer, sdp: offer.sdp.replace("\r\n", "\n") };
    /// rtc.set_local_description(now, &relayed)?;
    /// # Ok(()) }
    /// ```
    pub fn set_local_description(&mut self, now: Instant, desc: &Description) -> Result<(), RtcError> {
        let next = self.signaling.next(Side::Local, desc.sdp_type)?;
        let desc = if desc.sdp.trim().is_empty() {
            self.last_created_or_new(now, desc.sdp_type)?
        } else {
            self.check_created(desc)?
        };
        let sdp = SessionDescription::parse(&desc.sdp)?;
        self.apply_local(now, next, desc.sdp_type, &sdp)
    }

    /// W3C `setLocalDescription()` with no argument (webrtc-pc §4.4.1.6 step 3): creates and applies
    /// an offer in the stable or have-local-offer state, an answer in have-remote-offer (reusing
    /// the one created last if it is still up to date). Returns the applied description, to send
    /// to the peer.
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use oxirtc::{Rtc, RtcConfig, SdpType};
    /// # fn main() -> Result<(), oxirtc::RtcError> {
    /// let now = Instant::now();
    /// let (mut a, mut b) = (Rtc::new(RtcConfig::default())?, Rtc::new(RtcConfig::default())?);
    /// let offer = a.set_local_description_implicit(now)?;
    /// assert_eq!(offer.sdp_type, SdpType::Offer);
    /// b.set_remote_description(now, &offer)?;
    /// let answer = b.set_local_description_implicit(now)?;
    /// assert_eq!(answer.sdp_type, SdpType::Answer);
    /// a.set_remote_description(now, &answer)?;
    /// # Ok(()) }
    /// ```
    pub fn set_local_description_implicit(&mut self, now: Instant) -> Result<Description, RtcError> {
        let sdp_type = match self.signaling {
            SignalingState::HaveRemoteOffer => SdpType::Answer,
            // Closed: refused below with the signaling state named.
            SignalingState::Stable | SignalingState::HaveLocalOffer | SignalingState::Closed => {
                SdpType::Offer
            }
        };
        let next = self.signaling.next(Side::Local, sdp_type)?;
        let desc = self.last_created_or_new(now, sdp_type)?;
        let sdp = SessionDescription::parse(&desc.sdp)?;
        self.apply_local(now, next, sdp_type, &sdp)?;
        Ok(desc)
    }

    /// The offer or answer created last, if it is of `sdp_type` and up to date; else a new one.
    fn last_created_or_new(&mut self, now: Instant, sdp_type: SdpType) -> Result<Description, RtcError> {
        match &self.created {
            Some(created) if created.sdp_type == sdp_type => Ok(created.clone()),
            _ => match sdp_type {
                SdpType::Offer => self.create_offer(now),
                SdpType::Answer => self.create_answer(now),
            },
        }
    }

    /// Our created description, if `given` is it up to what does not change the session.
    fn check_created(&self, given: &Description) -> Result<Description, RtcError> {
        let ty = given.sdp_type;
        let Some(created) = self.created.as_ref().filter(|c| c.sdp_type == ty) else {
            return Err(RtcError::DescriptionModified(format!(
                "no {ty} created since the last change of the session (a remote description, \
                 restart_ice) to compare it with: call create_{ty} and apply what it returns, or \
                 apply an empty sdp (or set_local_description_implicit) to create one"
            )));
        };
        match session_difference(&created.sdp, &given.sdp) {
            None => Ok(created.clone()),
            Some(difference) => Err(RtcError::DescriptionModified(format!(
                "the {ty} differs from the one create_{ty} returned: {difference}. SDP munging is not \
                 supported: apply the {ty} create_{ty} returned (or an empty sdp), and change the \
                 session through the API (create_data_channel, restart_ice, RtcConfig)"
            ))),
        }
    }

    /// Applies our description once it is known to be the one we created (RFC 8829 §5.4).
    fn apply_local(
        &mut self,
        now: Instant,
        next: SignalingState,
        sdp_type: SdpType,
        sdp: &SessionDescription,
    ) -> Result<(), RtcError> {
        // Taken before anything changes, so a refusal leaves the connection as it was.
        let remote = match sdp_type {
            SdpType::Offer => None,
            SdpType::Answer => Some(
                self.pending_remote
                    .take()
                    .ok_or_else(|| RtcError::InvalidState("no remote offer to answer".into()))?,
            ),
        };
        self.signaling = next;
        self.negotiations = self.negotiations.wrapping_add(1);
        self.applied_setup = self.created_setup;
        match remote {
            None => {
                if !self.ice_role_set {
                    // RFC 8829 §3.5.3 / RFC 8445 §6.1.1: the offerer is the controlling agent.
                    self.ice.set_controlling(now, true);
                    self.ice_role_set = true;
                }
            }
            Some(remote) => {
                let role = match sdp.section(0).and_then(|s| s.setup()) {
                    Some(Setup::Active) => Role::Client,
                    _ => Role::Server,
                };
                self.dtls_waits_for_peer_check = role == Role::Client && !remote.ice_lite;
                self.remote = Some(*remote);
                // Applied and stable: the answer we created cannot be applied again (another
                // answer needs a new remote offer), so its text is not kept (issue 15).
                self.created = None;
                self.set_dtls_role(now, role);
                self.announce_tracks();
            }
        }
        self.pump(now);
        Ok(())
    }
}
