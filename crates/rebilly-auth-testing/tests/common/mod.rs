//! Helpers shared by the integration tests (included with `mod common;`).
#![allow(dead_code, unreachable_pub, missing_docs)]

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use rebilly_auth_core::{Client, HttpTransport, RetryPolicy};
use rebilly_auth_testing::Emulator;
use serde_json::Value;

pub const ORG: &str = "org-1";
pub const SK: &str = "sk_test_1";
pub const PK: &str = "pk_test_1";

pub fn emulator() -> Emulator {
    Emulator::builder()
        .organization(ORG, SK, Some(PK))
        .organization("org-2", "sk_test_2", None)
        .build()
}

pub fn client(emulator: &Emulator) -> Client {
    Client::builder()
        .organization(ORG)
        .secret_key(SK)
        .retry_policy(RetryPolicy::none())
        .transport(emulator.clone())
        .build()
        .unwrap()
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

pub async fn raw(
    transport: &impl HttpTransport,
    method: Method,
    path: &str,
    who: As<'_>,
    body: Option<Value>,
) -> Raw {
    let mut builder = http::Request::builder()
        .method(method)
        .uri(format!("https://api.test{path}"));
    builder = match who {
        As::Secret(key) => builder.header("REB-APIKEY", key),
        As::Publishable(key) => builder.header("Authorization", key),
        As::Bearer(jwt) => builder.header("Authorization", format!("Bearer {jwt}")),
        As::Nobody => builder,
    };
    if body.is_some() {
        builder = builder.header("content-type", "application/json");
    }
    let request = builder
        .body(body.map_or_else(Bytes::new, |b| Bytes::from(b.to_string())))
        .unwrap();
    let response = transport.send(request).await.expect("a response");
    let (parts, body) = response.into_parts();
    Raw {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

pub fn path(route: &str) -> String {
    format!("/organizations/{ORG}{route}")
}
