//! [`RebillyAuth`]: the shared state of the layer (client, cache, single flight, counters)
//! and its [`RebillyAuthBuilder`].

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared, WeakShared};
use rebilly_auth_core::models::{AuthToken, TokenVerification};
use rebilly_auth_core::{Client, ClientBuilder, Clock, Deletion, Error, RetryPolicy, SystemClock};
use tracing::Instrument;

use crate::cache::{CachedAnswer, MemoryCache, VerifyCache};
use crate::customer::AuthenticatedCustomer;
use crate::digest::{CacheKey, Digester};
use crate::metrics::{Counters, Metrics};
use crate::outcome::Rejection;
use crate::token::{TokenSource, Unreadable, normalize_origin};

/// The defaults, in one place for the docs.
pub(crate) mod defaults {
    use std::time::Duration;

    pub(crate) const MAX_STALENESS: Duration = Duration::from_secs(30);
    pub(crate) const EXPIRY_SKEW: Duration = Duration::from_secs(5);
    pub(crate) const NEGATIVE_TTL: Duration = Duration::from_secs(5);
    pub(crate) const TOMBSTONE_TTL: Duration = Duration::from_secs(3600);
    pub(crate) const CAPACITY: u64 = 10_000;
    pub(crate) const NEGATIVE_CAPACITY: u64 = 10_000;
    pub(crate) const VERIFY_TIMEOUT: Duration = Duration::from_secs(2);
    pub(crate) const MAX_CONCURRENT_VERIFIES: usize = 32;
    pub(crate) const OVERLOAD_RETRY_AFTER: Duration = Duration::from_secs(1);
}

/// Applies the layer's verify settings to a client builder: at most one retry (two
/// attempts, short backoff), the whole call within `verify_timeout` (2 s is the layer's
/// default), and a server-given wait honoured only when short. Build the layer's client
/// with it (and a publishable key: verify and logout need no more).
///
/// ```
/// use std::time::Duration;
/// use rebilly_auth_core::{Auth, Client};
/// # let transport = rebilly_auth_core::transport_fn(|_r| async { unreachable!() });
///
/// let client = rebilly_auth_axum::verify_client_settings(Client::builder(), Duration::from_secs(2))
///     .organization("my-org")
///     .auth(Auth::publishable_key("pk_live_xxx"))
///     .transport(transport)
///     .build()?;
/// assert_eq!(client.retry_policy().attempts(), 2);
/// # Ok::<_, rebilly_auth_core::BuildError>(())
/// ```
pub fn verify_client_settings(builder: ClientBuilder, verify_timeout: Duration) -> ClientBuilder {
    let timeout = if verify_timeout.is_zero() {
        defaults::VERIFY_TIMEOUT
    } else {
        verify_timeout
    };
    builder
        .retry_policy(
            RetryPolicy::default()
                .max_attempts(2)
                .initial_backoff(Duration::from_millis(50))
                .max_backoff(Duration::from_millis(200))
                .max_server_wait(timeout / 4),
        )
        .attempt_timeout(timeout)
        .call_timeout(timeout)
}

/// A layer configuration that cannot work, found by [`RebillyAuthBuilder::build`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A setting is out of range.
    #[error("invalid rebilly-auth-axum configuration: {0}")]
    Invalid(&'static str),
    /// The client retries more than once: an outage would stall requests.
    #[error(
        "the layer's client makes up to {attempts} attempts per call; the layer allows at most 2 \
         (one retry): build it with rebilly_auth_axum::verify_client_settings"
    )]
    TooManyRetries {
        /// The client's attempts per call.
        attempts: u32,
    },
    /// No random digest key could be drawn from the operating system.
    #[error("no random digest key could be drawn from the operating system")]
    Random(#[source] getrandom::Error),
}

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
/// # Ok::<_, rebilly_auth_axum::ConfigError>(())
/// ```
#[must_use]
pub struct RebillyAuthBuilder {
    client: Client,
    source: TokenSource,
    allowed_origins: Vec<String>,
    allow_pending_otp: bool,
    max_staleness: Duration,
    expiry_skew: Duration,
    negative_ttl: Duration,
    tombstone_ttl: Duration,
    capacity: u64,
    negative_capacity: u64,
    cache: Option<Arc<dyn VerifyCache>>,
    verify_timeout: Duration,
    max_concurrent_verifies: usize,
    clock: Arc<dyn Clock>,
    digest_key: Option<[u8; 32]>,
}

impl fmt::Debug for RebillyAuthBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RebillyAuthBuilder")
            .field("client", &self.client)
            .field("source", &self.source)
            .field("allowed_origins", &self.allowed_origins)
            .field("allow_pending_otp", &self.allow_pending_otp)
            .field("max_staleness", &self.max_staleness)
            .field("capacity", &self.capacity)
            .field("negative_capacity", &self.negative_capacity)
            .field("verify_timeout", &self.verify_timeout)
            .field("max_concurrent_verifies", &self.max_concurrent_verifies)
            .field("digest_key", &self.digest_key.map(|_| "[REDACTED]"))
            .finish_non_exhaustive()
    }
}

impl RebillyAuthBuilder {
    /// Where the token is read (default: `Authorization: Bearer`).
    pub fn token_source(mut self, source: TokenSource) -> Self {
        self.source = source;
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
        self.allowed_origins = origins
            .into_iter()
            .map(|o| normalize_origin(o.as_ref()))
            .collect();
        self
    }

    /// Accepts sessions whose one-time password is still pending (default: refused with 401
    /// `error="insufficient_user_authentication"`). **This skips the second factor**: turn
    /// it on only for routes a password-only session may use (such as the page that asks
    /// for the one-time password); [`AuthenticatedCustomer::otp_pending`] tells them apart.
    pub fn allow_pending_otp(mut self, allow: bool) -> Self {
        self.allow_pending_otp = allow;
        self
    }

    /// The longest a valid answer is served from the cache (default 30 s). **The
    /// trade-off:** a token revoked outside this process (another server's logout, an
    /// admin's) stays accepted here for up to this long. Logouts through
    /// [`RebillyAuth::logout`] or [`RebillyAuth::invalidate`] take effect at once.
    pub fn max_staleness(mut self, max: Duration) -> Self {
        self.max_staleness = max;
        self
    }

    /// How long before the token's `expiredTime` a cached answer stops being served
    /// (default 5 s): an entry lives at most `min(expiredTime − skew, now + max_staleness)`.
    pub fn expiry_skew(mut self, skew: Duration) -> Self {
        self.expiry_skew = skew;
        self
    }

    /// How long a 404 (not valid) is remembered (default 5 s).
    pub fn negative_ttl(mut self, ttl: Duration) -> Self {
        self.negative_ttl = ttl;
        self
    }

    /// How long a logout tombstone is kept (default 1 h).
    pub fn tombstone_ttl(mut self, ttl: Duration) -> Self {
        self.tombstone_ttl = ttl;
        self
    }

    /// The most valid answers and tombstones the in-memory cache holds (default 10,000).
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
    /// `capacity` and `negative_capacity` then do not apply.
    pub fn cache(mut self, cache: Arc<dyn VerifyCache>) -> Self {
        self.cache = Some(cache);
        self
    }

    /// The deadline of one verify, its retry included (default 2 s). Past it the request
    /// gets 503: an outage never stalls requests for the client's own (longer) deadlines.
    pub fn verify_timeout(mut self, timeout: Duration) -> Self {
        self.verify_timeout = timeout;
        self
    }

    /// The most verifies in flight upstream at once (default 32). A request that needs one
    /// more gets 503 with `Retry-After: 1`. Requests joining a verify of the same token
    /// already in flight do not count.
    pub fn max_concurrent_verifies(mut self, max: usize) -> Self {
        self.max_concurrent_verifies = max;
        self
    }

    /// The clock cache entries are checked against (default: the system clock). Tests give
    /// a manual one.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The key of the cache keys' HMAC (default: 32 random bytes drawn per layer). Set it
    /// only to share a [`VerifyCache`] between processes, from a secret store; never log it.
    pub fn digest_key(mut self, key: [u8; 32]) -> Self {
        self.digest_key = Some(key);
        self
    }

    /// Checks the configuration and builds the shared state.
    pub fn build(self) -> Result<RebillyAuth, ConfigError> {
        if self.max_staleness.is_zero() {
            return Err(ConfigError::Invalid(
                "max_staleness must be greater than zero",
            ));
        }
        if self.verify_timeout.is_zero() {
            return Err(ConfigError::Invalid(
                "verify_timeout must be greater than zero",
            ));
        }
        if self.max_concurrent_verifies == 0 {
            return Err(ConfigError::Invalid(
                "max_concurrent_verifies must be at least 1",
            ));
        }
        if self.capacity == 0 || self.negative_capacity == 0 {
            return Err(ConfigError::Invalid("cache capacities must be at least 1"));
        }
        if matches!(self.source, TokenSource::Cookie(_)) && self.allowed_origins.is_empty() {
            return Err(ConfigError::Invalid(
                "a cookie token source needs allowed_origins (the CSRF defence of unsafe methods)",
            ));
        }
        let attempts = self.client.retry_policy().attempts();
        if attempts > 2 {
            return Err(ConfigError::TooManyRetries { attempts });
        }
        let digester = match &self.digest_key {
            Some(key) => Digester::new(key),
            None => Digester::random().map_err(ConfigError::Random)?,
        };
        let (cache, memory) = match self.cache {
            Some(cache) => (cache, None),
            None => {
                let memory = MemoryCache::new(self.capacity, self.negative_capacity);
                (
                    Arc::new(memory.clone()) as Arc<dyn VerifyCache>,
                    Some(memory),
                )
            }
        };
        Ok(RebillyAuth {
            shared: Arc::new(State {
                client: self.client,
                source: self.source,
                allowed_origins: self.allowed_origins,
                allow_pending_otp: self.allow_pending_otp,
                max_staleness: self.max_staleness,
                expiry_skew: self.expiry_skew,
                negative_ttl: self.negative_ttl,
                tombstone_ttl: self.tombstone_ttl,
                cache,
                memory,
                verify_timeout: self.verify_timeout,
                max_concurrent_verifies: self.max_concurrent_verifies,
                clock: self.clock,
                digester,
                flights: Mutex::new(HashMap::new()),
                next_flight: AtomicU64::new(0),
                in_flight: AtomicUsize::new(0),
                counters: Counters::default(),
            }),
        })
    }
}

/// The result every request of one flight shares.
type FlightResult = Result<AuthenticatedCustomer, Rejection>;
type Flight = Shared<BoxFuture<'static, FlightResult>>;

/// A verify in flight, as the registry knows it.
struct FlightEntry {
    id: u64,
    flight: WeakShared<BoxFuture<'static, FlightResult>>,
    revoked: Arc<AtomicBool>,
}

pub(crate) struct State {
    pub(crate) client: Client,
    pub(crate) source: TokenSource,
    pub(crate) allowed_origins: Vec<String>,
    allow_pending_otp: bool,
    max_staleness: Duration,
    expiry_skew: Duration,
    negative_ttl: Duration,
    tombstone_ttl: Duration,
    cache: Arc<dyn VerifyCache>,
    memory: Option<MemoryCache>,
    verify_timeout: Duration,
    max_concurrent_verifies: usize,
    clock: Arc<dyn Clock>,
    digester: Digester,
    flights: Mutex<HashMap<CacheKey, FlightEntry>>,
    next_flight: AtomicU64,
    in_flight: AtomicUsize,
    pub(crate) counters: Counters,
}

/// The layer's shared state: its client, verify cache, single-flight registry and counters.
/// Cheap to clone (one `Arc`); every layer made from it shares them.
///
/// Make the tower layers with [`layer`](Self::layer) (login required) and
/// [`optional_layer`](Self::optional_layer) (login optional); log customers out with
/// [`logout`](Self::logout); read counters with [`metrics`](Self::metrics).
#[derive(Clone)]
pub struct RebillyAuth {
    pub(crate) shared: Arc<State>,
}

impl fmt::Debug for RebillyAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &*self.shared;
        f.debug_struct("RebillyAuth")
            .field("client", &s.client)
            .field("source", &s.source)
            .field("allowed_origins", &s.allowed_origins)
            .field("allow_pending_otp", &s.allow_pending_otp)
            .field("max_staleness", &s.max_staleness)
            .field("cache", &s.cache)
            .field("verify_timeout", &s.verify_timeout)
            .field("max_concurrent_verifies", &s.max_concurrent_verifies)
            .finish_non_exhaustive()
    }
}

/// The span of one authentication, through the layer or [`RebillyAuth::authenticate`]: the
/// cache path, the upstream answer and the outcome are recorded into it as they are known.
pub(crate) fn authentication_span() -> tracing::Span {
    tracing::info_span!(
        "rebilly_auth.authenticate",
        cache = tracing::field::Empty,
        upstream = tracing::field::Empty,
        outcome = tracing::field::Empty,
    )
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Which cache path answered: a span field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CachePath {
    Hit,
    NegativeHit,
    Revoked,
    Miss,
    Coalesced,
}

impl CachePath {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Hit => "hit",
            Self::NegativeHit => "negative_hit",
            Self::Revoked => "revoked",
            Self::Miss => "miss",
            Self::Coalesced => "coalesced",
        }
    }
}

impl RebillyAuth {
    /// A builder over `client`, the client verify and logout calls go through. Give it a
    /// publishable key (verify and logout need no more), and build it with
    /// [`verify_client_settings`] (at most one retry; [`build`](RebillyAuthBuilder::build)
    /// refuses a client that retries more).
    pub fn builder(client: Client) -> RebillyAuthBuilder {
        RebillyAuthBuilder {
            client,
            source: TokenSource::default(),
            allowed_origins: Vec::new(),
            allow_pending_otp: false,
            max_staleness: defaults::MAX_STALENESS,
            expiry_skew: defaults::EXPIRY_SKEW,
            negative_ttl: defaults::NEGATIVE_TTL,
            tombstone_ttl: defaults::TOMBSTONE_TTL,
            capacity: defaults::CAPACITY,
            negative_capacity: defaults::NEGATIVE_CAPACITY,
            cache: None,
            verify_timeout: defaults::VERIFY_TIMEOUT,
            max_concurrent_verifies: defaults::MAX_CONCURRENT_VERIFIES,
            clock: Arc::new(SystemClock),
            digest_key: None,
        }
    }

    /// The counters so far.
    pub fn metrics(&self) -> Metrics {
        self.shared.counters.snapshot()
    }

    /// The in-memory cache, unless another [`VerifyCache`] was configured.
    pub fn memory_cache(&self) -> Option<&MemoryCache> {
        self.shared.memory.as_ref()
    }

    /// The client verify and logout calls go through.
    pub fn client(&self) -> &Client {
        &self.shared.client
    }

    /// The token of a request's headers, read from the configured source: for a logout
    /// route that is not behind the layer. `None` if missing or malformed.
    pub fn token_from_headers(&self, headers: &http::HeaderMap) -> Option<AuthToken> {
        self.shared.source.read(headers).ok().map(AuthToken::from)
    }

    /// Authenticates `token` as the layer does for a request: the cache, else one verify
    /// (shared with concurrent callers of the same token), then the OTP rule.
    pub async fn authenticate(&self, token: &str) -> Result<AuthenticatedCustomer, Rejection> {
        let span = authentication_span();
        let result = self
            .authenticate_inner(token)
            .instrument(span.clone())
            .await;
        span.record(
            "outcome",
            match &result {
                Ok(_) => "authenticated",
                Err(rejection) => rejection.name(),
            },
        );
        result
    }

    pub(crate) async fn authenticate_inner(
        &self,
        token: &str,
    ) -> Result<AuthenticatedCustomer, Rejection> {
        let s = &*self.shared;
        if let Err(unreadable) = crate::token::check(token) {
            Counters::inc(&s.counters.malformed_token);
            return Err(match unreadable {
                Unreadable::Missing => Rejection::MissingToken,
                Unreadable::Malformed => Rejection::MalformedToken,
            });
        }
        Counters::inc(&s.counters.authentications);
        let key = s.digester.digest(token);
        let now = s.clock.now();
        let cached = match &s.memory {
            Some(memory) => memory.lookup(&key).await,
            None => s.cache.get(&key).await,
        };
        let (path, result) = match cached {
            Some(CachedAnswer::Valid { customer, until }) if now < until => {
                Counters::inc(&s.counters.cache_hits);
                (CachePath::Hit, Ok(customer))
            }
            Some(CachedAnswer::Invalid { until }) if now < until => {
                Counters::inc(&s.counters.negative_hits);
                (CachePath::NegativeHit, Err(Rejection::InvalidToken))
            }
            Some(CachedAnswer::Revoked { until }) if now < until => {
                Counters::inc(&s.counters.revoked_hits);
                (CachePath::Revoked, Err(Rejection::InvalidToken))
            }
            _ => {
                Counters::inc(&s.counters.misses);
                self.fly(key, token).await
            }
        };
        tracing::Span::current().record("cache", path.as_str());
        let customer = result?;
        if customer.otp_pending() && !s.allow_pending_otp {
            Counters::inc(&s.counters.otp_refused);
            return Err(Rejection::OtpPending);
        }
        Ok(customer)
    }

    /// Joins the verify of `key` in flight, or starts one (within the cap).
    async fn fly(&self, key: CacheKey, token: &str) -> (CachePath, FlightResult) {
        let s = &*self.shared;
        let (path, flight): (CachePath, Flight) = {
            let mut flights = lock(&s.flights);
            match flights.get(&key).and_then(|entry| entry.flight.upgrade()) {
                Some(flight) => {
                    Counters::inc(&s.counters.coalesced);
                    (CachePath::Coalesced, flight)
                }
                None => {
                    let Some(permit) = Permit::acquire(self) else {
                        drop(flights);
                        Counters::inc(&s.counters.over_capacity);
                        tracing::Span::current().record("upstream", "over_capacity");
                        return (
                            CachePath::Miss,
                            Err(Rejection::Overloaded {
                                retry_after: defaults::OVERLOAD_RETRY_AFTER,
                            }),
                        );
                    };
                    let id = s.next_flight.fetch_add(1, Ordering::Relaxed);
                    let revoked = Arc::new(AtomicBool::new(false));
                    let guard = FlightGuard {
                        auth: self.clone(),
                        key,
                        id,
                    };
                    let auth = self.clone();
                    let token = AuthToken::new(token);
                    let flag = Arc::clone(&revoked);
                    let flight: Flight = async move {
                        let _permit = permit;
                        let _guard = guard;
                        auth.verify_upstream(key, token, &flag).await
                    }
                    .boxed()
                    .shared();
                    if let Some(weak) = flight.downgrade() {
                        flights.insert(
                            key,
                            FlightEntry {
                                id,
                                flight: weak,
                                revoked,
                            },
                        );
                    }
                    (CachePath::Miss, flight)
                }
            }
        };
        (path, flight.await)
    }

    /// One upstream verify, its answer cached per the outcome table.
    async fn verify_upstream(
        &self,
        key: CacheKey,
        token: AuthToken,
        revoked: &AtomicBool,
    ) -> FlightResult {
        let s = &*self.shared;
        Counters::inc(&s.counters.upstream_verifies);
        let call = s.client.authentication_tokens().verify(token).send();
        let answer = tokio::time::timeout(s.verify_timeout, call).await;
        let now = s.clock.now();
        let span = tracing::Span::current();
        let result = match answer {
            Err(_elapsed) => {
                tracing::warn!(
                    timeout_ms = s.verify_timeout.as_millis() as u64,
                    "rebilly-auth-axum: verify did not answer within the layer's deadline"
                );
                Err(Rejection::Unavailable { retry_after: None })
            }
            Ok(Ok(Some(verification))) => self.accept(key, verification, now, revoked).await,
            Ok(Ok(None)) => {
                Counters::inc(&s.counters.upstream_invalid);
                span.record("upstream", "not_valid");
                let until = now.checked_add(s.negative_ttl).unwrap_or(now);
                s.cache.put(key, CachedAnswer::Invalid { until }, now).await;
                Err(Rejection::InvalidToken)
            }
            Ok(Err(error)) => Err(classify(&error, now)),
        };
        match &result {
            Err(Rejection::Unavailable { .. }) => {
                Counters::inc(&s.counters.upstream_unavailable);
                span.record("upstream", "unavailable");
            }
            Err(Rejection::Misconfigured) => {
                Counters::inc(&s.counters.upstream_misconfigured);
                span.record("upstream", "misconfigured");
            }
            Err(Rejection::BadUpstreamAnswer) => {
                Counters::inc(&s.counters.upstream_bad_answer);
                span.record("upstream", "bad_answer");
            }
            _ => {}
        }
        result
    }

    /// A 200 verification: checked, cached (unless revoked meanwhile), returned.
    async fn accept(
        &self,
        key: CacheKey,
        verification: TokenVerification,
        now: SystemTime,
        revoked: &AtomicBool,
    ) -> FlightResult {
        let s = &*self.shared;
        let Some(customer_id) = verification.customer_id else {
            tracing::warn!(
                "rebilly-auth-axum: a verify answer without customerId (treated as a bad answer)"
            );
            return Err(Rejection::BadUpstreamAnswer);
        };
        Counters::inc(&s.counters.upstream_valid);
        tracing::Span::current().record("upstream", "valid");
        let expires_at = verification.expired_time;
        let customer = AuthenticatedCustomer::new(
            customer_id,
            verification.username,
            verification.credential_id,
            expires_at,
            verification.otp_required.unwrap_or(false),
        );
        let mut until = now.checked_add(s.max_staleness).unwrap_or(now);
        if let Some(expiry) = expires_at {
            let expiry = SystemTime::from(expiry);
            if expiry <= now {
                // Rebilly says valid, our clock says expired: refuse, do not cache.
                return Err(Rejection::InvalidToken);
            }
            until = until.min(expiry.checked_sub(s.expiry_skew).unwrap_or(now));
        }
        if revoked.load(Ordering::SeqCst) {
            return Err(Rejection::InvalidToken);
        }
        if now < until {
            s.cache
                .put(
                    key,
                    CachedAnswer::Valid {
                        customer: customer.clone(),
                        until,
                    },
                    now,
                )
                .await;
        }
        // A logout that landed while this verify was in flight wins.
        if revoked.load(Ordering::SeqCst) {
            return Err(Rejection::InvalidToken);
        }
        Ok(customer)
    }

    /// Forgets what the layer knows of `token` and writes a tombstone: the next request with
    /// it gets 401 with no upstream call, also when a verify of it is in flight right now
    /// (its answer is neither cached nor given to anyone). Logs nothing out upstream: use
    /// [`logout`](Self::logout) for that.
    pub async fn invalidate(&self, token: &str) {
        let s = &*self.shared;
        Counters::inc(&s.counters.invalidations);
        let key = s.digester.digest(token);
        if let Some(entry) = lock(&s.flights).get(&key) {
            entry.revoked.store(true, Ordering::SeqCst);
        }
        let now = s.clock.now();
        let until = now.checked_add(s.tombstone_ttl).unwrap_or(now);
        s.cache.revoke(key, until).await;
    }

    /// Logs the customer out in one step: [`invalidate`](Self::invalidate)s the token here,
    /// then calls the SDK's logout (`DELETE /authentication-tokens/{token}`). The token is
    /// refused here even if the upstream call fails.
    pub async fn logout(&self, token: &str) -> Result<Deletion, Error> {
        self.invalidate(token).await;
        self.shared
            .client
            .authentication_tokens()
            .logout(token)
            .await
    }
}

/// Maps a verify error to the outcome table.
fn classify(error: &Error, now: SystemTime) -> Rejection {
    match error {
        Error::InvalidInput(_) => Rejection::MalformedToken,
        _ if error.is_timeout() => {
            tracing::warn!(error = %error, "rebilly-auth-axum: verify timed out");
            Rejection::Unavailable { retry_after: None }
        }
        Error::Transport { source, .. } => {
            tracing::warn!(
                kind = %source.kind(),
                "rebilly-auth-axum: verify got no response"
            );
            Rejection::Unavailable { retry_after: None }
        }
        Error::Api(api) => {
            let status = api.status;
            if status == http::StatusCode::UNAUTHORIZED || status == http::StatusCode::FORBIDDEN {
                tracing::error!(
                    status = status.as_u16(),
                    "rebilly-auth-axum is misconfigured: Rebilly refused the layer's own \
                     credential on verify (wrong API key or organization of the layer's client)"
                );
                Rejection::Misconfigured
            } else if status == http::StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
                let retry_after = api
                    .retry_at
                    .map(|at| at.duration_since(now).unwrap_or(Duration::ZERO));
                tracing::warn!(
                    status = status.as_u16(),
                    "rebilly-auth-axum: Rebilly could not verify"
                );
                Rejection::Unavailable { retry_after }
            } else {
                tracing::warn!(
                    status = status.as_u16(),
                    "rebilly-auth-axum: unexpected verify status"
                );
                Rejection::BadUpstreamAnswer
            }
        }
        _ => {
            tracing::warn!(error = %error, "rebilly-auth-axum: verify answer not usable");
            Rejection::BadUpstreamAnswer
        }
    }
}

/// One of the cap's slots, released on drop.
struct Permit {
    auth: RebillyAuth,
}

impl Permit {
    fn acquire(auth: &RebillyAuth) -> Option<Self> {
        let s = &*auth.shared;
        s.in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < s.max_concurrent_verifies).then_some(n + 1)
            })
            .ok()
            .map(|_| Self { auth: auth.clone() })
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.auth.shared.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Removes its flight from the registry when the flight ends or is abandoned.
struct FlightGuard {
    auth: RebillyAuth,
    key: CacheKey,
    id: u64,
}

impl Drop for FlightGuard {
    fn drop(&mut self) {
        let mut flights = lock(&self.auth.shared.flights);
        if flights.get(&self.key).is_some_and(|e| e.id == self.id) {
            flights.remove(&self.key);
        }
    }
}
