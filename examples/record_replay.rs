//! Record a cassette once (against your sandbox, or here the emulator), replay it in CI.
//! Secrets are redacted before anything reaches the file.
//!
//! ```sh
//! cargo run --example record_replay
//! ```

mod support;

use rebilly_auth_core::Client;
use rebilly_auth_core::models::Login;
use rebilly_auth_core::models::NewCredential;
use rebilly_auth_testing::cassette::{Cassette, Recorder, Replayer};
use rebilly_auth_testing::emulator::Emulator;

const SECRET_KEY: &str = "sk_sandbox_recorded_secret";
const PASSWORD: &str = "recorded password 123";

/// The code whose traffic is recorded: create a customer's credential and log in.
async fn sign_up_and_log_in(client: &Client) -> Result<String, rebilly_auth_core::Error> {
    client
        .credentials()
        .create(NewCredential::new("lin@example.com", PASSWORD, "cus_lin"))
        .await?;
    let token = client
        .authentication_tokens()
        .login(Login::password("lin@example.com", PASSWORD))
        .await?;
    Ok(token.username)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    support::init_logging();
    support::exit_code(run().await)
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::temp_dir().join(format!("rebilly-cassette-{}.json", std::process::id()));

    // 1. Record: wrap the real transport (ReqwestTransport against your sandbox; the emulator
    //    here, so the example runs offline) and save the cassette.
    let emulator = Emulator::builder()
        .add_organization("org", SECRET_KEY, None)
        .build();
    let recorder = Recorder::new(emulator);
    let client = Client::builder()
        .organization("org")
        .secret_key(SECRET_KEY)
        .transport(recorder.clone())
        .build()?;
    println!(
        "recorded run: logged in as {}",
        sign_up_and_log_in(&client).await?
    );
    recorder.save(&path)?;
    let text = std::fs::read_to_string(&path)?;
    for secret in [SECRET_KEY, PASSWORD] {
        assert!(!text.contains(secret), "a secret reached the cassette");
    }
    println!(
        "cassette: {} ({} bytes, no secret in it)",
        path.display(),
        text.len()
    );

    // 2. Replay: same code, no server, and any key (the recorded one was redacted).
    let replayer = Replayer::new(Cassette::load(&path)?);
    let client = Client::builder()
        .organization("org")
        .secret_key("sk_ci_dummy")
        .transport(replayer.clone())
        .build()?;
    println!(
        "replayed run: logged in as {}",
        sign_up_and_log_in(&client).await?
    );
    replayer.assert_all_used();

    // 3. A request the cassette does not hold fails with a message saying how it differs.
    let error = client
        .credentials()
        .get("cus_crd_unrecorded")
        .await
        .unwrap_err();
    println!("an unrecorded request fails: {error}");
    std::fs::remove_file(&path)?;
    Ok(())
}
