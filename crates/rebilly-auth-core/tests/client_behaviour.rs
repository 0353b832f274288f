//! The client's cross-cutting behaviour: retries, deadlines, pagination, input checks,
//! secrets, and the `Send + 'static` promise.

mod common;

use std::time::Duration;

use common::{Fake, ROOT, SECRET_KEY, client, retrying_client, retrying_client_with, test_time};
use futures_util::StreamExt;
use rebilly_auth_core::models::Exchange;
use rebilly_auth_core::models::Login;
use rebilly_auth_core::models::NewCredential;
use rebilly_auth_core::{
    BuildError, Client, Deletion, Error, RetryPolicy, TimeoutScope, TransportError, Upserted,
};

const CREDENTIAL: &str = r#"{"id":"cus_crd_1","username":"ada","customerId":"cus_1"}"#;

#[tokio::test]
async fn idempotent_calls_retry_on_gateway_errors_and_transport_failures() {
    let fake = Fake::new();
    let (clock, sleep) = test_time();
    let client = retrying_client_with(&fake, &clock, &sleep);
    fake.reply(503, "")
        .fail(|| TransportError::io("connection reset"))
        .reply(200, CREDENTIAL);
    let answer = client
        .credentials()
        .get("cus_crd_1")
        .send_with_meta()
        .await
        .unwrap();
    assert_eq!(answer.value.username, "ada");
    assert_eq!(answer.meta.attempts, 3);
    assert_eq!(fake.count(), 3);
    // Two backoffs, each within the doubling ceiling (100 ms, then 200 ms).
    let waits = sleep.waits();
    let backoffs: Vec<_> = waits
        .iter()
        .filter(|w| **w < Duration::from_secs(1))
        .collect();
    assert_eq!(backoffs.len(), 2, "{waits:?}");
    assert!(
        *backoffs[0] <= Duration::from_millis(100) && *backoffs[1] <= Duration::from_millis(200)
    );
}

#[tokio::test]
async fn retries_stop_at_the_attempt_limit_with_the_last_answer() {
    let fake = Fake::new();
    let client = retrying_client(&fake);
    fake.reply(502, "")
        .reply(502, "")
        .reply(502, "")
        .reply(200, CREDENTIAL);
    let error = client.credentials().get("cus_crd_1").await.unwrap_err();
    assert_eq!(error.status().unwrap(), 502);
    assert_eq!(fake.count(), 3);
}

#[tokio::test]
async fn post_is_not_retried_after_an_ambiguous_failure_or_a_5xx() {
    let fake = Fake::new();
    let client = retrying_client(&fake);
    fake.fail(|| TransportError::io("reset after write"));
    let error = client
        .credentials()
        .create(NewCredential::new("a", "b", "c"))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Transport { .. }), "{error}");
    assert_eq!(
        fake.count(),
        1,
        "a create is never sent twice when it may have reached the server"
    );

    fake.reply(503, "");
    let error = client
        .credentials()
        .create(NewCredential::new("a", "b", "c"))
        .await
        .unwrap_err();
    assert_eq!(error.status().unwrap(), 503);
    assert_eq!(fake.count(), 2);
}

#[tokio::test]
async fn post_is_retried_when_the_request_never_left_or_on_429() {
    let fake = Fake::new();
    let client = retrying_client(&fake);
    fake.fail(|| TransportError::connect("refused"))
        .reply_with(429, &[("Retry-After", "1")], "")
        .reply(201, CREDENTIAL);
    let created = client
        .credentials()
        .create(NewCredential::new("a", "b", "c"))
        .send_with_meta()
        .await
        .unwrap();
    assert_eq!(created.meta.attempts, 3);
}

#[tokio::test]
async fn a_spending_exchange_is_never_replayed_after_an_ambiguous_failure() {
    let fake = Fake::new();
    let client = retrying_client(&fake);
    fake.fail(|| TransportError::io("connection closed before the response"));
    let error = client
        .authentication_tokens()
        .exchange("tok_1", Exchange::new())
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::ExchangeOutcomeUnknown { .. }),
        "{error}"
    );
    assert_eq!(fake.count(), 1);

    // Keeping the token: a plain ambiguous transport error, still not replayed.
    fake.fail(|| TransportError::io("closed"));
    let error = client
        .authentication_tokens()
        .exchange("tok_1", Exchange::new().keep_token())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Transport { .. }), "{error}");
    assert_eq!(fake.count(), 2);
}

#[tokio::test]
async fn a_gateway_status_on_a_spending_exchange_leaves_its_outcome_unknown() {
    let fake = Fake::new();
    let client = retrying_client(&fake);
    for status in [502, 503, 504] {
        fake.reply(status, "");
        let error = client
            .authentication_tokens()
            .exchange("tok_1", Exchange::new())
            .await
            .unwrap_err();
        let Error::ExchangeOutcomeUnknown { source, .. } = &error else {
            panic!("{status}: {error}");
        };
        // The gateway's answer is kept, but the error itself has no status, so code that
        // retries on a 5xx does not replay a spent token.
        assert_eq!(source.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(error.status(), None);
    }
    assert_eq!(fake.count(), 3, "none replayed");

    // Keeping the token, a gateway status is an ordinary API error (and not replayed: a POST).
    fake.reply(502, "");
    let error = client
        .authentication_tokens()
        .exchange("tok_1", Exchange::new().keep_token())
        .await
        .unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(502));
    assert_eq!(fake.count(), 4);
}

#[tokio::test]
async fn a_404_on_a_retried_delete_counts_as_presumed_deleted() {
    let fake = Fake::new();
    let client = retrying_client(&fake);
    fake.fail(|| TransportError::io("reset"))
        .reply(404, r#"{"status":404}"#);
    assert_eq!(
        client.credentials().delete("cus_crd_1").await.unwrap(),
        Deletion::PresumedDeleted
    );
    fake.fail(|| TransportError::timeout("slow")).reply(404, "");
    assert_eq!(
        client.authentication_tokens().logout("tok").await.unwrap(),
        Deletion::PresumedDeleted
    );
    // Without an ambiguous attempt, a 404 is a 404.
    fake.reply(404, "");
    assert!(
        client
            .credentials()
            .delete("cus_crd_1")
            .await
            .unwrap_err()
            .is_not_found()
    );
}

#[tokio::test]
async fn a_retried_upsert_cannot_claim_created_or_updated() {
    let fake = Fake::new();
    let client = retrying_client(&fake);
    fake.fail(|| TransportError::io("reset"))
        .reply(200, CREDENTIAL);
    let upserted = client
        .credentials()
        .upsert("cus_crd_1", NewCredential::new("a", "b", "c"))
        .await
        .unwrap();
    assert!(
        matches!(upserted, Upserted::CreatedOrUpdated(_)),
        "{upserted:?}"
    );
}

#[tokio::test]
async fn a_server_wait_beyond_the_cap_returns_the_rate_limited_error_at_once() {
    let fake = Fake::new();
    let (clock, sleep) = test_time();
    let client = retrying_client_with(&fake, &clock, &sleep);
    // X-RateLimit-Retry-After is an epoch: 1 hour after the fixed clock's now.
    fake.reply_with(
        429,
        &[("X-RateLimit-Retry-After", "1700003600")],
        r#"{"status":429,"title":"Rate Limit Exceeded"}"#,
    );
    let error = client.credentials().get("cus_crd_1").await.unwrap_err();
    assert!(error.is_rate_limited());
    assert_eq!(
        error.retry_at(),
        Some(time::OffsetDateTime::from_unix_timestamp(1_700_003_600).unwrap())
    );
    assert_eq!(fake.count(), 1);
    assert!(
        sleep.waits().iter().all(|w| *w >= Duration::from_secs(30)),
        "no backoff slept"
    );

    // A short X-RateLimit-Retry-After is honoured, plus a jitter from the first retry's
    // backoff window (100 ms by default), so clients told the same second spread out.
    // (The deadlines' sleeps moved the clock: back to the start.)
    clock.set(std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000));
    let before = sleep.waits().len();
    fake.reply_with(429, &[("X-RateLimit-Retry-After", "1700000002")], "")
        .reply(200, CREDENTIAL);
    client.credentials().get("cus_crd_1").await.unwrap();
    let waits = sleep.waits()[before..].to_vec();
    assert_eq!(waits.len(), 1, "{waits:?}");
    assert!(
        waits[0] >= Duration::from_secs(2) && waits[0] <= Duration::from_millis(2100),
        "{waits:?}"
    );
}

#[tokio::test]
async fn attempt_timeouts_are_retried_for_gets_and_reported_with_their_scope() {
    let fake = Fake::new();
    fake.hang.store(true, std::sync::atomic::Ordering::SeqCst);
    let client = retrying_client(&fake);
    let error = client.credentials().get("cus_crd_1").await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::Timeout {
                scope: TimeoutScope::Attempt,
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(fake.count(), 3);

    // A timed-out exchange that spends its token is not replayed, and says so.
    let error = client
        .authentication_tokens()
        .exchange("tok", Exchange::new())
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::ExchangeOutcomeUnknown { .. }),
        "{error}"
    );
    assert_eq!(fake.count(), 4);
}

#[tokio::test]
async fn the_call_deadline_bounds_everything() {
    let fake = Fake::new();
    fake.hang.store(true, std::sync::atomic::Ordering::SeqCst);
    let client = Client::builder()
        .server_url(ROOT)
        .organization("org_1")
        .attempt_timeout(Duration::from_secs(30))
        .call_timeout(Duration::from_millis(50))
        .transport(fake.clone())
        .build()
        .unwrap();
    let error = client.credentials().get("cus_crd_1").await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::Timeout {
                scope: TimeoutScope::Call,
                ..
            }
        ),
        "{error}"
    );
    assert!(error.is_timeout());
}

#[tokio::test]
async fn redirects_are_errors() {
    let fake = Fake::new();
    let client = client(&fake);
    fake.reply_with(302, &[("Location", "https://elsewhere.test/")], "");
    let error = client.credentials().get("cus_crd_1").await.unwrap_err();
    assert_eq!(error.status().unwrap(), 302);
}

#[tokio::test]
async fn decode_errors_locate_the_problem_without_showing_the_body() {
    let fake = Fake::new();
    let client = client(&fake);
    fake.reply(
        201,
        r#"{"username":"ada","token":"tok_SECRET_VALUE","expiredTime":"not a date"}"#,
    );
    let error = client
        .authentication_tokens()
        .login(Login::password("ada", "pw"))
        .await
        .unwrap_err();
    let Error::Decode(decode) = &error else {
        panic!("{error}")
    };
    assert_eq!(decode.path, "expiredTime");
    assert_eq!(decode.status, 201);
    assert_eq!(decode.content_type.as_deref(), Some("application/json"));
    assert!(decode.body_len > 0);
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains("tok_SECRET_VALUE"), "{shown}");
    assert!(
        std::str::from_utf8(decode.body())
            .unwrap()
            .contains("tok_SECRET_VALUE")
    );

    // An empty 200 is a decode error too, never a panic.
    fake.reply(200, "");
    let error = client.credentials().get("cus_crd_1").await.unwrap_err();
    assert!(matches!(error, Error::Decode(_)), "{error}");
}

#[tokio::test]
async fn bad_input_is_refused_before_sending() {
    let fake = Fake::new();
    let client = client(&fake);
    for id in [
        "",
        ".",
        "..",
        "a/b",
        "a?b",
        "a#b",
        "a b",
        "ключ",
        &"x".repeat(51),
    ] {
        let error = client.credentials().get(id).await.unwrap_err();
        assert!(matches!(error, Error::InvalidInput(_)), "{id:?}: {error}");
    }
    for token in ["", ".", ".."] {
        assert!(matches!(
            client.authentication_tokens().verify(token).await,
            Err(Error::InvalidInput(_))
        ));
    }
    assert!(matches!(
        client.credentials().list().limit(1001).await,
        Err(Error::InvalidInput(_))
    ));
    assert!(matches!(
        client.credentials().list().offset(1001).await,
        Err(Error::InvalidInput(_))
    ));
    assert!(matches!(
        client.credentials().list().organization("..").await,
        Err(Error::InvalidInput(_))
    ));
    let error = client
        .credentials()
        .list()
        .auth(rebilly_auth_core::Auth::jwt("a\r\nX-Injected: 1"))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidInput(_)) && !error.to_string().contains("Injected"));
    assert_eq!(fake.count(), 0, "nothing was sent");

    let built = Client::builder()
        .organization("o")
        .user_agent("me\r\nX: y")
        .transport(fake.clone())
        .build();
    assert!(matches!(built, Err(BuildError::InvalidValue(_))));
    let built = Client::builder()
        .server_url("http://example.com")
        .organization("o")
        .transport(fake.clone())
        .build();
    assert!(matches!(built, Err(BuildError::Invalid(_))));
    let built = Client::builder().transport(fake.clone()).build();
    assert!(matches!(built, Err(BuildError::Invalid(_))));
}

#[tokio::test]
async fn tokens_and_organizations_stay_inside_their_path_segment() {
    let fake = Fake::new();
    let client = client(&fake);
    fake.reply(204, "");
    client
        .authentication_tokens()
        .logout("../../credentials?x=1#y")
        .organization("org/../other")
        .await
        .unwrap();
    assert_eq!(
        fake.last().uri,
        "https://api.test/organizations/org%2F..%2Fother/authentication-tokens/..%2F..%2Fcredentials%3Fx%3D1%23y"
    );
}

#[tokio::test]
async fn one_client_serves_several_organizations() {
    let fake = Fake::new();
    let client = client(&fake);
    fake.reply(200, "[]").reply(200, "[]");
    client.credentials().list().await.unwrap();
    assert!(
        fake.last()
            .uri
            .starts_with("https://api.test/organizations/org_1/")
    );
    client
        .credentials()
        .list()
        .organization("org_2")
        .auth(rebilly_auth_core::Auth::secret_key("sk_2"))
        .await
        .unwrap();
    let sent = fake.last();
    assert!(
        sent.uri
            .starts_with("https://api.test/organizations/org_2/")
    );
    assert_eq!(sent.header("reb-apikey"), Some("sk_2"));
}

fn credential_page(from: usize, count: usize) -> String {
    let items: Vec<String> = (from..from + count)
        .map(|i| format!(r#"{{"id":"cus_crd_{i}","username":"user{i}","customerId":"cus_{i}"}}"#))
        .collect();
    format!("[{}]", items.join(","))
}

#[tokio::test]
async fn streams_walk_every_page_and_stop_at_the_total() {
    let fake = Fake::new();
    let client = client(&fake);
    fake.reply_with(200, &[("Pagination-Total", "5")], &credential_page(0, 2))
        .reply_with(200, &[("Pagination-Total", "5")], &credential_page(2, 2))
        .reply_with(200, &[("Pagination-Total", "5")], &credential_page(4, 1));
    let all: Vec<_> = client
        .credentials()
        .list()
        .limit(2)
        .stream()
        .collect()
        .await;
    let names: Vec<_> = all.into_iter().map(|c| c.unwrap().username).collect();
    assert_eq!(names, ["user0", "user1", "user2", "user3", "user4"]);
    let uris: Vec<_> = fake
        .requests
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.uri().to_string())
        .collect();
    assert_eq!(
        uris,
        [
            "https://api.test/organizations/org_1/credentials?limit=2",
            "https://api.test/organizations/org_1/credentials?limit=2&offset=2",
            "https://api.test/organizations/org_1/credentials?limit=2&offset=4",
        ]
    );
}

#[tokio::test]
async fn streams_end_on_a_short_page_without_headers_and_after_an_error() {
    let fake = Fake::new();
    let client = client(&fake);
    fake.reply(200, &credential_page(0, 3))
        .reply(200, &credential_page(3, 1));
    let n = client.credentials().list().limit(3).stream().count().await;
    assert_eq!((n, fake.count()), (4, 2));

    fake.reply(200, &credential_page(0, 3)).reply(500, "");
    let items: Vec<_> = client
        .credentials()
        .list()
        .limit(3)
        .stream()
        .collect()
        .await;
    assert_eq!(items.len(), 4);
    assert!(items[3].is_err());
}

#[tokio::test]
async fn streams_report_the_offset_cap_instead_of_ending_silently() {
    let fake = Fake::new();
    let client = client(&fake);
    fake.reply_with(
        200,
        &[("Pagination-Total", "5000")],
        &credential_page(0, 600),
    )
    .reply_with(
        200,
        &[("Pagination-Total", "5000")],
        &credential_page(600, 600),
    );
    let items: Vec<_> = client
        .credentials()
        .list()
        .limit(600)
        .stream()
        .collect()
        .await;
    assert_eq!(items.len(), 1201);
    assert!(items[..1200].iter().all(Result::is_ok));
    assert!(matches!(
        items[1200],
        Err(Error::OffsetLimitReached {
            offset: 1200,
            max: 1000,
            ..
        })
    ));
}

#[test]
fn futures_and_streams_are_send_and_static() {
    fn assert_send_static<T: Send + 'static>(_: &T) {}
    let fake = Fake::new();
    let client = client(&fake);
    assert_send_static(&client.credentials().get("x").send());
    assert_send_static(&std::future::IntoFuture::into_future(
        client.authentication_tokens().verify("t"),
    ));
    assert_send_static(&client.credentials().list().stream());
    assert_send_static(&client.reset_password_tokens().list().stream());
    let dyn_client: Client = Client::builder()
        .organization("o")
        .transport(rebilly_auth_core::transport_fn(|_| async {
            Err(TransportError::other("x"))
        }))
        .build()
        .unwrap();
    assert_send_static(&dyn_client.authentication_tokens().list().send());
    fn assert_sync<T: Send + Sync + Clone>(_: &T) {}
    assert_sync(&dyn_client);
}

#[tokio::test]
async fn secrets_never_print() {
    const SECRETS: [&str; 6] = [
        SECRET_KEY,
        "PASSWORD_x9",
        "OTP_654321",
        "TOKEN_abc",
        "JWT_h.p.s",
        "RESET_tok",
    ];
    let fake = Fake::new();
    let client = client(&fake);
    let mut shown = String::new();
    shown += &format!("{client:?}");
    let login = Login::password("ada", "PASSWORD_x9");
    shown += &format!("{login:?}");
    let credential = NewCredential::new("ada", "PASSWORD_x9", "cus_1");
    shown += &format!("{credential:?}");
    let exchange = Exchange::new().one_time_password("OTP_654321");
    shown += &format!("{exchange:?}");
    let request = client
        .authentication_tokens()
        .exchange("TOKEN_abc", exchange)
        .auth(rebilly_auth_core::Auth::jwt("JWT_h.p.s"));
    shown += &format!("{request:?}");
    shown += &format!("{:?}", client.reset_password_tokens().delete("RESET_tok"));
    // Answers carrying tokens, errors of every kind.
    fake.reply(201, r#"{"username":"ada","token":"TOKEN_abc","_links":[{"rel":"self","href":"https://x/authentication-tokens/TOKEN_abc"}]}"#);
    let token = client
        .authentication_tokens()
        .login(login)
        .send_with_meta()
        .await
        .unwrap();
    shown += &format!("{token:?} {:?}", token.value.token);
    fake.reply_with(
        404,
        &[("Location", "https://x/TOKEN_abc")],
        r#"{"status":404}"#,
    );
    let error = client
        .authentication_tokens()
        .logout("TOKEN_abc")
        .await
        .unwrap_err();
    shown += &format!("{error} {error:?}");
    fake.fail(|| TransportError::io("reset"));
    let error = client
        .authentication_tokens()
        .exchange("TOKEN_abc", Exchange::new())
        .await
        .unwrap_err();
    shown += &format!("{error} {error:?}");
    fake.reply(200, r#"{"token":"RESET_tok","username":5}"#);
    let error = client
        .reset_password_tokens()
        .get("RESET_tok")
        .await
        .unwrap_err();
    shown += &format!("{error} {error:?}");
    let request = client
        .reset_password_tokens()
        .get("RESET_tok")
        .to_http_request()
        .unwrap();
    assert!(request.headers()["reb-apikey"].is_sensitive());
    shown += &format!("{:?}", request.headers());
    for secret in SECRETS {
        assert!(!shown.contains(secret), "{secret} leaked in: {shown}");
    }
}

#[tokio::test]
async fn a_server_root_may_carry_a_base_path() {
    let fake = Fake::new();
    let client = Client::builder()
        .server_url("http://127.0.0.1:8080/rebilly/")
        .organization("org_1")
        .transport(fake.clone())
        .build()
        .unwrap();
    fake.reply(200, "[]");
    client.credentials().list().limit(5).await.unwrap();
    assert_eq!(
        fake.last().uri,
        "http://127.0.0.1:8080/rebilly/organizations/org_1/credentials?limit=5"
    );
}

#[tokio::test]
async fn per_call_overrides_replace_the_clients_retry_policy_and_deadlines_for_that_call_only() {
    let fake = Fake::new();
    let client = retrying_client(&fake);
    let credentials = client.credentials();

    // One attempt for this call: its first 503 is the answer.
    fake.reply(503, "").reply(503, "").reply(200, CREDENTIAL);
    let error = credentials
        .get("cus_crd_1")
        .retry_policy(RetryPolicy::none())
        .await
        .unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(fake.count(), 1);
    // The client's own policy still holds for the next call: 503, then 200.
    credentials.get("cus_crd_1").await.unwrap();
    assert_eq!(fake.count(), 3);

    // A shorter deadline for one call: the call's, not an attempt's, and not retried.
    fake.hang.store(true, std::sync::atomic::Ordering::SeqCst);
    let error = credentials
        .get("cus_crd_1")
        .call_timeout(Duration::from_millis(250))
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::Timeout { scope: TimeoutScope::Call, after, .. } if after == Duration::from_millis(250)),
        "{error}"
    );
    assert_eq!(fake.count(), 4);
    // A shorter attempt limit: each attempt times out and the GET is retried (3 attempts).
    let error = credentials
        .get("cus_crd_1")
        .attempt_timeout(Duration::from_millis(40))
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::Timeout { scope: TimeoutScope::Attempt, after, .. } if after == Duration::from_millis(40)),
        "{error}"
    );
    assert_eq!(fake.count(), 7);

    // Zero is refused before anything is sent.
    for error in [
        credentials
            .get("cus_crd_1")
            .call_timeout(Duration::ZERO)
            .await,
        credentials
            .get("cus_crd_1")
            .attempt_timeout(Duration::ZERO)
            .await,
    ]
    .map(Result::unwrap_err)
    {
        assert!(matches!(error, Error::InvalidInput(_)), "{error}");
    }
    assert_eq!(fake.count(), 7);
}
