//! What every rustls-based transport needs (feature `rustls`): TLS client configs built with an
//! explicit crypto provider, and the classification of connect failures.
//!
//! Both shipped transports use these, and so can yours. Configs are built with
//! `builder_with_provider(ring)`, never the process-wide default provider, so two providers in
//! one dependency graph (as feature unification in `cargo test` can produce) cannot make rustls
//! panic at run time. Their ALPN list is left empty for the transport to set.

use std::error::Error as StdError;
use std::sync::Arc;

use rustls::{ClientConfig, ConfigBuilder, WantsVerifier};

use crate::transport::TransportErrorKind;

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
#[error("cannot build the TLS config: {0}")]
pub struct TlsConfigError(#[source] Box<dyn StdError + Send + Sync>);

impl TlsConfigError {
    fn new(source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self(source.into())
    }
}

/// The error chain from `error` down, descending into `io::Error`s (whose `source` skips the
/// error they wrap).
///
/// ```
/// let inner = rustls::Error::General("bad certificate".into());
/// let outer = std::io::Error::other(inner);
/// let chain: Vec<String> = rebilly_auth_core::tls::error_chain(&outer).map(|e| e.to_string()).collect();
/// assert_eq!(chain.len(), 2);
/// assert!(chain[1].contains("bad certificate"));
/// ```
pub fn error_chain<'a>(
    error: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(error), |&e: &&'a (dyn StdError + 'static)| match e
        .downcast_ref::<std::io::Error>()
    {
        Some(io) => io.get_ref().map(|inner| inner as &(dyn StdError + 'static)),
        None => e.source(),
    })
}

/// Which step of connecting failed, read from the error chain of a connect error of hyper-util
/// (which reqwest uses too): a `rustls::Error` is the TLS handshake
/// ([`TransportErrorKind::TlsHandshake`]); hyper-util's (private) `ConnectError` is DNS
/// ([`TransportErrorKind::Dns`], "dns error") or TCP ([`TransportErrorKind::Connect`]). `None`
/// when the chain shows neither: the caller knows its stack's other cases.
///
/// ```
/// use rebilly_auth_core::TransportErrorKind;
/// use rebilly_auth_core::tls::connect_failure_kind;
///
/// let tls = std::io::Error::other(rustls::Error::General("bad certificate".into()));
/// assert_eq!(connect_failure_kind(&tls), Some(TransportErrorKind::TlsHandshake));
/// assert_eq!(connect_failure_kind(&std::io::Error::other("?")), None);
/// ```
pub fn connect_failure_kind(error: &(dyn StdError + 'static)) -> Option<TransportErrorKind> {
    error_chain(error).find_map(|e| {
        if e.is::<rustls::Error>() {
            return Some(TransportErrorKind::TlsHandshake);
        }
        // hyper-util's `ConnectError` is private; its `Debug` is the only handle on it.
        let debug = format!("{e:?}");
        if debug.starts_with("ConnectError(\"dns error\"") {
            Some(TransportErrorKind::Dns)
        } else if debug.starts_with("ConnectError(") {
            Some(TransportErrorKind::Connect)
        } else {
            None
        }
    })
}
