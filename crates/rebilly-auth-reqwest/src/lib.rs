//! # rebilly-auth-reqwest
//!
//! A [`reqwest`] 0.13 transport for the Rebilly Customer Authentication API SDK. Depend on this
//! crate alone to write a whole app: it re-exports [`rebilly_auth_core`] (as [`core`] and its
//! common items) and [`client_builder`] hands you a [`ClientBuilder`] with the transport set.
//!
//! ```no_run
//! use rebilly_auth_reqwest::models::Login;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = rebilly_auth_reqwest::client_builder()
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
//! * **`rebilly-auth-reqwest`** (this crate) — if your app already uses reqwest, or you want
//!   the simplest setup: one shared connection pool, rustls with the platform's roots.
//! * **`rebilly-auth-hyper`** — fewer dependencies, and full control of the hyper-util pool
//!   and connector (bring your own `HttpConnector`, resolver or TLS config).
//! * **your own** — implement [`HttpTransport`] (one async method); check it with
//!   `rebilly-auth-testing`'s conformance suite.
//!
//! Both shipped transports behave the same, from one shared layer in the core: they keep
//! connections alive, never follow redirects, enforce the response body cap
//! ([`BodyLimit`]) while reading, tell DNS, connect and TLS-handshake
//! failures (the request never left) from failures after sending (ambiguous), and their
//! builders take the same settings with the same meanings
//! ([`TransportSettings`]): `connect_timeout`
//! bounds the whole connection setup, DNS, TCP and TLS handshake together. See
//! [What both shipped transports guarantee](auth_core::transport_support#what-both-shipped-transports-guarantee).
//!
//! ## Feature flags
//!
//! | feature | default | what it does |
//! |---------|---------|--------------|
//! | `http2` | no      | HTTP/2 negotiated by ALPN over TLS (`reqwest/http2`); HTTP/1.1 otherwise |
//!
//!
//! ## Proxies
//!
//! A transport built by this crate ([`ReqwestTransport::new`], [`Default`],
//! [`ReqwestTransport::builder`], [`client_builder`]) honours the proxies named by the
//! environment — `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY`, lower-case forms too,
//! read when it is built — **except for loopback**: `localhost` (and its subdomains),
//! `127.0.0.0/8`, `::1` (and `::ffff:127.0.0.0/104`) always go direct. Plain HTTP to loopback
//! (the emulator of `rebilly-auth-testing`) carries API keys, passwords and one-time passwords
//! in clear text, and must never leave the machine through a proxy.
//! [`ReqwestTransportBuilder::no_proxy`] ignores the environment altogether.
//!
//! ## Bring your own reqwest client
//!
//! [`ReqwestTransport::from_client`] takes any `reqwest::Client` (this crate re-exports
//! [`reqwest`] so the versions match). **Build it with `redirect(Policy::none())`**: reqwest's
//! default policy follows up to 10 redirects and keeps the `REB-APIKEY` header even on a
//! cross-host redirect. **Keep loopback off proxies**: a `reqwest::Client` reads
//! `HTTP_PROXY`/`HTTPS_PROXY`/`ALL_PROXY` by default and sends loopback there too (unless
//! `NO_PROXY` says otherwise) — call `.no_proxy()`, or give each proxy a
//! [`reqwest::NoProxy`] that lists loopback ([`LOOPBACK_NO_PROXY`]). When you build a client
//! with reqwest's `rustls-no-provider` TLS, give it a rustls config, e.g. from
//! [`default_tls_config`]:
//!
//! ```no_run
//! use std::time::Duration;
//! use rebilly_auth_reqwest::{reqwest, ReqwestTransport};
//!
//! let client = reqwest::Client::builder()
//!     .redirect(reqwest::redirect::Policy::none()) // required
//!     .no_proxy() // or `.proxy(..)`s whose `NoProxy` lists LOOPBACK_NO_PROXY
//!     .tls_backend_preconfigured(rebilly_auth_reqwest::default_tls_config()?)
//!     .timeout(Duration::from_secs(20))
//!     .build()?;
//! let transport = ReqwestTransport::from_client(client);
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Features
//!
#![doc = document_features::document_features!()]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use rebilly_auth_core::transport_support::{
    TransportSettings, classify_connect_failure, connect_failure, read_body,
};
use rebilly_auth_core::{BodyLimit, TransportError, tls};

mod proxy;

use proxy::EnvProxies;
pub use proxy::LOOPBACK_NO_PROXY;
pub use rebilly_auth_core as auth_core;
pub use rebilly_auth_core::{
    BuildError, Client, ClientBuilder, Environment, Error, HttpTransport, Result, RetryPolicy,
    SecretKey, TransportErrorKind, models,
};
pub use reqwest;
pub use rustls;

/// A [`ClientBuilder`] whose transport is a default [`ReqwestTransport`].
///
/// ```no_run
/// let client = rebilly_auth_reqwest::client_builder()
///     .organization("my-org")
///     .secret_key("sk_sandbox_xxx")
///     .build()?;
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// ```
///
/// It never panics: a transport that cannot be set up (its TLS configuration) is reported by
/// `build()` as [`BuildError::Transport`].
pub fn client_builder() -> ClientBuilder {
    rebilly_auth_core::transport_support::client_builder(ReqwestTransport::new())
}

fn alpn(config: &mut rustls::ClientConfig) {
    config.alpn_protocols = if cfg!(feature = "http2") {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    } else {
        vec![b"http/1.1".to_vec()]
    };
}

/// The default TLS config: [`tls::platform_config`] (rustls with the aws-lc-rs (default) or
/// ring provider, explicit, and the platform's certificate verifier), with this crate's ALPN
/// list (for [`ReqwestTransport::from_client`]).
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

/// A TLS config that trusts only `roots` (DER certificates), e.g. a private CA in tests:
/// [`tls::config_with_roots`] with this crate's ALPN list.
///
/// ```
/// // An empty store trusts nothing; pass your CA's DER bytes.
/// let config = rebilly_auth_reqwest::tls_config_with_roots(Vec::<Vec<u8>>::new()).unwrap();
/// assert!(config.alpn_protocols.ends_with(&[b"http/1.1".to_vec()])); // this crate's ALPN list
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
///     .organization("my-org")
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
    /// let transport = rebilly_auth_reqwest::ReqwestTransport::new().unwrap();
    /// ```
    ///
    /// Fails only if the TLS configuration cannot be set up (the platform's verifier), with
    /// [`BuildError::Transport`].
    pub fn new() -> std::result::Result<Self, BuildError> {
        Self::builder().build()
    }

    /// Options for a transport built by this crate.
    ///
    /// ```
    /// let builder = rebilly_auth_reqwest::ReqwestTransport::builder().no_proxy();
    /// assert!(format!("{builder:?}").contains("connect_timeout: Some(10s)")); // the defaults
    /// ```
    pub fn builder() -> ReqwestTransportBuilder {
        ReqwestTransportBuilder::default()
    }

    /// Wraps your own client. It **must** have been built with
    /// `.redirect(reqwest::redirect::Policy::none())`: reqwest keeps the `REB-APIKEY` header
    /// across a cross-host redirect. Its timeouts, proxies, pool and TLS settings apply.
    ///
    /// Keeping loopback off proxies is then yours to do: by default a `reqwest::Client` sends
    /// every request, loopback included, to the proxy named by `HTTP_PROXY`/`HTTPS_PROXY`/
    /// `ALL_PROXY`, and plain HTTP to loopback (the emulator) carries secrets in clear text.
    /// Build it with `.no_proxy()`, or with proxies whose [`reqwest::NoProxy`] lists
    /// [`LOOPBACK_NO_PROXY`]:
    ///
    /// ```no_run
    /// use rebilly_auth_reqwest::{reqwest, ReqwestTransport, LOOPBACK_NO_PROXY};
    /// let proxy = reqwest::Proxy::all("http://proxy.corp.example:3128")?
    ///     .no_proxy(reqwest::NoProxy::from_string(LOOPBACK_NO_PROXY));
    /// let client = reqwest::Client::builder()
    ///     .redirect(reqwest::redirect::Policy::none())
    ///     .proxy(proxy) // replaces the proxies of the environment
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
    /// let transport = rebilly_auth_reqwest::ReqwestTransport::new().unwrap();
    /// let _client: &rebilly_auth_reqwest::reqwest::Client = transport.client();
    /// ```
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }
}

/// Options for [`ReqwestTransport`]; see [`ReqwestTransport::builder`].
///
/// The settings it shares with `rebilly-auth-hyper`'s builder mean the same there, and have
/// the same defaults: see [`TransportSettings`] (10 s connect timeout for DNS, TCP and TLS
/// together, 90 s pool idle timeout, no transport timeout: core times every attempt and call,
/// rustls on aws-lc-rs (default) or ring, with the platform verifier). Of its own: no
/// redirects, and proxies from the environment except for loopback (see
/// [Proxies](crate#proxies)).
///
/// ```
/// use std::time::Duration;
/// let builder = rebilly_auth_reqwest::ReqwestTransport::builder()
///     .connect_timeout(Duration::from_secs(3))
///     .timeout(Duration::from_secs(20))
///     .pool_idle_timeout(Duration::from_secs(30))
///     .pool_max_idle_per_host(8)
///     .tls_config(rebilly_auth_reqwest::tls_config_with_roots(Vec::<Vec<u8>>::new())?)
///     .no_proxy();
/// assert!(format!("{builder:?}").contains("connect_timeout: Some(3s)"));
/// # Ok::<_, rebilly_auth_reqwest::BuildError>(())
/// ```
#[derive(Debug, Default)]
#[must_use]
pub struct ReqwestTransportBuilder {
    settings: TransportSettings,
    no_proxy: bool,
}

impl ReqwestTransportBuilder {
    /// Sets [`TransportSettings::connect_timeout`]: how long the whole connection setup, DNS,
    /// TCP and TLS handshake together, may take (`None`: no limit).
    pub fn connect_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.settings.connect_timeout = timeout.into();
        self
    }

    /// Sets [`TransportSettings::timeout`]: a deadline for each whole request, response body
    /// included; on expiry the error has kind [`TransportErrorKind::Timeout`]. Usually
    /// unneeded: core races every attempt.
    pub fn timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.settings.timeout = timeout.into();
        self
    }

    /// Sets [`TransportSettings::pool_idle_timeout`]: how long an idle pooled connection is
    /// kept (`None`: forever).
    pub fn pool_idle_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.settings.pool_idle_timeout = timeout.into();
        self
    }

    /// Sets [`TransportSettings::pool_max_idle_per_host`]: the most idle connections kept per
    /// host.
    pub fn pool_max_idle_per_host(mut self, max: usize) -> Self {
        self.settings.pool_max_idle_per_host = Some(max);
        self
    }

    /// Sets [`TransportSettings::tls`]: the rustls config (see [`default_tls_config`],
    /// [`tls_config_with_roots`]); it must have been built with an explicit crypto provider
    /// (`builder_with_provider`). Its ALPN list is replaced by the enabled HTTP versions.
    pub fn tls_config(mut self, config: rustls::ClientConfig) -> Self {
        self.settings.tls = Some(config);
        self
    }

    /// Ignores `HTTP_PROXY`/`HTTPS_PROXY`/`ALL_PROXY`: every request goes direct. (Loopback
    /// goes direct either way.)
    ///
    /// ```
    /// let b = rebilly_auth_reqwest::ReqwestTransport::builder().no_proxy();
    /// assert!(format!("{b:?}").contains("no_proxy: true"));
    /// ```
    pub fn no_proxy(mut self) -> Self {
        self.no_proxy = true;
        self
    }

    /// Builds the transport.
    ///
    /// ```no_run
    /// let transport = rebilly_auth_reqwest::ReqwestTransport::builder().build()?;
    /// # Ok::<_, rebilly_auth_reqwest::BuildError>(())
    /// ```
    pub fn build(self) -> std::result::Result<ReqwestTransport, BuildError> {
        let env = if self.no_proxy {
            EnvProxies::default()
        } else {
            EnvProxies::from_env()
        };
        self.build_with(env)
    }

    /// Builds the transport with these proxy settings of the environment.
    fn build_with(mut self, env: EnvProxies) -> std::result::Result<ReqwestTransport, BuildError> {
        let settings = &mut self.settings;
        let mut tls = settings.tls_or_platform()?;
        alpn(&mut tls);
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .tls_backend_preconfigured(tls)
            .pool_idle_timeout(settings.pool_idle_timeout);
        if !cfg!(feature = "http2") {
            builder = builder.http1_only();
        }
        // reqwest's connect timeout bounds the whole connector (DNS, TCP, TLS), and each TCP
        // attempt too: the shared meaning.
        if let Some(timeout) = settings.connect_timeout {
            builder = builder.connect_timeout(timeout);
        }
        if let Some(timeout) = settings.timeout {
            builder = builder.timeout(timeout);
        }
        if let Some(max) = settings.pool_max_idle_per_host {
            builder = builder.pool_max_idle_per_host(max);
        }
        // reqwest's own reading of the environment is off (it would proxy loopback too); the
        // proxies of the environment are added with loopback exempted.
        builder = builder.no_proxy();
        for proxy in env.into_proxies() {
            builder = builder.proxy(proxy);
        }
        let client = builder
            .build()
            .map_err(|e| BuildError::Transport(Box::new(e.without_url())))?;
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
        let response = self.client.execute(request).await.map_err(map_error)?;
        let (parts, body) = http::Response::<reqwest::Body>::from(response).into_parts();
        let body = read_body(body, limit, map_body_error).await?;
        // A fresh response: reqwest's extensions (the URL, which holds token values) stay behind.
        let mut out = http::Response::new(body);
        *out.status_mut() = parts.status;
        *out.version_mut() = parts.version;
        *out.headers_mut() = parts.headers;
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
        // reqwest tags every resolver's errors with a type of its own (`is_dns`); the rest is
        // told by the types in the chain (a `rustls::Error` is the handshake).
        let kind = if err.is_dns() {
            TransportErrorKind::Dns
        } else if err.is_timeout() {
            // The connect timeout: still never sent.
            TransportErrorKind::Timeout
        } else {
            classify_connect_failure(&err)
        };
        return connect_failure(kind, err);
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
