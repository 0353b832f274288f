//! Hostile sequences of requests against ONE emulator: nothing panics, every connection gets an
//! answer, and memory stays bounded (caps, purging, the journal ring buffer, HTTP limits).

mod support;

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::Duration;

use http::Method;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use rebilly_auth_core::HttpTransport;
use rebilly_auth_core::OperationId;
use rebilly_auth_emulator::Emulator;
use rebilly_auth_emulator::{MAX_TTL_SECONDS, ServeOptions};
use serde_json::{Value, json};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

// ---- raw HTTP/1.1 over loopback ----

fn invalid_fields(body: &Value) -> Vec<String> {
    body["invalidFields"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|f| f["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

// ---- the two-step panic: a huge TTL, then a create ----

/// `PUT /authentication-options` with `credentialTtl: i64::MAX`, then `POST /credentials`: the
/// TTL is refused (422 naming it), the create succeeds with the default TTL (never expires).
/// Before the fix the PUT was accepted and the POST panicked (`now + i64::MAX s`).
#[tokio::test]
async fn huge_credential_ttl_then_create_in_process() {
    let emu = emulator();
    let put = raw(
        &emu,
        Method::PUT,
        &path("/authentication-options"),
        As::Secret(SK),
        Some(json!({"credentialTtl": i64::MAX})),
    )
    .await;
    let created = raw(
        &emu,
        Method::POST,
        &path("/credentials"),
        As::Secret(SK),
        Some(json!({"username": "ada", "password": "pw", "customerId": "cus_ada"})),
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.json()["expiredTime"], Value::Null);
    assert_eq!(put.status, 422, "{:?}", put.body);
    assert_eq!(invalid_fields(&put.json()), ["credentialTtl"]);
}

/// The same over loopback HTTP: both requests get an answer (no dropped connection).
#[tokio::test]
async fn huge_credential_ttl_then_create_over_http() {
    let emu = emulator();
    let server = emu.serve_on_loopback().await.unwrap();
    let body = format!(r#"{{"credentialTtl":{}}}"#, i64::MAX);
    let put = split(
        &exchange(
            server.addr(),
            &request("PUT", &path("/authentication-options"), &body),
        )
        .await,
    );
    let body = r#"{"username":"ada","password":"pw","customerId":"cus_ada"}"#;
    let (status, head, json) =
        split(&exchange(server.addr(), &request("POST", &path("/credentials"), body)).await);
    assert_eq!(
        status, 201,
        "the connection must get an answer: {head}{json}"
    );
    assert!(head.contains("content-type: application/json"));
    let (status, head, json) = put;
    assert_eq!(status, 422, "{head}{json}");
    let json: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(invalid_fields(&json), ["credentialTtl"]);
    server.shutdown().await;
}

/// The other two TTLs, each followed by the write that uses it.
#[tokio::test]
async fn huge_token_ttls_then_login_and_reset_token() {
    let emu = emulator();
    let c = raw(
        &emu,
        Method::POST,
        &path("/credentials"),
        As::Secret(SK),
        Some(json!({"username": "ada", "password": "pw", "customerId": "cus_ada"})),
    )
    .await;
    assert_eq!(c.status, 201);
    for (field, value) in [
        ("authTokenTtl", json!(i64::MAX)),
        ("resetTokenTtl", json!(i64::MAX)),
        ("authTokenTtl", json!(u64::MAX)),
        ("resetTokenTtl", json!(-1)),
        ("authTokenTtl", json!(1.5)),
        ("resetTokenTtl", json!("3600")),
    ] {
        let put = raw(
            &emu,
            Method::PUT,
            &path("/authentication-options"),
            As::Secret(SK),
            Some(json!({ field: value })),
        )
        .await;
        assert_eq!(put.status, 422, "{field}: {value}");
        assert_eq!(invalid_fields(&put.json()), [field]);
    }
    let login = raw(
        &emu,
        Method::POST,
        &path("/authentication-tokens"),
        As::Secret(SK),
        Some(json!({"username": "ada", "password": "pw"})),
    )
    .await;
    assert_eq!(login.status, 201);
    let reset = raw(
        &emu,
        Method::POST,
        &path("/password-tokens"),
        As::Secret(SK),
        Some(json!({"username": "ada"})),
    )
    .await;
    assert_eq!(reset.status, 201);
}

// ---- a stateful property: sequences of hostile requests to ONE emulator ----

const CAP: usize = 2;
const JOURNAL: usize = 8;
const USERS: [&str; 4] = ["ada", "bob", "eve", "kim"];

/// A hostile value for a TTL member.
fn ttl_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!(0)),
        Just(json!(1)),
        Just(json!(-1)),
        Just(json!(i64::MAX)),
        Just(json!(i64::MIN)),
        Just(json!(u64::MAX)),
        Just(json!(MAX_TTL_SECONDS)),
        Just(json!(MAX_TTL_SECONDS + 1)),
        Just(json!(1.5)),
        Just(json!(1e300)),
        Just(json!("3600")),
        Just(json!(null)),
        Just(json!([1])),
        any::<i64>().prop_map(|n| json!(n)),
    ]
}

/// A hostile `expiredTime`: absent, null, past, soon, the last second of year 9999, garbage.
fn expired_time() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        8 => Just(None),
        1 => Just(Some(json!(null))),
        1 => Just(Some(json!("2000-01-01T00:00:00Z"))),
        1 => Just(Some(json!("9999-12-31T23:59:59Z"))),
        1 => Just(Some(json!("9999-12-31T23:59:59-23:59"))),
        1 => Just(Some(json!("0000-01-01T00:00:00+23:59"))),
        1 => Just(Some(json!("soon"))),
        1 => Just(Some(json!(12))),
        1 => Just(Some(Value::String(String::new()))),
        1 => Just(Some(json!("+1h"))), // replaced with now + 1 hour when sent
    ]
}

/// A hostile `limit` or `offset`.
fn page_param() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("-1".to_owned()),
        Just("0".to_owned()),
        Just("5".to_owned()),
        Just("1001".to_owned()),
        Just(i64::MIN.to_string()),
        Just(u64::MAX.to_string()),
        Just("340282366920938463463374607431768211456".to_owned()),
        Just("1e3".to_owned()),
        Just("%20".to_owned()),
        Just("abc".to_owned()),
    ]
}

#[derive(Debug, Clone)]
enum Step {
    Options(usize, Value, Option<bool>),
    CreateCredential(usize, Option<Value>),
    UpsertCredential(usize, usize, bool),
    Login {
        user: usize,
        right_password: bool,
        passwordless: bool,
        otp: Option<bool>,
        expired: Option<Value>,
    },
    /// Three password logins in a row (reaches the per-organization cap).
    LoginBurst(usize),
    Verify(usize),
    Logout(usize),
    Exchange {
        token: usize,
        invalidate: Option<bool>,
        right_otp: bool,
        expired: Option<Value>,
    },
    ResetCreate(usize, Option<Value>),
    ResetGet(usize),
    ResetDelete(usize),
    List(usize, String, String),
    ListAsCustomer(usize),
    DeleteCredential(usize),
    Advance(u64),
    Garbage(usize, usize, Vec<u8>),
}

fn options_step() -> impl Strategy<Value = Step> {
    (
        0usize..3,
        ttl_value(),
        proptest::option::weighted(0.3, any::<bool>()),
    )
        .prop_map(|(f, v, o)| Step::Options(f, v, o))
}

/// Options writes first (extreme TTLs), then everything mixed (more options writes included).
fn sequence() -> impl Strategy<Value = Vec<Step>> {
    (
        proptest::collection::vec(options_step(), 0..4),
        proptest::collection::vec(step(), 1..20),
    )
        .prop_map(|(mut options, rest)| {
            options.extend(rest);
            options
        })
}

fn step() -> impl Strategy<Value = Step> {
    let index = 0usize..8;
    prop_oneof![
        2 => options_step(),
        3 => (index.clone(), expired_time()).prop_map(|(u, e)| Step::CreateCredential(u, e)),
        1 => (index.clone(), index.clone(), any::<bool>())
            .prop_map(|(c, u, p)| Step::UpsertCredential(c, u, p)),
        4 => (index.clone(), proptest::bool::weighted(0.8), proptest::bool::weighted(0.3), proptest::option::weighted(0.3, any::<bool>()), expired_time())
            .prop_map(|(user, right_password, passwordless, otp, expired)| Step::Login {
                user, right_password, passwordless, otp, expired,
            }),
        1 => index.clone().prop_map(Step::LoginBurst),
        1 => index.clone().prop_map(Step::Verify),
        1 => index.clone().prop_map(Step::Logout),
        4 => (index.clone(), proptest::option::of(any::<bool>()), proptest::bool::weighted(0.8), expired_time())
            .prop_map(|(token, invalidate, right_otp, expired)| Step::Exchange {
                token, invalidate, right_otp, expired,
            }),
        2 => (index.clone(), expired_time()).prop_map(|(u, e)| Step::ResetCreate(u, e)),
        1 => index.clone().prop_map(Step::ResetGet),
        1 => index.clone().prop_map(Step::ResetDelete),
        2 => (0usize..3, page_param(), page_param()).prop_map(|(r, l, o)| Step::List(r, l, o)),
        1 => index.clone().prop_map(Step::ListAsCustomer),
        1 => index.clone().prop_map(Step::DeleteCredential),
        1 => prop_oneof![
            Just(1u64),
            Just(3600),
            Just(86_400 * 2),
            Just(u64::MAX),
            any::<u64>(),
        ]
        .prop_map(Step::Advance),
        1 => (0usize..4, 0usize..8, proptest::collection::vec(any::<u8>(), 0..40))
            .prop_map(|(m, r, b)| Step::Garbage(m, r, b)),
    ]
}

/// What the sequence learnt from the answers.
#[derive(Default)]
struct Pool {
    /// (id, username)
    credentials: Vec<(String, String)>,
    auth_tokens: Vec<(String, String)>,
    reset_tokens: Vec<String>,
    jwts: Vec<String>,
}

impl Pool {
    /// A username of a credential created so far (index 7, or none created: an unknown one).
    fn username(&self, i: usize) -> String {
        match pick(&self.credentials, i) {
            Some((_, username)) if i != 7 => username,
            _ => "nobody".into(),
        }
    }
}

fn pick<T: Clone>(list: &[T], i: usize) -> Option<T> {
    (!list.is_empty()).then(|| list[i % list.len()].clone())
}

fn with_expiry(mut body: Value, expired: Option<Value>, emu: &Emulator) -> Value {
    if let Some(mut at) = expired {
        if at == json!("+1h") {
            // The clock may have been advanced to its end: no `+` here either.
            at = emu
                .clock()
                .now()
                .checked_add(time::Duration::hours(1))
                .and_then(|later| {
                    later
                        .format(&time::format_description::well_known::Rfc3339)
                        .ok()
                })
                .map_or(json!("9999-12-31T23:59:59Z"), Value::String);
        }
        body["expiredTime"] = at;
    }
    body
}

/// Checks one answer against the rules; returns its JSON body (or `Null` when empty).
fn check(what: &str, r: &Raw) -> Result<Value, TestCaseError> {
    let status = r.status.as_u16();
    prop_assert!(
        [200, 201, 204, 401, 403, 404, 405, 409, 422, 429].contains(&status),
        "{what}: undocumented status {status}: {:?}",
        r.body
    );
    if status == 204 {
        prop_assert!(r.body.is_empty(), "{what}: 204 with a body");
        return Ok(Value::Null);
    }
    prop_assert_eq!(
        r.header("content-type"),
        Some("application/json"),
        "{}",
        what
    );
    let json: Value = serde_json::from_slice(&r.body)
        .map_err(|e| TestCaseError::fail(format!("{what}: {status} body is not JSON: {e}")))?;
    if status >= 400 {
        prop_assert_eq!(
            &json["status"],
            &json!(status),
            "{}: problem body {}",
            what,
            json
        );
        if status == 422 {
            prop_assert!(
                json["invalidFields"]
                    .as_array()
                    .is_some_and(|fields| !fields.is_empty()),
                "{what}: 422 without invalidFields: {json}"
            );
        }
    }
    Ok(json)
}

async fn run_step(
    emu: &Emulator,
    pool: &mut Pool,
    step: &Step,
    seen: &Mutex<BTreeSet<(&'static str, u16)>>,
) -> Result<(), TestCaseError> {
    let secret = As::Secret(SK);
    let what = format!("{step:?}");
    let (r, route) = match step.clone() {
        Step::Options(field, value, otp) => {
            let name = ["credentialTtl", "authTokenTtl", "resetTokenTtl"][field];
            let mut body = json!({ name: value.clone() });
            if let Some(otp) = otp {
                body["otpRequired"] = json!(otp);
            }
            let r = call(emu, Method::PUT, "/authentication-options", Some(body)).await;
            let in_range = value.is_null()
                || value
                    .as_i64()
                    .is_some_and(|n| (0..=MAX_TTL_SECONDS).contains(&n));
            prop_assert_eq!(
                r.status.as_u16(),
                if in_range { 200 } else { 422 },
                "{}",
                what
            );
            (r, "options")
        }
        Step::CreateCredential(user, expired) => {
            let u = USERS[user % USERS.len()];
            let body = with_expiry(
                json!({"username": u, "password": "pw", "customerId": format!("cus_{u}")}),
                expired,
                emu,
            );
            (
                call(emu, Method::POST, "/credentials", Some(body)).await,
                "credential",
            )
        }
        Step::UpsertCredential(cred, user, same_password) => {
            let id = pick(&pool.credentials, cred).map_or_else(|| format!("cred-{cred}"), |c| c.0);
            let u = USERS[user % USERS.len()];
            let password = if same_password { "pw" } else { "pw2" };
            let body =
                json!({"username": u, "password": password, "customerId": format!("cus_{u}")});
            let r = call(emu, Method::PUT, &format!("/credentials/{id}"), Some(body)).await;
            (r, "credential")
        }
        Step::Login {
            user,
            right_password,
            passwordless,
            otp,
            expired,
        } => {
            let u = pool.username(user);
            let u = u.as_str();
            let mut body = if passwordless {
                json!({"mode": "passwordless", "customerId": format!("cus_{u}")})
            } else {
                json!({"username": u, "password": if right_password { "pw" } else { "nope" }})
            };
            if let Some(otp) = otp {
                body["otpRequired"] = json!(otp);
            }
            let body = with_expiry(body, expired, emu);
            (
                call(emu, Method::POST, "/authentication-tokens", Some(body)).await,
                "login",
            )
        }
        Step::LoginBurst(user) => {
            let body = json!({"username": pool.username(user), "password": "pw"});
            for _ in 0..3 {
                let p = path("/authentication-tokens");
                let r = raw(emu, Method::POST, &p, secret, Some(body.clone())).await;
                absorb(&what, &r, "login", pool, seen)?;
            }
            return Ok(());
        }
        Step::Verify(token) => {
            let t = pick(&pool.auth_tokens, token).map_or("nope".into(), |t| t.0);
            (
                raw(
                    emu,
                    Method::GET,
                    &path(&format!("/authentication-tokens/{t}")),
                    As::Publishable(PK),
                    None,
                )
                .await,
                "",
            )
        }
        Step::Logout(token) => {
            let t = pick(&pool.auth_tokens, token).map_or("nope".into(), |t| t.0);
            (
                call(
                    emu,
                    Method::DELETE,
                    &format!("/authentication-tokens/{t}"),
                    None,
                )
                .await,
                "",
            )
        }
        Step::Exchange {
            token,
            invalidate,
            right_otp,
            expired,
        } => {
            let (t, user) = pick(&pool.auth_tokens, token).unwrap_or(("nope".into(), "ada".into()));
            let mut body = json!({});
            if let Some(invalidate) = invalidate {
                body["invalidate"] = json!(invalidate);
            }
            if right_otp && let Some(otp) = emu.last_otp(ORG, &user) {
                body["oneTimePassword"] = json!(otp);
            }
            let body = with_expiry(body, expired, emu);
            let r = call(
                emu,
                Method::POST,
                &format!("/authentication-tokens/{t}/exchange"),
                Some(body),
            )
            .await;
            (r, "exchange")
        }
        Step::ResetCreate(user, expired) => {
            let body = with_expiry(json!({"username": pool.username(user)}), expired, emu);
            (
                call(emu, Method::POST, "/password-tokens", Some(body)).await,
                "reset",
            )
        }
        Step::ResetGet(token) => {
            let t = pick(&pool.reset_tokens, token).unwrap_or_else(|| "nope".into());
            (
                call(emu, Method::GET, &format!("/password-tokens/{t}"), None).await,
                "",
            )
        }
        Step::ResetDelete(token) => {
            let t = pick(&pool.reset_tokens, token).unwrap_or_else(|| "nope".into());
            (
                call(emu, Method::DELETE, &format!("/password-tokens/{t}"), None).await,
                "",
            )
        }
        Step::List(route, limit, offset) => {
            let route = ["/authentication-tokens", "/credentials", "/password-tokens"][route];
            let p = path(&format!("{route}?limit={limit}&offset={offset}"));
            let r = raw(emu, Method::GET, &p, secret, None).await;
            if r.status == 200 {
                let used: usize = r
                    .header("pagination-limit")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(usize::MAX);
                prop_assert!(used <= 1000, "{}: limit {}", what, used);
                prop_assert!(r.json().as_array().is_some_and(|items| items.len() <= used));
            }
            (r, "")
        }
        Step::ListAsCustomer(jwt) => {
            let jwt = pick(&pool.jwts, jwt).unwrap_or_else(|| "a.b.c".into());
            (
                raw(
                    emu,
                    Method::GET,
                    &path("/credentials?limit=1000"),
                    As::Bearer(&jwt),
                    None,
                )
                .await,
                "",
            )
        }
        Step::DeleteCredential(cred) => {
            let id = pick(&pool.credentials, cred).map_or_else(|| "nope".into(), |c| c.0);
            (
                call(emu, Method::DELETE, &format!("/credentials/{id}"), None).await,
                "",
            )
        }
        Step::Advance(seconds) => {
            emu.clock().advance(Duration::from_secs(seconds));
            return Ok(());
        }
        Step::Garbage(method, route, body) => {
            let (method, route) = garbage_target(method, route);
            (raw_bytes(emu, method, &path(route), secret, body).await, "")
        }
    };
    absorb(&what, &r, route, pool, seen)
}

/// A request of the property with the secret key, to `route` of the organization.
async fn call(emu: &Emulator, method: Method, route: &str, body: Option<Value>) -> Raw {
    raw(emu, method, &path(route), As::Secret(SK), body).await
}

/// Checks an answer, notes its status, and keeps what a 201 created for later steps.
fn absorb(
    what: &str,
    r: &Raw,
    route: &'static str,
    pool: &mut Pool,
    seen: &Mutex<BTreeSet<(&'static str, u16)>>,
) -> Result<(), TestCaseError> {
    let json = check(what, r)?;
    seen.lock().unwrap().insert((route, r.status.as_u16()));
    if r.status == 201 {
        match route {
            "credential" => {
                if let (Some(id), Some(u)) = (json["id"].as_str(), json["username"].as_str()) {
                    pool.credentials.push((id.to_owned(), u.to_owned()));
                }
            }
            "login" => {
                if let (Some(t), Some(u)) = (json["token"].as_str(), json["username"].as_str()) {
                    pool.auth_tokens.push((t.to_owned(), u.to_owned()));
                }
            }
            "exchange" => pool.jwts.extend(json["token"].as_str().map(str::to_owned)),
            "reset" => pool
                .reset_tokens
                .extend(json["token"].as_str().map(str::to_owned)),
            _ => {}
        }
    }
    Ok(())
}

/// The method and route of a `Step::Garbage`.
fn garbage_target(method: usize, route: usize) -> (Method, &'static str) {
    let method = ["POST", "PUT", "FOO", "PATCH"][method];
    let route = [
        "/authentication-options",
        "/authentication-tokens",
        "/authentication-tokens/x/exchange",
        "/credentials",
        "/credentials/x",
        "/password-tokens",
        "/password-tokens/x",
        "/authentication-tokens/x",
    ][route];
    (
        Method::from_bytes(method.as_bytes()).expect("a valid token"),
        route,
    )
}

/// The per-operation counters must add up to every request of an operation the property sent,
/// although the journal keeps only the last [`JOURNAL`].
fn counted(emu: &Emulator) -> usize {
    OperationId::ALL
        .iter()
        .map(|&op| emu.requests_seen(op))
        .sum()
}

#[test]
fn hostile_sequences_never_crash_one_emulator() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let config = Config {
        failure_persistence: None,
        ..Config::with_cases(96)
    };
    let seen = Mutex::new(BTreeSet::new());
    TestRunner::new(config)
        .run(&sequence(), |steps| {
            rt.block_on(async {
                let emu = Emulator::builder()
                    .add_organization(ORG, SK, Some(PK))
                    .max_records_per_kind(CAP)
                    .journal_capacity(JOURNAL)
                    .build();
                let mut pool = Pool::default();
                let mut sent = 0;
                for step in &steps {
                    run_step(&emu, &mut pool, step, &seen).await?;
                    sent += match step {
                        Step::Advance(_) => 0,
                        Step::LoginBurst(_) => 3,
                        // Methods a route does not serve are no operation: not counted.
                        Step::Garbage(method, route, _) => {
                            let (method, route) = garbage_target(*method, *route);
                            usize::from(OperationId::recognize(&method, route).is_some())
                        }
                        _ => 1,
                    };
                    let stored = emu.stored_records(ORG).unwrap();
                    prop_assert!(
                        stored.credentials <= CAP
                            && stored.authentication_tokens <= CAP
                            && stored.reset_password_tokens <= CAP
                            && stored.sessions <= CAP,
                        "{stored:?}"
                    );
                    prop_assert!(emu.request_log().len() <= JOURNAL);
                    prop_assert_eq!(counted(&emu), sent);
                }
                Ok(())
            })
        })
        .unwrap();
    // The sequences reached the stateful code: writes that succeeded, and caps that answered.
    let seen = seen.into_inner().unwrap();
    for expected in [
        ("options", 200),
        ("options", 422),
        ("credential", 201),
        ("login", 201),
        ("exchange", 201),
        ("reset", 201),
    ] {
        assert!(seen.contains(&expected), "never saw {expected:?}: {seen:?}");
    }
    assert!(
        seen.iter().any(|(_, status)| *status == 429),
        "no cap was reached: {seen:?}"
    );
}

// ---- memory bounds ----

fn new_credential(username: &str) -> Option<Value> {
    Some(json!({"username": username, "password": "pw", "customerId": format!("cus_{username}")}))
}

/// Past the per-organization cap a write answers 429 with a problem body; other kinds and other
/// organizations are unaffected; deleting makes room again.
#[tokio::test]
async fn per_organization_cap_answers_429() {
    let emu = Emulator::builder()
        .add_organization(ORG, SK, Some(PK))
        .add_organization("org-2", "sk_test_2", None)
        .max_records_per_kind(3)
        .build();
    let mut ids = Vec::new();
    for user in ["a", "b", "c"] {
        let r = raw(
            &emu,
            Method::POST,
            &path("/credentials"),
            As::Secret(SK),
            new_credential(user),
        )
        .await;
        assert_eq!(r.status, 201);
        ids.push(r.json()["id"].as_str().unwrap().to_owned());
    }
    let full = raw(
        &emu,
        Method::POST,
        &path("/credentials"),
        As::Secret(SK),
        new_credential("d"),
    )
    .await;
    assert_eq!(full.status, 429, "{:?}", full.body);
    assert_eq!(full.header("content-type"), Some("application/json"));
    let problem = full.json();
    assert_eq!(problem["status"], 429);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("3 credentials"),
        "{problem}"
    );
    // PUT of a new id is a create too; PUT of an existing one is not.
    let put = raw(
        &emu,
        Method::PUT,
        &path("/credentials/new-one"),
        As::Secret(SK),
        new_credential("d"),
    )
    .await;
    assert_eq!(put.status, 429);
    let put = raw(
        &emu,
        Method::PUT,
        &path(&format!("/credentials/{}", ids[0])),
        As::Secret(SK),
        new_credential("a"),
    )
    .await;
    assert_eq!(put.status, 200);
    // Another organization has its own cap.
    let other = raw(
        &emu,
        Method::POST,
        "/organizations/org-2/credentials",
        As::Secret("sk_test_2"),
        new_credential("d"),
    )
    .await;
    assert_eq!(other.status, 201);
    // Authentication tokens are capped separately.
    for _ in 0..3 {
        let login = raw(
            &emu,
            Method::POST,
            &path("/authentication-tokens"),
            As::Secret(SK),
            Some(json!({"username": "a", "password": "pw"})),
        )
        .await;
        assert_eq!(login.status, 201);
    }
    let login = raw(
        &emu,
        Method::POST,
        &path("/authentication-tokens"),
        As::Secret(SK),
        Some(json!({"username": "a", "password": "pw"})),
    )
    .await;
    assert_eq!(login.status, 429);
    assert!(
        login.json()["detail"]
            .as_str()
            .unwrap()
            .contains("authentication tokens")
    );
    // Deleting makes room.
    let deleted = raw(
        &emu,
        Method::DELETE,
        &path(&format!("/credentials/{}", ids[2])),
        As::Secret(SK),
        None,
    )
    .await;
    assert_eq!(deleted.status, 204);
    let again = raw(
        &emu,
        Method::POST,
        &path("/credentials"),
        As::Secret(SK),
        new_credential("d"),
    )
    .await;
    assert_eq!(again.status, 201);
    let stored = emu.stored_records(ORG).unwrap();
    assert_eq!(stored.credentials, 3);
    assert_eq!(emu.stored_records("nope"), None);
}

/// The request journal is a ring buffer; the per-operation counters keep counting.
#[tokio::test]
async fn journal_is_a_ring_buffer_and_counters_keep_counting() {
    let emu = Emulator::builder()
        .add_organization(ORG, SK, Some(PK))
        .journal_capacity(5)
        .build();
    for i in 0..20 {
        let r = raw(
            &emu,
            Method::POST,
            &path("/credentials"),
            As::Secret(SK),
            new_credential(&format!("u{i}")),
        )
        .await;
        assert_eq!(r.status, 201);
        let r = raw(
            &emu,
            Method::GET,
            &path("/credentials/nope"),
            As::Secret(SK),
            None,
        )
        .await;
        assert_eq!(r.status, 404);
    }
    let log = emu.request_log();
    assert_eq!(log.len(), 5);
    // The latest entries survive.
    assert_eq!(log.last().unwrap().method, Method::GET);
    assert_eq!(log.last().unwrap().status, Some(404));
    assert_eq!(emu.requests_seen(OperationId::PostCredential), 20);
    assert_eq!(emu.executed(OperationId::PostCredential), 20);
    assert_eq!(emu.requests_seen(OperationId::GetCredential), 20);
    // Extension methods are counted too (405: seen, not executed).
    let mut builder = http::Request::builder()
        .method("FOO")
        .uri(format!("https://api.test{}", path("/credentials")));
    builder = builder.header("REB-APIKEY", SK);
    let response = emu
        .send(builder.body(bytes::Bytes::new()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    // An extension method is no operation: journaled with its route, never counted.
    let last = emu.request_log().pop().unwrap();
    assert_eq!((last.operation, last.route), (None, Some("/credentials")));
    assert_eq!(emu.requests_seen(OperationId::GetCredentialCollection), 0);
    // A journal of 0 keeps nothing and still counts.
    let quiet = Emulator::builder()
        .add_organization(ORG, SK, None)
        .journal_capacity(0)
        .build();
    raw(
        &quiet,
        Method::GET,
        &path("/credentials"),
        As::Secret(SK),
        None,
    )
    .await;
    assert!(quiet.request_log().is_empty());
    assert_eq!(quiet.executed(OperationId::GetCredentialCollection), 1);
    // Clearing resets both.
    emu.clear_request_log();
    assert!(emu.request_log().is_empty());
    assert_eq!(emu.requests_seen(OperationId::PostCredential), 0);
}

/// Expired authentication tokens and JWT sessions are purged by the next write; reset-password
/// tokens a day (emulated) after they stopped being pending (so DELETE still answers 409 for a
/// just-expired one).
#[tokio::test]
async fn expired_records_are_purged_on_write() {
    let emu = emulator();
    let r = raw(
        &emu,
        Method::POST,
        &path("/credentials"),
        As::Secret(SK),
        new_credential("ada"),
    )
    .await;
    assert_eq!(r.status, 201);
    let mut tokens = Vec::new();
    for _ in 0..5 {
        let login = raw(
            &emu,
            Method::POST,
            &path("/authentication-tokens"),
            As::Secret(SK),
            Some(json!({"username": "ada", "password": "pw"})),
        )
        .await;
        assert_eq!(login.status, 201);
        tokens.push(login.json()["token"].as_str().unwrap().to_owned());
    }
    let exchange = raw(
        &emu,
        Method::POST,
        &path(&format!("/authentication-tokens/{}/exchange", tokens[0])),
        As::Secret(SK),
        Some(json!({})),
    )
    .await;
    assert_eq!(exchange.status, 201);
    let reset = raw(
        &emu,
        Method::POST,
        &path("/password-tokens"),
        As::Secret(SK),
        Some(json!({"username": "ada"})),
    )
    .await;
    assert_eq!(reset.status, 201);
    let reset_token = reset.json()["token"].as_str().unwrap().to_owned();
    let before = emu.stored_records(ORG).unwrap();
    assert_eq!(
        (
            before.authentication_tokens,
            before.sessions,
            before.reset_password_tokens
        ),
        (4, 1, 1)
    );

    // Everything expires after an hour; nothing is purged until something is written.
    emu.clock().advance(Duration::from_secs(3601));
    assert_eq!(emu.stored_records(ORG).unwrap(), before);
    // A write: tokens and sessions go; the reset token is kept for DELETE's 409.
    let login = raw(
        &emu,
        Method::POST,
        &path("/authentication-tokens"),
        As::Secret(SK),
        Some(json!({"username": "ada", "password": "pw"})),
    )
    .await;
    assert_eq!(login.status, 201);
    let after = emu.stored_records(ORG).unwrap();
    assert_eq!(after.authentication_tokens, 1, "{after:?}");
    assert_eq!(after.sessions, 0, "{after:?}");
    assert_eq!(after.reset_password_tokens, 1, "{after:?}");
    assert_eq!(after.credentials, 1);
    let conflict = raw(
        &emu,
        Method::DELETE,
        &path(&format!("/password-tokens/{reset_token}")),
        As::Secret(SK),
        None,
    )
    .await;
    assert_eq!(conflict.status, 409);

    // A day later the next write forgets it (404 from then on).
    emu.clock().advance(Duration::from_secs(86_400));
    let r = raw(
        &emu,
        Method::POST,
        &path("/credentials"),
        As::Secret(SK),
        new_credential("bob"),
    )
    .await;
    assert_eq!(r.status, 201);
    let after = emu.stored_records(ORG).unwrap();
    assert_eq!(after.reset_password_tokens, 0, "{after:?}");
    assert_eq!(after.authentication_tokens, 0, "{after:?}");
    let gone = raw(
        &emu,
        Method::DELETE,
        &path(&format!("/password-tokens/{reset_token}")),
        As::Secret(SK),
        None,
    )
    .await;
    assert_eq!(gone.status, 404);
}

/// At the cap, expired records are purged first (even recently ended reset tokens), so a full
/// organization whose records expired takes new ones.
#[tokio::test]
async fn a_full_organization_purges_before_refusing() {
    let emu = Emulator::builder()
        .add_organization(ORG, SK, None)
        .max_records_per_kind(2)
        .build();
    let r = raw(
        &emu,
        Method::POST,
        &path("/credentials"),
        As::Secret(SK),
        new_credential("ada"),
    )
    .await;
    assert_eq!(r.status, 201);
    let id = r.json()["id"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        let reset = raw(
            &emu,
            Method::POST,
            &path("/password-tokens"),
            As::Secret(SK),
            Some(json!({"username": "ada"})),
        )
        .await;
        assert_eq!(reset.status, 201);
    }
    let full = raw(
        &emu,
        Method::POST,
        &path("/password-tokens"),
        As::Secret(SK),
        Some(json!({"username": "ada"})),
    )
    .await;
    assert_eq!(full.status, 429);
    // A password change spends both: the next create makes room by forgetting them.
    let changed = raw(
        &emu,
        Method::PUT,
        &path(&format!("/credentials/{id}")),
        As::Secret(SK),
        Some(json!({"username": "ada", "password": "new", "customerId": "cus_ada"})),
    )
    .await;
    assert_eq!(changed.status, 200);
    let reset = raw(
        &emu,
        Method::POST,
        &path("/password-tokens"),
        As::Secret(SK),
        Some(json!({"username": "ada"})),
    )
    .await;
    assert_eq!(reset.status, 201, "{:?}", reset.body);
    assert_eq!(emu.stored_records(ORG).unwrap().reset_password_tokens, 1);
}

/// `EmulatorClock::advance` saturates instead of overflowing, and the emulator keeps answering
/// at the end of time.
#[tokio::test]
async fn the_clock_saturates_at_the_end_of_time() {
    let emu = emulator();
    emu.clock().advance(Duration::from_secs(u64::MAX));
    emu.clock().advance(Duration::MAX);
    assert_eq!(emu.clock().now().year(), 9999);
    let r = raw(
        &emu,
        Method::POST,
        &path("/credentials"),
        As::Secret(SK),
        new_credential("ada"),
    )
    .await;
    assert_eq!(r.status, 201);
    let login = raw(
        &emu,
        Method::POST,
        &path("/authentication-tokens"),
        As::Secret(SK),
        Some(json!({"username": "ada", "password": "pw"})),
    )
    .await;
    assert_eq!(login.status, 201, "{:?}", login.body);
    let token = login.json()["token"].as_str().unwrap().to_owned();
    // The token's expiry saturated at (or before) now: exchange finds it spent, no panic.
    let exchange = raw(
        &emu,
        Method::POST,
        &path(&format!("/authentication-tokens/{token}/exchange")),
        As::Secret(SK),
        Some(json!({})),
    )
    .await;
    assert!(
        [201, 404].contains(&exchange.status.as_u16()),
        "{:?}",
        exchange.body
    );
    let reset = raw(
        &emu,
        Method::POST,
        &path("/password-tokens"),
        As::Secret(SK),
        Some(json!({"username": "ada"})),
    )
    .await;
    assert_eq!(reset.status, 201);
    // The rate-limit window (now + 10 minutes) saturates too.
    for _ in 0..3 {
        let r = raw(
            &emu,
            Method::PUT,
            &path("/authentication-options"),
            As::Secret(SK),
            Some(json!({})),
        )
        .await;
        assert_eq!(r.status, 200);
    }
}

// ---- the HTTP face's limits ----

/// Reads one response (head and a `Content-Length` body) from a keep-alive connection.
async fn read_response(stream: &mut TcpStream) -> Option<(u16, String)> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if buffer.len() >= end + 4 + length {
                let status = head.split(' ').nth(1)?.parse().ok()?;
                let body = String::from_utf8_lossy(&buffer[end + 4..end + 4 + length]).into_owned();
                return Some((status, body));
            }
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
}

fn keep_alive_get() -> Vec<u8> {
    format!(
        "GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\nREB-APIKEY: {SK}\r\n\r\n",
        path("/credentials")
    )
    .into_bytes()
}

/// A declared body over the limit is refused with 413 (a problem body) before any of it is
/// sent; a chunked one is refused once it passes the limit. Neither reaches the handler.
#[tokio::test]
async fn body_over_the_limit_is_413_before_buffering() {
    let emu = emulator();
    let server = emu
        .serve_on_loopback_with(ServeOptions::new().max_request_body(1024))
        .await
        .unwrap();
    // Headers only: a 100 MB Content-Length and not one byte of body.
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: 127.0.0.1\r\nREB-APIKEY: {SK}\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n",
        path("/credentials")
    );
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let answer = tokio::time::timeout(Duration::from_secs(5), read_response(&mut stream))
        .await
        .expect("answered without waiting for the body");
    let (status, body) = answer.expect("a response");
    assert_eq!(status, 413);
    let problem: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(problem["status"], 413);
    assert!(problem["detail"].as_str().unwrap().contains("1024 bytes"));
    // Chunked: 4 KiB in 1 KiB chunks.
    let chunk = format!("400\r\n{}\r\n", "x".repeat(1024));
    let chunked = format!(
        "POST {} HTTP/1.1\r\nHost: 127.0.0.1\r\nREB-APIKEY: {SK}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{}0\r\n\r\n",
        path("/credentials"),
        chunk.repeat(4)
    );
    let (status, head, body) = split(&exchange(server.addr(), &chunked).await);
    assert_eq!(status, 413, "{head}{body}");
    assert!(head.contains("content-type: application/json"));
    // A body under the limit is served; the refusals were seen, never executed.
    let ok = r#"{"username":"ada","password":"pw","customerId":"cus_ada"}"#;
    let (status, _, _) =
        split(&exchange(server.addr(), &request("POST", &path("/credentials"), ok)).await);
    assert_eq!(status, 201);
    assert_eq!(emu.requests_seen(OperationId::PostCredential), 3);
    assert_eq!(emu.executed(OperationId::PostCredential), 1);
    server.shutdown().await;
}

/// With a cap of 2 connections, a third client waits (in the listen backlog) until one of the
/// two closes, then is served.
#[tokio::test]
async fn connection_cap_is_honoured() {
    let emu = emulator();
    let server = emu
        .serve_on_loopback_with(ServeOptions::new().max_connections(2))
        .await
        .unwrap();
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut stream = TcpStream::connect(server.addr()).await.unwrap();
        stream.write_all(&keep_alive_get()).await.unwrap();
        let (status, _) = read_response(&mut stream).await.expect("served");
        assert_eq!(status, 200);
        held.push(stream);
    }
    let mut extra = TcpStream::connect(server.addr()).await.unwrap();
    extra.write_all(&keep_alive_get()).await.unwrap();
    let waited = tokio::time::timeout(Duration::from_millis(400), read_response(&mut extra)).await;
    assert!(
        waited.is_err(),
        "the third connection was served while two were open"
    );
    // The held ones still work.
    held[0].write_all(&keep_alive_get()).await.unwrap();
    assert_eq!(read_response(&mut held[0]).await.map(|r| r.0), Some(200));
    // Closing one lets the third in.
    drop(held.pop());
    let (status, _) = tokio::time::timeout(Duration::from_secs(5), read_response(&mut extra))
        .await
        .expect("served once a slot was free")
        .expect("a response");
    assert_eq!(status, 200);
    server.shutdown().await;
}

/// A client that never finishes its request head is disconnected after the header-read
/// timeout, and its slot is freed.
#[tokio::test]
async fn header_read_timeout_closes_a_slowloris() {
    let emu = emulator();
    let server = emu
        .serve_on_loopback_with(
            ServeOptions::new()
                .header_read_timeout(Duration::from_millis(200))
                .max_connections(1),
        )
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let mut slow = TcpStream::connect(server.addr()).await.unwrap();
    slow.write_all(b"GET /organizations/org-1/credentials HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .unwrap();
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            // Keep trickling a byte now and then, like a slowloris.
            tokio::time::sleep(Duration::from_millis(50)).await;
            if slow.write_all(b"X").await.is_err() {
                return;
            }
            let mut byte = [0u8; 1024];
            match tokio::time::timeout(Duration::from_millis(10), slow.read(&mut byte)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return,
                Ok(Ok(n)) => rest.extend_from_slice(&byte[..n]),
                Err(_) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the slow connection was not closed");
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(150), "{elapsed:?}");
    // Whatever came back before the close is not a success.
    assert!(!String::from_utf8_lossy(&rest).contains(" 200 "));
    // The only slot is free again.
    let (status, _, _) =
        split(&exchange(server.addr(), &request("GET", &path("/credentials"), "")).await);
    assert_eq!(status, 200);
    server.shutdown().await;
}

/// Extreme serve options are clamped, not trusted: no connection cap of 0, no deadline that
/// overflows; a body limit of 0 still serves body-less requests.
#[tokio::test]
async fn extreme_serve_options_still_serve() {
    let emu = emulator();
    let server = emu
        .serve_on_loopback_with(
            ServeOptions::new()
                .max_connections(0)
                .header_read_timeout(Duration::MAX)
                .max_request_body(0),
        )
        .await
        .unwrap();
    let (status, _, _) =
        split(&exchange(server.addr(), &request("GET", &path("/credentials"), "")).await);
    assert_eq!(status, 200);
    let (status, _, _) = split(
        &exchange(
            server.addr(),
            &request("PUT", &path("/authentication-options"), "{}"),
        )
        .await,
    );
    assert_eq!(status, 413);
    server.shutdown().await;
}
