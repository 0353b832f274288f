//! [`RetryPolicy`]: when a failed attempt is tried again, and how long to wait first.
//!
//! The rules follow from what is safe to send twice:
//! - GET, PUT and DELETE are retried on 429, 502, 503, 504 and on transport failures;
//! - POST (login, exchange, create) only on 429 (the server refused it) or when the transport
//!   proves the request never left (DNS, connect, TLS handshake);
//! - an exchange that spends its token is never replayed after an ambiguous failure (a lost
//!   response, or a gateway's 502/503/504 in place of the API's): that surfaces as
//!   [`Error::ExchangeOutcomeUnknown`](crate::Error::ExchangeOutcomeUnknown).

use std::time::Duration;

use http::StatusCode;

/// How safe it is to send an operation's request twice. Internal: how each operation
/// retries is fixed by the SDK (see the module docs).
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetryClass {
    /// GET, PUT, DELETE: the same request twice has the effect of one.
    Idempotent,
    /// POST: a replay may act twice.
    NonIdempotent,
    /// An exchange that invalidates its token: a replay after success answers 404 and loses
    /// the JWT the first attempt created.
    SpendsToken,
}

impl RetryClass {
    /// Whether a failure of this class, of which the server may have seen the request, may be
    /// retried.
    pub(crate) fn retries_ambiguous(self) -> bool {
        self == RetryClass::Idempotent
    }

    /// Whether an answer with `status` may be retried.
    pub(crate) fn retries_status(self, status: StatusCode) -> bool {
        match status.as_u16() {
            429 => true,
            _ if is_gateway_status(status) => self == RetryClass::Idempotent,
            _ => false,
        }
    }
}

/// 502, 503 or 504: a gateway answered in the API's place, which does not say whether the API
/// executed the request.
pub(crate) fn is_gateway_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 502..=504)
}

/// When and how often to retry.
///
/// On by default: 3 attempts in all, backoff from 100 ms doubling to at most 5 s with full
/// jitter, and a server-given retry time honoured up to 30 s (longer ones return the
/// rate-limited error at once, with the time, for the caller to schedule).
///
/// ```
/// use std::time::Duration;
/// use rebilly_auth_core::RetryPolicy;
///
/// let policy = RetryPolicy::default().max_attempts(5).initial_backoff(Duration::from_millis(50));
/// assert_eq!(policy.attempts(), 5);
/// assert_eq!(RetryPolicy::none().attempts(), 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_server_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            max_server_wait: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// No retries: one attempt per call.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Attempts in all, the first included (at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The backoff ceiling of the first retry; it doubles with each retry.
    pub fn initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// The largest backoff ceiling.
    pub fn max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// The longest server-given wait (`Retry-After`, `X-RateLimit-Retry-After`) honoured; a
    /// longer one ends the call with the rate-limited error at once.
    pub fn max_server_wait(mut self, wait: Duration) -> Self {
        self.max_server_wait = wait;
        self
    }

    /// Attempts in all.
    pub fn attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The longest server-given wait honoured.
    pub fn server_wait_cap(&self) -> Duration {
        self.max_server_wait
    }

    /// The wait before retry number `retry` (1 for the first retry): full jitter, a uniformly
    /// random duration between zero and the capped exponential ceiling.
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
        let ceiling = self
            .initial_backoff
            .saturating_mul(2u32.saturating_pow(retry.saturating_sub(1)))
            .min(self.max_backoff);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(fastrand::u64(0..=nanos))
    }

    /// The wait before retry number `retry` when the server asked for `given` (zero for a
    /// time already past): `given` plus a jitter drawn from that retry's backoff window, and
    /// never less than half the initial backoff, so that many clients told "retry at second
    /// S" do not all wake at S.
    pub(crate) fn server_wait(&self, given: Duration, retry: u32) -> Duration {
        given
            .saturating_add(self.backoff(retry))
            .max(self.initial_backoff / 2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_jittered_under_a_doubling_ceiling() {
        let policy = RetryPolicy::default()
            .initial_backoff(Duration::from_millis(100))
            .max_backoff(Duration::from_millis(300));
        for _ in 0..200 {
            assert!(policy.backoff(1) <= Duration::from_millis(100));
            assert!(policy.backoff(2) <= Duration::from_millis(200));
            assert!(policy.backoff(9) <= Duration::from_millis(300));
        }
        let distinct: std::collections::HashSet<_> = (0..50).map(|_| policy.backoff(3)).collect();
        assert!(distinct.len() > 10, "full jitter spreads the waits");
    }

    #[test]
    fn server_waits_are_jittered_and_floored() {
        let policy = RetryPolicy::default().initial_backoff(Duration::from_millis(100));
        let given = Duration::from_secs(2);
        let waits: std::collections::HashSet<_> =
            (0..50).map(|_| policy.server_wait(given, 1)).collect();
        assert!(
            waits
                .iter()
                .all(|w| *w >= given && *w <= given + Duration::from_millis(100))
        );
        assert!(waits.len() > 10, "clients told the same time spread out");
        for _ in 0..50 {
            assert!(policy.server_wait(Duration::ZERO, 1) >= Duration::from_millis(50));
        }
        assert_eq!(
            policy.server_wait(Duration::MAX, 3),
            Duration::MAX,
            "saturates, never overflows"
        );
    }

    #[test]
    fn classes() {
        use RetryClass::*;
        for status in [429, 502, 503, 504] {
            assert!(Idempotent.retries_status(StatusCode::from_u16(status).unwrap()));
        }
        assert!(NonIdempotent.retries_status(StatusCode::TOO_MANY_REQUESTS));
        assert!(!NonIdempotent.retries_status(StatusCode::BAD_GATEWAY));
        assert!(!SpendsToken.retries_status(StatusCode::SERVICE_UNAVAILABLE));
        assert!(!Idempotent.retries_status(StatusCode::INTERNAL_SERVER_ERROR));
        assert!(Idempotent.retries_ambiguous());
        assert!(!NonIdempotent.retries_ambiguous());
    }
}
