//! Handling errors: not found, validation errors with their invalid fields, rate limiting, and
//! what the retry policy does for you. Runs against the emulator with injected faults.
//!
//! ```sh
//! cargo run --example error_handling
//! ```

mod support;

use std::process::ExitCode;

use rebilly_auth_core::reexports::time::format_description::well_known::Rfc3339;
use std::time::Duration;

use rebilly_auth_core::OperationId;
use rebilly_auth_core::models::NewCredential;
use rebilly_auth_core::{Client, Error, RetryPolicy};
use rebilly_auth_testing::emulator::{Emulator, Fault, RequestMatcher};

#[tokio::main]
async fn main() -> ExitCode {
    support::init_logging();
    support::exit_code(run().await)
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let emulator = Emulator::builder()
        .add_organization("org", "sk_example", None)
        .build();
    let client = Client::builder()
        .organization("org")
        .secret_key("sk_example")
        .retry_policy(RetryPolicy::default().initial_backoff(Duration::from_millis(10)))
        .transport(emulator.clone())
        .build()?;

    // Not found: a typed check, no string matching.
    match client.credentials().get("cus_crd_nope").await {
        Err(error) if error.is_not_found() => println!("not found: {error}"),
        other => println!("{}", support::unexpected(other)),
    }

    // Validation: the fields the server rejected, one by one.
    client
        .credentials()
        .create(NewCredential::new("ada", "a long password", "cus_1"))
        .await?;
    let duplicate = client
        .credentials()
        .create(NewCredential::new("ada", "a long password", "cus_2"))
        .await;
    if let Err(error) = &duplicate {
        match error.status() {
            Some(status) => println!("validation failed with HTTP {}:", status.as_u16()),
            None => println!("validation failed:"),
        }
        for field in error.invalid_fields() {
            println!(
                "  {}: {}",
                field.field.as_deref().unwrap_or("?"),
                field.message.as_deref().unwrap_or("")
            );
        }
    }

    // Rate limited, briefly: the client waits as told (Retry-After) and retries by itself.
    emulator.inject(
        RequestMatcher::operation(OperationId::GetCredentialCollection),
        Fault::RateLimited {
            retry_after: Duration::from_secs(1),
        },
    );
    let page = client.credentials().list().send_with_meta().await?;
    println!(
        "rate limited once, then served after {} attempts",
        page.meta.attempts
    );

    // Rate limited for longer than the client is willing to wait: the error carries the time.
    emulator.inject(
        RequestMatcher::operation(OperationId::GetCredentialCollection),
        Fault::RateLimited {
            retry_after: Duration::from_secs(3600),
        },
    );
    match client.credentials().list().await {
        Err(error) if error.is_rate_limited() => {
            match error.retry_at().and_then(|at| at.format(&Rfc3339).ok()) {
                Some(at) => println!("rate limited; retry at {at}"),
                None => println!("rate limited; no retry time given"),
            }
        }
        other => println!("{}", support::unexpected(other)),
    }

    // A gateway error on a GET is retried; on a create it is not (it may have been executed).
    emulator.inject(
        RequestMatcher::operation(OperationId::GetCredentialCollection),
        Fault::Status(http::StatusCode::BAD_GATEWAY),
    );
    let page = client.credentials().list().send_with_meta().await?;
    println!("502 on a GET: retried, {} attempts", page.meta.attempts);
    emulator.inject(
        RequestMatcher::operation(OperationId::PostCredential),
        Fault::StatusAfterProcessing(http::StatusCode::BAD_GATEWAY),
    );
    let created = client
        .credentials()
        .create(NewCredential::new("bob", "a long password", "cus_3"))
        .await;
    match created {
        Err(Error::Api(api)) => println!(
            "502 on a create: not retried ({}), check before creating again",
            api.status
        ),
        other => println!("{}", support::unexpected(other)),
    }
    Ok(())
}
