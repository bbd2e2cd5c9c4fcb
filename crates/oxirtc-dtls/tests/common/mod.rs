//! Two DTLS endpoints over a seeded in-memory link on a virtual clock (no sockets, no sleeps).
#![allow(clippy::unwrap_used, dead_code)]

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use oxirtc_crypto::{default_provider, DtlsCertificate, SecureRng};
use oxirtc_dtls::{Dtls, DtlsConfig, DtlsEvent, Role};

/// Link impairments.
#[derive(Debug, Clone, Copy, Default)]
pub struct Link {
    /// Per-mille chance to drop a datagram.
    pub loss_per_mille: u64,
    /// Extra random delay up to this, which reorders datagrams.
    pub jitter: Duration,
}

/// Rewrites or drops a datagram `(to_server, datagram)` before the link.
pub type Tamper = Box<dyn FnMut(bool, Vec<u8>) -> Option<Vec<u8>>>;

#[allow(clippy::disallowed_methods)] // the one real clock read of a test; everything after is virtual
pub fn epoch() -> Instant {
    Instant::now()
}

pub struct Pair {
    pub client: Dtls,
    pub server: Dtls,
    pub client_cert: Arc<DtlsCertificate>,
    pub server_cert: Arc<DtlsCertificate>,
    pub now: Instant,
    pub start: Instant,
    pub link: Link,
    rng: SecureRng,
    /// (deliver at, to the server?, datagram)
    in_flight: Vec<(Instant, bool, Vec<u8>)>,
    pub client_events: Vec<DtlsEvent>,
    pub server_events: Vec<DtlsEvent>,
    /// Every datagram the client / server sent, in order (seeds for fuzzing and mutation tests).
    pub client_sent: Vec<Vec<u8>>,
    pub server_sent: Vec<Vec<u8>>,
    /// Optional hook: replaces or drops datagrams (to_server, datagram) before the link.
    pub tamper: Option<Tamper>,
}

pub fn certs() -> (Arc<DtlsCertificate>, Arc<DtlsCertificate>) {
    (
        Arc::new(DtlsCertificate::generate().unwrap()),
        Arc::new(DtlsCertificate::generate().unwrap()),
    )
}

impl Pair {
    /// A client and a server that know each other's fingerprint.
    pub fn new(client_cfg: DtlsConfig, server_cfg: DtlsConfig, seed: u8) -> Self {
        let mut p = Self::without_fingerprints(client_cfg, server_cfg, seed);
        p.client.set_remote_fingerprint(p.server_cert.fingerprint());
        p.server.set_remote_fingerprint(p.client_cert.fingerprint());
        p
    }

    pub fn without_fingerprints(client_cfg: DtlsConfig, server_cfg: DtlsConfig, seed: u8) -> Self {
        let (cc, sc) = certs();
        let crypto = default_provider();
        let client = Dtls::new(
            client_cfg,
            Role::Client,
            cc.clone(),
            crypto,
            SecureRng::from_seed([seed; 32]),
        );
        let server = Dtls::new(
            server_cfg,
            Role::Server,
            sc.clone(),
            crypto,
            SecureRng::from_seed([seed ^ 0x55; 32]),
        );
        let now = epoch();
        Self {
            client,
            server,
            client_cert: cc,
            server_cert: sc,
            now,
            start: now,
            link: Link::default(),
            rng: SecureRng::from_seed([seed ^ 0xaa; 32]),
            in_flight: Vec::new(),
            client_events: Vec::new(),
            server_events: Vec::new(),
            client_sent: Vec::new(),
            server_sent: Vec::new(),
            tamper: None,
        }
    }

    fn collect(&mut self) {
        let base = Duration::from_millis(10);
        let mut out = Vec::new();
        while let Some(d) = self.client.poll_transmit() {
            self.client_sent.push(d.clone());
            out.push((true, d));
        }
        while let Some(d) = self.server.poll_transmit() {
            self.server_sent.push(d.clone());
            out.push((false, d));
        }
        for (to_server, d) in out {
            let d = match &mut self.tamper {
                Some(t) => match t(to_server, d) {
                    Some(d) => d,
                    None => continue,
                },
                None => d,
            };
            if self.rng.below(1000) < self.link.loss_per_mille {
                continue;
            }
            let jitter_us = self.link.jitter.as_micros() as u64;
            let extra = if jitter_us > 0 {
                self.rng.below(jitter_us)
            } else {
                0
            };
            self.in_flight
                .push((self.now + base + Duration::from_micros(extra), to_server, d));
        }
        while let Some(e) = self.client.poll_event() {
            self.client_events.push(e);
        }
        while let Some(e) = self.server.poll_event() {
            self.server_events.push(e);
        }
    }

    /// Advances to the next delivery or timer; false if nothing is pending.
    pub fn step(&mut self) -> bool {
        self.collect();
        let next_delivery = self.in_flight.iter().map(|(t, _, _)| *t).min();
        let next = [
            next_delivery,
            self.client.poll_timeout(),
            self.server.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min();
        let Some(next) = next else { return false };
        self.now = self.now.max(next);
        let now = self.now;
        let mut due = Vec::new();
        self.in_flight.retain(|(t, s, d)| {
            if *t <= now {
                due.push((*t, *s, d.clone()));
                false
            } else {
                true
            }
        });
        due.sort_by_key(|(t, _, _)| *t);
        for (_, to_server, d) in due {
            if to_server {
                self.server.handle_receive(now, &d);
            } else {
                self.client.handle_receive(now, &d);
            }
        }
        if self.client.poll_timeout().is_some_and(|t| t <= now) {
            self.client.handle_timeout(now);
        }
        if self.server.poll_timeout().is_some_and(|t| t <= now) {
            self.server.handle_timeout(now);
        }
        self.collect();
        true
    }

    /// Steps until `done` or until nothing is pending / `max_steps` is reached.
    pub fn run_until(&mut self, max_steps: usize, mut done: impl FnMut(&Self) -> bool) -> bool {
        for _ in 0..max_steps {
            if done(self) {
                return true;
            }
            if !self.step() {
                return done(self);
            }
        }
        done(self)
    }

    pub fn connect(&mut self, max_steps: usize) -> bool {
        let now = self.now;
        self.client.start(now);
        self.run_until(max_steps, |p| p.client.is_connected() && p.server.is_connected())
    }

    pub fn app_data(events: &[DtlsEvent]) -> Vec<Vec<u8>> {
        events
            .iter()
            .filter_map(|e| match e {
                DtlsEvent::ApplicationData(d) => Some(d.clone()),
                _ => None,
            })
            .collect()
    }
}
