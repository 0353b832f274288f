//! The whole customer journey, step by step, over a real HTTP transport.
//!
//! ```sh
//! cargo run --example quickstart
//! ```
//!
//! With no configuration it starts the emulator on loopback: no account, no network. With
//! `REBILLY_API_URL`, `REBILLY_ORGANIZATION_ID` and `REBILLY_SECRET_KEY` (optionally
//! `REBILLY_PUBLISHABLE_KEY` and `REBILLY_CUSTOMER_ID`) it runs against that server instead,
//! and leaves the organization as it found it.

mod support;

use futures_util::StreamExt;
use rebilly_auth_reqwest::auth_core::models::CredentialId;
use rebilly_auth_reqwest::auth_core::models::Exchange;
use rebilly_auth_reqwest::auth_core::models::Login;
use rebilly_auth_reqwest::auth_core::models::NewCredential;
use rebilly_auth_reqwest::auth_core::models::NewResetPasswordToken;
use rebilly_auth_reqwest::auth_core::{Auth, Upserted};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn step(n: u32, text: &str) {
    println!("\n[{n:>2}] {text}");
}

/// A value as a person reads it, or "none".
fn shown<T: std::fmt::Display>(value: Option<T>) -> String {
    value.map_or_else(|| "none".to_owned(), |v| v.to_string())
}

/// An expiry in RFC 3339, or "never" when the API gives none.
fn expiry(at: Option<rebilly_auth_reqwest::models::OffsetDateTime>) -> String {
    use rebilly_auth_reqwest::auth_core::reexports::time::format_description::well_known::Rfc3339;
    at.and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| "never".to_owned())
}

/// Yes or no.
fn yes_no(value: bool) -> &'static str {
    if value { "yes" } else { "no" }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    support::init_logging();
    support::exit_code(run().await)
}

async fn run() -> Result<()> {
    let setup = support::setup().await?;
    let client = &setup.client;
    println!("rebilly-auth quickstart against {}", setup.target);

    step(1, "Read the organization's authentication options");
    let original = client.authentication_options().get().await?;
    println!(
        "     password pattern {}, token lifetime {} s, one-time password required: {}",
        shown(original.password_pattern.as_deref()),
        shown(original.auth_token_ttl),
        shown(original.otp_required.map(yes_no))
    );

    step(
        2,
        "Update them: passwords of 12+ characters, tokens valid for one hour",
    );
    let stricter = original
        .clone()
        .password_pattern("/^.{12,}$/")
        .auth_token_ttl(3600);
    let updated = client.authentication_options().update(stricter).await?;
    println!(
        "     password pattern {}, token lifetime {} s",
        shown(updated.password_pattern.as_deref()),
        shown(updated.auth_token_ttl)
    );

    // Whatever happens next, put the options back and delete what we created.
    let outcome = journey(&setup).await;
    step(99, "Clean up: write back the options read in step 1");
    client.authentication_options().update(original).await?;
    println!("     options restored");
    if let Some((_, server)) = setup.emulator {
        server.shutdown().await;
    }
    outcome?;
    println!("\nThe journey is complete.");
    Ok(())
}

async fn journey(setup: &support::Setup) -> Result<()> {
    let client = &setup.client;
    let username = format!("ada-{}@example.com", support::unique_suffix());
    let password = "correct horse battery staple";

    step(
        3,
        &format!(
            "Create a credential for {username} (customer {})",
            setup.customer_id
        ),
    );
    let short = client
        .credentials()
        .create(NewCredential::new(
            username.clone(),
            "short",
            setup.customer_id.clone(),
        ))
        .await;
    if let Err(error) = short {
        println!("     a 5-character password is refused: {error}");
    }
    let created = client
        .credentials()
        .create(NewCredential::new(
            username.clone(),
            password,
            setup.customer_id.clone(),
        ))
        .send_with_meta()
        .await?;
    let credential = created.value;
    println!(
        "     created {} (HTTP {})",
        credential.id,
        created.meta.status.as_u16()
    );

    let result = logged_in_part(setup, &username, password, &credential.id).await;

    step(98, "Delete the credential");
    client.credentials().delete(credential.id.clone()).await?;
    let gone = client.credentials().get(credential.id.clone()).await;
    println!(
        "     deleted; reading it again finds nothing: {}",
        yes_no(gone.is_err_and(|e| e.is_not_found()))
    );
    result
}

async fn logged_in_part(
    setup: &support::Setup,
    username: &str,
    password: &str,
    credential_id: &CredentialId,
) -> Result<()> {
    let client = &setup.client;
    let tokens = client.authentication_tokens();

    step(4, "Log in with username and password");
    let wrong = tokens
        .login(Login::password(username, "not the password"))
        .await;
    if let Err(error) = wrong {
        // 401, or 422 naming the password: `is_login_refused` covers both answers.
        println!(
            "     a wrong password is refused ({}): HTTP {}",
            if error.is_login_refused() {
                "login refused"
            } else {
                "another error"
            },
            shown(error.status().map(|s| s.as_u16()))
        );
    }
    let mut login = tokens.login(Login::password(username, password));
    if let Some(key) = &setup.publishable_key {
        // A publishable key (safe in a browser) is enough for login, verify, logout, exchange.
        login = login.auth(Auth::PublishableKey(key.clone()));
    }
    let session = login.await?;
    let token = session.token.clone();
    println!(
        "     logged in: customer {}, token {token:?} (a secret: it prints redacted), expires {}",
        shown(session.customer_id.as_ref()),
        expiry(session.expired_time)
    );

    step(5, "Verify the token");
    let verified = tokens.verify(&token).await?;
    println!(
        "     valid: {} (username {})",
        yes_no(verified.is_some()),
        shown(verified.map(|t| t.username))
    );

    step(6, "Exchange it for a JWT, keeping the token valid");
    let jwt = tokens
        .exchange(&token, Exchange::new().keep_token())
        .await?;
    println!(
        "     JWT session {}, expires {}",
        shown(jwt.id.as_ref()),
        expiry(jwt.expired_time)
    );
    let still = tokens.verify(&token).await?;
    println!("     the token is still valid: {}", yes_no(still.is_some()));

    step(7, "Use the JWT as the credential of a call");
    let as_customer = tokens
        .verify(&token)
        .auth(Auth::Jwt(jwt.token.clone()))
        .await;
    match as_customer {
        Ok(found) => println!(
            "     verify with the customer's JWT: valid: {}",
            yes_no(found.is_some())
        ),
        Err(error) => println!("     verify with the customer's JWT refused: {error}"),
    }

    step(8, "Exchange it again, this time invalidating the token");
    let second = tokens.exchange(&token, Exchange::new()).await?;
    println!("     second JWT session {}", shown(second.id.as_ref()));
    let spent = tokens.verify(&token).await?;
    println!(
        "     the exchanged token is still valid: {}",
        yes_no(spent.is_some())
    );

    step(9, "Log in again, from three devices");
    let mut sessions = Vec::new();
    for _ in 0..3 {
        let session = tokens.login(Login::password(username, password)).await?;
        sessions.push(session.token);
    }
    println!("     three new tokens, each printed as {:?}", sessions[0]);

    step(10, "List authentication tokens, two per page");
    let mut pages = 0;
    let mut offset = 0;
    loop {
        let page = tokens.list().limit(2).offset(offset).await?;
        pages += 1;
        println!(
            "     page {pages}: {} (total {}, offset {})",
            support::counted(page.items.len(), "token"),
            shown(page.total),
            shown(page.offset)
        );
        offset += page.items.len() as u32;
        if page.items.len() < 2 || page.total.is_some_and(|t| u64::from(offset) >= t) || pages >= 5
        {
            break;
        }
    }

    step(11, "Stream every credential across pages (two per request)");
    let mut credentials = client.credentials().list().limit(2).stream();
    let mut count = 0usize;
    while let Some(credential) = credentials.next().await {
        let credential = credential?;
        count += 1;
        if credential.username == username {
            println!(
                "     found ours: {} ({})",
                credential.id, credential.username
            );
        }
    }
    println!("     {} in all", support::counted(count, "credential"));

    step(12, "Create, read and delete a reset-password token");
    let reset = client
        .reset_password_tokens()
        .create(NewResetPasswordToken::new(username))
        .await?;
    let reset_token = reset.token;
    println!(
        "     created one for {} (its value prints as {reset_token:?})",
        reset.username
    );
    let read = client.reset_password_tokens().get(&reset_token).await?;
    println!(
        "     read it back: credential {}, expires {}",
        shown(read.credential_id),
        expiry(read.expired_time)
    );
    client.reset_password_tokens().delete(&reset_token).await?;
    println!("     deleted");

    step(13, "Upsert the credential's password by id");
    let upserted = client
        .credentials()
        .upsert(
            credential_id,
            NewCredential::new(username, password, setup.customer_id.clone()),
        )
        .await?;
    println!(
        "     {}",
        match upserted {
            Upserted::Created(_) => "created",
            Upserted::Updated(_) => "updated",
            _ => "written",
        }
    );

    step(14, "Log out of every device");
    for token in &sessions {
        client.authentication_tokens().logout(token).await?;
    }
    println!(
        "     logged out {}",
        support::counted(sessions.len(), "session")
    );

    step(15, "Verify after logout");
    let token = &sessions[0];
    let after = tokens.verify(token).await?;
    println!(
        "     valid: {} (a logged-out token verifies as not found)",
        yes_no(after.is_some())
    );
    if after.is_some() {
        return Err("a logged-out token still verifies".into());
    }
    Ok(())
}
