//! Interop with OpenSSL's DTLS 1.2 server holding an RSA certificate (ECDHE_RSA, RFC 8422 §5.4):
//! `openssl s_server -dtls1_2` with a 2048-bit RSA key and a self-signed certificate generated at test
//! time, driven over loopback UDP by our client (a std socket in this test; the DTLS crate stays
//! sans-IO). The server asks for a client certificate, so our ECDSA CertificateVerify goes to an RSA
//! server too. Application data goes both ways: s_server prints what it receives and sends what is
//! written to its stdin. Skipped with a message when openssl is missing, unless
//! OXIRTC_REQUIRE_INTEROP=1.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test set-up: a failure should panic loudly

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{SocketAddr, UdpSocket},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{mpsc, Arc},
    thread,
    time::{Duration, Instant},
};

use oxirtc_crypto::{default_provider, DtlsCertificate, Fingerprint, SecureRng};
use oxirtc_dtls::{CipherSuite, Dtls, DtlsConfig, DtlsEvent, Role};

const FROM_US: &str = "hello from oxirtc over ECDHE_RSA";
const FROM_OPENSSL: &str = "hello from openssl s_server";

/// Whether `openssl` runs; otherwise the test is skipped (or fails under OXIRTC_REQUIRE_INTEROP=1).
fn openssl_available() -> bool {
    let ok = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        let msg = "openssl not found: install it (Debian: apt-get install openssl) to run the DTLS RSA interop test";
        assert!(
            std::env::var("OXIRTC_REQUIRE_INTEROP").as_deref() != Ok("1"),
            "{msg} (OXIRTC_REQUIRE_INTEROP=1)"
        );
        eprintln!("skipping: {msg}");
    }
    ok
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A fresh RSA 2048 key and self-signed certificate in `dir`; returns the certificate's DER.
fn rsa_identity(dir: &Path) -> Vec<u8> {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "key.pem",
            "-out",
            "cert.pem",
            "-days",
            "2",
            "-subj",
            "/CN=oxirtc-rsa-interop",
        ],
    );
    openssl(
        dir,
        &["x509", "-in", "cert.pem", "-outform", "DER", "-out", "cert.der"],
    );
    std::fs::read(dir.join("cert.der")).unwrap()
}

/// The s_server process, killed (by its own handle) when the test ends, however it ends.
struct Server {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(dir: &Path, sigalgs: Option<&str>) -> Self {
        let mut args = vec![
            "s_server",
            "-dtls1_2",
            "-accept",
            "127.0.0.1:0",
            "-cert",
            "cert.pem",
            "-key",
            "key.pem",
            "-naccept",
            "1",
            "-verify",
            "1",
        ];
        if let Some(s) = sigalgs {
            args.extend(["-sigalgs", s]);
        }
        let mut child = Command::new("openssl")
            .current_dir(dir)
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, lines) = mpsc::channel();
        forward_lines(child.stdout.take().unwrap(), tx.clone());
        forward_lines(child.stderr.take().unwrap(), tx);
        Self {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Collects what s_server printed so far (waiting up to `wait` for the first line).
    fn poll(&mut self, wait: Duration) {
        if let Ok(line) = self.lines.recv_timeout(wait) {
            self.seen.push(line);
        }
        self.seen.extend(self.lines.try_iter());
    }

    fn printed(&self, needle: &str) -> bool {
        self.seen.iter().any(|l| l.contains(needle))
    }

    fn address(&mut self) -> SocketAddr {
        let deadline = now() + Duration::from_secs(10);
        while now() < deadline {
            self.poll(Duration::from_millis(100));
            let accept = self.seen.iter().find_map(|l| l.strip_prefix("ACCEPT "));
            if let Some(addr) = accept {
                return addr.trim().parse().unwrap();
            }
        }
        panic!("s_server did not start listening: {:?}", self.seen);
    }

    fn type_line(&mut self, line: &str) {
        let stdin = self.child.stdin.as_mut().unwrap();
        stdin.write_all(format!("{line}\n").as_bytes()).unwrap();
        stdin.flush().unwrap();
    }
}

fn forward_lines(from: impl Read + Send + 'static, to: mpsc::Sender<String>) {
    thread::spawn(move || {
        for line in BufReader::new(from).lines() {
            let Ok(line) = line else { break };
            if to.send(line).is_err() {
                break;
            }
        }
    });
}

#[allow(clippy::disallowed_methods)] // the test drives the sans-IO client with the real clock
fn now() -> Instant {
    Instant::now()
}

/// One handshake and exchange against a fresh s_server; returns the suite our client negotiated.
fn connect_and_exchange(
    dir: &Path,
    cert_der: &[u8],
    suites: &[CipherSuite],
    sigalgs: Option<&str>,
) -> CipherSuite {
    let mut server = Server::start(dir, sigalgs);
    let addr = server.address();
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.connect(addr).unwrap();
    socket.set_read_timeout(Some(Duration::from_millis(20))).unwrap();

    let config = DtlsConfig {
        cipher_suites: suites.to_vec(),
        ..DtlsConfig::default()
    };
    let mut client = Dtls::new(
        config,
        Role::Client,
        Arc::new(DtlsCertificate::generate().unwrap()),
        default_provider(),
        SecureRng::from_os(default_provider()).unwrap(),
    );
    client.set_remote_fingerprint(Fingerprint::of_der(cert_der));
    client.start(now());

    let deadline = now() + Duration::from_secs(20);
    let mut received = Vec::<u8>::new();
    let mut buf = [0u8; 65536];
    loop {
        assert!(
            now() < deadline,
            "no exchange within 20 s; s_server said {:?}",
            server.seen
        );
        while let Some(d) = client.poll_transmit() {
            socket.send(&d).unwrap();
        }
        match socket.recv(&mut buf) {
            Ok(n) => client.handle_receive(now(), &buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => panic!("recv: {e}"),
        }
        if client.poll_timeout().is_some_and(|t| t <= now()) {
            client.handle_timeout(now());
        }
        while let Some(e) = client.poll_event() {
            match e {
                DtlsEvent::Connected => {
                    client
                        .send_application_data(format!("{FROM_US}\n").as_bytes())
                        .unwrap();
                    server.type_line(FROM_OPENSSL);
                }
                DtlsEvent::ApplicationData(data) => received.extend(data),
                other => panic!("unexpected {other:?}; s_server said {:?}", server.seen),
            }
        }
        server.poll(Duration::ZERO);
        let ours_arrived = server.printed(FROM_US);
        if ours_arrived && String::from_utf8_lossy(&received).contains(FROM_OPENSSL) {
            break;
        }
    }
    let suite = client.cipher_suite().unwrap();
    // s_server names the suite it agreed, and shows the client certificate it was sent and the
    // algorithm of the CertificateVerify it checked (ours: ECDSA, toward an RSA server too).
    let openssl_name = match suite {
        CipherSuite::EcdheRsaAes128GcmSha256 => "ECDHE-RSA-AES128-GCM-SHA256",
        CipherSuite::EcdheRsaAes256GcmSha384 => "ECDHE-RSA-AES256-GCM-SHA384",
        other => panic!("negotiated {other}, not an ECDHE_RSA suite"),
    };
    assert!(
        server.printed(&format!("CIPHER is {openssl_name}")),
        "{:?}",
        server.seen
    );
    assert!(server.printed("Client certificate"), "{:?}", server.seen);
    assert!(server.printed("Peer signature type: ECDSA"), "{:?}", server.seen);
    client.close(now());
    while let Some(d) = client.poll_transmit() {
        socket.send(&d).unwrap();
    }
    suite
}

#[test]
fn openssl_rsa_server_completes_with_ecdhe_rsa_and_data_flows_both_ways() {
    if !openssl_available() {
        return;
    }
    let dir: PathBuf = std::env::temp_dir().join(format!("oxirtc-rsa-interop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cert_der = rsa_identity(&dir);

    // Our default offer: OpenSSL follows the client's order, skips the ECDSA suites (its key is RSA)
    // and signs with the first RSA scheme we list (rsa_pkcs1_sha256).
    let suite = connect_and_exchange(&dir, &cert_der, &DtlsConfig::default().cipher_suites, None);
    assert_eq!(suite, CipherSuite::EcdheRsaAes128GcmSha256);
    // The SHA-384 suite, and servers restricted to SHA-384 / SHA-512 signatures (their only RSA
    // scheme, so the handshake succeeds only if we offer and verify it).
    for (suites, sigalgs, want) in [
        (
            vec![CipherSuite::EcdheRsaAes256GcmSha384],
            "RSA+SHA384:ECDSA+SHA256",
            CipherSuite::EcdheRsaAes256GcmSha384,
        ),
        (
            vec![CipherSuite::EcdheRsaAes128GcmSha256],
            "RSA+SHA512:ECDSA+SHA256",
            CipherSuite::EcdheRsaAes128GcmSha256,
        ),
    ] {
        assert_eq!(
            connect_and_exchange(&dir, &cert_der, &suites, Some(sigalgs)),
            want,
            "{sigalgs}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
