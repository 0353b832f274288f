//! How `TowerTransport` tells "never left" from "may have reached the server", over real tower
//! stacks and loopback sockets (127.0.0.1 only), and what core does with the answer.

use std::convert::Infallible;
use std::error::Error as StdError;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use rebilly_auth_hyper::hyper::body::Incoming;
use rebilly_auth_hyper::hyper_util;
use rebilly_auth_testing::emulator::Emulator;
use rebilly_auth_tower::auth_core::models::Login;
use rebilly_auth_tower::auth_core::models::NewCredential;
use rebilly_auth_tower::auth_core::{Client, Error, RetryPolicy, transport_fn};
use rebilly_auth_tower::{
    BoxError, Classifier, ErrorClass, HttpTransport, TowerTransport, TransportError,
    TransportErrorKind, TransportService,
};
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use tower::ServiceBuilder;

type LegacyClient = hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    Full<Bytes>,
>;

fn hyper_client() -> LegacyClient {
    hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .pool_timer(hyper_util::rt::TokioTimer::new())
        .build_http()
}

fn boxed(response: http::Response<Incoming>) -> http::Response<UnsyncBoxBody<Bytes, BoxError>> {
    response.map(|body| body.map_err(BoxError::from).boxed_unsync())
}

fn post(url: &str) -> http::Request<Bytes> {
    http::Request::post(url)
        .body(Bytes::from_static(b"{\"login\":\"x\"}"))
        .unwrap()
}

/// POSTs to `url` through `transport`, which must fail.
async fn post_failing(transport: impl HttpTransport, url: &str) -> TransportError {
    transport.send(post(url)).await.unwrap_err()
}

/// A loopback server that reads requests and never answers; counts the bytes it received.
async fn silent_server() -> (String, Arc<AtomicUsize>, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let received = Arc::new(AtomicUsize::new(0));
    let counter = received.clone();
    let task = tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            let counter = counter.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    counter.fetch_add(n, Ordering::SeqCst);
                }
            });
        }
    });
    (format!("http://{addr}"), received, task)
}

#[cfg(feature = "hyper-util")]
fn refused_url() -> String {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}/organizations/o/authentication-tokens/secret-token")
}

#[cfg(feature = "hyper-util")]
#[tokio::test]
async fn refused_connection_through_tower_http_layers_never_left() {
    let stack = ServiceBuilder::new()
        .layer(
            tower_http::trace::TraceLayer::new_for_http()
                .make_span_with(rebilly_auth_tower::trace::redacted_span::<Full<Bytes>>),
        )
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(5),
        ))
        .map_response(boxed)
        .service(hyper_client());
    let err = post_failing(TowerTransport::new(stack), &refused_url()).await;
    assert_eq!(err.kind(), TransportErrorKind::Connect, "{err:?}");
    assert!(!err.may_have_reached_server());
    assert!(
        !format!("{err} {err:?}").contains("secret-token"),
        "{err:?}"
    );
}

#[cfg(feature = "hyper-util")]
#[tokio::test]
async fn refused_connection_behind_tower_timeout_never_left() {
    // tower's Timeout boxes the error: the hyper-util error is found by downcasting the chain.
    let stack = ServiceBuilder::new()
        .timeout(Duration::from_secs(5))
        .service(hyper_client());
    let err = post_failing(TowerTransport::new(stack), &refused_url()).await;
    assert_eq!(err.kind(), TransportErrorKind::Connect, "{err:?}");
    assert!(!err.may_have_reached_server());
}

#[tokio::test]
async fn tower_timeout_after_sending_may_have_reached_the_server() {
    let (url, received, server) = silent_server().await;
    let stack = ServiceBuilder::new()
        .timeout(Duration::from_millis(300))
        .service(hyper_client());
    let err = post_failing(TowerTransport::new(stack), &format!("{url}/x")).await;
    assert_eq!(err.kind(), TransportErrorKind::Timeout, "{err:?}");
    assert!(err.may_have_reached_server());
    assert!(
        received.load(Ordering::SeqCst) > 0,
        "the request was really sent"
    );
    server.abort();
}

#[tokio::test]
async fn tower_http_timeout_response_is_a_timeout_not_an_answer() {
    let (url, received, server) = silent_server().await;
    let stack = || {
        ServiceBuilder::new()
            .layer(tower_http::timeout::TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                Duration::from_millis(300),
            ))
            .map_response(boxed)
            .service(hyper_client())
    };
    let err = post_failing(TowerTransport::new(stack()), &format!("{url}/x")).await;
    assert_eq!(err.kind(), TransportErrorKind::Timeout, "{err:?}");
    assert!(err.may_have_reached_server());
    assert!(received.load(Ordering::SeqCst) > 0);

    // With the rule off, the synthetic 408 would reach core as if the server had answered it.
    let response = TowerTransport::builder(stack())
        .synthetic_timeout_status(None)
        .build()
        .send(post(&format!("{url}/x")))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
    assert!(response.headers().is_empty());
    server.abort();
}

#[tokio::test]
async fn a_real_408_with_headers_stays_a_response() {
    let service = tower::service_fn(|_: http::Request<Full<Bytes>>| async {
        let response = http::Response::builder()
            .status(StatusCode::REQUEST_TIMEOUT)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from_static(b"{}")))
            .unwrap();
        Ok::<_, Infallible>(response)
    });
    let response = TowerTransport::new(service)
        .send(post("http://127.0.0.1/x"))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
}

/// A service whose `poll_ready` fails (a dead worker, a closed channel); counts calls.
#[derive(Clone)]
struct NeverReady {
    calls: Arc<AtomicUsize>,
}

impl tower::Service<http::Request<Full<Bytes>>> for NeverReady {
    type Response = http::Response<Full<Bytes>>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Err(std::io::Error::other("worker gone")))
    }

    fn call(&mut self, _: http::Request<Full<Bytes>>) -> Self::Future {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Err(std::io::Error::other("called")) })
    }
}

#[tokio::test]
async fn poll_ready_failure_never_left_and_call_never_happens() {
    let calls = Arc::new(AtomicUsize::new(0));
    let transport = TowerTransport::new(NeverReady {
        calls: calls.clone(),
    });
    let err = post_failing(transport, "http://127.0.0.1/x").await;
    assert!(!err.may_have_reached_server(), "{err:?}");
    assert_eq!(err.kind(), TransportErrorKind::Other);
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

/// A service that is never ready (always `Pending`), for the load shedder in front of it.
#[derive(Clone)]
struct Busy;

impl tower::Service<http::Request<Full<Bytes>>> for Busy {
    type Response = http::Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Pending
    }

    fn call(&mut self, _: http::Request<Full<Bytes>>) -> Self::Future {
        unreachable!("the load shedder never calls a service that is not ready")
    }
}

#[tokio::test]
async fn unknown_errors_may_have_reached_unless_the_classifier_knows_better() {
    // LoadShed is ready, then fails the call with `Overloaded`: nothing was sent, but only a
    // classifier can say so; without one, the transport answers "may have reached".
    let shedder = TowerTransport::new(tower::load_shed::LoadShed::new(Busy));
    let err = post_failing(shedder, "http://127.0.0.1/x").await;
    assert_eq!(err.kind(), TransportErrorKind::Other);
    assert!(err.may_have_reached_server());

    let err = TowerTransport::builder(tower::load_shed::LoadShed::new(Busy))
        .classifier(Classifier::new(|e: &(dyn StdError + 'static)| {
            e.is::<tower::load_shed::error::Overloaded>()
                .then_some(ErrorClass::never_left(TransportErrorKind::Other))
        }))
        .build()
        .send(post("http://127.0.0.1/x"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), TransportErrorKind::Other);
    assert!(!err.may_have_reached_server());
}

/// A client over `TransportService(inner) → tower Timeout → TowerTransport`, where `inner` fails
/// the first attempt with `first_error` and then hands requests to the emulator.
async fn client_failing_first_with(
    first_error: fn() -> TransportError,
) -> (Client, Arc<AtomicUsize>) {
    let emulator = Emulator::builder()
        .add_organization("org", "sk_test", Some("pk_test"))
        .build();
    let setup = Client::builder()
        .organization("org")
        .secret_key("sk_test")
        .transport(emulator.clone())
        .build()
        .unwrap();
    setup
        .credentials()
        .create(NewCredential::new("ada@example.com", "pw-123456", "cus_1"))
        .await
        .unwrap();
    let attempts = Arc::new(AtomicUsize::new(0));
    let counter = attempts.clone();
    let inner = transport_fn(move |request: http::Request<Bytes>| {
        let emulator = emulator.clone();
        let attempt = counter.fetch_add(1, Ordering::SeqCst);
        async move {
            if attempt == 0 {
                Err(first_error())
            } else {
                emulator.send(request).await
            }
        }
    });
    let stack = ServiceBuilder::new()
        .timeout(Duration::from_secs(5))
        .service(TransportService::new(inner));
    let client = Client::builder()
        .organization("org")
        .secret_key("sk_test")
        .retry_policy(RetryPolicy::default().initial_backoff(Duration::from_millis(1)))
        .transport(TowerTransport::new(stack))
        .build()
        .unwrap();
    (client, attempts)
}

#[tokio::test]
async fn core_retries_a_login_only_when_the_stack_says_never_left() {
    let (client, attempts) = client_failing_first_with(|| TransportError::connect("refused")).await;
    let issued = client
        .authentication_tokens()
        .login(Login::password("ada@example.com", "pw-123456"))
        .send_with_meta()
        .await
        .unwrap();
    assert_eq!(issued.meta.attempts, 2);
    assert_eq!(attempts.load(Ordering::SeqCst), 2);

    let (client, attempts) = client_failing_first_with(|| TransportError::io("reset")).await;
    let err = client
        .authentication_tokens()
        .login(Login::password("ada@example.com", "pw-123456"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    let source = err
        .source()
        .and_then(|s| s.downcast_ref::<TransportError>())
        .unwrap();
    assert_eq!(source.kind(), TransportErrorKind::Io);
    assert!(source.may_have_reached_server());
    assert_eq!(
        attempts.load(Ordering::SeqCst),
        1,
        "a login is never replayed"
    );
}
