//! Every operation's decoder, fed arbitrary statuses, headers and bodies: it must return a
//! value or an error, never panic.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use rebilly_auth_core::models::credential::NewCredential;
use rebilly_auth_core::models::jwt::Exchange;
use rebilly_auth_core::models::options::AuthenticationOptions;
use rebilly_auth_core::models::password_token::NewResetPasswordToken;
use rebilly_auth_core::models::token::Login;
use rebilly_auth_core::{Client, Operation, RawResponse, ResponseMeta, TransportError, transport_fn};

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let status = 100 + (u16::from_le_bytes([data[0], data[1]]) % 500);
    let header_len = usize::from(data[2]).min(data.len() - 3);
    let header = &data[3..3 + header_len];
    let body = &data[3 + header_len..];

    let mut meta = ResponseMeta::default();
    meta.status = http::StatusCode::from_u16(status).unwrap();
    if let Ok(value) = http::HeaderValue::from_bytes(header) {
        for name in ["pagination-total", "pagination-limit", "x-ratelimit-limit", "x-ratelimit-retry-after", "retry-after", "content-type", "location"] {
            meta.headers.insert(name, value.clone());
        }
    }
    let raw = RawResponse {
        meta,
        body: Bytes::copy_from_slice(body),
        retried_after_ambiguity: status % 2 == 0,
        retry_at: None,
    };
    let client = Client::builder()
        .organization_id("org")
        .transport(transport_fn(|_| async { Err(TransportError::other("unused")) }))
        .build()
        .unwrap();
    let _ = client.authentication_options().get().operation().decode(&raw);
    let _ = client.authentication_options().update(AuthenticationOptions::default()).operation().decode(&raw);
    let tokens = client.authentication_tokens();
    let _ = tokens.list().operation().decode(&raw);
    let _ = tokens.login(Login::password("a", "b")).operation().decode(&raw);
    let _ = tokens.verify("t").operation().decode(&raw);
    let _ = tokens.logout("t").operation().decode(&raw);
    let _ = tokens.exchange("t", Exchange::new()).operation().decode(&raw);
    let credentials = client.credentials();
    let _ = credentials.list().operation().decode(&raw);
    let _ = credentials.create(NewCredential::new("a", "b", "c")).operation().decode(&raw);
    let _ = credentials.get("x").operation().decode(&raw);
    let _ = credentials.upsert("x", NewCredential::new("a", "b", "c")).operation().decode(&raw);
    let _ = credentials.delete("x").operation().decode(&raw);
    let resets = client.password_tokens();
    let _ = resets.list().operation().decode(&raw);
    let _ = resets.create(NewResetPasswordToken::new("a")).operation().decode(&raw);
    let _ = resets.get("t").operation().decode(&raw);
    let _ = resets.delete("t").operation().decode(&raw);
});
