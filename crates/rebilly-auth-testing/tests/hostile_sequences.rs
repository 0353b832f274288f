//! Hostile sequences of requests against ONE emulator: nothing panics, every connection gets an
//! answer, and memory stays bounded (caps, purging, the journal ring buffer, HTTP limits).
#![cfg(feature = "emulator")]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use http::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

// ---- raw HTTP/1.1 over loopback ----

/// Sends `request` and returns everything read until EOF (or 5 s).
async fn wire(addr: SocketAddr, request: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut out)).await;
    out
}

/// A `Connection: close` request with the secret key and a JSON body.
fn http_request(method: &str, path: &str, body: &str) -> Vec<u8> {
    format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nREB-APIKEY: {SK}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Status (0 when nothing came back), lower-cased head, body.
fn split(response: &[u8]) -> (u16, String, String) {
    let text = String::from_utf8_lossy(response).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_ascii_lowercase(), body.to_owned())
}

fn invalid_fields(body: &Value) -> Vec<String> {
    body["invalidFields"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|f| f["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

// ---- the two-step panic: a huge TTL, then a create ----

/// `PUT /authentication-options` with `credentialTtl: i64::MAX`, then `POST /credentials`: the
/// TTL is refused (422 naming it), the create succeeds with the default TTL (never expires).
/// Before the fix the PUT was accepted and the POST panicked (`now + i64::MAX s`).
#[tokio::test]
async fn huge_credential_ttl_then_create_in_process() {
    let emu = emulator();
    let put = raw(
        &emu,
        Method::PUT,
        &path("/authentication-options"),
        As::Secret(SK),
        Some(json!({"credentialTtl": i64::MAX})),
    )
    .await;
    let created = raw(
        &emu,
        Method::POST,
        &path("/credentials"),
        As::Secret(SK),
        Some(json!({"username": "ada", "password": "pw", "customerId": "cus_ada"})),
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.json()["expiredTime"], Value::Null);
    assert_eq!(put.status, 422, "{:?}", put.body);
    assert_eq!(invalid_fields(&put.json()), ["credentialTtl"]);
}

/// The same over loopback HTTP: both requests get an answer (no dropped connection).
#[tokio::test]
async fn huge_credential_ttl_then_create_over_http() {
    let emu = emulator();
    let server = emu.serve_on_loopback().await.unwrap();
    let body = format!(r#"{{"credentialTtl":{}}}"#, i64::MAX);
    let put = split(
        &wire(
            server.addr(),
            &http_request("PUT", &path("/authentication-options"), &body),
        )
        .await,
    );
    let body = r#"{"username":"ada","password":"pw","customerId":"cus_ada"}"#;
    let (status, head, json) = split(
        &wire(
            server.addr(),
            &http_request("POST", &path("/credentials"), body),
        )
        .await,
    );
    assert_eq!(
        status, 201,
        "the connection must get an answer: {head}{json}"
    );
    assert!(head.contains("content-type: application/json"));
    let (status, head, json) = put;
    assert_eq!(status, 422, "{head}{json}");
    let json: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(invalid_fields(&json), ["credentialTtl"]);
    server.shutdown().await;
}

/// The other two TTLs, each followed by the write that uses it.
#[tokio::test]
async fn huge_token_ttls_then_login_and_reset_token() {
    let emu = emulator();
    let c = raw(
        &emu,
        Method::POST,
        &path("/credentials"),
        As::Secret(SK),
        Some(json!({"username": "ada", "password": "pw", "customerId": "cus_ada"})),
    )
    .await;
    assert_eq!(c.status, 201);
    for (field, value) in [
        ("authTokenTtl", json!(i64::MAX)),
        ("resetTokenTtl", json!(i64::MAX)),
        ("authTokenTtl", json!(u64::MAX)),
        ("resetTokenTtl", json!(-1)),
        ("authTokenTtl", json!(1.5)),
        ("resetTokenTtl", json!("3600")),
    ] {
        let put = raw(
            &emu,
            Method::PUT,
            &path("/authentication-options"),
            As::Secret(SK),
            Some(json!({ field: value })),
        )
        .await;
        assert_eq!(put.status, 422, "{field}: {value}");
        assert_eq!(invalid_fields(&put.json()), [field]);
    }
    let login = raw(
        &emu,
        Method::POST,
        &path("/authentication-tokens"),
        As::Secret(SK),
        Some(json!({"username": "ada", "password": "pw"})),
    )
    .await;
    assert_eq!(login.status, 201);
    let reset = raw(
        &emu,
        Method::POST,
        &path("/password-tokens"),
        As::Secret(SK),
        Some(json!({"username": "ada"})),
    )
    .await;
    assert_eq!(reset.status, 201);
}
