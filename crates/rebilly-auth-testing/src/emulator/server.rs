//! The HTTP face: the emulator served over loopback with hyper 1 (HTTP/1.1), running exactly
//! the in-process request handler.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use super::{Emulator, Outcome, into_response};

/// A running server; dropping it (or [`ServerHandle::shutdown`]) stops it.
pub struct ServerHandle {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerHandle")
            .field("addr", &self.addr)
            .finish()
    }
}

impl ServerHandle {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL, `http://127.0.0.1:PORT`: the server root to give the client builder.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, closes open connections, and waits for the server task to end.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// A response body: the whole body, or (truncated) half of it followed by an error, with the
/// full length announced so that the client sees a short body.
struct EmulatorBody {
    data: Option<Bytes>,
    announced: u64,
    fail: bool,
    /// Lets hyper flush the head and the partial body before the failure.
    pause: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Body for EmulatorBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        if let Some(data) = self.data.take() {
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        if self.fail {
            if let Some(pause) = self.pause.as_mut()
                && pause.as_mut().poll(cx).is_pending()
            {
                return Poll::Pending;
            }
            self.fail = false;
            return Poll::Ready(Some(Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "truncated by fault injection",
            ))));
        }
        Poll::Ready(None)
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none() && !self.fail
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.announced)
    }
}

/// The dropped-connection "error" a service returns to make hyper close without answering.
#[derive(Debug)]
struct Dropped;

impl fmt::Display for Dropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl std::error::Error for Dropped {}

async fn handle(
    emulator: Emulator,
    request: http::Request<Incoming>,
) -> Result<http::Response<EmulatorBody>, Dropped> {
    let (parts, body) = request.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Err(Dropped),
    };
    let request = http::Request::from_parts(parts, body);
    let (response, fail) = match emulator.process(request).await {
        Outcome::Reply(reply) => (into_response(reply), false),
        Outcome::Drop => return Err(Dropped),
        Outcome::Truncated(reply) => (into_response(reply), true),
    };
    let (mut parts, body) = response.into_parts();
    let announced = body.len() as u64;
    let data = if fail {
        body.slice(..body.len() / 2)
    } else {
        body
    };
    parts.headers.remove(http::header::CONTENT_LENGTH);
    Ok(http::Response::from_parts(
        parts,
        EmulatorBody {
            data: (!data.is_empty()).then_some(data),
            announced,
            fail,
            pause: fail.then(|| Box::pin(tokio::time::sleep(std::time::Duration::from_millis(50)))),
        },
    ))
}

impl Emulator {
    /// Serves the emulator on `addr` (port 0 picks a free port) until the returned handle is
    /// shut down or dropped. Needs a tokio runtime.
    pub async fn serve(&self, addr: SocketAddr) -> io::Result<ServerHandle> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (stop, mut stopped) = watch::channel(false);
        let emulator = self.clone();
        let task = tokio::spawn(async move {
            let mut connections: JoinSet<()> = JoinSet::new();
            loop {
                tokio::select! {
                    _ = stopped.changed() => break,
                    accepted = listener.accept() => {
                        let Ok((stream, _)) = accepted else { continue };
                        let _ = stream.set_nodelay(true);
                        while connections.try_join_next().is_some() {}
                        let emulator = emulator.clone();
                        connections.spawn(async move {
                            let service = service_fn(move |request| handle(emulator.clone(), request));
                            let _ = http1::Builder::new()
                                .keep_alive(true)
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        });
                    }
                }
            }
            connections.shutdown().await;
        });
        Ok(ServerHandle {
            addr,
            stop,
            task: Some(task),
        })
    }

    /// Serves on `127.0.0.1` with a free port.
    pub async fn serve_on_loopback(&self) -> io::Result<ServerHandle> {
        self.serve(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await
    }
}
