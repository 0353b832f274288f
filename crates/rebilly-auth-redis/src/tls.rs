//! The process-default rustls provider redis-rs needs for `rediss://`.
//!
//! redis-rs builds its rustls config with `rustls::ClientConfig::builder()`, which reads the
//! process-default crypto provider and panics when none is installed and the graph holds two
//! providers (or none). It offers no way to pass a provider, so [`ensure_process_provider`]
//! runs first: the one place in the SDK that relies on the process default.

use rustls::crypto::CryptoProvider;

use crate::error::BuildError;

/// Which provider `rediss://` connections use, once ensured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProviderSource {
    /// The application installed one before: it is used as is.
    Application,
    /// None was installed: this crate installed the one its feature selects.
    Installed,
}

/// Makes sure a process-default provider exists: the application's if it installed one,
/// else the one this crate's feature selects (installed as the process default), else
/// [`BuildError::NoTlsProvider`].
pub(crate) fn ensure_process_provider() -> Result<ProviderSource, BuildError> {
    if CryptoProvider::get_default().is_some() {
        return Ok(ProviderSource::Application);
    }
    let selected =
        rebilly_auth_core::tls::selected_provider().map_err(|_| BuildError::NoTlsProvider)?;
    match CryptoProvider::clone(&selected).install_default() {
        Ok(()) => {
            tracing::info!(
                "rebilly-auth-redis: installed this crate's rustls provider as the process \
                 default (for rediss://)"
            );
            Ok(ProviderSource::Installed)
        }
        // Another thread installed one in between: that one is the default now.
        Err(_) => Ok(ProviderSource::Application),
    }
}
