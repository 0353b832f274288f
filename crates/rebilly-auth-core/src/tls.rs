//! TLS client configs for rustls-based transports (feature `rustls`), each built with an
//! explicit crypto provider. Transport-author machinery, like its sibling
//! [`transport_support`](crate::transport_support) (which tells connect failures apart).
//!
//! ## Crypto providers
//!
//! | feature | provider | key exchange offered first |
//! |---|---|---|
//! | `rustls-aws-lc-rs` (the transports' default) | aws-lc-rs | `X25519MLKEM768`, hybrid post-quantum |
//! | `rustls-ring` | ring | `X25519` (ring has no post-quantum key exchange) |
//!
//! With both features on, aws-lc-rs is used (deterministic: features stay additive). With
//! neither, [`platform_config`] and [`config_with_roots`] return
//! [`TlsConfigError::NoProvider`], which a transport's `build()` reports as a
//! [`BuildError`]. An application that chose its own provider (a FIPS build, or the
//! process default it installed) passes it to [`config_with_provider`] or
//! [`config_with_roots_and_provider`].
//!
//! Configs are never built from rustls' process-wide default provider: with two providers in
//! one dependency graph (as feature unification in `cargo test` can produce) that lookup
//! panics. Their ALPN list is left empty for the transport to set.

use std::error::Error as StdError;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, ConfigBuilder, WantsVerifier};

use crate::error::BuildError;

/// The provider this build's features select: aws-lc-rs when `rustls-aws-lc-rs` is on (even
/// beside `rustls-ring`), else ring under `rustls-ring`, else [`TlsConfigError::NoProvider`].
///
/// ```
/// # #[cfg(feature = "rustls-aws-lc-rs")] {
/// let provider = rebilly_auth_core::tls::selected_provider().unwrap();
/// // The transports' default offers the hybrid post-quantum group first.
/// let first = provider.kx_groups[0].name();
/// assert_eq!(first, rustls::NamedGroup::X25519MLKEM768);
/// # }
/// ```
pub fn selected_provider() -> Result<Arc<CryptoProvider>, TlsConfigError> {
    #[cfg(feature = "rustls-aws-lc-rs")]
    {
        Ok(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
    }
    #[cfg(all(feature = "rustls-ring", not(feature = "rustls-aws-lc-rs")))]
    {
        // Deprecated in newer rustls releases for lacking post-quantum key exchange; it is
        // what `rustls-ring` asks for. `allow`, not `expect`: the releases our lower bound
        // admits do not deprecate it.
        #[allow(deprecated)]
        let provider = rustls::crypto::ring::default_provider();
        Ok(Arc::new(provider))
    }
    #[cfg(not(any(feature = "rustls-ring", feature = "rustls-aws-lc-rs")))]
    {
        Err(TlsConfigError::NoProvider)
    }
}

/// Every config built here starts from this: `provider`, rustls' safe protocol versions.
fn builder(
    provider: Arc<CryptoProvider>,
) -> Result<ConfigBuilder<ClientConfig, WantsVerifier>, TlsConfigError> {
    ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(TlsConfigError::new)
}

/// [`platform_config`] with a provider the application chose (a FIPS build, or the process
/// default it installed: `CryptoProvider::get_default()`).
///
/// ```
/// # #[cfg(feature = "rustls-aws-lc-rs")] {
/// use std::sync::Arc;
/// let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
/// let config = rebilly_auth_core::tls::config_with_provider(provider).unwrap();
/// assert!(config.alpn_protocols.is_empty());
/// # }
/// ```
pub fn config_with_provider(provider: Arc<CryptoProvider>) -> Result<ClientConfig, TlsConfigError> {
    use rustls_platform_verifier::BuilderVerifierExt;
    Ok(builder(provider)?
        .with_platform_verifier()
        .map_err(TlsConfigError::new)?
        .with_no_client_auth())
}

/// [`config_with_roots`] with a provider the application chose.
pub fn config_with_roots_and_provider<I, C>(
    roots: I,
    provider: Arc<CryptoProvider>,
) -> Result<ClientConfig, TlsConfigError>
where
    I: IntoIterator<Item = C>,
    C: Into<Vec<u8>>,
{
    let mut store = rustls::RootCertStore::empty();
    for der in roots {
        store
            .add(rustls::pki_types::CertificateDer::from(der.into()))
            .map_err(TlsConfigError::new)?;
    }
    Ok(builder(provider)?
        .with_root_certificates(store)
        .with_no_client_auth())
}

/// A TLS config that verifies servers with the platform's verifier (the OS trust store).
///
/// ```
/// let config = rebilly_auth_core::tls::platform_config().unwrap();
/// assert!(config.alpn_protocols.is_empty());
/// ```
pub fn platform_config() -> Result<ClientConfig, TlsConfigError> {
    config_with_provider(selected_provider()?)
}

/// A TLS config that trusts only `roots` (DER certificates), e.g. a private CA in tests.
///
/// ```
/// use rebilly_auth_core::tls::{config_with_roots, TlsConfigError};
/// // An empty store trusts nothing; pass your CA's DER bytes.
/// let config = config_with_roots(Vec::<Vec<u8>>::new()).unwrap();
/// assert!(config.alpn_protocols.is_empty()); // the transport sets its own
/// // Bytes that are no certificate are refused, not skipped:
/// let error = config_with_roots([b"not a certificate".to_vec()]).unwrap_err();
/// assert!(matches!(error, TlsConfigError::Invalid(_)));
/// ```
pub fn config_with_roots<I, C>(roots: I) -> Result<ClientConfig, TlsConfigError>
where
    I: IntoIterator<Item = C>,
    C: Into<Vec<u8>>,
{
    config_with_roots_and_provider(roots, selected_provider()?)
}

/// A TLS config could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsConfigError {
    /// Neither `rustls-aws-lc-rs` nor `rustls-ring` is on, and no provider was given.
    #[error(
        "no rustls crypto provider: enable the `rustls-aws-lc-rs` (default) or `rustls-ring` \
         feature of the transport crate, or pass a provider to tls::config_with_provider"
    )]
    NoProvider,
    /// rustls refused the settings (an unusable certificate, no platform trust store, a
    /// provider without the needed protocol versions).
    #[error("cannot build the TLS config")]
    Invalid(#[source] Box<dyn StdError + Send + Sync>),
}

impl TlsConfigError {
    pub(crate) fn new(source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self::Invalid(source.into())
    }
}

/// A TLS config that cannot be built is a transport that cannot be set up.
impl From<TlsConfigError> for BuildError {
    fn from(error: TlsConfigError) -> Self {
        BuildError::Transport(Box::new(error))
    }
}

#[cfg(test)]
mod tests {
    use rustls::NamedGroup;

    use super::*;

    fn groups() -> Vec<NamedGroup> {
        let provider = selected_provider().expect("a provider feature is on");
        provider
            .kx_groups
            .iter()
            .map(|group| group.name())
            .collect()
    }

    #[cfg(feature = "rustls-aws-lc-rs")]
    #[test]
    fn aws_lc_rs_offers_the_hybrid_post_quantum_group_first() {
        let groups = groups();
        assert_eq!(groups[0], NamedGroup::X25519MLKEM768, "{groups:?}");
        assert!(groups.contains(&NamedGroup::X25519), "{groups:?}");
    }

    #[cfg(all(feature = "rustls-ring", not(feature = "rustls-aws-lc-rs")))]
    #[test]
    fn ring_offers_no_post_quantum_group() {
        let groups = groups();
        assert!(!groups.contains(&NamedGroup::X25519MLKEM768), "{groups:?}");
        assert_eq!(groups[0], NamedGroup::X25519, "{groups:?}");
    }

    #[cfg(not(any(feature = "rustls-ring", feature = "rustls-aws-lc-rs")))]
    #[test]
    fn no_provider_is_a_typed_error_not_a_panic() {
        assert!(matches!(platform_config(), Err(TlsConfigError::NoProvider)));
        let error = BuildError::from(config_with_roots(Vec::<Vec<u8>>::new()).unwrap_err());
        assert!(error.to_string().contains("transport"), "{error}");
    }
}
