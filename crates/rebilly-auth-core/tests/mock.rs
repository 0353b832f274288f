//! The `mock` feature: mockall's `MockHttpTransport` drives a client.
#![cfg(feature = "mock")]

use bytes::Bytes;
use rebilly_auth_core::{Client, MockHttpTransport, RetryPolicy};

#[tokio::test]
async fn a_mockall_mock_drives_a_client() {
    let mut mock = MockHttpTransport::new();
    mock.expect_send()
        .withf(|request| {
            request.method() == http::Method::GET
                && request
                    .uri()
                    .path()
                    .ends_with("/authentication-tokens/tok_1")
        })
        .times(1)
        .returning(|_| {
            Ok(http::Response::builder()
                .status(404)
                .body(Bytes::from_static(b"{\"status\":404}"))
                .unwrap())
        });
    let client = Client::builder()
        .organization("org")
        .secret_key("sk")
        .retry_policy(RetryPolicy::none())
        .transport(mock)
        .build()
        .unwrap();
    assert_eq!(
        client
            .authentication_tokens()
            .verify("tok_1")
            .await
            .unwrap(),
        None
    );
}
