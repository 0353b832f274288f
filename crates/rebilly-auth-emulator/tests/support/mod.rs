//! Helpers shared by the in-process integration tests (included with `mod support;`).
#![allow(dead_code, unreachable_pub, missing_docs)]

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use rebilly_auth_core::HttpTransport;
use rebilly_auth_emulator::Emulator;
use serde_json::Value;

pub const ORG: &str = "org-1";
pub const SK: &str = "sk_test_1";
pub const PK: &str = "pk_test_1";

pub fn emulator() -> Emulator {
    Emulator::builder()
        .add_organization(ORG, SK, Some(PK))
        .add_organization("org-2", "sk_test_2", None)
        .build()
}

/// How a raw request authenticates.
#[derive(Clone, Copy)]
pub enum As<'a> {
    Secret(&'a str),
    Publishable(&'a str),
    Bearer(&'a str),
    Nobody,
}

pub struct Raw {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Raw {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{} body is not JSON ({e}): {:?}", self.status, self.body))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A request to the in-process emulator from `who`, before its body.
fn request_from(method: Method, path: &str, who: As<'_>) -> http::request::Builder {
    let builder = http::Request::builder()
        .method(method)
        .uri(format!("https://api.test{path}"));
    match who {
        As::Secret(key) => builder.header("REB-APIKEY", key),
        As::Publishable(key) => builder.header("Authorization", key),
        As::Bearer(jwt) => builder.header("Authorization", format!("Bearer {jwt}")),
        As::Nobody => builder,
    }
}

/// Sends `request` in process and splits the answer.
pub async fn answer(transport: &impl HttpTransport, request: http::Request<Bytes>) -> Raw {
    let response = transport.send(request).await.expect("a response");
    let (parts, body) = response.into_parts();
    Raw {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

/// A request with an optional JSON body (and its content type).
pub async fn raw(
    transport: &impl HttpTransport,
    method: Method,
    path: &str,
    who: As<'_>,
    body: Option<Value>,
) -> Raw {
    let mut builder = request_from(method, path, who);
    if body.is_some() {
        builder = builder.header("content-type", "application/json");
    }
    let request = builder
        .body(body.map_or_else(Bytes::new, |b| Bytes::from(b.to_string())))
        .unwrap();
    answer(transport, request).await
}

/// [`raw`] to the organization's `route` (see [`path`]) with its secret key.
pub async fn raw_secret(
    transport: &impl HttpTransport,
    method: Method,
    route: &str,
    body: Option<Value>,
) -> Raw {
    raw(transport, method, &path(route), As::Secret(SK), body).await
}

/// A request with any bytes as its body and no content type.
pub async fn raw_bytes(
    transport: &impl HttpTransport,
    method: Method,
    path: &str,
    who: As<'_>,
    body: Vec<u8>,
) -> Raw {
    let request = request_from(method, path, who)
        .body(Bytes::from(body))
        .unwrap();
    answer(transport, request).await
}

/// Sends one HTTP/1.1 request over TCP and returns everything read until EOF (or 5 s).
pub async fn exchange(addr: std::net::SocketAddr, request: &str) -> Vec<u8> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.read_to_end(&mut out),
    )
    .await;
    out
}

/// A `Connection: close` HTTP/1.1 request with the secret key and a JSON body.
pub fn request(method: &str, path: &str, body: &str) -> String {
    format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nREB-APIKEY: {SK}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// An HTTP/1.1 answer's status (0 when nothing came back), lower-cased head, and body.
pub fn split(response: &[u8]) -> (u16, String, String) {
    let text = String::from_utf8_lossy(response).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_ascii_lowercase(), body.to_owned())
}

pub fn path(route: &str) -> String {
    format!("/organizations/{ORG}{route}")
}
