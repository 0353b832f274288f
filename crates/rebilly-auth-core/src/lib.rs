//! # rebilly-auth-core
//!
//! The transport-agnostic core of the Rebilly Customer Authentication API SDK: models, the 16
//! operations, the [`Client`], typed [`Error`]s, and the [`HttpTransport`] trait. It does no
//! I/O: an operation turns typed input into an `http::Request<Bytes>` and an
//! `http::Response<Bytes>` into a typed result. Pick a transport crate
//! (`rebilly-auth-reqwest` or `rebilly-auth-hyper`), or bring your own.
//!
//! ```
//! use bytes::Bytes;
//! use rebilly_auth_core::models::Login;
//! use rebilly_auth_core::{transport_fn, Client};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! // A fake server: answers every login with a token.
//! let transport = transport_fn(|request: http::Request<Bytes>| async move {
//!     assert_eq!(request.uri().path(), "/organizations/my-org/authentication-tokens");
//!     assert_eq!(request.headers()["reb-apikey"], "sk_sandbox_xxx");
//!     let body = r#"{"username":"ada","token":"tok_1","customerId":"cus_1","expiredTime":null}"#;
//!     Ok(http::Response::builder().status(201).body(Bytes::from(body)).unwrap())
//! });
//! let client = Client::builder()
//!     .organization("my-org")
//!     .secret_key("sk_sandbox_xxx")
//!     .transport(transport)
//!     .build()?;
//!
//! let token = client.authentication_tokens().login(Login::password("ada", "pw")).await?;
//! assert_eq!(token.username, "ada");
//! assert_eq!(token.token.expose(), "tok_1");
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! ## Operations
//!
//! See [`operations`] for the table mapping each spec operation to its method.
//!
//! ## Secrets
//!
//! API keys, JWTs, passwords, one-time passwords and token values live in [`Secret`] wrappers
//! whose `Debug` prints `[REDACTED]`; auth headers are marked sensitive. Spans record the
//! route template (`url.template`) and a `url.full` in which every path parameter (the
//! organization, a token, an id) and every query value reads `REDACTED`: never the real path,
//! which holds token values. A failed attempt sets `otel.status_code = "ERROR"`.
//!
//! Two paths the SDK cannot close, so keep them to tests: an `http::Request`'s own `Debug`
//! prints its URI (which holds token values) and headers, and mockall prints the `Debug` of a
//! request no expectation matched. Use test-only tokens with `MockHttpTransport`, and never log
//! raw `http::Request`s in a custom transport.
//!
//! ## Features
//!
#![doc = document_features::document_features!()]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod auth;
#[cfg(feature = "blocking")]
pub mod blocking;
mod client;
mod decode;
mod encode;
mod error;
pub mod models;
pub mod operations;
mod pagination;
mod request;
mod response;
mod retry;
pub mod routes;
mod runtime;
mod secret;
#[cfg(feature = "test-util")]
pub mod test_util;
#[cfg(feature = "rustls")]
pub mod tls;
mod transport;
#[cfg(feature = "rustls")]
pub mod transport_support;

pub use auth::{Auth, OrganizationId, PublishableKey, SecretKey};
pub use client::{Client, ClientBuilder, Environment};
pub use encode::{MAX_LIMIT, MAX_OFFSET};
pub use error::{ApiError, BuildError, DecodeError, Error, InvalidInput, Result, TimeoutScope};
pub use operations::{Deletion, Upserted};
pub use pagination::{ListOperation, Page};
pub use request::{Operation, Request};
pub use response::{RateLimit, ResponseMeta, WithMeta};
pub use retry::RetryPolicy;
pub use routes::OperationId;
#[cfg(feature = "tokio")]
pub use runtime::TokioSleep;
pub use runtime::{Clock, Sleep, SleepFuture, SystemClock};
pub use secret::{REDACTED, Secret};
#[cfg(feature = "mock")]
pub use transport::MockHttpTransport;
pub use transport::{
    AttemptTimeout, BodyLimit, HttpTransport, TransportError, TransportErrorKind, TransportFn,
    error_chain, transport_fn,
};

/// Re-exports of the crates in core's public API, so users need not pin them.
pub mod reexports {
    pub use bytes;
    pub use http;
    pub use time;
}
