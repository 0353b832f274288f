//! `verify`, `logout`, `tokens list` and `revoke-all`: one call (or one listing) each, a
//! readable answer on standard output, the error and its causes on standard error. A token
//! value is never printed.

use std::io::BufRead;
use std::process::ExitCode;

use rebilly_auth_core::Deletion;
use rebilly_auth_core::blocking::BlockingClient;
use rebilly_auth_core::models::{AuthToken, ListedToken};

use super::{EXIT_FAILURE, EXIT_INCOMPLETE, fail};
use crate::args::TokenArg;
use crate::report::{error_text, expiry, or_dash, yes_no};

/// Items per page when listing.
const PAGE: u32 = 100;

/// The token of `arg`: given, or one line of standard input.
pub(super) fn read_token(arg: TokenArg) -> Result<AuthToken, String> {
    match arg {
        TokenArg::Given(secret) => Ok(AuthToken::new(secret.expose())),
        TokenArg::Stdin => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| format!("cannot read the token from standard input: {e}"))?;
            let token = line.trim_end_matches(['\r', '\n']);
            if token.is_empty() {
                return Err("standard input held no token".into());
            }
            Ok(AuthToken::new(token))
        }
    }
}

/// `verify TOKEN`: 0 valid, 3 not valid, 1 on error.
pub(super) fn verify(client: &BlockingClient, token: AuthToken) -> ExitCode {
    match client.authentication_tokens().verify(token).send() {
        Ok(Some(verification)) => {
            println!("valid");
            println!("username:      {}", verification.username);
            println!(
                "customer id:   {}",
                or_dash(verification.customer_id.as_ref().map(|c| c.as_str()))
            );
            println!(
                "credential id: {}",
                or_dash(verification.credential_id.as_ref().map(|c| c.as_str()))
            );
            println!("otp required:  {}", yes_no(verification.otp_required));
            println!("expires:       {}", expiry(verification.expired_time));
            ExitCode::SUCCESS
        }
        Ok(None) => {
            println!("not valid (expired, logged out, spent or unknown)");
            ExitCode::from(EXIT_INCOMPLETE)
        }
        Err(error) => fail("verify failed", &error),
    }
}

/// `logout TOKEN`.
pub(super) fn logout(client: &BlockingClient, token: AuthToken) -> ExitCode {
    match client.authentication_tokens().logout(token).send() {
        Ok(Deletion::Deleted) => {
            println!("logged out");
            ExitCode::SUCCESS
        }
        Ok(_) => {
            println!("logged out (an earlier attempt's answer was lost; the token is gone)");
            ExitCode::SUCCESS
        }
        Err(error) if error.is_not_found() => {
            eprintln!(
                "logout failed: the token is not valid (expired, logged out, spent or unknown)\n  \
                 caused by: {}",
                error_text(&error)
            );
            ExitCode::from(EXIT_FAILURE)
        }
        Err(error) => fail("logout failed", &error),
    }
}

/// Every live token (of `username`, if given); `Err` after the tokens listed before the error.
fn list(
    client: &BlockingClient,
    username: Option<&str>,
) -> Result<Vec<ListedToken>, (Vec<ListedToken>, rebilly_auth_core::Error)> {
    let mut tokens = Vec::new();
    for item in client.authentication_tokens().list().limit(PAGE).items() {
        match item {
            Ok(token) if username.is_none_or(|u| token.username == u) => tokens.push(token),
            Ok(_) => {}
            Err(error) => return Err((tokens, error)),
        }
    }
    Ok(tokens)
}

/// `tokens list [--username U]`: a table, never the token values.
pub(super) fn tokens_list(client: &BlockingClient, username: Option<&str>) -> ExitCode {
    let (tokens, error) = match list(client, username) {
        Ok(tokens) => (tokens, None),
        Err((tokens, error)) => (tokens, Some(error)),
    };
    print!("{}", table(&tokens));
    match error {
        Some(error) => fail("listing the tokens failed", &error),
        None => ExitCode::SUCCESS,
    }
}

/// The tokens as an aligned table.
fn table(tokens: &[ListedToken]) -> String {
    if tokens.is_empty() {
        return "no live authentication tokens\n".into();
    }
    let rows: Vec<[String; 5]> = tokens
        .iter()
        .map(|t| {
            [
                t.username.clone(),
                or_dash(t.customer_id.as_ref().map(|c| c.as_str())).to_owned(),
                or_dash(t.credential_id.as_ref().map(|c| c.as_str())).to_owned(),
                yes_no(t.otp_required).to_owned(),
                expiry(t.expired_time),
            ]
        })
        .collect();
    let header = ["USERNAME", "CUSTOMER ID", "CREDENTIAL ID", "OTP", "EXPIRES"];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(header.map(str::to_owned)).chain(rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:width$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out.push_str(&format!("{} token(s)\n", tokens.len()));
    out
}

/// `revoke-all --username U`: logs each of the user's live tokens out.
pub(super) fn revoke_all(client: &BlockingClient, username: &str) -> ExitCode {
    let tokens = match list(client, Some(username)) {
        Ok(tokens) => tokens,
        Err((_, error)) => return fail("listing the tokens failed", &error),
    };
    let (mut revoked, mut gone, mut without_value) = (0u64, 0u64, 0u64);
    for token in tokens {
        let Some(value) = token.token else {
            without_value += 1;
            continue;
        };
        match client.authentication_tokens().logout(value).send() {
            Ok(_) => revoked += 1,
            Err(error) if error.is_not_found() => gone += 1,
            Err(error) => {
                println!("revoked {revoked} token(s) of {username} before the error");
                return fail("revoking a token failed", &error);
            }
        }
    }
    println!("revoked {revoked} token(s) of {username}");
    if gone > 0 {
        println!("{gone} token(s) had already expired or been logged out");
    }
    if without_value > 0 {
        eprintln!(
            "{without_value} token(s) could not be revoked: the listing did not include their values"
        );
        return ExitCode::from(EXIT_INCOMPLETE);
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_table_says_so() {
        assert_eq!(table(&[]), "no live authentication tokens\n");
    }
}
