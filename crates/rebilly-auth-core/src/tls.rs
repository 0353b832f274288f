//! TLS client configs for rustls-based transports (feature `rustls`), built with an explicit
//! crypto provider. Transport-author machinery, like its sibling
//! [`transport_support`](crate::transport_support) (which tells connect failures apart).
//!
//! Both shipped transports use these, and so can yours. Configs are built with
//! `builder_with_provider(ring)`, never the process-wide default provider, so two providers in
//! one dependency graph (as feature unification in `cargo test` can produce) cannot make rustls
//! panic at run time. Their ALPN list is left empty for the transport to set.

use std::error::Error as StdError;
use std::sync::Arc;

use rustls::{ClientConfig, ConfigBuilder, WantsVerifier};

use crate::error::BuildError;

/// Every config built here starts from this: the ring provider, rustls' safe protocol versions.
fn builder() -> Result<ConfigBuilder<ClientConfig, WantsVerifier>, TlsConfigError> {
    ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(TlsConfigError::new)
}

/// A TLS config that verifies servers with the platform's verifier (the OS trust store).
///
/// ```
/// let config = rebilly_auth_core::tls::platform_config().unwrap();
/// assert!(config.alpn_protocols.is_empty());
/// ```
pub fn platform_config() -> Result<ClientConfig, TlsConfigError> {
    use rustls_platform_verifier::BuilderVerifierExt;
    Ok(builder()?
        .with_platform_verifier()
        .map_err(TlsConfigError::new)?
        .with_no_client_auth())
}

/// A TLS config that trusts only `roots` (DER certificates), e.g. a private CA in tests.
///
/// ```
/// // An empty store trusts nothing; pass your CA's DER bytes.
/// let config = rebilly_auth_core::tls::config_with_roots(Vec::<Vec<u8>>::new()).unwrap();
/// # let _ = config;
/// ```
pub fn config_with_roots<I, C>(roots: I) -> Result<ClientConfig, TlsConfigError>
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
    Ok(builder()?
        .with_root_certificates(store)
        .with_no_client_auth())
}

/// A TLS config could not be built (an unusable certificate, no platform trust store).
#[derive(Debug, thiserror::Error)]
#[error("cannot build the TLS config")]
pub struct TlsConfigError(#[source] Box<dyn StdError + Send + Sync>);

impl TlsConfigError {
    pub(crate) fn new(source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self(source.into())
    }
}

/// A TLS config that cannot be built is a transport that cannot be set up.
impl From<TlsConfigError> for BuildError {
    fn from(error: TlsConfigError) -> Self {
        BuildError::Transport(Box::new(error))
    }
}
