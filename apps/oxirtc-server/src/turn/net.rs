//! Socket set-up and the TCP/TLS tasks: listener binding, the client-IP → worker map, TCP framing
//! (RFC 8656 §12.5, RFC 8489 §6.2.2). The UDP fast path is in `udp.rs`.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, SocketAddr};

use anyhow::Context;
use oxirtc_turn::{tcp_frame_len, FiveTuple, Transport};
use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use super::worker::Input;

/// A TCP client must send its first complete frame within this long (slow-loris guard).
const FIRST_FRAME_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// Then it must send something at least this often: clients refresh permissions every 4-5 minutes
/// and allocations every 10, so 15 minutes of silence means the client is gone.
const IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// Largest TURN frame over TCP: a STUN message or ChannelData of 65535 bytes plus header and padding.
const MAX_FRAME: usize = 65_535 + 20 + 4;

pub(crate) struct Listeners {
    /// Non-blocking; each worker registers its own duplicate on its own runtime.
    pub udp: Vec<std::net::UdpSocket>,
    pub tcp: Vec<TcpListener>,
}

fn socket(addr: SocketAddr, ty: Type, proto: Protocol) -> std::io::Result<Socket> {
    let s = Socket::new(Domain::for_address(addr), ty, Some(proto))?;
    if addr.is_ipv6() {
        s.set_only_v6(true)?;
    }
    if ty == Type::STREAM {
        s.set_reuse_address(true)?; // TIME_WAIT only; a live listener still makes bind fail
    }
    s.set_nonblocking(true)?;
    s.bind(&addr.into())?;
    Ok(s)
}

/// Binds one UDP socket and one TCP listener per address (port 0 is resolved by the UDP bind). A port
/// in use is an error naming the address.
pub(crate) fn bind_listeners(addrs: &[SocketAddr]) -> anyhow::Result<Listeners> {
    let mut out = Listeners {
        udp: Vec::new(),
        tcp: Vec::new(),
    };
    for &asked in addrs {
        let udp = bind_udp(asked)?;
        let addr = udp.local_addr()?;
        let tcp = socket(addr, Type::STREAM, Protocol::TCP)
            .with_context(|| format!("cannot listen on TCP {addr} (port in use?)"))?;
        tcp.listen(1024)?;
        out.udp.push(udp);
        out.tcp.push(TcpListener::from_std(tcp.into())?);
    }
    Ok(out)
}

/// One UDP listener socket (non-blocking) with large buffers.
pub(crate) fn bind_udp(addr: SocketAddr) -> anyhow::Result<std::net::UdpSocket> {
    let udp = socket(addr, Type::DGRAM, Protocol::UDP)
        .with_context(|| format!("cannot listen on UDP {addr} (port in use?)"))?;
    let _ = udp.set_recv_buffer_size(8 << 20);
    let _ = udp.set_send_buffer_size(8 << 20);
    Ok(udp.into())
}

/// The worker that owns every 5-tuple of a client IP: UDP and TCP from one host, and RTP/RTCP
/// allocation pairs (EVEN-PORT reservations), meet the same core.
pub(crate) fn worker_for(ip: IpAddr, n: usize) -> usize {
    let mut h = DefaultHasher::new();
    ip.hash(&mut h);
    (h.finish() % n as u64) as usize
}

pub(crate) fn spawn_tcp_acceptor(listener: TcpListener, workers: Vec<mpsc::Sender<Input>>) {
    spawn_accept_loop(listener, workers, "TCP", |stream, tuple, tx| {
        tokio::spawn(serve_tcp(stream, tuple, tx));
    });
}

/// Accepts connections forever; each gets its 5-tuple and the worker its client IP maps to.
fn spawn_accept_loop(
    listener: TcpListener,
    workers: Vec<mpsc::Sender<Input>>,
    kind: &'static str,
    on_connection: impl Fn(tokio::net::TcpStream, FiveTuple, mpsc::Sender<Input>) + Send + 'static,
) {
    tokio::spawn(async move {
        loop {
            let (stream, client) = match listener.accept().await {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "{kind} accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            };
            let Ok(server) = stream.local_addr() else { continue };
            let _ = stream.set_nodelay(true);
            let tuple = FiveTuple {
                client,
                server,
                transport: Transport::Tcp,
            };
            let tx = workers[worker_for(client.ip(), workers.len())].clone();
            on_connection(stream, tuple, tx);
        }
    });
}

/// One TCP (or TLS) client: frames in, frames out, `TcpClosed` at the end.
async fn serve_tcp<S>(stream: S, tuple: FiveTuple, tx: mpsc::Sender<Input>)
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (mut rd, mut wr) = tokio::io::split(stream);
    let (wtx, mut wrx) = mpsc::channel::<Vec<u8>>(1024);
    if tx.send(Input::TcpOpened { tuple, writer: wtx }).await.is_err() {
        return;
    }
    let writer = tokio::spawn(async move {
        while let Some(frame) = wrx.recv().await {
            if wr.write_all(&frame).await.is_err() {
                break;
            }
        }
    });
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut chunk = vec![0u8; 16 * 1024];
    let mut idle = FIRST_FRAME_TIMEOUT;
    'read: loop {
        let n = match tokio::time::timeout(idle, rd.read(&mut chunk)).await {
            Ok(Ok(0) | Err(_)) => break,
            Ok(Ok(n)) => n,
            Err(_) => {
                tracing::debug!(client = %tuple.client, "TCP connection idle; closing");
                break;
            }
        };
        buf.extend_from_slice(&chunk[..n]);
        while buf.len() >= 4 {
            let Some(len) = tcp_frame_len(&buf).filter(|l| *l <= MAX_FRAME) else {
                tracing::debug!(client = %tuple.client, "TCP stream is not TURN framing; closing");
                break 'read;
            };
            if buf.len() < len {
                break;
            }
            let frame: Vec<u8> = buf.drain(..len).collect();
            idle = IDLE_TIMEOUT;
            if tx.send(Input::Client { tuple, data: frame }).await.is_err() {
                break 'read;
            }
        }
    }
    let _ = tx.send(Input::TcpClosed { tuple }).await;
    writer.abort();
}

/// Longest a TLS handshake may take before the connection is dropped.
const TLS_HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// TURN over TLS (`turns:`, RFC 8656 §3.1): the TLS layer is stripped here; the core sees TCP.
pub(crate) fn spawn_tls_acceptor(
    listener: TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    workers: Vec<mpsc::Sender<Input>>,
) {
    spawn_accept_loop(listener, workers, "TLS", move |stream, tuple, tx| {
        let acceptor = acceptor.clone();
        let client = tuple.client;
        tokio::spawn(async move {
            match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => serve_tcp(tls, tuple, tx).await,
                Ok(Err(e)) => tracing::debug!(%client, error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!(%client, "TLS handshake timed out"),
            }
        });
    });
}

/// Binds a TLS listener (a TCP listener; the handshake happens per connection).
pub(crate) fn bind_tcp(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    let tcp = socket(addr, Type::STREAM, Protocol::TCP)
        .with_context(|| format!("cannot listen on TCP {addr} (port in use?)"))?;
    tcp.listen(1024)?;
    Ok(TcpListener::from_std(tcp.into())?)
}

/// Loads a PEM certificate chain and private key into a TLS acceptor.
pub(crate) fn tls_acceptor(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> anyhow::Result<tokio_rustls::TlsAcceptor> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("cannot read certificate {}", cert.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("bad PEM certificate in {}", cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("cannot read private key {}", key.display()))?;
    let provider = std::sync::Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
    let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("certificate and key do not match")?;
    Ok(tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config)))
}
