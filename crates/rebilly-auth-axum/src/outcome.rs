//! [`Rejection`]: why a request did not reach its handler, and the response it gets.

use std::fmt;
use std::time::Duration;

use axum_core::body::Body;
use axum_core::response::{IntoResponse, Response};
use http::header::{CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderValue, StatusCode};

/// Why the layer (or an extractor) refused a request. Each becomes one response:
///
/// | rejection | status | headers |
/// |---|---|---|
/// | [`MissingToken`](Self::MissingToken) | 401 | `WWW-Authenticate: Bearer` |
/// | [`MalformedToken`](Self::MalformedToken) | 401 | `WWW-Authenticate: Bearer error="invalid_request"` |
/// | [`InvalidToken`](Self::InvalidToken) | 401 | `WWW-Authenticate: Bearer error="invalid_token"` |
/// | [`OtpPending`](Self::OtpPending) | 401 | `WWW-Authenticate: Bearer error="insufficient_user_authentication"` |
/// | [`CrossOrigin`](Self::CrossOrigin) | 403 | |
/// | [`Misconfigured`](Self::Misconfigured), [`LayerMissing`](Self::LayerMissing) | 500 | |
/// | [`BadUpstreamAnswer`](Self::BadUpstreamAnswer) | 502 | |
/// | [`Unavailable`](Self::Unavailable), [`Overloaded`](Self::Overloaded) | 503 | `Retry-After` where known |
///
/// Every body is a small JSON object (`{"error": …, "error_description": …}`) with
/// `Cache-Control: no-store`; none repeats the token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// The request carries no token where the layer looks for one.
    MissingToken,
    /// The token is there but unusable: two of them, a wrong scheme, control characters,
    /// over 1024 bytes (what the SDK refuses to send). No upstream call was made.
    MalformedToken,
    /// The token is not valid: unknown, expired, logged out or spent (verify answered 404, a
    /// cached 404, a logout tombstone).
    InvalidToken,
    /// The token is valid but its one-time password is still pending (a password-only
    /// session) and the layer requires the second factor.
    OtpPending,
    /// A state-changing request authenticated by a cookie came without an allowed `Origin`
    /// (cross-site request forgery defence).
    CrossOrigin,
    /// Rebilly refused the layer's own credential (401/403): its API key or organization is
    /// wrong. Logged at ERROR level; never cached.
    Misconfigured,
    /// An `AuthenticatedCustomer` was extracted on a route without the layer.
    LayerMissing,
    /// Rebilly answered something that is not a verification: an undecodable body, an answer
    /// about another token, no or an empty `customerId`, an unexpected status. Never cached.
    BadUpstreamAnswer,
    /// Rebilly could not answer in time: a timeout, a 5xx, rate limiting, a connection
    /// failure. Never cached.
    Unavailable {
        /// When to try again, if Rebilly said.
        retry_after: Option<Duration>,
    },
    /// No verify slot came free within the verify deadline, or the slots' wait queue was
    /// full (see the crate docs, "Verify slots"). Never cached.
    Overloaded {
        /// When to try again.
        retry_after: Duration,
    },
}

impl Rejection {
    /// The response status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MissingToken | Self::MalformedToken | Self::InvalidToken | Self::OtpPending => {
                StatusCode::UNAUTHORIZED
            }
            Self::CrossOrigin => StatusCode::FORBIDDEN,
            Self::Misconfigured | Self::LayerMissing => StatusCode::INTERNAL_SERVER_ERROR,
            Self::BadUpstreamAnswer => StatusCode::BAD_GATEWAY,
            Self::Unavailable { .. } | Self::Overloaded { .. } => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The RFC 6750 (and RFC 9470) `error` code of a 401, if one applies.
    pub fn error_code(&self) -> Option<&'static str> {
        match self {
            Self::MalformedToken => Some("invalid_request"),
            Self::InvalidToken => Some("invalid_token"),
            Self::OtpPending => Some("insufficient_user_authentication"),
            _ => None,
        }
    }

    /// A short name for logs, spans and metrics, such as `invalid_token`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::MissingToken => "missing_token",
            Self::MalformedToken => "malformed_token",
            Self::InvalidToken => "invalid_token",
            Self::OtpPending => "otp_pending",
            Self::CrossOrigin => "cross_origin",
            Self::Misconfigured => "misconfigured",
            Self::LayerMissing => "layer_missing",
            Self::BadUpstreamAnswer => "bad_upstream_answer",
            Self::Unavailable { .. } => "unavailable",
            Self::Overloaded { .. } => "overloaded",
        }
    }

    /// Whether the rejection says "not logged in" (401) rather than a failure: where login is
    /// optional such requests pass as anonymous.
    pub fn is_unauthenticated(&self) -> bool {
        self.status() == StatusCode::UNAUTHORIZED
    }

    /// The `Retry-After` of a 503, if known.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Unavailable { retry_after } => *retry_after,
            Self::Overloaded { retry_after } => Some(*retry_after),
            _ => None,
        }
    }

    fn description(&self) -> &'static str {
        match self {
            Self::MissingToken => "authentication required",
            Self::MalformedToken => "the authentication token is malformed",
            Self::InvalidToken => "the authentication token is not valid",
            Self::OtpPending => "a one-time password is required",
            Self::CrossOrigin => "cross-origin request refused",
            Self::Misconfigured | Self::LayerMissing => "authentication is misconfigured",
            Self::BadUpstreamAnswer => "the authentication service answered unexpectedly",
            Self::Unavailable { .. } => "the authentication service is unavailable",
            Self::Overloaded { .. } => "too many authentications in progress",
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.description(), self.status().as_u16())
    }
}

impl std::error::Error for Rejection {}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        let code = self.error_code();
        let body = match code {
            Some(code) => format!(
                r#"{{"error":"{code}","error_description":"{}"}}"#,
                self.description()
            ),
            None => format!(
                r#"{{"error":"{}","error_description":"{}"}}"#,
                self.name(),
                self.description()
            ),
        };
        let mut response = Response::new(Body::from(body));
        *response.status_mut() = self.status();
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if self.status() == StatusCode::UNAUTHORIZED {
            let challenge = match code {
                Some("invalid_request") => r#"Bearer error="invalid_request""#,
                Some("invalid_token") => r#"Bearer error="invalid_token""#,
                Some("insufficient_user_authentication") => {
                    r#"Bearer error="insufficient_user_authentication""#
                }
                _ => "Bearer",
            };
            headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        }
        if let Some(wait) = self.retry_after() {
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            headers.insert(RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses() {
        let r = Rejection::OtpPending.into_response();
        assert_eq!(r.status(), 401);
        assert_eq!(
            r.headers()[WWW_AUTHENTICATE],
            r#"Bearer error="insufficient_user_authentication""#
        );
        let r = Rejection::MissingToken.into_response();
        assert_eq!(r.headers()[WWW_AUTHENTICATE], "Bearer");
        let r = Rejection::Unavailable {
            retry_after: Some(Duration::from_millis(1500)),
        }
        .into_response();
        assert_eq!(r.status(), 503);
        assert_eq!(r.headers()[RETRY_AFTER], "2");
        let r = Rejection::Unavailable { retry_after: None }.into_response();
        assert!(r.headers().get(RETRY_AFTER).is_none());
        assert!(r.headers().get(WWW_AUTHENTICATE).is_none());
    }
}
