//! The accept loop, with the two limits that keep one local process from starving the app of
//! its backend (slowloris): every connection must finish a request's headers within
//! [`ConnectionLimits::header_read_timeout`] — an idle keep-alive connection too, since its
//! next request's headers are what it is waiting for — or it is closed; and at most
//! [`ConnectionLimits::max_connections`] are served at once. Beyond the limit new connections
//! are not refused but queue (in the kernel's backlog, unaccepted) until one of the open ones
//! ends, which the header timeout guarantees for idle ones: so a normal request waits at most
//! about one header timeout, however many idle connections are held open against it.
//!
//! Why not `axum::serve`: it gives hyper no timer, so hyper's header-read timeout never fires,
//! and it accepts without bound.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

/// How long to wait after a failed accept before the next (it fails again at once while the
/// process is out of file descriptors).
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// How long a client has to send a request's headers, and how many connections are served at
/// once.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnectionLimits {
    pub(crate) header_read_timeout: Duration,
    pub(crate) max_connections: usize,
}

impl ConnectionLimits {
    /// Generous for the app (whose requests send their headers at once, and which opens a
    /// handful of connections) and short enough that held connections free up soon.
    pub(crate) const DEFAULT: ConnectionLimits = ConnectionLimits {
        header_read_timeout: Duration::from_secs(10),
        max_connections: 128,
    };
}

/// Serves `router` on `listener` until `shutdown` changes (or its sender is dropped), then lets
/// open connections finish their requests.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    loop {
        // A permit first: without one the listener is not polled and new connections queue.
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit,
            _ = shutdown.changed() => break,
        };
        let Ok(permit) = permit else { break };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.changed() => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(error) => {
                // Out of file descriptors, or a connection reset before it was accepted.
                tracing::warn!(%error, "accepting a connection failed");
                tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                continue;
            }
        };
        let connection = graceful.watch(builder.serve_connection(
            TokioIo::new(stream),
            TowerToHyperService::new(router.clone()),
        ));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    const LIMITS: ConnectionLimits = ConnectionLimits {
        header_read_timeout: Duration::from_millis(500),
        max_connections: 4,
    };

    async fn start() -> (std::net::SocketAddr, watch::Sender<bool>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let router = Router::new().route("/", axum::routing::get(|| async { "ok" }));
        let (stop, stopped) = watch::channel(false);
        tokio::spawn(serve(listener, router, LIMITS, stopped));
        (addr, stop)
    }

    /// Reads until the server closes the connection (or the read fails) and says when.
    async fn closed_after(stream: &mut TcpStream, started: Instant) -> Duration {
        let mut buf = [0u8; 1024];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return started.elapsed(),
                Ok(_) => {}
            }
        }
    }

    #[tokio::test]
    async fn a_client_that_sends_its_headers_a_byte_at_a_time_is_cut_off() {
        let (addr, _stop) = start().await;
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let started = Instant::now();
        let (mut reader, mut writer) = stream.split();
        let trickle = async {
            for byte in b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
                .iter()
                .cycle()
            {
                if writer.write_all(&[*byte]).await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        };
        let closed = async {
            let mut buf = [0u8; 1024];
            while let Ok(n) = reader.read(&mut buf).await {
                if n == 0 {
                    break;
                }
            }
            started.elapsed()
        };
        let closed = tokio::time::timeout(Duration::from_secs(5), async {
            tokio::select! { elapsed = closed => elapsed, () = trickle => started.elapsed() }
        })
        .await
        .expect("the slow client is cut off within the header timeout");
        assert!(closed >= LIMITS.header_read_timeout, "{closed:?}");
    }

    #[tokio::test]
    async fn idle_connections_beyond_the_limit_delay_a_request_only_until_the_timeout() {
        let (addr, _stop) = start().await;
        let mut idle = Vec::new();
        for _ in 0..=LIMITS.max_connections {
            idle.push(TcpStream::connect(addr).await.expect("connect"));
        }
        let started = Instant::now();
        let answer = tokio::time::timeout(Duration::from_secs(5), async {
            let mut stream = TcpStream::connect(addr).await.expect("connect");
            stream
                .write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                .await
                .expect("write");
            let mut answer = String::new();
            stream.read_to_string(&mut answer).await.expect("read");
            answer
        })
        .await
        .expect("the request is answered once the idle connections time out");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(started.elapsed() < Duration::from_secs(2));
        // The idle connections were closed by the server, not left open for ever.
        let started = Instant::now();
        for stream in &mut idle {
            let closed =
                tokio::time::timeout(Duration::from_secs(2), closed_after(stream, started))
                    .await
                    .expect("an idle connection is closed");
            assert!(closed < Duration::from_secs(2));
        }
    }
}
