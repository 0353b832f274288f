//! # rebilly-auth-redis
//!
//! Route protection that holds across many servers: a Redis-backed
//! [`VerifyCache`](rebilly_auth_axum::VerifyCache) for
//! [`rebilly-auth-axum`](rebilly_auth_axum). Plug it in with [`RedisStore::apply`]:
//!
//! ```no_run
//! # async fn run(client: rebilly_auth_core::Client) -> Result<(), Box<dyn std::error::Error>> {
//! use rebilly_auth_axum::RebillyAuth;
//! use rebilly_auth_redis::RedisStore;
//!
//! // REDIS_URL and REBILLY_AUTH_DIGEST_KEY (64 hex digits, the same on every server).
//! let store = RedisStore::builder_from_env()?.build().await?;
//! let auth = store.apply(RebillyAuth::builder(client)).build()?;
//! # let _ = auth; Ok(()) }
//! ```
//!
//! ## The model
//!
//! - **Shared (Redis):** one key per token, named by the layer's keyed digest (HMAC-SHA256
//!   under the fleet's [`digest_key`](RedisStoreBuilder::digest_key): Redis never sees a
//!   token), holding a valid answer (customer id, username, credential id, expiry, OTP
//!   state), a short negative answer, or a **tombstone**; every key has a TTL. A tombstone
//!   lives until the token's `expiredTime` when known, else the layer's
//!   `max_token_lifetime`. An answer is written by a Lua script that refuses to replace a
//!   live tombstone, and the process whose write was refused neither keeps nor serves it. A
//!   logout writes its tombstone and publishes it on the **revocation bus** in one script.
//! - **Local (each process):** a [`MemoryCache`](rebilly_auth_axum::MemoryCache) in front:
//!   a warm request never touches Redis. Every revocation on the bus drops the token's
//!   local answer and records a local tombstone, so a logout on one server is refused by
//!   the others within the bus's delivery time (milliseconds).
//! - **Bus gaps:** Redis pub/sub is at-most-once. Whenever the subscription is lost
//!   (noticed at the end of the stream, or by a `PING` unanswered within
//!   [`command_timeout`](RedisStoreBuilder::command_timeout), every
//!   [`ping_interval`](RedisStoreBuilder::ping_interval)) and again when it is made, every
//!   local answer is dropped (an epoch counter also caps answers being written across the
//!   change): nothing cached before a gap is trusted after it; the next request reads Redis,
//!   where the tombstone is.
//! - **Degraded (Redis or the bus unreachable):** on entering it, the local answers cached
//!   while connected are dropped; from then on local answers live at most
//!   [`degraded_bound`](RedisStoreBuilder::degraded_bound) (1 s); a miss verifies with
//!   Rebilly directly, as the single-process layer does. Redis calls have their own
//!   deadline (250 ms); after one fails the store stops calling Redis until a check
//!   answers. Redis down is **never** a 503; local tombstones (logouts seen while
//!   connected) survive, so a token this process was told is revoked stays refused. A
//!   logout made while degraded is refused on its own server at once, written to Redis and
//!   published when it answers again, and refused elsewhere once those servers' (≤ 1 s)
//!   answers lapse and Rebilly says 404. Back from an outage, a process does not trust valid
//!   answers written to Redis before it came back (each carries its write time, on the
//!   writer's clock: keep clocks in sync), since a logout made during the outage may not be
//!   replayed yet.
//! - **Redis Cluster:** one failed master takes only its slots down while the bus may stay
//!   up, so each process checks the whole cluster on every bus tick (one read per slot range
//!   of `CLUSTER SLOTS`) and is degraded until the master's replica took over.
//! - **Fleet-wide single flight:** before verifying a fresh token a process takes a short
//!   lease in Redis ([`lease`](RedisStoreBuilder::lease), 500 ms; taken by a script that
//!   returns the answer instead when one was written meanwhile); the others wait for its
//!   answer (at most the lease, and at most half the layer's verify deadline), then verify
//!   themselves. N servers receiving one fresh token cause about one verify.
//! - **A logout made outside the merchant's app** (another application, an admin, token
//!   expiry upstream): Rebilly sends no logout event, so such a token is refused only when
//!   its cached answer ages out (the layer's `max_staleness`).
//!
//! ## Provisioning
//!
//! - **Digest key:** 32 random bytes (`openssl rand -hex 32`), the same on every server,
//!   from your secret store; never logged.
//! - **`maxmemory-policy noeviction`** (or an instance of its own): any other policy may
//!   evict a live tombstone. The store checks it at start-up and warns; where `CONFIG GET`
//!   is refused (many managed services) it warns that it could not check.
//! - **Credentials** come from the URL (`redis://user:password@host:6379`), for example
//!   from `REDIS_URL`; they never appear in `Debug`, errors or logs.
//! - **TLS:** `rediss://`. redis-rs builds its rustls config from rustls' **process
//!   default** provider, so [`build`](RedisStoreBuilder::build) installs the one this
//!   crate's feature selects when the application installed none (see there).
//!
//! Standalone Redis ([`RedisStore::builder`]) and Redis Cluster
//! ([`RedisStore::cluster_builder`]) are supported.
//!
//! ## Features
#![doc = document_features::document_features!()]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod backend;
mod bus;
mod cache;
mod codec;
mod config;
mod error;
mod health;
mod scripts;
mod store;
mod tls;

pub use config::RedisStoreBuilder;
pub use error::BuildError;
pub use store::RedisStore;
