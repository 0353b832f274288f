//! What every example shares: where to send requests, read from the environment.
//!
//! `REBILLY_API_URL` unset ⇒ an emulator is started on loopback and the example runs offline.
//! Otherwise `REBILLY_ORGANIZATION_ID` and `REBILLY_SECRET_KEY` are required and
//! `REBILLY_PUBLISHABLE_KEY` / `REBILLY_CUSTOMER_ID` are optional.
#![allow(dead_code)]

pub(crate) mod operations;
mod output;

// Each example uses a few of these.
#[allow(unused_imports)]
pub(crate) use output::{counted, describe, exit_code, init_logging, init_logging_or, unexpected};

use rebilly_auth_reqwest::ReqwestTransport;
use rebilly_auth_reqwest::auth_core::{Client, HttpTransport, PublishableKey};
use rebilly_auth_testing::emulator::{Emulator, ServerHandle};

/// A configured client and what the example may need besides.
pub(crate) struct Setup {
    /// A client over reqwest, with the secret key.
    pub(crate) client: Client,
    /// The publishable key, if one is configured.
    pub(crate) publishable_key: Option<PublishableKey>,
    /// The customer new credentials belong to.
    pub(crate) customer_id: String,
    /// The embedded emulator, when no server was configured.
    pub(crate) emulator: Option<(Emulator, ServerHandle)>,
    /// Where requests go, for printing.
    pub(crate) target: String,
}

const EMBEDDED_ORG: &str = "quickstart-org";
const EMBEDDED_SECRET: &str = "sk_quickstart_secret";
const EMBEDDED_PUBLISHABLE: &str = "pk_quickstart_publishable";

/// Reads the environment; starts the embedded emulator when `REBILLY_API_URL` is unset. The
/// client goes over reqwest.
pub(crate) async fn setup() -> Result<Setup, Box<dyn std::error::Error>> {
    setup_with(ReqwestTransport::new()?).await
}

/// [`setup`], with the client over `transport`.
pub(crate) async fn setup_with(
    transport: impl HttpTransport + 'static,
) -> Result<Setup, Box<dyn std::error::Error>> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let (url, organization, secret, publishable, emulator) = match var("REBILLY_API_URL") {
        Some(url) => {
            let organization = var("REBILLY_ORGANIZATION_ID")
                .ok_or("REBILLY_ORGANIZATION_ID is required with REBILLY_API_URL")?;
            let secret = var("REBILLY_SECRET_KEY")
                .ok_or("REBILLY_SECRET_KEY is required with REBILLY_API_URL")?;
            (
                url,
                organization,
                secret,
                var("REBILLY_PUBLISHABLE_KEY"),
                None,
            )
        }
        None => {
            let emulator = Emulator::builder()
                .add_organization(EMBEDDED_ORG, EMBEDDED_SECRET, Some(EMBEDDED_PUBLISHABLE))
                .build();
            let server = emulator.serve_on_loopback().await?;
            (
                server.url(),
                EMBEDDED_ORG.to_owned(),
                EMBEDDED_SECRET.to_owned(),
                Some(EMBEDDED_PUBLISHABLE.to_owned()),
                Some((emulator, server)),
            )
        }
    };
    let client = Client::builder()
        .server_url(url.clone())
        .organization(organization.clone())
        .secret_key(secret)
        .transport(transport)
        .build()?;
    let target = match &emulator {
        Some(_) => format!("the embedded emulator at {url} (organization {organization})"),
        None => format!("{url} (organization {organization})"),
    };
    Ok(Setup {
        client,
        publishable_key: publishable.map(PublishableKey::new),
        customer_id: var("REBILLY_CUSTOMER_ID").unwrap_or_else(|| "cus_quickstart".to_owned()),
        emulator,
        target,
    })
}

/// A suffix that keeps usernames of concurrent runs apart.
pub(crate) fn unique_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{}-{}", std::process::id(), nanos % 1_000_000_000)
}
