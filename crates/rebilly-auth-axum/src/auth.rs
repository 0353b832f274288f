//! [`RebillyAuth`]: the shared state of the layer (client, cache, single flight, counters)
//! and how one token is authenticated through it. Its settings: [`crate::config`].

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared, WeakShared};
use rebilly_auth_core::models::{AuthToken, TokenVerification};
use rebilly_auth_core::{Client, Clock, Deletion, Error, SystemClock};
use tracing::Instrument;

use crate::cache::{CachedAnswer, MemoryCache, VerifyCache};
use crate::config::{RebillyAuthBuilder, defaults, verify_retry_policy};
use crate::customer::AuthenticatedCustomer;
use crate::digest::{CacheKey, Digester};
use crate::metrics::{Counters, Metrics};
use crate::outcome::Rejection;
use crate::token::{TokenSource, Unreadable};

/// The result every request of one flight shares.
type FlightResult = Result<AuthenticatedCustomer, Rejection>;
type Flight = Shared<BoxFuture<'static, FlightResult>>;

/// A verify in flight, as the registry knows it.
pub(crate) struct FlightEntry {
    pub(crate) id: u64,
    pub(crate) flight: WeakShared<BoxFuture<'static, FlightResult>>,
    pub(crate) revoked: Arc<AtomicBool>,
}

pub(crate) struct State {
    pub(crate) client: Client,
    pub(crate) source: TokenSource,
    pub(crate) allowed_origins: Vec<String>,
    pub(crate) allow_pending_otp: bool,
    pub(crate) max_staleness: Duration,
    pub(crate) expiry_skew: Duration,
    pub(crate) negative_ttl: Duration,
    pub(crate) tombstone_ttl: Duration,
    pub(crate) cache: Arc<dyn VerifyCache>,
    pub(crate) memory: Option<MemoryCache>,
    pub(crate) verify_timeout: Duration,
    pub(crate) max_concurrent_verifies: usize,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) digester: Digester,
    pub(crate) flights: Mutex<HashMap<CacheKey, FlightEntry>>,
    pub(crate) next_flight: AtomicU64,
    pub(crate) in_flight: AtomicUsize,
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
    /// A builder over `client`, the client verify and logout calls go through: any client,
    /// your application's own included (the layer gives each verify its own deadline and at
    /// most one retry, whatever the client's settings). A publishable key is enough for it:
    /// verify and logout need no more.
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
        // The layer's own deadline and single retry, whatever the client's settings.
        let call = s
            .client
            .authentication_tokens()
            .verify(token)
            .retry_policy(verify_retry_policy(s.verify_timeout))
            .call_timeout(s.verify_timeout)
            .attempt_timeout(s.verify_timeout)
            .send();
        // Core's deadline counts on the client's `Clock`, which a test (or an app) may have
        // made a manual one; this one counts on tokio's, so wall time is bounded whatever it is.
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
