//! Property tests: no input escapes its URL segment. (What answers do to every call is in
//! `hostile_server.rs`.)

mod common;

use common::{Fake, client};
use proptest::prelude::*;
use rebilly_auth_core::Error;
use rebilly_auth_core::models::Exchange;

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
                let refused_token = token.is_empty() || token == "." || token == ".." || token.len() > 1024
                    || token.bytes().any(|b| b < 0x21 || b == 0x7f);
                prop_assert!(refused_token || org.is_empty() || org == "." || org == "..");
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
}
