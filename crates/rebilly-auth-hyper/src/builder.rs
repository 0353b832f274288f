//! [`HyperTransportBuilder`]: the transport's settings (shared with rebilly-auth-reqwest's
//! through core's `TransportSettings`) and its own ways to bring a TLS config.

use super::*;

/// Options for [`HyperTransport`]; see [`HyperTransport::builder`].
///
/// Its settings are those of `rebilly-auth-reqwest`'s builder, with the same meanings and
/// defaults: see [`TransportSettings`] (10 s
/// connect timeout for DNS, TCP and TLS together, 90 s pool idle timeout, no transport
/// timeout: core times every attempt and call, rustls on aws-lc-rs (default) or ring with the
/// platform verifier).
/// Of its own: TCP_NODELAY; hyper never follows redirects; the transport reads no proxy
/// settings and always connects directly (see [Proxies](crate#proxies)).
///
/// ```
/// use std::time::Duration;
/// let builder = rebilly_auth_hyper::HyperTransport::builder()
///     .connect_timeout(Duration::from_secs(3))
///     .timeout(Duration::from_secs(20))
///     .pool_idle_timeout(Duration::from_secs(30))
///     .pool_max_idle_per_host(8)
///     .tls_config(rebilly_auth_hyper::tls_config_with_roots(Vec::<Vec<u8>>::new())?);
/// assert!(format!("{builder:?}").contains("connect_timeout: Some(3s)"));
/// let _transport = builder.build()?; // the settings are usable
/// # Ok::<_, rebilly_auth_hyper::BuildError>(())
/// ```
#[derive(Debug, Default)]
#[must_use]
pub struct HyperTransportBuilder {
    settings: TransportSettings,
}

impl HyperTransportBuilder {
    /// Sets [`TransportSettings::connect_timeout`]: how long the whole connection setup, DNS,
    /// TCP and TLS handshake together, may take (`None`: no limit).
    pub fn connect_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.settings.connect_timeout = timeout.into();
        self
    }

    /// Sets [`TransportSettings::timeout`]: a deadline for each whole request, response body
    /// included; on expiry the error has kind [`TransportErrorKind::Timeout`] (see
    /// [`HyperTransport::with_timeout`]). Usually unneeded: core races every attempt.
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

    /// Builds the transport (needs no runtime; sending needs tokio).
    ///
    /// ```no_run
    /// let transport = rebilly_auth_hyper::HyperTransport::builder().build()?;
    /// # Ok::<_, rebilly_auth_hyper::BuildError>(())
    /// ```
    pub fn build(mut self) -> std::result::Result<HyperTransport, BuildError> {
        let settings = &mut self.settings;
        let tls = settings.tls_or_platform()?;
        let connector = DefaultConnector::new(tls, settings.connect_timeout);
        let mut builder = LegacyClient::builder(TokioExecutor::new());
        builder
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(settings.pool_idle_timeout);
        if let Some(max) = settings.pool_max_idle_per_host {
            builder.pool_max_idle_per_host(max);
        }
        Ok(HyperTransport {
            client: builder.build(connector),
            timeout: settings.timeout,
        })
    }
}
