//! Arbitrary requests to the emulator (driven as an `HttpTransport`, in process): a method, a
//! route with an arbitrary parameter and tail, a credential or none, arbitrary headers and body.
//! Nothing panics, and every answer is JSON or empty.
#![no_main]

use std::sync::LazyLock;

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use rebilly_auth_core::HttpTransport;
use rebilly_auth_emulator::Emulator;

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
});

const METHODS: [&str; 7] = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];
const ROUTES: [&str; 6] = [
    "authentication-options",
    "authentication-tokens",
    "credentials",
    "password-tokens",
    "",
    "nope",
];

fuzz_target!(|input: (u8, u8, String, String, u8, Vec<(String, String)>, Vec<u8>)| {
    let (method, route, param, tail, auth, headers, body) = input;
    let emulator = Emulator::builder().add_organization("org", "sk_fuzz", Some("pk_fuzz")).build();
    let mut path = format!("/organizations/org/{}", ROUTES[route as usize % ROUTES.len()]);
    if !param.is_empty() {
        path.push('/');
        path.push_str(&param);
    }
    path.push_str(&tail);
    let Ok(uri) = http::Uri::try_from(path) else { return };
    let mut builder = http::Request::builder()
        .method(METHODS[method as usize % METHODS.len()])
        .uri(uri);
    builder = match auth % 3 {
        0 => builder.header("reb-apikey", "sk_fuzz"),
        1 => builder.header("authorization", "pk_fuzz"),
        _ => builder,
    };
    for (name, value) in &headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let Ok(request) = builder.body(Bytes::from(body)) else { return };
    let response = RUNTIME
        .block_on(emulator.send(request))
        .expect("no fault was injected");
    let body = response.body();
    assert!(body.is_empty() || serde_json::from_slice::<serde_json::Value>(body).is_ok());
});
