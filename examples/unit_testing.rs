//! Unit-testing your own code that uses the SDK, two ways: with `RecordingTransport` (script
//! answers, then assert what was sent) and with mockall's `MockHttpTransport` (core feature
//! `mock`). No network, no emulator.
//!
//! ```sh
//! cargo run --example unit_testing
//! ```

mod support;

use bytes::Bytes;
use rebilly_auth_core::models::{AuthToken, ProblemDetails, TokenVerification};
use rebilly_auth_core::{Client, Error, MockHttpTransport, RetryPolicy};
use rebilly_auth_testing::RecordingTransport;

/// The code under test: who is logged in with this token, if anyone?
async fn current_user(client: &Client, token: &AuthToken) -> Result<Option<String>, Error> {
    Ok(client
        .authentication_tokens()
        .verify(token)
        .await?
        .map(|t| t.username))
}

async fn with_the_recording_fake() {
    let fake = RecordingTransport::new();
    // Script answers with the SDK's own models: `respond(status, &model)`.
    fake.respond(200, &TokenVerification::new("ada@example.com"))
        .respond(404, &ProblemDetails::new(404, "Not Found", "no such token"));
    // A ready test client over the fake (organization `org_test`, key `sk_test`, no retries,
    // instant sleeps, a manual clock). The test keeps `fake` to look at what was sent.
    let client = fake.client();

    let token = AuthToken::new("tok_1");
    assert_eq!(
        current_user(&client, &token).await.unwrap().as_deref(),
        Some("ada@example.com")
    );
    assert_eq!(
        current_user(&client, &token).await.unwrap(),
        None,
        "404 means not logged in"
    );

    let sent = fake.last_request().expect("a request was sent");
    sent.assert_method(http::Method::GET)
        .assert_path("/organizations/org_test/authentication-tokens/tok_1")
        .assert_header("reb-apikey", "sk_test");
    fake.assert_all_used();
    // Secrets are redacted when a recorded request is printed.
    assert!(!format!("{sent:?}").contains("sk_test"));
    println!("RecordingTransport: 2 scripted answers, request asserted");
}

async fn with_a_mockall_mock() {
    let mut mock = MockHttpTransport::new();
    mock.expect_send()
        .withf(|request| {
            request
                .uri()
                .path()
                .ends_with("/authentication-tokens/tok_2")
        })
        .times(1)
        .returning(|_| {
            let body = Bytes::from_static(br#"{"username":"grace@example.com"}"#);
            Ok(http::Response::builder().status(200).body(body).unwrap())
        });
    // A mock is no ready client: build one, without retries so an expectation counts calls.
    let client = Client::builder()
        .organization("my-org")
        .secret_key("sk_test_only")
        .retry_policy(RetryPolicy::none())
        .transport(mock)
        .build()
        .expect("a valid configuration");
    let user = current_user(&client, &AuthToken::new("tok_2"))
        .await
        .unwrap();
    assert_eq!(user.as_deref(), Some("grace@example.com"));
    println!("MockHttpTransport: expectation met");
}

#[tokio::main]
async fn main() {
    support::init_logging();
    with_the_recording_fake().await;
    with_a_mockall_mock().await;
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn recording_fake() {
        super::with_the_recording_fake().await;
    }

    #[tokio::test]
    async fn mockall_mock() {
        super::with_a_mockall_mock().await;
    }
}
