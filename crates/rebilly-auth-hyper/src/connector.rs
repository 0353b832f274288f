//! The connector of a transport built by this crate: a resolver that tags its failures, and
//! the connect timeout over the whole connection setup.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::{GaiResolver, Name};
use rebilly_auth_core::transport_support::DnsFailure;
use tower_service::Service;

type BoxError = Box<dyn StdError + Send + Sync>;
type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

/// A resolver whose failures carry the [`DnsFailure`] tag, by which the transport tells a DNS
/// failure from other connect failures (hyper-util's own DNS error type is private). Wraps
/// hyper-util's [`GaiResolver`] (getaddrinfo on a blocking thread) unless you give another.
///
/// Use it in your own `HttpConnector` (see [`HyperTransport::from_connector`](crate::HyperTransport::from_connector));
/// without it a DNS failure is reported as [`Connect`](crate::TransportErrorKind::Connect),
/// which says just as truly that the request never left.
///
/// ```
/// use rebilly_auth_hyper::{hyper_util, TaggedResolver};
/// use tower_service::Service;
/// let mut http = hyper_util::client::legacy::connect::HttpConnector::new_with_resolver(TaggedResolver::new());
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
/// let uri = format!("http://localhost:{}/", listener.local_addr().unwrap().port());
/// assert!(http.call(uri.parse().unwrap()).await.is_ok()); // `localhost` resolved, connected
/// # });
/// ```
#[derive(Clone, Debug)]
pub struct TaggedResolver<R = GaiResolver> {
    inner: R,
}

impl TaggedResolver {
    /// hyper-util's [`GaiResolver`], tagged.
    pub fn new() -> Self {
        Self::wrap(GaiResolver::new())
    }
}

impl Default for TaggedResolver {
    fn default() -> Self {
        Self::new()
    }
}

impl<R> TaggedResolver<R> {
    /// `resolver` (a `tower::Service<Name>`, as hyper-util's resolvers are), tagged.
    pub fn wrap(resolver: R) -> Self {
        Self { inner: resolver }
    }
}

impl<R> Service<Name> for TaggedResolver<R>
where
    R: Service<Name>,
    R::Response: Iterator<Item = SocketAddr>,
    R::Error: Into<BoxError>,
    R::Future: Send + 'static,
{
    type Response = R::Response;
    type Error = DnsFailure;
    type Future = BoxFuture<R::Response, DnsFailure>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), DnsFailure>> {
        self.inner.poll_ready(cx).map_err(DnsFailure::new)
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let resolving = self.inner.call(name);
        Box::pin(async move { resolving.await.map_err(DnsFailure::new) })
    }
}

type Https = hyper_rustls::HttpsConnector<HttpConnector<TaggedResolver>>;

/// The connector of a [`HyperTransport`](crate::HyperTransport) built by
/// [`HyperTransportBuilder`](crate::HyperTransportBuilder): DNS through a [`TaggedResolver`],
/// TCP (TCP_NODELAY), then rustls for `https` (plain HTTP otherwise). The builder's
/// `connect_timeout` bounds the whole setup (DNS, TCP and the TLS handshake), as
/// reqwest's does, and each TCP attempt too.
#[derive(Clone)]
pub struct DefaultConnector {
    https: Https,
    connect_timeout: Option<Duration>,
}

impl DefaultConnector {
    pub(crate) fn new(mut tls: rustls::ClientConfig, connect_timeout: Option<Duration>) -> Self {
        // hyper-rustls sets ALPN from the enabled HTTP versions and panics if it is preset.
        tls.alpn_protocols.clear();
        let mut http = HttpConnector::new_with_resolver(TaggedResolver::new());
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(connect_timeout);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http();
        #[cfg(feature = "http2")]
        let https = https.enable_all_versions().wrap_connector(http);
        #[cfg(not(feature = "http2"))]
        let https = https.enable_http1().wrap_connector(http);
        Self {
            https,
            connect_timeout,
        }
    }
}

impl fmt::Debug for DefaultConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DefaultConnector")
            .field("connect_timeout", &self.connect_timeout)
            .finish_non_exhaustive()
    }
}

impl Service<Uri> for DefaultConnector {
    type Response = <Https as Service<Uri>>::Response;
    type Error = BoxError;
    type Future = BoxFuture<Self::Response, BoxError>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.https.poll_ready(cx)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let connecting = self.https.call(uri);
        let Some(limit) = self.connect_timeout else {
            return connecting;
        };
        Box::pin(async move {
            match tokio::time::timeout(limit, connecting).await {
                Ok(connected) => connected,
                Err(_) => Err(Box::new(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("no connection within the connect timeout ({limit:?})"),
                )) as BoxError),
            }
        })
    }
}
