//! [`Settings`]: what the layer was configured with, in one struct that both the builder
//! ([`crate::RebillyAuthBuilder`]) fills and the running layer reads, so no field is written
//! twice.

use std::sync::Arc;
use std::time::Duration;

use rebilly_auth_core::{Client, Clock, SystemClock};

use crate::token::TokenSource;

/// The defaults, in one place for the docs.
pub(crate) mod defaults {
    use std::time::Duration;

    pub(crate) const MAX_STALENESS: Duration = Duration::from_secs(30);
    pub(crate) const EXPIRY_SKEW: Duration = Duration::from_secs(5);
    pub(crate) const NEGATIVE_TTL: Duration = Duration::from_secs(5);
    pub(crate) const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);
    pub(crate) const MAX_TOMBSTONES: usize = 1_000_000;
    pub(crate) const CAPACITY: u64 = 10_000;
    pub(crate) const NEGATIVE_CAPACITY: u64 = 10_000;
    pub(crate) const VERIFY_TIMEOUT: Duration = Duration::from_secs(2);
    pub(crate) const MAX_CONCURRENT_VERIFIES: usize = 32;
}

/// The settings the running layer reads (the cache's own sizes stay with the builder).
pub(crate) struct Settings {
    pub(crate) client: Client,
    pub(crate) source: TokenSource,
    pub(crate) allowed_origins: Vec<String>,
    pub(crate) allow_pending_otp: bool,
    pub(crate) otp_pending_when_absent: bool,
    pub(crate) max_staleness: Duration,
    pub(crate) expiry_skew: Duration,
    pub(crate) negative_ttl: Duration,
    pub(crate) max_token_lifetime: Duration,
    pub(crate) verify_timeout: Duration,
    pub(crate) max_concurrent_verifies: usize,
    pub(crate) clock: Arc<dyn Clock>,
}

impl Settings {
    /// The defaults, over `client`.
    pub(crate) fn new(client: Client) -> Self {
        Self {
            client,
            source: TokenSource::default(),
            allowed_origins: Vec::new(),
            allow_pending_otp: false,
            otp_pending_when_absent: false,
            max_staleness: defaults::MAX_STALENESS,
            expiry_skew: defaults::EXPIRY_SKEW,
            negative_ttl: defaults::NEGATIVE_TTL,
            max_token_lifetime: defaults::MAX_TOKEN_LIFETIME,
            verify_timeout: defaults::VERIFY_TIMEOUT,
            max_concurrent_verifies: defaults::MAX_CONCURRENT_VERIFIES,
            clock: Arc::new(SystemClock),
        }
    }
}
