//! A small STUN Binding server with RFC 5780 behaviour discovery (OTHER-ADDRESS, RESPONSE-ORIGIN,
//! CHANGE-REQUEST), for `oxirtc stun` with no server argument and for tests. The TURN server (a later
//! crate) serves Binding on its own ports; this one exists so the probe can be shown and tested anywhere.

use std::io;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use oxirtc_stun::{Attribute, Class, ErrorCode, Message, MessageEncoder, Method};

/// Index of each socket: (primary IP, primary port), (primary IP, other port), (other IP, primary port),
/// (other IP, other port) — RFC 5780 §7.1's four addresses.
const PP: usize = 0;

/// Starts Binding servers.
pub struct BindingServer;

/// A running server; dropping it stops its threads.
pub struct BindingServerHandle {
    /// The address to probe.
    pub primary: SocketAddr,
    /// The alternate address advertised in OTHER-ADDRESS, when two IPs were given.
    pub other: Option<SocketAddr>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl BindingServer {
    /// Listens on `primary` (port 0 = any free port) and, with `alternate_ip`, on the three other addresses
    /// RFC 5780 §7.1 needs (same ports on the alternate IP).
    pub fn start(primary: SocketAddr, alternate_ip: Option<IpAddr>) -> io::Result<BindingServerHandle> {
        let sockets = bind_all(primary, alternate_ip)?;
        let addrs: Vec<SocketAddr> = sockets
            .iter()
            .map(UdpSocket::local_addr)
            .collect::<io::Result<_>>()?;
        let sockets = Arc::new(sockets);
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        for index in 0..sockets.len() {
            let (sockets, addrs, stop) = (Arc::clone(&sockets), addrs.clone(), Arc::clone(&stop));
            threads.push(std::thread::spawn(move || serve(index, &sockets, &addrs, &stop)));
        }
        Ok(BindingServerHandle {
            primary: addrs[PP],
            other: addrs.get(3).copied(),
            stop,
            threads,
        })
    }
}

impl Drop for BindingServerHandle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn bind_all(primary: SocketAddr, alternate_ip: Option<IpAddr>) -> io::Result<Vec<UdpSocket>> {
    let Some(alt) = alternate_ip else {
        return Ok(vec![UdpSocket::bind(primary)?]);
    };
    // Find two ports free on both IPs; ephemeral ports can collide, so retry a few times.
    let mut last_err = None;
    for _ in 0..20 {
        let attempt = (|| {
            let pp = UdpSocket::bind(primary)?;
            let p1 = pp.local_addr()?.port();
            let po = UdpSocket::bind(SocketAddr::new(primary.ip(), 0))?;
            let p2 = po.local_addr()?.port();
            let ap = UdpSocket::bind(SocketAddr::new(alt, p1))?;
            let ao = UdpSocket::bind(SocketAddr::new(alt, p2))?;
            Ok::<_, io::Error>(vec![pp, po, ap, ao])
        })();
        match attempt {
            Ok(s) => return Ok(s),
            Err(e) if primary.port() == 0 => last_err = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last_err.unwrap_or_else(|| io::Error::other("no free port pair")))
}

fn serve(index: usize, sockets: &[UdpSocket], addrs: &[SocketAddr], stop: &AtomicBool) {
    let socket = &sockets[index];
    if socket.set_read_timeout(Some(Duration::from_millis(100))).is_err() {
        return;
    }
    let mut buf = [0u8; 1500];
    while !stop.load(Ordering::Relaxed) {
        let Ok((n, source)) = socket.recv_from(&mut buf) else {
            continue;
        };
        if let Some((from, response)) = respond(&buf[..n], source, index, addrs) {
            if let Err(e) = sockets[from].send_to(&response, source) {
                tracing::debug!(%source, error = %e, "binding server: send failed");
            }
        }
    }
}

/// The sans-IO core: the response to `request` received from `source` on socket `index`, and the socket
/// to send it from. Anything but a well-formed Binding request gets no answer (RFC 8489 §6.3).
pub(crate) fn respond(
    request: &[u8],
    source: SocketAddr,
    index: usize,
    addrs: &[SocketAddr],
) -> Option<(usize, Vec<u8>)> {
    let msg = Message::parse(request).ok()?;
    if msg.class() != Class::Request || msg.method() != Method::BINDING {
        return None;
    }
    let mut out = Vec::with_capacity(96);
    let mut enc = MessageEncoder::new(&mut out, Class::Success, Method::BINDING, msg.transaction_id());
    let unknown = msg.unknown_comprehension_required();
    let change = match msg.attribute(oxirtc_stun::AttrType::CHANGE_REQUEST) {
        Some(Ok(Attribute::ChangeRequest {
            change_ip,
            change_port,
        })) => Some((change_ip, change_port)),
        _ => None,
    };
    if !unknown.is_empty() || (change.is_some() && addrs.len() < 4) {
        // RFC 8489 §6.3.1.1 / RFC 5780 §7.2: a CHANGE-REQUEST we cannot honour is an unknown attribute.
        let mut err = Vec::with_capacity(64);
        let mut e = MessageEncoder::new(&mut err, Class::Error, Method::BINDING, msg.transaction_id());
        e.add(&Attribute::ErrorCode(ErrorCode {
            code: 420,
            reason: "Unknown Attribute",
        }));
        e.add_fingerprint();
        e.finish();
        return Some((index, err));
    }
    // RFC 5780 §7.2: answer from the address the CHANGE-REQUEST names, relative to where it arrived.
    let from = match change {
        Some((ip, port)) => index ^ (if ip { 2 } else { 0 }) ^ (if port { 1 } else { 0 }),
        None => index,
    };
    enc.add(&Attribute::XorMappedAddress(source));
    if addrs.len() == 4 {
        enc.add(&Attribute::ResponseOrigin(addrs[from]));
        // RFC 5780 §7.3: OTHER-ADDRESS is the address differing in both IP and port from where it arrived.
        enc.add(&Attribute::OtherAddress(addrs[index ^ 3]));
    }
    enc.add(&Attribute::Software("oxirtc"));
    enc.add_fingerprint();
    enc.finish();
    Some((from, out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use oxirtc_stun::TransactionId;

    fn addrs() -> Vec<SocketAddr> {
        [
            "127.0.0.1:1000",
            "127.0.0.1:1001",
            "127.0.0.2:1000",
            "127.0.0.2:1001",
        ]
        .iter()
        .map(|a| a.parse().unwrap())
        .collect()
    }

    fn request(change: Option<(bool, bool)>) -> Vec<u8> {
        let mut out = Vec::new();
        let mut enc = MessageEncoder::new(&mut out, Class::Request, Method::BINDING, TransactionId([3; 12]));
        if let Some((change_ip, change_port)) = change {
            enc.add(&Attribute::ChangeRequest {
                change_ip,
                change_port,
            });
        }
        enc.finish();
        out
    }

    #[test]
    fn answers_with_mapped_origin_and_other_address() {
        let src: SocketAddr = "127.0.0.9:5555".parse().unwrap();
        let (from, resp) = respond(&request(None), src, 0, &addrs()).unwrap();
        assert_eq!(from, 0);
        let m = Message::parse(&resp).unwrap();
        assert_eq!(m.xor_mapped_address(), Some(src));
        assert_eq!(m.response_origin(), Some(addrs()[0]));
        assert_eq!(m.other_address(), Some(addrs()[3]));
    }

    #[test]
    fn change_request_picks_the_socket() {
        let src: SocketAddr = "127.0.0.9:5555".parse().unwrap();
        assert_eq!(
            respond(&request(Some((true, true))), src, 0, &addrs()).unwrap().0,
            3
        );
        assert_eq!(
            respond(&request(Some((false, true))), src, 0, &addrs())
                .unwrap()
                .0,
            1
        );
        assert_eq!(
            respond(&request(Some((true, false))), src, 0, &addrs())
                .unwrap()
                .0,
            2
        );
        // Without an alternate address, CHANGE-REQUEST cannot be honoured: 420.
        let (_, resp) = respond(&request(Some((true, true))), src, 0, &addrs()[..1]).unwrap();
        assert_eq!(Message::parse(&resp).unwrap().error_code().unwrap().code, 420);
    }

    #[test]
    fn garbage_gets_nothing() {
        let src: SocketAddr = "127.0.0.9:5555".parse().unwrap();
        assert!(respond(b"hello", src, 0, &addrs()).is_none());
        assert!(respond(&[0u8; 20], src, 0, &addrs()).is_none());
    }
}
