//! How to test your own code with the emulator.
//!
//! `rebilly-auth-testing`'s `Emulator` is a stateful, in-memory Rebilly Customer Authentication
//! API. Give it to a `Client` as its transport (no sockets) or serve it on loopback HTTP for
//! the real transports; create the data your test needs through the SDK itself; read the
//! one-time passwords it "emails"; move its clock; inject faults.
//!
//! Add it to your crate's dev-dependencies:
//!
//! ```toml
//! [dev-dependencies]
//! rebilly-auth-testing = "0.1"
//! tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
//! ```

use std::time::Duration;

use rebilly_auth_core::OperationId;
use rebilly_auth_core::models::AuthenticationOptions;
use rebilly_auth_core::models::Login;
use rebilly_auth_core::models::NewCredential;
use rebilly_auth_core::models::{Exchange, Jwt};
use rebilly_auth_core::{Auth, Client, Error};
use rebilly_auth_testing::emulator::{Emulator, Fault, RequestMatcher};

// ---------------------------------------------------------------------------------------------
// The code under test: your application's login. It logs the customer in, asks for the
// one-time password when the organization requires one, and exchanges the token for the
// customer's JWT.
// ---------------------------------------------------------------------------------------------

/// Logs `username` in and returns the customer's JWT. `ask_for_otp` is how your app prompts
/// the customer for the code they were emailed; it is called only when one is required.
async fn login_and_get_jwt(
    client: &Client,
    username: &str,
    password: &str,
    ask_for_otp: impl FnOnce() -> String,
) -> Result<Jwt, Error> {
    let login = client
        .authentication_tokens()
        .login(Login::password(username, password))
        .await?;
    let token = login.token;
    let mut exchange = Exchange::new();
    if login.otp_required == Some(true) {
        exchange = exchange.one_time_password(ask_for_otp());
    }
    let jwt = client
        .authentication_tokens()
        .exchange(token, exchange)
        .await?;
    Ok(jwt.token)
}

// ---------------------------------------------------------------------------------------------
// The tests.
// ---------------------------------------------------------------------------------------------

const ORG: &str = "my-org";
const SECRET_KEY: &str = "sk_test_123";

/// An emulator with one organization, and a client that talks to it in process.
async fn setup() -> (Emulator, Client) {
    let emulator = Emulator::builder()
        .add_organization(ORG, SECRET_KEY, Some("pk_test_123"))
        .build();
    let client = Client::builder()
        .organization(ORG)
        .secret_key(SECRET_KEY)
        .transport(emulator.clone()) // clones share state: keep `emulator` to inspect it
        .build()
        .unwrap();
    // The emulator starts empty: create the customer's credential through the SDK.
    client
        .credentials()
        .create(NewCredential::new(
            "ada@example.com",
            "correct horse",
            "cus_ada",
        ))
        .await
        .unwrap();
    (emulator, client)
}

#[tokio::test]
async fn a_customer_gets_a_jwt() {
    let (emulator, client) = setup().await;

    let jwt = login_and_get_jwt(&client, "ada@example.com", "correct horse", || {
        unreachable!("no one-time password is required by default")
    })
    .await
    .unwrap();

    // The JWT is real: signed with the organization's key, for the right customer.
    let key = emulator.jwt_signing_key(ORG).unwrap();
    let claims = rebilly_auth_testing::emulator::jwt::verify(&key, jwt.expose()).unwrap();
    assert_eq!(claims["customerId"], "cus_ada");
}

#[tokio::test]
async fn a_wrong_password_is_unauthorized() {
    let (_emulator, client) = setup().await;
    let error = login_and_get_jwt(&client, "ada@example.com", "wrong", String::new)
        .await
        .unwrap_err();
    assert!(error.is_unauthorized(), "{error}");
}

#[tokio::test]
async fn the_one_time_password_is_read_from_the_emulator() {
    let (emulator, client) = setup().await;
    // The organization now requires a one-time password on every login.
    client
        .authentication_options()
        .update(AuthenticationOptions::default().otp_required(true))
        .await
        .unwrap();

    // The emulator "emails" the code; the test plays the customer and reads it.
    let jwt = login_and_get_jwt(&client, "ada@example.com", "correct horse", || {
        emulator
            .last_otp(ORG, "ada@example.com")
            .expect("a code was sent")
    })
    .await
    .unwrap();
    assert!(!jwt.expose().is_empty());

    // A wrong code is refused.
    let error = login_and_get_jwt(&client, "ada@example.com", "correct horse", || {
        "000000".to_owned()
    })
    .await
    .unwrap_err();
    assert!(error.is_unauthorized(), "{error}");
}

#[tokio::test]
async fn tokens_expire_when_the_clock_moves() {
    let (emulator, client) = setup().await;
    let jwt = login_and_get_jwt(&client, "ada@example.com", "correct horse", String::new)
        .await
        .unwrap();

    // The customer's JWT works as a credential: they may read their own credentials.
    let own = client.credentials().list().auth(Auth::jwt(jwt.clone()));
    assert_eq!(own.clone().await.unwrap().items.len(), 1);

    // Time moves only when the test says so: no sleeping. A JWT lives one hour.
    emulator.clock().advance(Duration::from_secs(2 * 3600));
    let error = own.await.unwrap_err();
    assert!(error.is_unauthorized(), "the JWT has expired: {error}");

    // Authentication tokens expire too (the default `authTokenTtl` is one hour).
    let token = client
        .authentication_tokens()
        .login(Login::password("ada@example.com", "correct horse"))
        .await
        .unwrap()
        .token;
    assert!(
        client
            .authentication_tokens()
            .verify(&token)
            .await
            .unwrap()
            .is_some()
    );
    emulator.clock().advance(Duration::from_secs(3601));
    assert!(
        client
            .authentication_tokens()
            .verify(&token)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn the_login_survives_a_rate_limit() {
    let (emulator, client) = setup().await;
    // The next login answers 429 (the server refused it; Retry-After: 0): the SDK waits and
    // retries it, so your code does not see it.
    emulator.inject(
        RequestMatcher::operation(OperationId::PostAuthenticationToken),
        Fault::RateLimited {
            retry_after: Duration::ZERO,
        },
    );
    login_and_get_jwt(&client, "ada@example.com", "correct horse", String::new)
        .await
        .unwrap();
    // The request log tells what reached the server and what it executed.
    assert_eq!(
        emulator.requests_seen(OperationId::PostAuthenticationToken),
        2
    );
    assert_eq!(emulator.executed(OperationId::PostAuthenticationToken), 1);
}

#[tokio::test]
async fn over_real_http_with_your_transport() {
    let (emulator, _) = setup().await;
    // Serve the same emulator on 127.0.0.1 and point the real transport at it: this is how you
    // test code that builds its own client (here with rebilly-auth-reqwest).
    let server = emulator.serve_on_loopback().await.unwrap();
    let client = rebilly_auth_reqwest::client_builder()
        .server_url(server.url())
        .organization(ORG)
        .secret_key(SECRET_KEY)
        .build()
        .unwrap();
    let jwt = login_and_get_jwt(&client, "ada@example.com", "correct horse", String::new)
        .await
        .unwrap();
    assert!(!jwt.expose().is_empty());
    server.shutdown().await;
}
