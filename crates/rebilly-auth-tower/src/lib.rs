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
//! A response is a response, with one exception: a timeout layer's synthetic answer.
//! tower-http's `TimeoutLayer` does not fail on expiry, it *synthesises* a response (408 by
//! default). The transport turns it into a [`Timeout`](TransportErrorKind::Timeout) error that
//! may have reached the server, not an API answer the server never gave, when it sees either:
//!
//! * **the [`TimedOut`] response extension**, which this crate's [`TimeoutLayer`] (feature
//!   `tower-http`, a wrapper around tower-http's) sets on its synthetic answer. Extensions
//!   survive layers that add response headers; **use this layer** under a `TowerTransport`.
//!   Any status works; a layer of yours that answers instead of failing can set [`TimedOut`]
//!   too.
//! * **the fallback for a bare tower-http `TimeoutLayer`**: a response with
//!   [`TowerTransportBuilder::synthetic_timeout_status`]'s status (408 unless changed) and **no
//!   headers at all**. A real server's answer carries headers, `Date` or `Content-Length` at
//!   least; were one to carry none, "a timeout that may have reached the server" is still the
//!   safe reading of it. But a layer above the timeout that adds a response header
//!   (request-id, CORS, security headers, …) erases this sign: the synthetic 408 then passes
//!   for the server's, an exchange the server executed comes back as `Error::Api(408)` instead
//!   of `ExchangeOutcomeUnknown`, and a caller that retries 408 replays a spent token. Hence
//!   the wrapper.
//!
//! Response bodies are read under the request's [`BodyLimit`] (`http_body_util::Limited`); a
//! larger body is [`BodyTooLarge`](TransportErrorKind::BodyTooLarge); a body that fails while
//! being read is [`Body`](TransportErrorKind::Body) (may have reached the server).
//!
//! ### Layers that must not sit under the transport
//!
//! **No layer that sends a request more than once**: retry (`tower::retry`), hedge
//! (`tower::hedge`, which sends a second copy when the first is slow) or failover (a balancer or
//! steer that resends a failed call to another endpoint). They would resend logins and exchanges,
//! which are not idempotent: an exchange spends its token, so a resent exchange the server had
//! already executed answers 404, and a retry after an ambiguous failure could end on a "never
//! left" error although an earlier attempt reached the server. Core already retries, with the
//! idempotency rules of each operation.
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
//! let service = tower::ServiceBuilder::new().layer(trace).service_fn(|_: http::Request<Full<Bytes>>| async {
//!     Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(Bytes::new())))
//! });
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! use tower::ServiceExt;
//! let request = http::Request::new(Full::new(Bytes::new()));
//! assert_eq!(service.oneshot(request).await.unwrap().status(), http::StatusCode::OK);
//! # });
//! ```
//!
//! The other default callbacks (`DefaultOnRequest`, `DefaultOnResponse`, `DefaultOnFailure`,
//! `DefaultOnBodyChunk`, `DefaultOnEos`) log no URI; `DefaultOnFailure` logs the error's
//! `Display`, which for a [`TransportError`] is its kind only. The SDK's own `rebilly_auth.call`
//! span (the parent of the layer's span) records the operation and the route template.
//!
//! ## tower-http's `TimeoutLayer` needs a `Default` body
//!
//! tower-http's `TimeoutLayer`, and this crate's wrapper of it, require the response body to
//! implement `Default` (they build the synthetic response from it). A [`TransportService`] answers `Full<Bytes>`, which does;
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
//! | `tower-http` | no      | [`TimeoutLayer`]: tower-http's timeout, its synthetic answer marked [`TimedOut`] |
//!
//! Without `hyper-util`, a refused connection through a hyper-util client is reported as
//! [`Other`](TransportErrorKind::Other), *may have reached the server*: safe, but a login is
//! then never retried after it.
//!
//! [tower]: https://docs.rs/tower
//! [`Client`]: rebilly_auth_core::Client
//! [`TimeoutLayer`]: timeout
//!
//! ## Features
//!
#![doc = document_features::document_features!()]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod classify;
mod service;
pub mod timeout;
pub mod trace;
mod transport;

pub use classify::{Classifier, ErrorClass};
pub use service::{ResponseFuture, TransportService};
pub use timeout::TimedOut;
#[cfg(feature = "tower-http")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower-http")))]
pub use timeout::TimeoutLayer;
pub use transport::{TowerTransport, TowerTransportBuilder};

pub use rebilly_auth_core as auth_core;
pub use rebilly_auth_core::{BodyLimit, HttpTransport, TransportError, TransportErrorKind};
pub use tower_service;

/// The boxed error type tower middleware uses (`tower::BoxError`).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
