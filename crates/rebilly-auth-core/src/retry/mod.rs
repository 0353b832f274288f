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

mod server_wait;

pub(crate) use server_wait::{ServerWait, server_wait};

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
/// assert_eq!(policy.max_attempts, 5);
/// assert_eq!(RetryPolicy::none().max_attempts, 1);
/// ```
///
/// Each setting is read through the field of the same name as its setter.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first included (0 is read as 1).
    pub max_attempts: u32,
    /// The backoff ceiling of the first retry; it doubles with each retry.
    pub initial_backoff: Duration,
    /// The largest backoff ceiling.
    pub max_backoff: Duration,
    /// The longest server-given wait honoured.
    pub max_server_wait: Duration,
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

    /// The backoff window of retry number `retry` (1 for the first retry): the initial
    /// backoff doubled per retry, capped.
    fn backoff_ceiling(&self, retry: u32) -> Duration {
        self.initial_backoff
            .saturating_mul(2u32.saturating_pow(retry.saturating_sub(1)))
            .min(self.max_backoff)
    }

    /// The wait before retry number `retry`: full jitter, a uniformly random duration between
    /// zero and the backoff window.
    #[cfg(test)]
    fn backoff(&self, retry: u32) -> Duration {
        full_jitter(self.backoff_ceiling(retry))
    }

    /// The wait before retry number `retry` when the server asked for `given` (zero for a
    /// time already past): `given` plus a jitter drawn from that retry's backoff window, and
    /// never less than half the initial backoff, so that many clients told "retry at second
    /// S" do not all wake at S.
    fn server_wait(&self, given: Duration, retry: u32, jitter: Jitter) -> Duration {
        given
            .saturating_add(jitter(self.backoff_ceiling(retry)))
            .max(self.initial_backoff / 2)
    }
}

/// Draws a wait from a backoff window `[0, ceiling]`.
pub(crate) type Jitter = fn(Duration) -> Duration;

/// The SDK's jitter: uniformly random in the window ("full jitter").
pub(crate) fn full_jitter(ceiling: Duration) -> Duration {
    let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(fastrand::u64(0..=nanos))
}

/// How an attempt ended, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AttemptEnd {
    /// The server answered `status`; `server_wait` is what its retry headers asked (read
    /// only for 429 and 503).
    Answered {
        /// The status.
        status: StatusCode,
        /// The server-given wait.
        server_wait: ServerWait,
    },
    /// No answer (a transport failure, or the attempt's own timeout); `reached` says whether
    /// the server may have seen the request.
    NoAnswer {
        /// Whether the request may have reached the server.
        reached: bool,
    },
    /// The whole call's deadline passed during the attempt.
    CallTimedOut,
}

/// What to do after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Hand the attempt's answer or error to the caller.
    Return,
    /// Hand it over as [`Error::ExchangeOutcomeUnknown`](crate::Error::ExchangeOutcomeUnknown):
    /// a token-spending exchange may have been executed and must not be replayed.
    ReturnOutcomeUnknown,
    /// Send the request again after `wait`. `ambiguous`: the server may have executed the
    /// attempt that failed.
    Retry {
        /// How long to wait first.
        wait: Duration,
        /// Whether the failed attempt may have been executed.
        ambiguous: bool,
    },
}

/// The retry rules, as one pure function: attempt number `attempt` (1 for the first) of a
/// request of `class` ended as `end`; `time_left` tells the call's remaining budget (called
/// only when a retry is considered, so a plain answer costs no clock read); `jitter` draws
/// the wait from a backoff window. A retry happens only if its wait ends within the budget.
pub(crate) fn decide(
    policy: &RetryPolicy,
    class: RetryClass,
    end: AttemptEnd,
    attempt: u32,
    time_left: impl FnOnce() -> Duration,
    jitter: Jitter,
) -> Decision {
    let spends_token = class == RetryClass::SpendsToken;
    let (wait, ambiguous) = match end {
        AttemptEnd::Answered { status, .. } if spends_token && is_gateway_status(status) => {
            return Decision::ReturnOutcomeUnknown;
        }
        AttemptEnd::Answered {
            status,
            server_wait,
        } => {
            if attempt >= policy.max_attempts.max(1) || !class.retries_status(status) {
                return Decision::Return;
            }
            let wait = match server_wait {
                ServerWait::Absent => jitter(policy.backoff_ceiling(attempt)),
                ServerWait::At { wait, .. } if wait <= policy.max_server_wait => {
                    policy.server_wait(wait, attempt, jitter)
                }
                // Past the cap, or too far to represent (over any cap): the caller schedules.
                ServerWait::At { .. } | ServerWait::Unrepresentable => return Decision::Return,
            };
            // A 5xx from a gateway may follow a request the API did execute; a 429 was refused.
            (wait, status != StatusCode::TOO_MANY_REQUESTS)
        }
        AttemptEnd::NoAnswer { reached } => {
            let unknown = if spends_token && reached {
                Decision::ReturnOutcomeUnknown
            } else {
                Decision::Return
            };
            if attempt >= policy.max_attempts.max(1) || (reached && !class.retries_ambiguous()) {
                return unknown;
            }
            let wait = jitter(policy.backoff_ceiling(attempt));
            if wait >= time_left() {
                return unknown;
            }
            return Decision::Retry {
                wait,
                ambiguous: reached,
            };
        }
        AttemptEnd::CallTimedOut if spends_token => return Decision::ReturnOutcomeUnknown,
        AttemptEnd::CallTimedOut => return Decision::Return,
    };
    if wait >= time_left() {
        return Decision::Return;
    }
    Decision::Retry { wait, ambiguous }
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
        let waits: std::collections::HashSet<_> = (0..50)
            .map(|_| policy.server_wait(given, 1, full_jitter))
            .collect();
        assert!(
            waits
                .iter()
                .all(|w| *w >= given && *w <= given + Duration::from_millis(100))
        );
        assert!(waits.len() > 10, "clients told the same time spread out");
        for _ in 0..50 {
            assert!(
                policy.server_wait(Duration::ZERO, 1, full_jitter) >= Duration::from_millis(50)
            );
        }
        assert_eq!(
            policy.server_wait(Duration::MAX, 3, full_jitter),
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

    /// The largest wait of a window: makes every decision deterministic.
    fn ceiling(window: Duration) -> Duration {
        window
    }

    fn nothing(_: Duration) -> Duration {
        Duration::ZERO
    }

    fn answered(status: u16) -> AttemptEnd {
        AttemptEnd::Answered {
            status: StatusCode::from_u16(status).unwrap(),
            server_wait: ServerWait::Absent,
        }
    }

    fn told_to_wait(status: u16, secs: u64) -> AttemptEnd {
        AttemptEnd::Answered {
            status: StatusCode::from_u16(status).unwrap(),
            server_wait: ServerWait::At {
                at: std::time::SystemTime::UNIX_EPOCH,
                wait: Duration::from_secs(secs),
            },
        }
    }

    fn retry(ms: u64, ambiguous: bool) -> Decision {
        Decision::Retry {
            wait: Duration::from_millis(ms),
            ambiguous,
        }
    }

    /// Every retry rule of RELIABILITY.md, one row each: class, how the attempt ended, attempt
    /// number, time left in the call, and the decision. The policy is the default one (3
    /// attempts, backoff windows of 100 ms doubling, server waits honoured up to 30 s); the
    /// jitter takes the whole window.
    #[test]
    fn the_retry_rules_as_a_table() {
        use Decision::{Return, ReturnOutcomeUnknown};
        use RetryClass::*;
        let plenty = Duration::from_secs(60);
        let unrepresentable = AttemptEnd::Answered {
            status: StatusCode::TOO_MANY_REQUESTS,
            server_wait: ServerWait::Unrepresentable,
        };
        let lost = AttemptEnd::NoAnswer { reached: true };
        let never_left = AttemptEnd::NoAnswer { reached: false };
        #[rustfmt::skip]
        let rows: Vec<(&str, RetryClass, AttemptEnd, u32, Duration, Decision)> = vec![
            ("a success is returned", Idempotent, answered(200), 1, plenty, Return),
            ("a 4xx is returned", Idempotent, answered(404), 1, plenty, Return),
            ("a 500 is the API's failure, never retried", Idempotent, answered(500), 1, plenty, Return),
            ("GET/PUT/DELETE retry a 502", Idempotent, answered(502), 1, plenty, retry(100, true)),
            ("… a 503", Idempotent, answered(503), 1, plenty, retry(100, true)),
            ("… a 504", Idempotent, answered(504), 1, plenty, retry(100, true)),
            ("the backoff window doubles", Idempotent, answered(503), 2, plenty, retry(200, true)),
            ("no retry after the last attempt", Idempotent, answered(503), 3, plenty, Return),
            ("no retry whose wait outlasts the call", Idempotent, answered(503), 1, Duration::from_millis(100), Return),
            ("a 429 was refused: not ambiguous", Idempotent, answered(429), 1, plenty, retry(100, false)),
            ("a server wait is honoured, plus jitter", Idempotent, told_to_wait(429, 2), 1, plenty, retry(2_100, false)),
            ("… up to the cap", Idempotent, told_to_wait(429, 30), 1, plenty, retry(30_100, false)),
            ("a wait past the cap returns at once", Idempotent, told_to_wait(429, 31), 1, plenty, Return),
            ("a wait too far to represent returns at once", Idempotent, unrepresentable, 1, plenty, Return),
            ("a 503's server wait counts too", Idempotent, told_to_wait(503, 1), 1, plenty, retry(1_100, true)),
            ("POST retries a 429", NonIdempotent, answered(429), 1, plenty, retry(100, false)),
            ("POST never retries a gateway error", NonIdempotent, answered(502), 1, plenty, Return),
            ("… nor a 503", NonIdempotent, answered(503), 1, plenty, Return),
            ("an exchange retries a 429", SpendsToken, answered(429), 1, plenty, retry(100, false)),
            ("an exchange's gateway error leaves its outcome unknown", SpendsToken, answered(502), 1, plenty, ReturnOutcomeUnknown),
            ("… even on the last attempt", SpendsToken, answered(504), 3, plenty, ReturnOutcomeUnknown),
            ("an exchange's 500 is the API's answer", SpendsToken, answered(500), 1, plenty, Return),
            ("an exchange's success", SpendsToken, answered(201), 1, plenty, Return),
            ("a request that never left is retried (GET)", Idempotent, never_left, 1, plenty, retry(100, false)),
            ("… (POST)", NonIdempotent, never_left, 1, plenty, retry(100, false)),
            ("… (exchange)", SpendsToken, never_left, 1, plenty, retry(100, false)),
            ("… but not after the last attempt", SpendsToken, never_left, 3, plenty, Return),
            ("… nor past the call's budget", NonIdempotent, never_left, 1, Duration::from_millis(50), Return),
            ("a lost answer is retried by GET/PUT/DELETE", Idempotent, lost, 1, plenty, retry(100, true)),
            ("… never by POST", NonIdempotent, lost, 1, plenty, Return),
            ("… and leaves an exchange's outcome unknown", SpendsToken, lost, 1, plenty, ReturnOutcomeUnknown),
            ("… also when out of budget", SpendsToken, lost, 3, plenty, ReturnOutcomeUnknown),
            ("the call's deadline ends it", Idempotent, AttemptEnd::CallTimedOut, 1, plenty, Return),
            ("… an exchange's with an unknown outcome", SpendsToken, AttemptEnd::CallTimedOut, 1, plenty, ReturnOutcomeUnknown),
        ];
        let policy = RetryPolicy::default();
        for (rule, class, end, attempt, left, expected) in rows {
            let decision = decide(&policy, class, end, attempt, || left, ceiling);
            assert_eq!(
                decision, expected,
                "{rule} ({class:?}, {end:?}, attempt {attempt})"
            );
        }
    }

    #[test]
    fn a_plain_answer_reads_no_clock_and_server_waits_keep_their_floor() {
        let policy = RetryPolicy::default();
        let no_clock = || -> Duration { panic!("the clock was read for a plain answer") };
        let decision = decide(
            &policy,
            RetryClass::Idempotent,
            answered(200),
            1,
            no_clock,
            ceiling,
        );
        assert_eq!(decision, Decision::Return);
        // A time already past, with no jitter drawn: half the initial backoff.
        let decision = decide(
            &policy,
            RetryClass::Idempotent,
            told_to_wait(429, 0),
            1,
            || Duration::from_secs(60),
            nothing,
        );
        assert_eq!(decision, retry(50, false));
    }
}
