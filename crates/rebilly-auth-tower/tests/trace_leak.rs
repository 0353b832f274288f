//! The secret-leak test of the trace layer: tower-http's `TraceLayer` at its default
//! configuration records the request URI, and the verify path holds the customer's token, so
//! the token lands in the logs; with the safe configuration (`trace::redacted_span`) it does not.
//!
//! One test on purpose: each half installs its own TRACE subscriber (thread-local, on a
//! current-thread runtime) and captures everything it prints.

use bytes::Bytes;
use http_body_util::Full;
use rebilly_auth_testing::LogCapture;
use rebilly_auth_testing::emulator::Emulator;
use rebilly_auth_tower::auth_core::models::{Exchange, Login, NewCredential};
use rebilly_auth_tower::auth_core::{Client, HttpTransport};
use rebilly_auth_tower::{TowerTransport, TransportService};
use tower_http::trace::TraceLayer;

const SECRET_KEY: &str = "sk_LEAK01secretkey";
const PASSWORD: &str = "LEAK02-password";

/// Runs login → verify → exchange → logout through `transport` under a TRACE subscriber of
/// every target; returns the capture and the token the emulator issued.
fn journey(transport: impl HttpTransport + 'static) -> (LogCapture, String) {
    let capture = LogCapture::new();
    let _guard = capture.set_default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let token = runtime.block_on(async {
        let client = Client::builder()
            .organization("leak-org")
            .secret_key(SECRET_KEY)
            .transport(transport)
            .build()
            .unwrap();
        client
            .credentials()
            .create(NewCredential::new("ada@example.com", PASSWORD, "cus_1"))
            .await
            .unwrap();
        let issued = client
            .authentication_tokens()
            .login(Login::password("ada@example.com", PASSWORD))
            .await
            .unwrap();
        assert!(
            client
                .authentication_tokens()
                .verify(&issued.token)
                .await
                .unwrap()
                .is_some()
        );
        client
            .authentication_tokens()
            .exchange(&issued.token, Exchange::new().keep_token())
            .await
            .unwrap();
        client
            .authentication_tokens()
            .logout(&issued.token)
            .await
            .unwrap();
        issued.token.expose().to_owned()
    });
    (capture, token)
}

fn emulator() -> Emulator {
    Emulator::builder()
        .add_organization("leak-org", SECRET_KEY, None)
        .build()
}

#[test]
fn default_trace_layer_logs_the_token_and_the_safe_one_does_not() {
    // The default configuration: `DefaultMakeSpan` records `uri`.
    let stack = tower::ServiceBuilder::new()
        .layer(TraceLayer::new_for_http())
        .service(TransportService::new(emulator()));
    let (capture, token) = journey(TowerTransport::new(stack));
    assert!(
        !capture.leaks(&[&token]).is_empty(),
        "the default TraceLayer logs the verify URI"
    );
    let logs = capture.text();
    let leaking: Vec<&str> = logs.lines().filter(|line| line.contains(&token)).collect();
    assert!(
        !leaking.is_empty(),
        "expected the default TraceLayer to log the verify URI, got:\n{logs}"
    );
    println!(
        "default TraceLayer: {} lines hold the token, e.g.\n  {}",
        leaking.len(),
        leaking[0]
    );

    // The safe configuration.
    let stack = tower::ServiceBuilder::new()
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(rebilly_auth_tower::trace::redacted_span::<Full<Bytes>>),
        )
        .service(TransportService::new(emulator()));
    let (capture, token) = journey(TowerTransport::new(stack));
    capture.assert_free_of(&[&token, SECRET_KEY, PASSWORD]);
    let logs = capture.text();
    // Not vacuous: the layer's span and events are in the capture, with the route template.
    assert!(
        logs.contains("route=/authentication-tokens/{token}"),
        "{logs}"
    );
    assert!(logs.contains("started processing request"), "{logs}");
    assert!(logs.contains("finished processing request"), "{logs}");
    println!(
        "safe TraceLayer: {} lines, none holding the token",
        logs.lines().count()
    );
}
