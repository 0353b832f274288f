//! The outcome table, token sources, CSRF, the second factor and optional login, as a
//! client of the protected API sees them. Every test also checks that its TRACE output holds
//! no token.

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use common::{
    Answer, Capture, World, ada_behind_the_layer, ada_logged_in, app, counted_app, get_me, send,
    send_bearer,
};
use http::{HeaderName, Method, StatusCode};
use rebilly_auth_axum::{RebillyAuth, Rejection, TokenSource};
use rebilly_auth_core::models::{Login, TokenVerification};
use rebilly_auth_core::{Auth, TransportError};
use rebilly_auth_testing::RecordingTransport;
use rebilly_auth_testing::emulator::Fault;

#[track_caller]
fn assert_refused(answer: &Answer, status: u16, challenge: Option<&str>) {
    assert_eq!(answer.status, status, "{answer:?}");
    assert_eq!(answer.challenge(), challenge, "{answer:?}");
}

/// A layer over the recording fake (on the fake's clock), and the app behind it.
fn layer_over(fake: &RecordingTransport) -> (RebillyAuth, Router) {
    let (client, clock) = fake.client_with_clock();
    let auth = RebillyAuth::builder(client)
        .clock(Arc::new(clock))
        .build()
        .unwrap();
    let app = app(&auth);
    (auth, app)
}

#[tokio::test]
async fn valid_token_passes_and_is_cached() {
    let (capture, world, token) = ada_logged_in().await;
    let auth = world.auth().build().unwrap();
    let (app, hits) = counted_app(&auth);

    for _ in 0..5 {
        let answer = get_me(&app, token.expose()).await;
        assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
        assert_eq!(answer.body, "cus_ada ada false");
    }
    assert_eq!(world.verifies_executed(), 1, "one verify, then the cache");
    assert_eq!(hits.load(Ordering::SeqCst), 5);
    let metrics = auth.metrics();
    assert_eq!((metrics.misses, metrics.cache_hits), (1, 4));
    assert_eq!(metrics.upstream_valid, 1);
    capture.assert_clean(&[token.expose()]);
}

#[tokio::test]
async fn not_valid_gives_401_and_only_a_short_negative_entry() {
    let capture = Capture::start();
    let world = World::new().await;
    let auth = world.auth().build().unwrap();
    let (app, hits) = counted_app(&auth);
    let unknown = "0123456789abcdef0123456789abcdef01234567";

    let answer = get_me(&app, unknown).await;
    assert_refused(&answer, 401, Some(r#"Bearer error="invalid_token""#));
    let again = get_me(&app, unknown).await;
    assert_refused(&again, 401, Some(r#"Bearer error="invalid_token""#));
    assert_eq!(world.verifies_seen(), 1, "the 404 is remembered");
    assert_eq!(auth.metrics().negative_hits, 1);

    // Short: after the negative TTL (5 s) the token is verified again.
    world.emulator.clock().advance(Duration::from_secs(6));
    get_me(&app, unknown).await;
    assert_eq!(world.verifies_seen(), 2);
    assert_eq!(hits.load(Ordering::SeqCst), 0, "the handler never ran");
    capture.assert_clean(&[unknown]);
}

#[tokio::test]
async fn rebilly_refusing_the_layers_key_is_a_500_logged_and_not_cached() {
    let (capture, world, token) = ada_logged_in().await;
    let client = world.layer_client_with(Auth::publishable_key("pk_wrong_key_of_the_test"));
    let auth = RebillyAuth::builder(client)
        .clock(Arc::new(world.clock()))
        .build()
        .unwrap();
    let app = app(&auth);

    let answer = get_me(&app, token.expose()).await;
    assert_eq!(answer.status, 500, "{answer:?}");
    assert!(answer.challenge().is_none());
    get_me(&app, token.expose()).await;
    assert_eq!(
        world.verifies_seen(),
        2,
        "a misconfiguration is never cached"
    );
    assert_eq!(auth.metrics().upstream_misconfigured, 2);
    let log = capture.text();
    assert!(log.contains("ERROR"), "{log}");
    assert!(log.contains("misconfigured"), "{log}");

    // A 403 from Rebilly is the same misconfiguration.
    let auth = world.auth().build().unwrap();
    let app = common::app(&auth);
    world.fault_verifies(Fault::Status(StatusCode::FORBIDDEN), 1);
    assert_eq!(get_me(&app, token.expose()).await.status, 500);
    assert_eq!(get_me(&app, token.expose()).await.status, 200);
    capture.assert_clean(&[token.expose()]);
}

#[tokio::test]
async fn an_undecodable_answer_is_a_502_and_not_cached() {
    let (capture, world, token, auth, app) = ada_behind_the_layer().await;

    for fault in [
        Fault::MalformedJson,
        Fault::WrongContentType,
        Fault::EmptyBody,
    ] {
        world.fault_verifies(fault, 1);
        let answer = get_me(&app, token.expose()).await;
        assert_eq!(answer.status, 502, "{answer:?}");
    }
    // Nothing was cached: the next request verifies again and passes.
    assert_eq!(get_me(&app, token.expose()).await.status, 200);
    assert_eq!(world.verifies_seen(), 4);
    assert_eq!(auth.metrics().upstream_bad_answer, 3);
    capture.assert_clean(&[token.expose()]);
}

#[tokio::test]
async fn an_answer_about_another_token_or_without_customer_is_a_502() {
    let capture = Capture::start();
    let fake = RecordingTransport::new();
    let (auth, app) = layer_over(&fake);
    let token = "tok_asked_about_0123456789";

    // Token mismatch.
    fake.respond(
        200,
        &serde_json::json!({"username": "ada", "customerId": "cus_1", "token": "tok_someone_else_0123"}),
    );
    assert_eq!(get_me(&app, token).await.status, 502);
    // No customerId.
    fake.respond(200, &TokenVerification::new("ada"));
    assert_eq!(get_me(&app, token).await.status, 502);
    // An unexpected status (400).
    fake.respond(400, &serde_json::json!({"title": "bad request"}));
    assert_eq!(get_me(&app, token).await.status, 502);
    assert_eq!(fake.request_count(), 3, "none of them was cached");
    assert_eq!(auth.metrics().upstream_bad_answer, 3);
    capture.assert_clean(&[token, "tok_someone_else_0123"]);
}

#[tokio::test]
async fn rebilly_unavailable_is_a_503_with_retry_after_where_known() {
    let (capture, world, token, auth, app) = ada_behind_the_layer().await;

    // 5xx, both attempts (the layer's client retries once).
    world.fault_verifies(Fault::Status(StatusCode::BAD_GATEWAY), 2);
    let answer = get_me(&app, token.expose()).await;
    assert_eq!(answer.status, 503, "{answer:?}");
    assert_eq!(answer.retry_after(), None, "Rebilly gave no wait");
    assert_eq!(world.verifies_seen(), 2, "one retry, no more");

    world.fault_verifies(Fault::Status(StatusCode::INTERNAL_SERVER_ERROR), 1);
    assert_eq!(get_me(&app, token.expose()).await.status, 503);
    assert_eq!(world.verifies_seen(), 3, "a 500 is not retried");

    // Rate limited, with a wait longer than the layer's deadline: answered at once.
    let retry_after = Duration::from_secs(7);
    world.fault_verifies(Fault::RateLimited { retry_after }, 1);
    let answer = get_me(&app, token.expose()).await;
    assert_eq!(answer.status, 503, "{answer:?}");
    assert_eq!(answer.retry_after(), Some("7"));

    // Connection dropped (twice: the retry too).
    world.fault_verifies(Fault::DropBeforeProcessing, 2);
    assert_eq!(get_me(&app, token.expose()).await.status, 503);

    // None of it was cached: now it passes.
    assert_eq!(get_me(&app, token.expose()).await.status, 200);
    assert_eq!(auth.metrics().upstream_unavailable, 4);
    capture.assert_clean(&[token.expose()]);
}

#[tokio::test]
async fn a_connect_failure_is_a_503() {
    let capture = Capture::start();
    let fake = RecordingTransport::new();
    let (_auth, app) = layer_over(&fake);
    fake.respond_error(TransportError::connect("connection refused"));
    let answer = get_me(&app, "tok_connect_failure_0123").await;
    assert_eq!(answer.status, 503);
    assert_eq!(answer.retry_after(), None);
    capture.assert_clean(&["tok_connect_failure_0123"]);
}

#[tokio::test(start_paused = true)]
async fn a_verify_past_the_layers_deadline_is_a_503() {
    // Tokio's paused clock: the 2 s deadline passes without waiting.
    let (capture, world, token, auth, app) = ada_behind_the_layer().await;
    world.fault_verifies(Fault::Delay(Duration::from_secs(60)), 1);
    let answer = get_me(&app, token.expose()).await;
    assert_eq!(answer.status, 503, "{answer:?}");
    assert_eq!(auth.metrics().upstream_unavailable, 1);
    capture.assert_clean(&[token.expose()]);
}

#[tokio::test]
async fn missing_or_malformed_tokens_never_reach_rebilly_nor_the_handler() {
    let capture = Capture::start();
    let world = World::new().await;
    let auth = world.auth().build().unwrap();
    let (app, hits) = counted_app(&auth);

    let none = send(&app, Method::GET, "/me", &[]).await;
    assert_refused(&none, 401, Some("Bearer"));
    let basic = send(
        &app,
        Method::GET,
        "/me",
        &[("authorization", "Basic YWRhOnB3")],
    )
    .await;
    assert_refused(&basic, 401, Some("Bearer"));
    let long = format!("Bearer {}", "a".repeat(2000));
    for malformed in ["Bearer", "Bearer two tokens", "Bearer ..", long.as_str()] {
        let answer = send(&app, Method::GET, "/me", &[("authorization", malformed)]).await;
        assert_refused(&answer, 401, Some(r#"Bearer error="invalid_request""#));
    }
    let twice = send(
        &app,
        Method::GET,
        "/me",
        &[
            ("authorization", "Bearer aaaaaaaaaa"),
            ("authorization", "Bearer bbbbbbbbbb"),
        ],
    )
    .await;
    assert_refused(&twice, 401, Some(r#"Bearer error="invalid_request""#));

    assert_eq!(world.verifies_seen(), 0);
    assert_eq!(hits.load(Ordering::SeqCst), 0);
    let metrics = auth.metrics();
    assert_eq!((metrics.missing_token, metrics.malformed_token), (2, 5));
    // authenticate() applies the same rules.
    assert_eq!(
        auth.authenticate("with space").await,
        Err(Rejection::MalformedToken)
    );
    assert_eq!(auth.authenticate("").await, Err(Rejection::MissingToken));
    assert_eq!(world.verifies_seen(), 0);
    capture.assert_clean(&["aaaaaaaaaa", "bbbbbbbbbb"]);
}

#[tokio::test]
async fn cookie_source_with_the_csrf_origin_check() {
    let (capture, world, token) = ada_logged_in().await;
    let auth = world
        .auth()
        .token_source(TokenSource::cookie("session"))
        .allowed_origins(["https://shop.example"])
        .build()
        .unwrap();
    let (app, hits) = counted_app(&auth);
    let cookie = format!("theme=dark; session={}", token.expose());

    // Safe methods need no Origin.
    let answer = send(&app, Method::GET, "/me", &[("cookie", &cookie)]).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    // Unsafe ones need an allowed Origin.
    let answer = send(&app, Method::POST, "/me", &[("cookie", &cookie)]).await;
    assert_eq!(answer.status, 403, "no Origin");
    let evil = [
        ("cookie", cookie.as_str()),
        ("origin", "https://evil.example"),
    ];
    assert_eq!(send(&app, Method::POST, "/me", &evil).await.status, 403);
    let null = [("cookie", cookie.as_str()), ("origin", "null")];
    assert_eq!(send(&app, Method::POST, "/me", &null).await.status, 403);
    let good = [
        ("cookie", cookie.as_str()),
        ("origin", "https://shop.example"),
    ];
    assert_eq!(send(&app, Method::POST, "/me", &good).await.status, 200);
    assert_eq!(hits.load(Ordering::SeqCst), 2);
    assert_eq!(auth.metrics().cross_origin, 3);
    assert_eq!(world.verifies_seen(), 1);

    // The bearer header is not read with a cookie source.
    let answer = send_bearer(&app, Method::GET, "/me", token.expose()).await;
    assert_refused(&answer, 401, Some("Bearer"));
    // Two session cookies are ambiguous.
    let doubled = format!("session={0}; session={0}", token.expose());
    let answer = send(&app, Method::GET, "/me", &[("cookie", &doubled)]).await;
    assert_refused(&answer, 401, Some(r#"Bearer error="invalid_request""#));

    // A cookie source without allowed origins is refused at build time.
    assert!(
        world
            .auth()
            .token_source(TokenSource::cookie("session"))
            .build()
            .is_err()
    );
    capture.assert_clean(&[token.expose()]);
}

#[tokio::test]
async fn named_header_source() {
    let capture = Capture::start();
    let world = World::new().await;
    let token = world.login("bob").await;
    let auth = world
        .auth()
        .token_source(TokenSource::header(HeaderName::from_static(
            "x-customer-token",
        )))
        .build()
        .unwrap();
    let app = app(&auth);
    let answer = send(
        &app,
        Method::POST,
        "/me",
        &[("x-customer-token", token.expose())],
    )
    .await;
    assert_eq!(answer.status, 200, "no Origin needed with a header source");
    assert_eq!(answer.body, "cus_bob bob false");
    let answer = send(&app, Method::GET, "/me", &[]).await;
    assert_refused(&answer, 401, Some("Bearer"));
    capture.assert_clean(&[token.expose()]);
}

#[tokio::test]
async fn a_pending_one_time_password_is_refused_unless_allowed() {
    let capture = Capture::start();
    let world = World::new().await;
    let token = world
        .login_with(Login::password("ada", "pw-of-the-test").otp_required(true))
        .await;

    let strict = world.auth().build().unwrap();
    let app = app(&strict);
    let answer = get_me(&app, token.expose()).await;
    assert_refused(
        &answer,
        401,
        Some(r#"Bearer error="insufficient_user_authentication""#),
    );
    // Cached, and still refused.
    let answer = get_me(&app, token.expose()).await;
    assert_eq!(answer.status, 401);
    assert_eq!(strict.metrics().otp_refused, 2);
    assert_eq!(world.verifies_seen(), 1);

    let lenient = world.auth().allow_pending_otp(true).build().unwrap();
    let app = common::app(&lenient);
    let answer = get_me(&app, token.expose()).await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.body, "cus_ada ada true",
        "the handler sees the OTP pending"
    );
    capture.assert_clean(&[token.expose()]);
}

#[tokio::test]
async fn optional_login() {
    let (capture, world, token, _auth, app) = ada_behind_the_layer().await;

    let anonymous = send(&app, Method::GET, "/maybe", &[]).await;
    assert_eq!(
        (anonymous.status.as_u16(), anonymous.body.as_str()),
        (200, "anonymous")
    );
    let known = send_bearer(&app, Method::GET, "/maybe", token.expose()).await;
    assert_eq!((known.status.as_u16(), known.body.as_str()), (200, "ada"));
    let stale = send(
        &app,
        Method::GET,
        "/maybe",
        &[("authorization", "Bearer ffffffffffffffffffffffff")],
    )
    .await;
    assert_eq!(
        (stale.status.as_u16(), stale.body.as_str()),
        (200, "anonymous")
    );
    // An outage is not hidden as "logged out".
    world.fault_verifies(Fault::Status(StatusCode::SERVICE_UNAVAILABLE), 2);
    let other = world.login("bob").await;
    let answer = send_bearer(&app, Method::GET, "/maybe", other.expose()).await;
    assert_eq!(answer.status, 503);
    capture.assert_clean(&[token.expose(), other.expose()]);
}

#[tokio::test]
async fn the_extractor_without_the_layer_is_a_500() {
    use axum::routing::get;
    let capture = Capture::start();
    let app = axum::Router::new().route(
        "/me",
        get(|c: rebilly_auth_axum::AuthenticatedCustomer| async move { c.username().to_owned() }),
    );
    let answer = send(
        &app,
        Method::GET,
        "/me",
        &[("authorization", "Bearer tok_0123456789")],
    )
    .await;
    assert_eq!(answer.status, 500);
    assert!(capture.text().contains("without the RebillyAuthLayer"));
}

#[tokio::test]
async fn any_client_will_do_the_layer_sets_each_verifys_retries_itself() {
    let (capture, world, token) = common::ada_logged_in().await;
    // A client of the application's own, retrying up to 5 times.
    let client = rebilly_auth_core::Client::builder()
        .organization(common::ORG)
        .auth(rebilly_auth_core::Auth::publishable_key(
            common::PUBLISHABLE_KEY,
        ))
        .retry_policy(rebilly_auth_core::RetryPolicy::default().max_attempts(5))
        .transport(world.emulator.clone())
        .build()
        .unwrap();
    let auth = RebillyAuth::builder(client).build().unwrap();
    let app = common::app(&auth);
    world.fault_verifies(Fault::Status(StatusCode::BAD_GATEWAY), 4);
    assert_eq!(get_me(&app, token.expose()).await.status, 503);
    assert_eq!(
        world.verifies_seen(),
        2,
        "the layer's one retry, not the client's four"
    );
    capture.assert_clean(&[token.expose()]);
}
