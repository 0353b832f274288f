//! Feeds one raw answer to the decoder of each of the 16 operations. Shared by the property
//! test and the `decode_responses` fuzz target (which includes this file by path).

use rebilly_auth_core::models::credential::NewCredential;
use rebilly_auth_core::models::jwt::Exchange;
use rebilly_auth_core::models::options::AuthenticationOptions;
use rebilly_auth_core::models::password_token::NewResetPasswordToken;
use rebilly_auth_core::models::token::Login;
use rebilly_auth_core::{Client, Operation, RawResponse};

/// Runs every decoder on `raw`; each must return a value or an error, never panic.
pub(crate) fn decode_with_every_operation<T>(client: &Client<T>, raw: &RawResponse) {
    let _ = client
        .authentication_options()
        .get()
        .operation()
        .decode(raw);
    let update = client
        .authentication_options()
        .update(AuthenticationOptions::default());
    let _ = update.operation().decode(raw);
    let tokens = client.authentication_tokens();
    let _ = tokens.list().operation().decode(raw);
    let _ = tokens
        .login(Login::password("a", "b"))
        .operation()
        .decode(raw);
    let _ = tokens.verify("t").operation().decode(raw);
    let _ = tokens.logout("t").operation().decode(raw);
    let _ = tokens
        .exchange("t", Exchange::new())
        .operation()
        .decode(raw);
    let credentials = client.credentials();
    let _ = credentials.list().operation().decode(raw);
    let _ = credentials
        .create(NewCredential::new("a", "b", "c"))
        .operation()
        .decode(raw);
    let _ = credentials.get("x").operation().decode(raw);
    let upsert = credentials.upsert("x", NewCredential::new("a", "b", "c"));
    let _ = upsert.operation().decode(raw);
    let _ = credentials.delete("x").operation().decode(raw);
    let resets = client.password_tokens();
    let _ = resets.list().operation().decode(raw);
    let _ = resets
        .create(NewResetPasswordToken::new("a"))
        .operation()
        .decode(raw);
    let _ = resets.get("t").operation().decode(raw);
    let _ = resets.delete("t").operation().decode(raw);
}
