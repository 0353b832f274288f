//! Where a request's token comes from ([`TokenSource`]) and the checks made before any
//! upstream call: its syntax, and the `Origin` of cookie-authenticated unsafe requests.

use std::fmt;

use http::header::{AUTHORIZATION, COOKIE, ORIGIN};
use http::{HeaderMap, HeaderName, Method};

/// The longest token accepted, in bytes (the SDK's own limit on what it sends).
pub(crate) const MAX_TOKEN_LEN: usize = 1024;

/// Where the layer reads the customer's token.
///
/// ```
/// use rebilly_auth_axum::TokenSource;
///
/// let bearer = TokenSource::bearer(); // `Authorization: Bearer <token>` (the default)
/// let cookie = TokenSource::cookie("session"); // `Cookie: session=<token>`
/// let header = TokenSource::header(http::HeaderName::from_static("x-customer-token"));
/// assert_eq!(bearer, TokenSource::default());
/// assert_eq!(cookie, TokenSource::Cookie("session".into()));
/// assert!(matches!(header, TokenSource::Header(name) if name == "x-customer-token"));
/// ```
///
/// A cookie carrying the token must be `HttpOnly`, `Secure` and `SameSite=Lax` (or
/// `Strict`): `SameSite` keeps other sites' pages from sending it, and the layer also
/// requires an allowed `Origin` on unsafe methods (see
/// [`allowed_origins`](crate::RebillyAuthBuilder::allowed_origins)).
#[derive(Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TokenSource {
    /// `Authorization: Bearer <token>` (RFC 6750; the scheme is matched in any case).
    #[default]
    Bearer,
    /// The cookie of this name.
    Cookie(String),
    /// The whole value of this header.
    Header(HeaderName),
}

impl TokenSource {
    /// `Authorization: Bearer <token>`.
    pub fn bearer() -> Self {
        Self::Bearer
    }

    /// The cookie named `name`.
    pub fn cookie(name: impl Into<String>) -> Self {
        Self::Cookie(name.into())
    }

    /// The header named `name`.
    pub fn header(name: HeaderName) -> Self {
        Self::Header(name)
    }
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bearer => f.write_str("Bearer"),
            Self::Cookie(name) => f.debug_tuple("Cookie").field(name).finish(),
            Self::Header(name) => f.debug_tuple("Header").field(name).finish(),
        }
    }
}

/// Why no token could be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unreadable {
    /// None there.
    Missing,
    /// There, but not usable.
    Malformed,
}

impl TokenSource {
    /// The token of a request, borrowed from its headers.
    pub(crate) fn read<'h>(&self, headers: &'h HeaderMap) -> Result<&'h str, Unreadable> {
        let token = match self {
            Self::Bearer => bearer(headers)?,
            Self::Cookie(name) => cookie(headers, name)?,
            Self::Header(name) => single(headers, name)?.trim_matches([' ', '\t']),
        };
        check(token)?;
        Ok(token)
    }
}

/// The value of the one header `name`; two are ambiguous (malformed).
fn single<'h>(headers: &'h HeaderMap, name: &HeaderName) -> Result<&'h str, Unreadable> {
    let mut values = headers.get_all(name).iter();
    let value = values.next().ok_or(Unreadable::Missing)?;
    if values.next().is_some() {
        return Err(Unreadable::Malformed);
    }
    value.to_str().map_err(|_| Unreadable::Malformed)
}

fn bearer(headers: &HeaderMap) -> Result<&str, Unreadable> {
    let value = single(headers, &AUTHORIZATION)?.trim_matches([' ', '\t']);
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        // Another scheme (Basic, …) carries no bearer token.
        return Err(Unreadable::Missing);
    }
    let token = rest.trim_start_matches(' ');
    if token.is_empty() {
        return Err(Unreadable::Malformed);
    }
    Ok(token)
}

fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Result<&'h str, Unreadable> {
    let mut found = None;
    for value in headers.get_all(COOKIE) {
        let value = value.to_str().map_err(|_| Unreadable::Malformed)?;
        for pair in value.split(';') {
            let Some((key, val)) = pair.split_once('=') else {
                continue;
            };
            if key.trim_matches([' ', '\t']) != name {
                continue;
            }
            // Two cookies of the name (e.g. one planted for a parent domain) are ambiguous.
            if found.is_some() {
                return Err(Unreadable::Malformed);
            }
            let val = val.trim_matches([' ', '\t']);
            let val = val
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(val);
            found = Some(val);
        }
    }
    found.ok_or(Unreadable::Missing)
}

/// The SDK's rule for a token value it will send: not a dot segment, at most 1024 bytes, no
/// byte below 0x21 (controls, space) nor 0x7F. Checked here so that a token the SDK would
/// refuse never starts a verify.
pub(crate) fn check(token: &str) -> Result<(), Unreadable> {
    if token.is_empty() {
        return Err(Unreadable::Missing);
    }
    if token.len() > MAX_TOKEN_LEN
        || token == "."
        || token == ".."
        || token.bytes().any(|b| !(0x21..0x7F).contains(&b))
    {
        return Err(Unreadable::Malformed);
    }
    Ok(())
}

/// Whether `method` may change state (everything but GET, HEAD, OPTIONS and TRACE).
pub(crate) fn is_unsafe(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// An origin normalized for comparison: lower case, no trailing slash.
pub(crate) fn normalize_origin(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_ascii_lowercase()
}

/// Whether the request's one `Origin` header is among `allowed` (normalized).
pub(crate) fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Ok(origin) = single(headers, &ORIGIN) else {
        return false;
    };
    let origin = origin.trim().trim_end_matches('/');
    allowed.iter().any(|a| a.eq_ignore_ascii_case(origin))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        map
    }

    #[test]
    fn bearer_tokens() {
        let s = TokenSource::bearer();
        assert_eq!(
            s.read(&headers(&[("authorization", "Bearer abc")])),
            Ok("abc")
        );
        assert_eq!(
            s.read(&headers(&[("authorization", "bearer  abc ")])),
            Ok("abc")
        );
        assert_eq!(s.read(&headers(&[])), Err(Unreadable::Missing));
        assert_eq!(
            s.read(&headers(&[("authorization", "Basic eHl6")])),
            Err(Unreadable::Missing)
        );
        assert_eq!(
            s.read(&headers(&[("authorization", "Bearer")])),
            Err(Unreadable::Malformed)
        );
        assert_eq!(
            s.read(&headers(&[("authorization", "Bearer a b")])),
            Err(Unreadable::Malformed)
        );
        assert_eq!(
            s.read(&headers(&[
                ("authorization", "Bearer a"),
                ("authorization", "Bearer b")
            ])),
            Err(Unreadable::Malformed)
        );
        assert_eq!(
            s.read(&headers(&[("authorization", "Bearer ..")])),
            Err(Unreadable::Malformed)
        );
        let long = format!("Bearer {}", "a".repeat(1025));
        assert_eq!(
            s.read(&headers(&[("authorization", &long)])),
            Err(Unreadable::Malformed)
        );
    }

    #[test]
    fn cookies_and_headers() {
        let s = TokenSource::cookie("sid");
        assert_eq!(
            s.read(&headers(&[("cookie", "a=1; sid=tok; b=2")])),
            Ok("tok")
        );
        assert_eq!(s.read(&headers(&[("cookie", "sid=\"tok\"")])), Ok("tok"));
        assert_eq!(
            s.read(&headers(&[("cookie", "a=1"), ("cookie", "sid=x")])),
            Ok("x")
        );
        assert_eq!(
            s.read(&headers(&[("cookie", "sid=x; sid=y")])),
            Err(Unreadable::Malformed)
        );
        assert_eq!(
            s.read(&headers(&[("cookie", "sidx=1")])),
            Err(Unreadable::Missing)
        );
        assert_eq!(
            s.read(&headers(&[("cookie", "sid=")])),
            Err(Unreadable::Missing)
        );
        let h = TokenSource::header(HeaderName::from_static("x-token"));
        assert_eq!(h.read(&headers(&[("x-token", " t ")])), Ok("t"));
        assert_eq!(h.read(&headers(&[])), Err(Unreadable::Missing));
    }

    #[test]
    fn origins() {
        let allowed = vec![normalize_origin("https://Shop.example/")];
        assert!(origin_allowed(
            &headers(&[("origin", "https://shop.example")]),
            &allowed
        ));
        assert!(!origin_allowed(
            &headers(&[("origin", "https://evil.example")]),
            &allowed
        ));
        assert!(!origin_allowed(&headers(&[("origin", "null")]), &allowed));
        assert!(!origin_allowed(&headers(&[]), &allowed));
        assert!(is_unsafe(&Method::POST) && is_unsafe(&Method::DELETE));
        assert!(!is_unsafe(&Method::GET));
    }
}
