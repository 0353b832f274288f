//! No token in `Debug` output, responses, or the TRACE output of a whole session: login,
//! requests, a burst, faults, logout, a misconfiguration.

mod common;

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;

use axum::routing::get;
use common::{Capture, World, app, get_me, send};
use http::{Method, StatusCode};
use rebilly_auth_axum::{
    CachedAnswer, CurrentSession, MemoryCache, RebillyAuth, Rejection, TokenSource, VerifyCache,
};
use rebilly_auth_core::Auth;
use rebilly_auth_core::OperationId;
use rebilly_auth_testing::emulator::{Fault, RequestMatcher};

#[tokio::test]
async fn no_token_in_debug_responses_or_trace_output() {
    let capture = Capture::start();
    let world = World::new().await;
    let token = world.login("ada").await;
    let secret = token.expose().to_owned();
    let auth = world.auth().build().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let app = app(&auth, hits.clone()).route(
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
    let bearer = format!("Bearer {secret}");
    let debug = send(&app, Method::GET, "/debug", &[("authorization", &bearer)]).await;
    assert_eq!(debug.status, 200);
    assert!(debug.body.contains("[REDACTED]"), "{}", debug.body);
    record(&debug);
    // Faults, after the cache lapsed.
    let matcher = RequestMatcher::operation(OperationId::GetAuthenticationTokenVerification);
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
        world.emulator.inject(matcher.clone(), fault, 1);
        record(&get_me(&app, &secret).await);
    }
    // A wrongly configured layer.
    let wrong =
        RebillyAuth::builder(world.layer_client_with(Auth::publishable_key("pk_nope_nope")))
            .build()
            .unwrap();
    let wrong_app = common::app(&wrong, Arc::new(AtomicUsize::new(0)));
    record(&get_me(&wrong_app, &secret).await);
    // A cookie source.
    let cookie_auth = world
        .auth()
        .token_source(TokenSource::cookie("sid"))
        .allowed_origins(["https://shop.example"])
        .build()
        .unwrap();
    let cookie_app = common::app(&cookie_auth, Arc::new(AtomicUsize::new(0)));
    let cookie = format!("sid={secret}");
    record(&send(&cookie_app, Method::POST, "/me", &[("cookie", &cookie)]).await);
    record(&send(&cookie_app, Method::GET, "/me", &[("cookie", &cookie)]).await);
    // Logout, then the tombstone.
    record(&send(&app, Method::POST, "/logout", &[("authorization", &bearer)]).await);
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
    cache
        .revoke(key, std::time::SystemTime::now() + Duration::from_secs(1))
        .await;
    assert!(matches!(
        cache.get(&key).await,
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
