//! # rebilly-auth-testing
//!
//! Test tools for the rebilly-auth SDK:
//!
//! - [`RecordingTransport`] ([`recording`]): the recording fake. Script responses (a FIFO
//!   queue, or a closure of the request), record every request, assert on method, path, query,
//!   headers and JSON body. Secrets are redacted in `Debug` and in failure messages.
//! - [`Emulator`] ([`emulator`], feature `emulator`, on by default): a stateful in-memory
//!   Rebilly Customer Authentication API with all 16 operations, as an in-process
//!   [`HttpTransport`](rebilly_auth_core::HttpTransport) and served over loopback HTTP
//!   ([`Emulator::serve_on_loopback`]); an emulated clock; fault injection; a request log;
//!   an optional [control API](emulator::control) over HTTP under `/__emulator/` with an
//!   inbox page; CORS for the origins you allow; snapshots; switchable
//!   [behaviours](emulator::behaviours). The `rebilly-auth-emulator` crate's binary serves it
//!   for examples, CI and non-Rust users.
//! - [`cassette`]: record exchanges with any transport to a JSON cassette (secrets redacted)
//!   and replay them.
//!
//! ## The recording fake
//!
//! ```
//! use rebilly_auth_core::models::{IssuedToken, Login};
//! use rebilly_auth_testing::RecordingTransport;
//! use serde_json::json;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let fake = RecordingTransport::new();
//! // Answers are typed models (or any `Serialize`, such as `json!(..)`, for hand-written
//! // wire JSON).
//! fake.respond(201, &IssuedToken::new("t0k", "ada"));
//! // One line: a client over the fake with no retries, instant sleeps and a manual clock.
//! let client = fake.client();
//! let issued = client.authentication_tokens().login(Login::password("ada", "pw")).await?;
//! assert_eq!(issued.token.expose(), "t0k");
//! fake.last_request().unwrap()
//!     .assert_method(http::Method::POST)
//!     .assert_path("/organizations/org_test/authentication-tokens")
//!     .assert_json_contains(&json!({"username": "ada", "mode": "password"}));
//! // Unscripted requests fail, once, with a cause naming them (never the token):
//! let error = client.authentication_tokens().verify("t0k").await.unwrap_err();
//! let chain = std::iter::successors(Some(&error as &dyn std::error::Error), |e| e.source())
//!     .map(|e| e.to_string())
//!     .collect::<Vec<_>>()
//!     .join(": ");
//! assert!(chain.contains("GET /organizations/org_test/authentication-tokens/{token}"), "{chain}");
//! assert_eq!(fake.requests().len(), 2);
//! # Ok::<_, rebilly_auth_core::Error>(())
//! # }).unwrap();
//! ```
//!
//! ## The emulator
//!
//! ```
//! use std::time::Duration;
//! use rebilly_auth_core::{Client, models::NewCredential, models::Login};
//! use rebilly_auth_core::models::Exchange;
//! use rebilly_auth_core::OperationId;
//! use rebilly_auth_testing::emulator::{Emulator, Fault, RequestMatcher};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let emulator = Emulator::builder().add_organization("org", "sk_x", Some("pk_x")).build();
//! let client = Client::builder().organization("org").secret_key("sk_x")
//!     .transport(emulator.clone()).build()?;
//! client.credentials().create(NewCredential::new("ada", "pw", "cus_1")).await?;
//!
//! // One-time passwords are "sent by email": the test reads them from the emulator.
//! let token = client.authentication_tokens()
//!     .login(Login::password("ada", "pw").otp_required(true)).await?.token;
//! let otp = emulator.last_otp("org", "ada").unwrap();
//! let jwt = client.authentication_tokens()
//!     .exchange(token.clone(), Exchange::new().one_time_password(otp)).await?;
//! assert!(!jwt.token.expose().is_empty());
//! assert!(client.authentication_tokens().verify(token).await?.is_none()); // spent
//!
//! // Time moves only when the test says so.
//! emulator.clock().advance(Duration::from_secs(3600));
//!
//! // Faults: the server executes the login but the response is lost.
//! emulator.inject(
//!     RequestMatcher::operation(OperationId::PostAuthenticationToken),
//!     Fault::DropAfterProcessing, // the next one; `Fault::….times(n)` for the next n
//! );
//! assert!(client.authentication_tokens().login(Login::password("ada", "pw")).await.is_err());
//! assert_eq!(emulator.executed(OperationId::PostAuthenticationToken), 2);
//!
//! // The same emulator over loopback HTTP:
//! let server = emulator.serve_on_loopback().await.unwrap();
//! assert!(server.url().starts_with("http://127.0.0.1:"));
//! server.shutdown().await;
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! ## The emulator's rules
//!
//! Its auth rules, the behaviour the spec leaves open and what the emulator chose there, its
//! control API and its bounds on hostile input are documented in the
//! [`rebilly-auth-emulator`](emulator) crate.
//!
//! ## Features
//!
#![doc = document_features::document_features!()]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod cassette;
#[cfg(feature = "log-capture")]
mod log_capture;
pub mod recording;
pub mod redact;

/// The emulator: the `rebilly-auth-emulator` crate (feature `emulator`, on by default).
#[cfg(feature = "emulator")]
#[doc(inline)]
pub use rebilly_auth_emulator as emulator;

#[cfg(feature = "emulator")]
pub use emulator::Emulator;
#[cfg(feature = "log-capture")]
pub use log_capture::LogCapture;
/// Core's manual clock (feature `test-util` of `rebilly-auth-core`), which
/// [`RecordingTransport::client_with_clock`] returns.
pub use rebilly_auth_core::test_util::ManualClock;
pub use recording::{RecordedRequest, RecordingTransport, json_response};

/// The transport conformance suite: checks any [`rebilly_auth_core::HttpTransport`] against loopback servers.
#[cfg(feature = "conformance")]
pub mod conformance;
