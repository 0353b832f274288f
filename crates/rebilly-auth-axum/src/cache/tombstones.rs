//! The in-memory tombstone store: a bounded map no traffic evicts (see the cache module docs).

use std::collections::HashMap;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::cache::RevokeError;
use crate::digest::CacheKey;

/// Tombstones: key → until, as whole seconds since the epoch rounded **up** (a tombstone may
/// outlive its instant by under a second, never fall short of it). 32 + 8 bytes per slot.
#[derive(Debug)]
pub(crate) struct Tombstones {
    inner: RwLock<Inner>,
    bound: usize,
}

#[derive(Debug, Default)]
struct Inner {
    map: HashMap<CacheKey, u64>,
    /// No tombstone lapses before this (`u64::MAX` when empty): purging earlier frees nothing.
    next_lapse: u64,
}

/// Seconds since the epoch, rounded up (0 before it).
fn ceil_secs(at: SystemTime) -> u64 {
    match at.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() + u64::from(d.subsec_nanos() > 0),
        Err(_) => 0,
    }
}

/// Whether a tombstone until `until` (whole seconds) is live at `now`.
fn live(until: u64, now: SystemTime) -> bool {
    now < UNIX_EPOCH + Duration::from_secs(until)
}

impl Tombstones {
    pub(crate) fn new(bound: usize) -> Self {
        Self {
            inner: RwLock::new(Inner {
                map: HashMap::new(),
                next_lapse: u64::MAX,
            }),
            bound: bound.max(1),
        }
    }

    pub(crate) fn bound(&self) -> usize {
        self.bound
    }

    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Until when `key` is refused, if a tombstone is live at `now`.
    pub(crate) fn live_until(&self, key: &CacheKey, now: SystemTime) -> Option<SystemTime> {
        let inner = self.read();
        let until = *inner.map.get(key)?;
        live(until, now).then(|| UNIX_EPOCH + Duration::from_secs(until))
    }

    /// How many tombstones are held (lapsed ones not yet purged included).
    pub(crate) fn len(&self) -> usize {
        self.read().map.len()
    }

    /// Writes (or extends) the tombstone of `key`. At the bound, lapsed tombstones are
    /// purged first; if every one is live, nothing is dropped and this fails.
    pub(crate) fn insert(
        &self,
        key: CacheKey,
        until: SystemTime,
        now: SystemTime,
    ) -> Result<(), RevokeError> {
        let until = ceil_secs(until);
        let mut inner = self.write();
        if let Some(existing) = inner.map.get_mut(&key) {
            *existing = (*existing).max(until);
            return Ok(());
        }
        if inner.map.len() >= self.bound {
            if live(inner.next_lapse, now) {
                return Err(RevokeError::Full { bound: self.bound });
            }
            inner.map.retain(|_, until| live(*until, now));
            inner.next_lapse = inner.map.values().copied().min().unwrap_or(u64::MAX);
            if inner.map.len() >= self.bound {
                return Err(RevokeError::Full { bound: self.bound });
            }
        }
        inner.map.insert(key, until);
        inner.next_lapse = inner.next_lapse.min(until);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_the_bound_only_lapsed_tombstones_go() {
        let store = Tombstones::new(2);
        let now = UNIX_EPOCH + Duration::from_secs(1_000);
        let key = |n: u8| CacheKey::from_bytes([n; 32]);
        store
            .insert(key(1), now + Duration::from_secs(10), now)
            .unwrap();
        store
            .insert(key(2), now + Duration::from_secs(100), now)
            .unwrap();
        // Extending a tombstone needs no room.
        store
            .insert(key(2), now + Duration::from_secs(200), now)
            .unwrap();
        assert!(matches!(
            store.insert(key(3), now + Duration::from_secs(10), now),
            Err(RevokeError::Full { bound: 2 })
        ));
        assert!(store.live_until(&key(1), now).is_some());
        // Once key 1 lapsed, it makes room; key 2 (live) stays.
        let later = now + Duration::from_secs(11);
        assert!(store.live_until(&key(1), later).is_none());
        store
            .insert(key(3), later + Duration::from_secs(10), later)
            .unwrap();
        assert_eq!(store.len(), 2);
        assert_eq!(
            store.live_until(&key(2), later),
            Some(now + Duration::from_secs(200))
        );
    }

    #[test]
    fn until_is_rounded_up() {
        let store = Tombstones::new(1);
        let now = UNIX_EPOCH + Duration::from_millis(1_000_500);
        let key = CacheKey::from_bytes([1; 32]);
        store
            .insert(key, now, now - Duration::from_secs(1))
            .unwrap();
        assert!(store.live_until(&key, now).is_some());
        assert!(
            store
                .live_until(&key, now + Duration::from_millis(500))
                .is_none()
        );
    }
}
