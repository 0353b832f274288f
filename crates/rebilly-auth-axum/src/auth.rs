//! [`RebillyAuth`]: the shared state of the layer (client, cache, single flight, counters)
//! and how one token is authenticated through it. Its settings: `settings.rs`, filled by
//! the builder in `config.rs`.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared, WeakShared};
use rebilly_auth_core::models::AuthToken;
use rebilly_auth_core::{Client, Deletion, Error};
use tracing::Instrument;

use crate::cache::{CachedAnswer, Claim, MemoryCache, RevokeError, VerifyCache};
use crate::customer::AuthenticatedCustomer;
use crate::digest::{CacheKey, Digester};
use crate::metrics::{Counters, Metrics};
use crate::outcome::Rejection;
use crate::settings::Settings;
use crate::slots::{Class, OVERLOAD_RETRY_AFTER, Slots};
use crate::token::Unreadable;

/// The result every request of one flight shares.
pub(crate) type FlightResult = Result<AuthenticatedCustomer, Rejection>;
type Flight = Shared<BoxFuture<'static, FlightResult>>;

/// A verify in flight, as the registry knows it.
pub(crate) struct FlightEntry {
    pub(crate) id: u64,
    pub(crate) flight: WeakShared<BoxFuture<'static, FlightResult>>,
    pub(crate) revoked: Arc<AtomicBool>,
}

/// The running layer: its [`Settings`] (read through `Deref`) and what it keeps at run time.
pub(crate) struct State {
    pub(crate) settings: Settings,
    pub(crate) cache: Arc<dyn VerifyCache>,
    pub(crate) memory: Option<MemoryCache>,
    pub(crate) slots: Slots,
    pub(crate) digester: Digester,
    pub(crate) flights: Mutex<HashMap<CacheKey, FlightEntry>>,
    pub(crate) next_flight: AtomicU64,
    pub(crate) counters: Counters,
}

impl std::ops::Deref for State {
    type Target = Settings;

    fn deref(&self) -> &Settings {
        &self.settings
    }
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
        store = tracing::field::Empty,
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
    /// The counters so far.
    pub fn metrics(&self) -> Metrics {
        let s = &*self.shared;
        s.counters.snapshot(s.cache.store_metrics())
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
        let cached = self.cached(&key, now).await;
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
            other => {
                Counters::inc(&s.counters.misses);
                // A token with a valid answer past its freshness is a known session: its
                // re-verify may take a reserved slot.
                let class = match other {
                    Some(CachedAnswer::Valid { .. }) => Class::Known,
                    _ => Class::Fresh,
                };
                self.fly(key, token, class).await
            }
        };
        let span = tracing::Span::current();
        span.record("cache", path.as_str());
        if s.memory.is_none() {
            if let Some(store) = s.cache.store_metrics() {
                span.record("store", store.state());
            }
        }
        let customer = result?;
        if customer.otp_pending() && !s.allow_pending_otp {
            Counters::inc(&s.counters.otp_refused);
            return Err(Rejection::OtpPending);
        }
        Ok(customer)
    }

    /// What the cache holds for `key` at `now` (a live tombstone first).
    pub(crate) async fn cached(&self, key: &CacheKey, now: SystemTime) -> Option<CachedAnswer> {
        let s = &*self.shared;
        match &s.memory {
            Some(memory) => memory.lookup(key, now).await,
            None => {
                // A store's in-process tier first: a warm request then costs what it costs
                // on the in-memory layer (no boxed future; issue 26's hot-path goal).
                if let Some(local) = s.cache.local_tier() {
                    match local.lookup(key, now).await {
                        Some(answer @ CachedAnswer::Revoked { .. }) => return Some(answer),
                        Some(answer) if answer.is_live(now) => return Some(answer),
                        _ => {}
                    }
                }
                s.cache.get(key, now).await
            }
        }
    }

    /// Joins the verify of `key` in flight, or starts one, which waits for a verify slot
    /// of `class` first.
    async fn fly(&self, key: CacheKey, token: &str, class: Class) -> (CachePath, FlightResult) {
        let s = &*self.shared;
        let (path, flight): (CachePath, Flight) = {
            let mut flights = lock(&s.flights);
            match flights.get(&key).and_then(|entry| entry.flight.upgrade()) {
                Some(flight) => {
                    Counters::inc(&s.counters.coalesced);
                    (CachePath::Coalesced, flight)
                }
                None => {
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
                        let _guard = guard;
                        let s = &*auth.shared;
                        if let Some(answer) = auth.claim(&key, &flag).await {
                            return answer;
                        }
                        let Ok(_slot) = s.slots.acquire(class, s.verify_timeout).await else {
                            Counters::inc(&s.counters.over_capacity);
                            tracing::Span::current().record("upstream", "over_capacity");
                            return Err(Rejection::Overloaded {
                                retry_after: OVERLOAD_RETRY_AFTER,
                            });
                        };
                        if class == Class::Known {
                            Counters::inc(&s.counters.known_reverifies);
                        }
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

    /// Asks the store whether another process verifies `key` ([`VerifyCache::claim`]):
    /// `Some` with that answer, `None` when this process verifies.
    async fn claim(&self, key: &CacheKey, revoked: &AtomicBool) -> Option<FlightResult> {
        let s = &*self.shared;
        if s.memory.is_some() {
            return None; // The in-memory cache has no leases.
        }
        let now = s.clock.now();
        let answer = match s.cache.claim(key, now, s.verify_timeout).await {
            Claim::Verify => return None,
            Claim::Answered(answer) => answer,
        };
        let now = s.clock.now();
        let result = match answer {
            _ if revoked.load(Ordering::SeqCst) => Err(Rejection::InvalidToken),
            CachedAnswer::Valid { customer, until } if now < until => Ok(customer),
            CachedAnswer::Invalid { until } | CachedAnswer::Revoked { until } if now < until => {
                Err(Rejection::InvalidToken)
            }
            _ => return None, // Lapsed while it travelled: verify.
        };
        Counters::inc(&s.counters.claimed_answers);
        Some(result)
    }

    /// Forgets what the layer knows of `token` and writes a tombstone: the next request with
    /// it gets 401 with no upstream call, also when a verify of it is in flight right now
    /// (its answer is neither cached nor given to anyone). Logs nothing out upstream: use
    /// [`logout`](Self::logout) for that.
    ///
    /// The tombstone lives until the token's `expiredTime` when the layer knows it (from a
    /// cached answer, or the verify in flight), else for
    /// [`max_token_lifetime`](crate::RebillyAuthBuilder::max_token_lifetime); no traffic
    /// evicts it.
    ///
    /// # Errors
    ///
    /// [`RevokeError::Full`] when the tombstone store holds
    /// [`max_tombstones`](crate::RebillyAuthBuilder::max_tombstones) live tombstones (none is
    /// dropped to make room), or a shared store's [`RevokeError::Store`]. The token is then
    /// **not** refused by a tombstone: its cached answer is dropped, so its next request is
    /// verified with Rebilly again (log it out upstream too, as [`logout`](Self::logout)
    /// does, so that verify says 404), and
    /// [`Metrics::tombstones_refused`](crate::Metrics::tombstones_refused) counts it.
    pub async fn invalidate(&self, token: &str) -> Result<(), RevokeError> {
        let s = &*self.shared;
        Counters::inc(&s.counters.invalidations);
        let key = s.digester.digest(token);
        if let Some(entry) = lock(&s.flights).get(&key) {
            entry.revoked.store(true, Ordering::SeqCst);
        }
        let now = s.clock.now();
        let known_expiry = match self.cached(&key, now).await {
            Some(CachedAnswer::Valid { customer, .. }) => customer.expires_at(),
            _ => None,
        };
        let until = match known_expiry {
            Some(expiry) => SystemTime::from(expiry),
            None => now.checked_add(s.max_token_lifetime).unwrap_or(now),
        };
        let result = s.cache.revoke(key, until, now).await;
        if let Err(error) = &result {
            Counters::inc(&s.counters.tombstones_refused);
            tracing::error!(
                error = %error,
                "rebilly-auth-axum: no tombstone could be written; the token's cached answer \
                 was dropped and it will be verified with Rebilly again"
            );
        }
        result
    }

    /// Logs the customer out in one step: [`invalidate`](Self::invalidate)s the token here,
    /// then calls the SDK's logout (`DELETE /authentication-tokens/{token}`). The token is
    /// refused here even if the upstream call fails, as long as its tombstone was written.
    ///
    /// # Errors
    ///
    /// [`LogoutError::Upstream`] when the upstream logout failed (the tombstone refuses the
    /// token here); [`LogoutError::NotRevoked`] when no tombstone could be written (see
    /// [`invalidate`](Self::invalidate)), with the upstream outcome: the upstream logout is
    /// attempted all the same.
    pub async fn logout(&self, token: &str) -> Result<Deletion, LogoutError> {
        let revoked = self.invalidate(token).await;
        let upstream = self
            .shared
            .client
            .authentication_tokens()
            .logout(token)
            .await;
        match (revoked, upstream) {
            (Ok(()), Ok(deletion)) => Ok(deletion),
            (Ok(()), Err(error)) => Err(LogoutError::Upstream(error)),
            (Err(revoke), upstream) => Err(LogoutError::NotRevoked { revoke, upstream }),
        }
    }
}

/// Why [`RebillyAuth::logout`] (or [`CurrentSession::logout`](crate::CurrentSession::logout))
/// failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogoutError {
    /// The token is refused here (its tombstone was written), but the upstream logout
    /// failed: Rebilly may still hold the token.
    #[error("logged out here, but not upstream")]
    Upstream(#[source] Error),
    /// No tombstone could be written (the store is full, or failed): the token is not
    /// refused here by a tombstone; its cached answer was dropped, so its next request is
    /// verified with Rebilly again.
    #[error("no tombstone could be written")]
    NotRevoked {
        /// Why.
        #[source]
        revoke: RevokeError,
        /// The upstream logout, attempted all the same: if it succeeded, Rebilly's next
        /// verify says 404.
        upstream: Result<Deletion, Error>,
    },
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
