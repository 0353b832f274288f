//! Redaction shared by the recording fake and the cassettes: API keys, JWTs, passwords,
//! one-time passwords and token values never leave a test in clear text.

use http::HeaderMap;
use serde_json::Value;

/// What a redacted value prints as (the same placeholder as core's [`rebilly_auth_core::Secret`]).
pub const REDACTED: &str = "[REDACTED]";

/// Header names whose values are secrets.
const SECRET_HEADERS: &[&str] = &[
    "reb-apikey",
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
];

/// JSON members whose values are secrets, wherever they appear in a body.
const SECRET_FIELDS: &[&str] = &[
    "password",
    "oneTimePassword",
    "token",
    "newPassword",
    "secretKey",
    "apiKey",
];

/// Replaces the path segment after `authentication-tokens/` and `password-tokens/` (a token
/// value) with `{token}`, so that a path can be logged. Works on full URLs and on paths with a
/// query.
///
/// ```
/// use rebilly_auth_testing::redact::redact_path;
///
/// assert_eq!(
///     redact_path("/organizations/o/authentication-tokens/s3cr3t/exchange"),
///     "/organizations/o/authentication-tokens/{token}/exchange"
/// );
/// assert_eq!(redact_path("/organizations/o/credentials/cus_crd_1"), "/organizations/o/credentials/cus_crd_1");
/// ```
pub fn redact_path(path: &str) -> String {
    let (path, query) = match path.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path, None),
    };
    let mut out = String::with_capacity(path.len());
    let mut previous = "";
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        if (previous == "authentication-tokens" || previous == "password-tokens")
            && !segment.is_empty()
        {
            out.push_str("{token}");
        } else {
            out.push_str(segment);
        }
        previous = segment;
    }
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// Whether `value` looks like a compact JWS (three base64url parts, the first a JSON header).
pub fn looks_like_jwt(value: &str) -> bool {
    let parts: Vec<&str> = value.split('.').collect();
    parts.len() == 3
        && value.starts_with("eyJ")
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Redacts secrets in a JSON value in place: the members listed above, JWT-looking strings,
/// and token values in `_links[].href`.
pub fn redact_json(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, member) in map.iter_mut() {
                if SECRET_FIELDS.contains(&key.as_str()) && !member.is_null() {
                    *member = Value::String(REDACTED.into());
                } else if key == "href" {
                    if let Value::String(href) = member {
                        *href = redact_path(href);
                    }
                } else {
                    redact_json(member);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_json),
        Value::String(s) if looks_like_jwt(s) => *s = REDACTED.into(),
        _ => {}
    }
}

/// Redacts a body: JSON is parsed and redacted ([`redact_json`]); anything else that is not
/// empty is kept only if it holds no JWT-looking word.
pub fn redact_body(body: &[u8]) -> Option<Value> {
    if body.is_empty() {
        return None;
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(mut value) => {
            redact_json(&mut value);
            Some(value)
        }
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            if text.split_whitespace().any(looks_like_jwt) {
                Some(Value::String(REDACTED.into()))
            } else {
                Some(Value::String(text.into_owned()))
            }
        }
    }
}

/// Whether a header's value is a secret.
pub fn is_secret_header(name: &str) -> bool {
    SECRET_HEADERS
        .iter()
        .any(|secret| secret.eq_ignore_ascii_case(name))
}

/// A header value as it may be logged: secrets become [`REDACTED`], `Location` and
/// `Content-Location` have their token segments redacted.
pub fn redact_header(name: &str, value: &str) -> String {
    if is_secret_header(name) {
        REDACTED.into()
    } else if name.eq_ignore_ascii_case("location") || name.eq_ignore_ascii_case("content-location")
    {
        redact_path(value)
    } else {
        value.into()
    }
}

/// All headers as `(lower-case name, redacted value)` pairs, in order.
pub fn redact_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let text = String::from_utf8_lossy(value.as_bytes());
            (
                name.as_str().to_owned(),
                redact_header(name.as_str(), &text),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bodies_and_links() {
        let mut v = json!({
            "username": "ada", "password": "pw", "token": "t",
            "nested": [{"oneTimePassword": "123456"}],
            "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJhIjoxfQ.c2ln",
            "_links": [{"rel": "self", "href": "https://x/organizations/o/password-tokens/abc"}],
            "expiredTime": null, "token2": null
        });
        redact_json(&mut v);
        assert_eq!(v["password"], REDACTED);
        assert_eq!(v["token"], REDACTED);
        assert_eq!(v["nested"][0]["oneTimePassword"], REDACTED);
        assert_eq!(v["jwt"], REDACTED);
        assert_eq!(
            v["_links"][0]["href"],
            "https://x/organizations/o/password-tokens/{token}"
        );
        assert_eq!(v["username"], "ada");
    }

    #[test]
    fn paths_keep_query() {
        assert_eq!(
            redact_path("/a/password-tokens/x?limit=1"),
            "/a/password-tokens/{token}?limit=1"
        );
        assert_eq!(redact_path("/a/password-tokens"), "/a/password-tokens");
        assert_eq!(redact_path("/a/password-tokens/"), "/a/password-tokens/");
    }
}
