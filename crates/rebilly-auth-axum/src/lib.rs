//! # rebilly-auth-axum
//!
//! Protect routes with Rebilly customer tokens: a tower [`Layer`](tower_layer::Layer) usable
//! by any tower-based server, axum extractors, and a bounded verify cache.
//!
//! A request's token (from `Authorization: Bearer`, a cookie or a named header) is verified
//! with Rebilly — through a cache, one upstream call per token however many requests carry
//! it at once — and the handler gets an [`AuthenticatedCustomer`]. Requests that are not
//! logged in never reach the handler.
//!
//! ```
//! use axum::{Router, routing::get};
//! use rebilly_auth_axum::{AuthenticatedCustomer, RebillyAuth};
//! use rebilly_auth_core::models::{Login, NewCredential};
//! use rebilly_auth_core::{Auth, Client};
//! use rebilly_auth_testing::emulator::Emulator;
//! use tower::ServiceExt;
//!
//! async fn me(customer: AuthenticatedCustomer) -> String {
//!     format!("hello {}", customer.username())
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! // The emulator in process stands in for Rebilly (a real app uses a transport crate).
//! let emulator = Emulator::builder().organization("org", "sk_test", Some("pk_test")).build();
//! let admin = Client::builder().organization("org").secret_key("sk_test")
//!     .transport(emulator.clone()).build()?;
//! admin.credentials().create(NewCredential::new("ada", "s3cret!", "cus_1")).await?;
//! let token = admin.authentication_tokens().login(Login::password("ada", "s3cret!")).await?.token;
//!
//! // The layer's client: a publishable key is enough (the layer sets each verify's deadline
//! // and retries itself).
//! let client = Client::builder()
//!     .organization("org")
//!     .auth(Auth::publishable_key("pk_test"))
//!     .transport(emulator.clone())
//!     .build()?;
//! let auth = RebillyAuth::builder(client).build()?;
//! let app = Router::new().route("/me", get(me)).layer(auth.layer());
//!
//! let request = |token: Option<&str>| {
//!     let mut request = http::Request::get("/me");
//!     if let Some(token) = token {
//!         request = request.header("authorization", format!("Bearer {token}"));
//!     }
//!     request.body(axum::body::Body::empty()).unwrap()
//! };
//! let ok = app.clone().oneshot(request(Some(token.expose()))).await?;
//! assert_eq!(ok.status(), 200);
//! let anonymous = app.clone().oneshot(request(None)).await?;
//! assert_eq!(anonymous.status(), 401);
//! assert_eq!(anonymous.headers()["www-authenticate"], "Bearer");
//!
//! // Logout through the layer: refused at once, with no further call to Rebilly.
//! auth.logout(token.expose()).await?;
//! let after = app.oneshot(request(Some(token.expose()))).await?;
//! assert_eq!(after.headers()["www-authenticate"], r#"Bearer error="invalid_token""#);
//! assert_eq!(auth.metrics().upstream_verifies, 1);
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! ## Where the token comes from
//!
//! [`TokenSource`]: `Authorization: Bearer …` by default, a named cookie or a named header.
//! A missing or malformed token (two of them, control characters, over 1024 bytes: what the
//! SDK would refuse to send) gets 401 with `WWW-Authenticate: Bearer` (and RFC 6750's
//! `error="invalid_request"` when malformed), with no upstream call.
//!
//! With a cookie source, unsafe methods (everything but GET, HEAD, OPTIONS, TRACE) need an
//! `Origin` among [`allowed_origins`](RebillyAuthBuilder::allowed_origins), else 403. The
//! cookie itself must be `HttpOnly; Secure; SameSite=Lax` (or `Strict`).
//!
//! ## What the handler gets
//!
//! [`AuthenticatedCustomer`] (customer id, username, credential id, expiry as an
//! `OffsetDateTime`, whether an OTP is pending); `Option<AuthenticatedCustomer>` under
//! [`optional_layer`](RebillyAuth::optional_layer); [`CurrentSession`] to log out.
//!
//! **Second factor:** a verify answer with `otpRequired: true` is refused by default (401,
//! `error="insufficient_user_authentication"`).
//! [`allow_pending_otp`](RebillyAuthBuilder::allow_pending_otp) accepts such sessions, which
//! **skips the second factor**.
//!
//! ## Outcomes of verify
//!
//! | Rebilly's answer | the request gets | cached? |
//! |---|---|---|
//! | 200, valid | passes to the handler | yes, a positive entry |
//! | 404 (not valid) | 401 `error="invalid_token"` | a short negative entry ([`negative_ttl`](RebillyAuthBuilder::negative_ttl), 5 s) |
//! | 401/403 (the layer's own key is wrong) | 500, and an ERROR log naming the misconfiguration | no |
//! | decode error, an answer about another token, no `customerId`, an unexpected status | 502 | no |
//! | timeout, 5xx, 429, connection failure | 503, with `Retry-After` where Rebilly gave one | no |
//!
//! Each verify has its own deadline ([`verify_timeout`](RebillyAuthBuilder::verify_timeout),
//! 2 s) and at most one retry, set per call whatever the client's own settings, and
//! at most [`max_concurrent_verifies`](RebillyAuthBuilder::max_concurrent_verifies) (32) are
//! in flight: past that, 503 with `Retry-After: 1`. An outage therefore never stalls every
//! request for the client's default 60 s. Give the layer's client a **publishable key**:
//! verify and logout need no more.
//!
//! ## The verify cache
//!
//! - **Bounded:** [`capacity`](RebillyAuthBuilder::capacity) valid entries and tombstones,
//!   [`negative_capacity`](RebillyAuthBuilder::negative_capacity) negative entries (10,000
//!   each), in moka caches.
//! - **Fresh:** an entry lives at most `min(expiredTime − 5 s, max_staleness)` (`max_staleness`
//!   when `expiredTime` is null), checked **on read** against the layer's
//!   [`clock`](RebillyAuthBuilder::clock). [`max_staleness`](RebillyAuthBuilder::max_staleness)
//!   defaults to 30 s. **The trade-off:** a token revoked *outside* this process stays
//!   accepted for up to `max_staleness`.
//! - **Single flight:** concurrent requests with the same uncached token cause exactly one
//!   upstream verify; they all get its answer.
//! - **Keys** are HMAC-SHA256 digests of the token (all 256 bits) under a random per-layer
//!   key; **values** hold customer id, username, credential id, OTP state and expiry — never
//!   the token nor the answer's `_links` (whose `href` holds it).
//! - **Logout:** [`RebillyAuth::logout`] (or [`CurrentSession::logout`]) invalidates the token
//!   here and logs it out upstream in one step; [`RebillyAuth::invalidate`] only does the
//!   former. Either writes a tombstone that a verify already in flight cannot overwrite: the
//!   next request with the token gets 401 without an upstream call.
//! - **A fleet** shares answers through a store of its own behind the [`VerifyCache`] trait
//!   (see the [`cache`] module); the in-memory [`MemoryCache`] is the default.
//!
//! ## Observability
//!
//! One `rebilly_auth.authenticate` span per authentication, with fields `cache` (`hit`,
//! `miss`, `negative_hit`, `revoked`, `coalesced`), `upstream` (`valid`, `not_valid`,
//! `misconfigured`, `bad_answer`, `unavailable`, `over_capacity`) and `outcome`; the SDK's
//! own `rebilly_auth.call` span nests inside for upstream calls. Counters:
//! [`RebillyAuth::metrics`]. Tokens never appear in spans, logs or `Debug` output.

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod auth;
pub mod cache;
mod config;
mod customer;
mod digest;
mod layer;
mod metrics;
mod outcome;
mod slots;
mod token;
mod verify;

pub use auth::{LogoutError, RebillyAuth};
pub use cache::{CachedAnswer, MemoryCache, RevokeError, VerifyCache};
pub use config::{ConfigError, RebillyAuthBuilder};
pub use customer::AuthenticatedCustomer;
pub use digest::CacheKey;
pub use layer::{CurrentSession, RebillyAuthLayer, RebillyAuthService};
pub use metrics::Metrics;
pub use outcome::Rejection;
pub use token::TokenSource;
