//! Two endpoints through `oxirtc-netsim` links with loss, jitter, duplication and reordering: the
//! handshake completes, duplicated records are never delivered twice, and data flows both ways.
#![allow(clippy::unwrap_used)] // test helpers: a failed set-up should panic loudly

use std::{
    collections::HashSet,
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use oxirtc_crypto::{default_provider, DtlsCertificate, SecureRng};
use oxirtc_dtls::{Dtls, DtlsConfig, DtlsEvent, Role};
use oxirtc_netsim::{Datagram, Endpoint, LinkConfig, Network, Simulation};

struct Peer {
    dtls: Dtls,
    local: SocketAddr,
    remote: SocketAddr,
    received: Vec<Vec<u8>>,
    connected_at: Option<Instant>,
}

impl Endpoint for Peer {
    fn handle_receive(&mut self, now: Instant, datagram: Datagram) {
        self.dtls.handle_receive(now, &datagram.payload);
        while let Some(e) = self.dtls.poll_event() {
            match e {
                DtlsEvent::Connected => self.connected_at = Some(now),
                DtlsEvent::ApplicationData(d) => self.received.push(d),
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.dtls.handle_timeout(now);
    }

    fn poll_transmit(&mut self, _now: Instant) -> Option<Datagram> {
        let payload = self.dtls.poll_transmit()?;
        Some(Datagram {
            source: self.local,
            destination: self.remote,
            payload,
        })
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        self.dtls.poll_timeout()
    }
}

#[allow(clippy::disallowed_methods)] // the one real clock read of a test; everything after is virtual
fn start() -> Instant {
    Instant::now()
}

#[test]
fn handshake_and_data_over_an_impaired_network() {
    let link = LinkConfig {
        delay: Duration::from_millis(20),
        jitter: Duration::from_millis(40),
        loss: 0.05,
        duplicate: 0.05,
        reorder: 0.1,
        mtu: 1200,
        ..LinkConfig::default()
    };
    let (cc, sc) = (
        Arc::new(DtlsCertificate::generate().unwrap()),
        Arc::new(DtlsCertificate::generate().unwrap()),
    );
    let mut setup_times = Vec::new();
    let mut replays = 0;
    for seed in 0..8u64 {
        let t0 = start();
        let mut net = Network::new(seed, t0);
        let (a_ip, b_ip) = ("198.51.100.1".parse().unwrap(), "203.0.113.1".parse().unwrap());
        let a = net.add_host(a_ip, None, link.clone());
        let b = net.add_host(b_ip, None, link.clone());
        let (a_addr, b_addr) = (SocketAddr::new(a_ip, 5000), SocketAddr::new(b_ip, 5000));
        let crypto = default_provider();
        let mut client = Dtls::new(
            DtlsConfig::default(),
            Role::Client,
            cc.clone(),
            crypto,
            SecureRng::from_seed([seed as u8; 32]),
        );
        let mut server = Dtls::new(
            DtlsConfig::default(),
            Role::Server,
            sc.clone(),
            crypto,
            SecureRng::from_seed([!seed as u8; 32]),
        );
        client.set_remote_fingerprint(sc.fingerprint());
        server.set_remote_fingerprint(cc.fingerprint());
        client.start(t0);
        let mut sim = Simulation::new(net);
        let peer = |dtls, local, remote| Peer {
            dtls,
            local,
            remote,
            received: Vec::new(),
            connected_at: None,
        };
        let ci = sim.add_endpoint(a, peer(client, a_addr, b_addr));
        let si = sim.add_endpoint(b, peer(server, b_addr, a_addr));
        let both =
            |s: &Simulation<Peer>| s.endpoint(ci).dtls.is_connected() && s.endpoint(si).dtls.is_connected();
        assert!(sim.run_until(Duration::from_secs(30), both), "seed {seed}");
        setup_times.push(sim.endpoint(ci).connected_at.unwrap() - t0);

        for i in 0..200u32 {
            let msg = [&i.to_be_bytes()[..], &[0x5a; 600]].concat();
            sim.endpoint_mut(ci).dtls.send_application_data(&msg).unwrap();
            sim.endpoint_mut(si).dtls.send_application_data(&msg).unwrap();
            sim.run_for(Duration::from_millis(2));
        }
        sim.run_for(Duration::from_secs(1));
        for idx in [ci, si] {
            let got = &sim.endpoint(idx).received;
            let unique: HashSet<&Vec<u8>> = got.iter().collect();
            assert_eq!(
                unique.len(),
                got.len(),
                "seed {seed}: a duplicated record was delivered twice"
            );
            // DTLS does not retransmit application data: about 10 % is lost over two impaired links.
            assert!(
                got.len() > 150 && got.len() <= 200,
                "seed {seed}: {} of 200",
                got.len()
            );
            assert!(got
                .iter()
                .all(|m| m.len() == 604 && m[4..].iter().all(|&b| b == 0x5a)));
        }
        let (cs, ss) = (sim.endpoint(ci).dtls.stats(), sim.endpoint(si).dtls.stats());
        replays += cs.dropped_replay + ss.dropped_replay;
    }
    assert!(
        replays > 0,
        "5 % duplication must have produced replayed records to drop"
    );
    setup_times.sort();
    eprintln!("virtual set-up times over 8 seeds: {setup_times:?}");
}
