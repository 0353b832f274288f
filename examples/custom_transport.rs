//! Your own transport: a wrapper that adds metrics and logging around any other transport,
//! and a blocking HTTP stack (ureq) bridged onto the async trait.
//!
//! ```sh
//! cargo run --example custom_transport
//! ```

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use async_trait::async_trait;
use bytes::Bytes;
use rebilly_auth_core::models::Login;
use rebilly_auth_core::{BodyLimit, Client, HttpTransport, TransportError};
use rebilly_auth_testing::emulator::Emulator;

/// Counts requests and failures and logs each call — by method and status only: request
/// paths carry token values, so a transport must never log its URIs.
struct Metered<T> {
    inner: T,
    requests: AtomicU64,
    failures: AtomicU64,
}

impl<T> Metered<T> {
    fn new(inner: T) -> Self {
        Self {
            inner,
            requests: AtomicU64::new(0),
            failures: AtomicU64::new(0),
        }
    }
}

#[async_trait]
impl<T: HttpTransport> HttpTransport for Metered<T> {
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        let method = request.method().clone();
        let started = Instant::now();
        self.requests.fetch_add(1, Ordering::Relaxed);
        let result = self.inner.send(request).await;
        match &result {
            Ok(response) => {
                println!(
                    "  [metered] {method} -> {} in {:?}",
                    response.status(),
                    started.elapsed()
                )
            }
            Err(error) => {
                self.failures.fetch_add(1, Ordering::Relaxed);
                println!("  [metered] {method} failed: {error}");
            }
        }
        result
    }
}

/// A blocking HTTP client (ureq, plain HTTP) run on tokio's blocking pool.
struct Blocking {
    agent: ureq::Agent,
}

impl Blocking {
    fn new() -> Self {
        let config = ureq::Agent::config_builder()
            .max_redirects(0) // never follow: a redirect could carry REB-APIKEY elsewhere
            .http_status_as_error(false) // the SDK decodes error statuses itself
            // ureq reads HTTP_PROXY & co. by default; the emulator's plain-HTTP loopback
            // traffic (keys, passwords, one-time passwords) must never go to a proxy.
            .proxy(None)
            .build();
        Self {
            agent: config.into(),
        }
    }
}

#[async_trait]
impl HttpTransport for Blocking {
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        let agent = self.agent.clone();
        let limit = BodyLimit::of(&request);
        let (parts, body) = request.into_parts();
        let request = http::Request::from_parts(parts, body.to_vec());
        tokio::task::spawn_blocking(move || {
            let response = agent.run(request).map_err(|error| match error {
                ureq::Error::ConnectionFailed | ureq::Error::HostNotFound => {
                    TransportError::connect(error.to_string())
                }
                ureq::Error::Timeout(_) => TransportError::timeout(error.to_string()),
                other => TransportError::io(other.to_string()),
            })?;
            let (parts, mut body) = response.into_parts();
            let bytes = body
                .with_config()
                .limit(limit as u64)
                .read_to_vec()
                .map_err(|error| match error {
                    ureq::Error::BodyExceedsLimit(_) => TransportError::body_too_large(limit),
                    other => TransportError::body(other.to_string()),
                })?;
            Ok(http::Response::from_parts(parts, Bytes::from(bytes)))
        })
        .await
        .map_err(TransportError::other)?
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    support::init_logging();
    support::exit_code(run().await)
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let emulator = Emulator::builder()
        .add_organization("org", "sk_example", None)
        .build();

    println!("1. A metering wrapper around the in-process emulator");
    let metered = Arc::new(Metered::new(emulator.clone()));
    let client = Client::builder()
        .organization("org")
        .secret_key("sk_example")
        .transport(metered.clone())
        .build()?;
    client.authentication_options().get().await?;
    let missing = client.credentials().get("cus_crd_missing").await;
    println!(
        "  missing credential -> not found: {}",
        missing.is_err_and(|e| e.is_not_found())
    );
    let wrong = client
        .authentication_tokens()
        .login(Login::password("nobody", "x"))
        .await;
    println!(
        "  unknown user -> login refused: {}",
        wrong.is_err_and(|e| e.is_login_refused())
    );
    println!(
        "  {}, {}",
        support::counted(metered.requests.load(Ordering::Relaxed) as usize, "request"),
        support::counted(
            metered.failures.load(Ordering::Relaxed) as usize,
            "transport failure"
        )
    );

    println!("2. A blocking HTTP stack (ureq) against the emulator served on loopback");
    let server = emulator.serve_on_loopback().await?;
    let client = Client::builder()
        .server_url(server.url())
        .organization("org")
        .secret_key("sk_example")
        .transport(Metered::new(Blocking::new()))
        .build()?;
    let options = client.authentication_options().get().await?;
    match options.auth_token_ttl {
        Some(ttl) => println!("  options over ureq: authTokenTtl = {ttl} s"),
        None => println!("  options over ureq: authTokenTtl not set"),
    }
    server.shutdown().await;
    Ok(())
}
