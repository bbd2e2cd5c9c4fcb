//! Relayed candidates (RFC 8445 §5.1.1.2, RFC 8656): one TURN client per (host socket, TURN server).
//! Datagrams from a relayed candidate go out through its client (ChannelData once a channel is bound
//! to the selected peer, Send indications before); data the server relays back is handled as if it had
//! arrived on the relayed address.

use std::net::SocketAddr;
use std::time::Instant;

use oxirtc_ice::Candidate;
use oxirtc_turn::{ClientConfig, Transport, TurnClient, TurnEvent};

use super::{Rtc, Transmit};
use crate::RtcEvent;

/// A TURN client bound to one local socket.
pub(crate) struct TurnSlot {
    pub client: TurnClient,
    /// The host socket its traffic uses.
    pub local: SocketAddr,
    /// The allocation's relayed address, once allocated.
    pub relayed: Option<SocketAddr>,
    /// How the server is reached.
    pub transport: TurnTransport,
}

/// W3C `iceTransportPolicy`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IceTransportPolicy {
    /// Host, server-reflexive and relayed candidates.
    #[default]
    All,
    /// Relayed candidates only: the peer never learns our addresses and all traffic goes via TURN.
    Relay,
}

/// How the client reaches a TURN server (RFC 8656 §3.1): `turn:...?transport=udp|tcp`, `turns:`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum TurnTransport {
    /// UDP from the host socket.
    #[default]
    Udp,
    /// A TCP connection (RFC 8656 framing); the driver owns it.
    Tcp,
    /// TLS over TCP (`turns:`); the driver owns it and checks the certificate for this server name.
    Tls {
        /// The name the server's certificate must carry (a DNS name or an IP address).
        server_name: String,
    },
}

/// A TURN server to allocate on (W3C `RTCIceServer` with a `turn:`/`turns:` URL).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TurnServerConfig {
    /// The server's address.
    pub server: SocketAddr,
    /// Long-term credential username (RFC 8489 §9.2).
    pub username: String,
    /// Long-term credential password.
    pub password: String,
    /// UDP, TCP or TLS.
    pub transport: TurnTransport,
}

impl TurnServerConfig {
    /// A server reached over UDP.
    pub fn udp(server: SocketAddr, username: &str, password: &str) -> Self {
        TurnServerConfig {
            server,
            username: username.to_owned(),
            password: password.to_owned(),
            transport: TurnTransport::Udp,
        }
    }
}

/// A TURN connection over TCP or TLS that the driver must open and feed: transmits whose
/// `(source, destination)` is `(local, server)` are written to it, and frames read from it are given to
/// `Rtc::handle_receive(now, server, local, frame)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TurnStream {
    /// Identifies the stream on our side (the host IP with port 0; never a real socket).
    pub local: SocketAddr,
    /// The server.
    pub server: SocketAddr,
    /// TCP or TLS.
    pub transport: TurnTransport,
}

/// Local preference of relayed candidates: below host ones, distinct per slot (RFC 8445 §5.1.2.1).
const RELAY_LOCAL_PREFERENCE: u16 = 60_000;

impl Rtc {
    /// Starts an allocation on every configured TURN server of `local`'s address family.
    pub(crate) fn start_turn(&mut self, now: Instant, local: SocketAddr) {
        for server in self.config.turn_servers.clone() {
            if server.server.is_ipv4() != local.is_ipv4() {
                continue;
            }
            let mut config = ClientConfig::new(server.server, &server.username, &server.password);
            // Stream transports are told apart from the UDP socket by port 0 on the same IP.
            let slot_local = match server.transport {
                TurnTransport::Udp => local,
                TurnTransport::Tcp | TurnTransport::Tls { .. } => {
                    config.transport = Transport::Tcp;
                    SocketAddr::new(local.ip(), 0)
                }
            };
            let mut client = TurnClient::new(config, self.crypto, self.rng.fork());
            client.allocate(now);
            self.turn.push(TurnSlot {
                client,
                local: slot_local,
                relayed: None,
                transport: server.transport.clone(),
            });
            self.ice.set_owner_gathering(now, true);
        }
    }

    /// A datagram from a TURN server to the socket its client uses: the client consumes it. Returns
    /// whether it was TURN traffic.
    pub(crate) fn receive_turn(
        &mut self,
        now: Instant,
        source: SocketAddr,
        destination: SocketAddr,
        data: &[u8],
    ) -> bool {
        let Some(slot) = self
            .turn
            .iter_mut()
            .find(|s| s.client.server() == source && s.local == destination)
        else {
            return false;
        };
        slot.client.handle_receive(now, source, data)
    }

    /// Drains every TURN client: new allocations become relayed candidates, relayed data is handled
    /// as received on the relayed address, requests go out from the slot's socket.
    pub(crate) fn drain_turn(&mut self, now: Instant) -> bool {
        let mut moved = false;
        for i in 0..self.turn.len() {
            while let Some(ev) = self.turn[i].client.poll_event() {
                moved = true;
                self.on_turn_event(now, i, ev);
            }
            while let Some(t) = self.turn[i].client.poll_transmit(now) {
                moved = true;
                self.out.push_back(Transmit {
                    source: self.turn[i].local,
                    destination: t.destination,
                    contents: t.contents,
                });
            }
        }
        moved
    }

    fn on_turn_event(&mut self, now: Instant, i: usize, ev: TurnEvent) {
        match ev {
            TurnEvent::Allocated { relayed, mapped } => {
                tracing::debug!(%relayed, %mapped, "rtc: TURN allocation");
                self.turn[i].relayed = Some(relayed);
                let pref = RELAY_LOCAL_PREFERENCE.saturating_sub(i as u16);
                let candidate = Candidate::relayed(relayed, mapped, pref);
                let line = candidate.to_sdp();
                match self.ice.add_local_candidate(now, candidate) {
                    Ok(()) if !self.local_candidates.contains(&line) => {
                        self.local_candidates.push(line.clone());
                        self.events.push_back(RtcEvent::LocalCandidate(line));
                    }
                    Ok(()) => {}
                    Err(e) => tracing::warn!(error = %e, "rtc: relayed candidate refused"),
                }
            }
            TurnEvent::PeerData { peer, data } => {
                if let Some(relayed) = self.turn[i].relayed {
                    self.receive_datagram(now, peer, relayed, &data);
                }
            }
            TurnEvent::AllocationFailed(e) => {
                tracing::warn!(server = %self.turn[i].client.server(), error = %e, "rtc: TURN allocation failed");
            }
            _ => {}
        }
    }

    /// A transmit whose source is a relayed address goes through that allocation's client; returns
    /// the transmit unchanged otherwise.
    pub(crate) fn route_via_turn(&mut self, now: Instant, t: Transmit) -> Option<Transmit> {
        let Some(slot) = self.turn.iter_mut().find(|s| s.relayed == Some(t.source)) else {
            return Some(t);
        };
        if let Err(e) = slot.client.send_to(now, t.destination, &t.contents) {
            tracing::debug!(error = %e, "rtc: could not relay a datagram");
        }
        while let Some(w) = slot.client.poll_transmit(now) {
            self.out.push_back(Transmit {
                source: slot.local,
                destination: w.destination,
                contents: w.contents,
            });
        }
        None
    }

    /// SCTP packet sizes `(BASE, MAX)` for the pair data goes on (RFC 8899 §5.1.2): IP/UDP of the hop we
    /// send on (to the TURN server when relayed) and the TURN framing come off the IP path sizes. A
    /// relayed *remote* candidate counts too: its server wraps our datagrams in a Data indication or
    /// ChannelData on the leg to the peer (RFC 8656 §11.3, §12). DTLS can be up before the nomination
    /// arrives (RFC 8445 §12.1); the controlling side nominates the best valid pair, which is the one
    /// [`IceAgent::valid_pair`](oxirtc_ice::IceAgent::valid_pair) picks on both sides.
    pub(crate) fn sctp_packet_sizes(&self, now: Instant) -> (usize, usize) {
        // `data_path` also covers a DTLS server that finished its handshake before its own check of
        // the pair was answered: the path the handshake came on is then the data path.
        let shape = match self.data_path(now) {
            Some((local, remote)) => match self.turn.iter().find(|s| s.relayed == Some(local)) {
                Some(slot) => crate::PathShape {
                    ipv6: slot.client.server().is_ipv6() && remote.is_ipv6(),
                    relayed: true,
                },
                None => crate::PathShape {
                    ipv6: remote.is_ipv6(),
                    relayed: self
                        .ice
                        .remote_candidates()
                        .iter()
                        .any(|c| c.addr == remote && c.kind == oxirtc_ice::CandidateKind::Relayed),
                },
            },
            // No path known at all: assume the worst.
            None => crate::PathShape {
                ipv6: false,
                relayed: true,
            },
        };
        let sizes = self.config.path_mtu.sctp_sizes(shape);
        tracing::debug!(?shape, base = sizes.0, max = sizes.1, "rtc: SCTP packet sizes");
        sizes
    }

    /// The selected pair uses a relayed candidate: bind a channel to the peer so data carries a 4-byte
    /// ChannelData header instead of a 36-byte Send indication (RFC 8656 §12).
    pub(crate) fn bind_selected_channel(&mut self, now: Instant, local: SocketAddr, remote: SocketAddr) {
        if let Some(slot) = self.turn.iter_mut().find(|s| s.relayed == Some(local)) {
            if let Err(e) = slot.client.bind_channel(now, remote) {
                tracing::debug!(error = %e, "rtc: channel bind failed; Send indications continue");
            }
        }
    }

    /// TURN connections over TCP/TLS the driver must open (see [`TurnStream`]).
    pub fn turn_streams(&self) -> Vec<TurnStream> {
        self.turn
            .iter()
            .filter(|s| s.transport != TurnTransport::Udp)
            .map(|s| TurnStream {
                local: s.local,
                server: s.client.server(),
                transport: s.transport.clone(),
            })
            .collect()
    }

    /// Releases every allocation (lifetime 0, RFC 8656 §7.2).
    pub(crate) fn deallocate_turn(&mut self, now: Instant) {
        for slot in &mut self.turn {
            slot.client.deallocate(now);
        }
        self.drain_turn(now);
    }
}
