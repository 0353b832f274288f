//! # rebilly-auth-hyper
//!
//! A [hyper] 1 transport for the Rebilly Customer Authentication API SDK, over hyper-util's
//! pooled legacy `Client` and hyper-rustls (HTTPS, and plain HTTP for loopback). Depend on this
//! crate alone to write a whole app: it re-exports [`rebilly_auth_core`] (as [`core`] and its
//! common items) and [`client_builder`] hands you a [`ClientBuilder`] with the transport set.
//!
//! ```no_run
//! use rebilly_auth_hyper::models::token::Login;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = rebilly_auth_hyper::client_builder()
//!     .organization("my-org")
//!     .secret_key("sk_sandbox_xxx")
//!     .build()?;
//! let token = client.authentication_tokens().login(Login::password("ada", "pw")).await?;
//! println!("{}", token.username);
//! # Ok(()) }
//! ```
//!
//! ## Choosing a transport
//!
//! * **`rebilly-auth-hyper`** (this crate) — fewer dependencies than reqwest, and full control
//!   of the hyper-util pool and connector (your own `HttpConnector`, resolver or TLS config).
//! * **`rebilly-auth-reqwest`** — if your app already uses reqwest.
//! * **your own** — implement [`HttpTransport`] (one async method); check it with
//!   `rebilly-auth-testing`'s conformance suite.
//!
//! Both shipped transports keep connections alive, never follow redirects (hyper never does),
//! enforce the response body cap ([`BodyLimit`]) while reading, and tell DNS, connect and
//! TLS-handshake failures (the request never left) from failures after sending (ambiguous).
//!
//! ## Feature flags
//!
//! | feature | default | what it does |
//! |---------|---------|--------------|
//! | `http2` | no      | HTTP/2 negotiated by ALPN over TLS; HTTP/1.1 otherwise |
//!
//! TLS is always rustls with the **ring** crypto provider, passed explicitly (never a
//! process-wide default), and the platform's certificate verifier.
//!
//! ## Proxies
//!
//! A transport built by this crate ([`HyperTransport::new`], [`Default`],
//! [`HyperTransport::builder`], [`client_builder`]) uses no proxy at all: it connects directly
//! (hyper-util's `HttpConnector`) and reads none of `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`,
//! `NO_PROXY`. In particular, loopback (`localhost`, `127.0.0.0/8`, `::1`) never goes through a
//! proxy: plain HTTP to loopback (the emulator of `rebilly-auth-testing`) carries API keys,
//! passwords and one-time passwords in clear text. To use a proxy, bring your own connector.
//!
//! ## Bring your own hyper client or connector
//!
//! [`HyperTransport::from_client`] takes any `hyper_util::client::legacy::Client<C, Full<Bytes>>`;
//! [`HyperTransport::from_connector`] builds a pooled client around your connector. This crate
//! re-exports [`hyper`], [`hyper_util`], [`hyper_rustls`] and [`rustls`] so the versions match:
//!
//! ```no_run
//! use rebilly_auth_hyper::{hyper_rustls, hyper_util, HyperTransport};
//!
//! let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
//! http.enforce_http(false);
//! http.set_nodelay(true);
//! let https = hyper_rustls::HttpsConnectorBuilder::new()
//!     .with_tls_config(rebilly_auth_hyper::default_tls_config()?)
//!     .https_or_http()
//!     .enable_http1()
//!     .wrap_connector(http);
//! let transport = HyperTransport::from_connector(https);
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]

use std::error::Error as StdError;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as LegacyClient;
use hyper_util::client::legacy::connect::{Connect, HttpConnector};
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rebilly_auth_core::tls::{self, connect_failure_kind, error_chain};
use rebilly_auth_core::{BodyBuffer, BodyLimit, TransportError};

pub use rebilly_auth_core as auth_core;
pub use rebilly_auth_core::{
    Client, ClientBuilder, Environment, Error, HttpTransport, Result, RetryPolicy, SecretKey,
    TransportErrorKind, models,
};
pub use {hyper, hyper_rustls, hyper_util, rustls};

/// The connector of a default [`HyperTransport`]: HTTPS (rustls) or plain HTTP over TCP.
pub type DefaultConnector = hyper_rustls::HttpsConnector<HttpConnector>;

/// The request body type the transport's hyper client is built for.
pub type RequestBody = Full<Bytes>;

/// A [`ClientBuilder`] whose transport is a default [`HyperTransport`].
///
/// ```no_run
/// let client = rebilly_auth_hyper::client_builder()
///     .organization("my-org")
///     .secret_key("sk_sandbox_xxx")
///     .build()?;
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// ```
///
/// It never panics: a transport that cannot be set up (its TLS configuration) is reported by
/// `build()` as [`BuildError::Transport`](rebilly_auth_core::BuildError::Transport).
pub fn client_builder() -> ClientBuilder {
    rebilly_auth_core::Client::builder().try_transport(HyperTransport::new())
}

/// The default TLS config: rustls with the ring provider (explicit, not process-wide) and the
/// platform's certificate verifier. ALPN is left empty: hyper-rustls sets it from the enabled
/// HTTP versions (and panics if it is preset).
///
/// ```
/// let config = rebilly_auth_hyper::default_tls_config().unwrap();
/// assert!(config.alpn_protocols.is_empty());
/// ```
pub fn default_tls_config() -> std::result::Result<rustls::ClientConfig, BuildError> {
    Ok(tls::platform_config()?)
}

/// A TLS config that trusts only `roots` (DER certificates), e.g. a private CA in tests.
///
/// ```
/// let config = rebilly_auth_hyper::tls_config_with_roots(Vec::<Vec<u8>>::new()).unwrap();
/// # let _ = config;
/// ```
pub fn tls_config_with_roots<I, C>(
    roots: I,
) -> std::result::Result<rustls::ClientConfig, BuildError>
where
    I: IntoIterator<Item = C>,
    C: Into<Vec<u8>>,
{
    Ok(tls::config_with_roots(roots)?)
}

/// Building a transport failed (TLS setup).
#[derive(Debug, thiserror::Error)]
#[error("cannot build the hyper transport: {0}")]
pub struct BuildError(#[source] Box<dyn StdError + Send + Sync>);

impl BuildError {
    fn new(e: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self(e.into())
    }
}

impl From<tls::TlsConfigError> for BuildError {
    fn from(error: tls::TlsConfigError) -> Self {
        Self::new(error)
    }
}

/// An [`HttpTransport`] over hyper-util's pooled client. Cheap to clone (the pool is shared).
///
/// ```no_run
/// use std::time::Duration;
/// use rebilly_auth_hyper::HyperTransport;
///
/// let transport = HyperTransport::builder()
///     .connect_timeout(Duration::from_secs(5))
///     .pool_idle_timeout(Duration::from_secs(60))
///     .build()?;
/// let client = rebilly_auth_hyper::Client::builder()
///     .organization("my-org")
///     .secret_key("sk_sandbox_xxx")
///     .transport(transport)
///     .build()?;
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct HyperTransport<C = DefaultConnector> {
    client: LegacyClient<C, RequestBody>,
    timeout: Option<Duration>,
}

impl HyperTransport {
    /// A transport with the defaults of [`HyperTransportBuilder`].
    ///
    /// ```no_run
    /// let transport = rebilly_auth_hyper::HyperTransport::new().unwrap();
    /// ```
    ///
    ///
    /// Fails only if the TLS configuration cannot be set up (the platform's verifier).
    pub fn new() -> std::result::Result<Self, BuildError> {
        Self::builder().build()
    }

    /// Options for a transport built by this crate.
    ///
    /// ```
    /// let builder = rebilly_auth_hyper::HyperTransport::builder();
    /// # let _ = builder;
    /// ```
    pub fn builder() -> HyperTransportBuilder {
        HyperTransportBuilder::default()
    }
}

impl<C> HyperTransport<C>
where
    C: Connect + Clone + Send + Sync + 'static,
{
    /// Wraps your own hyper-util client (its pool, timer and connector settings apply).
    ///
    /// If its connector goes through a proxy (e.g. hyper-util's `Tunnel`, or a `Matcher` built
    /// from the environment), keeping loopback direct is yours to do: exempt `localhost`,
    /// `127.0.0.0/8` and `::1` — plain HTTP to loopback (the emulator) carries secrets in clear
    /// text. The same holds for [`HyperTransport::from_connector`].
    ///
    /// ```no_run
    /// use rebilly_auth_hyper::{hyper_rustls, hyper_util, HyperTransport};
    /// use hyper_util::client::legacy::Client;
    /// use hyper_util::rt::{TokioExecutor, TokioTimer};
    ///
    /// let https = hyper_rustls::HttpsConnectorBuilder::new()
    ///     .with_tls_config(rebilly_auth_hyper::default_tls_config()?)
    ///     .https_or_http()
    ///     .enable_http1()
    ///     .build();
    /// let client = Client::builder(TokioExecutor::new())
    ///     .pool_timer(TokioTimer::new())
    ///     .build(https);
    /// let transport = HyperTransport::from_client(client);
    /// # Ok::<_, Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_client(client: LegacyClient<C, RequestBody>) -> Self {
        Self {
            client,
            timeout: None,
        }
    }

    /// Builds a pooled client (tokio executor and timer, 90 s idle timeout) around `connector`.
    ///
    /// ```no_run
    /// use rebilly_auth_hyper::{hyper_util, HyperTransport};
    /// // Plain HTTP only (e.g. an emulator on loopback).
    /// let transport = HyperTransport::from_connector(hyper_util::client::legacy::connect::HttpConnector::new());
    /// ```
    pub fn from_connector(connector: C) -> Self {
        let client = LegacyClient::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .build(connector);
        Self::from_client(client)
    }

    /// A deadline for each whole request, response body included; on expiry the error has kind
    /// [`TransportErrorKind::Timeout`]. Usually unneeded: core races every attempt.
    ///
    /// ```no_run
    /// # use std::time::Duration;
    /// let transport = rebilly_auth_hyper::HyperTransport::new().unwrap().with_timeout(Duration::from_secs(20));
    /// ```
    pub fn with_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.timeout = timeout.into();
        self
    }

    /// The underlying hyper-util client.
    ///
    /// ```no_run
    /// let transport = rebilly_auth_hyper::HyperTransport::new().unwrap();
    /// let _client = transport.client();
    /// ```
    pub fn client(&self) -> &LegacyClient<C, RequestBody> {
        &self.client
    }

    async fn send_inner(
        &self,
        request: http::Request<Bytes>,
    ) -> std::result::Result<http::Response<Bytes>, TransportError> {
        let limit = BodyLimit::of(&request);
        let request = request.map(Full::new);
        let response = self.client.request(request).await.map_err(map_error)?;
        let (parts, mut incoming) = response.into_parts();
        let declared = parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let mut body = BodyBuffer::new(limit, declared)?;
        while let Some(frame) = incoming.frame().await {
            if let Ok(data) = frame.map_err(TransportError::body)?.into_data() {
                body.push(data)?;
            }
        }
        let body = body.finish();
        Ok(http::Response::from_parts(parts, body))
    }
}

#[async_trait]
impl<C> HttpTransport for HyperTransport<C>
where
    C: Connect + Clone + Send + Sync + 'static,
{
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> std::result::Result<http::Response<Bytes>, TransportError> {
        if request.uri().scheme().is_none() || request.uri().authority().is_none() {
            return Err(TransportError::other("the request URI must be absolute")
                .with_may_have_reached_server(false));
        }
        match self.timeout {
            None => self.send_inner(request).await,
            Some(timeout) => match tokio::time::timeout(timeout, self.send_inner(request)).await {
                Ok(result) => result,
                Err(_) => Err(TransportError::timeout(format!(
                    "no complete response within {timeout:?}"
                ))),
            },
        }
    }
}

/// Options for [`HyperTransport`]; see [`HyperTransport::builder`].
///
/// Defaults: 10 s connect timeout, 90 s pool idle timeout, no transport timeout (core times
/// every attempt and call), TCP_NODELAY, ring-based rustls with the platform verifier. hyper
/// never follows redirects; the transport reads no proxy settings and always connects directly
/// (see [Proxies](crate#proxies)).
#[derive(Debug)]
#[must_use]
pub struct HyperTransportBuilder {
    connect_timeout: Option<Duration>,
    timeout: Option<Duration>,
    pool_idle_timeout: Option<Duration>,
    pool_max_idle_per_host: Option<usize>,
    tls: Option<rustls::ClientConfig>,
}

impl Default for HyperTransportBuilder {
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

impl HyperTransportBuilder {
    /// How long to wait for the TCP connection (`None`: no limit).
    ///
    /// ```
    /// # use std::time::Duration;
    /// let b = rebilly_auth_hyper::HyperTransport::builder().connect_timeout(Duration::from_secs(3));
    /// # let _ = b;
    /// ```
    pub fn connect_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.connect_timeout = timeout.into();
        self
    }

    /// A deadline for each whole request, response body included (see
    /// [`HyperTransport::with_timeout`]).
    ///
    /// ```
    /// # use std::time::Duration;
    /// let b = rebilly_auth_hyper::HyperTransport::builder().timeout(Duration::from_secs(20));
    /// # let _ = b;
    /// ```
    pub fn timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.timeout = timeout.into();
        self
    }

    /// How long an idle pooled connection is kept (`None`: forever).
    ///
    /// ```
    /// # use std::time::Duration;
    /// let b = rebilly_auth_hyper::HyperTransport::builder().pool_idle_timeout(Duration::from_secs(30));
    /// # let _ = b;
    /// ```
    pub fn pool_idle_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.pool_idle_timeout = timeout.into();
        self
    }

    /// The most idle connections kept per host.
    ///
    /// ```
    /// let b = rebilly_auth_hyper::HyperTransport::builder().pool_max_idle_per_host(8);
    /// # let _ = b;
    /// ```
    pub fn pool_max_idle_per_host(mut self, max: usize) -> Self {
        self.pool_max_idle_per_host = Some(max);
        self
    }

    /// Uses this rustls config (see [`default_tls_config`], [`tls_config_with_roots`]); it
    /// must have been built with an explicit crypto provider (`builder_with_provider`). Its
    /// ALPN list is replaced by the enabled HTTP versions.
    ///
    /// ```
    /// let tls = rebilly_auth_hyper::tls_config_with_roots(Vec::<Vec<u8>>::new()).unwrap();
    /// let b = rebilly_auth_hyper::HyperTransport::builder().tls_config(tls);
    /// # let _ = b;
    /// ```
    pub fn tls_config(mut self, config: rustls::ClientConfig) -> Self {
        self.tls = Some(config);
        self
    }

    /// Builds the transport (needs no runtime; sending needs tokio).
    ///
    /// ```no_run
    /// let transport = rebilly_auth_hyper::HyperTransport::builder().build()?;
    /// # Ok::<_, rebilly_auth_hyper::BuildError>(())
    /// ```
    pub fn build(self) -> std::result::Result<HyperTransport, BuildError> {
        let mut tls = match self.tls {
            Some(tls) => tls,
            None => default_tls_config()?,
        };
        // hyper-rustls sets ALPN from the enabled HTTP versions and panics if it is preset.
        tls.alpn_protocols.clear();
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(self.connect_timeout);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http();
        #[cfg(feature = "http2")]
        let https = https.enable_all_versions().wrap_connector(http);
        #[cfg(not(feature = "http2"))]
        let https = https.enable_http1().wrap_connector(http);
        let mut builder = LegacyClient::builder(TokioExecutor::new());
        builder
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(self.pool_idle_timeout);
        if let Some(max) = self.pool_max_idle_per_host {
            builder.pool_max_idle_per_host(max);
        }
        Ok(HyperTransport {
            client: builder.build(https),
            timeout: self.timeout,
        })
    }
}

/// Maps an error of `Client::request` (before the response head arrived). hyper-util's errors
/// carry no URL.
fn map_error(err: hyper_util::client::legacy::Error) -> TransportError {
    if err.is_connect() {
        // Anything else while connecting came from the TLS layer (hyper-rustls wraps handshake
        // I/O failures).
        let kind = connect_failure_kind(&err).unwrap_or(TransportErrorKind::TlsHandshake);
        return TransportError::new(kind, err);
    }
    let timed_out = error_chain(&err).any(|e| {
        e.downcast_ref::<hyper::Error>()
            .is_some_and(|h| h.is_timeout())
    });
    if timed_out {
        TransportError::timeout(err)
    } else {
        // Sending or reading the head failed on an established connection (reset, closed
        // before a complete response): the server may have processed the request.
        TransportError::io(err)
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::net::SocketAddr;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use hyper_util::client::legacy::connect::dns::Name;

    use super::*;

    #[test]
    fn send_sync_clone() {
        fn assert<T: Send + Sync + Clone + 'static>() {}
        assert::<HyperTransport>();
    }

    /// A resolver that always fails: DNS errors without the network.
    #[derive(Clone)]
    struct Fails;

    impl tower_service::Service<Name> for Fails {
        type Response = std::vec::IntoIter<SocketAddr>;
        type Error = std::io::Error;
        type Future =
            Pin<Box<dyn Future<Output = std::result::Result<Self::Response, Self::Error>> + Send>>;

        fn poll_ready(
            &mut self,
            _: &mut Context<'_>,
        ) -> Poll<std::result::Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _: Name) -> Self::Future {
            Box::pin(async { Err(std::io::Error::other("no such host")) })
        }
    }

    #[tokio::test]
    async fn dns_failure_maps_to_dns_and_never_left() {
        let mut http = HttpConnector::new_with_resolver(Fails);
        http.enforce_http(false);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(default_tls_config().unwrap())
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let transport = HyperTransport::from_connector(https);
        for url in [
            "http://api.example.invalid/organizations/secret-token",
            "https://api.example.invalid/organizations/secret-token",
        ] {
            let request = http::Request::get(url).body(Bytes::new()).unwrap();
            let err = transport.send(request).await.unwrap_err();
            assert_eq!(err.kind(), TransportErrorKind::Dns, "{err:?}");
            assert!(!err.may_have_reached_server());
            assert!(
                !format!("{err} {err:?}").contains("secret-token"),
                "{err:?}"
            );
        }
    }

    #[tokio::test]
    async fn relative_uri_is_never_sent() {
        let request = http::Request::get("/relative").body(Bytes::new()).unwrap();
        let err = HyperTransport::new()
            .unwrap()
            .send(request)
            .await
            .unwrap_err();
        assert!(!err.may_have_reached_server(), "{err:?}");
    }

    #[tokio::test]
    async fn own_timeout_is_timeout_kind() {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        // Accepts and never answers.
        let server = tokio::spawn(async move {
            let (_stream, _) = listener.accept().await.unwrap();
            tokio::time::sleep(Duration::from_secs(10)).await;
        });
        let transport = HyperTransport::builder()
            .timeout(Duration::from_millis(200))
            .build()
            .unwrap();
        let request = http::Request::get(format!("http://{addr}/"))
            .body(Bytes::new())
            .unwrap();
        let err = transport.send(request).await.unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::Timeout);
        assert!(err.may_have_reached_server());
        server.abort();
    }
}
