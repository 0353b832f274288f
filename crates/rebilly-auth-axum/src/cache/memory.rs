//! [`MemoryCache`]: the in-memory [`VerifyCache`] (two moka caches for answers, a bounded
//! map for tombstones).

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use futures_util::future::BoxFuture;
use moka::future::Cache;
use moka::policy::EvictionPolicy;

use crate::cache::tombstones::Tombstones;
use crate::cache::{CachedAnswer, PutOutcome, RevokeError, VerifyCache};
use crate::digest::CacheKey;

/// The default bound on tombstones: see [`MemoryCache::max_tombstones`].
pub(crate) const DEFAULT_MAX_TOMBSTONES: usize = 1_000_000;

/// The in-memory [`VerifyCache`] (the default). Cheap to clone; clones share entries.
///
/// - **Answers:** two bounded moka caches, one for valid answers, one for negative (404)
///   answers, each with its own capacity in entries. Both evict least-recently-used
///   entries and always admit new ones. A flood of distinct bad tokens only cycles the
///   negative part; valid answers stay.
/// - **Tombstones:** a map of their own, which no traffic evicts, bounded by
///   [`max_tombstones`](Self::max_tombstones) (default 1,000,000). At the bound, tombstones
///   that lapsed are purged; if all are live, [`revoke`](VerifyCache::revoke) fails with
///   [`RevokeError::Full`] and nothing is dropped.
///
/// **Memory per tombstone:** a 32-byte key and an 8-byte instant per hash-table slot, plus
/// one control byte: 41 bytes per slot. The table keeps at most 7/8 of its slots full and
/// doubles when it grows, so a tombstone costs 47 to 94 bytes: a full default store of a
/// million tombstones takes 2²¹ slots, about 86 MB. The table grows only as tombstones are
/// written.
#[derive(Clone)]
pub struct MemoryCache {
    valid: Cache<CacheKey, CachedAnswer>,
    invalid: Cache<CacheKey, CachedAnswer>,
    tombstones: Arc<Tombstones>,
    capacity: u64,
    negative_capacity: u64,
}

impl fmt::Debug for MemoryCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryCache")
            .field("capacity", &self.capacity)
            .field("negative_capacity", &self.negative_capacity)
            .field("max_tombstones", &self.tombstones.bound())
            .field("entries", &self.valid.entry_count())
            .field("negative_entries", &self.invalid.entry_count())
            .field("tombstones", &self.tombstones.len())
            .finish()
    }
}

impl MemoryCache {
    /// A cache of at most `capacity` valid answers and `negative_capacity` negative answers
    /// (each at least 1), and the default bound on tombstones.
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
            tombstones: Arc::new(Tombstones::new(DEFAULT_MAX_TOMBSTONES)),
            capacity,
            negative_capacity,
        }
    }

    /// The same cache with a bound of `max` tombstones (at least 1; default 1,000,000).
    /// Call it before the cache is shared: clones made earlier keep the old store.
    #[must_use]
    pub fn max_tombstones(mut self, max: usize) -> Self {
        self.tombstones = Arc::new(Tombstones::new(max));
        self
    }

    /// The bounds: (valid answers, negative answers).
    pub fn capacities(&self) -> (u64, u64) {
        (self.capacity, self.negative_capacity)
    }

    /// The bound on tombstones.
    pub fn tombstone_bound(&self) -> usize {
        self.tombstones.bound()
    }

    /// How many tombstones are held (lapsed ones not yet purged included).
    pub fn tombstone_count(&self) -> usize {
        self.tombstones.len()
    }

    /// How many entries each answers part holds (valid answers, negative answers), once
    /// moka's pending maintenance (evictions) has run.
    pub async fn entry_counts(&self) -> (u64, u64) {
        self.valid.run_pending_tasks().await;
        self.invalid.run_pending_tasks().await;
        (self.valid.entry_count(), self.invalid.entry_count())
    }

    /// Drops every cached answer (valid and negative), keeping the tombstones: for a shared
    /// store whose revocation bus was cut, so that no answer cached before the gap is trusted.
    /// Answers stored after this call are kept.
    pub fn clear_answers(&self) {
        self.valid.invalidate_all();
        self.invalid.invalidate_all();
    }

    /// [`VerifyCache::get`] without the box: the layer's hot path, and a shared store's
    /// local tier.
    pub async fn lookup(&self, key: &CacheKey, now: SystemTime) -> Option<CachedAnswer> {
        if let Some(until) = self.tombstones.live_until(key, now) {
            return Some(CachedAnswer::Revoked { until });
        }
        match self.valid.get(key).await {
            Some(answer) => Some(answer),
            None => self.invalid.get(key).await,
        }
    }
}

impl VerifyCache for MemoryCache {
    fn get<'a>(
        &'a self,
        key: &'a CacheKey,
        now: SystemTime,
    ) -> BoxFuture<'a, Option<CachedAnswer>> {
        Box::pin(self.lookup(key, now))
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
                CachedAnswer::Revoked { until } => {
                    // Not the layer's way (it calls `revoke`), but honoured if the store
                    // has room.
                    let _ = self.tombstones.insert(key, until, now);
                }
                CachedAnswer::Valid { .. } => {
                    // A live tombstone shadows any answer in `lookup`, and outlives every
                    // answer written while it is live (an answer lives at most
                    // `max_staleness` ≤ `max_token_lifetime`, and never past the token's
                    // expiry): a put racing a revoke cannot bring the token back.
                    if self.tombstones.live_until(&key, now).is_none() {
                        self.valid.insert(key, answer).await;
                    }
                }
            }
        })
    }

    fn store<'a>(
        &'a self,
        key: CacheKey,
        answer: CachedAnswer,
        now: SystemTime,
    ) -> BoxFuture<'a, PutOutcome> {
        Box::pin(async move {
            if matches!(answer, CachedAnswer::Valid { .. })
                && self.tombstones.live_until(&key, now).is_some()
            {
                return PutOutcome::Revoked;
            }
            self.put(key, answer, now).await;
            PutOutcome::Stored
        })
    }

    fn revoke<'a>(
        &'a self,
        key: CacheKey,
        until: SystemTime,
        now: SystemTime,
    ) -> BoxFuture<'a, Result<(), RevokeError>> {
        Box::pin(async move {
            let result = if until > now {
                self.tombstones.insert(key, until, now)
            } else {
                Ok(()) // Lapsed on arrival: the token has expired already.
            };
            self.valid.invalidate(&key).await;
            self.invalid.invalidate(&key).await;
            result
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::customer::AuthenticatedCustomer;

    #[tokio::test]
    async fn tombstone_wins_over_a_late_put() {
        let cache = MemoryCache::new(10, 10);
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let key = CacheKey::from_bytes([7; 32]);
        let customer = AuthenticatedCustomer::new("cus_1".into(), "ada", None, None, false);
        cache
            .revoke(key, now + Duration::from_secs(60), now)
            .await
            .unwrap();
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
            cache.get(&key, now).await,
            Some(CachedAnswer::Revoked { .. })
        ));
        // Once the tombstone lapsed, a put is stored and read.
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
            cache.get(&key, later).await,
            Some(CachedAnswer::Valid { .. })
        ));
    }

    #[tokio::test]
    async fn a_refused_revoke_still_drops_the_answer() {
        let cache = MemoryCache::new(10, 10).max_tombstones(1);
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let (a, b) = (CacheKey::from_bytes([1; 32]), CacheKey::from_bytes([2; 32]));
        let customer = AuthenticatedCustomer::new("cus_1".into(), "ada", None, None, false);
        let valid = CachedAnswer::Valid {
            customer,
            until: now + Duration::from_secs(30),
        };
        cache.put(b, valid, now).await;
        let hour = Duration::from_secs(3600);
        cache.revoke(a, now + hour, now).await.unwrap();
        assert!(matches!(
            cache.revoke(b, now + hour, now).await,
            Err(RevokeError::Full { bound: 1 })
        ));
        assert_eq!(cache.get(&b, now).await, None);
        assert!(matches!(
            cache.get(&a, now).await,
            Some(CachedAnswer::Revoked { .. })
        ));
    }
}
