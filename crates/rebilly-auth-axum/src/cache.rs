//! The verify cache: the [`VerifyCache`] trait and its in-memory implementation,
//! [`MemoryCache`].
//!
//! The layer decides how long an answer lives and checks it **on read** against its own
//! clock; a store keeps answers and tombstones and bounds how many. That keeps expiry
//! testable (a manual clock, no sleeping) and identical for every store.
//!
//! ## Answers and tombstones are kept apart
//!
//! Answers (valid and not valid) are a cache: evicting one costs one more verify. A
//! tombstone (a logout or invalidation done through the layer) is a **promise**: dropping a
//! live one would let a logged-out token back in. So a store keeps tombstones apart from
//! answers, where no traffic can evict them:
//!
//! - a tombstone lives until the token's `expiredTime` when the layer knows it, else for
//!   [`max_token_lifetime`](crate::RebillyAuthBuilder::max_token_lifetime); then it may go;
//! - a store has a bound on tombstones; at the bound it may drop only tombstones that are
//!   no longer live, and when every one is live, [`revoke`](VerifyCache::revoke) fails with
//!   [`RevokeError`] instead of dropping one. The layer then tells the application
//!   ([`RebillyAuth::invalidate`](crate::RebillyAuth::invalidate) returns the error) and
//!   counts it ([`Metrics::tombstones_refused`](crate::Metrics::tombstones_refused)).
//!
//! ## A shared store for a fleet
//!
//! Several processes may share answers and tombstones through a store of their own (Redis,
//! memcached, …): implement [`VerifyCache`] over it and give it to
//! [`RebillyAuthBuilder::cache`](crate::RebillyAuthBuilder::cache), and give every process
//! the same [`digest_key`](crate::RebillyAuthBuilder::digest_key) (else their keys differ).
//! The store keeps tombstones where its eviction policy cannot reach them (in Redis: keys
//! with their own `EXPIRE`, under a `noeviction` policy or in a separate instance), and
//! needs one atomic rule: [`put`](VerifyCache::put) must not store a valid answer while a
//! live tombstone is there (in Redis, a Lua script or a `WATCH`/`MULTI`), and
//! [`store`](VerifyCache::store) says when it refused one, so that the layer neither keeps
//! nor serves that answer. The verify slots stay per process.
//!
//! Three optional hooks let a shared store do more (each has a default that keeps the
//! single-process behaviour):
//!
//! - [`claim`](VerifyCache::claim): fleet-wide single flight. Before a verify goes upstream
//!   (and before it takes a verify slot), the layer asks the store whether another process
//!   is verifying the same key; the store may wait (at most the `wait` the layer gives, the
//!   verify deadline) for that answer, or let this process verify.
//! - [`store`](VerifyCache::store): the check-and-set's result ([`PutOutcome`]).
//! - [`store_metrics`](VerifyCache::store_metrics): the store's state (connected, degraded,
//!   reconnects, bus messages, lease wins and waits) in [`Metrics::store`](crate::Metrics)
//!   and in the `store` field of the authentication span.
//!
//! Revocations made on other processes are the store's business (a bus it subscribes to):
//! the store answers [`get`](VerifyCache::get) with the tombstone it learned.

use std::fmt;
use std::time::{Duration, SystemTime};

pub use futures_util::future::BoxFuture;

use crate::customer::AuthenticatedCustomer;
use crate::digest::CacheKey;
pub use crate::metrics::StoreMetrics;

mod memory;
mod tombstones;

pub use memory::MemoryCache;

/// One cached verify answer, with the instant it stops being usable.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CachedAnswer {
    /// Verify said the token is valid (200).
    Valid {
        /// Who it belongs to (no token, no links).
        customer: AuthenticatedCustomer,
        /// Served without a new verify while the layer's clock reads earlier than this.
        until: SystemTime,
    },
    /// Verify said the token is not valid (404): a short negative entry.
    Invalid {
        /// Usable while the layer's clock reads earlier than this.
        until: SystemTime,
    },
    /// The application logged the token out or invalidated it: a tombstone, kept apart
    /// from answers (see the [module docs](self)). [`VerifyCache::get`] returns it while it
    /// is live; the layer never [`put`](VerifyCache::put)s one.
    Revoked {
        /// Refused while the layer's clock reads earlier than this.
        until: SystemTime,
    },
}

impl CachedAnswer {
    /// Until when the answer is usable.
    pub fn until(&self) -> SystemTime {
        match self {
            Self::Valid { until, .. } | Self::Invalid { until } | Self::Revoked { until } => *until,
        }
    }

    /// Whether the answer is usable at `now`.
    pub fn is_live(&self, now: SystemTime) -> bool {
        now < self.until()
    }
}

/// Why a tombstone could not be written. Whatever the error, the store has dropped the
/// token's cached answers, so its next request is verified with Rebilly again.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RevokeError {
    /// The store holds as many live tombstones as its bound allows; none was dropped to
    /// make room.
    #[error("the tombstone store is full: {bound} live tombstones")]
    Full {
        /// The bound.
        bound: usize,
    },
    /// The store could not be reached or refused the write (a shared store's failure).
    #[error("the tombstone store failed")]
    Store(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// What became of an answer given to [`VerifyCache::store`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PutOutcome {
    /// Stored (or dropped for lack of room: a cache may always forget an answer).
    Stored,
    /// Refused: a live tombstone is there. The token was revoked while its verify was in
    /// flight; the layer refuses the request that verify was for.
    Revoked,
}

/// The answer to [`VerifyCache::claim`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Claim {
    /// This process verifies the token upstream (it holds the lease, or none could be had
    /// in time, or the store has no leases).
    Verify,
    /// Another process's verify answered (or a tombstone appeared) while this one waited:
    /// the layer uses this answer and sends no verify.
    Answered(CachedAnswer),
}

/// Where verify answers and logout tombstones are kept, keyed by [`CacheKey`] (a keyed
/// digest: never the token).
///
/// The layer checks each answer's `until` on read; an implementation stores, bounds and
/// keeps the two rules below. See the [module docs](self) for plugging in a shared store.
pub trait VerifyCache: Send + Sync + fmt::Debug + 'static {
    /// What is known of `key` at `now`: a tombstone live at `now` first
    /// ([`CachedAnswer::Revoked`]), else the answer stored, live or not (the layer reads a
    /// stale valid answer's customer, and treats its token as a known session).
    fn get<'a>(&'a self, key: &'a CacheKey, now: SystemTime)
    -> BoxFuture<'a, Option<CachedAnswer>>;

    /// Stores `answer` under `key`, **unless** a tombstone live at `now` is there: that
    /// check and the write must be one atomic step, or the tombstone must shadow the answer
    /// in [`get`](Self::get) until the tombstone lapses, so that a verify in flight when the
    /// token was logged out cannot bring it back.
    fn put<'a>(&'a self, key: CacheKey, answer: CachedAnswer, now: SystemTime)
    -> BoxFuture<'a, ()>;

    /// Writes a tombstone under `key` until `until` (keeping the later `until` if one is
    /// there), and drops the key's cached answers. A live tombstone is **never** dropped to
    /// make room: at the store's bound, expired ones may go, else this fails with
    /// [`RevokeError::Full`]. The answers are dropped whatever the result.
    fn revoke<'a>(
        &'a self,
        key: CacheKey,
        until: SystemTime,
        now: SystemTime,
    ) -> BoxFuture<'a, Result<(), RevokeError>>;

    /// [`put`](Self::put), telling whether a live tombstone refused the answer. The layer
    /// stores valid answers through this: on [`PutOutcome::Revoked`] it refuses the request
    /// and keeps nothing. The default calls `put` and says [`PutOutcome::Stored`]; a store
    /// whose check-and-set can see the tombstone should override it.
    fn store<'a>(
        &'a self,
        key: CacheKey,
        answer: CachedAnswer,
        now: SystemTime,
    ) -> BoxFuture<'a, PutOutcome> {
        Box::pin(async move {
            self.put(key, answer, now).await;
            PutOutcome::Stored
        })
    }

    /// Called by the layer before it verifies `key` upstream, and before it waits for a
    /// verify slot: a shared store may make processes take turns (a short lease), so that
    /// N processes receiving the same fresh token cause about one verify. It must return
    /// within `wait` (the layer's verify deadline), and should return much sooner: a lost
    /// lease must never stall a request. The default answers [`Claim::Verify`] at once.
    fn claim<'a>(
        &'a self,
        key: &'a CacheKey,
        now: SystemTime,
        wait: Duration,
    ) -> BoxFuture<'a, Claim> {
        let _ = (key, now, wait);
        Box::pin(std::future::ready(Claim::Verify))
    }

    /// An in-process tier the store answers from first, if it has one: the layer reads a
    /// live answer or a live tombstone there directly, with no boxed future, and calls
    /// [`get`](Self::get) only when that tier has neither. Return it only if `get` itself
    /// returns such an entry of this tier as is (a shared store's local copy that its bus
    /// keeps honest). `None` (the default): every read goes through `get`.
    fn local_tier(&self) -> Option<&MemoryCache> {
        None
    }

    /// The store's own state and counters, for [`Metrics::store`](crate::Metrics) and the
    /// authentication span's `store` field. `None` (the default) for a store with nothing
    /// to report, such as the in-memory one.
    fn store_metrics(&self) -> Option<StoreMetrics> {
        None
    }
}
