//! [`ServerWait`]: when a 429 or 503 answer says to retry (`Retry-After`, or
//! `X-RateLimit-Retry-After`).

use std::time::{Duration, SystemTime};

use http::HeaderMap;

use crate::response::{X_RATELIMIT_RETRY_AFTER, epoch_seconds, header_u64};

/// What a 429 or 503 answer said about when to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ServerWait {
    /// No usable retry header: the policy's own backoff applies.
    Absent,
    /// Retry at `at`, that is after `wait` (zero for a time already past).
    At {
        /// When.
        at: SystemTime,
        /// How long from the moment the answer was read.
        wait: Duration,
    },
    /// A retry header whose time cannot be represented: the call ends at once.
    Unrepresentable,
}

impl ServerWait {
    /// Retry at `at`, as seen at `now`.
    fn at(at: SystemTime, now: SystemTime) -> Self {
        let wait = at.duration_since(now).unwrap_or_default();
        ServerWait::At { at, wait }
    }

    /// The retry time to report to the caller, if there is one.
    pub(crate) fn retry_at(self) -> Option<SystemTime> {
        match self {
            ServerWait::At { at, .. } => Some(at),
            ServerWait::Absent | ServerWait::Unrepresentable => None,
        }
    }
}

/// When the server says to retry: `Retry-After` (seconds or an HTTP date), else
/// `X-RateLimit-Retry-After` (epoch seconds). Malformed values (negative, non-numeric,
/// non-ASCII) are ignored; values past what `SystemTime` holds are [`ServerWait::Unrepresentable`].
pub(crate) fn server_wait(headers: &HeaderMap, now: SystemTime) -> ServerWait {
    if let Some(value) = headers
        .get(http::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
    {
        let value = value.trim();
        if let Ok(seconds) = value.parse::<u64>() {
            let wait = Duration::from_secs(seconds);
            return now
                .checked_add(wait)
                .map_or(ServerWait::Unrepresentable, |at| ServerWait::At {
                    at,
                    wait,
                });
        }
        if let Ok(date) = httpdate::parse_http_date(value) {
            return ServerWait::at(date, now);
        }
    }
    match header_u64(headers, &X_RATELIMIT_RETRY_AFTER) {
        Some(epoch) => {
            epoch_seconds(epoch).map_or(ServerWait::Unrepresentable, |at| ServerWait::at(at, now))
        }
        None => ServerWait::Absent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::response::RateLimit;

    #[test]
    fn retry_after_in_every_form() {
        use ServerWait::*;
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let after = |s| At {
            at: now + Duration::from_secs(s),
            wait: Duration::from_secs(s),
        };
        let mut headers = HeaderMap::new();
        assert_eq!(server_wait(&headers, now), Absent);
        headers.insert("x-ratelimit-retry-after", "1000050".parse().unwrap());
        assert_eq!(server_wait(&headers, now), after(50));
        headers.insert("retry-after", "7".parse().unwrap());
        assert_eq!(server_wait(&headers, now), after(7));
        headers.insert("retry-after", "-7".parse().unwrap());
        assert_eq!(server_wait(&headers, now), after(50));
        headers.insert(
            "retry-after",
            "Sun, 06 Nov 1994 08:49:37 GMT".parse().unwrap(),
        );
        assert_eq!(
            server_wait(&headers, now),
            At {
                at: SystemTime::UNIX_EPOCH + Duration::from_secs(784111777),
                wait: Duration::from_secs(784111777 - 1_000_000),
            }
        );
    }

    #[test]
    fn a_time_already_past_is_a_wait_of_zero() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(2_000_000_000);
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-retry-after", "1000".parse().unwrap());
        assert_eq!(
            server_wait(&headers, now),
            ServerWait::At {
                at: SystemTime::UNIX_EPOCH + Duration::from_secs(1000),
                wait: Duration::ZERO,
            }
        );
    }

    #[test]
    fn unrepresentable_times_never_panic() {
        let now = SystemTime::now();
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", "18446744073709551615".parse().unwrap());
        assert_eq!(server_wait(&headers, now), ServerWait::Unrepresentable);
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-ratelimit-retry-after",
            "9223372036854775808".parse().unwrap(),
        );
        assert_eq!(server_wait(&headers, now), ServerWait::Unrepresentable);
        assert_eq!(RateLimit::from_headers(&headers).resets_at, None);
    }
}
