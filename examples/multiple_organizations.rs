//! One client, several organizations: the organization travels in the path, so a call can
//! switch organization (and credential) without another client.
//!
//! ```sh
//! cargo run --example multiple_organizations
//! ```

mod support;

use std::process::ExitCode;

use rebilly_auth_core::models::NewCredential;
use rebilly_auth_core::{Auth, Client};
use rebilly_auth_testing::emulator::Emulator;

#[tokio::main]
async fn main() -> ExitCode {
    support::init_logging();
    support::exit_code(run().await)
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let emulator = Emulator::builder()
        .add_organization("acme", "sk_acme", None)
        .add_organization("globex", "sk_globex", None)
        .build();
    // The client's defaults: organization acme with its key.
    let client = Client::builder()
        .organization("acme")
        .secret_key("sk_acme")
        .transport(emulator)
        .build()?;

    client
        .credentials()
        .create(NewCredential::new("ada", "password-of-ada", "cus_ada"))
        .await?;
    client
        .credentials()
        .create(NewCredential::new("bob", "password-of-bob", "cus_bob"))
        .organization("globex")
        .auth(Auth::secret_key("sk_globex"))
        .await?;

    let acme = client.credentials().list().await?;
    let globex = client
        .credentials()
        .list()
        .organization("globex")
        .auth(Auth::secret_key("sk_globex"))
        .await?;
    let usernames = |items: &[rebilly_auth_core::models::Credential]| {
        items
            .iter()
            .map(|c| c.username.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!("acme:   {}", usernames(&acme.items));
    println!("globex: {}", usernames(&globex.items));

    // Each organization's key works only on its own organization.
    let cross = client.credentials().list().organization("globex").await;
    println!(
        "globex with acme's key: unauthorized = {}",
        cross.is_err_and(|e| e.is_unauthorized())
    );
    Ok(())
}
