//! Machinery for **transport authors** (feature `rustls`): what `rebilly-auth-reqwest` and
//! `rebilly-auth-hyper` share, so that both behave the same. Users of a shipped transport need
//! none of it.
//!
//! * [`TransportSettings`]: the options of a transport's builder, their defaults and their one
//!   meaning in every shipped transport;
//! * [`classify_connect_failure`] and [`DnsFailure`]: which step of connecting failed, told by
//!   the *types* in the error chain (never by another crate's `Debug` text);
//! * [`read_body`]: a response body gathered under the [`BodyLimit`](crate::BodyLimit)
//!   (http-body-util's `Limited`);
//! * [`client_builder`]: a [`ClientBuilder`] over a transport whose setup may have failed.
//!
//! TLS configs live next door, in [`tls`](crate::tls).
//!
//! # What both shipped transports guarantee
//!
//! They keep connections alive (one pool per transport, shared by its clones), never follow
//! redirects, enforce the response body cap while reading, and tell DNS, connect and
//! TLS-handshake failures (the request never left) from failures after sending (ambiguous).
//! TLS is always rustls with a crypto provider passed explicitly (aws-lc-rs by default, ring
//! with `rustls-ring` alone; never a process-wide default), and the platform's certificate
//! verifier unless you give a config.
//! Their builders take the same [`TransportSettings`], with the same defaults and meanings.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body::Body;
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::client::{Client, ClientBuilder};
use crate::error::BuildError;
use crate::transport::{HttpTransport, TransportError, TransportErrorKind};

/// The options every shipped transport's builder takes, with one meaning in all of them.
///
/// The transport builders (`ReqwestTransportBuilder`, `HyperTransportBuilder`) hold one of
/// these and forward their setters to its fields; a transport author can do the same.
///
/// | option | default | meaning |
/// |--------|---------|---------|
/// | [`connect_timeout`](Self::connect_timeout) | 10 s | the whole connection setup: DNS, TCP and the TLS handshake |
/// | [`timeout`](Self::timeout) | none | each whole request, response body included |
/// | [`pool_idle_timeout`](Self::pool_idle_timeout) | 90 s | how long an idle connection is kept |
/// | [`pool_max_idle_per_host`](Self::pool_max_idle_per_host) | no cap | idle connections kept per host |
/// | [`tls`](Self::tls) | platform verifier | the rustls config for `https` |
///
/// ```
/// use std::time::Duration;
/// use rebilly_auth_core::transport_support::TransportSettings;
///
/// let mut settings = TransportSettings::default();
/// assert_eq!(settings.connect_timeout, Some(Duration::from_secs(10)));
/// settings.connect_timeout = Some(Duration::from_secs(3));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TransportSettings {
    /// How long the whole connection setup may take: DNS resolution, the TCP connect (hyper-util
    /// gives each resolved address an equal share) and the TLS handshake (and, through a proxy,
    /// the tunnel). On expiry the error's kind is [`TransportErrorKind::Connect`] and the request
    /// never left. A pooled connection skips the setup. `None`: no limit.
    pub connect_timeout: Option<Duration>,
    /// A deadline for each whole request, response body included; on expiry the error's kind is
    /// [`TransportErrorKind::Timeout`] (the request may have been processed). Usually unneeded:
    /// core races every attempt and call. `None`: no transport deadline.
    pub timeout: Option<Duration>,
    /// How long an idle pooled connection is kept (`None`: until the server closes it).
    pub pool_idle_timeout: Option<Duration>,
    /// The most idle connections kept per host (`None`: no cap).
    pub pool_max_idle_per_host: Option<usize>,
    /// The rustls config for `https` (`None`: [`tls::platform_config`](crate::tls::platform_config)).
    /// It must have been built with an explicit crypto provider (`builder_with_provider`), as
    /// those of [`tls`](crate::tls) are. The transport sets its ALPN list.
    pub tls: Option<rustls::ClientConfig>,
}

impl Default for TransportSettings {
    fn default() -> Self {
        Self {
            connect_timeout: Some(Duration::from_secs(10)),
            timeout: None,
            pool_idle_timeout: Some(Duration::from_secs(90)),
            pool_max_idle_per_host: None,
            tls: None,
        }
    }
}

impl TransportSettings {
    /// The TLS config to use: the one given, or the platform verifier's.
    ///
    /// ```
    /// use rebilly_auth_core::transport_support::TransportSettings;
    /// let mut given = rebilly_auth_core::tls::config_with_roots(Vec::<Vec<u8>>::new())?;
    /// given.alpn_protocols = vec![b"marker".to_vec()];
    /// let mut settings = TransportSettings::default();
    /// settings.tls = Some(given);
    /// assert_eq!(settings.tls_or_platform()?.alpn_protocols, [b"marker"]); // the one given,
    /// assert!(settings.tls.is_none()); // taken;
    /// assert!(settings.tls_or_platform()?.alpn_protocols.is_empty()); // then the platform's
    /// # Ok::<_, rebilly_auth_core::BuildError>(())
    /// ```
    pub fn tls_or_platform(&mut self) -> Result<rustls::ClientConfig, BuildError> {
        match self.tls.take() {
            Some(config) => Ok(config),
            None => Ok(crate::tls::platform_config()?),
        }
    }
}

/// A name-resolution failure, tagged so by a transport's resolver: the one mark by which
/// [`classify_connect_failure`] tells DNS from the other connect failures. `rebilly-auth-hyper`'s
/// resolver wraps hyper-util's; reqwest tags its resolvers' errors itself (`reqwest::Error::is_dns`).
///
/// It reads as the resolver's error (its `Display` and `source` are the wrapped error's), so an
/// error chain does not say "DNS" twice.
///
/// ```
/// use rebilly_auth_core::TransportErrorKind;
/// use rebilly_auth_core::transport_support::{classify_connect_failure, DnsFailure};
///
/// let failure = DnsFailure::new(std::io::Error::other("no such host"));
/// assert_eq!(failure.to_string(), "no such host");
/// let wrapped = std::io::Error::other(failure);
/// assert_eq!(classify_connect_failure(&wrapped), TransportErrorKind::Dns);
/// ```
pub struct DnsFailure(Box<dyn StdError + Send + Sync>);

impl DnsFailure {
    /// Tags `source`, a resolver's error.
    pub fn new(source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self(source.into())
    }
}

impl fmt::Debug for DnsFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DnsFailure").field(&self.0).finish()
    }
}

impl fmt::Display for DnsFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl StdError for DnsFailure {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.0.source()
    }
}

pub use crate::transport::error_chain;

/// Which step failed, for an error an HTTP stack reported **while connecting** (before any
/// byte of the request was sent), told by the types in its chain:
///
/// * a [`DnsFailure`] → [`TransportErrorKind::Dns`];
/// * a `rustls::Error` (tokio-rustls hands it over inside an `io::Error`) →
///   [`TransportErrorKind::TlsHandshake`];
/// * an `io::Error` of kind `TimedOut` (the connect timeout, or the system's) →
///   [`TransportErrorKind::Timeout`], so that `Error::is_timeout()` holds for it too;
/// * anything else (refused, reset, unreachable, a proxy's refusal) →
///   [`TransportErrorKind::Connect`].
///
/// Every one of them proves the request never left: build the error with
/// [`connect_failure`], which says so whatever the kind. Call it only for connect-stage errors
/// (hyper-util's and reqwest's `Error::is_connect`).
///
/// ```
/// use std::io;
/// use rebilly_auth_core::TransportErrorKind;
/// use rebilly_auth_core::transport_support::classify_connect_failure;
///
/// let tls = io::Error::new(io::ErrorKind::InvalidData, rustls::Error::General("bad certificate".into()));
/// assert_eq!(classify_connect_failure(&tls), TransportErrorKind::TlsHandshake);
/// let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
/// assert_eq!(classify_connect_failure(&refused), TransportErrorKind::Connect);
/// let slow = io::Error::new(io::ErrorKind::TimedOut, "no connection within 10s");
/// assert_eq!(classify_connect_failure(&slow), TransportErrorKind::Timeout);
/// ```
pub fn classify_connect_failure(error: &(dyn StdError + 'static)) -> TransportErrorKind {
    let mut kind = TransportErrorKind::Connect;
    for e in error_chain(error) {
        if e.is::<DnsFailure>() {
            return TransportErrorKind::Dns;
        }
        if e.is::<rustls::Error>() {
            kind = TransportErrorKind::TlsHandshake;
        } else if kind == TransportErrorKind::Connect
            && e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
        {
            kind = TransportErrorKind::Timeout;
        }
    }
    kind
}

/// The [`TransportError`] of a connect-stage failure: `kind` (from
/// [`classify_connect_failure`], or the stack's own reading), and never sent, whatever the
/// kind, since no byte of the request left.
pub fn connect_failure(
    kind: TransportErrorKind,
    source: impl Into<Box<dyn StdError + Send + Sync>>,
) -> TransportError {
    TransportError::new(kind, source).with_may_have_reached_server(false)
}

/// Reads a whole response body under `limit` bytes. http-body-util's [`Limited`] enforces the
/// cap; a body whose declared length (`Content-Length`, through `size_hint`) exceeds it fails at
/// once, before anything is read. Both are [`TransportError::body_too_large`]. The body's own
/// errors go through `on_error`; trailers are ignored.
///
/// The chunks are gathered here rather than by http-body-util's `collect`: a body that arrives
/// in one chunk (the usual small JSON answer) is returned as is, with no allocation, where
/// `collect` queues every chunk in a `VecDeque` of its own (about 1.3 k more instructions per
/// request over loopback, measured with callgrind).
///
/// ```
/// use bytes::Bytes;
/// use http_body_util::Full;
/// use rebilly_auth_core::TransportErrorKind;
/// use rebilly_auth_core::transport_support::read_body;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let body = Full::new(Bytes::from_static(b"{\"a\":1}"));
/// assert_eq!(read_body(body, 8, |e| match e {}).await?, Bytes::from_static(b"{\"a\":1}"));
///
/// let too_large = Full::new(Bytes::from_static(b"123456789"));
/// let err = read_body(too_large, 8, |e| match e {}).await.unwrap_err();
/// assert_eq!(err.kind(), TransportErrorKind::BodyTooLarge);
/// # Ok::<_, rebilly_auth_core::TransportError>(())
/// # }).unwrap();
/// ```
pub async fn read_body<B>(
    body: B,
    limit: usize,
    on_error: impl FnOnce(B::Error) -> TransportError,
) -> Result<Bytes, TransportError>
where
    B: Body<Data = Bytes>,
    B::Error: StdError + Send + Sync + 'static,
{
    let declared = body.size_hint().lower();
    if declared > limit as u64 {
        return Err(TransportError::body_too_large(limit));
    }
    let mut body = std::pin::pin!(Limited::new(body, limit));
    let mut first: Option<Bytes> = None;
    let mut joined: Option<BytesMut> = None;
    while let Some(frame) = body.frame().await {
        let frame = match frame {
            Ok(frame) => frame,
            Err(error) => {
                if error.is::<LengthLimitError>() {
                    return Err(TransportError::body_too_large(limit));
                }
                return Err(match error.downcast::<B::Error>() {
                    Ok(own) => on_error(*own),
                    Err(other) => TransportError::body(other),
                });
            }
        };
        let Ok(chunk) = frame.into_data() else {
            continue;
        };
        match (&mut joined, first.take()) {
            (Some(joined), _) => joined.extend_from_slice(&chunk),
            (None, None) => first = Some(chunk),
            (None, Some(earlier)) => {
                let capacity = (declared as usize).max(earlier.len() + chunk.len());
                let mut buffer = BytesMut::with_capacity(capacity);
                buffer.extend_from_slice(&earlier);
                buffer.extend_from_slice(&chunk);
                joined = Some(buffer);
            }
        }
    }
    Ok(match joined {
        Some(joined) => joined.freeze(),
        None => first.unwrap_or_default(),
    })
}

/// A [`ClientBuilder`] over `transport`, whose setup may have failed: the error surfaces at
/// [`ClientBuilder::build`] as [`BuildError::Transport`], its cause read once (the transport's
/// own `BuildError::Transport` is not wrapped in a second one). What each transport crate's
/// `client_builder()` returns.
///
/// ```
/// use std::sync::Arc;
/// use rebilly_auth_core::{BuildError, HttpTransport};
/// use rebilly_auth_core::transport_support::client_builder;
///
/// let failed: Result<Arc<dyn HttpTransport>, BuildError> =
///     Err(BuildError::Transport("no trust store".into()));
/// let err = client_builder(failed).organization("org").secret_key("sk_x").build().unwrap_err();
/// assert!(matches!(err, BuildError::Transport(_)));
/// let cause = std::error::Error::source(&err).unwrap();
/// assert_eq!(cause.to_string(), "no trust store");
/// ```
pub fn client_builder<T>(transport: Result<T, BuildError>) -> ClientBuilder
where
    T: HttpTransport + 'static,
{
    let builder = Client::builder();
    match transport {
        Ok(transport) => builder.transport(transport),
        Err(BuildError::Transport(cause)) => builder.try_transport(Err::<T, _>(SetupError(cause))),
        Err(other) => builder.try_transport(Err::<T, _>(other)),
    }
}

/// A transport's setup error, read as its cause (no second "could not be set up").
struct SetupError(Box<dyn StdError + Send + Sync>);

impl fmt::Debug for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl StdError for SetupError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.0.source()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(error: &(dyn StdError + 'static)) -> Vec<String> {
        error_chain(error).map(|e| e.to_string()).collect()
    }

    #[test]
    fn a_failed_setup_reads_once_through_client_builder() {
        let tls = crate::tls::TlsConfigError::new("no trust store");
        let failed: Result<std::sync::Arc<dyn HttpTransport>, BuildError> = Err(tls.into());
        let err = client_builder(failed)
            .organization("org")
            .secret_key("sk_x")
            .build()
            .unwrap_err();
        assert_eq!(
            chain(&err),
            [
                "the transport could not be set up",
                "cannot build the TLS config",
                "no trust store"
            ]
        );
    }

    #[test]
    fn dns_is_told_by_its_tag_and_tls_by_rustls_error() {
        let dns = std::io::Error::other(DnsFailure::new("nx"));
        assert_eq!(classify_connect_failure(&dns), TransportErrorKind::Dns);
        let tls = std::io::Error::other(rustls::Error::HandshakeNotComplete);
        assert_eq!(
            classify_connect_failure(&tls),
            TransportErrorKind::TlsHandshake
        );
        // A message that merely says "dns error" is no tag.
        let text = std::io::Error::other("ConnectError(\"dns error\", ..)");
        assert_eq!(classify_connect_failure(&text), TransportErrorKind::Connect);
    }

    /// A body of chunks (or one error) arriving one by one, with no declared length.
    struct Chunks(std::collections::VecDeque<Result<&'static [u8], std::io::Error>>);

    impl Body for Chunks {
        type Data = Bytes;
        type Error = std::io::Error;

        fn poll_frame(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
            let next = self.0.pop_front();
            std::task::Poll::Ready(
                next.map(|chunk| chunk.map(|c| http_body::Frame::data(Bytes::from_static(c)))),
            )
        }
    }

    fn read(
        chunks: Vec<Result<&'static [u8], std::io::Error>>,
        limit: usize,
    ) -> Result<Bytes, TransportError> {
        let body = Chunks(chunks.into());
        futures_util::FutureExt::now_or_never(read_body(body, limit, TransportError::io))
            .expect("a ready body reads at once")
    }

    #[test]
    fn bodies_are_read_whole_under_the_limit() {
        assert_eq!(read(vec![], 4).unwrap(), Bytes::new());
        assert_eq!(read(vec![Ok(b"ab"), Ok(b"cd")], 4).unwrap(), "abcd");
        assert_eq!(read(vec![Ok(b"a"), Ok(b"b"), Ok(b"c")], 4).unwrap(), "abc");
        // One chunk is returned as is, not copied.
        let one: &'static [u8] = b"abcd";
        assert_eq!(read(vec![Ok(one)], 4).unwrap().as_ptr(), one.as_ptr());
        let err = read(vec![Ok(b"ab"), Ok(b"cde")], 4).unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::BodyTooLarge);
        // The body's own error goes through `on_error`.
        let err = read(vec![Ok(b"ab"), Err(std::io::Error::other("reset"))], 4).unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::Io);
        assert_eq!(err.source().unwrap().to_string(), "reset");
    }

    #[test]
    fn the_defaults_are_the_documented_ones() {
        let s = TransportSettings::default();
        assert_eq!(s.connect_timeout, Some(Duration::from_secs(10)));
        assert_eq!(s.timeout, None);
        assert_eq!(s.pool_idle_timeout, Some(Duration::from_secs(90)));
        assert_eq!(s.pool_max_idle_per_host, None);
        assert!(s.tls.is_none());
    }
}
