//! The 16 operations, each called once through a [`Setup`]'s client: what `all_operations`
//! and `tower_stack` run (one over reqwest, one through a tower stack).

use std::fmt::Display;

use rebilly_auth_reqwest::auth_core::models::Exchange;
use rebilly_auth_reqwest::auth_core::models::Login;
use rebilly_auth_reqwest::auth_core::models::NewCredential;
use rebilly_auth_reqwest::auth_core::models::NewResetPasswordToken;
use rebilly_auth_reqwest::auth_core::{Auth, Upserted};

use super::Setup;

/// Prints one line per operation and counts them and their failures.
#[derive(Default)]
pub(crate) struct Report {
    /// Operations called or skipped.
    pub(crate) operations: usize,
    /// Operations that failed or could not be called.
    pub(crate) failures: usize,
}

impl Report {
    fn record<T, E: Display>(&mut self, operation: &str, result: Result<T, E>) -> Option<T> {
        self.operations += 1;
        match result {
            Ok(value) => {
                println!("OK {operation}");
                Some(value)
            }
            Err(error) => {
                println!("ERR {operation}: {error}");
                self.failures += 1;
                None
            }
        }
    }

    fn skip(&mut self, operation: &str, needs: &str) {
        self.operations += 1;
        println!("ERR {operation}: not called, it needs {needs}");
        self.failures += 1;
    }
}

/// Calls each operation once, using only what the server returned (no emulator ids or
/// state), so it runs against any server that follows the spec. It writes back the options it
/// read and deletes what it created. Login and verify use the publishable key when there is
/// one.
pub(crate) async fn all_operations(setup: &Setup) -> Report {
    let client = &setup.client;
    let mut report = Report::default();
    let username = format!("all-ops-{}@example.com", super::unique_suffix());
    let password = "all operations passw0rd";
    let new_credential =
        || NewCredential::new(username.clone(), password, setup.customer_id.clone());
    // Login and verify accept a publishable key: use it when there is one.
    let publishable = setup.publishable_key.clone().map(Auth::PublishableKey);

    let options = report.record(
        "get_authentication_option",
        client.authentication_options().get().await,
    );
    match options {
        // Writing back what was read changes nothing, and proves the round trip.
        Some(options) => {
            report.record(
                "put_authentication_option",
                client.authentication_options().update(options).await,
            );
        }
        None => report.skip("put_authentication_option", "get_authentication_option"),
    }

    let credential = report.record(
        "post_credential",
        client.credentials().create(new_credential()).await,
    );
    report.record(
        "get_credential_collection",
        client.credentials().list().limit(10).await,
    );
    match &credential {
        Some(credential) => {
            report.record(
                "get_credential",
                client.credentials().get(credential.id.clone()).await,
            );
            let upserted = client
                .credentials()
                .upsert(credential.id.clone(), new_credential())
                .await;
            report.record(
                "put_credential",
                upserted.map(|u| match u {
                    Upserted::Created(_) => "created",
                    Upserted::Updated(_) => "updated",
                    _ => "written",
                }),
            );
        }
        None => {
            report.skip("get_credential", "post_credential");
            report.skip("put_credential", "post_credential");
        }
    }

    let login = client
        .authentication_tokens()
        .login(Login::password(username.clone(), password));
    let login = match &publishable {
        Some(auth) => login.auth(auth.clone()),
        None => login,
    };
    let token = report
        .record("post_authentication_token", login.await)
        .map(|t| t.token);
    report.record(
        "get_authentication_token_collection",
        client.authentication_tokens().list().limit(10).await,
    );
    match &token {
        Some(token) => {
            let verify = client.authentication_tokens().verify(token);
            let verify = match &publishable {
                Some(auth) => verify.auth(auth.clone()),
                None => verify,
            };
            report.record(
                "get_authentication_token_verification",
                verify.await.map_err(|e| e.to_string()).and_then(|found| {
                    found.ok_or_else(|| "a fresh token did not verify".to_owned())
                }),
            );
            // Keep the token valid so that logout has something to log out.
            report.record(
                "post_authentication_token_exchange",
                client
                    .authentication_tokens()
                    .exchange(token, Exchange::new().keep_token())
                    .await,
            );
            report.record(
                "delete_authentication_token",
                client.authentication_tokens().logout(token).await,
            );
        }
        None => {
            for operation in [
                "get_authentication_token_verification",
                "post_authentication_token_exchange",
                "delete_authentication_token",
            ] {
                report.skip(operation, "post_authentication_token");
            }
        }
    }

    let reset = report
        .record(
            "post_password_token",
            client
                .reset_password_tokens()
                .create(NewResetPasswordToken::new(username.clone()))
                .await,
        )
        .map(|r| r.token);
    report.record(
        "get_password_token_collection",
        client.reset_password_tokens().list().limit(10).await,
    );
    match &reset {
        Some(reset) => {
            report.record(
                "get_password_token",
                client.reset_password_tokens().get(reset).await,
            );
            report.record(
                "delete_password_token",
                client.reset_password_tokens().delete(reset).await,
            );
        }
        None => {
            report.skip("get_password_token", "post_password_token");
            report.skip("delete_password_token", "post_password_token");
        }
    }

    match &credential {
        Some(credential) => {
            report.record(
                "delete_credential",
                client.credentials().delete(credential.id.clone()).await,
            );
        }
        None => report.skip("delete_credential", "post_credential"),
    }

    report
}
