//! Redaction shared by the recording fake and the cassettes: API keys, JWTs, passwords,
//! one-time passwords and token values never leave a test in clear text.

use http::HeaderMap;
use rebilly_auth_core::routes::ROUTE_TEMPLATES;
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

/// The placeholder core's route table writes for the parameter after `collection`, when
/// that parameter is a secret: `{token}` after `authentication-tokens`, `{id}` after
/// `password-tokens` (a reset-password token's value), as in
/// [`ROUTE_TEMPLATES`](rebilly_auth_core::routes::ROUTE_TEMPLATES). A collection holds
/// secrets when it holds tokens (its name ends in `-tokens`); a credential id is no secret.
fn secret_parameter(collection: &str) -> Option<&'static str> {
    ROUTE_TEMPLATES.iter().find_map(|template| {
        let mut parts = template.split('/').skip(1);
        let (name, parameter) = (parts.next()?, parts.next()?);
        let secret = name == collection && name.ends_with("-tokens") && parameter.starts_with('{');
        secret.then_some(parameter)
    })
}

/// Replaces each secret path parameter (a token value) with the placeholder of core's route
/// template: the segment after `authentication-tokens/` becomes `{token}`, the one after
/// `password-tokens/` becomes `{id}`. Credential ids stay. Works on full URLs, on base paths and
/// on paths with a query; a segment after `organizations/` is an organization id, never a
/// collection.
///
/// ```
/// use rebilly_auth_testing::redact::redact_path;
///
/// assert_eq!(
///     redact_path("/organizations/o/authentication-tokens/s3cr3t/exchange"),
///     "/organizations/o/authentication-tokens/{token}/exchange"
/// );
/// assert_eq!(
///     redact_path("https://api.example/organizations/o/password-tokens/s3cr3t?x=1"),
///     "https://api.example/organizations/o/password-tokens/{id}?x=1"
/// );
/// assert_eq!(redact_path("/organizations/o/credentials/cus_crd_1"), "/organizations/o/credentials/cus_crd_1");
/// ```
pub fn redact_path(path: &str) -> String {
    let (path, query) = match path.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path, None),
    };
    let mut out = String::with_capacity(path.len());
    // The placeholder the next non-empty segment becomes, and whether that segment is an
    // organization id (empty segments from doubled slashes are skipped, as servers do).
    let mut placeholder: Option<&str> = None;
    let mut organization_next = false;
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        if segment.is_empty() {
            out.push_str(segment);
            continue;
        }
        match placeholder.take() {
            Some(parameter) => out.push_str(parameter),
            None => {
                out.push_str(segment);
                if organization_next {
                    organization_next = false;
                } else {
                    organization_next = segment == "organizations";
                    placeholder = secret_parameter(segment);
                }
            }
        }
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
            "https://x/organizations/o/password-tokens/{id}"
        );
        assert_eq!(v["username"], "ada");
    }

    #[test]
    fn paths_keep_query() {
        assert_eq!(
            redact_path("/a/password-tokens/x?limit=1"),
            "/a/password-tokens/{id}?limit=1"
        );
        assert_eq!(redact_path("/a/password-tokens"), "/a/password-tokens");
        assert_eq!(redact_path("/a/password-tokens/"), "/a/password-tokens/");
    }

    #[test]
    fn placeholders_are_core_templates() {
        use rebilly_auth_core::OperationId;
        // Every operation's path, redacted, is its template wherever the parameter is a secret.
        for &op in OperationId::ALL {
            let template = op.url_template();
            let path = template
                .replace("{organizationId}", "org")
                .replace("{token}", "s3cr3t")
                .replace("{id}", "s3cr3t");
            let redacted = redact_path(&path);
            if op.path_template().starts_with("/credentials/") {
                assert_eq!(redacted, path, "{op}: a credential id is no secret");
            } else {
                assert_eq!(
                    redacted,
                    template.replace("{organizationId}", "org"),
                    "{op}"
                );
            }
        }
    }

    #[test]
    fn organization_ids_and_doubled_slashes() {
        // An organization named like a collection stays, and names no secret after it.
        assert_eq!(
            redact_path("/organizations/password-tokens/credentials"),
            "/organizations/password-tokens/credentials"
        );
        assert_eq!(
            redact_path("/organizations/organizations/password-tokens/x"),
            "/organizations/organizations/password-tokens/{id}"
        );
        // Servers skip empty segments: so does redaction.
        assert_eq!(
            redact_path("//authentication-tokens//s3cr3t/exchange"),
            "//authentication-tokens//{token}/exchange"
        );
        // Old placeholders are rewritten to core's.
        assert_eq!(
            redact_path("/o/password-tokens/{token}"),
            "/o/password-tokens/{id}"
        );
    }
}
