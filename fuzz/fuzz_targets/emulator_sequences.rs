//! Sequences of requests to ONE emulator (in process, as an `HttpTransport`): options writes
//! with extreme TTLs, then credential creates and upserts, logins, verifies, logouts,
//! exchanges, reset-password tokens, lists with extreme `limit`/`offset`, deletes, clock
//! jumps and raw requests, each step able to use what earlier answers created (ids, tokens,
//! JWTs, one-time passwords), and calls of the control API under `/__emulator/` (clock advances
//! with any `u64`, outbox, journal, faults added, listed and cleared, snapshot and restore,
//! reset, behaviours, raw control requests with any method, `Host` and body). Nothing panics;
//! every answer is JSON or an empty 204 (or 200 to `HEAD`) with a status the emulator documents
//! (never 500); the stored records, the journal and the counters stay within their bounds; a
//! clock advance either moves the clock by exactly that much or is a 422 that moves nothing;
//! the journal never holds a token.
#![no_main]

use std::cell::Cell;
use std::sync::LazyLock;
use std::time::Duration;

use arbitrary::{Arbitrary, Unstructured};
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use rebilly_auth_core::HttpTransport;
use rebilly_auth_emulator::Emulator;
use rebilly_auth_emulator::ControlApi;
use rebilly_auth_core::OperationId;
use rebilly_auth_core::routes::ROUTE_TEMPLATES;
use serde_json::{Value, json};

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
});

const ORG: &str = "org";
const SK: &str = "sk_fuzz";
const PK: &str = "pk_fuzz";
const CAP: usize = 3;
const JOURNAL: usize = 16;
const MAX_STEPS: usize = 64;
const USERS: [&str; 4] = ["ada", "bob", "eve", "kim"];
const PASSWORDS: [&str; 3] = ["pw", "pw2", "Passw0rd!"];
const STATUSES: [u16; 10] = [200, 201, 204, 401, 403, 404, 405, 409, 422, 429];
const CONTROL_STATUSES: [u16; 10] = [200, 201, 204, 303, 400, 401, 403, 404, 405, 422];
const CONTROL_PATHS: [&str; 14] = [
    "", "/", "/health", "/overview", "/outbox", "/clock", "/clock/advance", "/reset", "/faults",
    "/journal", "/state", "/behaviours", "/customers", "/nope",
];
const HOSTS: [&str; 5] = ["127.0.0.1:1", "localhost", "[::1]:8080", "evil.example", ""];
const FAULT_KINDS: [&str; 12] = [
    "status", "statusAfterProcessing", "rateLimited", "delay", "dropBeforeProcessing",
    "dropAfterProcessing", "truncatedBody", "malformedJson", "wrongContentType", "emptyBody",
    "oversizedBody", "nope",
];
const BEHAVIOURS: [(&str, &[&str]); 5] = [
    ("wrongPassword", &["unauthorized", "unprocessable-entity", "401", "nope"]),
    ("errorContentType", &["json", "problem-json"]),
    ("optionsUpdate", &["merge", "replace"]),
    ("pagination", &["clamp", "reject"]),
    ("nullExpiredTime", &["default-lifetime", "reject", "never-expires"]),
];

#[derive(Arbitrary, Debug)]
enum Ttl {
    Int(i64),
    Unsigned(u64),
    Float(f64),
    Text(String),
    Null,
    Zero,
    Max,
    Json(String),
}

impl Ttl {
    fn value(&self) -> Value {
        match self {
            Ttl::Int(n) => json!(n),
            Ttl::Unsigned(n) => json!(n),
            Ttl::Float(f) => json!(f),
            Ttl::Text(s) => json!(s),
            Ttl::Null => Value::Null,
            Ttl::Zero => json!(0),
            Ttl::Max => json!(i64::MAX),
            Ttl::Json(raw) => serde_json::from_str(raw).unwrap_or(Value::Null),
        }
    }
}

#[derive(Debug)]
enum Expiry {
    Absent,
    Null,
    Past,
    Soon,
    EndOfTime,
    Text(String),
    Number(i64),
}

impl Expiry {
    fn apply(&self, body: &mut Value, emulator: &Emulator) {
        let value = match self {
            Expiry::Absent => return,
            Expiry::Null => Value::Null,
            Expiry::Past => json!("2000-01-01T00:00:00Z"),
            Expiry::Soon => emulator
                .clock()
                .now()
                .checked_add(time::Duration::hours(1))
                .and_then(|at| {
                    at.format(&time::format_description::well_known::Rfc3339)
                        .ok()
                })
                .map_or(Value::Null, Value::String),
            Expiry::EndOfTime => json!("9999-12-31T23:59:59-23:59"),
            Expiry::Text(s) => json!(s),
            Expiry::Number(n) => json!(n),
        };
        body["expiredTime"] = value;
    }
}

#[derive(Debug)]
enum Auth {
    Secret,
    Publishable,
    Jwt(u8),
    Nobody,
    Garbage(String),
}

#[derive(Debug)]
enum Step {
    Options {
        field: u8,
        ttl: Ttl,
        otp: Option<bool>,
        pattern: Option<Option<String>>,
    },
    CreateCredential {
        user: u8,
        password: u8,
        expired: Expiry,
    },
    UpsertCredential {
        credential: u8,
        user: u8,
        password: u8,
        expired: Expiry,
    },
    Login {
        /// A credential created so far (by index), or one of [`USERS`] when there is none.
        user: u8,
        /// `None`: the credential's password; `Some`: one of [`PASSWORDS`].
        password: Option<u8>,
        passwordless: bool,
        otp: Option<bool>,
        expired: Expiry,
        auth: Auth,
    },
    Verify {
        token: u8,
        auth: Auth,
    },
    Logout {
        token: u8,
        auth: Auth,
    },
    Exchange {
        token: u8,
        invalidate: Option<bool>,
        wrong_otp: bool,
        expired: Expiry,
        claims: Option<String>,
        auth: Auth,
    },
    ResetCreate {
        user: u8,
        expired: Expiry,
    },
    ResetGet(u8),
    ResetDelete(u8),
    List {
        route: u8,
        limit: String,
        offset: String,
        auth: Auth,
    },
    DeleteCredential(u8),
    Advance(u64),
    /// `POST /__emulator/clock/advance` with any number of seconds.
    ControlAdvance(u64),
    ControlOutbox,
    ControlJournal,
    /// Adds a fault (any kind, any numbers), lists, then clears them all.
    ControlFault {
        kind: u8,
        number: u64,
        operation: Option<String>,
        times: u64,
    },
    ControlSnapshotRestore,
    ControlReset,
    ControlBehaviour {
        which: u8,
        setting: u8,
    },
    ControlRaw {
        method: u8,
        path: u8,
        host: u8,
        deliberate: bool,
        body: Vec<u8>,
    },
    Raw {
        method: u8,
        route: u8,
        param: String,
        body: Vec<u8>,
        auth: Auth,
    },
}

// Compact decoding: one byte picks a variant (derived enums spend four), and an exhausted input
// decodes as zeros, so the variants a sequence needs to go deep (the secret key, no
// `expiredTime`, the right password and one-time password) are the zero ones.

impl<'a> Arbitrary<'a> for Expiry {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(match u8::arbitrary(u)? % 12 {
            0..=4 => Expiry::Absent,
            5 => Expiry::Null,
            6 => Expiry::Past,
            7 => Expiry::Soon,
            8 => Expiry::EndOfTime,
            9 | 10 => Expiry::Text(u.arbitrary()?),
            _ => Expiry::Number(u.arbitrary()?),
        })
    }
}

impl<'a> Arbitrary<'a> for Auth {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(match u8::arbitrary(u)? % 10 {
            0..=4 => Auth::Secret,
            5 | 6 => Auth::Publishable,
            7 => Auth::Jwt(u.arbitrary()?),
            8 => Auth::Nobody,
            _ => Auth::Garbage(u.arbitrary()?),
        })
    }
}

/// A clock jump: mostly the lifetimes that matter (a second, an hour, a day), sometimes anything.
fn jump(u: &mut Unstructured<'_>) -> arbitrary::Result<u64> {
    Ok(match u8::arbitrary(u)? % 8 {
        0 => 1,
        1 => 3_601,
        2 => 86_401,
        3 => 2 * 86_400 + 1,
        4 => u64::MAX,
        5 => 3_155_760_000,
        _ => u.arbitrary()?,
    })
}

impl<'a> Arbitrary<'a> for Step {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(match u8::arbitrary(u)? % 30 {
            0 | 1 => Step::Options {
                field: u.arbitrary()?,
                ttl: u.arbitrary()?,
                otp: u.arbitrary()?,
                pattern: u.arbitrary()?,
            },
            2..=4 => Step::CreateCredential {
                user: u.arbitrary()?,
                password: u.arbitrary()?,
                expired: u.arbitrary()?,
            },
            5 => Step::UpsertCredential {
                credential: u.arbitrary()?,
                user: u.arbitrary()?,
                password: u.arbitrary()?,
                expired: u.arbitrary()?,
            },
            6..=8 => Step::Login {
                user: u.arbitrary()?,
                password: u.arbitrary()?,
                passwordless: u.arbitrary()?,
                otp: u.arbitrary()?,
                expired: u.arbitrary()?,
                auth: u.arbitrary()?,
            },
            9 => Step::Verify {
                token: u.arbitrary()?,
                auth: u.arbitrary()?,
            },
            10 => Step::Logout {
                token: u.arbitrary()?,
                auth: u.arbitrary()?,
            },
            11..=13 => Step::Exchange {
                token: u.arbitrary()?,
                invalidate: u.arbitrary()?,
                wrong_otp: u.arbitrary()?,
                expired: u.arbitrary()?,
                claims: u.arbitrary()?,
                auth: u.arbitrary()?,
            },
            14 => Step::ResetCreate {
                user: u.arbitrary()?,
                expired: u.arbitrary()?,
            },
            15 => Step::ResetGet(u.arbitrary()?),
            16 => Step::ResetDelete(u.arbitrary()?),
            17 => Step::List {
                route: u.arbitrary()?,
                limit: u.arbitrary()?,
                offset: u.arbitrary()?,
                auth: u.arbitrary()?,
            },
            18 => Step::DeleteCredential(u.arbitrary()?),
            19 => Step::Advance(jump(u)?),
            20 => Step::ControlAdvance(jump(u)?),
            21 => Step::ControlOutbox,
            22 => Step::ControlJournal,
            23 => Step::ControlFault {
                kind: u.arbitrary()?,
                number: u.arbitrary()?,
                operation: u.arbitrary()?,
                times: u.arbitrary()?,
            },
            24 => Step::ControlSnapshotRestore,
            25 => Step::ControlReset,
            26 => Step::ControlBehaviour {
                which: u.arbitrary()?,
                setting: u.arbitrary()?,
            },
            27 => Step::ControlRaw {
                method: u.arbitrary()?,
                path: u.arbitrary()?,
                host: u.arbitrary()?,
                deliberate: u.arbitrary()?,
                body: u.arbitrary()?,
            },
            _ => Step::Raw {
                method: u.arbitrary()?,
                route: u.arbitrary()?,
                param: u.arbitrary()?,
                body: u.arbitrary()?,
                auth: u.arbitrary()?,
            },
        })
    }
}

#[derive(Default)]
struct Pool {
    /// (id, username, password)
    credentials: Vec<(String, String, String)>,
    /// (token, username)
    auth_tokens: Vec<(String, String)>,
    reset_tokens: Vec<String>,
    jwts: Vec<String>,
    /// Requests sent whose path matched a route (what the counters must add up to).
    routed: Cell<usize>,
}

fn pick<T: Clone>(list: &[T], i: u8) -> Option<T> {
    (!list.is_empty()).then(|| list[usize::from(i) % list.len()].clone())
}

fn user(i: u8) -> &'static str {
    USERS[usize::from(i) % USERS.len()]
}

/// Sends one request and checks the answer rules; returns the status and JSON body.
fn send(
    emulator: &Emulator,
    pool: &Pool,
    method: &str,
    path: &str,
    auth: &Auth,
    body: Option<Vec<u8>>,
) -> Option<(u16, Value)> {
    let uri = http::Uri::try_from(format!("/organizations/{ORG}{path}")).ok()?;
    let mut builder = http::Request::builder().method(method).uri(uri);
    builder = match auth {
        Auth::Secret => builder.header("reb-apikey", SK),
        Auth::Publishable => builder.header("authorization", PK),
        Auth::Jwt(i) => {
            let jwt = pick(&pool.jwts, *i).unwrap_or_else(|| "a.b.c".into());
            builder.header("authorization", format!("Bearer {jwt}"))
        }
        Auth::Nobody => builder,
        Auth::Garbage(value) => builder.header("authorization", value.as_str()),
    };
    if body.is_some() {
        builder = builder.header("content-type", "application/json");
    }
    let request = builder.body(Bytes::from(body.unwrap_or_default())).ok()?;
    let response = RUNTIME
        .block_on(emulator.send(request))
        .expect("no fault was injected: every request gets an answer");
    if emulator
        .request_log()
        .last()
        .is_some_and(|entry| entry.operation.is_some())
    {
        pool.routed.set(pool.routed.get() + 1);
    }
    let status = response.status().as_u16();
    assert!(
        STATUSES.contains(&status),
        "{method} {path}: undocumented status {status}: {:?}",
        response.body()
    );
    let body = response.body();
    if body.is_empty() {
        assert!(
            status == 204 || method == "HEAD",
            "{method} {path}: an empty body with {status}"
        );
        return Some((status, Value::Null));
    }
    assert_ne!(method, "HEAD", "{path}: HEAD answered with a body");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok());
    assert!(
        content_type == Some("application/json")
            || (status >= 400 && content_type == Some("application/problem+json")),
        "{method} {path}: {content_type:?}"
    );
    let json: Value = serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("{method} {path}: {status} body is not JSON ({e}): {body:?}"));
    if status >= 400 {
        assert_eq!(json["status"], json!(status), "{method} {path}: {json}");
        if status == 422 {
            assert!(
                json["invalidFields"]
                    .as_array()
                    .is_some_and(|f| !f.is_empty()),
                "{method} {path}: 422 without invalidFields: {json}"
            );
        }
    }
    Some((status, json))
}

/// Sends one control request (never journaled, never counted); checks the answer's rules.
fn control(
    emulator: &Emulator,
    method: &str,
    path: &str,
    host: &str,
    deliberate: bool,
    body: Vec<u8>,
) -> Option<(u16, Value)> {
    let uri = http::Uri::try_from(format!("/__emulator{path}")).ok()?;
    let mut builder = http::Request::builder().method(method).uri(uri);
    if !host.is_empty() {
        builder = builder.header("host", host);
    }
    if deliberate {
        builder = builder.header("x-emulator-control", "1");
    }
    let request = builder.body(Bytes::from(body)).ok()?;
    let before = emulator.request_log().len();
    let response = RUNTIME
        .block_on(emulator.send(request))
        .expect("the control API always answers");
    // Control requests are not journaled (a reset or a journal clear empties it).
    assert!(emulator.request_log().len() <= before, "a control request was journaled");
    let status = response.status().as_u16();
    assert!(
        CONTROL_STATUSES.contains(&status),
        "{method} /__emulator{path}: status {status}: {:?}",
        response.body()
    );
    assert!(
        !response
            .headers()
            .keys()
            .any(|name| name.as_str().starts_with("access-control-")),
        "control answers never carry CORS headers"
    );
    if !(host.starts_with("127.") || host.starts_with("localhost") || host.starts_with("[::1]")) {
        assert_eq!(status, 403, "{host}: a non-loopback Host is refused");
    }
    let is_write = method != "GET" && method != "HEAD";
    if is_write && !deliberate {
        assert_eq!(status, 403, "{method} without X-Emulator-Control");
    }
    let body = response.body();
    if body.is_empty() {
        return Some((status, Value::Null));
    }
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.starts_with("text/") {
        return Some((status, Value::Null));
    }
    let json: Value = serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("{method} {path}: {status} body is not JSON ({e})"));
    Some((status, json))
}

fn ok_control(emulator: &Emulator, method: &str, path: &str, body: &Value) -> (u16, Value) {
    let body = if body.is_null() { Vec::new() } else { body.to_string().into_bytes() };
    control(emulator, method, path, "127.0.0.1:8080", true, body).expect("a valid URI")
}

fn json_body(value: &Value) -> Option<Vec<u8>> {
    Some(value.to_string().into_bytes())
}

/// Runs one step.
fn run(emulator: &Emulator, pool: &mut Pool, step: &Step) {
    let secret = Auth::Secret;
    let mut sent_password = None;
    let answer = match step {
        Step::Options {
            field,
            ttl,
            otp,
            pattern,
        } => {
            let name = ["credentialTtl", "authTokenTtl", "resetTokenTtl"][usize::from(*field) % 3];
            let mut body = json!({ name: ttl.value() });
            if let Some(otp) = otp {
                body["otpRequired"] = json!(otp);
            }
            if let Some(pattern) = pattern {
                body["passwordPattern"] = json!(pattern);
            }
            let answer = send(
                emulator,
                pool,
                "PUT",
                "/authentication-options",
                &secret,
                json_body(&body),
            );
            if let Some((200, options)) = &answer {
                // A TTL the emulator took is one it can add to any time without panicking.
                let ttl = options[name].as_i64().unwrap_or(-1);
                assert!((0..=3_155_760_000).contains(&ttl), "{options}");
            }
            answer.map(|a| ("options", a))
        }
        Step::CreateCredential {
            user: u,
            password,
            expired,
        } => {
            let u = user(*u);
            let password = PASSWORDS[usize::from(*password) % PASSWORDS.len()];
            sent_password = Some(password.to_owned());
            let mut body = json!({
                "username": u,
                "password": password,
                "customerId": format!("cus_{u}"),
            });
            expired.apply(&mut body, emulator);
            send(
                emulator,
                pool,
                "POST",
                "/credentials",
                &secret,
                json_body(&body),
            )
            .map(|a| ("credential", a))
        }
        Step::UpsertCredential {
            credential,
            user: u,
            password,
            expired,
        } => {
            let id = pick(&pool.credentials, *credential)
                .map_or_else(|| format!("cred-{credential}"), |c| c.0);
            let u = user(*u);
            let password = PASSWORDS[usize::from(*password) % PASSWORDS.len()];
            sent_password = Some(password.to_owned());
            let mut body = json!({
                "username": u,
                "password": password,
                "customerId": format!("cus_{u}"),
            });
            expired.apply(&mut body, emulator);
            send(
                emulator,
                pool,
                "PUT",
                &format!("/credentials/{id}"),
                &secret,
                json_body(&body),
            )
            .map(|a| ("credential", a))
        }
        Step::Login {
            user: u,
            password,
            passwordless,
            otp,
            expired,
            auth,
        } => {
            let (u, right) = pick(&pool.credentials, *u)
                .map_or_else(|| (user(*u).to_owned(), "pw".to_owned()), |c| (c.1, c.2));
            let password = password.map_or(right.as_str(), |p| {
                PASSWORDS[usize::from(p) % PASSWORDS.len()]
            });
            let mut body = if *passwordless {
                json!({"mode": "passwordless", "customerId": format!("cus_{u}")})
            } else {
                json!({"username": u, "password": password})
            };
            if let Some(otp) = otp {
                body["otpRequired"] = json!(otp);
            }
            expired.apply(&mut body, emulator);
            send(
                emulator,
                pool,
                "POST",
                "/authentication-tokens",
                auth,
                json_body(&body),
            )
            .map(|a| ("login", a))
        }
        Step::Verify { token, auth } => {
            let t = pick(&pool.auth_tokens, *token).map_or_else(|| "nope".into(), |t| t.0);
            send(
                emulator,
                pool,
                "GET",
                &format!("/authentication-tokens/{t}"),
                auth,
                None,
            )
            .map(|a| ("", a))
        }
        Step::Logout { token, auth } => {
            let t = pick(&pool.auth_tokens, *token).map_or_else(|| "nope".into(), |t| t.0);
            send(
                emulator,
                pool,
                "DELETE",
                &format!("/authentication-tokens/{t}"),
                auth,
                None,
            )
            .map(|a| ("", a))
        }
        Step::Exchange {
            token,
            invalidate,
            wrong_otp,
            expired,
            claims,
            auth,
        } => {
            let (t, username) =
                pick(&pool.auth_tokens, *token).unwrap_or_else(|| ("nope".into(), "ada".into()));
            let mut body = json!({});
            if let Some(invalidate) = invalidate {
                body["invalidate"] = json!(invalidate);
            }
            if !*wrong_otp && let Some(otp) = emulator.last_otp(ORG, &username) {
                body["oneTimePassword"] = json!(otp);
            }
            if let Some(claims) = claims {
                body["customClaims"] = serde_json::from_str(claims).unwrap_or(json!(claims));
            }
            expired.apply(&mut body, emulator);
            send(
                emulator,
                pool,
                "POST",
                &format!("/authentication-tokens/{t}/exchange"),
                auth,
                json_body(&body),
            )
            .map(|a| ("exchange", a))
        }
        Step::ResetCreate { user: u, expired } => {
            let mut body = json!({"username": user(*u)});
            expired.apply(&mut body, emulator);
            send(
                emulator,
                pool,
                "POST",
                "/password-tokens",
                &secret,
                json_body(&body),
            )
            .map(|a| ("reset", a))
        }
        Step::ResetGet(token) => {
            let t = pick(&pool.reset_tokens, *token).unwrap_or_else(|| "nope".into());
            send(
                emulator,
                pool,
                "GET",
                &format!("/password-tokens/{t}"),
                &secret,
                None,
            )
            .map(|a| ("", a))
        }
        Step::ResetDelete(token) => {
            let t = pick(&pool.reset_tokens, *token).unwrap_or_else(|| "nope".into());
            send(
                emulator,
                pool,
                "DELETE",
                &format!("/password-tokens/{t}"),
                &secret,
                None,
            )
            .map(|a| ("", a))
        }
        Step::List {
            route,
            limit,
            offset,
            auth,
        } => {
            let route = ["/authentication-tokens", "/credentials", "/password-tokens"]
                [usize::from(*route) % 3];
            let answer = send(
                emulator,
                pool,
                "GET",
                &format!("{route}?limit={limit}&offset={offset}"),
                auth,
                None,
            );
            if let Some((200, items)) = &answer {
                assert!(items.as_array().is_some_and(|items| items.len() <= 1000));
            }
            answer.map(|a| ("", a))
        }
        Step::DeleteCredential(credential) => {
            let id = pick(&pool.credentials, *credential).map_or_else(|| "nope".into(), |c| c.0);
            send(
                emulator,
                pool,
                "DELETE",
                &format!("/credentials/{id}"),
                &secret,
                None,
            )
            .map(|a| ("", a))
        }
        Step::Advance(seconds) => {
            emulator.clock().advance(Duration::from_secs(*seconds));
            return;
        }
        Step::ControlAdvance(seconds) => {
            let before = emulator.clock().now();
            let (status, json) = ok_control(
                emulator,
                "POST",
                "/clock/advance",
                &json!({ "seconds": seconds }),
            );
            let after = emulator.clock().now();
            match status {
                200 => {
                    assert_eq!(
                        (after - before).whole_seconds().unsigned_abs(),
                        *seconds,
                        "{json}"
                    );
                }
                422 => assert_eq!(before, after, "a refused advance moves nothing"),
                other => panic!("clock advance answered {other}: {json}"),
            }
            return;
        }
        Step::ControlOutbox => {
            let (status, json) = ok_control(emulator, "GET", "/outbox", &Value::Null);
            assert_eq!(status, 200);
            let sent = json.as_array().expect("an array");
            for entry in sent {
                let otp = entry["oneTimePassword"].as_str().unwrap_or("");
                assert!(otp.len() == 6 && otp.bytes().all(|b| b.is_ascii_digit()), "{entry}");
            }
            if let Some(newest) = sent.first() {
                let username = newest["username"].as_str().unwrap_or("");
                assert_eq!(
                    emulator.last_otp(ORG, username).as_deref(),
                    newest["oneTimePassword"].as_str()
                );
            }
            return;
        }
        Step::ControlJournal => {
            let (status, json) = ok_control(emulator, "GET", "/journal", &Value::Null);
            assert_eq!(status, 200);
            let text = json.to_string();
            assert!(json.as_array().is_some_and(|j| j.len() <= JOURNAL));
            for (token, _) in &pool.auth_tokens {
                assert!(!text.contains(token.as_str()), "the journal holds a token");
            }
            for token in &pool.reset_tokens {
                assert!(!text.contains(token.as_str()), "the journal holds a reset token");
            }
            return;
        }
        Step::ControlFault {
            kind,
            number,
            operation,
            times,
        } => {
            let kind = FAULT_KINDS[usize::from(*kind) % FAULT_KINDS.len()];
            let mut fault = json!({"kind": kind});
            for member in ["status", "retryAfterSeconds", "milliseconds", "bytes"] {
                fault[member] = json!(number);
            }
            let mut body = json!({"fault": fault, "times": times});
            if let Some(operation) = operation {
                body["operation"] = json!(operation);
            }
            let (status, json) = ok_control(emulator, "POST", "/faults", &body);
            assert!(status == 201 || status == 422, "{status}: {json}");
            let (status, listed) = ok_control(emulator, "GET", "/faults", &Value::Null);
            assert_eq!(status, 200);
            assert!(listed.as_array().is_some_and(|l| l.len() <= 1));
            assert_eq!(ok_control(emulator, "DELETE", "/faults", &Value::Null).0, 204);
            assert_eq!(emulator.pending_faults(), 0);
            return;
        }
        Step::ControlSnapshotRestore => {
            let before = emulator.stored_records(ORG);
            let snapshot = emulator.snapshot().to_json();
            let uri = "/state";
            let answer = control(emulator, "PUT", uri, "localhost", true, snapshot)
                .expect("a valid URI");
            assert_eq!(answer.0, 204, "{:?}", answer.1);
            assert_eq!(emulator.stored_records(ORG), before);
            return;
        }
        Step::ControlReset => {
            assert_eq!(ok_control(emulator, "POST", "/reset", &Value::Null).0, 204);
            // Reset clears the journal's counters too.
            pool.routed.set(0);
            assert_eq!(emulator.stored_records(ORG).map(|r| r.credentials), Some(0));
            return;
        }
        Step::ControlBehaviour { which, setting } => {
            let (name, settings) = BEHAVIOURS[usize::from(*which) % BEHAVIOURS.len()];
            let setting = settings[usize::from(*setting) % settings.len()];
            let (status, json) =
                ok_control(emulator, "PUT", "/behaviours", &json!({ name: setting }));
            assert!(status == 200 || (status == 422 && setting == "nope"), "{status}: {json}");
            return;
        }
        Step::ControlRaw {
            method,
            path,
            host,
            deliberate,
            body,
        } => {
            let method = ["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"]
                [usize::from(*method) % 7];
            let path = CONTROL_PATHS[usize::from(*path) % CONTROL_PATHS.len()];
            let host = HOSTS[usize::from(*host) % HOSTS.len()];
            if method != "GET" && method != "HEAD" && (path == "/reset" || path == "/journal") {
                // A reset or a journal clear resets the counters the final check adds up.
                return;
            }
            control(emulator, method, path, host, *deliberate, body.clone());
            // A fault a raw body added must not reach the API steps (they expect answers).
            emulator.clear_faults();
            return;
        }
        Step::Raw {
            method,
            route,
            param,
            body,
            auth,
        } => {
            let method = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "FOO", "OPTIONS"]
                [usize::from(*method) % 8];
            let route = ROUTE_TEMPLATES[usize::from(*route) % ROUTE_TEMPLATES.len()];
            let path = route
                .replace("{token}", param)
                .replace("{id}", param);
            send(emulator, pool, method, &path, auth, Some(body.clone())).map(|a| ("", a))
        }
    };
    let Some((what, (status, json))) = answer else {
        return; // not a valid URI: never sent
    };
    if status == 201 || (status == 200 && what == "credential") {
        let text = |member: &str| json[member].as_str().map(str::to_owned);
        match what {
            "credential" => {
                if let (Some(id), Some(username)) = (text("id"), text("username")) {
                    let password = sent_password.unwrap_or_default();
                    pool.credentials.retain(|c| c.0 != id);
                    pool.credentials.push((id, username, password));
                }
            }
            "login" => {
                if let (Some(token), Some(username)) = (text("token"), text("username")) {
                    pool.auth_tokens.push((token, username));
                }
            }
            "exchange" => pool.jwts.extend(text("token")),
            "reset" => pool.reset_tokens.extend(text("token")),
            _ => {}
        }
    }
}

fuzz_target!(|steps: Vec<Step>| {
    let emulator = Emulator::builder()
        .add_organization(ORG, SK, Some(PK))
        .max_records_per_kind(CAP)
        .journal_capacity(JOURNAL)
        .control_api(ControlApi::new())
        .cors_origin("http://localhost:3000")
        .build();
    let mut pool = Pool::default();
    for step in steps.iter().take(MAX_STEPS) {
        run(&emulator, &mut pool, step);
        let stored = emulator
            .stored_records(ORG)
            .expect("the organization exists");
        assert!(
            stored.credentials <= CAP
                && stored.authentication_tokens <= CAP
                && stored.reset_password_tokens <= CAP
                && stored.sessions <= CAP,
            "{stored:?}"
        );
        assert!(emulator.request_log().len() <= JOURNAL);
    }
    // The counters are never evicted: they add up to every request sent.
    let counted: usize = OperationId::ALL
        .iter()
        .map(|&op| emulator.requests_seen(op))
        .sum();
    assert_eq!(counted, pool.routed.get());
});
