//! [`RebillyAuthBuilder`]: the layer's settings, their defaults, and the client settings its
//! verifies need.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rebilly_auth_core::{Client, Clock};

use crate::auth::{RebillyAuth, State};
use crate::cache::{MemoryCache, VerifyCache};
use crate::digest::Digester;
use crate::metrics::Counters;
use crate::settings::{Settings, defaults};
use crate::slots::Slots;
use crate::token::{TokenSource, normalize_origin};

impl RebillyAuth {
    /// A builder over `client`, the client verify and logout calls go through: any client,
    /// your application's own included (the layer gives each verify its own deadline and at
    /// most one retry, whatever the client's settings). A publishable key is enough for it:
    /// verify and logout need no more.
    pub fn builder(client: Client) -> RebillyAuthBuilder {
        RebillyAuthBuilder {
            settings: Settings::new(client),
            max_tombstones: defaults::MAX_TOMBSTONES,
            capacity: defaults::CAPACITY,
            negative_capacity: defaults::NEGATIVE_CAPACITY,
            cache: None,
            digest_key: None,
        }
    }
}

/// A layer configuration that cannot work, found by [`RebillyAuthBuilder::build`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A setting is out of range.
    #[error("invalid rebilly-auth-axum configuration: {0}")]
    Invalid(&'static str),
    /// No random digest key could be drawn from the operating system.
    #[error("no random digest key could be drawn from the operating system")]
    Random(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The former name of [`BuildError`].
#[deprecated(note = "renamed BuildError, as in every crate of the SDK")]
pub type ConfigError = BuildError;

/// Configures a [`RebillyAuth`]. Every setting has a safe default; see each method.
///
/// ```
/// use std::time::Duration;
/// use rebilly_auth_axum::{RebillyAuth, TokenSource};
/// # let client = rebilly_auth_testing::RecordingTransport::new().client();
///
/// let auth = RebillyAuth::builder(client)
///     .token_source(TokenSource::cookie("session"))
///     .allowed_origins(["https://shop.example"])
///     .max_staleness(Duration::from_secs(10))
///     .capacity(50_000)
///     .build()?;
/// # Ok::<_, rebilly_auth_axum::BuildError>(())
/// ```
#[must_use]
pub struct RebillyAuthBuilder {
    pub(crate) settings: Settings,
    pub(crate) max_tombstones: usize,
    pub(crate) capacity: u64,
    pub(crate) negative_capacity: u64,
    pub(crate) cache: Option<Arc<dyn VerifyCache>>,
    pub(crate) digest_key: Option<[u8; 32]>,
}

impl fmt::Debug for RebillyAuthBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RebillyAuthBuilder")
            .field("client", &self.settings.client)
            .field("source", &self.settings.source)
            .field("allowed_origins", &self.settings.allowed_origins)
            .field("allow_pending_otp", &self.settings.allow_pending_otp)
            .field(
                "otp_pending_when_absent",
                &self.settings.otp_pending_when_absent,
            )
            .field("max_staleness", &self.settings.max_staleness)
            .field("max_token_lifetime", &self.settings.max_token_lifetime)
            .field("max_tombstones", &self.max_tombstones)
            .field("capacity", &self.capacity)
            .field("negative_capacity", &self.negative_capacity)
            .field("verify_timeout", &self.settings.verify_timeout)
            .field(
                "max_concurrent_verifies",
                &self.settings.max_concurrent_verifies,
            )
            .field("digest_key", &self.digest_key.map(|_| "[REDACTED]"))
            .finish_non_exhaustive()
    }
}

impl RebillyAuthBuilder {
    /// Where the token is read (default: `Authorization: Bearer`).
    pub fn token_source(mut self, source: TokenSource) -> Self {
        self.settings.source = source;
        self
    }

    /// The origins (`https://shop.example`, scheme, host and port as browsers send them)
    /// allowed to send unsafe requests (POST, PUT, PATCH, DELETE, …) authenticated by a
    /// cookie. Required with a cookie source: other origins, and requests without an
    /// `Origin`, get 403. Not used with a header source (browsers never attach those
    /// cross-site on their own).
    pub fn allowed_origins<I, S>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.settings.allowed_origins = origins
            .into_iter()
            .map(|o| normalize_origin(o.as_ref()))
            .collect();
        self
    }

    /// Accepts sessions whose one-time password is still pending (default: refused with 401
    /// `error="insufficient_user_authentication"`). **This skips the second factor**: turn
    /// it on only for routes a password-only session may use (such as the page that asks
    /// for the one-time password); [`AuthenticatedCustomer::otp_pending`](crate::AuthenticatedCustomer::otp_pending) tells them apart.
    pub fn allow_pending_otp(mut self, allow: bool) -> Self {
        self.settings.allow_pending_otp = allow;
        self
    }

    /// How a verify answer **without** `otpRequired` is read (default `false`: no one-time
    /// password pending). The spec makes the field optional and gives no default, so no
    /// reading is safe for every organization: an organization that never asks for a second
    /// factor has nothing pending, while one that requires it would let a password-only
    /// session through if the field went missing. Set `true` if your organization requires a
    /// one-time password: an answer without the field is then read as pending (refused unless
    /// [`allow_pending_otp`](Self::allow_pending_otp)), failing closed.
    pub fn otp_pending_when_absent(mut self, pending: bool) -> Self {
        self.settings.otp_pending_when_absent = pending;
        self
    }

    /// The longest a valid answer is served from the cache (default 30 s). **The
    /// trade-off:** a token revoked outside this process (another server's logout, an
    /// admin's) stays accepted here for up to this long. Logouts through
    /// [`RebillyAuth::logout`] or [`RebillyAuth::invalidate`] take effect at once.
    pub fn max_staleness(mut self, max: Duration) -> Self {
        self.settings.max_staleness = max;
        self
    }

    /// How long before the token's `expiredTime` a cached answer stops being served
    /// (default 5 s): an entry lives at most `min(expiredTime − skew, now + max_staleness)`.
    pub fn expiry_skew(mut self, skew: Duration) -> Self {
        self.settings.expiry_skew = skew;
        self
    }

    /// How long a 404 (not valid) is remembered (default 5 s).
    pub fn negative_ttl(mut self, ttl: Duration) -> Self {
        self.settings.negative_ttl = ttl;
        self
    }

    /// The longest a token may live (default 7 days): how long a logout tombstone is kept
    /// when the layer does not know the token's `expiredTime` (it was never cached, or
    /// Rebilly gave none), and a cap on every other cache lifetime (`max_staleness` and
    /// `negative_ttl` may not exceed it). Tokens expire 1 h after login by default, but a
    /// login may ask for a later `expiredTime`: set this to at least the longest lifetime
    /// your logins ask for, else a token revoked through the layer (with the upstream logout
    /// failing) could be accepted again once its tombstone lapses. A longer setting only
    /// keeps tombstones longer (see [`max_tombstones`](Self::max_tombstones)).
    pub fn max_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.settings.max_token_lifetime = lifetime;
        self
    }

    /// The most tombstones the in-memory cache holds (default 1,000,000: about 47 to 94
    /// bytes each, 86 MB at most when full; see [`MemoryCache`]). No traffic evicts a live
    /// tombstone; at the bound, lapsed ones are purged, and when all are live a further
    /// [`RebillyAuth::invalidate`] or [`RebillyAuth::logout`] fails (see there) rather than
    /// drop one. The default covers a million logouts within `max_token_lifetime`.
    pub fn max_tombstones(mut self, max: usize) -> Self {
        self.max_tombstones = max;
        self
    }

    /// The most valid answers the in-memory cache holds (default 10,000).
    pub fn capacity(mut self, entries: u64) -> Self {
        self.capacity = entries;
        self
    }

    /// The most negative (404) answers the in-memory cache holds (default 10,000).
    pub fn negative_capacity(mut self, entries: u64) -> Self {
        self.negative_capacity = entries;
        self
    }

    /// Another cache than the in-memory one, such as a shared store (see [`VerifyCache`]);
    /// `capacity`, `negative_capacity` and `max_tombstones` then do not apply.
    pub fn cache(mut self, cache: Arc<dyn VerifyCache>) -> Self {
        self.cache = Some(cache);
        self
    }

    /// The deadline of one verify, its retry included (default 2 s). Past it the request
    /// gets 503: an outage never stalls requests for the client's own (longer) deadlines.
    pub fn verify_timeout(mut self, timeout: Duration) -> Self {
        self.settings.verify_timeout = timeout;
        self
    }

    /// The most verifies in flight upstream at once (default 32), the verify slots. A
    /// quarter of them (rounded down) is reserved for re-verifying known sessions; a request
    /// that finds no free slot waits in a FIFO queue (at most 8 per slot) for up to
    /// `verify_timeout`, then gets 503 with `Retry-After: 1` (at once if the queue is full).
    /// Requests joining a verify of the same token already in flight do not count. See the
    /// crate docs, "Verify slots".
    pub fn max_concurrent_verifies(mut self, max: usize) -> Self {
        self.settings.max_concurrent_verifies = max;
        self
    }

    /// The clock cache entries are checked against (default: the system clock). Tests give
    /// a manual one.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.settings.clock = clock;
        self
    }

    /// The key of the cache keys' HMAC (default: 32 random bytes drawn per layer). Set it
    /// only to share a [`VerifyCache`] between processes, from a secret store; never log it.
    pub fn digest_key(mut self, key: [u8; 32]) -> Self {
        self.digest_key = Some(key);
        self
    }

    /// Checks the configuration and builds the shared state.
    pub fn build(self) -> Result<RebillyAuth, BuildError> {
        if self.settings.max_staleness.is_zero() {
            return Err(BuildError::Invalid(
                "max_staleness must be greater than zero",
            ));
        }
        if self.settings.verify_timeout.is_zero() {
            return Err(BuildError::Invalid(
                "verify_timeout must be greater than zero",
            ));
        }
        if self.settings.max_concurrent_verifies == 0 {
            return Err(BuildError::Invalid(
                "max_concurrent_verifies must be at least 1",
            ));
        }
        if self.settings.max_token_lifetime < self.settings.max_staleness
            || self.settings.max_token_lifetime < self.settings.negative_ttl
        {
            return Err(BuildError::Invalid(
                "max_token_lifetime caps max_staleness and negative_ttl: it may not be shorter",
            ));
        }
        if self.max_tombstones == 0 {
            return Err(BuildError::Invalid("max_tombstones must be at least 1"));
        }
        if self.capacity == 0 || self.negative_capacity == 0 {
            return Err(BuildError::Invalid("cache capacities must be at least 1"));
        }
        if matches!(self.settings.source, TokenSource::Cookie(_))
            && self.settings.allowed_origins.is_empty()
        {
            return Err(BuildError::Invalid(
                "a cookie token source needs allowed_origins (the CSRF defence of unsafe methods)",
            ));
        }
        let digester = match &self.digest_key {
            Some(key) => Digester::new(key),
            None => Digester::random().map_err(|e| BuildError::Random(Box::new(e)))?,
        };
        let (cache, memory) = match self.cache {
            Some(cache) => (cache, None),
            None => {
                let memory = MemoryCache::new(self.capacity, self.negative_capacity)
                    .max_tombstones(self.max_tombstones);
                (
                    Arc::new(memory.clone()) as Arc<dyn VerifyCache>,
                    Some(memory),
                )
            }
        };
        Ok(RebillyAuth {
            shared: Arc::new(State {
                slots: Slots::new(self.settings.max_concurrent_verifies),
                settings: self.settings,
                cache,
                memory,
                digester,
                flights: Mutex::new(HashMap::new()),
                next_flight: AtomicU64::new(0),
                counters: Counters::default(),
            }),
        })
    }
}
