//! Counters a metrics backend can read: [`Metrics`], from
//! [`RebillyAuth::metrics`](crate::RebillyAuth::metrics).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

macro_rules! counters {
    ($( $(#[$doc:meta])* $name:ident ),* $(,)?) => {
        /// A snapshot of the layer's counters, each counting since the layer was built.
        /// Export them to Prometheus, OpenTelemetry or logs as you like.
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        #[non_exhaustive]
        pub struct Metrics {
            $( $(#[$doc])* pub $name: u64, )*
            /// A shared store's state and counters (`None` with the in-memory cache): see
            /// [`VerifyCache::store_metrics`](crate::VerifyCache::store_metrics).
            pub store: Option<StoreMetrics>,
        }

        #[derive(Debug, Default)]
        pub(crate) struct Counters {
            $( pub(crate) $name: AtomicU64, )*
        }

        impl Counters {
            pub(crate) fn snapshot(&self, store: Option<StoreMetrics>) -> Metrics {
                Metrics { $( $name: self.$name.load(Relaxed), )* store }
            }
        }
    };
}

counters!(
    /// Requests (or [`authenticate`](crate::RebillyAuth::authenticate) calls) with a
    /// well-formed token.
    authentications,
    /// Answered from a cached valid answer.
    cache_hits,
    /// Answered from a cached 404 (negative entry).
    negative_hits,
    /// Answered from a logout tombstone.
    revoked_hits,
    /// Not in the cache (or no longer fresh): a verify was started or joined.
    misses,
    /// Joined a verify of the same token already in flight (single flight).
    coalesced,
    /// Verify calls sent upstream.
    upstream_verifies,
    /// Upstream said valid (200).
    upstream_valid,
    /// Upstream said not valid (404).
    upstream_invalid,
    /// Upstream refused the layer's own credential (401/403).
    upstream_misconfigured,
    /// Upstream answered something that is not a verification (decode error, mismatch, no
    /// or an empty `customerId`, unexpected status).
    upstream_bad_answer,
    /// Upstream could not answer (timeout, 5xx, 429, connection failure).
    upstream_unavailable,
    /// Verifies that got no slot: the wait queue was full, or the wait reached the verify
    /// deadline (503).
    over_capacity,
    /// Requests without a token.
    missing_token,
    /// Requests with a malformed token.
    malformed_token,
    /// Unsafe cookie-authenticated requests refused for their `Origin`.
    cross_origin,
    /// Valid sessions refused because their one-time password is pending.
    otp_refused,
    /// Requests that reached the handler with a customer.
    authenticated,
    /// Invalidations (logouts through the layer included).
    invalidations,
    /// Invalidations (and logouts) that wrote no tombstone because the tombstone store was
    /// full of live ones (or a shared store failed): the application got an error, and the
    /// token's cached answer was dropped.
    tombstones_refused,
    /// Verifies of known sessions (a cached valid answer past its freshness) started.
    known_reverifies,
    /// Verifies not sent because a shared store's [`claim`](crate::VerifyCache::claim)
    /// gave another process's answer (fleet-wide single flight).
    claimed_answers,
    /// Valid answers the store refused because a tombstone was there
    /// ([`PutOutcome::Revoked`](crate::cache::PutOutcome::Revoked)): the request was refused.
    revoked_in_flight,
);

/// A shared store's state and counters: what
/// [`VerifyCache::store_metrics`](crate::VerifyCache::store_metrics) reports, in [`Metrics::store`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreMetrics {
    /// The store answers and its revocation bus is subscribed.
    pub connected: bool,
    /// The store or its bus is unreachable: local answers live only for the store's short
    /// degraded bound, and verifies go upstream directly.
    pub degraded: bool,
    /// Times the bus was subscribed again after a disconnect.
    pub reconnects: u64,
    /// Revocations received on the bus (this process's own included).
    pub bus_messages: u64,
    /// Leases won: this process verified for the fleet.
    pub lease_wins: u64,
    /// Leases lost: this process waited for another's answer.
    pub lease_waits: u64,
    /// Answers read from the shared store (a local miss another process had filled).
    pub shared_hits: u64,
    /// Store calls that failed or passed their deadline.
    pub store_errors: u64,
}

impl StoreMetrics {
    /// `"connected"` or `"degraded"`: the authentication span's `store` field.
    pub fn state(&self) -> &'static str {
        if self.degraded || !self.connected {
            "degraded"
        } else {
            "connected"
        }
    }
}

impl Counters {
    pub(crate) fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Relaxed);
    }
}
