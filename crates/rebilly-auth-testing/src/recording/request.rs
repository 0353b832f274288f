//! [`RecordedRequest`]: one request as the fake received it, with assertions that name what
//! differs and never print a secret.

use std::fmt;

use bytes::Bytes;
use http::{HeaderMap, Method, Uri};
use rebilly_auth_core::OperationId;
use serde_json::Value;

use crate::redact::{REDACTED, redact_body, redact_headers, redact_path};

/// One request the client sent, as the transport received it.
///
/// `Debug` redacts secrets: API keys and `Authorization`, passwords, one-time passwords and
/// tokens in the body, token values in the path.
#[derive(Clone)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// The method.
    pub method: Method,
    /// The full URI.
    pub uri: Uri,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl fmt::Debug for RecordedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordedRequest")
            .field("method", &self.method)
            .field("uri", &redact_path(&self.uri.to_string()))
            .field("headers", &redact_headers(&self.headers))
            .field("body", &redact_body(&self.body))
            .finish()
    }
}

impl RecordedRequest {
    /// Which of the API's operations this request is (by core's one list of route
    /// templates), or `None` for a method and path that name none.
    pub fn operation(&self) -> Option<OperationId> {
        OperationId::recognize(&self.method, self.path())
    }

    /// Asserts which operation this request is.
    #[track_caller]
    pub fn assert_operation(&self, operation: OperationId) -> &Self {
        assert_eq!(
            self.operation(),
            Some(operation),
            "operation of {}",
            self.what()
        );
        self
    }

    /// The path (percent-encoded, as sent).
    pub fn path(&self) -> &str {
        self.uri.path()
    }

    /// The raw query string, if any.
    pub fn query(&self) -> Option<&str> {
        self.uri.query()
    }

    /// The value of query parameter `name`, decoded as servers read a query string
    /// (`application/x-www-form-urlencoded`: `%40` is `@`, `+` is a space; names are decoded
    /// too): its first occurrence; `Some("")` for a parameter without a value (`?flag`);
    /// invalid UTF-8 replaced by U+FFFD. The undecoded text is in [`query`](Self::query).
    pub fn query_param(&self, name: &str) -> Option<String> {
        form_urlencoded::parse(self.query()?.as_bytes())
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    }

    /// The value of header `name` as text, if present and valid UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body parsed as JSON.
    ///
    /// # Panics
    /// If the body is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "the body of {} {} is not JSON ({e}): {:?}",
                self.method,
                redact_path(self.path()),
                redact_body(&self.body)
            )
        })
    }

    /// `GetCredential (GET /organizations/o/credentials/c)`, with token segments redacted.
    pub(super) fn what(&self) -> String {
        let request = format!("{} {}", self.method, redact_path(self.path()));
        match self.operation() {
            Some(operation) => format!("{operation} ({request})"),
            None => request,
        }
    }

    /// Asserts the method.
    #[track_caller]
    pub fn assert_method(&self, method: Method) -> &Self {
        assert_eq!(self.method, method, "method of {}", self.what());
        self
    }

    /// Asserts the path (exact, percent-encoded as sent, without the query).
    #[track_caller]
    pub fn assert_path(&self, path: &str) -> &Self {
        assert!(
            self.path() == path,
            "path of {}: expected {}, got {}",
            self.method,
            redact_path(path),
            redact_path(self.path())
        );
        self
    }

    /// Asserts the whole query string (`None`: no query).
    #[track_caller]
    pub fn assert_query(&self, query: Option<&str>) -> &Self {
        assert_eq!(self.query(), query, "query of {}", self.what());
        self
    }

    /// Asserts one query parameter's decoded value (see [`query_param`](Self::query_param)).
    #[track_caller]
    pub fn assert_query_param(&self, name: &str, value: &str) -> &Self {
        assert_eq!(
            self.query_param(name).as_deref(),
            Some(value),
            "query parameter {name} of {}",
            self.what()
        );
        self
    }

    /// Asserts a header's value. The message never shows a secret header's value.
    #[track_caller]
    pub fn assert_header(&self, name: &str, value: &str) -> &Self {
        let actual = self.header(name);
        if actual != Some(value) {
            if crate::redact::is_secret_header(name) {
                panic!(
                    "header {name} of {}: {} (values redacted)",
                    self.what(),
                    if actual.is_some() {
                        "differs"
                    } else {
                        "missing"
                    }
                );
            }
            panic!(
                "header {name} of {}: expected {value:?}, got {actual:?}",
                self.what()
            );
        }
        self
    }

    /// Asserts that header `name` is absent.
    #[track_caller]
    pub fn assert_no_header(&self, name: &str) -> &Self {
        assert!(
            !self.headers.contains_key(name),
            "header {name} of {} should be absent",
            self.what()
        );
        self
    }

    /// Asserts that the body is JSON equal to `expected`. The message shows both, redacted.
    #[track_caller]
    pub fn assert_json_body(&self, expected: &Value) -> &Self {
        let actual = self.json();
        if &actual != expected {
            let (mut a, mut e) = (actual, expected.clone());
            crate::redact::redact_json(&mut a);
            crate::redact::redact_json(&mut e);
            panic!(
                "JSON body of {} differs\n  expected: {e}\n    actual: {a}\n(secrets shown as {REDACTED})",
                self.what()
            );
        }
        self
    }

    /// Asserts that the JSON body contains `expected`: every member of every object in
    /// `expected` is present with a matching value (recursively); arrays must match exactly.
    #[track_caller]
    pub fn assert_json_contains(&self, expected: &Value) -> &Self {
        let actual = self.json();
        if let Err(at) = contains(&actual, expected, String::new()) {
            let mut a = actual;
            crate::redact::redact_json(&mut a);
            panic!(
                "JSON body of {} does not contain the expected value at `{at}`; body: {a}",
                self.what()
            );
        }
        self
    }
}

/// Whether `actual` contains `expected`; on failure, the JSON path of the first difference.
fn contains(actual: &Value, expected: &Value, at: String) -> Result<(), String> {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => {
            for (key, value) in e {
                let here = format!("{at}.{key}");
                match a.get(key) {
                    Some(member) => contains(member, value, here)?,
                    None => return Err(here),
                }
            }
            Ok(())
        }
        _ if actual == expected => Ok(()),
        _ => Err(if at.is_empty() { ".".into() } else { at }),
    }
}
