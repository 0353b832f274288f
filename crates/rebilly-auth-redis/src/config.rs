//! [`RedisStoreBuilder`]: where Redis is, the shared digest key, and the store's bounds.

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use rebilly_auth_axum::MemoryCache;
use rebilly_auth_core::{Clock, SystemClock};

use crate::backend::Target;
use crate::error::BuildError;
use crate::store::{Counters, RedisStore, Shared};

/// The defaults, in one place for the docs.
pub(crate) mod defaults {
    use std::time::Duration;

    pub(crate) const PREFIX: &str = "rebilly-auth";
    pub(crate) const COMMAND_TIMEOUT: Duration = Duration::from_millis(250);
    pub(crate) const DEGRADED_BOUND: Duration = Duration::from_secs(1);
    pub(crate) const LEASE: Duration = Duration::from_millis(500);
    pub(crate) const PING_INTERVAL: Duration = Duration::from_millis(500);
    pub(crate) const RECONNECT_DELAY: Duration = Duration::from_millis(50);
    pub(crate) const LOCAL_CAPACITY: u64 = 10_000;
    pub(crate) const MAX_LOCAL_TOMBSTONES: usize = 1_000_000;
    pub(crate) const MAX_PENDING_REVOCATIONS: usize = 100_000;
}

/// Configures a [`RedisStore`]: see [`RedisStore::builder`].
#[must_use]
pub struct RedisStoreBuilder {
    pub(crate) urls: Vec<String>,
    pub(crate) cluster: bool,
    pub(crate) digest_key: Option<[u8; 32]>,
    pub(crate) prefix: String,
    pub(crate) command_timeout: Duration,
    pub(crate) degraded_bound: Duration,
    pub(crate) lease: Duration,
    pub(crate) ping_interval: Duration,
    pub(crate) reconnect_delay: Duration,
    pub(crate) local_capacity: u64,
    pub(crate) max_local_tombstones: usize,
    pub(crate) max_pending_revocations: usize,
    pub(crate) root_pem: Option<Vec<u8>>,
    pub(crate) clock: Arc<dyn Clock>,
}

/// A URL with any user and password replaced by `[REDACTED]`.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}[REDACTED]{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

impl fmt::Debug for RedisStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let urls: Vec<String> = self.urls.iter().map(|u| redact(u)).collect();
        f.debug_struct("RedisStoreBuilder")
            .field("urls", &urls)
            .field("cluster", &self.cluster)
            .field("digest_key", &self.digest_key.map(|_| "[REDACTED]"))
            .field("prefix", &self.prefix)
            .field("command_timeout", &self.command_timeout)
            .field("degraded_bound", &self.degraded_bound)
            .field("lease", &self.lease)
            .field("local_capacity", &self.local_capacity)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// A builder for standalone Redis at `url` (`redis://[user:password@]host:port[/db]`,
    /// or `rediss://…` for TLS). Give it the fleet's [`digest_key`](RedisStoreBuilder::digest_key).
    pub fn builder(url: impl Into<String>) -> RedisStoreBuilder {
        RedisStoreBuilder::new(vec![url.into()], false)
    }

    /// A builder for Redis Cluster, from some of its nodes' URLs (all with the same
    /// credentials and scheme).
    pub fn cluster_builder<I, S>(urls: I) -> RedisStoreBuilder
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        RedisStoreBuilder::new(urls.into_iter().map(Into::into).collect(), true)
    }

    /// A builder from the environment: `REDIS_URL` (several URLs separated by commas mean a
    /// cluster) and `REBILLY_AUTH_DIGEST_KEY` (64 hex digits), both required.
    ///
    /// # Errors
    ///
    /// [`BuildError::NoUrl`], [`BuildError::MissingDigestKey`] or
    /// [`BuildError::BadDigestKey`].
    pub fn builder_from_env() -> Result<RedisStoreBuilder, BuildError> {
        let url =
            std::env::var("REDIS_URL").map_err(|_| BuildError::NoUrl("REDIS_URL is not set"))?;
        let urls: Vec<String> = url.split(',').map(|u| u.trim().to_owned()).collect();
        let cluster = urls.len() > 1;
        let key =
            std::env::var("REBILLY_AUTH_DIGEST_KEY").map_err(|_| BuildError::MissingDigestKey)?;
        RedisStoreBuilder::new(urls, cluster).digest_key_hex(&key)
    }
}

impl RedisStoreBuilder {
    fn new(urls: Vec<String>, cluster: bool) -> Self {
        Self {
            urls,
            cluster,
            digest_key: None,
            prefix: defaults::PREFIX.to_owned(),
            command_timeout: defaults::COMMAND_TIMEOUT,
            degraded_bound: defaults::DEGRADED_BOUND,
            lease: defaults::LEASE,
            ping_interval: defaults::PING_INTERVAL,
            reconnect_delay: defaults::RECONNECT_DELAY,
            local_capacity: defaults::LOCAL_CAPACITY,
            max_local_tombstones: defaults::MAX_LOCAL_TOMBSTONES,
            max_pending_revocations: defaults::MAX_PENDING_REVOCATIONS,
            root_pem: None,
            clock: Arc::new(SystemClock),
        }
    }

    /// The key of the cache keys' HMAC: **required**, and the same on every process of the
    /// fleet (else their keys differ and nothing is shared). Draw 32 random bytes once
    /// (`openssl rand -hex 32`), keep them in your secret store, and give them to every
    /// process (for example as `REBILLY_AUTH_DIGEST_KEY`); never log them. Rotating it
    /// starts the fleet with an empty shared cache (tombstones under the old key no longer
    /// match: rotate only together with a logout of every session, or after
    /// `max_token_lifetime`).
    pub fn digest_key(mut self, key: [u8; 32]) -> Self {
        self.digest_key = Some(key);
        self
    }

    /// [`digest_key`](Self::digest_key) from 64 hex digits.
    ///
    /// # Errors
    ///
    /// [`BuildError::BadDigestKey`] when `hex` is not 64 hex digits.
    pub fn digest_key_hex(self, hex: &str) -> Result<Self, BuildError> {
        let key = crate::codec::unhex(hex.trim()).ok_or(BuildError::BadDigestKey)?;
        Ok(self.digest_key(key))
    }

    /// The prefix of every key and of the bus channel (default `rebilly-auth`): give each
    /// application sharing one Redis its own.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The deadline of each Redis call (default 250 ms). Past it the call counts as failed
    /// and the process runs degraded until Redis answers again.
    pub fn command_timeout(mut self, timeout: Duration) -> Self {
        self.command_timeout = timeout;
        self
    }

    /// How long a local answer lives while the store or its bus is unreachable (default
    /// 1 s): the bound on how long a logout made elsewhere may go unseen while degraded.
    pub fn degraded_bound(mut self, bound: Duration) -> Self {
        self.degraded_bound = bound;
        self
    }

    /// How long a process may hold the lease of a token it verifies for the fleet (default
    /// 500 ms). Others wait at most this long (and at most half the layer's verify deadline)
    /// for its answer, then verify themselves.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// How often the bus connection is pinged (default 500 ms): with
    /// [`command_timeout`](Self::command_timeout), the bound on noticing a silent partition.
    pub fn ping_interval(mut self, interval: Duration) -> Self {
        self.ping_interval = interval;
        self
    }

    /// The pause before each reconnection attempt of the bus (default 50 ms).
    pub fn reconnect_delay(mut self, delay: Duration) -> Self {
        self.reconnect_delay = delay;
        self
    }

    /// The most answers each process keeps locally (default 10,000 valid and 10,000
    /// negative).
    pub fn local_capacity(mut self, entries: u64) -> Self {
        self.local_capacity = entries;
        self
    }

    /// The most tombstones each process keeps locally (default 1,000,000; see
    /// `MemoryCache::max_tombstones`).
    pub fn max_local_tombstones(mut self, max: usize) -> Self {
        self.max_local_tombstones = max;
        self
    }

    /// The most revocations made while Redis was unreachable that are kept to be written
    /// when it answers again (default 100,000).
    pub fn max_pending_revocations(mut self, max: usize) -> Self {
        self.max_pending_revocations = max;
        self
    }

    /// The root certificate (PEM) that `rediss://` servers are verified against, instead of
    /// the platform's trust store: for a private CA.
    pub fn tls_root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_pem = Some(pem.into());
        self
    }

    /// The clock the bus's tombstones are dated with (default: the system clock). Give the
    /// layer's clock when it has its own.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Checks the configuration, connects (a Redis that does not answer yet is not an
    /// error: the store starts degraded and keeps trying) and starts the bus. Call it inside
    /// a tokio runtime.
    ///
    /// **Side effect with `rediss://`:** redis-rs builds its TLS config from rustls' process
    /// default provider, so when none is installed this installs the one this crate's
    /// feature selects (aws-lc-rs under `rustls-aws-lc-rs`, else ring) as the **process
    /// default**. An application that installed its own first keeps it.
    ///
    /// # Errors
    ///
    /// [`BuildError`]: no digest key, an unusable URL, no TLS provider, a zero setting.
    pub async fn build(self) -> Result<RedisStore, BuildError> {
        let digest_key = self.digest_key.ok_or(BuildError::MissingDigestKey)?;
        if self.urls.is_empty() || self.urls.iter().any(|u| u.is_empty()) {
            return Err(BuildError::NoUrl("an empty Redis URL"));
        }
        if self.command_timeout.is_zero()
            || self.degraded_bound.is_zero()
            || self.lease.is_zero()
            || self.ping_interval.is_zero()
        {
            return Err(BuildError::Invalid(
                "command_timeout, degraded_bound, lease and ping_interval must be above zero",
            ));
        }
        if self.local_capacity == 0 || self.max_local_tombstones == 0 {
            return Err(BuildError::Invalid("local capacities must be at least 1"));
        }
        if self.urls.iter().any(|u| u.starts_with("rediss://")) {
            crate::tls::ensure_process_provider()?;
        }
        let target = Target::new(
            &self.urls,
            self.cluster,
            self.root_pem.as_deref(),
            self.command_timeout,
        )
        .map_err(|e| BuildError::InvalidUrl {
            kind: format!("{:?}", e.kind()),
        })?;
        let local = MemoryCache::new(self.local_capacity, self.local_capacity)
            .max_tombstones(self.max_local_tombstones);
        let shared = Arc::new(Shared {
            channel: format!("{}:revocations", self.prefix),
            prefix: self.prefix,
            command_timeout: self.command_timeout,
            degraded_bound: self.degraded_bound,
            lease: self.lease,
            ping_interval: self.ping_interval,
            reconnect_delay: self.reconnect_delay,
            max_pending: self.max_pending_revocations,
            clock: self.clock,
            local,
            target,
            conn: RwLock::new(None),
            store_up: AtomicBool::new(false),
            bus_up: AtomicBool::new(false),
            epoch: AtomicU64::new(0),
            pending: Mutex::new(VecDeque::new()),
            counters: Counters::default(),
            node_id: format!(
                "{}-{}",
                std::process::id(),
                crate::codec::millis(std::time::SystemTime::now())
            ),
            ever_down: AtomicBool::new(false),
            recovered_at: AtomicU64::new(0),
        });
        crate::bus::connect_commands(&shared).await;
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(crate::bus::run(Arc::clone(&shared), ready_tx));
        // The first subscription, briefly: a store that starts connected serves long-lived
        // local answers at once. Redis down is not an error: the store starts degraded.
        let _ = tokio::time::timeout(shared.command_timeout * 4, ready_rx).await;
        Ok(RedisStore::from_parts(shared, digest_key, task))
    }
}
