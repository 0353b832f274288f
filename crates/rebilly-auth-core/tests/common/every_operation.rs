//! The whole call path under a hostile server: a [`Client`] whose transport answers with
//! scripted (arbitrary) responses, one call of each of the 16 operations through the public
//! API (`Client` → transport → retries → decode), and the fail-closed rules checked on what
//! each call returned. Shared by the `hostile_server` property test and the `client_calls`
//! fuzz target (which includes this file by path).
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use rebilly_auth_core::models::AuthenticationOptions;
use rebilly_auth_core::models::Exchange;
use rebilly_auth_core::models::Login;
use rebilly_auth_core::models::NewCredential;
use rebilly_auth_core::models::NewResetPasswordToken;
use rebilly_auth_core::test_util::instant_time_and_sleep;
use rebilly_auth_core::{Client, Error, RetryPolicy, TransportError, transport_fn};
use serde_json::Value;

/// The token every token call asks about.
pub const ASKED_TOKEN: &str = "tok_asked_SECRET";
/// The client's API key.
pub const API_KEY: &str = "sk_hostile_SECRET";

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Any status from 100 to 999.
    pub status: u16,
    /// Headers as raw bytes (values may be non-ASCII); invalid ones are skipped.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body.
    pub body: Bytes,
}

impl Answer {
    fn to_response(&self) -> http::Response<Bytes> {
        let mut response = http::Response::new(self.body.clone());
        *response.status_mut() =
            http::StatusCode::from_u16(self.status).unwrap_or(http::StatusCode::OK);
        for (name, value) in &self.headers {
            if let (Ok(name), Ok(value)) = (
                http::HeaderName::from_bytes(name.as_bytes()),
                http::HeaderValue::from_bytes(value),
            ) {
                response.headers_mut().append(name, value);
            }
        }
        response
    }
}

/// A client whose transport answers attempt `n` of every call with `answers[n]` (the last
/// one repeating), or, for an empty script, fails as a connect error.
fn client_answering(answers: &Arc<Vec<Answer>>, attempt: &Arc<AtomicUsize>) -> Client {
    let answers = Arc::clone(answers);
    let attempt = Arc::clone(attempt);
    let (clock, sleep) =
        instant_time_and_sleep(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000));
    Client::builder()
        .server_url("https://api.test")
        .organization("org_1")
        .secret_key(API_KEY)
        .retry_policy(RetryPolicy::default().max_attempts(3))
        // Core's test time: retries happen at once, whatever the server asked; the clock
        // starts at 2023-11-14T22:13:20Z, so that past and future dates in headers are both
        // reachable.
        .sleep(Arc::new(sleep))
        .clock(Arc::new(clock))
        .transport(transport_fn(move |_request| {
            let n = attempt.fetch_add(1, Ordering::SeqCst);
            let answer = answers.get(n).or(answers.last()).map(Answer::to_response);
            async move { answer.ok_or_else(|| TransportError::connect("no answer scripted")) }
        }))
        .build()
        .expect("a valid configuration")
}

/// The JSON object a body holds, if it is one.
fn object(body: &[u8]) -> Option<serde_json::Map<String, Value>> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    }
}

/// Whether `body` is an object whose `token` is a non-empty string.
fn holds_token(body: &[u8]) -> bool {
    object(body)
        .and_then(|o| o.get("token").and_then(Value::as_str).map(str::is_empty))
        .is_some_and(|empty| !empty)
}

/// What one call ended with, for the checks.
struct Ended<'a> {
    operation: &'static str,
    /// The answer the call's last attempt got.
    last: &'a Answer,
    ok: bool,
}

impl Ended<'_> {
    fn success_status(&self) -> bool {
        (200..300).contains(&self.last.status)
    }
}

/// Panics (fails the test or the fuzz run) when `ended` breaks a fail-closed rule.
fn check(ended: &Ended<'_>, error: Option<&Error>) {
    if let Some(error) = error {
        let shown = format!("{error} {error:?}");
        assert!(
            !shown.contains(ASKED_TOKEN),
            "{}: token in the error",
            ended.operation
        );
        assert!(
            !shown.contains(API_KEY),
            "{}: key in the error",
            ended.operation
        );
        // A rate-limited error's retry time is one the client could represent.
        let _ = error.retry_at();
    }
    if ended.ok {
        assert!(
            ended.success_status() || ended.last.status == 404,
            "{}: success on a {} answer",
            ended.operation,
            ended.last.status
        );
    }
}

/// Sends one call of each of the 16 operations with `answers` scripted for its attempts and
/// checks every outcome. Returns how many calls succeeded.
pub async fn call_every_operation(answers: Vec<Answer>) -> usize {
    let answers = Arc::new(answers);
    let attempt = Arc::new(AtomicUsize::new(0));
    let client = client_answering(&answers, &attempt);
    let mut succeeded = 0;
    // Runs one call from a fresh attempt count and checks it; `$extra` checks a success.
    macro_rules! call {
        ($name:literal, $call:expr) => {
            call!($name, $call, |_value, _last| {})
        };
        ($name:literal, $call:expr, |$value:ident, $last:ident| $extra:block) => {{
            attempt.store(0, Ordering::SeqCst);
            let result = $call.await;
            let sent = attempt.load(Ordering::SeqCst);
            let last = answers.get(sent.saturating_sub(1)).or(answers.last());
            if let Some(last) = last {
                let ended = Ended {
                    operation: $name,
                    last,
                    ok: result.is_ok(),
                };
                check(&ended, result.as_ref().err());
                if let Ok($value) = &result {
                    succeeded += 1;
                    let $last: &Answer = last;
                    $extra
                }
            } else {
                assert!(result.is_err(), "{}: success with no answer", $name);
            }
        }};
    }
    let tokens = client.authentication_tokens();
    call!(
        "verify",
        tokens.verify(ASKED_TOKEN),
        |verification, last| {
            match verification {
                // Fail closed: valid only on a 2xx token object with the required username,
                // describing the token asked about (or no token at all).
                Some(verification) => {
                    assert!(
                        (200..300).contains(&last.status),
                        "verified on {}",
                        last.status
                    );
                    let body = object(&last.body).expect("verified on a non-object body");
                    assert_eq!(
                        body.get("username").and_then(Value::as_str),
                        Some(verification.username.as_str())
                    );
                    match body.get("token") {
                        None | Some(Value::Null) => {}
                        Some(token) => assert_eq!(token.as_str(), Some(ASKED_TOKEN)),
                    }
                }
                None => assert_eq!(last.status, 404, "not valid on {}", last.status),
            }
        }
    );
    call!(
        "login",
        tokens.login(Login::password("ada", "pw")),
        |issued, last| {
            assert!(!issued.token.expose().is_empty());
            assert!(holds_token(&last.body), "a login without a token succeeded");
        }
    );
    call!("logout", tokens.logout(ASKED_TOKEN));
    call!(
        "exchange",
        tokens.exchange(ASKED_TOKEN, Exchange::new().keep_token()),
        |jwt, last| {
            assert!(!jwt.token.expose().is_empty());
            assert!(
                holds_token(&last.body),
                "an exchange without a JWT succeeded"
            );
        }
    );
    call!(
        "exchange (spends the token)",
        tokens.exchange(ASKED_TOKEN, Exchange::new())
    );
    call!("token list", tokens.list().limit(10));
    let options = client.authentication_options();
    call!("options get", options.get());
    call!(
        "options update",
        options.update(AuthenticationOptions::default())
    );
    let credentials = client.credentials();
    call!("credential list", credentials.list());
    call!(
        "credential create",
        credentials.create(NewCredential::new("ada", "pw", "cus_1"))
    );
    call!("credential get", credentials.get("cus_crd_1"));
    call!(
        "credential upsert",
        credentials.upsert("cus_crd_1", NewCredential::new("ada", "pw", "cus_1"))
    );
    call!("credential delete", credentials.delete("cus_crd_1"));
    let resets = client.reset_password_tokens();
    call!("reset list", resets.list());
    call!(
        "reset create",
        resets.create(NewResetPasswordToken::new("ada")),
        |created, last| {
            assert!(!created.token.expose().is_empty());
            assert!(
                holds_token(&last.body),
                "a reset-token create without a token succeeded"
            );
        }
    );
    call!("reset get", resets.get("rst_1"));
    call!("reset delete", resets.delete("rst_1"));
    succeeded
}
