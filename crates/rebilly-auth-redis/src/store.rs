//! [`RedisStore`]: the shared store (Redis) behind a local one (each process's
//! [`MemoryCache`]), and its state.

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, SystemTime};

use rebilly_auth_axum::{CacheKey, CachedAnswer, MemoryCache, RebillyAuthBuilder, StoreMetrics};
use rebilly_auth_core::Clock;

use crate::backend::{CallError, Conn, Target};

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// The store's counters.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) reconnects: AtomicU64,
    pub(crate) bus_messages: AtomicU64,
    pub(crate) lease_wins: AtomicU64,
    pub(crate) lease_waits: AtomicU64,
    pub(crate) shared_hits: AtomicU64,
    pub(crate) store_errors: AtomicU64,
}

pub(crate) fn inc(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// What the store's handles and its bus task share.
pub(crate) struct Shared {
    pub(crate) prefix: String,
    pub(crate) channel: String,
    pub(crate) command_timeout: Duration,
    pub(crate) degraded_bound: Duration,
    pub(crate) lease: Duration,
    pub(crate) ping_interval: Duration,
    pub(crate) reconnect_delay: Duration,
    pub(crate) max_pending: usize,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) local: MemoryCache,
    pub(crate) target: Target,
    pub(crate) conn: RwLock<Option<Conn>>,
    /// Redis answered the last call.
    pub(crate) store_up: AtomicBool,
    /// The bus is subscribed.
    pub(crate) bus_up: AtomicBool,
    /// Bumped whenever the bus is lost or subscribed again: a local answer written across a
    /// change is capped at the degraded bound.
    pub(crate) epoch: AtomicU64,
    /// Revocations made while Redis could not be written, replayed when it answers.
    pub(crate) pending: Mutex<VecDeque<(CacheKey, SystemTime)>>,
    pub(crate) counters: Counters,
    /// This process's lease token.
    pub(crate) node_id: String,
    /// Redis failed (or could not be reached) at least once since the store was built.
    pub(crate) ever_down: AtomicBool,
    /// When Redis last answered again after an outage (ms since the epoch, 0 if never):
    /// valid answers written to Redis before it are not trusted.
    pub(crate) recovered_at: AtomicU64,
}

impl Shared {
    /// The command connection, when Redis answered its last call.
    pub(crate) fn usable(&self) -> Option<Conn> {
        if !self.store_up.load(Ordering::SeqCst) {
            return None;
        }
        self.conn.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The store and its bus are both up.
    pub(crate) fn connected(&self) -> bool {
        self.store_up.load(Ordering::SeqCst) && self.bus_up.load(Ordering::SeqCst)
    }

    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// A call failed: count it, and run degraded until Redis answers again. Local answers
    /// cached while connected are dropped: a logout another process makes now may not reach
    /// Redis or the bus (on Redis Cluster the bus may stay up while one master is down).
    pub(crate) fn failed(&self, what: &'static str, error: &CallError) {
        inc(&self.counters.store_errors);
        self.ever_down.store(true, Ordering::SeqCst);
        if self.store_up.swap(false, Ordering::SeqCst) {
            self.epoch.fetch_add(1, Ordering::SeqCst);
            self.local.clear_answers();
            tracing::warn!(
                call = what,
                error = %error,
                "rebilly-auth-redis: Redis failed; running degraded (local answers live at \
                 most the degraded bound; verifies go upstream)"
            );
        }
    }

    /// Redis answers again (or for the first time). After an outage, valid answers written
    /// to Redis before now are not trusted (see [`recovered_at`](Self::recovered_at)).
    pub(crate) fn came_up(&self) {
        if self.ever_down.load(Ordering::SeqCst) {
            let now = crate::codec::millis(self.clock.now());
            self.recovered_at.store(now, Ordering::SeqCst);
        }
    }

    /// When Redis last answered again after an outage (ms since the epoch, 0 if never).
    pub(crate) fn recovered_at(&self) -> u64 {
        self.recovered_at.load(Ordering::SeqCst)
    }

    /// `answer` as the local store may keep it: capped at the degraded bound unless the
    /// store and bus are up and the bus was not lost since `epoch`.
    fn capped(&self, answer: CachedAnswer, now: SystemTime, epoch: u64) -> CachedAnswer {
        if self.connected() && self.epoch() == epoch {
            return answer;
        }
        let bound = now.checked_add(self.degraded_bound).unwrap_or(now);
        match answer {
            CachedAnswer::Valid { customer, until } => CachedAnswer::Valid {
                customer,
                until: until.min(bound),
            },
            CachedAnswer::Invalid { until } => CachedAnswer::Invalid {
                until: until.min(bound),
            },
            other => other,
        }
    }

    /// Keeps `answer` locally, read or written while the bus was at `epoch`. If the bus was
    /// lost meanwhile (its clearing may have run before this write), the entry is rewritten
    /// capped.
    pub(crate) async fn keep_local(
        &self,
        key: CacheKey,
        answer: CachedAnswer,
        now: SystemTime,
        epoch: u64,
    ) {
        use rebilly_auth_axum::VerifyCache;
        let first = self.capped(answer.clone(), now, epoch);
        self.local.put(key, first, now).await;
        if self.epoch() != epoch {
            // `capped` now sees the change: the entry is rewritten at the degraded bound.
            let again = self.capped(answer, now, epoch);
            self.local.put(key, again, now).await;
        }
    }

    /// Remembers a revocation Redis could not take, for the bus task to replay.
    pub(crate) fn defer(&self, key: CacheKey, until: SystemTime) -> bool {
        let mut pending = lock(&self.pending);
        if pending.len() >= self.max_pending {
            return false;
        }
        pending.push_back((key, until));
        true
    }

    /// The revocations waiting for Redis.
    pub(crate) fn take_pending(&self) -> Vec<(CacheKey, SystemTime)> {
        lock(&self.pending).drain(..).collect()
    }

    pub(crate) fn metrics(&self) -> StoreMetrics {
        let c = &self.counters;
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let mut metrics = StoreMetrics::default();
        metrics.connected = self.connected();
        metrics.degraded = !metrics.connected;
        metrics.reconnects = load(&c.reconnects);
        metrics.bus_messages = load(&c.bus_messages);
        metrics.lease_wins = load(&c.lease_wins);
        metrics.lease_waits = load(&c.lease_waits);
        metrics.shared_hits = load(&c.shared_hits);
        metrics.store_errors = load(&c.store_errors);
        metrics
    }
}

/// Aborts the bus task when the last handle of the store goes.
struct Task(tokio::task::JoinHandle<()>);

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The Redis-backed [`VerifyCache`](rebilly_auth_axum::VerifyCache) of a fleet. Cheap to
/// clone; clones share everything. Give it to the layer with [`apply`](Self::apply).
///
/// See the [crate docs](crate) for what is shared, what is local, and what happens when
/// Redis is down.
#[derive(Clone)]
pub struct RedisStore {
    pub(crate) shared: Arc<Shared>,
    digest_key: Arc<[u8; 32]>,
    _task: Arc<Task>,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &*self.shared;
        f.debug_struct("RedisStore")
            .field("prefix", &s.prefix)
            .field("connected", &s.connected())
            .field("command_timeout", &s.command_timeout)
            .field("degraded_bound", &s.degraded_bound)
            .field("lease", &s.lease)
            .field("local", &s.local)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// A store over `shared`, whose bus task is `task` (aborted when the last handle goes).
    pub(crate) fn from_parts(
        shared: Arc<Shared>,
        digest_key: [u8; 32],
        task: tokio::task::JoinHandle<()>,
    ) -> Self {
        Self {
            shared,
            digest_key: Arc::new(digest_key),
            _task: Arc::new(Task(task)),
        }
    }

    /// Plugs the store into a layer's builder: the store as its cache, and the fleet's
    /// digest key.
    pub fn apply(&self, builder: RebillyAuthBuilder) -> RebillyAuthBuilder {
        builder
            .cache(Arc::new(self.clone()))
            .digest_key(*self.digest_key)
    }

    /// The store's state and counters (also in the layer's `Metrics::store`).
    pub fn metrics(&self) -> StoreMetrics {
        self.shared.metrics()
    }

    /// This process's local store.
    pub fn local(&self) -> &MemoryCache {
        &self.shared.local
    }
}
