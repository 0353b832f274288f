//! No token in `Debug` output, responses, or the TRACE output of a whole session: login,
//! requests, a burst, faults, logout, a misconfiguration.

mod common;

use std::time::Duration;

use axum::routing::get;
use common::{ada_logged_in, app, get_me, send, send_bearer};
use http::{Method, StatusCode};
use rebilly_auth_axum::{
    CachedAnswer, CurrentSession, MemoryCache, RebillyAuth, Rejection, TokenSource, VerifyCache,
};
use rebilly_auth_core::Auth;
use rebilly_auth_testing::emulator::Fault;

#[tokio::test]
async fn no_token_in_debug_responses_or_trace_output() {
    let (capture, world, token) = ada_logged_in().await;
    let secret = token.expose().to_owned();
    let auth = world.auth().build().unwrap();
    let app = app(&auth).route(
        "/debug",
        get(|session: CurrentSession| async move { format!("{session:?}") }).layer(auth.layer()),
    );

    let mut seen = String::new();
    let mut record = |answer: &common::Answer| {
        seen.push_str(&format!("{answer:?}"));
    };
    // Valid, cached, a burst, a Debug of the session.
    for _ in 0..3 {
        record(&get_me(&app, &secret).await);
    }
    let debug = send_bearer(&app, Method::GET, "/debug", &secret).await;
    assert_eq!(debug.status, 200);
    assert!(debug.body.contains("[REDACTED]"), "{}", debug.body);
    record(&debug);
    // Faults, after the cache lapsed.
    for fault in [
        Fault::MalformedJson,
        Fault::Status(StatusCode::SERVICE_UNAVAILABLE),
        Fault::Status(StatusCode::SERVICE_UNAVAILABLE),
        Fault::Status(StatusCode::UNAUTHORIZED),
        Fault::DropAfterProcessing,
        Fault::DropAfterProcessing,
        Fault::TruncatedBody,
        Fault::TruncatedBody,
        Fault::OversizedBody(5 << 20),
    ] {
        world.emulator.clock().advance(Duration::from_secs(31));
        world.fault_verifies(fault, 1);
        record(&get_me(&app, &secret).await);
    }
    // A wrongly configured layer.
    let wrong =
        RebillyAuth::builder(world.layer_client_with(Auth::publishable_key("pk_nope_nope")))
            .build()
            .unwrap();
    let wrong_app = common::app(&wrong);
    record(&get_me(&wrong_app, &secret).await);
    // A cookie source.
    let cookie_auth = world
        .auth()
        .token_source(TokenSource::cookie("sid"))
        .allowed_origins(["https://shop.example"])
        .build()
        .unwrap();
    let cookie_app = common::app(&cookie_auth);
    let cookie = format!("sid={secret}");
    record(&send(&cookie_app, Method::POST, "/me", &[("cookie", &cookie)]).await);
    record(&send(&cookie_app, Method::GET, "/me", &[("cookie", &cookie)]).await);
    // Logout, then the tombstone.
    record(&send_bearer(&app, Method::POST, "/logout", &secret).await);
    record(&get_me(&app, &secret).await);
    assert!(!seen.contains(&secret), "a token appears in a response");

    // Debug of every public type that saw the token.
    let cache = MemoryCache::new(10, 10);
    let debug = format!(
        "{auth:?} {:?} {:?} {wrong:?} {cookie_auth:?} {cache:?} {:?} {:?}",
        auth.layer(),
        auth.metrics(),
        Rejection::InvalidToken,
        world.auth(),
    );
    assert!(!debug.contains(&secret));
    let key = rebilly_auth_axum::CacheKey::from_bytes([0xab; 32]);
    assert_eq!(format!("{key:?}"), "CacheKey(..)");
    let now = std::time::SystemTime::now();
    cache
        .revoke(key, now + Duration::from_secs(1), now)
        .await
        .unwrap();
    assert!(matches!(
        cache.get(&key, now).await,
        Some(CachedAnswer::Revoked { .. })
    ));

    let text = capture.text();
    assert!(text.contains("TRACE") || text.contains("DEBUG") || text.contains("INFO"));
    assert!(
        text.contains("cache=\"hit\""),
        "spans record the cache path: {}",
        &text[..4000.min(text.len())]
    );
    capture.assert_clean(&[&secret]);
}
