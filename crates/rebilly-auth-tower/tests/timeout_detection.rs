//! A timeout layer's synthetic answer must never pass for the server's, even when a layer above
//! it adds response headers (request-id, CORS, security headers): an exchange the server
//! executed comes back as `ExchangeOutcomeUnknown`, never as `Api(408)` (which a caller that
//! retries 408 would replay with a spent token).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, StatusCode};
use http_body_util::Full;
use rebilly_auth_testing::emulator::Emulator;
use rebilly_auth_tower::auth_core::models::Exchange;
use rebilly_auth_tower::auth_core::models::NewCredential;
use rebilly_auth_tower::auth_core::models::{AuthToken, Login};
use rebilly_auth_tower::auth_core::{Client, Error, RetryPolicy, transport_fn};
use rebilly_auth_tower::{
    HttpTransport, TimedOut, TimeoutLayer, TowerTransport, TransportErrorKind, TransportService,
};
use tower::ServiceBuilder;
use tower_http::set_header::SetResponseHeaderLayer;

const TIMEOUT: Duration = Duration::from_millis(200);

/// The emulator, with one customer logged in; returns it, a direct client, and the token.
async fn emulator_with_a_session() -> (Emulator, Client, AuthToken) {
    let emulator = Emulator::builder()
        .add_organization("org", "sk_test", Some("pk_test"))
        .build();
    let direct = Client::builder()
        .organization("org")
        .secret_key("sk_test")
        .transport(emulator.clone())
        .build()
        .unwrap();
    direct
        .credentials()
        .create(NewCredential::new("ada@example.com", "pw-123456", "cus_1"))
        .await
        .unwrap();
    let issued = direct
        .authentication_tokens()
        .login(Login::password("ada@example.com", "pw-123456"))
        .await
        .unwrap();
    (emulator, direct, issued.token)
}

/// A transport that hands each request to the emulator (which executes it) and then loses the
/// answer for a second: what a slow network looks like from the client. Counts requests.
fn slow_after_executing(
    emulator: Emulator,
) -> (impl HttpTransport + Clone + 'static, Arc<AtomicUsize>) {
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = sent.clone();
    let transport = transport_fn(move |request: http::Request<Bytes>| {
        let emulator = emulator.clone();
        counter.fetch_add(1, Ordering::SeqCst);
        async move {
            let response = emulator.send(request).await;
            tokio::time::sleep(Duration::from_secs(1)).await;
            response
        }
    });
    (transport, sent)
}

fn client_over(transport: impl HttpTransport + 'static) -> Client {
    Client::builder()
        .organization("org")
        .secret_key("sk_test")
        .retry_policy(RetryPolicy::default().initial_backoff(Duration::from_millis(1)))
        .transport(transport)
        .build()
        .unwrap()
}

fn request_id() -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(
        HeaderName::from_static("x-request-id"),
        HeaderValue::from_static("req-1"),
    )
}

/// The exchange timed out, was not replayed, and the server did spend the token.
async fn assert_exchange_outcome_unknown(
    client: &Client,
    direct: &Client,
    token: AuthToken,
    sent: &AtomicUsize,
) {
    let error = client
        .authentication_tokens()
        .exchange(token.clone(), Exchange::new())
        .await
        .unwrap_err();
    let Error::ExchangeOutcomeUnknown { source, .. } = &error else {
        panic!("expected ExchangeOutcomeUnknown, got {error:?}");
    };
    assert_eq!(error.status(), None, "{error:?}");
    assert_ne!(
        source.status(),
        Some(StatusCode::REQUEST_TIMEOUT),
        "{source:?}"
    );
    assert!(source.is_timeout(), "{source:?}");
    assert_eq!(sent.load(Ordering::SeqCst), 1, "never replayed");
    // The server did execute it: the token is spent.
    let again = direct
        .authentication_tokens()
        .exchange(token, Exchange::new())
        .await
        .unwrap_err();
    assert_eq!(again.status(), Some(StatusCode::NOT_FOUND), "{again:?}");
}

#[tokio::test]
async fn a_header_adding_layer_above_the_timeout_does_not_turn_it_into_a_408_answer() {
    let (emulator, direct, token) = emulator_with_a_session().await;
    let (inner, sent) = slow_after_executing(emulator);
    let stack = ServiceBuilder::new()
        .layer(request_id())
        .layer(TimeoutLayer::new(TIMEOUT))
        .service(TransportService::new(inner));
    let client = client_over(TowerTransport::new(stack));
    assert_exchange_outcome_unknown(&client, &direct, token, &sent).await;
}

#[tokio::test]
async fn a_map_response_adding_headers_above_the_timeout_does_not_hide_it_either() {
    let (emulator, _direct, _token) = emulator_with_a_session().await;
    let (inner, _sent) = slow_after_executing(emulator);
    let stack = ServiceBuilder::new()
        .map_response(|mut response: http::Response<Full<Bytes>>| {
            let headers = response.headers_mut();
            headers.insert(
                "x-content-type-options",
                HeaderValue::from_static("nosniff"),
            );
            headers.insert("access-control-allow-origin", HeaderValue::from_static("*"));
            response
        })
        .layer(TimeoutLayer::with_status_code(
            StatusCode::GATEWAY_TIMEOUT,
            TIMEOUT,
        ))
        .service(TransportService::new(inner));
    // A login POST: a transport timeout that may have reached the server, not an API answer.
    let error = TowerTransport::new(stack)
        .send(
            http::Request::post("http://127.0.0.1/organizations/org/authentication-tokens")
                .body(Bytes::from_static(b"{}"))
                .unwrap(),
        )
        .await
        .unwrap_err();
    assert_eq!(error.kind(), TransportErrorKind::Timeout, "{error:?}");
    assert!(error.may_have_reached_server());
}

#[tokio::test]
async fn the_servers_own_answers_pass_through_the_wrapper_unmarked() {
    // A real 408 (headers and all) and a real 200, answered in time, stay responses.
    let service = tower::service_fn(|request: http::Request<Full<Bytes>>| async move {
        let status = if request.uri().path() == "/slow-client" {
            StatusCode::REQUEST_TIMEOUT
        } else {
            StatusCode::OK
        };
        let response = http::Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from_static(b"{}")))
            .unwrap();
        Ok::<_, std::convert::Infallible>(response)
    });
    let stack = ServiceBuilder::new()
        .layer(request_id())
        .layer(TimeoutLayer::new(Duration::from_secs(5)))
        .service(service);
    let transport = TowerTransport::new(stack);
    for (path, status) in [
        ("/slow-client", StatusCode::REQUEST_TIMEOUT),
        ("/ok", StatusCode::OK),
    ] {
        let request = http::Request::post(format!("http://127.0.0.1{path}"))
            .body(Bytes::new())
            .unwrap();
        let response = transport.send(request).await.unwrap();
        assert_eq!(response.status(), status);
        assert_eq!(response.body().as_ref(), b"{}");
        assert!(response.extensions().get::<TimedOut>().is_none());
        assert_eq!(response.headers()["x-request-id"], "req-1");
    }
}

#[tokio::test]
async fn a_bare_tower_http_timeout_without_headers_above_it_still_works() {
    let (emulator, direct, token) = emulator_with_a_session().await;
    let (inner, sent) = slow_after_executing(emulator);
    let stack = ServiceBuilder::new()
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            TIMEOUT,
        ))
        .service(TransportService::new(inner));
    let client = client_over(TowerTransport::new(stack));
    assert_exchange_outcome_unknown(&client, &direct, token, &sent).await;
}
