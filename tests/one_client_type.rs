//! The one client type in user code: a user's function takes `&rebilly_auth_core::Client`, with
//! no generics and no lifetime bounds, and accepts a client built from each transport crate,
//! from `RecordingTransport`, from the emulator and from mockall's mock.

use rebilly_auth_core::{Client, Error, MockHttpTransport};
use rebilly_auth_testing::emulator::Emulator;
use rebilly_auth_testing::{RecordingTransport, json_response};

/// What a user writes: one function for production and for tests.
async fn current_user(client: &Client, token: &str) -> Result<Option<String>, Error> {
    let verification = client.authentication_tokens().verify(token).await?;
    Ok(verification.map(|v| v.username))
}

#[tokio::test]
async fn a_user_function_takes_every_kind_of_client() {
    let emulator = Emulator::builder()
        .organization("org", "sk_org", None)
        .build();
    let server = emulator.serve_on_loopback().await.unwrap();

    let over_reqwest = rebilly_auth_reqwest::client_builder()
        .server_url(server.url())
        .organization("org")
        .secret_key("sk_org")
        .build()
        .unwrap();
    let over_hyper = rebilly_auth_hyper::client_builder()
        .server_url(server.url())
        .organization("org")
        .secret_key("sk_org")
        .build()
        .unwrap();
    let in_process = Client::builder()
        .organization("org")
        .secret_key("sk_org")
        .transport(emulator.clone())
        .build()
        .unwrap();
    for client in [&over_reqwest, &over_hyper, &in_process] {
        assert_eq!(current_user(client, "tok_unknown").await.unwrap(), None);
    }

    let recording = RecordingTransport::new();
    recording.push(json_response(200, &serde_json::json!({"username": "ada"})));
    let recorded = Client::builder()
        .organization("org")
        .secret_key("sk_org")
        .transport(recording.clone())
        .build()
        .unwrap();
    assert_eq!(
        current_user(&recorded, "tok_1").await.unwrap().as_deref(),
        Some("ada")
    );

    let mut mock = MockHttpTransport::new();
    mock.expect_send().returning(|_| {
        Ok(http::Response::builder()
            .status(404)
            .body(bytes::Bytes::new())
            .unwrap())
    });
    let mocked = Client::builder()
        .organization("org")
        .secret_key("sk_org")
        .transport(mock)
        .build()
        .unwrap();
    assert_eq!(current_user(&mocked, "tok_1").await.unwrap(), None);
    server.shutdown().await;
}
