//! CORS for the API's 16 routes (never for the control API): `OPTIONS` preflights, answered
//! before authentication, and the headers of API answers for allowed origins.
//!
//! The rules: only an origin given to
//! [`EmulatorBuilder::cors_origin`](super::EmulatorBuilder::cors_origin) is ever named, echoed
//! (never `*`) with `Vary: Origin`; the allowed request headers are `Authorization` and
//! `Content-Type`, listed by name (browsers do not let a wildcard cover `Authorization`), so
//! a browser never sends `REB-APIKEY` (secret keys do not belong in browsers);
//! `Access-Control-Allow-Credentials` is never sent.

use http::{HeaderMap, HeaderValue, StatusCode};

use super::handlers::Reply;
use super::routes::allowed_methods;

/// The request headers a browser may send to the API.
const ALLOW_HEADERS: &str = "Authorization, Content-Type";

/// The answer headers a browser page may read.
const EXPOSE_HEADERS: &str = "Location, Pagination-Total, Pagination-Limit, Pagination-Offset, \
X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Retry-After, Retry-After";

/// How long a browser may cache a preflight's answer, in seconds.
const MAX_AGE: &str = "600";

/// The request's `Origin`, if it is one of `allowed` (compared ASCII-case-insensitively, as
/// scheme and host are).
pub(crate) fn allowed_origin(allowed: &[String], headers: &HeaderMap) -> Option<HeaderValue> {
    let origin = headers.get(http::header::ORIGIN)?;
    let text = origin.to_str().ok()?.trim();
    allowed
        .iter()
        .any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(text))
        .then(|| origin.clone())
}

/// The answer to an `OPTIONS` request on an API route: 204 with `Allow`, and the CORS
/// headers when the origin is allowed.
pub(crate) fn preflight(template: &str, origin: Option<&HeaderValue>) -> Reply {
    let methods = allowed_methods(template);
    let mut reply = Reply {
        status: StatusCode::NO_CONTENT,
        headers: HeaderMap::new(),
        body: bytes::Bytes::new(),
    }
    .with_header("allow", &methods)
    .with_header(
        "vary",
        "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
    );
    if let Some(origin) = origin {
        reply
            .headers
            .insert(http::header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        reply = reply
            .with_header("access-control-allow-methods", &methods)
            .with_header("access-control-allow-headers", ALLOW_HEADERS)
            .with_header("access-control-max-age", MAX_AGE);
    }
    reply
}

/// Adds the CORS headers to an API answer: `Vary: Origin` always (CORS is on), the origin and
/// the readable headers when it is allowed.
pub(crate) fn decorate(reply: &mut Reply, origin: Option<&HeaderValue>) {
    reply
        .headers
        .append(http::header::VARY, HeaderValue::from_static("Origin"));
    if let Some(origin) = origin {
        reply
            .headers
            .insert(http::header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        reply.headers.insert(
            http::header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSE_HEADERS),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_listed_origins_are_named() {
        let allowed = vec!["http://localhost:3000/".to_owned()];
        let mut headers = HeaderMap::new();
        headers.insert("origin", HeaderValue::from_static("http://LOCALHOST:3000"));
        let origin = allowed_origin(&allowed, &headers);
        assert!(origin.is_some());
        headers.insert("origin", HeaderValue::from_static("http://evil.example"));
        assert!(allowed_origin(&allowed, &headers).is_none());
        let reply = preflight("/authentication-tokens", origin.as_ref());
        assert_eq!(reply.status, StatusCode::NO_CONTENT);
        assert_eq!(
            reply.headers["access-control-allow-headers"],
            "Authorization, Content-Type"
        );
        assert!(
            !reply
                .headers
                .contains_key("access-control-allow-credentials")
        );
        let reply = preflight("/authentication-tokens", None);
        assert!(!reply.headers.contains_key("access-control-allow-origin"));
    }
}
