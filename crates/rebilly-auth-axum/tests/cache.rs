//! The verify cache as a user sees it: single flight, staleness and expiry on the emulator's
//! clock, logout tombstones (also against a verify in flight), the negative cache, the cap on
//! upstream verifies and a flood of bad tokens. No test sleeps: time is the emulator's clock,
//! or tokio's paused clock where the emulator delays an answer. Every test checks that its
//! TRACE output holds no token.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use common::{
    Answer, Capture, World, ada_behind_the_layer, ada_logged_in, app, counted_app, get_me,
    send_bearer,
};
use http::{Method, StatusCode};
use rebilly_auth_axum::{RebillyAuth, Rejection};
use rebilly_auth_core::OperationId;
use rebilly_auth_core::models::Login;
use rebilly_auth_core::{Auth, Client, HttpTransport, TransportError};
use rebilly_auth_testing::emulator::{Emulator, Fault};
use tokio::sync::Barrier;
use tokio::task::JoinHandle;

/// Lets the spawned requests run until `done` holds (no timer involved).
async fn run_until(mut done: impl FnMut() -> bool) {
    for _ in 0..100_000 {
        if done() {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("the condition never held");
}

/// `GET /me` with `token`, on a task of its own.
fn spawn_get_me(app: &axum::Router, token: &str) -> JoinHandle<Answer> {
    let (app, token) = (app.clone(), token.to_owned());
    tokio::spawn(async move { get_me(&app, &token).await })
}

#[tokio::test(start_paused = true)]
async fn a_burst_of_200_identical_requests_makes_one_verify() {
    let (capture, world, token) = ada_logged_in().await;
    let auth = world.auth().build().unwrap();
    let (app, hits) = counted_app(&auth);
    world.emulator.clear_request_log();
    world.fault_verifies(Fault::Delay(Duration::from_millis(200)), 1);

    let barrier = Arc::new(Barrier::new(200));
    let mut tasks = Vec::new();
    for _ in 0..200 {
        let (app, barrier, token) = (app.clone(), barrier.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            get_me(&app, token.expose()).await
        }));
    }
    for task in tasks {
        let answer = task.await.unwrap();
        assert_eq!(answer.status, 200, "{answer:?}");
        assert_eq!(answer.body, "cus_ada ada false");
    }
    assert_eq!(world.verifies_executed(), 1, "exactly one upstream verify");
    assert_eq!(hits.load(Ordering::SeqCst), 200);
    let metrics = auth.metrics();
    assert_eq!(metrics.upstream_verifies, 1);
    assert_eq!(metrics.misses, 200);
    assert_eq!(metrics.coalesced, 199);
    capture.assert_clean(&[token.expose()]);
}

#[tokio::test]
async fn past_max_staleness_one_more_verify() {
    let (capture, world, token, _auth, app) = ada_behind_the_layer().await; // max_staleness 30 s

    for _ in 0..3 {
        assert_eq!(get_me(&app, token.expose()).await.status, 200);
    }
    assert_eq!(world.verifies_executed(), 1);
    world.emulator.clock().advance(Duration::from_secs(29));
    assert_eq!(get_me(&app, token.expose()).await.status, 200);
    assert_eq!(world.verifies_executed(), 1, "still fresh at +29 s");
    world.emulator.clock().advance(Duration::from_secs(2));
    for _ in 0..3 {
        assert_eq!(get_me(&app, token.expose()).await.status, 200);
    }
    assert_eq!(
        world.verifies_executed(),
        2,
        "exactly one more verify past 30 s"
    );
    capture.assert_clean(&[token.expose()]);
}

#[tokio::test]
async fn a_token_expiring_in_5_s_is_refused_at_6_s_whatever_max_staleness() {
    let capture = Capture::start();
    let world = World::new().await;
    let expiry = world.emulator.clock().now() + time::Duration::seconds(5);
    let token = world
        .login_with(Login::password("ada", "pw-of-the-test").expired_time(expiry))
        .await;
    let auth = world
        .auth()
        .max_staleness(Duration::from_secs(24 * 3600))
        .build()
        .unwrap();
    let app = app(&auth);

    assert_eq!(get_me(&app, token.expose()).await.status, 200);
    world.emulator.clock().advance(Duration::from_secs(6));
    let answer = get_me(&app, token.expose()).await;
    assert_eq!(answer.status, 401, "{answer:?}");
    assert_eq!(answer.challenge(), Some(r#"Bearer error="invalid_token""#));
    capture.assert_clean(&[token.expose()]);
}

#[tokio::test]
async fn the_cache_never_outlives_the_token_even_if_rebilly_still_says_valid() {
    // A recording fake that keeps answering "valid" with an expiry 10 s away from the start:
    // the entry lives until expiry − 5 s, then the layer's own clock refuses the token.
    let capture = Capture::start();
    let fake = rebilly_auth_testing::RecordingTransport::new();
    let (client, clock) = fake.client_with_clock();
    let start = time::OffsetDateTime::from(rebilly_auth_core::Clock::now(&clock));
    let answer = serde_json::json!({
        "username": "ada",
        "customerId": "cus_ada",
        "expiredTime": (start + time::Duration::seconds(10))
            .format(&time::format_description::well_known::Rfc3339).unwrap(),
    });
    fake.respond_with(move |_| Ok(rebilly_auth_testing::json_response(200, &answer)));
    let auth = RebillyAuth::builder(client)
        .clock(Arc::new(clock.clone()))
        .max_staleness(Duration::from_secs(3600))
        .build()
        .unwrap();
    let token = "tok_expiring_0123456789";
    assert!(auth.authenticate(token).await.is_ok());
    clock.advance(Duration::from_secs(4));
    assert!(auth.authenticate(token).await.is_ok());
    assert_eq!(fake.request_count(), 1, "cached until expiry − 5 s");
    clock.advance(Duration::from_secs(2)); // +6 s: past expiry − skew
    assert!(auth.authenticate(token).await.is_ok());
    assert_eq!(
        fake.request_count(),
        2,
        "verified again near expiry, not cached"
    );
    clock.advance(Duration::from_secs(5)); // +11 s: expired by our clock
    assert_eq!(auth.authenticate(token).await, Err(Rejection::InvalidToken));
    capture.assert_clean(&[token]);
}

#[tokio::test]
async fn logout_through_the_helper_refuses_the_token_without_a_verify() {
    let (capture, world, token, auth, app) = ada_behind_the_layer().await;

    assert_eq!(get_me(&app, token.expose()).await.status, 200);
    let logout = send_bearer(&app, Method::POST, "/logout", token.expose()).await;
    assert_eq!(logout.status, StatusCode::NO_CONTENT, "{logout:?}");
    assert_eq!(
        world
            .emulator
            .executed(OperationId::DeleteAuthenticationToken),
        1,
        "logged out upstream too"
    );
    let answer = get_me(&app, token.expose()).await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.challenge(), Some(r#"Bearer error="invalid_token""#));
    assert_eq!(world.verifies_seen(), 1, "no verify after logout");
    assert_eq!(auth.metrics().revoked_hits, 1);

    // Another token of the same customer is unaffected.
    let other = world.login("ada").await;
    assert_eq!(get_me(&app, other.expose()).await.status, 200);

    // RebillyAuth::logout does the same without a route.
    auth.logout(other.expose()).await.unwrap();
    assert_eq!(get_me(&app, other.expose()).await.status, 401);
    assert_eq!(world.verifies_seen(), 2);
    capture.assert_clean(&[token.expose(), other.expose()]);
}

/// Starts a request whose verify the emulator delays, and returns once that verify is in
/// flight.
async fn request_with_verify_in_flight(
    world: &World,
    auth: &RebillyAuth,
    app: &axum::Router,
    token: &str,
) -> JoinHandle<Answer> {
    world.fault_verifies(Fault::Delay(Duration::from_millis(200)), 1);
    let before = auth.metrics().upstream_verifies;
    let task = spawn_get_me(app, token);
    run_until(|| auth.metrics().upstream_verifies > before).await;
    task
}

#[tokio::test(start_paused = true)]
async fn an_invalidation_during_a_verify_in_flight_wins() {
    // `invalidate` tells the layer only (Rebilly still says valid): the tombstone alone
    // must keep the answer in flight from being cached or served.
    let (capture, world, token, auth, app) = ada_behind_the_layer().await;

    let in_flight = request_with_verify_in_flight(&world, &auth, &app, token.expose()).await;
    auth.invalidate(token.expose()).await.unwrap();
    let answer = in_flight.await.unwrap();
    assert_eq!(
        answer.status, 401,
        "the request racing the logout is refused"
    );
    assert_eq!(world.verifies_executed(), 1);
    assert_eq!(auth.metrics().upstream_valid, 1, "Rebilly did say valid");

    let answer = get_me(&app, token.expose()).await;
    assert_eq!(answer.status, 401, "{answer:?}");
    assert_eq!(world.verifies_seen(), 1, "no verify after the invalidation");
    capture.assert_clean(&[token.expose()]);
}

#[tokio::test(start_paused = true)]
async fn a_logout_during_a_verify_in_flight_wins() {
    let (capture, world, token, auth, app) = ada_behind_the_layer().await;

    let in_flight = request_with_verify_in_flight(&world, &auth, &app, token.expose()).await;
    auth.logout(token.expose()).await.unwrap();
    assert_eq!(in_flight.await.unwrap().status, 401);
    let answer = get_me(&app, token.expose()).await;
    assert_eq!(answer.status, 401);
    assert_eq!(world.verifies_seen(), 1, "no verify after the logout");
    capture.assert_clean(&[token.expose()]);
}

#[tokio::test]
async fn only_a_404_is_cached_negatively() {
    let (capture, world, token, auth, app) = ada_behind_the_layer().await;

    let failures = [
        Fault::Status(StatusCode::INTERNAL_SERVER_ERROR),
        Fault::Status(StatusCode::UNAUTHORIZED),
        Fault::MalformedJson,
        Fault::RateLimited {
            retry_after: Duration::from_secs(60),
        },
    ];
    let mut seen = world.verifies_seen();
    for fault in failures {
        world.fault_verifies(fault.clone(), 1);
        assert_ne!(get_me(&app, token.expose()).await.status, 200, "{fault:?}");
        // The next request asks Rebilly again, and passes.
        assert_eq!(get_me(&app, token.expose()).await.status, 200, "{fault:?}");
        assert_eq!(world.verifies_seen(), seen + 2, "{fault:?} was cached");
        seen += 2;
        // Start from an empty cache for the next fault.
        world.emulator.clock().advance(Duration::from_secs(31));
    }
    assert_eq!(auth.metrics().negative_hits, 0);
    capture.assert_clean(&[token.expose()]);
}

/// The emulator behind a gauge: upstream verifies in flight (the most at once) and verifies
/// per path. It yields inside each call so that calls overlap.
#[derive(Clone)]
struct Gauge {
    emulator: Emulator,
    now: Arc<AtomicUsize>,
    max: Arc<AtomicUsize>,
    per_path: Arc<Mutex<HashMap<String, usize>>>,
}

#[async_trait]
impl HttpTransport for Gauge {
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.max.fetch_max(now, Ordering::SeqCst);
        *self
            .per_path
            .lock()
            .unwrap()
            .entry(request.uri().path().to_owned())
            .or_default() += 1;
        for _ in 0..3 {
            tokio::task::yield_now().await;
        }
        let response = self.emulator.send(request).await;
        self.now.fetch_sub(1, Ordering::SeqCst);
        response
    }
}

#[tokio::test]
async fn ten_thousand_distinct_bad_tokens_stay_within_every_bound() {
    let capture = Capture::start();
    let world = World::new().await;
    let gauge = Gauge {
        emulator: world.emulator.clone(),
        now: Arc::default(),
        max: Arc::default(),
        per_path: Arc::default(),
    };
    let client = Client::builder()
        .organization(common::ORG)
        .auth(Auth::publishable_key(common::PUBLISHABLE_KEY))
        .transport(gauge.clone())
        .build()
        .unwrap();
    let auth = RebillyAuth::builder(client)
        .clock(Arc::new(world.clock()))
        .capacity(100)
        .negative_capacity(1000)
        .max_concurrent_verifies(8)
        .build()
        .unwrap();
    let app = app(&auth);

    let tokens: Vec<String> = (0..10_000).map(|i| format!("bad-token-{i:08}-x")).collect();
    let mut statuses = HashMap::new();
    // Waves of 32 tokens, each sent twice at once.
    for wave in tokens.chunks(32) {
        let mut tasks = Vec::new();
        for token in wave.iter().chain(wave.iter()) {
            tasks.push(spawn_get_me(&app, token));
        }
        for task in tasks {
            *statuses
                .entry(task.await.unwrap().status.as_u16())
                .or_insert(0usize) += 1;
        }
    }

    assert_eq!(
        statuses.keys().filter(|s| **s != 401 && **s != 503).count(),
        0,
        "{statuses:?}"
    );
    assert!(statuses.get(&401).copied().unwrap_or(0) > 0, "{statuses:?}");
    let per_path = gauge.per_path.lock().unwrap().clone();
    assert!(
        per_path.values().all(|n| *n == 1),
        "a bad token caused more than one verify"
    );
    assert!(per_path.len() <= tokens.len());
    assert_eq!(auth.metrics().upstream_verifies, per_path.len() as u64);
    let max = gauge.max.load(Ordering::SeqCst);
    assert!(
        max <= 8,
        "{max} verifies in flight at once, over the cap of 8"
    );
    let (valid, negative) = auth.memory_cache().unwrap().entry_counts().await;
    assert!(valid <= 100, "{valid}");
    assert!(
        negative <= 1000,
        "{negative} negative entries, over the bound of 1000"
    );
    let samples: Vec<&str> = tokens.iter().step_by(997).map(String::as_str).collect();
    capture.assert_clean(&samples);
}

#[tokio::test(start_paused = true)]
async fn past_the_slots_a_bounded_queue_then_a_503_with_retry_after() {
    // 4 slots: 3 general, 1 reserved for known sessions (none here). Each verify takes
    // 1.5 s; the queue holds 8 per general slot (24) and a wait lasts the verify deadline
    // (2 s). Of 40 distinct tokens at once: 3 verify at once, 3 more after 1.5 s in the
    // queue, 21 wait 2 s and get 503, 13 find the queue full and get 503 at once.
    let capture = Capture::start();
    let world = World::new().await;
    let auth = world.auth().max_concurrent_verifies(4).build().unwrap();
    let app = app(&auth);
    let tokens: Vec<String> = (0..40).map(|i| format!("token-number-{i:04}")).collect();
    world.fault_verifies(Fault::Delay(Duration::from_millis(1500)), 40);
    let tasks: Vec<_> = tokens
        .iter()
        .map(|token| spawn_get_me(&app, token))
        .collect();
    let mut overloaded = 0;
    for task in tasks {
        let answer = task.await.unwrap();
        match answer.status.as_u16() {
            401 => {}
            503 => {
                assert_eq!(answer.retry_after(), Some("1"));
                overloaded += 1;
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(overloaded, 34);
    assert_eq!(world.verifies_seen(), 6);
    assert_eq!(auth.metrics().over_capacity, 34);
    let refs: Vec<&str> = tokens.iter().map(String::as_str).collect();
    capture.assert_clean(&refs);
}

/// A "shared store" for the test: an in-memory cache behind the trait, counting writes.
#[derive(Debug)]
struct SharedStore {
    inner: rebilly_auth_axum::MemoryCache,
    puts: AtomicUsize,
}

impl rebilly_auth_axum::VerifyCache for SharedStore {
    fn get<'a>(
        &'a self,
        key: &'a rebilly_auth_axum::CacheKey,
        now: std::time::SystemTime,
    ) -> rebilly_auth_axum::cache::BoxFuture<'a, Option<rebilly_auth_axum::CachedAnswer>> {
        self.inner.get(key, now)
    }

    fn put<'a>(
        &'a self,
        key: rebilly_auth_axum::CacheKey,
        answer: rebilly_auth_axum::CachedAnswer,
        now: std::time::SystemTime,
    ) -> rebilly_auth_axum::cache::BoxFuture<'a, ()> {
        self.puts.fetch_add(1, Ordering::SeqCst);
        self.inner.put(key, answer, now)
    }

    fn revoke<'a>(
        &'a self,
        key: rebilly_auth_axum::CacheKey,
        until: std::time::SystemTime,
        now: std::time::SystemTime,
    ) -> rebilly_auth_axum::cache::BoxFuture<'a, Result<(), rebilly_auth_axum::RevokeError>> {
        self.inner.revoke(key, until, now)
    }
}

#[tokio::test]
async fn a_fleet_shares_answers_and_logouts_through_a_store_and_a_digest_key() {
    let (capture, world, token) = ada_logged_in().await;
    let store = Arc::new(SharedStore {
        inner: rebilly_auth_axum::MemoryCache::new(100, 100),
        puts: AtomicUsize::new(0),
    });
    let key = [42u8; 32];
    let process_a = world
        .auth()
        .cache(store.clone())
        .digest_key(key)
        .build()
        .unwrap();
    let process_b = world
        .auth()
        .cache(store.clone())
        .digest_key(key)
        .build()
        .unwrap();
    assert!(process_a.memory_cache().is_none());
    let (app_a, app_b) = (app(&process_a), app(&process_b));

    assert_eq!(get_me(&app_a, token.expose()).await.status, 200);
    assert_eq!(get_me(&app_b, token.expose()).await.status, 200);
    assert_eq!(world.verifies_seen(), 1, "B read A's answer from the store");
    assert_eq!(store.puts.load(Ordering::SeqCst), 1);
    // A logout in A is seen by B.
    process_a.logout(token.expose()).await.unwrap();
    assert_eq!(get_me(&app_b, token.expose()).await.status, 401);
    assert_eq!(world.verifies_seen(), 1);

    // Without the shared digest key, the processes' keys differ: no sharing.
    let other = world.login("bob").await;
    let process_c = world.auth().cache(store.clone()).build().unwrap();
    let app_c = app(&process_c);
    assert_eq!(get_me(&app_a, other.expose()).await.status, 200);
    assert_eq!(get_me(&app_c, other.expose()).await.status, 200);
    assert_eq!(world.verifies_seen(), 3);
    capture.assert_clean(&[token.expose(), other.expose()]);
}
