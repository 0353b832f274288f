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
use percent_encoding::percent_decode_str;
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

/// The inbox page and its script (no build step, nothing fetched from the network).
const INBOX_HTML: &str = include_str!("inbox.html");
const INBOX_JS: &str = include_str!("inbox.js");

/// The control API's settings; give them to
/// [`EmulatorBuilder::control_api`](super::EmulatorBuilder::control_api). Its `Debug` hides
/// the token.
///
/// ```
/// use rebilly_auth_testing::emulator::{ControlApi, Emulator};
///
/// let emulator = Emulator::builder()
///     .organization("org", "sk", None)
///     .control_api(ControlApi::new().token("a-long-random-control-token"))
///     .build();
/// # let _ = emulator;
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

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
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

/// One query parameter, percent-decoded (`+` is a space).
fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (key == name).then(|| {
            percent_decode_str(&value.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        })
    })
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
            Ok(snapshot) => {
                emulator.restore(&snapshot);
                Reply::no_content()
            }
            Err(error) => invalid("state", error.to_string()),
        },
        ("/behaviours", m) if get(m) => behaviours(emulator),
        ("/behaviours", &Method::PUT) => set_behaviours(emulator, body),
        ("/customers", m) if get(m) => customers(emulator, query),
        ("/customers", &Method::POST) => add_customer(emulator, body),
        (
            "" | "/inbox.js" | "/health" | "/overview" | "/outbox" | "/clock" | "/clock/advance"
            | "/reset" | "/faults" | "/journal" | "/state" | "/behaviours" | "/customers",
            _,
        ) => Reply::problem(
            StatusCode::METHOD_NOT_ALLOWED,
            "this control endpoint does not serve that method",
        ),
        _ => Reply::problem(StatusCode::NOT_FOUND, "no such control endpoint"),
    }
}

fn page(content: &'static str, content_type: &'static str) -> Reply {
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    Reply {
        status: StatusCode::OK,
        headers,
        body: Bytes::from_static(content.as_bytes()),
    }
    .with_header(
        "content-security-policy",
        "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; \
         base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    )
    .with_header("x-frame-options", "DENY")
    .with_header("referrer-policy", "no-referrer")
}

fn health(emulator: &Emulator) -> Reply {
    let organizations: Vec<String> = lock(&emulator.shared.state)
        .organizations
        .keys()
        .cloned()
        .collect();
    Reply::json(
        StatusCode::OK,
        &json!({
            "status": "ok",
            "now": rfc3339(emulator.clock().now()),
            "organizations": organizations,
        }),
    )
}

fn clock(emulator: &Emulator) -> Reply {
    let now = emulator.clock().now();
    Reply::json(
        StatusCode::OK,
        &json!({"now": rfc3339(now), "unixTime": now.unix_timestamp()}),
    )
}

fn advance(emulator: &Emulator, body: &[u8]) -> Reply {
    let map = match object(body) {
        Ok(map) => map,
        Err(reply) => return *reply,
    };
    let Some(seconds) = map.get("seconds").and_then(Value::as_u64) else {
        return invalid(
            "seconds",
            "must be an integer number of seconds from 0 to 18446744073709551615",
        );
    };
    match emulator.clock().try_advance(Duration::from_secs(seconds)) {
        Some(_) => clock(emulator),
        None => invalid(
            "seconds",
            "would move the clock past 9999-12-31T23:59:59Z (the clock did not move)",
        ),
    }
}

fn set_clock(emulator: &Emulator, body: &[u8]) -> Reply {
    let map = match object(body) {
        Ok(map) => map,
        Err(reply) => return *reply,
    };
    let at = map.get("now").and_then(Value::as_str).and_then(|s| {
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
    });
    match at {
        Some(at) => {
            emulator.clock().set(at);
            clock(emulator)
        }
        None => invalid("now", "must be an RFC 3339 date-time"),
    }
}

fn outbox(emulator: &Emulator, query: Option<&str>) -> Reply {
    let organization = query_param(query, "organization");
    let username = query_param(query, "username");
    let sent: Vec<Value> = emulator
        .outbox(organization.as_deref(), username.as_deref())
        .into_iter()
        .map(|s| {
            json!({
                "organization": s.organization,
                "username": s.username,
                "customerId": s.customer_id,
                "oneTimePassword": s.one_time_password(),
                "sentTime": rfc3339(s.sent_time),
            })
        })
        .collect();
    Reply::json(StatusCode::OK, &Value::Array(sent))
}

fn list_faults(emulator: &Emulator) -> Reply {
    let rules: Vec<Value> = lock(&emulator.shared.faults)
        .iter()
        .map(|rule| {
            json!({
                "operation": rule.matcher.matched_operation().map(OperationId::name),
                "method": rule.matcher.matched_method().map(Method::as_str),
                "fault": rule.fault.to_json(),
                "remaining": rule.remaining,
            })
        })
        .collect();
    Reply::json(StatusCode::OK, &Value::Array(rules))
}

fn add_fault(emulator: &Emulator, body: &[u8]) -> Reply {
    let map = match object(body) {
        Ok(map) => map,
        Err(reply) => return *reply,
    };
    let mut errors = Vec::new();
    let mut matcher = RequestMatcher::any();
    match map.get("operation") {
        None | Some(Value::Null) => {}
        Some(Value::String(name)) => match OperationId::from_name(name) {
            Some(op) => matcher = RequestMatcher::operation(op),
            None => errors.push((
                "operation".to_owned(),
                "is not one of the API's operationIds (such as PostAuthenticationToken)".to_owned(),
            )),
        },
        Some(_) => errors.push(("operation".to_owned(), "must be a string".to_owned())),
    }
    match map.get("method") {
        None | Some(Value::Null) => {}
        Some(Value::String(name))
            if (1..=32).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphabetic()) =>
        {
            match Method::from_bytes(name.to_ascii_uppercase().as_bytes()) {
                Ok(method) => matcher = matcher.method(method),
                Err(_) => errors.push(("method".to_owned(), "is not an HTTP method".to_owned())),
            }
        }
        Some(_) => errors.push((
            "method".to_owned(),
            "must be an HTTP method name (letters only)".to_owned(),
        )),
    }
    let times = match map.get("times") {
        None | Some(Value::Null) => Some(1),
        Some(value) => value
            .as_u64()
            .filter(|n| (1..=1_000_000).contains(n))
            .and_then(|n| usize::try_from(n).ok()),
    };
    if times.is_none() {
        errors.push((
            "times".to_owned(),
            "must be an integer from 1 to 1000000".to_owned(),
        ));
    }
    let fault = match map.get("fault") {
        Some(value) => match Fault::from_json(value) {
            Ok(fault) => Some(fault),
            Err(error) => {
                errors.push(error);
                None
            }
        },
        None => {
            errors.push(("fault".to_owned(), "is required".to_owned()));
            None
        }
    };
    let (Some(fault), Some(times), true) = (fault, times, errors.is_empty()) else {
        return Reply::invalid(&errors);
    };
    let mut rules = lock(&emulator.shared.faults);
    if rules.len() >= MAX_FAULT_RULES {
        return invalid(
            "fault",
            format!("{MAX_FAULT_RULES} fault rules are pending already; clear some first"),
        );
    }
    let answer = json!({
        "operation": matcher.matched_operation().map(OperationId::name),
        "method": matcher.matched_method().map(Method::as_str),
        "fault": fault.to_json(),
        "remaining": times,
    });
    rules.push(FaultRule {
        matcher,
        fault,
        remaining: times,
    });
    Reply::json(StatusCode::CREATED, &answer)
}

/// One journal entry as JSON: the route template, never the real path.
pub(crate) fn journal_entry(entry: &LoggedRequest) -> Value {
    json!({
        "time": rfc3339(entry.time),
        "method": entry.method.as_str(),
        "operation": entry.operation.map(OperationId::name),
        "route": entry.route.map(|r| format!("/organizations/{{organizationId}}{r}")),
        "organization": entry.organization,
        "status": entry.status,
        "executed": entry.executed,
        "fault": entry.fault.as_ref().map(Fault::kind),
    })
}

fn journal(emulator: &Emulator, query: Option<&str>) -> Reply {
    let limit = match query_param(query, "limit") {
        None => usize::MAX,
        Some(text) => match text.trim().parse::<usize>() {
            Ok(limit) => limit,
            Err(_) => return invalid("limit", "must be a non-negative integer"),
        },
    };
    let entries: Vec<Value> = lock(&emulator.shared.journal)
        .entries
        .iter()
        .rev()
        .take(limit)
        .map(journal_entry)
        .collect();
    Reply::json(StatusCode::OK, &Value::Array(entries))
}

fn behaviours(emulator: &Emulator) -> Reply {
    Reply::json(
        StatusCode::OK,
        &serde_json::to_value(emulator.behaviours()).unwrap_or(Value::Null),
    )
}

fn set_behaviours(emulator: &Emulator, body: &[u8]) -> Reply {
    let changes = match object(body) {
        Ok(map) => map,
        Err(reply) => return *reply,
    };
    let mut current = match serde_json::to_value(emulator.behaviours()) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    let mut errors = Vec::new();
    for (name, value) in changes {
        if !current.contains_key(&name) {
            errors.push((name, "is not a behaviour".to_owned()));
            continue;
        }
        let mut probe = current.clone();
        probe.insert(name.clone(), value);
        if serde_json::from_value::<Behaviours>(Value::Object(probe.clone())).is_err() {
            errors.push((name, "is not one of its settings".to_owned()));
        } else {
            current = probe;
        }
    }
    if !errors.is_empty() {
        return Reply::invalid(&errors);
    }
    match serde_json::from_value::<Behaviours>(Value::Object(current)) {
        Ok(next) => {
            emulator.set_behaviours(next);
            behaviours(emulator)
        }
        Err(_) => invalid("body", "is not a set of behaviours"),
    }
}

fn customers(emulator: &Emulator, query: Option<&str>) -> Reply {
    let organization = query_param(query, "organization");
    let state = lock(&emulator.shared.state);
    let list: Vec<Value> = state
        .organizations
        .values()
        .filter(|org| organization.as_deref().is_none_or(|o| o == org.id))
        .map(|org| json!({"organization": org.id, "customers": org.customers}))
        .collect();
    Reply::json(StatusCode::OK, &Value::Array(list))
}

fn add_customer(emulator: &Emulator, body: &[u8]) -> Reply {
    let map = match object(body) {
        Ok(map) => map,
        Err(reply) => return *reply,
    };
    let organization = map.get("organization").and_then(Value::as_str);
    let customer = map
        .get("customerId")
        .and_then(Value::as_str)
        .filter(|c| super::handlers::valid_resource_id(c));
    let (Some(organization), Some(customer)) = (organization, customer) else {
        return Reply::invalid(&[
            (
                "organization".to_owned(),
                "must name an organization".to_owned(),
            ),
            (
                "customerId".to_owned(),
                "must be at most 50 characters of letters, digits and @~-._".to_owned(),
            ),
        ]);
    };
    let mut state = lock(&emulator.shared.state);
    let Some(org) = state.organizations.get_mut(organization) else {
        return invalid("organization", "no such organization");
    };
    if org.customers.len() >= MAX_CUSTOMERS && !org.customers.contains(customer) {
        return invalid(
            "customerId",
            format!("the organization already has {MAX_CUSTOMERS} customers"),
        );
    }
    org.customers.insert(customer.to_owned());
    Reply::json(
        StatusCode::CREATED,
        &json!({"organization": organization, "customerId": customer}),
    )
}

/// What the inbox page shows: organizations and their credentials, live tokens with their
/// expiry, the outbox, the latest journal entries, the clock.
fn overview(emulator: &Emulator) -> Reply {
    let now = emulator.clock().now();
    let organizations: Vec<Value> = {
        let state = lock(&emulator.shared.state);
        state
            .organizations
            .values()
            .map(|org| {
                let mut credentials: Vec<_> = org.credentials.values().collect();
                credentials.sort_by_key(|c| std::cmp::Reverse(c.seq));
                let mut tokens: Vec<_> = org
                    .auth_tokens
                    .values()
                    .filter(|t| t.is_active(now))
                    .collect();
                tokens.sort_by_key(|t| std::cmp::Reverse(t.seq));
                json!({
                    "id": org.id,
                    "secretKey": org.secret_key,
                    "publishableKey": org.publishable_key,
                    "customers": org.customers,
                    "options": {"otpRequired": org.options.otp_required},
                    "credentials": credentials.iter().map(|c| json!({
                        "id": c.id,
                        "username": c.username,
                        "customerId": c.customer_id,
                        "expiredTime": c.expired_time.map(rfc3339),
                    })).collect::<Vec<_>>(),
                    "tokens": tokens.iter().map(|t| json!({
                        // A prefix identifies the token on the page; the value stays out of it.
                        "token": format!("{}…", t.token.chars().take(8).collect::<String>()),
                        "username": t.username,
                        "customerId": t.customer_id,
                        "otpRequired": t.otp_required,
                        "expiredTime": t.expired_time.map(rfc3339),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect()
    };
    let outbox =
        serde_json::from_slice::<Value>(&outbox(emulator, None).body).unwrap_or(Value::Null);
    let journal: Vec<Value> = lock(&emulator.shared.journal)
        .entries
        .iter()
        .rev()
        .take(50)
        .map(journal_entry)
        .collect();
    Reply::json(
        StatusCode::OK,
        &json!({
            "now": rfc3339(now),
            "organizations": organizations,
            "outbox": outbox,
            "journal": journal,
        }),
    )
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
