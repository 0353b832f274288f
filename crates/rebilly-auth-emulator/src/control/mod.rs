//! The control API: everything the Rust API of [`Emulator`] does, over HTTP under
//! `/__emulator/`, for testers in any language (and the inbox page for people).
//!
//! Off unless [`EmulatorBuilder::control_api`](super::EmulatorBuilder::control_api) turns it
//! on (the `rebilly-auth-emulator` binary does). Both faces serve it: over loopback HTTP and
//! in process.
//!
//! | endpoint | what it does |
//! |---|---|
//! | `GET /__emulator/` | the inbox page (HTML): organizations and their keys, live tokens, the outbox, the journal, a clock button |
//! | `GET /__emulator/overview` | what the inbox page polls: organizations, credentials, live tokens, the outbox and the latest journal entries, at most [`OVERVIEW_LIMIT`] of each kind (with the true counts per organization) |
//! | `GET /__emulator/health` | `{"status": "ok", "now": …, "organizations": […]}` |
//! | `GET /__emulator/outbox[?organization=O][&username=U]` | one-time passwords "sent by email", newest first: `[{"organization", "username", "customerId", "oneTimePassword", "sentTime"}]` |
//! | `GET /__emulator/clock` | `{"now": RFC 3339, "unixTime": seconds}` |
//! | `POST /__emulator/clock/advance` `{"seconds": N}` | moves the clock forward; **422** when `N` is not an integer from 0 to `u64::MAX`, or would pass the end of year 9999 (nothing moves) |
//! | `PUT /__emulator/clock` `{"now": RFC 3339}` | sets the clock (backwards too) |
//! | `POST /__emulator/reset` | back to the starting configuration (the CLI's organizations, customers, `--state` file, clock, seed, behaviours); faults and journal cleared; 204 |
//! | `GET /__emulator/faults` | pending faults: `[{"operation", "method", "fault", "remaining"}]` |
//! | `POST /__emulator/faults` `{"operation"?: operationId, "method"?: M, "fault": {"kind": …}, "times"?: N}` | injects a fault ([`Fault::to_json`] shows each kind's form); 201 |
//! | `DELETE /__emulator/faults` | clears every fault; 204 |
//! | `GET /__emulator/journal[?limit=N]` | the request journal, newest first: `[{"time", "method", "operation", "route", "organization", "status", "executed", "fault"}]`: the route *template*, never the real path (which may hold a token) |
//! | `DELETE /__emulator/journal` | clears the journal and its counters; 204 |
//! | `GET /__emulator/state` | the whole state as JSON ([`Snapshot`]) |
//! | `PUT /__emulator/state` | replaces the whole state by a snapshot; 204, or 422 naming what is wrong |
//! | `GET`/`PUT /__emulator/behaviours` | the switchable [`Behaviours`]; `PUT` changes the members it names |
//! | `GET /__emulator/customers[?organization=O]`, `POST` `{"organization", "customerId"}` | the seeded customers |
//!
//! ## Security
//!
//! The control API hands out one-time passwords, API keys and JWT signing keys, so:
//!
//! - it **never sends CORS headers** (a page of another origin cannot read it, and its
//!   preflights fail);
//! - it answers only when the `Host` header (and the URI's authority, when absolute) names a
//!   **loopback address**: `127.0.0.1`, `localhost` or `[::1]`, with any port. That defeats DNS
//!   rebinding. A request that carries the control token is exempt (with a token, a rebinding
//!   page cannot guess it);
//! - every request that is not `GET`/`HEAD` needs **`X-Emulator-Control: 1`** or the control
//!   token in a header, so a plain form `POST` from any web page cannot reset or advance
//!   anything (a custom header forces a preflight, which fails);
//! - with a control token ([`ControlApi::token`], the binary's `--control-token`), **every**
//!   control request needs it: `X-Emulator-Token: T` or `Authorization: Bearer T`; the inbox
//!   page takes it once as `?token=T` and keeps it in an `HttpOnly`, `SameSite=Strict` cookie;
//! - [`Emulator::serve_with`] refuses a non-loopback address when the control API has no
//!   token (the binary refuses such a `--host` at start).
//!
//! ```sh
//! curl -s localhost:8080/__emulator/outbox?username=ada@example.com
//! curl -s -X POST -H 'X-Emulator-Control: 1' -d '{"seconds": 3600}' localhost:8080/__emulator/clock/advance
//! curl -s -X POST -H 'X-Emulator-Control: 1' \
//!      -d '{"operation": "PostAuthenticationToken", "fault": {"kind": "status", "status": 503}}' \
//!      localhost:8080/__emulator/faults
//! curl -s localhost:8080/__emulator/state > state.json
//! curl -s -X PUT -H 'X-Emulator-Control: 1' --data-binary @state.json localhost:8080/__emulator/state
//! curl -s -X POST -H 'X-Emulator-Control: 1' localhost:8080/__emulator/reset
//! ```

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use rebilly_auth_core::OperationId;
use serde_json::{Map, Value, json};

use super::faults::{Fault, FaultRule, RequestMatcher};
use super::handlers::{Reply, rfc3339};
use super::snapshot::Snapshot;
use super::{Behaviours, Emulator, LoggedRequest, lock};

/// The path prefix of the control API.
pub const PREFIX: &str = "/__emulator";

/// The header that marks a control request as deliberate (`X-Emulator-Control: 1`).
pub const CONTROL_HEADER: &str = "x-emulator-control";

/// The header that carries the control token.
pub const TOKEN_HEADER: &str = "x-emulator-token";

/// The cookie the inbox page keeps the control token in.
pub const TOKEN_COOKIE: &str = "rebilly_emulator_control";

/// The most pending fault rules the control API accepts.
const MAX_FAULT_RULES: usize = 1000;

/// The most customers the control API seeds per organization.
const MAX_CUSTOMERS: usize = 10_000;

mod endpoints;
mod overview;

use endpoints::*;
pub use overview::OVERVIEW_LIMIT;
use overview::overview;

/// The inbox page and its script (no build step, nothing fetched from the network).
const INBOX_HTML: &str = include_str!("inbox.html");
const INBOX_JS: &str = include_str!("inbox.js");

/// The control API's settings; give them to
/// [`EmulatorBuilder::control_api`](super::EmulatorBuilder::control_api). Its `Debug` hides
/// the token.
///
/// ```
/// use rebilly_auth_emulator::{ControlApi, Emulator};
///
/// let emulator = Emulator::builder()
///     .add_organization("org", "sk", None)
///     .control_api(ControlApi::new().token("a-long-random-control-token"))
///     .build();
/// assert_eq!(emulator.snapshot().organizations(), ["org"]);
/// // The token never shows in `Debug`.
/// let control = ControlApi::new().token("a-long-random-control-token");
/// assert!(!format!("{control:?}").contains("a-long-random"));
/// ```
#[derive(Clone, Default)]
#[must_use]
pub struct ControlApi {
    token: Option<String>,
}

impl fmt::Debug for ControlApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ControlApi")
            .field("token", &self.token.as_ref().map(|_| "[REDACTED]"))
            .finish()
    }
}

impl ControlApi {
    /// The control API with no token: loopback `Host`s only, `X-Emulator-Control: 1` on
    /// every request that is not `GET`/`HEAD`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every control request must carry `token` (see the [module documentation](self)). It
    /// must be visible ASCII without `;`, `,`, `"` or `\` (it travels in a cookie); others
    /// are refused by [`ControlApi::is_valid_token`] and never match.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Whether a token is set.
    pub fn has_token(&self) -> bool {
        self.token.as_deref().is_some_and(Self::is_valid_token)
    }

    /// Whether `token` can be a control token: 1 to 256 characters of visible ASCII other than
    /// `;`, `,`, `"` and `\`.
    pub fn is_valid_token(token: &str) -> bool {
        (1..=256).contains(&token.len())
            && token
                .bytes()
                .all(|b| b.is_ascii_graphic() && !matches!(b, b';' | b',' | b'"' | b'\\'))
    }

    fn matches(&self, presented: Option<&str>) -> bool {
        match (self.token.as_deref(), presented) {
            (Some(expected), Some(presented)) if Self::is_valid_token(expected) => {
                constant_time_eq(expected.as_bytes(), presented.as_bytes())
            }
            _ => false,
        }
    }
}

/// Compares without an early exit, so the time taken tells nothing about the token (subtle's
/// comparison, as core's `Secret` uses).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    bool::from(subtle::ConstantTimeEq::ct_eq(a, b))
}

/// The control API's endpoints, as the request log names them.
const ENDPOINTS: [&str; 13] = [
    "/__emulator/",
    "/__emulator/inbox.js",
    "/__emulator/health",
    "/__emulator/overview",
    "/__emulator/outbox",
    "/__emulator/clock",
    "/__emulator/clock/advance",
    "/__emulator/reset",
    "/__emulator/faults",
    "/__emulator/journal",
    "/__emulator/state",
    "/__emulator/behaviours",
    "/__emulator/customers",
];

/// The endpoint of [`ENDPOINTS`] a control path names (trailing slashes ignored); `None` for
/// any other path.
pub(crate) fn endpoint(path: &str) -> Option<&'static str> {
    let rest = path.strip_prefix(PREFIX)?.trim_end_matches('/');
    ENDPOINTS
        .into_iter()
        .find(|endpoint| endpoint[PREFIX.len()..].trim_end_matches('/') == rest)
}

/// Whether `path` is the control API's.
pub(crate) fn is_control_path(path: &str) -> bool {
    path == PREFIX
        || path
            .strip_prefix(PREFIX)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Whether `authority` (`host[:port]`) names a loopback address: `127.0.0.0/8`, `localhost`,
/// `[::1]`.
pub(crate) fn is_loopback_authority(authority: &str) -> bool {
    let authority = authority.trim();
    let (host_ok, after) = if let Some(rest) = authority.strip_prefix('[') {
        match rest.split_once(']') {
            Some((inside, after)) => (
                inside.parse::<Ipv6Addr>().is_ok_and(|ip| ip.is_loopback()),
                after,
            ),
            None => return false,
        }
    } else {
        let (host, after) = authority.split_at(authority.find(':').unwrap_or(authority.len()));
        (
            host.eq_ignore_ascii_case("localhost")
                || host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback()),
            after,
        )
    };
    let port_ok = after.is_empty()
        || after.strip_prefix(':').is_some_and(|port| {
            (1..=5).contains(&port.len()) && port.bytes().all(|b| b.is_ascii_digit())
        });
    host_ok && port_ok
}

/// Whether the request names a loopback host: the `Host` header is required and must be
/// loopback, and so must an absolute URI's authority.
fn host_is_loopback(request: &http::Request<Bytes>) -> bool {
    let hosts = request.headers().get_all(http::header::HOST);
    let mut any = false;
    for host in hosts {
        any = true;
        if !host.to_str().is_ok_and(is_loopback_authority) {
            return false;
        }
    }
    match request.uri().authority() {
        Some(authority) => is_loopback_authority(authority.as_str()),
        None => any,
    }
}

/// The token a request carries in a header (`X-Emulator-Token`, `Authorization: Bearer`).
fn header_token(headers: &HeaderMap) -> Option<&str> {
    if let Some(token) = headers.get(TOKEN_HEADER).and_then(|v| v.to_str().ok()) {
        return Some(token.trim());
    }
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// The token of the inbox page's cookie.
fn cookie_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == TOKEN_COOKIE).then_some(value)
        })
}

/// One query parameter (its first occurrence), decoded as a form is (`+` is a space).
fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

fn no_store(reply: Reply) -> Reply {
    reply
        .with_header("cache-control", "no-store")
        .with_header("x-content-type-options", "nosniff")
}

fn bad_request(detail: &str) -> Reply {
    Reply::problem(StatusCode::BAD_REQUEST, detail)
}

fn invalid(field: &str, message: impl Into<String>) -> Reply {
    Reply::invalid(&[(field.to_owned(), message.into())])
}

/// The request's JSON object body (an empty body is `{}`).
fn object(body: &[u8]) -> Result<Map<String, Value>, Box<Reply>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Box::new(bad_request("the body must be a JSON object"))),
        Err(_) => Err(Box::new(bad_request("the body is not valid JSON"))),
    }
}

/// Answers a control request (any path under [`PREFIX`]).
pub(crate) fn handle(emulator: &Emulator, request: &http::Request<Bytes>) -> Reply {
    no_store(route(emulator, request))
}

fn route(emulator: &Emulator, request: &http::Request<Bytes>) -> Reply {
    let Some(control) = emulator.shared.control.as_ref() else {
        return Reply::problem(
            StatusCode::NOT_FOUND,
            "the control API is off (EmulatorBuilder::control_api turns it on)",
        );
    };
    let headers = request.headers();
    let method = request.method();
    let path = request.uri().path();
    let rest = path[PREFIX.len()..].trim_end_matches('/');
    let query = request.uri().query();
    let safe = *method == Method::GET || *method == Method::HEAD;
    let by_header = control.matches(header_token(headers));
    let by_cookie = control.matches(cookie_token(headers));
    let by_query =
        safe && rest.is_empty() && control.matches(query_param(query, "token").as_deref());
    let authorized = by_header || by_cookie || by_query;
    if !host_is_loopback(request) && !authorized {
        return Reply::problem(
            StatusCode::FORBIDDEN,
            "the control API answers only requests whose Host is a loopback address (127.0.0.1, localhost, [::1]), or that carry the control token",
        );
    }
    if control.has_token() && !authorized {
        return Reply::problem(
            StatusCode::UNAUTHORIZED,
            "the control API needs the control token (X-Emulator-Token, or Authorization: Bearer)",
        );
    }
    let deliberate = by_header
        || headers
            .get(CONTROL_HEADER)
            .is_some_and(|v| v.as_bytes().trim_ascii() == b"1");
    if !safe && !deliberate {
        return Reply::problem(
            StatusCode::FORBIDDEN,
            "a control request other than GET needs the header X-Emulator-Control: 1 (or the control token)",
        );
    }
    let body = request.body();
    let get = |m: &Method| *m == Method::GET || *m == Method::HEAD;
    match (rest, method) {
        ("", m) if get(m) => {
            if by_query && !by_cookie {
                // Keep the token in a cookie and take it out of the address bar.
                let cookie = format!(
                    "{TOKEN_COOKIE}={}; HttpOnly; SameSite=Strict; Path={PREFIX}",
                    query_param(query, "token").unwrap_or_default()
                );
                return Reply {
                    status: StatusCode::SEE_OTHER,
                    headers: HeaderMap::new(),
                    body: Bytes::new(),
                }
                .with_header("location", &format!("{PREFIX}/"))
                .with_header("set-cookie", &cookie);
            }
            page(INBOX_HTML, "text/html; charset=utf-8")
        }
        ("/inbox.js", m) if get(m) => page(INBOX_JS, "text/javascript; charset=utf-8"),
        ("/health", m) if get(m) => health(emulator),
        ("/overview", m) if get(m) => overview(emulator),
        ("/outbox", m) if get(m) => outbox(emulator, query),
        ("/clock", m) if get(m) => clock(emulator),
        ("/clock", &Method::PUT) => set_clock(emulator, body),
        ("/clock/advance", &Method::POST) => advance(emulator, body),
        ("/reset", &Method::POST) => {
            emulator.reset();
            Reply::no_content()
        }
        ("/faults", m) if get(m) => list_faults(emulator),
        ("/faults", &Method::POST) => add_fault(emulator, body),
        ("/faults", &Method::DELETE) => {
            emulator.clear_faults();
            Reply::no_content()
        }
        ("/journal", m) if get(m) => journal(emulator, query),
        ("/journal", &Method::DELETE) => {
            emulator.clear_request_log();
            Reply::no_content()
        }
        ("/state", m) if get(m) => {
            let mut reply = Reply::json(StatusCode::OK, &Value::Null);
            reply.body = Bytes::from(emulator.snapshot().to_json());
            reply
        }
        ("/state", &Method::PUT | &Method::POST) => match Snapshot::from_json(body) {
            Ok(snapshot) => match emulator.restore(&snapshot) {
                Ok(()) => Reply::no_content(),
                Err(error) => invalid("state", error.to_string()),
            },
            Err(error) => invalid("state", error.to_string()),
        },
        ("/behaviours", m) if get(m) => behaviours(emulator),
        ("/behaviours", &Method::PUT) => set_behaviours(emulator, body),
        ("/customers", m) if get(m) => customers(emulator, query),
        ("/customers", &Method::POST) => add_customer(emulator, body),
        _ if endpoint(path).is_some() => Reply::problem(
            StatusCode::METHOD_NOT_ALLOWED,
            "this control endpoint does not serve that method",
        ),
        _ => Reply::problem(StatusCode::NOT_FOUND, "no such control endpoint"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_authorities() {
        for ok in [
            "127.0.0.1",
            "127.0.0.1:8080",
            "localhost",
            "LOCALHOST:1",
            "[::1]",
            "[::1]:65535",
            "127.9.9.9:80",
        ] {
            assert!(is_loopback_authority(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:8080",
            "localhost.evil.example",
            "127.0.0.1.nip.io",
            "10.0.0.1:80",
            "[::2]:80",
            "[::1",
            "[::1]x",
            "127.0.0.1:",
            "127.0.0.1:80:80",
            "localhost:abc",
            "",
            "[::1]:",
        ] {
            assert!(!is_loopback_authority(bad), "{bad}");
        }
    }

    #[test]
    fn paths_and_tokens() {
        assert!(is_control_path("/__emulator"));
        assert!(is_control_path("/__emulator/health"));
        assert!(!is_control_path("/__emulatorx"));
        assert!(!is_control_path("/organizations/__emulator/"));
        assert!(ControlApi::is_valid_token("abc-123_XYZ"));
        assert!(!ControlApi::is_valid_token("a;b"));
        assert!(!ControlApi::is_valid_token(""));
        let control = ControlApi::new().token("t0k");
        assert!(control.matches(Some("t0k")));
        assert!(!control.matches(Some("t0K")));
        assert!(!ControlApi::new().matches(Some("")));
        assert!(!format!("{control:?}").contains("t0k"));
        assert_eq!(
            query_param(Some("a=1&username=ada%40x+y"), "username").as_deref(),
            Some("ada@x y")
        );
    }
}
