//! Arbitrary ids, tokens and organization ids: the built URL keeps each in exactly one path
//! segment and never gains a query or fragment; nothing panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rebilly_auth_core::models::Exchange;
use rebilly_auth_core::{Client, TransportError, transport_fn};

fuzz_target!(|input: (String, String, String)| {
    let (org, token, id) = input;
    let client = Client::builder()
        .organization("org")
        .transport(transport_fn(|_| async { Err(TransportError::other("unused")) }))
        .build()
        .unwrap();
    if let Ok(request) = client.authentication_tokens().exchange(token, Exchange::new()).organization(org.clone()).to_http_request() {
        let uri = request.uri();
        assert!(uri.query().is_none());
        assert_eq!(uri.path().split('/').count(), 6, "{uri}");
        assert_eq!(uri.host(), Some("api-sandbox.rebilly.com"));
    }
    if let Ok(request) = client.credentials().get(id).organization(org).to_http_request() {
        let uri = request.uri();
        assert!(uri.query().is_none());
        assert_eq!(uri.path().split('/').count(), 5, "{uri}");
    }
});
