//! [`RedisStore`]'s [`VerifyCache`]: the local store first, Redis behind it, the lease.

use std::time::{Duration, SystemTime};

use futures_util::future::BoxFuture;
use rebilly_auth_axum::{
    CacheKey, CachedAnswer, Claim, MemoryCache, PutOutcome, RevokeError, StoreMetrics, VerifyCache,
};

use crate::backend::Conn;
use crate::codec::{self, Keys};
use crate::scripts;
use crate::store::{RedisStore, Shared, inc};

/// The first pause between two looks at a leased token; doubled up to [`MAX_POLL`].
const FIRST_POLL: Duration = Duration::from_millis(2);
const MAX_POLL: Duration = Duration::from_millis(20);

impl Shared {
    /// What Redis holds for `key`, learned locally (a tombstone recorded, an answer kept).
    /// `None` when Redis holds nothing or failed.
    async fn fetch(&self, key: &CacheKey, now: SystemTime) -> Option<CachedAnswer> {
        let conn = self.usable()?;
        let epoch = self.epoch();
        let keys = Keys::new(&self.prefix, key);
        let value: Option<String> = match conn
            .query(redis::cmd("GET").arg(&keys.entry), self.command_timeout)
            .await
        {
            Ok(value) => value,
            Err(error) => {
                self.failed("GET", &error);
                return None;
            }
        };
        let (answer, written) = codec::decode(&value?)?;
        self.learn(*key, answer, written, now, epoch).await
    }

    /// Records what Redis said of `key` (a valid answer written at `written`, ms) locally;
    /// returns it if still usable. A valid answer written before this process came back
    /// from an outage is not trusted: a logout made during the outage may not have reached
    /// Redis yet (its process replays it once it reaches Redis again).
    async fn learn(
        &self,
        key: CacheKey,
        answer: CachedAnswer,
        written: u64,
        now: SystemTime,
        epoch: u64,
    ) -> Option<CachedAnswer> {
        if let CachedAnswer::Revoked { until } = answer {
            let _ = self.local.revoke(key, until, now).await;
            return Some(answer);
        }
        if !answer.is_live(now) || written < self.recovered_at() {
            return None;
        }
        inc(&self.counters.shared_hits);
        self.keep_local(key, answer.clone(), now, epoch).await;
        Some(answer)
    }

    async fn get(&self, key: &CacheKey, now: SystemTime) -> Option<CachedAnswer> {
        let local = self.local.lookup(key, now).await;
        match &local {
            Some(CachedAnswer::Revoked { .. }) => return local,
            Some(answer) if answer.is_live(now) => return local,
            _ => {}
        }
        // A local miss, or a stale answer: another process may have filled Redis.
        match self.fetch(key, now).await {
            Some(answer) => Some(answer),
            None => local,
        }
    }

    async fn store(&self, key: CacheKey, answer: CachedAnswer, now: SystemTime) -> PutOutcome {
        if self
            .local
            .lookup(&key, now)
            .await
            .is_some_and(|a| matches!(a, CachedAnswer::Revoked { .. }))
        {
            return PutOutcome::Revoked;
        }
        let epoch = self.epoch();
        if let (Some(conn), Some(value)) = (self.usable(), codec::encode(&answer, now)) {
            let keys = Keys::new(&self.prefix, &key);
            let mut invocation = scripts::PUT.prepare_invoke();
            invocation
                .key(&keys.entry)
                .key(&keys.lease)
                .arg(value)
                .arg(codec::ttl_ms(answer.until(), now));
            match conn
                .invoke::<String>(&invocation, self.command_timeout)
                .await
            {
                Ok(refused) if refused.is_empty() => {}
                Ok(tombstone) => {
                    // A tombstone is there: learn it, keep nothing.
                    if let Some((CachedAnswer::Revoked { until }, _)) = codec::decode(&tombstone) {
                        let _ = self.local.revoke(key, until, now).await;
                    }
                    return PutOutcome::Revoked;
                }
                Err(error) => self.failed("PUT", &error),
            }
        }
        self.keep_local(key, answer, now, epoch).await;
        // A revocation that arrived on the bus meanwhile shadows the answer locally.
        match self.local.lookup(&key, now).await {
            Some(CachedAnswer::Revoked { .. }) => PutOutcome::Revoked,
            _ => PutOutcome::Stored,
        }
    }

    /// Writes the tombstone to Redis and publishes it. `false` when Redis failed.
    pub(crate) async fn revoke_shared(
        &self,
        key: CacheKey,
        until: SystemTime,
        now: SystemTime,
    ) -> bool {
        let Some(conn) = self.usable() else {
            return false;
        };
        let keys = Keys::new(&self.prefix, &key);
        let until_ms = codec::millis(until);
        let mut invocation = scripts::REVOKE.prepare_invoke();
        invocation
            .key(&keys.entry)
            .key(&keys.lease)
            .arg(format!("T{until_ms}"))
            .arg(codec::ttl_ms(until, now))
            .arg(until_ms)
            .arg(&self.channel)
            .arg(codec::bus_message(&key, until));
        match conn.invoke::<i64>(&invocation, self.command_timeout).await {
            Ok(_) => true,
            Err(error) => {
                self.failed("REVOKE", &error);
                false
            }
        }
    }

    async fn revoke(
        &self,
        key: CacheKey,
        until: SystemTime,
        now: SystemTime,
    ) -> Result<(), RevokeError> {
        let local = self.local.revoke(key, until, now).await;
        if until <= now || self.revoke_shared(key, until, now).await {
            return Ok(());
        }
        // Redis is unreachable: refused here (the local tombstone), written to Redis and
        // published when it answers again. Other processes see it then, or when their
        // degraded-bound answers lapse and Rebilly says 404 (after an upstream logout).
        if !self.defer(key, until) {
            tracing::error!(
                "rebilly-auth-redis: Redis is unreachable and the queue of revocations to \
                 replay is full: this one is refused here only"
            );
        }
        local
    }

    /// Takes `keys`' lease unless its entry is there ([`scripts::CLAIM`]). `None` when
    /// Redis failed.
    async fn take_lease(&self, conn: &Conn, keys: &Keys) -> Option<Take> {
        let mut invocation = scripts::CLAIM.prepare_invoke();
        invocation
            .key(&keys.entry)
            .key(&keys.lease)
            .arg(&self.node_id)
            .arg(self.lease.as_millis().max(1) as u64);
        match conn
            .invoke::<String>(&invocation, self.command_timeout)
            .await
        {
            Ok(taken) if taken == "+" => Some(Take::Won),
            Ok(taken) if taken == "-" => Some(Take::Lost),
            Ok(entry) => Some(Take::Entry(entry)),
            Err(error) => {
                self.failed("LEASE", &error);
                None
            }
        }
    }

    /// The answer in a stored `entry`, learned locally, if usable.
    async fn answer_of(&self, key: &CacheKey, entry: &str, epoch: u64) -> Option<CachedAnswer> {
        let (answer, written) = codec::decode(entry)?;
        self.learn(*key, answer, written, self.clock.now(), epoch)
            .await
    }

    /// What an attempt to take the lease decides: `None` while another process holds it
    /// (wait on); otherwise verify (the lease is ours, or Redis could not say) or use the
    /// entry written since this process's read (an unusable one, such as an answer from
    /// before an outage, is verified without a lease).
    async fn settle(&self, key: &CacheKey, taken: Option<Take>, epoch: u64) -> Option<Claim> {
        match taken {
            Some(Take::Lost) => None,
            Some(Take::Entry(entry)) => Some(match self.answer_of(key, &entry, epoch).await {
                Some(answer) => Claim::Answered(answer),
                None => Claim::Verify,
            }),
            Some(Take::Won) | None => {
                inc(&self.counters.lease_wins);
                Some(Claim::Verify)
            }
        }
    }

    /// Fleet-wide single flight: the lease, or another process's answer.
    async fn claim(&self, key: &CacheKey, wait: Duration) -> Claim {
        let Some(conn) = self.usable() else {
            return Claim::Verify;
        };
        let keys = Keys::new(&self.prefix, key);
        let epoch = self.epoch();
        let taken = self.take_lease(&conn, &keys).await;
        if let Some(claim) = self.settle(key, taken, epoch).await {
            return claim;
        }
        inc(&self.counters.lease_waits);
        let give_up = tokio::time::Instant::now() + self.lease.min(wait / 2);
        let mut pause = FIRST_POLL;
        let look = redis::cmd("MGET").arg(&keys.entry).arg(&keys.lease).clone();
        loop {
            if tokio::time::Instant::now() + pause > give_up {
                return Claim::Verify;
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(MAX_POLL);
            let epoch = self.epoch();
            let (entry, lease): (Option<String>, Option<String>) =
                match conn.query(&look, self.command_timeout).await {
                    Ok(found) => found,
                    Err(error) => {
                        self.failed("MGET", &error);
                        return Claim::Verify;
                    }
                };
            if let Some(entry) = entry {
                if let Some(answer) = self.answer_of(key, &entry, epoch).await {
                    return Claim::Answered(answer);
                }
            }
            if lease.is_none() {
                // The holder gave up (its verify failed) or its lease lapsed: take over.
                let taken = self.take_lease(&conn, &keys).await;
                if let Some(claim) = self.settle(key, taken, epoch).await {
                    return claim;
                }
            }
        }
    }
}

/// What [`scripts::CLAIM`] found.
enum Take {
    /// The lease is this process's.
    Won,
    /// Another process holds the lease.
    Lost,
    /// The token's entry (an answer or a tombstone) is already there.
    Entry(String),
}

impl VerifyCache for RedisStore {
    // `get` answers a live local entry (answer or tombstone) as is: the bus and the epoch
    // rules keep that tier honest, so the layer may read it without a boxed future.
    fn local_tier(&self) -> Option<&MemoryCache> {
        Some(&self.shared.local)
    }

    fn get<'a>(
        &'a self,
        key: &'a CacheKey,
        now: SystemTime,
    ) -> BoxFuture<'a, Option<CachedAnswer>> {
        Box::pin(self.shared.get(key, now))
    }

    fn put<'a>(
        &'a self,
        key: CacheKey,
        answer: CachedAnswer,
        now: SystemTime,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            self.shared.store(key, answer, now).await;
        })
    }

    fn store<'a>(
        &'a self,
        key: CacheKey,
        answer: CachedAnswer,
        now: SystemTime,
    ) -> BoxFuture<'a, PutOutcome> {
        Box::pin(self.shared.store(key, answer, now))
    }

    fn revoke<'a>(
        &'a self,
        key: CacheKey,
        until: SystemTime,
        now: SystemTime,
    ) -> BoxFuture<'a, Result<(), RevokeError>> {
        Box::pin(self.shared.revoke(key, until, now))
    }

    fn claim<'a>(
        &'a self,
        key: &'a CacheKey,
        _now: SystemTime,
        wait: Duration,
    ) -> BoxFuture<'a, Claim> {
        Box::pin(self.shared.claim(key, wait))
    }

    fn store_metrics(&self) -> Option<StoreMetrics> {
        Some(self.shared.metrics())
    }
}
