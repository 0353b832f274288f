//! The HTTP face: the emulator served over loopback with hyper 1 (HTTP/1.1), running exactly
//! the in-process request handler.
//!
//! It defends itself ([`ServeOptions`]): request bodies are limited before they are buffered
//! (413 with a problem body), a client must send its request head within a timeout (slowloris)
//! and then its body within another (a trickled body gets 408 and its connection closed),
//! the number of open connections is capped (further clients wait in the listen backlog), and
//! an accept error (such as running out of file descriptors) pauses the accept loop briefly
//! instead of spinning.
//!
//! Each request it serves emits one `tracing` event at INFO with target
//! [`REQUEST_LOG_TARGET`]: `GET /organizations/{organizationId}/authentication-tokens/{token}
//! 200 0.4ms`. It names the route template, never the path as sent (paths hold tokens), and
//! never a query, header or body; a path that names no route shows as `<unrouted>`. The
//! binary prints these events on standard error; a library user sees them only through a
//! subscriber of their own. The in-process face (the [`HttpTransport`](rebilly_auth_core::HttpTransport)
//! implementation) emits none.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::StatusCode;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::{JoinHandle, JoinSet};

use super::handlers::Reply;
use super::{Emulator, Outcome, into_response};

mod request_log;

/// The `tracing` target of the request log: one INFO event per request served over HTTP
/// (see the [module documentation](self)). `RUST_LOG=rebilly_auth_emulator::request=off`
/// silences it in the binary.
pub const REQUEST_LOG_TARGET: &str = "rebilly_auth_emulator::request";

/// The default cap on open connections ([`ServeOptions::max_connections`]).
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;

/// The default time a client has to send a request head ([`ServeOptions::header_read_timeout`]).
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The default time a client has to send a request body once its head was read
/// ([`ServeOptions::body_read_timeout`]).
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest header-read (or body-read) timeout [`ServeOptions::header_read_timeout`] takes (a year: the
/// deadline is computed with `Instant` arithmetic, which must not overflow).
pub const MAX_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 3600);

/// The default limit on a request body, 1 MiB ([`ServeOptions::max_request_body`]).
pub const DEFAULT_MAX_REQUEST_BODY: usize = 1024 * 1024;

/// How long the accept loop pauses after an accept error (e.g. `EMFILE`).
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(75);

/// How the HTTP face defends itself; give it to [`Emulator::serve_with`].
///
/// ```
/// use std::time::Duration;
/// use rebilly_auth_emulator::{Emulator, ServeOptions};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let emulator = Emulator::builder().add_organization("org", "sk", None).build();
/// let options = ServeOptions::new()
///     .max_connections(64)
///     .header_read_timeout(Duration::from_secs(5))
///     .body_read_timeout(Duration::from_secs(5))
///     .max_request_body(64 * 1024);
/// let server = emulator.serve_on_loopback_with(options).await.unwrap();
/// server.shutdown().await;
/// # });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct ServeOptions {
    max_connections: usize,
    header_read_timeout: Duration,
    body_read_timeout: Duration,
    max_request_body: usize,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
            max_request_body: DEFAULT_MAX_REQUEST_BODY,
        }
    }
}

impl ServeOptions {
    /// The defaults: [`DEFAULT_MAX_CONNECTIONS`], [`DEFAULT_HEADER_READ_TIMEOUT`],
    /// [`DEFAULT_BODY_READ_TIMEOUT`], [`DEFAULT_MAX_REQUEST_BODY`].
    pub fn new() -> Self {
        Self::default()
    }

    /// The most connections served at once (at least 1). The server stops accepting while
    /// this many are open: further clients wait in the listen backlog until one closes.
    pub fn max_connections(mut self, max: usize) -> Self {
        self.max_connections = max.clamp(1, Semaphore::MAX_PERMITS);
        self
    }

    /// How long a client has to send a complete request head (each request of a keep-alive
    /// connection, once its previous answer was sent); past it the connection is closed.
    /// At most [`MAX_HEADER_READ_TIMEOUT`] (longer ones are cut to it).
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout.min(MAX_HEADER_READ_TIMEOUT);
        self
    }

    /// How long a client has to send a request's whole body, counted from the moment its head
    /// was read; past it the emulator answers 408 and closes the connection, so a body trickled
    /// byte by byte cannot hold a connection slot. At most [`MAX_HEADER_READ_TIMEOUT`].
    pub fn body_read_timeout(mut self, timeout: Duration) -> Self {
        self.body_read_timeout = timeout.min(MAX_HEADER_READ_TIMEOUT);
        self
    }

    /// The largest request body accepted, in bytes. A larger `Content-Length` is refused with
    /// 413 before any of the body is read; a chunked body is read up to the limit, then refused
    /// the same way. Either way the connection is closed after the answer.
    pub fn max_request_body(mut self, bytes: usize) -> Self {
        self.max_request_body = bytes;
        self
    }
}

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

/// The 413 for a body over the limit (the connection closes after it: the rest of the body is
/// never read).
fn too_large(
    emulator: &Emulator,
    parts: &http::request::Parts,
    limit: usize,
) -> http::Response<EmulatorBody> {
    refused(
        emulator,
        parts,
        StatusCode::PAYLOAD_TOO_LARGE,
        &format!("the request body is larger than the emulator's limit of {limit} bytes"),
    )
}

/// A problem answer to a request refused before the handler saw it; the connection closes
/// after it (the rest of the body is never read).
fn refused(
    emulator: &Emulator,
    parts: &http::request::Parts,
    status: StatusCode,
    detail: &str,
) -> http::Response<EmulatorBody> {
    emulator.record_refused(parts, status);
    let reply = Reply::problem(status, detail).with_header("connection", "close");
    let (mut parts, body) = into_response(reply).into_parts();
    parts.headers.remove(http::header::CONTENT_LENGTH);
    http::Response::from_parts(
        parts,
        EmulatorBody {
            announced: body.len() as u64,
            data: Some(body),
            fail: false,
            pause: None,
        },
    )
}

/// Answers one request and logs it (see [`REQUEST_LOG_TARGET`]); the route is read only when
/// the log is enabled.
async fn handle(
    emulator: Emulator,
    limit: usize,
    body_timeout: Duration,
    request: http::Request<Incoming>,
) -> Result<http::Response<EmulatorBody>, Dropped> {
    let logged = tracing::enabled!(target: REQUEST_LOG_TARGET, tracing::Level::INFO).then(|| {
        let route = request_log::Route::of(request.uri().path());
        (request.method().clone(), route, Instant::now())
    });
    let answer = answer(emulator, limit, body_timeout, request).await;
    if let Some((method, route, started)) = logged {
        let status = answer.as_ref().ok().map(http::Response::status);
        request_log::log(&method, route, status, started.elapsed());
    }
    answer
}

async fn answer(
    emulator: Emulator,
    limit: usize,
    body_timeout: Duration,
    request: http::Request<Incoming>,
) -> Result<http::Response<EmulatorBody>, Dropped> {
    let (parts, body) = request.into_parts();
    // A declared length over the limit is refused before a byte of the body is read.
    if body.size_hint().lower() > u64::try_from(limit).unwrap_or(u64::MAX) {
        return Ok(too_large(&emulator, &parts, limit));
    }
    let collected = tokio::time::timeout(body_timeout, Limited::new(body, limit).collect()).await;
    let body = match collected {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(error)) if error.is::<LengthLimitError>() => {
            return Ok(too_large(&emulator, &parts, limit));
        }
        Ok(Err(_)) => return Err(Dropped),
        Err(_) => {
            return Ok(refused(
                &emulator,
                &parts,
                StatusCode::REQUEST_TIMEOUT,
                &format!(
                    "the request body was not received within the emulator's body-read timeout of {} ms",
                    body_timeout.as_millis()
                ),
            ));
        }
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
    /// Serves the emulator on `addr` (port 0 picks a free port) with the default
    /// [`ServeOptions`] until the returned handle is shut down or dropped. Needs a tokio runtime.
    pub async fn serve(&self, addr: SocketAddr) -> io::Result<ServerHandle> {
        self.serve_with(addr, ServeOptions::default()).await
    }

    /// Serves the emulator on `addr` with `options` (connection cap, header-read and body-read
    /// timeouts, request body limit). Needs a tokio runtime with its timer enabled.
    ///
    /// With the [control API](super::control) on and no control token, an address that is not
    /// loopback is refused (`ErrorKind::InvalidInput`): anyone on the network could read the
    /// one-time passwords and keys.
    pub async fn serve_with(
        &self,
        addr: SocketAddr,
        options: ServeOptions,
    ) -> io::Result<ServerHandle> {
        if !addr.ip().is_loopback()
            && self
                .shared
                .control
                .as_ref()
                .is_some_and(|control| !control.has_token())
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the control API without a control token serves loopback addresses only",
            ));
        }
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (stop, mut stopped) = watch::channel(false);
        let emulator = self.clone();
        let slots = Arc::new(Semaphore::new(options.max_connections));
        let task = tokio::spawn(async move {
            let mut connections: JoinSet<()> = JoinSet::new();
            loop {
                // A free connection slot first: at the cap, clients wait in the backlog.
                let permit = tokio::select! {
                    _ = stopped.changed() => break,
                    permit = Arc::clone(&slots).acquire_owned() => match permit {
                        Ok(permit) => permit,
                        Err(_) => break,
                    },
                };
                let stream = tokio::select! {
                    _ = stopped.changed() => break,
                    accepted = listener.accept() => match accepted {
                        Ok((stream, _)) => stream,
                        Err(_) => {
                            // E.g. out of file descriptors: pause instead of spinning.
                            drop(permit);
                            tokio::select! {
                                _ = stopped.changed() => break,
                                () = tokio::time::sleep(ACCEPT_ERROR_PAUSE) => continue,
                            }
                        }
                    },
                };
                let _ = stream.set_nodelay(true);
                while connections.try_join_next().is_some() {}
                let emulator = emulator.clone();
                let options = options.clone();
                connections.spawn(async move {
                    let limit = options.max_request_body;
                    let body_timeout = options.body_read_timeout;
                    let service = service_fn(move |request| {
                        handle(emulator.clone(), limit, body_timeout, request)
                    });
                    let _ = http1::Builder::new()
                        .timer(TokioTimer::new())
                        .header_read_timeout(options.header_read_timeout)
                        .keep_alive(true)
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                    drop(permit);
                });
            }
            connections.shutdown().await;
        });
        Ok(ServerHandle {
            addr,
            stop,
            task: Some(task),
        })
    }

    /// Serves on `127.0.0.1` with a free port and the default [`ServeOptions`].
    pub async fn serve_on_loopback(&self) -> io::Result<ServerHandle> {
        self.serve(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await
    }

    /// Serves on `127.0.0.1` with a free port and `options`.
    pub async fn serve_on_loopback_with(&self, options: ServeOptions) -> io::Result<ServerHandle> {
        self.serve_with(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), options)
            .await
    }
}
