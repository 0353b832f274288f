//! Every operation's decoder, fed arbitrary statuses, headers and bodies: it must return a
//! value or an error, never panic.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use rebilly_auth_core::{Client, RawResponse, ResponseMeta, TransportError, transport_fn};

#[path = "../../crates/rebilly-auth-core/tests/common/every_decoder.rs"]
mod every_decoder;

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
    every_decoder::decode_with_every_operation(&client, &raw);
});
