//! Cassette round trip: no secret reaches the file, and replay serves it back.
#![cfg(feature = "emulator")]

use rebilly_auth_core::models::Exchange;
use rebilly_auth_core::models::Login;
use rebilly_auth_core::models::NewCredential;
use rebilly_auth_core::models::NewResetPasswordToken;
use rebilly_auth_core::{Client, RetryPolicy, error_chain};
use rebilly_auth_testing::emulator::Emulator;

const ORG: &str = "org-1";
const SK: &str = "sk_test_1";

fn emulator() -> Emulator {
    Emulator::builder().add_organization(ORG, SK, None).build()
}
use rebilly_auth_testing::cassette::{Cassette, Recorder, Replayer};

async fn scenario(client: &Client) -> Vec<String> {
    let mut seen = Vec::new();
    let cred = client
        .credentials()
        .create(NewCredential::new("ada", "hunter2-password", "cus_ada"))
        .await
        .unwrap();
    seen.push(cred.username.clone());
    let token = client
        .authentication_tokens()
        .login(Login::password("ada", "hunter2-password"))
        .await
        .unwrap();
    let value = token.token;
    seen.push(format!(
        "{:?}",
        client
            .authentication_tokens()
            .verify(value.clone())
            .await
            .unwrap()
            .map(|t| t.username)
    ));
    let jwt = client
        .authentication_tokens()
        .exchange(value, Exchange::new())
        .await
        .unwrap();
    seen.push(jwt.customer_id.unwrap().as_str().to_owned());
    let reset = client
        .reset_password_tokens()
        .create(NewResetPasswordToken::new("ada"))
        .await
        .unwrap();
    seen.push(reset.username);
    let page = client.credentials().list().limit(10).send().await.unwrap();
    seen.push(page.items.len().to_string());
    seen
}

#[tokio::test]
async fn round_trip_without_secrets() {
    let emu = emulator();
    let recorder = Recorder::new(emu.clone());
    let client = Client::builder()
        .organization(ORG)
        .secret_key(SK)
        .retry_policy(RetryPolicy::none())
        .transport(recorder.clone())
        .build()
        .unwrap();
    let live = scenario(&client).await;

    // Collect every secret the exchange carried.
    let mut secrets = vec![SK.to_owned(), "hunter2-password".to_owned()];
    let log = emu.request_log();
    assert_eq!(log.len(), 6);
    let tokens = emu
        .client(ORG)
        .reset_password_tokens()
        .list()
        .await
        .unwrap();
    secrets.push(tokens.items[0].token.expose().to_owned());

    let dir = std::env::temp_dir().join(format!("rebilly-cassette-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("flow.json");
    recorder.save(&file).unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    for secret in &secrets {
        assert!(
            !text.contains(secret.as_str()),
            "a secret reached the cassette"
        );
    }
    assert!(!text.contains("eyJ"), "a JWT reached the cassette");
    assert!(text.contains("[REDACTED]"));
    assert!(text.contains("/authentication-tokens/{token}/exchange"));

    // Replay with another key: same results, every interaction used.
    let replayer = Replayer::load(&file).unwrap();
    let replay_client = Client::builder()
        .organization(ORG)
        .secret_key("sk_other")
        .retry_policy(RetryPolicy::none())
        .transport(replayer.clone())
        .build()
        .unwrap();
    assert_eq!(scenario(&replay_client).await, live);
    replayer.assert_all_used();
    std::fs::remove_dir_all(&dir).unwrap();

    // A mismatch explains itself.
    let replayer = Replayer::new(Cassette::load(&file).unwrap_or_else(|_| recorder.cassette()));
    let client = Client::builder()
        .organization(ORG)
        .secret_key(SK)
        .retry_policy(RetryPolicy::none())
        .transport(replayer)
        .build()
        .unwrap();
    let err = client
        .credentials()
        .create(NewCredential::new("bob", "pw", "cus_bob"))
        .await
        .unwrap_err();
    let all = error_chain(&err)
        .map(|cause| cause.to_string())
        .collect::<Vec<_>>()
        .join(": ");
    assert!(
        all.contains("no cassette interaction matches POST"),
        "{all}"
    );
    assert!(all.contains("body:"), "{all}");
    assert!(!all.contains("\"pw\""), "{all}");
}

/// `tests/fixtures/cassette-0.1.0.json` was recorded by version 0.1.0 (against the emulator),
/// whose redaction wrote `{token}` for every token segment, `/password-tokens/{token}` too.
/// Cassettes users recorded then must keep replaying.
#[tokio::test]
async fn a_cassette_recorded_by_0_1_0_still_replays() {
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/cassette-0.1.0.json"
    );
    let replayer = Replayer::load(file).unwrap();
    let client = Client::builder()
        .organization(ORG)
        .secret_key("sk_other")
        .retry_policy(RetryPolicy::none())
        .transport(replayer.clone())
        .build()
        .unwrap();
    let credential = client
        .credentials()
        .create(NewCredential::new("ada", "another-password", "cus_ada"))
        .await
        .unwrap();
    let fetched = client
        .credentials()
        .get(credential.id.clone())
        .await
        .unwrap();
    assert_eq!(fetched.username, "ada");
    let token = client
        .authentication_tokens()
        .login(Login::password("ada", "another-password"))
        .await
        .unwrap()
        .token;
    let verified = client
        .authentication_tokens()
        .verify(token.clone())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(verified.username, "ada");
    let jwt = client
        .authentication_tokens()
        .exchange(token, Exchange::new())
        .await
        .unwrap();
    assert_eq!(jwt.customer_id.unwrap().as_str(), "cus_ada");
    let reset = client
        .reset_password_tokens()
        .create(NewResetPasswordToken::new("ada"))
        .await
        .unwrap();
    // The cassette holds no token value: any value addresses the recorded token on replay.
    assert_eq!(reset.token.expose(), "[REDACTED]");
    let again = client
        .reset_password_tokens()
        .get("replayed-reset-token")
        .await
        .unwrap();
    assert_eq!(again.username, "ada");
    client
        .reset_password_tokens()
        .delete("replayed-reset-token")
        .await
        .unwrap();
    let page = client.reset_password_tokens().list().send().await.unwrap();
    assert!(page.items.is_empty());
    replayer.assert_all_used();
}

/// Loading rewrites 0.1.0's placeholders to core's route templates.
#[test]
fn loading_rewrites_old_placeholders_to_core_templates() {
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/cassette-0.1.0.json"
    );
    let old = std::fs::read_to_string(file).unwrap();
    assert!(
        old.contains("/password-tokens/{token}"),
        "the fixture is 0.1.0's"
    );
    let json = Cassette::load(file).unwrap().to_json();
    assert!(!json.contains("/password-tokens/{token}"), "{json}");
    assert!(json.contains("/password-tokens/{id}"));
    assert!(json.contains("/authentication-tokens/{token}/exchange"));
}
