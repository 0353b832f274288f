//! The verify cache: the [`VerifyCache`] trait and its in-memory implementation,
//! [`MemoryCache`] (moka, bounded).
//!
//! The layer decides how long an answer lives and checks it **on read** against its own
//! clock; a store only keeps answers and bounds how many. That keeps expiry testable (a
//! manual clock, no sleeping) and identical for every store.
//!
//! ## A shared store for a fleet
//!
//! Several processes may share answers through a store of their own (Redis, memcached, …):
//! implement [`VerifyCache`] over it and give it to
//! [`RebillyAuthBuilder::cache`](crate::RebillyAuthBuilder::cache), and give every process
//! the same [`digest_key`](crate::RebillyAuthBuilder::digest_key) (else their keys differ).
//! The store then needs one atomic operation: [`put`](VerifyCache::put) must not replace a
//! live [`CachedAnswer::Revoked`] (in Redis, a Lua script or a `WATCH`/`MULTI`). Single
//! flight and the cap on upstream verifies stay per process.

use std::fmt;
use std::time::SystemTime;

pub use futures_util::future::BoxFuture;
use moka::future::Cache;
use moka::ops::compute::Op;
use moka::policy::EvictionPolicy;

use crate::customer::AuthenticatedCustomer;
use crate::digest::CacheKey;

/// One cached verify answer, with the instant it stops being usable.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CachedAnswer {
    /// Verify said the token is valid (200).
    Valid {
        /// Who it belongs to (no token, no links).
        customer: AuthenticatedCustomer,
        /// Usable while the layer's clock reads earlier than this.
        until: SystemTime,
    },
    /// Verify said the token is not valid (404): a short negative entry.
    Invalid {
        /// Usable while the layer's clock reads earlier than this.
        until: SystemTime,
    },
    /// The application logged the token out or invalidated it: a tombstone, which an
    /// answer of a verify already in flight must not replace.
    Revoked {
        /// Usable while the layer's clock reads earlier than this.
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

/// Where verify answers are kept, keyed by [`CacheKey`] (a keyed digest: never the token).
///
/// The layer checks each answer's `until` on read; an implementation need only store and
/// bound. See the [module docs](self) for plugging in a shared store.
pub trait VerifyCache: Send + Sync + fmt::Debug + 'static {
    /// The answer stored under `key`, live or not.
    fn get<'a>(&'a self, key: &'a CacheKey) -> BoxFuture<'a, Option<CachedAnswer>>;

    /// Stores `answer` under `key`, **unless** a [`CachedAnswer::Revoked`] live at `now` is
    /// stored there: that check and the write must be one atomic step, so that a verify in
    /// flight when the token was logged out cannot bring it back.
    fn put<'a>(&'a self, key: CacheKey, answer: CachedAnswer, now: SystemTime)
    -> BoxFuture<'a, ()>;

    /// Stores a tombstone under `key` until `until`, replacing whatever is there.
    fn revoke<'a>(&'a self, key: CacheKey, until: SystemTime) -> BoxFuture<'a, ()>;
}

/// The in-memory [`VerifyCache`] (the default): two bounded moka caches, one for valid
/// answers and tombstones, one for negative (404) answers, each with its own capacity in
/// entries. Cheap to clone; clones share entries.
///
/// Both evict least-recently-used entries and always admit new ones (moka's TinyLFU could
/// refuse a tombstone admission). A flood of distinct bad tokens only cycles the negative
/// part: valid answers and tombstones stay.
#[derive(Clone)]
pub struct MemoryCache {
    valid: Cache<CacheKey, CachedAnswer>,
    invalid: Cache<CacheKey, CachedAnswer>,
    capacity: u64,
    negative_capacity: u64,
}

impl fmt::Debug for MemoryCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryCache")
            .field("capacity", &self.capacity)
            .field("negative_capacity", &self.negative_capacity)
            .field("entries", &self.valid.entry_count())
            .field("negative_entries", &self.invalid.entry_count())
            .finish()
    }
}

impl MemoryCache {
    /// A cache of at most `capacity` valid answers and tombstones and `negative_capacity`
    /// negative answers (each at least 1).
    pub fn new(capacity: u64, negative_capacity: u64) -> Self {
        let capacity = capacity.max(1);
        let negative_capacity = negative_capacity.max(1);
        Self {
            valid: Cache::builder()
                .name("rebilly_auth.verify_cache")
                .max_capacity(capacity)
                .eviction_policy(EvictionPolicy::lru())
                .build(),
            invalid: Cache::builder()
                .name("rebilly_auth.negative_cache")
                .max_capacity(negative_capacity)
                .eviction_policy(EvictionPolicy::lru())
                .build(),
            capacity,
            negative_capacity,
        }
    }

    /// The bounds: (valid answers and tombstones, negative answers).
    pub fn capacities(&self) -> (u64, u64) {
        (self.capacity, self.negative_capacity)
    }

    /// How many entries each part holds (valid answers and tombstones, negative answers),
    /// once moka's pending maintenance (evictions) has run.
    pub async fn entry_counts(&self) -> (u64, u64) {
        self.valid.run_pending_tasks().await;
        self.invalid.run_pending_tasks().await;
        (self.valid.entry_count(), self.invalid.entry_count())
    }
}

impl MemoryCache {
    /// [`VerifyCache::get`] without the box: the layer's hot path.
    pub(crate) async fn lookup(&self, key: &CacheKey) -> Option<CachedAnswer> {
        match self.valid.get(key).await {
            Some(answer) => Some(answer),
            None => self.invalid.get(key).await,
        }
    }
}

impl VerifyCache for MemoryCache {
    fn get<'a>(&'a self, key: &'a CacheKey) -> BoxFuture<'a, Option<CachedAnswer>> {
        Box::pin(self.lookup(key))
    }

    fn put<'a>(
        &'a self,
        key: CacheKey,
        answer: CachedAnswer,
        now: SystemTime,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            match answer {
                CachedAnswer::Invalid { .. } => self.invalid.insert(key, answer).await,
                _ => {
                    // One atomic step per key: a live tombstone stays.
                    self.valid
                        .entry(key)
                        .and_compute_with(|existing| {
                            let op = match existing.map(|e| e.into_value()) {
                                Some(CachedAnswer::Revoked { until }) if now < until => Op::Nop,
                                _ => Op::Put(answer),
                            };
                            std::future::ready(op)
                        })
                        .await;
                }
            }
        })
    }

    fn revoke<'a>(&'a self, key: CacheKey, until: SystemTime) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            self.valid
                .insert(key, CachedAnswer::Revoked { until })
                .await;
            self.invalid.invalidate(&key).await;
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn tombstone_wins_over_a_late_put() {
        let cache = MemoryCache::new(10, 10);
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let key = CacheKey::from_bytes([7; 32]);
        let customer = AuthenticatedCustomer::new("cus_1".into(), "ada", None, None, false);
        cache.revoke(key, now + Duration::from_secs(60)).await;
        cache
            .put(
                key,
                CachedAnswer::Valid {
                    customer: customer.clone(),
                    until: now + Duration::from_secs(30),
                },
                now,
            )
            .await;
        assert!(matches!(
            cache.get(&key).await,
            Some(CachedAnswer::Revoked { .. })
        ));
        // Once the tombstone lapsed, a put replaces it.
        let later = now + Duration::from_secs(61);
        cache
            .put(
                key,
                CachedAnswer::Valid {
                    customer,
                    until: later + Duration::from_secs(30),
                },
                later,
            )
            .await;
        assert!(matches!(
            cache.get(&key).await,
            Some(CachedAnswer::Valid { .. })
        ));
    }
}
