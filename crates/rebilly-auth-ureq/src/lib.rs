//! # rebilly-auth-ureq
//!
//! A [`ureq`] 3 transport for the blocking client of the Rebilly Customer Authentication API
//! SDK ([`BlockingClient`], core's feature `blocking`): plain functions, no async runtime, no
//! thread of the SDK's own. Depend on this crate alone to write a synchronous program: it
//! re-exports [`rebilly_auth_core`] (as [`auth_core`] and its common items), and
//! [`client_builder`] hands you a [`BlockingClientBuilder`] with the transport set.
//!
//! ```no_run
//! use rebilly_auth_ureq::models::Login;
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let client = rebilly_auth_ureq::client_builder()
//!         .organization("my-org")
//!         .secret_key("sk_sandbox_xxx")
//!         .build()?;
//!     let token = client.authentication_tokens().login(Login::password("ada", "pw")).send()?;
//!     assert!(!token.token.expose().is_empty());
//!     for credential in client.credentials().list() {
//!         println!("{}", credential?.username);
//!     }
//!     Ok(())
//! }
//! ```
//!
//! ## What it guarantees
//!
//! The same as the async transports (see
//! [What both shipped transports guarantee](auth_core::transport_support#what-both-shipped-transports-guarantee)):
//! keep-alive (one pool per transport, shared by its clones), no redirects followed, the
//! response body cap ([`BodyLimit`]) enforced while reading, and DNS,
//! connect and TLS-handshake failures (never sent) told from failures after sending
//! (ambiguous) by the step that failed, never by an error's text. Each attempt's
//! [`AttemptTimeout`] is that request's whole deadline, and its
//! expiry a [`TransportErrorKind::Timeout`], so the async client's retry rules apply as they
//! are. The builder's settings are core's
//! [`TransportSettings`], with their meanings
//! and defaults.
//!
//! ## TLS
//!
//! rustls, with the crypto provider this build's features select
//! ([`tls::selected_provider`]) passed to ureq explicitly
//! (never rustls' process-wide default), and the platform's certificate verifier unless
//! [`UreqTransportBuilder::tls_roots`] names the only roots to trust. ureq builds its rustls
//! config itself from a provider and roots, so this builder takes those two rather than a
//! whole `rustls::ClientConfig`. With neither provider feature on, [`UreqTransport::new`]
//! returns [`BuildError::Transport`] (a typed error, not a compile error).
//!
//! ## Proxies
//!
//! The proxy named by the environment (`ALL_PROXY`, `HTTPS_PROXY`, `HTTP_PROXY`, lower-case
//! forms too, with `NO_PROXY`; read by ureq when the transport is built) is used **except for
//! loopback**: `localhost` (and its subdomains), `127.0.0.0/8`, `::1` and `::ffff:127.0.0.0/104`
//! always go direct, as with the other transports. Plain HTTP to loopback (the emulator) carries
//! API keys, passwords and one-time passwords in clear text, and must never leave the machine
//! through a proxy. [`UreqTransportBuilder::no_proxy`] ignores the environment altogether.
//!
//! ## Features
//!
#![doc = document_features::document_features!()]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod proxy;
mod stage;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rebilly_auth_core::transport_support::TransportSettings;
use rebilly_auth_core::{AttemptTimeout, BodyLimit, TransportError, tls};
use ureq::tls::{RootCerts, TlsConfig, TlsProvider};

pub use rebilly_auth_core as auth_core;
pub use rebilly_auth_core::blocking::{BlockingClient, BlockingClientBuilder, BlockingTransport};
pub use rebilly_auth_core::{
    BuildError, Environment, Error, Result, RetryPolicy, SecretKey, TransportErrorKind, models,
};
pub use rustls;
pub use ureq;

/// A [`BlockingClientBuilder`] whose transport is a default [`UreqTransport`].
///
/// ```
/// let client = rebilly_auth_ureq::client_builder()
///     .server_url("http://127.0.0.1:8080")
///     .organization("my-org")
///     .secret_key("sk_test")
///     .build()?;
/// assert_eq!(client.organization().as_str(), "my-org");
/// # Ok::<_, rebilly_auth_ureq::BuildError>(())
/// ```
///
/// It never panics: a transport that cannot be set up (no crypto provider, no platform
/// verifier) is reported by `build()` as [`BuildError::Transport`].
pub fn client_builder() -> BlockingClientBuilder {
    BlockingClient::builder().try_transport(UreqTransport::new())
}

/// A [`BlockingTransport`] over a pooled `ureq::Agent`. Cheap to clone (the pool is shared).
///
/// ```
/// use std::time::Duration;
/// use rebilly_auth_ureq::{BlockingClient, UreqTransport};
///
/// let transport = UreqTransport::builder()
///     .connect_timeout(Duration::from_secs(5))
///     .pool_idle_timeout(Duration::from_secs(60))
///     .build()?;
/// let client = BlockingClient::builder()
///     .server_url("http://127.0.0.1:8080")
///     .organization("my-org")
///     .secret_key("sk_test")
///     .transport(transport)
///     .build()?;
/// assert_eq!(client.organization().as_str(), "my-org");
/// # Ok::<_, rebilly_auth_ureq::BuildError>(())
/// ```
#[derive(Clone, Debug)]
pub struct UreqTransport {
    /// Every request goes here, but for the proxied ones.
    direct: ureq::Agent,
    /// The agent with the environment's proxy, for hosts that are not loopback.
    proxied: Option<ureq::Agent>,
}

impl UreqTransport {
    /// A transport with the defaults of [`UreqTransportBuilder`].
    ///
    /// ```
    /// use rebilly_auth_ureq::{BlockingTransport, TransportErrorKind};
    ///
    /// let transport = rebilly_auth_ureq::UreqTransport::new()?;
    /// // Nothing listens on port 1: refused before anything was sent, so safe to retry.
    /// let request = http::Request::get("http://127.0.0.1:1/").body(bytes::Bytes::new()).unwrap();
    /// let error = transport.send(request).unwrap_err();
    /// assert_eq!(error.kind(), TransportErrorKind::Connect);
    /// assert!(!error.may_have_reached_server());
    /// # Ok::<_, rebilly_auth_ureq::BuildError>(())
    /// ```
    ///
    /// Fails only if TLS cannot be set up (no crypto provider feature), with
    /// [`BuildError::Transport`].
    pub fn new() -> std::result::Result<Self, BuildError> {
        Self::builder().build()
    }

    /// Options for a transport.
    ///
    /// ```
    /// let builder = rebilly_auth_ureq::UreqTransport::builder().no_proxy();
    /// assert!(format!("{builder:?}").contains("no_proxy: true"));
    /// ```
    pub fn builder() -> UreqTransportBuilder {
        UreqTransportBuilder::default()
    }

    fn agent_for(&self, uri: &http::Uri) -> &ureq::Agent {
        match &self.proxied {
            Some(proxied) if !uri.host().is_some_and(proxy::is_loopback) => proxied,
            _ => &self.direct,
        }
    }
}

impl BlockingTransport for UreqTransport {
    fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> std::result::Result<http::Response<Bytes>, TransportError> {
        let limit = BodyLimit::of(&request);
        let deadline = AttemptTimeout::of(&request);
        let agent = self.agent_for(request.uri());
        let (parts, body) = request.into_parts();
        let response = if body.is_empty() {
            run(agent, http::Request::from_parts(parts, ()), deadline)
        } else {
            run(agent, http::Request::from_parts(parts, &body[..]), deadline)
        }
        .map_err(stage::map_error)?;
        let (parts, mut body) = response.into_parts();
        let bytes = body
            .with_config()
            .limit(limit as u64)
            .read_to_vec()
            .map_err(|e| stage::map_body_error(e, limit))?;
        // A fresh response: ureq's extensions (the URI, which holds token values) stay behind.
        let mut out = http::Response::new(Bytes::from(bytes));
        *out.status_mut() = parts.status;
        *out.version_mut() = parts.version;
        *out.headers_mut() = parts.headers;
        Ok(out)
    }
}

/// Runs `request` on `agent`, with `deadline` (the attempt's) as its whole deadline.
fn run<S: ureq::AsSendBody>(
    agent: &ureq::Agent,
    request: http::Request<S>,
    deadline: Option<Duration>,
) -> std::result::Result<http::Response<ureq::Body>, ureq::Error> {
    match deadline {
        Some(deadline) => {
            let request = agent
                .configure_request(request)
                .timeout_global(Some(deadline))
                .build();
            agent.run(request)
        }
        None => agent.run(request),
    }
}

/// Options for [`UreqTransport`]; see [`UreqTransport::builder`].
///
/// The settings it shares with the other transports' builders mean the same and have the same
/// defaults (see [`TransportSettings`]: 10 s connect timeout for DNS, TCP and TLS together,
/// 90 s pool idle timeout, no transport timeout beyond each attempt's). Of its own: the TLS
/// roots and provider (see [TLS](crate#tls)), and proxies from the environment except for
/// loopback (see [Proxies](crate#proxies)).
///
/// ```
/// use std::time::Duration;
/// let builder = rebilly_auth_ureq::UreqTransport::builder()
///     .connect_timeout(Duration::from_secs(3))
///     .timeout(Duration::from_secs(20))
///     .pool_idle_timeout(Duration::from_secs(30))
///     .pool_max_idle_per_host(8)
///     .tls_roots(Vec::<Vec<u8>>::new())
///     .no_proxy();
/// assert!(builder.build().is_ok());
/// ```
#[derive(Debug, Default)]
#[must_use]
pub struct UreqTransportBuilder {
    settings: TransportSettings,
    roots: Option<Vec<Vec<u8>>>,
    provider: Option<Arc<rustls::crypto::CryptoProvider>>,
    no_proxy: bool,
}

impl UreqTransportBuilder {
    /// Sets [`TransportSettings::connect_timeout`]: how long the whole connection setup, DNS,
    /// TCP and TLS handshake together, may take (`None`: no limit).
    pub fn connect_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.settings.connect_timeout = timeout.into();
        self
    }

    /// Sets [`TransportSettings::timeout`]: a deadline for each whole request, response body
    /// included; on expiry the error has kind [`TransportErrorKind::Timeout`]. Usually
    /// unneeded: each attempt's own deadline applies.
    pub fn timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.settings.timeout = timeout.into();
        self
    }

    /// Sets [`TransportSettings::pool_idle_timeout`]: how long an idle pooled connection is
    /// kept (`None`: as long as ureq allows, about a day).
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

    /// Trusts only these roots (DER certificates), e.g. a private CA in tests, instead of the
    /// platform's verifier.
    pub fn tls_roots<I, C>(mut self, roots: I) -> Self
    where
        I: IntoIterator<Item = C>,
        C: Into<Vec<u8>>,
    {
        self.roots = Some(roots.into_iter().map(Into::into).collect());
        self
    }

    /// A crypto provider of your choice (a FIPS build, or the process default you installed)
    /// instead of the one this build's features select.
    pub fn tls_provider(mut self, provider: Arc<rustls::crypto::CryptoProvider>) -> Self {
        self.provider = Some(provider);
        self
    }

    /// Ignores the environment's proxy: every request goes direct. (Loopback goes direct
    /// either way.)
    pub fn no_proxy(mut self) -> Self {
        self.no_proxy = true;
        self
    }

    /// Builds the transport.
    ///
    /// ```
    /// let transport = rebilly_auth_ureq::UreqTransport::builder().build()?;
    /// // Proxies from the environment are read for other hosts; loopback always goes direct.
    /// assert!(format!("{transport:?}").contains("direct"));
    /// # Ok::<_, rebilly_auth_ureq::BuildError>(())
    /// ```
    pub fn build(self) -> std::result::Result<UreqTransport, BuildError> {
        let proxy = if self.no_proxy {
            None
        } else {
            ureq::Proxy::try_from_env()
        };
        self.build_with(proxy)
    }

    /// Builds the transport with this proxy for hosts that are not loopback.
    fn build_with(
        self,
        proxy: Option<ureq::Proxy>,
    ) -> std::result::Result<UreqTransport, BuildError> {
        let provider = match self.provider {
            Some(provider) => provider,
            None => tls::selected_provider()?,
        };
        let roots = match &self.roots {
            Some(roots) => RootCerts::new_with_certs(
                &roots
                    .iter()
                    .map(|der| ureq::tls::Certificate::from_der(der).to_owned())
                    .collect::<Vec<_>>(),
            ),
            None => RootCerts::PlatformVerifier,
        };
        let tls = TlsConfig::builder()
            .provider(TlsProvider::Rustls)
            .unversioned_rustls_crypto_provider(provider)
            .root_certs(roots)
            .build();
        let settings = &self.settings;
        let agent = |proxy: Option<ureq::Proxy>| {
            let mut config = ureq::Agent::config_builder()
                // Never follow: a redirect could carry REB-APIKEY elsewhere (0: the 3xx is
                // returned as is).
                .max_redirects(0)
                // Core decodes every status itself.
                .http_status_as_error(false)
                .proxy(proxy)
                .tls_config(tls.clone())
                .timeout_connect(settings.connect_timeout)
                .timeout_global(settings.timeout)
                .max_idle_age(
                    settings
                        .pool_idle_timeout
                        .unwrap_or(Duration::from_secs(24 * 3600)),
                );
            if let Some(max) = settings.pool_max_idle_per_host {
                config = config.max_idle_connections_per_host(max);
            }
            ureq::Agent::with_parts(
                config.build(),
                stage::TaggedConnector::default(),
                stage::TaggedResolver::default(),
            )
        };
        Ok(UreqTransport {
            direct: agent(None),
            proxied: proxy.map(|proxy| agent(Some(proxy))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_sync_clone() {
        fn assert<T: Send + Sync + Clone + 'static>() {}
        assert::<UreqTransport>();
    }

    #[cfg(not(any(feature = "rustls-ring", feature = "rustls-aws-lc-rs")))]
    #[test]
    fn no_provider_feature_is_a_typed_build_error() {
        let error = UreqTransport::new().unwrap_err();
        assert!(matches!(error, BuildError::Transport(_)), "{error:?}");
        let error = client_builder().organization("org").build().unwrap_err();
        assert!(matches!(error, BuildError::Transport(_)), "{error:?}");
    }

    #[cfg(any(feature = "rustls-ring", feature = "rustls-aws-lc-rs"))]
    #[test]
    fn an_invalid_request_is_never_sent() {
        let transport = UreqTransport::builder().no_proxy().build().unwrap();
        let request = http::Request::get("/relative-only")
            .body(Bytes::new())
            .unwrap();
        let err = transport.send(request).unwrap_err();
        assert!(!err.may_have_reached_server(), "{err:?}");
    }

    #[cfg(any(feature = "rustls-ring", feature = "rustls-aws-lc-rs"))]
    #[test]
    fn an_unresolvable_name_is_dns_and_never_left() {
        let transport = UreqTransport::builder().no_proxy().build().unwrap();
        for scheme in ["http", "https"] {
            let url = format!("{scheme}://rebilly-auth-test.invalid/organizations/secret-token");
            let request = http::Request::get(url).body(Bytes::new()).unwrap();
            let err = transport.send(request).unwrap_err();
            assert_eq!(err.kind(), TransportErrorKind::Dns, "{err:?}");
            assert!(!err.may_have_reached_server());
            assert!(
                !format!("{err} {err:?}").contains("secret-token"),
                "{err:?}"
            );
        }
    }
}
