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
        }

        #[derive(Debug, Default)]
        pub(crate) struct Counters {
            $( pub(crate) $name: AtomicU64, )*
        }

        impl Counters {
            pub(crate) fn snapshot(&self) -> Metrics {
                Metrics { $( $name: self.$name.load(Relaxed), )* }
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
);

impl Counters {
    pub(crate) fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Relaxed);
    }
}
