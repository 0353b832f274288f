//! # rebilly-auth-reqwest
//!
//! A [`reqwest`] 0.13 transport for the Rebilly Customer Authentication API SDK. Depend on this
//! crate alone to write a whole app: it re-exports [`rebilly_auth_core`] (as [`core`] and its
//! common items) and [`client_builder`] hands you a [`ClientBuilder`] with the transport set.
//!
//! ```no_run
//! use rebilly_auth_reqwest::models::token::Login;
//!
//! # async fn run() -> Result<(), rebilly_auth_reqwest::Error> {
//! let client = rebilly_auth_reqwest::client_builder()
//!     .organization_id("my-org")
//!     .secret_key("sk_sandbox_xxx")
//!     .build()?;
//! let token = client.authentication_tokens().login(Login::password("ada", "pw")).await?;
//! println!("{}", token.username);
//! # Ok(()) }
//! ```
//!
//! ## Choosing a transport
//!
//! * **`rebilly-auth-reqwest`** (this crate) — if your app already uses reqwest, or you want
//!   the simplest setup: one shared connection pool, rustls with the platform's roots.
//! * **`rebilly-auth-hyper`** — fewer dependencies, and full control of the hyper-util pool
//!   and connector (bring your own `HttpConnector`, resolver or TLS config).
//! * **your own** — implement [`HttpTransport`] (one async method); check it with
//!   `rebilly-auth-testing`'s conformance suite.
//!
//! Both shipped transports keep connections alive, never follow redirects, enforce the
//! response body cap ([`BodyLimit`]) while reading, and tell DNS, connect and TLS-handshake
//! failures (the request never left) from failures after sending (ambiguous).
//!
//! ## Feature flags
//!
//! | feature | default | what it does |
//! |---------|---------|--------------|
//! | `http2` | no      | HTTP/2 negotiated by ALPN over TLS (`reqwest/http2`); HTTP/1.1 otherwise |
//!
//! TLS is always rustls with the **ring** crypto provider, passed explicitly (never a
//! process-wide default), and the platform's certificate verifier.
//!
//! ## Bring your own reqwest client
//!
//! [`ReqwestTransport::from_client`] takes any `reqwest::Client` (this crate re-exports
//! [`reqwest`] so the versions match). **Build it with `redirect(Policy::none())`**: reqwest's
//! default policy follows up to 10 redirects and keeps the `REB-APIKEY` header even on a
//! cross-host redirect. When you build a client with reqwest's `rustls-no-provider` TLS, give it
//! a rustls config, e.g. from [`default_tls_config`]:
//!
//! ```no_run
//! use std::time::Duration;
//! use rebilly_auth_reqwest::{reqwest, ReqwestTransport};
//!
//! let client = reqwest::Client::builder()
//!     .redirect(reqwest::redirect::Policy::none()) // required
//!     .tls_backend_preconfigured(rebilly_auth_reqwest::default_tls_config()?)
//!     .timeout(Duration::from_secs(20))
//!     .build()?;
//! let transport = ReqwestTransport::from_client(client);
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]

use std::error::Error as StdError;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use rebilly_auth_core::tls::{self, connect_failure_kind};
use rebilly_auth_core::{BodyBuffer, BodyLimit, TransportError};

pub use rebilly_auth_core as core;
pub use rebilly_auth_core::{
    Client, ClientBuilder, Environment, Error, HttpTransport, Result, RetryPolicy, SecretKey,
    TransportErrorKind, models,
};
pub use reqwest;
pub use rustls;

/// A [`ClientBuilder`] whose transport is a default [`ReqwestTransport`].
///
/// ```no_run
/// let client = rebilly_auth_reqwest::client_builder()
///     .organization_id("my-org")
///     .secret_key("sk_sandbox_xxx")
///     .build()?;
/// # Ok::<_, rebilly_auth_reqwest::Error>(())
/// ```
///
/// # Panics
///
/// As [`ReqwestTransport::new`].
pub fn client_builder() -> ClientBuilder<ReqwestTransport> {
    rebilly_auth_core::Client::builder().transport(ReqwestTransport::new())
}

fn alpn(config: &mut rustls::ClientConfig) {
    config.alpn_protocols = if cfg!(feature = "http2") {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    } else {
        vec![b"http/1.1".to_vec()]
    };
}

/// The default TLS config: rustls with the ring provider (explicit, not process-wide) and the
/// platform's certificate verifier.
///
/// ```
/// let config = rebilly_auth_reqwest::default_tls_config().unwrap();
/// assert!(!config.alpn_protocols.is_empty());
/// ```
pub fn default_tls_config() -> std::result::Result<rustls::ClientConfig, BuildError> {
    let mut config = tls::platform_config()?;
    alpn(&mut config);
    Ok(config)
}

/// A TLS config that trusts only `roots` (DER certificates), e.g. a private CA in tests.
///
/// ```
/// // An empty store trusts nothing; pass your CA's DER bytes.
/// let config = rebilly_auth_reqwest::tls_config_with_roots(Vec::<Vec<u8>>::new()).unwrap();
/// # let _ = config;
/// ```
pub fn tls_config_with_roots<I, C>(
    roots: I,
) -> std::result::Result<rustls::ClientConfig, BuildError>
where
    I: IntoIterator<Item = C>,
    C: Into<Vec<u8>>,
{
    let mut config = tls::config_with_roots(roots)?;
    alpn(&mut config);
    Ok(config)
}

/// Building a transport failed (TLS setup or reqwest's builder).
#[derive(Debug, thiserror::Error)]
#[error("cannot build the reqwest transport: {0}")]
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

/// An [`HttpTransport`] over a pooled `reqwest::Client`. Cheap to clone (the pool is shared).
///
/// ```no_run
/// use std::time::Duration;
/// use rebilly_auth_reqwest::ReqwestTransport;
///
/// let transport = ReqwestTransport::builder()
///     .connect_timeout(Duration::from_secs(5))
///     .pool_idle_timeout(Duration::from_secs(60))
///     .build()?;
/// let client = rebilly_auth_reqwest::Client::builder()
///     .organization_id("my-org")
///     .secret_key("sk_sandbox_xxx")
///     .transport(transport)
///     .build()?;
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct ReqwestTransport {
    client: reqwest::Client,
}

impl ReqwestTransport {
    /// A transport with the defaults of [`ReqwestTransportBuilder`].
    ///
    /// ```no_run
    /// let transport = rebilly_auth_reqwest::ReqwestTransport::new();
    /// ```
    ///
    /// # Panics
    ///
    /// If the TLS backend cannot be initialized (as `reqwest::Client::new`); use
    /// [`ReqwestTransport::builder`] to get the error instead.
    pub fn new() -> Self {
        match Self::builder().build() {
            Ok(transport) => transport,
            Err(e) => panic!("{e}"),
        }
    }

    /// Options for a transport built by this crate.
    ///
    /// ```
    /// let builder = rebilly_auth_reqwest::ReqwestTransport::builder().no_proxy();
    /// # let _ = builder;
    /// ```
    pub fn builder() -> ReqwestTransportBuilder {
        ReqwestTransportBuilder::default()
    }

    /// Wraps your own client. It **must** have been built with
    /// `.redirect(reqwest::redirect::Policy::none())`: reqwest keeps the `REB-APIKEY` header
    /// across a cross-host redirect. Its timeouts, proxies, pool and TLS settings apply.
    ///
    /// ```no_run
    /// use rebilly_auth_reqwest::{reqwest, ReqwestTransport};
    /// let client = reqwest::Client::builder()
    ///     .redirect(reqwest::redirect::Policy::none())
    ///     .tls_backend_preconfigured(rebilly_auth_reqwest::default_tls_config()?)
    ///     .build()?;
    /// let transport = ReqwestTransport::from_client(client);
    /// # Ok::<_, Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_client(client: reqwest::Client) -> Self {
        Self { client }
    }

    /// The underlying reqwest client.
    ///
    /// ```no_run
    /// let transport = rebilly_auth_reqwest::ReqwestTransport::new();
    /// let _client: &rebilly_auth_reqwest::reqwest::Client = transport.client();
    /// ```
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }
}

impl Default for ReqwestTransport {
    fn default() -> Self {
        Self::new()
    }
}

/// Options for [`ReqwestTransport`]; see [`ReqwestTransport::builder`].
///
/// Defaults: no redirects, 10 s connect timeout, 90 s pool idle timeout, no transport timeout
/// (core times every attempt and call), proxies from the environment, ring-based rustls with
/// the platform verifier.
#[derive(Debug)]
#[must_use]
pub struct ReqwestTransportBuilder {
    connect_timeout: Option<Duration>,
    timeout: Option<Duration>,
    pool_idle_timeout: Option<Duration>,
    pool_max_idle_per_host: Option<usize>,
    no_proxy: bool,
    tls: Option<rustls::ClientConfig>,
}

impl Default for ReqwestTransportBuilder {
    fn default() -> Self {
        Self {
            connect_timeout: Some(Duration::from_secs(10)),
            timeout: None,
            pool_idle_timeout: Some(Duration::from_secs(90)),
            pool_max_idle_per_host: None,
            no_proxy: false,
            tls: None,
        }
    }
}

impl ReqwestTransportBuilder {
    /// How long to wait for TCP + TLS (`None`: no limit).
    ///
    /// ```
    /// # use std::time::Duration;
    /// let b = rebilly_auth_reqwest::ReqwestTransport::builder().connect_timeout(Duration::from_secs(3));
    /// # let _ = b;
    /// ```
    pub fn connect_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.connect_timeout = timeout.into();
        self
    }

    /// A deadline for each whole request, response body included; on expiry the error has kind
    /// [`TransportErrorKind::Timeout`]. Usually unneeded: core races every attempt.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let b = rebilly_auth_reqwest::ReqwestTransport::builder().timeout(Duration::from_secs(20));
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
    /// let b = rebilly_auth_reqwest::ReqwestTransport::builder().pool_idle_timeout(Duration::from_secs(30));
    /// # let _ = b;
    /// ```
    pub fn pool_idle_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.pool_idle_timeout = timeout.into();
        self
    }

    /// The most idle connections kept per host.
    ///
    /// ```
    /// let b = rebilly_auth_reqwest::ReqwestTransport::builder().pool_max_idle_per_host(8);
    /// # let _ = b;
    /// ```
    pub fn pool_max_idle_per_host(mut self, max: usize) -> Self {
        self.pool_max_idle_per_host = Some(max);
        self
    }

    /// Ignores `HTTP_PROXY`/`HTTPS_PROXY`/`ALL_PROXY` (tests on loopback want this).
    ///
    /// ```
    /// let b = rebilly_auth_reqwest::ReqwestTransport::builder().no_proxy();
    /// # let _ = b;
    /// ```
    pub fn no_proxy(mut self) -> Self {
        self.no_proxy = true;
        self
    }

    /// Uses this rustls config (see [`default_tls_config`], [`tls_config_with_roots`]); it
    /// must have been built with an explicit crypto provider (`builder_with_provider`).
    ///
    /// ```
    /// let tls = rebilly_auth_reqwest::tls_config_with_roots(Vec::<Vec<u8>>::new()).unwrap();
    /// let b = rebilly_auth_reqwest::ReqwestTransport::builder().tls_config(tls);
    /// # let _ = b;
    /// ```
    pub fn tls_config(mut self, config: rustls::ClientConfig) -> Self {
        self.tls = Some(config);
        self
    }

    /// Builds the transport.
    ///
    /// ```no_run
    /// let transport = rebilly_auth_reqwest::ReqwestTransport::builder().build()?;
    /// # Ok::<_, rebilly_auth_reqwest::BuildError>(())
    /// ```
    pub fn build(self) -> std::result::Result<ReqwestTransport, BuildError> {
        let tls = match self.tls {
            Some(tls) => tls,
            None => default_tls_config()?,
        };
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .tls_backend_preconfigured(tls)
            .pool_idle_timeout(self.pool_idle_timeout);
        if !cfg!(feature = "http2") {
            builder = builder.http1_only();
        }
        if let Some(timeout) = self.connect_timeout {
            builder = builder.connect_timeout(timeout);
        }
        if let Some(timeout) = self.timeout {
            builder = builder.timeout(timeout);
        }
        if let Some(max) = self.pool_max_idle_per_host {
            builder = builder.pool_max_idle_per_host(max);
        }
        if self.no_proxy {
            builder = builder.no_proxy();
        }
        let client = builder
            .build()
            .map_err(|e| BuildError::new(e.without_url()))?;
        Ok(ReqwestTransport { client })
    }
}

#[async_trait]
impl HttpTransport for ReqwestTransport {
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> std::result::Result<http::Response<Bytes>, TransportError> {
        let limit = BodyLimit::of(&request);
        let request = reqwest::Request::try_from(request).map_err(|e| {
            TransportError::other(e.without_url()).with_may_have_reached_server(false)
        })?;
        let mut response = self.client.execute(request).await.map_err(map_error)?;
        let mut body = BodyBuffer::new(limit, response.content_length())?;
        while let Some(chunk) = response.chunk().await.map_err(map_body_error)? {
            body.push(chunk)?;
        }
        let mut out = http::Response::new(body.finish());
        *out.status_mut() = response.status();
        *out.version_mut() = response.version();
        *out.headers_mut() = std::mem::take(response.headers_mut());
        Ok(out)
    }
}

/// An error while reading the body: the request was processed.
fn map_body_error(err: reqwest::Error) -> TransportError {
    let err = err.without_url();
    if err.is_timeout() {
        TransportError::timeout(err)
    } else {
        TransportError::body(err)
    }
}

/// Maps an error of `execute` (before the response head arrived).
fn map_error(err: reqwest::Error) -> TransportError {
    let err = err.without_url();
    if err.is_builder() {
        return TransportError::other(err).with_may_have_reached_server(false);
    }
    if err.is_connect() {
        let kind = if err.is_dns() {
            Some(TransportErrorKind::Dns)
        } else {
            connect_failure_kind(&err)
        };
        // Otherwise: reqwest's connect timeout is TCP; any other I/O failure while connecting
        // happened during the handshake.
        let kind = kind.unwrap_or(if err.is_timeout() {
            TransportErrorKind::Connect
        } else {
            TransportErrorKind::TlsHandshake
        });
        return TransportError::new(kind, err);
    }
    if err.is_timeout() {
        return TransportError::timeout(err);
    }
    if err.is_body() || err.is_decode() {
        return TransportError::body(err);
    }
    if err.is_request() {
        return TransportError::io(err);
    }
    TransportError::other(err)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn http1() -> ReqwestTransport {
        ReqwestTransport::builder()
            .no_proxy()
            .build()
            .expect("transport")
    }

    #[test]
    fn send_sync_clone() {
        fn assert<T: Send + Sync + Clone + 'static>() {}
        assert::<ReqwestTransport>();
    }

    #[tokio::test]
    async fn dns_failure_maps_to_dns_and_never_left() {
        struct Fails;
        impl reqwest::dns::Resolve for Fails {
            fn resolve(&self, _: reqwest::dns::Name) -> reqwest::dns::Resolving {
                Box::pin(async { Err(Box::new(std::io::Error::other("no such host")) as Box<_>) })
            }
        }
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .tls_backend_preconfigured(default_tls_config().unwrap())
            .dns_resolver(Arc::new(Fails))
            .build()
            .unwrap();
        let transport = ReqwestTransport::from_client(client);
        let request = http::Request::get("http://api.example.invalid/organizations/secret-token")
            .body(Bytes::new())
            .unwrap();
        let err = transport.send(request).await.unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::Dns, "{err:?}");
        assert!(!err.may_have_reached_server());
        assert!(
            !format!("{err} {err:?}").contains("secret-token"),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn invalid_request_is_never_sent() {
        let request = http::Request::get("/relative-only")
            .body(Bytes::new())
            .unwrap();
        let err = http1().send(request).await.unwrap_err();
        assert!(!err.may_have_reached_server(), "{err:?}");
    }
}
