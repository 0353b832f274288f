//! # rebilly-auth-hyper
//!
//! A [hyper] 1 transport for the Rebilly Customer Authentication API SDK, over hyper-util's
//! pooled legacy `Client` and hyper-rustls (HTTPS, and plain HTTP for loopback). Depend on this
//! crate alone to write a whole app: it re-exports [`rebilly_auth_core`] (as [`core`] and its
//! common items) and [`client_builder`] hands you a [`ClientBuilder`] with the transport set.
//!
//! ```no_run
//! use rebilly_auth_hyper::models::Login;
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
//! Both shipped transports behave the same, from one shared layer in the core: they keep
//! connections alive, never follow redirects (hyper never does), enforce the response body cap
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
//! | `http2` | no      | HTTP/2 negotiated by ALPN over TLS; HTTP/1.1 otherwise |
//!
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
//! re-exports [`hyper`], [`hyper_util`], [`hyper_rustls`] and [`rustls`] so the versions match.
//! Resolve with a [`TaggedResolver`] to keep DNS failures told apart; the builder's
//! `connect_timeout` does not apply to your connector (its own timeouts do):
//!
//! ```no_run
//! use rebilly_auth_hyper::{hyper_rustls, hyper_util, HyperTransport, TaggedResolver};
//!
//! let mut http = hyper_util::client::legacy::connect::HttpConnector::new_with_resolver(TaggedResolver::new());
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
//!
//! ## Features
//!
#![doc = document_features::document_features!()]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client as LegacyClient;
use hyper_util::client::legacy::connect::Connect;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rebilly_auth_core::transport_support::{
    TransportSettings, classify_connect_failure, connect_failure, error_chain, read_body,
};
use rebilly_auth_core::{BodyLimit, TransportError, tls};

mod builder;
mod connector;

pub use builder::HyperTransportBuilder;

pub use connector::{DefaultConnector, TaggedResolver};
pub use rebilly_auth_core as auth_core;
pub use rebilly_auth_core::{
    BuildError, Client, ClientBuilder, Environment, Error, HttpTransport, Result, RetryPolicy,
    SecretKey, TransportErrorKind, models,
};
pub use {hyper, hyper_rustls, hyper_util, rustls};

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
/// `build()` as [`BuildError::Transport`].
pub fn client_builder() -> ClientBuilder {
    rebilly_auth_core::transport_support::client_builder(HyperTransport::new())
}

/// The default TLS config: [`tls::platform_config`] (rustls with the aws-lc-rs (default) or
/// ring provider, explicit, and the platform's certificate verifier). ALPN is left empty:
/// hyper-rustls sets it from the enabled HTTP versions (and panics if it is preset).
///
/// ```
/// let config = rebilly_auth_hyper::default_tls_config().unwrap();
/// assert!(config.alpn_protocols.is_empty());
/// ```
pub fn default_tls_config() -> std::result::Result<rustls::ClientConfig, BuildError> {
    Ok(tls::platform_config()?)
}

/// A TLS config that trusts only `roots` (DER certificates), e.g. a private CA in tests:
/// [`tls::config_with_roots`].
///
/// ```
/// let config = rebilly_auth_hyper::tls_config_with_roots(Vec::<Vec<u8>>::new()).unwrap();
/// assert!(config.alpn_protocols.is_empty()); // hyper-rustls sets it
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
    /// Fails only if the TLS configuration cannot be set up (the platform's verifier), with
    /// [`BuildError::Transport`].
    pub fn new() -> std::result::Result<Self, BuildError> {
        Self::builder().build()
    }

    /// Options for a transport built by this crate.
    ///
    /// ```
    /// let builder = rebilly_auth_hyper::HyperTransport::builder();
    /// assert!(format!("{builder:?}").contains("connect_timeout: Some(10s)")); // the defaults
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
        let (parts, incoming) = response.into_parts();
        let body = read_body(incoming, limit, TransportError::body).await?;
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

/// Maps an error of `Client::request` (before the response head arrived). hyper-util's errors
/// carry no URL.
fn map_error(err: hyper_util::client::legacy::Error) -> TransportError {
    if err.is_connect() {
        // DNS by the tag of `TaggedResolver`, the handshake by a `rustls::Error` in the chain.
        return connect_failure(classify_connect_failure(&err), err);
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

    use hyper_util::client::legacy::connect::HttpConnector;
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

    fn over_resolver<R>(resolver: R) -> HyperTransport<impl Connect + Clone + Send + Sync + 'static>
    where
        R: tower_service::Service<Name, Response = std::vec::IntoIter<SocketAddr>>
            + Clone
            + Send
            + Sync
            + 'static,
        R::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
        R::Future: Send,
    {
        let mut http = HttpConnector::new_with_resolver(resolver);
        http.enforce_http(false);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(default_tls_config().unwrap())
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        HyperTransport::from_connector(https)
    }

    async fn dns_failure_kinds<C>(transport: &HyperTransport<C>) -> Vec<TransportErrorKind>
    where
        C: Connect + Clone + Send + Sync + 'static,
    {
        let mut kinds = Vec::new();
        for url in [
            "http://api.example.invalid/organizations/secret-token",
            "https://api.example.invalid/organizations/secret-token",
        ] {
            let request = http::Request::get(url).body(Bytes::new()).unwrap();
            let err = transport.send(request).await.unwrap_err();
            assert!(!err.may_have_reached_server());
            assert!(
                !format!("{err} {err:?}").contains("secret-token"),
                "{err:?}"
            );
            kinds.push(err.kind());
        }
        kinds
    }

    /// Your own resolver, wrapped in `TaggedResolver`: its failures are DNS.
    #[tokio::test]
    async fn a_tagged_resolver_failure_is_dns() {
        let transport = over_resolver(TaggedResolver::wrap(Fails));
        assert_eq!(
            dns_failure_kinds(&transport).await,
            [TransportErrorKind::Dns; 2]
        );
    }

    /// Untagged, a resolver's failure is still known to have happened while connecting.
    #[tokio::test]
    async fn an_untagged_resolver_failure_is_connect() {
        let transport = over_resolver(Fails);
        assert_eq!(
            dns_failure_kinds(&transport).await,
            [TransportErrorKind::Connect; 2]
        );
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
