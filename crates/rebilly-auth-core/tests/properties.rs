//! Property tests: no input escapes its URL segment, and no answer makes a decoder panic.

mod common;
#[path = "common/every_decoder.rs"]
mod every_decoder;

use bytes::Bytes;
use common::{Fake, client};
use proptest::prelude::*;
use rebilly_auth_core::models::jwt::Exchange;
use rebilly_auth_core::{Error, RawResponse, ResponseMeta};

/// Undoes percent-encoding of one segment.
fn decode_segment(segment: &str) -> String {
    percent_decode(segment.as_bytes())
}

fn percent_decode(bytes: &[u8]) -> String {
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn tokens_and_organizations_never_leave_their_segment(token in "\\PC*", org in "\\PC*") {
        let fake = Fake::new();
        let client = client(&fake);
        let request = client.authentication_tokens().exchange(token.clone(), Exchange::new()).organization(org.clone());
        match request.to_http_request() {
            Ok(built) => {
                let uri = built.uri();
                prop_assert_eq!(uri.host(), Some("api.test"));
                prop_assert_eq!(uri.query(), None);
                let segments: Vec<&str> = uri.path().split('/').collect();
                prop_assert_eq!(segments.len(), 6, "{}", uri);
                prop_assert_eq!(segments[1], "organizations");
                prop_assert_eq!(decode_segment(segments[2]), org);
                prop_assert_eq!(segments[3], "authentication-tokens");
                prop_assert_eq!(decode_segment(segments[4]), token);
                prop_assert_eq!(segments[5], "exchange");
            }
            Err(Error::InvalidInput(_)) => {
                prop_assert!(token.is_empty() || token == "." || token == ".." || org.is_empty() || org == "." || org == "..");
            }
            Err(other) => prop_assert!(false, "unexpected error {}", other),
        }
    }

    #[test]
    fn resource_ids_are_checked_or_encoded(id in prop_oneof!["\\PC{0,60}", "[@~._a-zA-Z0-9-]{0,55}"]) {
        let fake = Fake::new();
        let client = client(&fake);
        match client.credentials().get(id.clone()).to_http_request() {
            Ok(built) => {
                let path = built.uri().path().to_owned();
                let (parent, last) = path.rsplit_once('/').unwrap();
                prop_assert_eq!(parent, "/organizations/org_1/credentials");
                prop_assert_eq!(decode_segment(last), id);
                prop_assert_eq!(built.uri().query(), None);
            }
            Err(Error::InvalidInput(_)) => {}
            Err(other) => prop_assert!(false, "unexpected error {}", other),
        }
    }

    #[test]
    fn decoders_never_panic(status in 100u16..600, body in proptest::collection::vec(any::<u8>(), 0..256), header in "\\PC{0,20}") {
        let mut meta = ResponseMeta::default();
        meta.status = http::StatusCode::from_u16(status).unwrap();
        if let Ok(value) = http::HeaderValue::from_str(&header) {
            for name in ["pagination-total", "x-ratelimit-limit", "x-ratelimit-retry-after", "content-type", "location"] {
                meta.headers.insert(name, value.clone());
            }
        }
        let raw = RawResponse { meta, body: Bytes::from(body), retried_after_ambiguity: status % 2 == 0, retry_at: None };
        // Each decoder returns a value or an error; none may panic.
        every_decoder::decode_with_every_operation(&client(&Fake::new()), &raw);
    }
}
