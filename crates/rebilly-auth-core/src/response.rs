//! What came back besides the decoded value: [`ResponseMeta`], [`RateLimit`], and the helpers
//! every operation decodes with.

use std::fmt;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, DecodeError, Error};
use crate::models::problem::ProblemDetails;
use crate::routes::OperationId;

/// Rate-limit figures from a response's headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct RateLimit {
    /// `X-RateLimit-Limit`: tokens in the period.
    pub limit: Option<u64>,
    /// `X-RateLimit-Remaining`: tokens left in the period.
    pub remaining: Option<u64>,
    /// `X-RateLimit-Retry-After` (epoch seconds): when the limit resets.
    pub resets_at: Option<SystemTime>,
}

impl RateLimit {
    /// Reads the figures from `headers`; a missing or malformed header reads as `None`.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        Self {
            limit: header_u64(headers, &X_RATELIMIT_LIMIT),
            remaining: header_u64(headers, &X_RATELIMIT_REMAINING),
            // An epoch past what `SystemTime` holds leaves the reset time unset.
            resets_at: header_u64(headers, &X_RATELIMIT_RETRY_AFTER).and_then(epoch_seconds),
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

/// A raw response handed to an operation's decoder. Internal (the sealed
/// [`Operation`](crate::Operation)'s input): not part of the API.
#[doc(hidden)]
///
/// Its `Debug` shows the body's length, never the body: a login answer holds a token.
pub struct RawResponse {
    /// Status, headers, attempts.
    pub meta: ResponseMeta,
    /// The body.
    pub body: Bytes,
    /// Whether an earlier attempt of this call may have reached the server (the call was
    /// retried after an ambiguous failure).
    pub retried_after_ambiguity: bool,
    /// When the server said the call may be retried (429 and 503 answers).
    pub retry_at: Option<SystemTime>,
}

impl fmt::Debug for RawResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawResponse")
            .field("meta", &self.meta)
            .field("body_len", &self.body.len())
            .field("retried_after_ambiguity", &self.retried_after_ambiguity)
            .field("retry_at", &self.retry_at)
            .finish()
    }
}

impl RawResponse {
    /// Decodes the JSON body as `T` when the status is a success; otherwise an [`ApiError`].
    pub fn json<T: DeserializeOwned>(&self, operation: OperationId) -> Result<T, Error> {
        if !self.meta.status.is_success() {
            return Err(self.api_error(operation));
        }
        self.decode(operation)
    }

    /// Decodes the body as `T` whatever the status.
    pub fn decode<T: DeserializeOwned>(&self, operation: OperationId) -> Result<T, Error> {
        serde_json::from_slice(&self.body)
            .map_err(|error| self.decode_error::<T>(operation, &error))
    }

    /// The error for a body that did not decode; re-decodes (failure path only) to learn where.
    fn decode_error<T: DeserializeOwned>(
        &self,
        operation: OperationId,
        error: &serde_json::Error,
    ) -> Error {
        let mut de = serde_json::Deserializer::from_slice(&self.body);
        let path = match serde_path_to_error::deserialize::<_, T>(&mut de) {
            Ok(_) => ".".to_owned(),
            Err(e) => e.path().to_string(),
        };
        Error::Decode(Box::new(DecodeError::new(
            operation,
            self.meta.status,
            self.meta.content_type().map(str::to_owned),
            // A copy: a transport's body may be a slice of its read buffer, which an error kept
            // by the caller should not hold alive.
            Bytes::copy_from_slice(&self.body),
            path,
            error,
        )))
    }

    /// The error for a success answer that decoded but does not answer the call (see
    /// [`DecodeError`]): `category` says how, `path` where.
    pub(crate) fn mismatch(
        &self,
        operation: OperationId,
        path: &str,
        category: &'static str,
    ) -> Error {
        Error::Decode(Box::new(DecodeError::mismatch(
            operation,
            self.meta.status,
            self.meta.content_type().map(str::to_owned),
            Bytes::copy_from_slice(&self.body),
            path,
            category,
        )))
    }

    /// The [`ApiError`] for this (unexpected) answer.
    pub fn api_error(&self, operation: OperationId) -> Error {
        let problem = serde_json::from_slice::<ProblemDetails>(&self.body).ok();
        Error::Api(Box::new(ApiError {
            operation,
            status: self.meta.status,
            problem,
            retry_at: self.retry_at,
            meta: self.meta.clone(),
        }))
    }

    /// Whether the status is 404.
    pub fn is_not_found(&self) -> bool {
        self.meta.status == StatusCode::NOT_FOUND
    }
}

static X_RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
static X_RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
static X_RATELIMIT_RETRY_AFTER: HeaderName = HeaderName::from_static("x-ratelimit-retry-after");

/// A header's value as a number; `None` when missing or malformed. Takes a `HeaderName` so
/// that no name is parsed per lookup.
pub(crate) fn header_u64(headers: &HeaderMap, name: &HeaderName) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// `epoch` seconds after the Unix epoch, if `SystemTime` can hold it.
fn epoch_seconds(epoch: u64) -> Option<SystemTime> {
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(epoch))
}

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
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1713187500))
        );
    }

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
