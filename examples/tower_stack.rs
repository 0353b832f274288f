//! A tower stack around the SDK's reqwest transport, used by a `Client`: every request goes
//! through tower-http's `TraceLayer` (the safe configuration: method and route template,
//! never the URI), a `ConcurrencyLimit` and a `Timeout`, then reqwest. It runs each of the 16
//! operations once (against the embedded emulator on loopback by default, or the server the
//! environment names, as `all_operations` does), printing `OK <operation>` or
//! `ERR <operation>: <error>`, and exits non-zero on any `ERR`.
//!
//! ```sh
//! cargo run --example tower_stack
//! ```
//!
//! The trace goes to stderr at DEBUG: each line shows the `rebilly_auth.call` span and the
//! layer's `request{method=GET route=/authentication-tokens/{token}}` span, never a token.
//! `cargo test --example tower_stack` runs the same code as a test.

mod support;

use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use rebilly_auth_reqwest::ReqwestTransport;
use rebilly_auth_reqwest::auth_core::HttpTransport;
use rebilly_auth_tower::{TowerTransport, TransportService};
use support::operations::{Report, all_operations};
use tower::ServiceBuilder;
use tower_http::trace::TraceLayer;

/// The transport: reqwest → `TransportService` → tower layers → `TowerTransport`.
fn tower_transport() -> Result<impl HttpTransport + 'static, Box<dyn std::error::Error>> {
    let stack = ServiceBuilder::new()
        // Outermost: one span per request, with no URI in it (the verify path holds the token).
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(rebilly_auth_tower::trace::redacted_span::<Full<Bytes>>),
        )
        // At most 4 requests in flight; the others wait in `poll_ready` (never sent yet).
        .concurrency_limit(4)
        // Each request, once admitted, has 10 s; on expiry tower's `Elapsed` becomes a
        // `Timeout` error that may have reached the server.
        .timeout(Duration::from_secs(10))
        .service(TransportService::new(ReqwestTransport::new()?));
    Ok(TowerTransport::new(stack))
}

/// Sets up a client over the tower stack and runs the 16 operations through it.
async fn run() -> Result<Report, Box<dyn std::error::Error>> {
    let setup = support::setup_with(tower_transport()?).await?;
    eprintln!("tower_stack against {}", setup.target);
    let report = all_operations(&setup).await;
    if let Some((_, server)) = setup.emulator {
        server.shutdown().await;
    }
    Ok(report)
}

#[tokio::main]
async fn main() -> ExitCode {
    // Its point is to show the spans, so it shows them unless RUST_LOG says otherwise.
    support::init_logging_or("debug");
    match run().await {
        Ok(report) if report.failures == 0 => {
            eprintln!(
                "all {} operations passed through the tower stack",
                report.operations
            );
            ExitCode::SUCCESS
        }
        Ok(report) => {
            eprintln!(
                "{} of {} failed",
                report.failures,
                support::counted(report.operations, "operation")
            );
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("setup failed: {}", support::describe(&*error));
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn all_16_operations_through_the_tower_stack() {
        let report = super::run().await.unwrap();
        assert_eq!(report.operations, 16);
        assert_eq!(report.failures, 0);
    }
}
