//! Attacks on the layer's bounds (issue 23): ordinary traffic must not undo a logout, a flood
//! of bogus tokens must starve neither known sessions nor fresh logins, and odd verify
//! answers fail closed. No test sleeps on the wall clock: the layer's clock is the emulator's
//! manual one, and the emulator's delays run on tokio's paused clock.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use common::{Answer, World, app, get_me};
use rebilly_auth_axum::{BuildError, LogoutError, RebillyAuth, Rejection, RevokeError};
use rebilly_auth_core::OperationId;
use rebilly_auth_core::models::{AuthToken, Login};
use rebilly_auth_testing::emulator::{Fault, RequestMatcher};

/// `n` valid sessions, alternating between the world's two customers.
async fn sessions(world: &World, n: usize) -> Vec<AuthToken> {
    let mut tokens = Vec::with_capacity(n);
    for i in 0..n {
        tokens.push(world.login(if i % 2 == 0 { "ada" } else { "bob" }).await);
    }
    tokens
}

#[tokio::test(start_paused = true)]
async fn a_thousand_other_sessions_do_not_undo_a_logout_or_an_invalidation() {
    let world = World::new().await;
    let auth = world.auth().capacity(100).build().unwrap();
    let app = app(&auth);
    let x = world.login("ada").await;
    let y = world.login("bob").await;
    assert_eq!(get_me(&app, x.expose()).await.status, 200);
    assert_eq!(get_me(&app, y.expose()).await.status, 200);

    // x: logged out while Rebilly's DELETE fails (every attempt), so only the tombstone
    // refuses it. y: invalidated here only.
    world.emulator.inject(
        RequestMatcher::operation(OperationId::DeleteAuthenticationToken),
        Fault::Status(http::StatusCode::SERVICE_UNAVAILABLE).times(100),
    );
    assert!(auth.logout(x.expose()).await.is_err(), "the DELETE failed");
    assert_eq!(
        world
            .emulator
            .executed(OperationId::DeleteAuthenticationToken),
        0
    );
    auth.invalidate(y.expose()).await.unwrap();

    // Ten times the answers cache's capacity in other valid sessions, one request each.
    for token in sessions(&world, 1_000).await {
        assert_eq!(get_me(&app, token.expose()).await.status, 200);
    }
    for (name, token) in [("x", &x), ("y", &y)] {
        let answer = get_me(&app, token.expose()).await;
        assert_eq!(answer.status, 401, "{name} was accepted again: {answer:?}");
    }
}

/// How the flood test's requests fared.
#[derive(Default)]
struct Tally {
    passed: AtomicUsize,
    failed: AtomicUsize,
}

impl Tally {
    fn record(&self, answer: &Answer) {
        if answer.status == 200 {
            self.passed.fetch_add(1, Ordering::SeqCst);
        } else {
            self.failed.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counts(&self) -> (usize, usize) {
        (
            self.passed.load(Ordering::SeqCst),
            self.failed.load(Ordering::SeqCst),
        )
    }
}

#[tokio::test(start_paused = true)]
async fn a_flood_of_bogus_tokens_starves_neither_known_sessions_nor_fresh_logins() {
    const SLOTS: usize = 32;
    const ATTACKERS: usize = 64;
    const KNOWN: usize = 100;
    const REQUESTS_PER_KNOWN: usize = 5;
    const FRESH: usize = 50;

    let world = World::new().await;
    let auth = world.auth().max_concurrent_verifies(SLOTS).build().unwrap();
    let app = app(&auth);
    let known = sessions(&world, KNOWN).await;
    for token in &known {
        assert_eq!(get_me(&app, token.expose()).await.status, 200);
    }
    let fresh = sessions(&world, FRESH).await;
    // Every cached answer is past max_staleness (30 s) on the layer's clock, which then
    // stands still: what changes during the flood is tokio's (paused) clock only.
    world.emulator.clock().advance(Duration::from_secs(31));
    // Every verify from now on takes 100 ms.
    world.fault_verifies(Fault::Delay(Duration::from_millis(100)), 10_000_000);

    // 64 clients, each sending distinct bogus tokens one after another, as fast as answered.
    let stop = Arc::new(AtomicBool::new(false));
    let mut attackers = Vec::new();
    for client in 0..ATTACKERS {
        let (app, stop) = (app.clone(), stop.clone());
        attackers.push(tokio::spawn(async move {
            let mut sent = 0u64;
            while !stop.load(Ordering::SeqCst) {
                let token = format!(
                    "bogus-{client:03}-{sent:012}-{:016x}",
                    sent.wrapping_mul(0x9e37_79b9_7f4a_7c15)
                );
                sent += 1;
                let answer = get_me(&app, &token).await;
                if answer.status == 503 {
                    // An immediate refusal: wait a millisecond so that tokio's paused clock
                    // keeps moving (a busy loop would freeze it).
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
            sent
        }));
    }
    // The flood holds every slot before the sessions arrive.
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert!(auth.metrics().upstream_verifies >= SLOTS as u64);

    let known_tally = Arc::new(Tally::default());
    let fresh_tally = Arc::new(Tally::default());
    let mut sessions = Vec::new();
    for token in known {
        let (app, tally) = (app.clone(), known_tally.clone());
        sessions.push(tokio::spawn(async move {
            for _ in 0..REQUESTS_PER_KNOWN {
                tally.record(&get_me(&app, token.expose()).await);
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }));
    }
    for token in fresh {
        let (app, tally) = (app.clone(), fresh_tally.clone());
        sessions.push(tokio::spawn(async move {
            tally.record(&get_me(&app, token.expose()).await);
        }));
    }
    for session in sessions {
        session.await.unwrap();
    }
    stop.store(true, Ordering::SeqCst);
    let mut bogus = 0;
    for attacker in attackers {
        bogus += attacker.await.unwrap();
    }

    let (known_passed, known_failed) = known_tally.counts();
    let (fresh_passed, fresh_failed) = fresh_tally.counts();
    eprintln!(
        "bogus requests {bogus}; known {known_passed} passed, {known_failed} failed; \
         fresh {fresh_passed} passed, {fresh_failed} failed; {:?}",
        auth.metrics()
    );
    assert!(bogus > 300, "the flood ran ({bogus} requests)");
    let known_total = KNOWN * REQUESTS_PER_KNOWN;
    assert!(
        known_passed * 100 >= known_total * 95,
        "{known_passed} of {known_total} requests of known sessions passed"
    );
    assert!(
        fresh_passed >= 45,
        "{fresh_passed} of {FRESH} fresh sessions admitted"
    );
}

/// A layer over a fake upstream that answers every verify with `answer`.
fn layer_answering(answer: serde_json::Value) -> RebillyAuth {
    let fake = rebilly_auth_testing::RecordingTransport::new();
    let (client, clock) = fake.client_with_clock();
    fake.respond_with(move |_| Ok(rebilly_auth_testing::json_response(200, &answer)));
    RebillyAuth::builder(client)
        .clock(Arc::new(clock))
        .build()
        .unwrap()
}

#[tokio::test]
async fn an_empty_customer_id_is_a_bad_upstream_answer() {
    let auth = layer_answering(serde_json::json!({
        "username": "ada", "customerId": "", "otpRequired": false,
    }));
    assert_eq!(
        auth.authenticate("tok_empty_customer_0123").await,
        Err(Rejection::BadUpstreamAnswer)
    );
    assert_eq!(auth.metrics().upstream_bad_answer, 1);
}

#[tokio::test(start_paused = true)]
async fn at_the_tombstone_bound_a_revoke_fails_visibly_and_drops_the_answer() {
    let world = World::new().await;
    let auth = world.auth().max_tombstones(2).build().unwrap();
    let app = app(&auth);
    let [a, b, c, d] = [
        world.login("ada").await,
        world.login("bob").await,
        world.login("ada").await,
        world.login("bob").await,
    ];
    for token in [&a, &b, &c, &d] {
        assert_eq!(get_me(&app, token.expose()).await.status, 200);
    }
    auth.invalidate(a.expose()).await.unwrap();
    auth.invalidate(b.expose()).await.unwrap();
    assert_eq!(auth.memory_cache().unwrap().tombstone_count(), 2);

    // The store is full of live tombstones: c's invalidation fails, and none is dropped.
    assert!(matches!(
        auth.invalidate(c.expose()).await,
        Err(RevokeError::Full { bound: 2 })
    ));
    assert_eq!(auth.metrics().tombstones_refused, 1);
    // c's cached answer is gone: its next request is verified again (and Rebilly, never
    // told, still says valid).
    let seen = world.verifies_seen();
    assert_eq!(get_me(&app, c.expose()).await.status, 200);
    assert_eq!(world.verifies_seen(), seen + 1, "c was verified again");

    // A logout at the bound: the application sees the error, Rebilly is told all the same,
    // so the next verify refuses d.
    match auth.logout(d.expose()).await {
        Err(LogoutError::NotRevoked {
            revoke: RevokeError::Full { .. },
            upstream: Ok(_),
        }) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(auth.metrics().tombstones_refused, 2);
    assert_eq!(get_me(&app, d.expose()).await.status, 401);
    assert_eq!(world.verifies_seen(), seen + 2, "d was verified again");
    for token in [&a, &b] {
        assert_eq!(get_me(&app, token.expose()).await.status, 401);
    }
    assert_eq!(
        world.verifies_seen(),
        seen + 2,
        "a and b refused by their tombstones"
    );

    // Tombstones live until the token's expiredTime (1 h after login, known from the cached
    // answers): past it they make room again.
    world.emulator.clock().advance(Duration::from_secs(3601));
    let e = world.login("ada").await;
    assert_eq!(get_me(&app, e.expose()).await.status, 200);
    auth.invalidate(e.expose()).await.unwrap();
    assert_eq!(get_me(&app, e.expose()).await.status, 401);
}

#[tokio::test(start_paused = true)]
async fn without_a_known_expiry_a_tombstone_lives_max_token_lifetime() {
    let world = World::new().await;
    let hour = Duration::from_secs(3600);
    let auth = world.auth().max_token_lifetime(2 * hour).build().unwrap();
    let app = app(&auth);
    // A token valid for 3 h, invalidated before the layer ever saw it: its expiry is unknown.
    let expiry = world.emulator.clock().now() + time::Duration::hours(3);
    let token = world
        .login_with(Login::password("ada", "pw-of-the-test").expired_time(expiry))
        .await;
    auth.invalidate(token.expose()).await.unwrap();
    world
        .emulator
        .clock()
        .advance(2 * hour - Duration::from_secs(60));
    assert_eq!(get_me(&app, token.expose()).await.status, 401);
    assert_eq!(world.verifies_seen(), 0, "refused by the tombstone");
    // Nothing lives forever: past max_token_lifetime the tombstone is gone (which is why
    // max_token_lifetime should be at least the longest lifetime logins ask for).
    world.emulator.clock().advance(Duration::from_secs(120));
    assert_eq!(get_me(&app, token.expose()).await.status, 200);
    assert_eq!(world.verifies_seen(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_verify_in_flight_tells_the_tombstone_the_token_s_expiry() {
    let world = World::new().await;
    let hour = Duration::from_secs(3600);
    let auth = world.auth().max_token_lifetime(2 * hour).build().unwrap();
    let app = app(&auth);
    let expiry = world.emulator.clock().now() + time::Duration::hours(3);
    let token = world
        .login_with(Login::password("ada", "pw-of-the-test").expired_time(expiry))
        .await;
    world.fault_verifies(Fault::Delay(Duration::from_millis(200)), 1);
    let in_flight = {
        let (app, token) = (app.clone(), token.clone());
        tokio::spawn(async move { get_me(&app, token.expose()).await })
    };
    while auth.metrics().upstream_verifies == 0 {
        tokio::task::yield_now().await;
    }
    auth.invalidate(token.expose()).await.unwrap(); // expiry unknown yet: now + 2 h
    assert_eq!(in_flight.await.unwrap().status, 401);
    // The verify's answer carried expiredTime (+3 h): the tombstone lives until then.
    world.emulator.clock().advance(2 * hour + hour / 2);
    assert_eq!(get_me(&app, token.expose()).await.status, 401);
    assert_eq!(
        world.verifies_seen(),
        1,
        "refused by the tombstone past 2 h"
    );
}

#[test]
fn max_token_lifetime_caps_every_other_lifetime() {
    let client = rebilly_auth_testing::RecordingTransport::new().client();
    let error = RebillyAuth::builder(client)
        .max_staleness(Duration::from_secs(3600))
        .max_token_lifetime(Duration::from_secs(60))
        .build()
        .unwrap_err();
    assert!(matches!(error, BuildError::Invalid(_)), "{error}");
}

/// A layer over a fake upstream answering `answer`, with `otp_pending_when_absent(absent)`.
fn otp_layer(answer: serde_json::Value, absent: bool) -> RebillyAuth {
    let fake = rebilly_auth_testing::RecordingTransport::new();
    let (client, clock) = fake.client_with_clock();
    fake.respond_with(move |_| Ok(rebilly_auth_testing::json_response(200, &answer)));
    RebillyAuth::builder(client)
        .clock(Arc::new(clock))
        .otp_pending_when_absent(absent)
        .build()
        .unwrap()
}

#[tokio::test]
async fn an_absent_otp_required_is_read_as_configured() {
    let token = "tok_absent_otp_0123456";
    let without = serde_json::json!({"username": "ada", "customerId": "cus_ada"});
    let with_false =
        serde_json::json!({"username": "ada", "customerId": "cus_ada", "otpRequired": false});
    // Default: absent means no one-time password pending.
    let customer = otp_layer(without.clone(), false)
        .authenticate(token)
        .await
        .unwrap();
    assert!(!customer.otp_pending());
    // An organization that requires a second factor fails closed on an absent field...
    assert_eq!(
        otp_layer(without, true).authenticate(token).await,
        Err(Rejection::OtpPending)
    );
    // ...and still reads an explicit `false` as it is.
    assert!(
        otp_layer(with_false, true)
            .authenticate(token)
            .await
            .is_ok()
    );
}
