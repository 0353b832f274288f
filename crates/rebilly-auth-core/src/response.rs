//! What came back besides the decoded value: [`ResponseMeta`], [`RateLimit`], [`WithMeta`].

use std::fmt;
use std::time::{Duration, SystemTime};

use http::{HeaderMap, HeaderName, StatusCode};
use time::OffsetDateTime;

/// Rate-limit figures from a response's headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct RateLimit {
    /// `X-RateLimit-Limit`: tokens in the period.
    pub limit: Option<u64>,
    /// `X-RateLimit-Remaining`: tokens left in the period.
    pub remaining: Option<u64>,
    /// `X-RateLimit-Retry-After` (epoch seconds): when the limit resets, as the models'
    /// timestamps are (`OffsetDateTime`, UTC).
    pub resets_at: Option<OffsetDateTime>,
}

impl RateLimit {
    /// Reads the figures from `headers`; a missing or malformed header reads as `None`.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        Self {
            limit: header_u64(headers, &X_RATELIMIT_LIMIT),
            remaining: header_u64(headers, &X_RATELIMIT_REMAINING),
            // An epoch past what a date can hold leaves the reset time unset.
            resets_at: header_u64(headers, &X_RATELIMIT_RETRY_AFTER)
                .and_then(epoch_seconds)
                .and_then(to_offset_date_time),
        }
    }
}

/// A response's status, headers and the call's attempt count.
///
/// Its `Debug` lists header names only: `Location` can hold a token value.
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct ResponseMeta {
    /// The HTTP status.
    pub status: StatusCode,
    /// All response headers.
    pub headers: HeaderMap,
    /// How many attempts the call took (1 when not retried).
    pub attempts: u32,
    /// Rate-limit figures.
    pub rate_limit: RateLimit,
}

impl ResponseMeta {
    pub(crate) fn new(status: StatusCode, headers: HeaderMap, attempts: u32) -> Self {
        let rate_limit = RateLimit::from_headers(&headers);
        Self {
            status,
            headers,
            attempts,
            rate_limit,
        }
    }

    /// The `Location` header (201 answers): the created resource's URL. It may hold a token
    /// value: do not log it.
    pub fn location(&self) -> Option<&str> {
        self.headers
            .get(http::header::LOCATION)
            .and_then(|v| v.to_str().ok())
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `Content-Type`, if any.
    pub fn content_type(&self) -> Option<&str> {
        self.header("content-type")
    }
}

impl fmt::Debug for ResponseMeta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseMeta")
            .field("status", &self.status)
            .field("attempts", &self.attempts)
            .field("rate_limit", &self.rate_limit)
            .field("header_names", &self.headers.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// A decoded value with its response's metadata: what every `send_with_meta()` returns.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WithMeta<T> {
    /// The decoded value.
    pub value: T,
    /// Status, headers, rate-limit figures and attempts.
    pub meta: ResponseMeta,
}

static X_RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
static X_RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
pub(crate) static X_RATELIMIT_RETRY_AFTER: HeaderName =
    HeaderName::from_static("x-ratelimit-retry-after");

/// A header's value as a number; `None` when missing or malformed. Takes a `HeaderName` so
/// that no name is parsed per lookup.
pub(crate) fn header_u64(headers: &HeaderMap, name: &HeaderName) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// `at` as a UTC `OffsetDateTime`, if one can hold it (years -9999 to 9999).
pub(crate) fn to_offset_date_time(at: SystemTime) -> Option<OffsetDateTime> {
    let nanos = match at.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(after) => i128::try_from(after.as_nanos()).ok()?,
        Err(before) => -i128::try_from(before.duration().as_nanos()).ok()?,
    };
    OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
}

/// `epoch` seconds after the Unix epoch, if `SystemTime` can hold it.
pub(crate) fn epoch_seconds(epoch: u64) -> Option<SystemTime> {
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(epoch))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_headers_are_read_leniently() {
        let mut headers = HeaderMap::new();
        headers.insert("X-RateLimit-Limit", "3600".parse().unwrap());
        headers.insert("x-ratelimit-remaining", "nope".parse().unwrap());
        headers.insert("X-RATELIMIT-RETRY-AFTER", "1713187500".parse().unwrap());
        let rl = RateLimit::from_headers(&headers);
        assert_eq!(rl.limit, Some(3600));
        assert_eq!(rl.remaining, None);
        assert_eq!(
            rl.resets_at,
            Some(OffsetDateTime::from_unix_timestamp(1713187500).unwrap())
        );
    }
}
