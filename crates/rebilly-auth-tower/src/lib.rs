//! # rebilly-auth-tower
//!
//! [tower] interop for the Rebilly Customer Authentication SDK, both ways, without tower ever
//! entering `rebilly-auth-core`'s public API:
//!
//! * [`TowerTransport`] turns any tower `Service<http::Request<B>, Response = http::Response<RB>>`
//!   (with `RB: http_body::Body`) into an [`HttpTransport`]: plug an existing tower HTTP client
//!   stack (hyper-util's client behind tower-http layers, say) into a [`Client`].
//! * [`TransportService`] exposes any [`HttpTransport`] (`ReqwestTransport`, `HyperTransport`,
//!   the emulator, your own) as a tower `Service<http::Request<B>>`, so you can stack
//!   tower / tower-http layers (trace, timeout, concurrency limit, rate limit, metrics) in front
//!   of it, then hand the stack back to the client through [`TowerTransport`].
//!
//! ```
//! use std::time::Duration;
//! use bytes::Bytes;
//! use rebilly_auth_core::{transport_fn, HttpTransport};
//! use rebilly_auth_tower::{TowerTransport, TransportService};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! // Any transport (here a closure; in an app, `ReqwestTransport` or `HyperTransport`)…
//! let inner = transport_fn(|_request: http::Request<Bytes>| async {
//!     Ok(http::Response::new(Bytes::from_static(b"{}")))
//! });
//! // …as a tower service, behind tower layers…
//! let stack = tower::ServiceBuilder::new()
//!     .concurrency_limit(8)
//!     .timeout(Duration::from_secs(10))
//!     .service(TransportService::new(inner));
//! // …and back to a transport, for `Client::builder().transport(..)`.
//! let transport = TowerTransport::new(stack);
//! let response = transport.send(http::Request::new(Bytes::new())).await.unwrap();
//! assert_eq!(response.body().as_ref(), b"{}");
//! # });
//! ```
//!
//! ## How errors are classified
//!
//! The SDK retries a login or an exchange only when the request provably never left
//! ([`TransportError::may_have_reached_server`] is `false`). A tower service reports failures
//! as opaque errors, so [`TowerTransport`] decides from structure, never from message text:
//!
//! 1. **`poll_ready` failed** ⇒ the request was never handed to the service: **never left**
//!    (kind [`Other`](TransportErrorKind::Other), or the kind of a [`TransportError`] found
//!    in the error's chain).
//! 2. **Your classifier** ([`TowerTransportBuilder::classifier`]), if any, is asked about each
//!    error of the chain, outermost first; the first answer wins. Use it for errors only your
//!    stack knows (a load shedder's `Overloaded`, a circuit breaker that refused the call).
//! 3. **A [`TransportError`] in the chain** (from a [`TransportService`] under the layers) keeps
//!    its kind and its "may have reached the server".
//! 4. **tower's `Elapsed`** (`tower::timeout`) ⇒ [`Timeout`](TransportErrorKind::Timeout),
//!    may have reached the server (the timer ran while the request may have been in flight).
//! 5. **hyper-util's legacy client error** (feature `hyper-util`): `is_connect()` ⇒ **never
//!    left**, kind [`TlsHandshake`](TransportErrorKind::TlsHandshake) when the chain holds an
//!    `io::Error` of kind `InvalidData` (how tokio-rustls reports a failed handshake), else
//!    [`Connect`](TransportErrorKind::Connect) (a DNS failure lands here too: hyper-util's DNS
//!    error type is private); any other hyper-util error ⇒ [`Io`](TransportErrorKind::Io), may
//!    have reached the server.
//! 6. **Anything else** ⇒ [`Other`](TransportErrorKind::Other), **may have reached the server**.
//!    When the transport cannot tell, it says so.
//!
//! A response is a response, with one exception: tower-http's `TimeoutLayer` does not fail on
//! expiry, it *synthesises* a response (408 by default) with no headers. A headerless response
//! with that status ([`TowerTransportBuilder::synthetic_timeout_status`], 408 unless changed)
//! becomes a [`Timeout`](TransportErrorKind::Timeout) error that may have reached the server,
//! not an API answer the server never gave. (A real server's answer carries headers, `Date` or
//! `Content-Length` at least; were one to carry none, "a timeout that may have reached the
//! server" is still the safe reading of it.)
//!
//! Response bodies are read under the request's [`BodyLimit`] (`http_body_util::Limited`); a
//! larger body is [`BodyTooLarge`](TransportErrorKind::BodyTooLarge); a body that fails while
//! being read is [`Body`](TransportErrorKind::Body) (may have reached the server).
//!
//! **Do not put a retrying layer (`tower::retry`) under a `TowerTransport`**: core already
//! retries, with the idempotency rules of each operation, and a layer that retried after an
//! ambiguous failure could end on a "never left" error although an earlier attempt reached the
//! server.
//!
//! ## Tracing without leaking tokens
//!
//! tower-http's `TraceLayer` at its default configuration (`DefaultMakeSpan`) records the full
//! request URI in its span, and request paths carry secrets: `GET
//! /organizations/{org}/authentication-tokens/{token}` (verify) holds the customer's token, and
//! password-token paths hold the reset token. **Make the span with [`trace::redacted_span`]**
//! (method and route template only), or any span of yours that never records the URI; keep
//! `include_headers(false)` (the default) on every callback:
//!
//! ```
//! use http_body_util::Full;
//! use bytes::Bytes;
//! use tower_http::trace::TraceLayer;
//!
//! let trace = TraceLayer::new_for_http()
//!     .make_span_with(rebilly_auth_tower::trace::redacted_span::<Full<Bytes>>);
//! # let _ = trace;
//! ```
//!
//! The other default callbacks (`DefaultOnRequest`, `DefaultOnResponse`, `DefaultOnFailure`,
//! `DefaultOnBodyChunk`, `DefaultOnEos`) log no URI; `DefaultOnFailure` logs the error's
//! `Display`, which for a [`TransportError`] is its kind only. The SDK's own `rebilly_auth.call`
//! span (the parent of the layer's span) records the operation and the route template.
//!
//! ## tower-http's `TimeoutLayer` needs a `Default` body
//!
//! tower-http's `TimeoutLayer` requires the response body to implement `Default` (it builds the
//! synthetic response from it). A [`TransportService`] answers `Full<Bytes>`, which does;
//! hyper's `Incoming` does not: map it first, e.g.
//! `.map_response(|r: http::Response<Incoming>| r.map(|b| b.map_err(Into::into).boxed_unsync()))`
//! (see this crate's `tests/conformance.rs`). tower's own `timeout` (an `Elapsed` error) needs
//! nothing.
//!
//! ## Feature flags
//!
//! | feature      | default | what it does |
//! |--------------|---------|--------------|
//! | `hyper-util` | no      | recognise hyper-util's legacy client errors (connect failures ⇒ never left) |
//!
//! Without `hyper-util`, a refused connection through a hyper-util client is reported as
//! [`Other`](TransportErrorKind::Other), *may have reached the server*: safe, but a login is
//! then never retried after it.
//!
//! [tower]: https://docs.rs/tower
//! [`Client`]: rebilly_auth_core::Client

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod classify;
mod service;
pub mod trace;
mod transport;

pub use classify::{Classifier, ErrorClass};
pub use service::{ResponseFuture, TransportService};
pub use transport::{TowerTransport, TowerTransportBuilder};

pub use rebilly_auth_core as auth_core;
pub use rebilly_auth_core::{BodyLimit, HttpTransport, TransportError, TransportErrorKind};
pub use tower_service;

/// The boxed error type tower middleware uses (`tower::BoxError`).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
