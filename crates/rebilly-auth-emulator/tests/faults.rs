//! Fault injection, in process: executed or not, and what the client sees.

mod support;

use std::time::{Duration, Instant};

use http::{Method, StatusCode};
use rebilly_auth_core::OperationId;
use rebilly_auth_core::models::NewCredential;
use rebilly_auth_core::{Client, Error, RetryPolicy, TransportErrorKind};
use rebilly_auth_emulator::{Fault, RequestMatcher};
use serde_json::json;
use support::*;

fn transport_kind(error: &Error) -> Option<TransportErrorKind> {
    match error {
        Error::Transport { source, .. } => Some(source.kind()),
        _ => None,
    }
}

#[tokio::test]
async fn drop_before_and_after_processing() {
    let emu = emulator();
    let c = emu.client(ORG);
    let post = RequestMatcher::operation(OperationId::PostCredential);

    emu.inject(post.clone(), Fault::DropBeforeProcessing);
    let err = c
        .credentials()
        .create(NewCredential::new("a", "pw", "cus_a"))
        .await
        .unwrap_err();
    assert_eq!(transport_kind(&err), Some(TransportErrorKind::Io));
    assert_eq!(emu.requests_seen(OperationId::PostCredential), 1);
    assert_eq!(emu.executed(OperationId::PostCredential), 0);

    emu.inject(post, Fault::DropAfterProcessing);
    let err = c
        .credentials()
        .create(NewCredential::new("b", "pw", "cus_b"))
        .await
        .unwrap_err();
    assert_eq!(transport_kind(&err), Some(TransportErrorKind::Io));
    assert_eq!(emu.executed(OperationId::PostCredential), 1);
    // The server did execute it: the credential exists.
    let page = c.credentials().list().send().await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].username, "b");
    assert_eq!(emu.pending_faults(), 0);
}

#[tokio::test]
async fn status_faults_and_retries() {
    let emu = emulator();
    // With retries on, a 503 on a GET is retried and the second attempt succeeds.
    let retrying = Client::builder()
        .organization(ORG)
        .secret_key(SK)
        .retry_policy(RetryPolicy::default())
        .transport(emu.clone())
        .build()
        .unwrap();
    emu.inject(
        RequestMatcher::any().method(Method::GET),
        Fault::Status(StatusCode::SERVICE_UNAVAILABLE),
    );
    retrying.credentials().list().send().await.unwrap();
    assert_eq!(emu.requests_seen(OperationId::GetCredentialCollection), 2);
    assert_eq!(emu.executed(OperationId::GetCredentialCollection), 1);

    // A status fault after processing: executed, but the client sees 502.
    let c = emu.client(ORG);
    emu.inject(
        RequestMatcher::operation(OperationId::PostCredential),
        Fault::StatusAfterProcessing(StatusCode::BAD_GATEWAY),
    );
    let err = c
        .credentials()
        .create(NewCredential::new("a", "pw", "cus_a"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::BAD_GATEWAY));
    assert_eq!(emu.executed(OperationId::PostCredential), 1);
}

#[tokio::test]
async fn rate_limited_fault_headers() {
    let emu = emulator();
    emu.inject(
        RequestMatcher::any(),
        Fault::RateLimited {
            retry_after: Duration::from_secs(7),
        },
    );
    let r = raw(
        &emu,
        Method::POST,
        &path("/credentials"),
        As::Secret(SK),
        Some(json!({})),
    )
    .await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("7"));
    let at: i64 = r
        .header("x-ratelimit-retry-after")
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(at, emu.clock().now().unix_timestamp() + 7);
    assert_eq!(r.json()["status"], 429);
    assert_eq!(emu.executed(OperationId::PostCredential), 0);
}

#[tokio::test]
async fn garbled_bodies() {
    let emu = emulator();
    let c = emu.client(ORG);
    let get = RequestMatcher::operation(OperationId::GetAuthenticationOption);

    emu.inject(get.clone(), Fault::TruncatedBody);
    let err = c.authentication_options().get().await.unwrap_err();
    assert_eq!(transport_kind(&err), Some(TransportErrorKind::Body));

    emu.inject(get.clone(), Fault::MalformedJson);
    let err = c.authentication_options().get().await.unwrap_err();
    assert!(matches!(err, Error::Decode(_)), "{err:?}");

    emu.inject(get.clone(), Fault::WrongContentType);
    let r = raw(
        &emu,
        Method::GET,
        &path("/authentication-options"),
        As::Secret(SK),
        None,
    )
    .await;
    assert!(r.header("content-type").unwrap().starts_with("text/html"));

    emu.inject(
        RequestMatcher::operation(OperationId::DeleteCredential),
        Fault::EmptyBody,
    );
    let r = raw(
        &emu,
        Method::DELETE,
        &path("/credentials/nope"),
        As::Secret(SK),
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());

    emu.inject(get.clone(), Fault::OversizedBody(10_000));
    let r = raw(
        &emu,
        Method::GET,
        &path("/authentication-options"),
        As::Secret(SK),
        None,
    )
    .await;
    assert_eq!(r.body.len(), 10_000);
    assert_eq!(
        r.json()["authTokenTtl"],
        3600,
        "padding keeps the JSON valid"
    );

    let small = Client::builder()
        .organization(ORG)
        .secret_key(SK)
        .retry_policy(RetryPolicy::none())
        .body_limit(1024)
        .transport(emu.clone())
        .build()
        .unwrap();
    emu.inject(get, Fault::OversizedBody(10_000));
    let err = small.authentication_options().get().await.unwrap_err();
    assert_eq!(transport_kind(&err), Some(TransportErrorKind::BodyTooLarge));
}

#[tokio::test]
async fn delay_and_matching() {
    let emu = emulator();
    // A delay takes real time: this client waits on tokio's timer, not an instant sleep
    // (with `emu.client`, the delayed answer would be an instant timeout).
    let c = Client::builder()
        .organization(ORG)
        .secret_key(SK)
        .retry_policy(RetryPolicy::none())
        .transport(emu.clone())
        .build()
        .unwrap();
    emu.inject(
        RequestMatcher::operation(OperationId::GetCredentialCollection),
        Fault::Delay(Duration::from_millis(150)),
    );
    // A different route is not affected.
    let started = Instant::now();
    c.authentication_options().get().await.unwrap();
    assert!(started.elapsed() < Duration::from_millis(150));
    let started = Instant::now();
    c.credentials().list().send().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(150));
    // Counted N times, then gone.
    emu.inject(
        RequestMatcher::any(),
        Fault::Status(StatusCode::INTERNAL_SERVER_ERROR).times(2),
    );
    for _ in 0..2 {
        assert_eq!(
            c.authentication_options().get().await.unwrap_err().status(),
            Some(StatusCode::INTERNAL_SERVER_ERROR)
        );
    }
    c.authentication_options().get().await.unwrap();
    let log = emu.request_log();
    assert!(log.iter().filter(|r| r.fault.is_some()).count() == 3);
    emu.inject(RequestMatcher::any(), Fault::EmptyBody.times(5));
    emu.clear_faults();
    assert_eq!(emu.pending_faults(), 0);
}
