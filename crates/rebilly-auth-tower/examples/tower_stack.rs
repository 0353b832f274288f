//! A tower stack around the SDK's reqwest transport, used by a `Client`: every request goes
//! through tower-http's `TraceLayer` (the safe configuration: method and route template,
//! never the URI), a `ConcurrencyLimit` and a `Timeout`, then reqwest. It runs each of the 16
//! operations once against the emulator on loopback, printing `OK <operation>` or
//! `ERR <operation>: <error>`, and exits non-zero on any `ERR`.
//!
//! ```sh
//! cargo run -p rebilly-auth-tower --example tower_stack
//! ```
//!
//! The trace goes to stderr at DEBUG: each line shows the `rebilly_auth.call` span and the
//! layer's `request{method=GET route=/authentication-tokens/{token}}` span, never a token.
//!
//! `cargo test -p rebilly-auth-tower --example tower_stack` runs the same code as a test.

use std::fmt::Display;
use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use rebilly_auth_core::models::credential::NewCredential;
use rebilly_auth_core::models::jwt::Exchange;
use rebilly_auth_core::models::reset_password_token::NewResetPasswordToken;
use rebilly_auth_core::models::token::Login;
use rebilly_auth_core::{Auth, Client, PublishableKey, Upserted};
use rebilly_auth_reqwest::ReqwestTransport;
use rebilly_auth_testing::emulator::Emulator;
use rebilly_auth_tower::{TowerTransport, TransportService};
use tower::ServiceBuilder;
use tower_http::trace::TraceLayer;

const ORG: &str = "tower-org";
const SECRET_KEY: &str = "sk_tower_secret";
const PUBLISHABLE_KEY: &str = "pk_tower_publishable";

/// The transport: reqwest → `TransportService` → tower layers → `TowerTransport`.
fn tower_transport()
-> Result<impl rebilly_auth_core::HttpTransport + 'static, Box<dyn std::error::Error>> {
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

/// Prints one line per operation and counts failures.
#[derive(Default)]
struct Report {
    operations: usize,
    failures: usize,
}

impl Report {
    fn record<T, E: Display>(&mut self, operation: &str, result: Result<T, E>) -> Option<T> {
        self.operations += 1;
        match result {
            Ok(value) => {
                println!("OK {operation}");
                Some(value)
            }
            Err(error) => {
                println!("ERR {operation}: {error}");
                self.failures += 1;
                None
            }
        }
    }

    fn skip(&mut self, operation: &str, needs: &str) {
        self.operations += 1;
        println!("ERR {operation}: not called, it needs {needs}");
        self.failures += 1;
    }
}

/// Starts the emulator on loopback, runs the 16 operations through the tower stack.
async fn run() -> Result<Report, Box<dyn std::error::Error>> {
    let emulator = Emulator::builder()
        .organization(ORG, SECRET_KEY, Some(PUBLISHABLE_KEY))
        .build();
    let server = emulator.serve_on_loopback().await?;
    let client = Client::builder()
        .server_url(server.url())
        .organization(ORG)
        .secret_key(SECRET_KEY)
        .transport(tower_transport()?)
        .build()?;
    let report = all_operations(&client).await;
    server.shutdown().await;
    Ok(report)
}

async fn all_operations(client: &Client) -> Report {
    let mut report = Report::default();
    let username = "tower-stack@example.com";
    let password = "tower stack passw0rd";
    let new_credential = || NewCredential::new(username, password, "cus_tower");
    let publishable = Auth::PublishableKey(PublishableKey::new(PUBLISHABLE_KEY));

    match report.record(
        "get_authentication_option",
        client.authentication_options().get().await,
    ) {
        Some(options) => {
            report.record(
                "put_authentication_option",
                client.authentication_options().update(options).await,
            );
        }
        None => report.skip("put_authentication_option", "get_authentication_option"),
    }

    let credential = report.record(
        "post_credential",
        client.credentials().create(new_credential()).await,
    );
    report.record(
        "get_credential_collection",
        client.credentials().list().limit(10).await,
    );
    match &credential {
        Some(credential) => {
            report.record(
                "get_credential",
                client.credentials().get(credential.id.clone()).await,
            );
            report.record(
                "put_credential",
                client
                    .credentials()
                    .upsert(credential.id.clone(), new_credential())
                    .await
                    .map(|u| matches!(u, Upserted::Updated(_))),
            );
        }
        None => {
            report.skip("get_credential", "post_credential");
            report.skip("put_credential", "post_credential");
        }
    }

    let token = report
        .record(
            "post_authentication_token",
            client
                .authentication_tokens()
                .login(Login::password(username, password))
                .auth(publishable.clone())
                .await,
        )
        .map(|issued| issued.token);
    report.record(
        "get_authentication_token_collection",
        client.authentication_tokens().list().limit(10).await,
    );
    match &token {
        Some(token) => {
            report.record(
                "get_authentication_token_verification",
                client
                    .authentication_tokens()
                    .verify(token)
                    .auth(publishable.clone())
                    .await
                    .map_err(|e| e.to_string())
                    .and_then(|found| found.ok_or_else(|| "a fresh token did not verify".into())),
            );
            report.record(
                "post_authentication_token_exchange",
                client
                    .authentication_tokens()
                    .exchange(token, Exchange::new().keep_token())
                    .await,
            );
            report.record(
                "delete_authentication_token",
                client.authentication_tokens().logout(token).await,
            );
        }
        None => {
            for operation in [
                "get_authentication_token_verification",
                "post_authentication_token_exchange",
                "delete_authentication_token",
            ] {
                report.skip(operation, "post_authentication_token");
            }
        }
    }

    let reset = report
        .record(
            "post_password_token",
            client
                .reset_password_tokens()
                .create(NewResetPasswordToken::new(username))
                .await,
        )
        .map(|created| created.token);
    report.record(
        "get_password_token_collection",
        client.reset_password_tokens().list().limit(10).await,
    );
    match &reset {
        Some(reset) => {
            report.record(
                "get_password_token",
                client.reset_password_tokens().get(reset).await,
            );
            report.record(
                "delete_password_token",
                client.reset_password_tokens().delete(reset).await,
            );
        }
        None => {
            report.skip("get_password_token", "post_password_token");
            report.skip("delete_password_token", "post_password_token");
        }
    }

    match &credential {
        Some(credential) => {
            report.record(
                "delete_credential",
                client.credentials().delete(credential.id.clone()).await,
            );
        }
        None => report.skip("delete_credential", "post_credential"),
    }
    report
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(std::io::stderr)
        .init();
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
                "{} of {} operation(s) failed",
                report.failures, report.operations
            );
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("setup failed: {error}");
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
