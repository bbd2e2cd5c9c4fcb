//! TURN over TCP and TLS (RFC 8656 §3.1, `turn:...?transport=tcp`, `turns:`): one task per connection
//! that writes the client's frames and splits what it reads back into frames (RFC 8656 §12.5 framing).

use std::net::SocketAddr;
use std::sync::Arc;

use oxirtc::{TurnStream, TurnTransport};
use oxirtc_turn::tcp_frame_len;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;

/// Frames waiting to be written to one connection; beyond this, frames are dropped like lost datagrams.
const WRITE_QUEUE: usize = 1024;
/// Largest frame accepted from the server (a STUN message or ChannelData is at most 64 KiB + header).
const MAX_FRAME: usize = 65_536 + 20;

/// The sending side of one stream, held by the driver.
pub(crate) struct StreamHandle {
    pub local: SocketAddr,
    pub server: SocketAddr,
    pub frames: mpsc::Sender<Vec<u8>>,
}

/// Opens `stream` in a task; frames read from it go to `received` as `(local, server, frame)`.
pub(crate) fn spawn(
    stream: TurnStream,
    extra_roots: &[Vec<u8>],
    received: mpsc::Sender<(SocketAddr, SocketAddr, Vec<u8>)>,
    tasks: &mut tokio::task::JoinSet<()>,
) -> StreamHandle {
    let (frames, rx) = mpsc::channel(WRITE_QUEUE);
    let handle = StreamHandle {
        local: stream.local,
        server: stream.server,
        frames,
    };
    let roots = extra_roots.to_vec();
    tasks.spawn(async move {
        if let Err(e) = run(stream.clone(), roots, rx, received).await {
            tracing::warn!(server = %stream.server, error = %e, "TURN stream ended");
        }
    });
    handle
}

async fn run(
    stream: TurnStream,
    extra_roots: Vec<Vec<u8>>,
    rx: mpsc::Receiver<Vec<u8>>,
    received: mpsc::Sender<(SocketAddr, SocketAddr, Vec<u8>)>,
) -> std::io::Result<()> {
    let tcp = TcpStream::connect(stream.server).await?;
    tcp.set_nodelay(true)?;
    match &stream.transport {
        TurnTransport::Tls { server_name } => {
            let connector = tls_connector(&extra_roots)?;
            let name = ServerName::try_from(server_name.clone())
                .map_err(|_| std::io::Error::other(format!("bad TLS server name {server_name:?}")))?;
            let tls = connector.connect(name, tcp).await?;
            pump(tls, stream, rx, received).await
        }
        _ => pump(tcp, stream, rx, received).await,
    }
}

/// The web PKI roots plus `extra` DER certificates (e.g. a private CA or a self-signed server).
fn tls_connector(extra: &[Vec<u8>]) -> std::io::Result<TlsConnector> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for der in extra {
        roots
            .add(CertificateDer::from(der.clone()))
            .map_err(|e| std::io::Error::other(format!("bad TLS root certificate: {e}")))?;
    }
    let config = ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

async fn pump<S: AsyncRead + AsyncWrite + Unpin>(
    io: S,
    stream: TurnStream,
    mut rx: mpsc::Receiver<Vec<u8>>,
    received: mpsc::Sender<(SocketAddr, SocketAddr, Vec<u8>)>,
) -> std::io::Result<()> {
    let (mut reader, mut writer) = tokio::io::split(io);
    let mut buf = Vec::with_capacity(8192);
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        tokio::select! {
            frame = rx.recv() => match frame {
                Some(f) => writer.write_all(&f).await?,
                None => return Ok(()),
            },
            n = reader.read(&mut chunk) => {
                let n = n?;
                if n == 0 {
                    return Err(std::io::Error::other("the server closed the connection"));
                }
                buf.extend_from_slice(&chunk[..n]);
                while buf.len() >= 4 {
                    let Some(len) = tcp_frame_len(&buf).filter(|&l| l <= MAX_FRAME) else {
                        return Err(std::io::Error::other("unframeable bytes from the TURN server"));
                    };
                    if buf.len() < len {
                        break;
                    }
                    let frame: Vec<u8> = buf.drain(..len).collect();
                    if received.send((stream.local, stream.server, frame)).await.is_err() {
                        return Ok(());
                    }
                }
            }
        }
    }
}
