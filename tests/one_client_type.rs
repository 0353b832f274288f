//! The one client type in user code: a user's function takes `&rebilly_auth_core::Client`, with
//! no generics and no lifetime bounds, and accepts a client built from each transport crate,
//! from `RecordingTransport`, from the emulator and from mockall's mock.

use rebilly_auth_core::models::TokenVerification;
use rebilly_auth_core::{Client, ClientBuilder, Error, MockHttpTransport};
use rebilly_auth_testing::RecordingTransport;
use rebilly_auth_testing::emulator::Emulator;

/// What a user writes: one function for production and for tests.
async fn current_user(client: &Client, token: &str) -> Result<Option<String>, Error> {
    let verification = client.authentication_tokens().verify(token).await?;
    Ok(verification.map(|v| v.username))
}

/// The rest of the configuration, the same for every client here.
fn for_org(builder: ClientBuilder) -> Client {
    builder
        .organization("org")
        .secret_key("sk_org")
        .build()
        .expect("a valid configuration")
}

#[tokio::test]
async fn a_user_function_takes_every_kind_of_client() {
    let emulator = Emulator::builder()
        .add_organization("org", "sk_org", None)
        .build();
    let server = emulator.serve_on_loopback().await.unwrap();

    let over_reqwest = for_org(rebilly_auth_reqwest::client_builder().server_url(server.url()));
    let over_hyper = for_org(rebilly_auth_hyper::client_builder().server_url(server.url()));
    let in_process = for_org(Client::builder().transport(emulator.clone()));
    for client in [&over_reqwest, &over_hyper, &in_process] {
        assert_eq!(current_user(client, "tok_unknown").await.unwrap(), None);
    }

    let recording = RecordingTransport::new();
    recording.respond(200, &TokenVerification::new("ada"));
    let recorded = for_org(Client::builder().transport(recording.clone()));
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
    let mocked = for_org(Client::builder().transport(mock));
    assert_eq!(current_user(&mocked, "tok_1").await.unwrap(), None);
    server.shutdown().await;
}
