//! The secret-leak test of the trace layer: tower-http's `TraceLayer` at its default
//! configuration records the request URI, and the verify path holds the customer's token, so
//! the token lands in the logs; with the safe configuration (`trace::redacted_span`) it does not.
//!
//! One test on purpose: each half installs its own TRACE subscriber (thread-local, on a
//! current-thread runtime) and captures everything it prints.

use std::io::Write;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::Full;
use rebilly_auth_testing::emulator::Emulator;
use rebilly_auth_tower::auth_core::models::credential::NewCredential;
use rebilly_auth_tower::auth_core::models::jwt::Exchange;
use rebilly_auth_tower::auth_core::models::token::Login;
use rebilly_auth_tower::auth_core::{Client, HttpTransport};
use rebilly_auth_tower::{TowerTransport, TransportService};
use tower_http::trace::TraceLayer;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::FmtSpan;

const SECRET_KEY: &str = "sk_LEAK01secretkey";
const PASSWORD: &str = "LEAK02-password";

/// A `MakeWriter` that appends everything to one buffer.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Capture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Runs login → verify → exchange → logout through `transport` under a TRACE subscriber of
/// every target; returns the capture and the token the emulator issued.
fn journey(transport: impl HttpTransport + 'static) -> (String, String) {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(FmtSpan::FULL)
        .with_ansi(false)
        .with_writer(capture.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
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
    (capture.text(), token)
}

fn emulator() -> Emulator {
    Emulator::builder()
        .organization("leak-org", SECRET_KEY, None)
        .build()
}

#[test]
fn default_trace_layer_logs_the_token_and_the_safe_one_does_not() {
    // The default configuration: `DefaultMakeSpan` records `uri`.
    let stack = tower::ServiceBuilder::new()
        .layer(TraceLayer::new_for_http())
        .service(TransportService::new(emulator()));
    let (logs, token) = journey(TowerTransport::new(stack));
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
    let (logs, token) = journey(TowerTransport::new(stack));
    for secret in [token.as_str(), SECRET_KEY, PASSWORD] {
        assert!(
            !logs.contains(secret),
            "a secret leaked with the safe configuration:\n{}",
            logs.lines()
                .filter(|line| line.contains(secret))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
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
