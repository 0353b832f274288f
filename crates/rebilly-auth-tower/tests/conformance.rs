//! The transport conformance suite against `TowerTransport` (loopback only):
//!
//! * over hyper-util's legacy client (HTTPS via hyper-rustls, trusting only the suite's CA)
//!   wrapped in tower-http's `TraceLayer` (the safe span) and `TimeoutLayer`;
//! * over `TransportService<HyperTransport>` behind the same layers (the round trip).
//!
//! Body types: hyper-util answers `Incoming`, which tower-http's `TimeoutLayer` cannot use (it
//! needs `ResBody: Default` to synthesise its timeout response), so it is boxed first;
//! `TransportService` answers `Full<Bytes>`, which is `Default`. `TraceLayer` needs an
//! `http_body::Body` whose error and the service's error are `Display`: both are.

use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use rebilly_auth_hyper::hyper::body::Incoming;
use rebilly_auth_hyper::{HyperTransport, hyper_rustls, hyper_util, tls_config_with_roots};
use rebilly_auth_testing::conformance::{ConformanceEnv, run_all};
use rebilly_auth_tower::{BoxError, HttpTransport, TowerTransport, TransportService};
use tower::ServiceBuilder;
use tower::layer::util::{Identity, Stack};
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// Longer than the suite's 500 ms caller deadline in `slow_response`, shorter than its checks.
const LAYER_TIMEOUT: Duration = Duration::from_secs(3);

/// How the trace layer names a request's span.
type MakeSpan = fn(&http::Request<Full<Bytes>>) -> tracing::Span;

type TowerHttpLayers = Stack<
    TimeoutLayer,
    Stack<TraceLayer<SharedClassifier<ServerErrorsAsFailures>, MakeSpan>, Identity>,
>;

/// What both stacks put in front of their client: tower-http's `TraceLayer` with the redacted
/// span, then its `TimeoutLayer` (408 after [`LAYER_TIMEOUT`]).
fn tower_http_layers() -> ServiceBuilder<TowerHttpLayers> {
    let redacted: MakeSpan = rebilly_auth_tower::trace::redacted_span::<Full<Bytes>>;
    ServiceBuilder::new()
        .layer(TraceLayer::new_for_http().make_span_with(redacted))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            LAYER_TIMEOUT,
        ))
}

fn boxed(response: http::Response<Incoming>) -> http::Response<UnsyncBoxBody<Bytes, BoxError>> {
    response.map(|body| body.map_err(BoxError::from).boxed_unsync())
}

fn hyper_util_stack(env: &ConformanceEnv) -> impl HttpTransport + use<> {
    let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls_config_with_roots([env.ca_cert_der.clone()]).unwrap())
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .pool_timer(hyper_util::rt::TokioTimer::new())
        .build::<_, Full<Bytes>>(https);
    let stack = tower_http_layers().map_response(boxed).service(client);
    TowerTransport::new(stack)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tower_transport_over_hyper_util_with_tower_http_layers_passes() {
    let report = run_all(hyper_util_stack).await;
    println!("{report}");
    report.assert_all_passed();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transport_service_round_trip_passes() {
    let report = run_all(|env: &ConformanceEnv| {
        let inner = HyperTransport::builder()
            .tls_config(tls_config_with_roots([env.ca_cert_der.clone()]).unwrap())
            .build()
            .unwrap();
        let stack = tower_http_layers().service(TransportService::new(inner));
        TowerTransport::new(stack)
    })
    .await;
    println!("{report}");
    report.assert_all_passed();
}
