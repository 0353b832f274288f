//! [`HttpTransport`]: the one seam between the SDK and an HTTP stack.
//!
//! Core builds an `http::Request<Bytes>` and hands it to a transport, which returns the whole
//! `http::Response<Bytes>`. Core does no I/O; `rebilly-auth-reqwest`, `rebilly-auth-hyper` and
//! the testing crate's fakes implement this trait, and so can you.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;

/// Sends one HTTP request and returns the complete response.
///
/// Implementations must not follow redirects (core treats every 3xx as an error, and a
/// cross-host redirect could leak the `REB-APIKEY` header), must enforce the [`BodyLimit`] found
/// in the request's extensions, and must map every failure to a [`TransportError`] that says
/// honestly whether the request may have reached the server: the retry policy depends on it.
///
/// The smallest transport is a closure, through [`transport_fn`]:
///
/// ```
/// use bytes::Bytes;
/// use rebilly_auth_core::{transport_fn, HttpTransport};
///
/// # tokio_test_block_on(async {
/// let transport = transport_fn(|request: http::Request<Bytes>| async move {
///     assert_eq!(request.method(), http::Method::GET);
///     Ok(http::Response::new(Bytes::from_static(b"{}")))
/// });
/// let response = transport.send(http::Request::new(Bytes::new())).await.unwrap();
/// assert_eq!(response.body().as_ref(), b"{}");
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait HttpTransport: Send + Sync {
    /// Sends `request` and returns the response with its whole body.
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError>;
}

/// The future [`HttpTransport::send`] returns once `async_trait` has expanded it. The
/// delegating impls below return the inner transport's future as is: wrapping it in a second
/// `async` block would box every request twice.
type SendFuture<'a> =
    Pin<Box<dyn Future<Output = Result<http::Response<Bytes>, TransportError>> + Send + 'a>>;

impl<T: HttpTransport + ?Sized> HttpTransport for Arc<T> {
    fn send<'life0, 'async_trait>(
        &'life0 self,
        request: http::Request<Bytes>,
    ) -> SendFuture<'async_trait>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        (**self).send(request)
    }
}

impl<T: HttpTransport + ?Sized> HttpTransport for Box<T> {
    fn send<'life0, 'async_trait>(
        &'life0 self,
        request: http::Request<Bytes>,
    ) -> SendFuture<'async_trait>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        (**self).send(request)
    }
}

impl<T: HttpTransport + ?Sized> HttpTransport for &T {
    fn send<'life0, 'async_trait>(
        &'life0 self,
        request: http::Request<Bytes>,
    ) -> SendFuture<'async_trait>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        (**self).send(request)
    }
}

/// A transport made of a closure; see [`transport_fn`].
#[derive(Clone)]
pub struct TransportFn<F>(F);

impl<F> fmt::Debug for TransportFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TransportFn")
    }
}

/// Turns a closure `Fn(http::Request<Bytes>) -> impl Future<Output = Result<Response, TransportError>>`
/// into an [`HttpTransport`]: the smallest fake for a unit test.
pub fn transport_fn<F, Fut>(f: F) -> TransportFn<F>
where
    F: Fn(http::Request<Bytes>) -> Fut + Send + Sync,
    Fut: Future<Output = Result<http::Response<Bytes>, TransportError>> + Send,
{
    TransportFn(f)
}

#[async_trait]
impl<F, Fut> HttpTransport for TransportFn<F>
where
    F: Fn(http::Request<Bytes>) -> Fut + Send + Sync,
    Fut: Future<Output = Result<http::Response<Bytes>, TransportError>> + Send,
{
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        (self.0)(request).await
    }
}

/// The largest response body a transport may read, in bytes; core puts it in every request's
/// extensions (4 MiB unless the client builder says otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimit(pub usize);

impl BodyLimit {
    /// The default cap: 4 MiB.
    pub const DEFAULT: BodyLimit = BodyLimit(4 * 1024 * 1024);

    /// The cap found in `request`'s extensions, or [`BodyLimit::DEFAULT`].
    pub fn of<B>(request: &http::Request<B>) -> usize {
        request
            .extensions()
            .get::<BodyLimit>()
            .copied()
            .unwrap_or(Self::DEFAULT)
            .0
    }
}

impl Default for BodyLimit {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The time limit of one attempt, which core puts in the request's extensions for transports
/// that cannot be cancelled: those under a [`BlockingClient`](crate::blocking::BlockingClient)
/// (feature `blocking`). An async client races its transport's future against the attempt's
/// deadline and drops it when the deadline passes; a blocking call cannot be dropped halfway, so
/// core tells the transport the limit instead, and the transport must apply it to the whole
/// exchange (connect, send, response head and body) and fail with
/// [`TransportErrorKind::Timeout`] when it passes. The limit is the attempt timeout, or what is
/// left of the call timeout when that is shorter.
///
/// Async transports never find it (core does not insert it for them) and may ignore it.
///
/// ```
/// use std::time::Duration;
/// use rebilly_auth_core::AttemptTimeout;
///
/// let mut request = http::Request::new(bytes::Bytes::new());
/// assert_eq!(AttemptTimeout::of(&request), None);
/// request.extensions_mut().insert(AttemptTimeout(Duration::from_secs(3)));
/// assert_eq!(AttemptTimeout::of(&request), Some(Duration::from_secs(3)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptTimeout(pub std::time::Duration);

impl AttemptTimeout {
    /// The limit found in `request`'s extensions, if any.
    pub fn of<B>(request: &http::Request<B>) -> Option<std::time::Duration> {
        request.extensions().get::<AttemptTimeout>().map(|t| t.0)
    }
}

/// What kind of failure a transport met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The host name could not be resolved; nothing was sent.
    Dns,
    /// No connection could be made (refused, unreachable); nothing was sent.
    Connect,
    /// The TLS handshake failed; nothing was sent.
    TlsHandshake,
    /// The transport's own deadline passed.
    Timeout,
    /// Reading or writing on an established connection failed (reset, closed early).
    Io,
    /// The response body could not be read.
    Body,
    /// The response body was larger than the [`BodyLimit`].
    BodyTooLarge,
    /// Anything else.
    Other,
}

impl fmt::Display for TransportErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Dns => "DNS resolution failed",
            Self::Connect => "connection failed",
            Self::TlsHandshake => "TLS handshake failed",
            Self::Timeout => "timed out",
            Self::Io => "I/O error",
            Self::Body => "response body error",
            Self::BodyTooLarge => "response body too large",
            Self::Other => "transport error",
        })
    }
}

/// A failure to get a response from the server: no status code was received.
///
/// The `source` must never hold a URL (reqwest: `without_url()`), since request paths carry token
/// values.
pub struct TransportError {
    kind: TransportErrorKind,
    may_have_reached_server: bool,
    source: Option<Box<dyn StdError + Send + Sync>>,
}

impl TransportError {
    /// A failure of `kind`. Whether the request may have reached the server follows from the
    /// kind: only DNS, connect and TLS-handshake failures prove it never left.
    pub fn new(
        kind: TransportErrorKind,
        source: impl Into<Box<dyn StdError + Send + Sync>>,
    ) -> Self {
        let may_have_reached_server = !matches!(
            kind,
            TransportErrorKind::Dns
                | TransportErrorKind::Connect
                | TransportErrorKind::TlsHandshake
        );
        Self {
            kind,
            may_have_reached_server,
            source: Some(source.into()),
        }
    }

    /// Name resolution failed: the request never left.
    pub fn dns(source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self::new(TransportErrorKind::Dns, source)
    }

    /// Connecting failed: the request never left.
    pub fn connect(source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self::new(TransportErrorKind::Connect, source)
    }

    /// The TLS handshake failed: the request never left.
    pub fn tls_handshake(source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self::new(TransportErrorKind::TlsHandshake, source)
    }

    /// The transport timed out; the request may have been processed.
    pub fn timeout(source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self::new(TransportErrorKind::Timeout, source)
    }

    /// An I/O error on an established connection; the request may have been processed.
    pub fn io(source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self::new(TransportErrorKind::Io, source)
    }

    /// The body could not be read; the request was processed.
    pub fn body(source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self::new(TransportErrorKind::Body, source)
    }

    /// The body exceeded `limit` bytes.
    pub fn body_too_large(limit: usize) -> Self {
        Self::new(
            TransportErrorKind::BodyTooLarge,
            format!("the response body exceeds the limit of {limit} bytes"),
        )
    }

    /// Any other failure; assumed to have possibly reached the server.
    pub fn other(source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self::new(TransportErrorKind::Other, source)
    }

    /// Overrides whether the request may have reached the server, for a transport that knows
    /// better than its error kind says.
    pub fn with_may_have_reached_server(mut self, may_have: bool) -> Self {
        self.may_have_reached_server = may_have;
        self
    }

    /// What kind of failure this was.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// `false` only when the request provably never left this process (DNS, connect, TLS
    /// handshake); a retry of a non-idempotent request is safe only then.
    pub fn may_have_reached_server(&self) -> bool {
        self.may_have_reached_server
    }
}

impl fmt::Debug for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportError")
            .field("kind", &self.kind)
            .field("may_have_reached_server", &self.may_have_reached_server)
            // The whole chain, not only the first cause: "error sending request" alone hides
            // the "Connection refused (os error 111)" below it.
            .field("causes", &CauseChain(self.source.as_deref()))
            .finish()
    }
}

/// Each cause of a chain as its `Display` text, in order (a `Debug` list of strings).
struct CauseChain<'a>(Option<&'a (dyn StdError + Send + Sync + 'static)>);

impl fmt::Debug for CauseChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        if let Some(source) = self.0 {
            for cause in error_chain(source as &(dyn StdError + 'static)) {
                list.entry(&format_args!("{cause}"));
            }
        }
        list.finish()
    }
}

/// The kind only: the cause is reached through `source()`, so a chain reads once.
impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.kind, f)
    }
}

impl StdError for TransportError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn StdError + 'static))
    }
}

/// The error chain from `error` down, descending into `io::Error`s too (whose `source` skips
/// the error they wrap). At most 64 links, in case of a pathological chain. For transport
/// authors classifying an HTTP stack's errors by type (never by their text).
///
/// ```
/// // An io::Error's `source()` skips the error it wraps; the chain does not.
/// let outer = std::io::Error::other(std::fmt::Error);
/// let chain: Vec<String> = rebilly_auth_core::error_chain(&outer)
///     .map(|e| e.to_string())
///     .collect();
/// assert_eq!(chain.len(), 2);
/// assert_eq!(chain[1], std::fmt::Error.to_string());
/// ```
pub fn error_chain<'a>(
    error: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(error), |&e: &&'a (dyn StdError + 'static)| match e
        .downcast_ref::<std::io::Error>()
    {
        Some(io) => io.get_ref().map(|inner| inner as &(dyn StdError + 'static)),
        None => e.source(),
    })
    .take(64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_every_cause_of_the_chain() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl fmt::Display for Outer {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("error sending request")
            }
        }
        impl StdError for Outer {
            fn source(&self) -> Option<&(dyn StdError + 'static)> {
                Some(&self.0)
            }
        }
        let refused =
            std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused");
        let error = TransportError::connect(Outer(refused));
        let debug = format!("{error:?}");
        assert!(debug.contains("error sending request"), "{debug}");
        assert!(debug.contains("Connection refused"), "{debug}");
    }

    #[test]
    fn only_pre_send_failures_prove_the_request_never_left() {
        assert!(!TransportError::dns("x").may_have_reached_server());
        assert!(!TransportError::connect("x").may_have_reached_server());
        assert!(!TransportError::tls_handshake("x").may_have_reached_server());
        assert!(TransportError::io("reset").may_have_reached_server());
        assert!(TransportError::timeout("t").may_have_reached_server());
        assert!(TransportError::body("b").may_have_reached_server());
        assert!(TransportError::other("o").may_have_reached_server());
    }

    #[test]
    fn object_safe_and_shareable() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Arc<dyn HttpTransport>>();
        assert_send_sync::<Box<dyn HttpTransport>>();
        assert_send_sync::<TransportError>();
    }
}
