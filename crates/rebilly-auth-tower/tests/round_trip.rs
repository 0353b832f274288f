//! `TransportService` → tower layers → `TowerTransport`: what goes in comes out, errors keep
//! their kind and "may have reached the server", and the body limit still holds.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode};
use http_body_util::Full;
use rebilly_auth_testing::emulator::Emulator;
use rebilly_auth_tower::auth_core::models::Login;
use rebilly_auth_tower::auth_core::models::NewCredential;
use rebilly_auth_tower::auth_core::{Client, transport_fn};
use rebilly_auth_tower::{
    BodyLimit, HttpTransport, TowerTransport, TransportError, TransportErrorKind, TransportService,
};
use tower::ServiceBuilder;
use tower_http::trace::TraceLayer;

/// The layers a user would stack: trace (safe span), concurrency limit, timeout.
fn round_trip<T: HttpTransport + 'static>(inner: T) -> impl HttpTransport + use<T> {
    let stack = ServiceBuilder::new()
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(rebilly_auth_tower::trace::redacted_span::<Full<Bytes>>),
        )
        .concurrency_limit(4)
        .timeout(Duration::from_secs(5))
        .service(TransportService::new(inner));
    TowerTransport::new(stack)
}

#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    uri: String,
    header: Option<HeaderValue>,
    body: Bytes,
    limit: usize,
}

#[tokio::test]
async fn requests_and_responses_cross_intact() {
    let seen: Arc<Mutex<Option<Seen>>> = Arc::default();
    let log = seen.clone();
    let inner = transport_fn(move |request: http::Request<Bytes>| {
        *log.lock().unwrap() = Some(Seen {
            method: request.method().clone(),
            uri: request.uri().to_string(),
            header: request.headers().get("x-custom").cloned(),
            body: request.body().clone(),
            limit: BodyLimit::of(&request),
        });
        async {
            Ok(http::Response::builder()
                .status(StatusCode::CREATED)
                .header("x-answer", "a")
                .header("x-answer", "b")
                .body(Bytes::from_static(b"{\"id\":\"1\"}"))
                .unwrap())
        }
    });
    let mut request = http::Request::post("http://127.0.0.1:9/organizations/o/credentials")
        .header("x-custom", "v")
        .body(Bytes::from_static(b"{\"username\":\"ada\"}"))
        .unwrap();
    request.extensions_mut().insert(BodyLimit(1234));
    let response = round_trip(inner).send(request).await.unwrap();

    let seen = seen.lock().unwrap().clone().unwrap();
    assert_eq!(seen.method, Method::POST);
    assert_eq!(seen.uri, "http://127.0.0.1:9/organizations/o/credentials");
    assert_eq!(seen.header.unwrap(), "v");
    assert_eq!(seen.body.as_ref(), b"{\"username\":\"ada\"}");
    assert_eq!(
        seen.limit, 1234,
        "the BodyLimit extension reaches the inner transport"
    );

    assert_eq!(response.status(), StatusCode::CREATED);
    let answers: Vec<_> = response.headers().get_all("x-answer").iter().collect();
    assert_eq!(answers, ["a", "b"]);
    assert_eq!(response.body().as_ref(), b"{\"id\":\"1\"}");
}

#[tokio::test]
async fn errors_keep_their_kind_and_flag_through_the_layers() {
    // What the inner transport fails with; the kind and flag expected back.
    type Case = (fn() -> TransportError, TransportErrorKind, bool);
    let cases: [Case; 7] = [
        (|| TransportError::dns("nx"), TransportErrorKind::Dns, false),
        (
            || TransportError::connect("refused"),
            TransportErrorKind::Connect,
            false,
        ),
        (
            || TransportError::tls_handshake("bad cert"),
            TransportErrorKind::TlsHandshake,
            false,
        ),
        (
            || TransportError::timeout("slow"),
            TransportErrorKind::Timeout,
            true,
        ),
        (|| TransportError::io("reset"), TransportErrorKind::Io, true),
        (
            || TransportError::body("cut"),
            TransportErrorKind::Body,
            true,
        ),
        (
            || TransportError::other("custom").with_may_have_reached_server(false),
            TransportErrorKind::Other,
            false,
        ),
    ];
    for (make, kind, may_have_reached) in cases {
        let inner = transport_fn(move |_: http::Request<Bytes>| async move {
            Err::<http::Response<Bytes>, _>(make())
        });
        let err = round_trip(inner)
            .send(http::Request::new(Bytes::new()))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{err:?}");
        assert_eq!(err.may_have_reached_server(), may_have_reached, "{err:?}");
    }
}

#[tokio::test]
async fn the_body_limit_holds_on_the_way_back() {
    // This inner transport ignores the limit; the TowerTransport enforces it anyway.
    let inner = transport_fn(|_: http::Request<Bytes>| async {
        Ok(http::Response::new(Bytes::from(vec![b'x'; 1000])))
    });
    let transport = round_trip(inner);
    let mut request = http::Request::new(Bytes::new());
    request.extensions_mut().insert(BodyLimit(999));
    let err = transport.send(request).await.unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::BodyTooLarge);
    let mut request = http::Request::new(Bytes::new());
    request.extensions_mut().insert(BodyLimit(1000));
    assert_eq!(transport.send(request).await.unwrap().body().len(), 1000);
}

#[tokio::test]
async fn a_client_over_the_round_trip_logs_in_and_verifies() {
    let emulator = Emulator::builder()
        .add_organization("org", "sk_test", Some("pk_test"))
        .build();
    let client = Client::builder()
        .organization("org")
        .secret_key("sk_test")
        .transport(round_trip(emulator))
        .build()
        .unwrap();
    client
        .credentials()
        .create(NewCredential::new("ada@example.com", "pw-123456", "cus_1"))
        .await
        .unwrap();
    let issued = client
        .authentication_tokens()
        .login(Login::password("ada@example.com", "pw-123456"))
        .await
        .unwrap();
    let verified = client
        .authentication_tokens()
        .verify(&issued.token)
        .await
        .unwrap()
        .expect("a fresh token verifies");
    assert_eq!(verified.username, "ada@example.com");
}
