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
//! let emulator = Emulator::builder().add_organization("org", "sk_test", Some("pk_test")).build();
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
//! **skips the second factor**. The spec makes `otpRequired` optional: an answer without it
//! is read as "not pending" by default, right for an organization that never asks for a
//! second factor; one that requires it sets
//! [`otp_pending_when_absent(true)`](RebillyAuthBuilder::otp_pending_when_absent), so that
//! an answer without the field is refused as pending (failing closed).
//!
//! ## Outcomes of verify
//!
//! | Rebilly's answer | the request gets | cached? |
//! |---|---|---|
//! | 200, valid | passes to the handler | yes, a positive entry |
//! | 404 (not valid) | 401 `error="invalid_token"` | a short negative entry ([`negative_ttl`](RebillyAuthBuilder::negative_ttl), 5 s) |
//! | 401/403 (the layer's own key is wrong) | 500, and an ERROR log naming the misconfiguration | no |
//! | decode error, an answer about another token, no or an empty `customerId`, an unexpected status | 502 | no |
//! | timeout, 5xx, 429, connection failure | 503, with `Retry-After` where Rebilly gave one | no |
//!
//! Each verify has its own deadline ([`verify_timeout`](RebillyAuthBuilder::verify_timeout),
//! 2 s) and at most one retry, set per call whatever the client's own settings, and needs a
//! verify slot (see below): a request that gets none within the deadline gets 503 with
//! `Retry-After: 1`. An outage therefore never stalls every request for the client's default
//! 60 s. Give the layer's client a **publishable key**: verify and logout need no more.
//!
//! ## Verify slots
//!
//! At most [`max_concurrent_verifies`](RebillyAuthBuilder::max_concurrent_verifies) (32)
//! verifies are in flight upstream. Anyone can send a token, so the slots are shared so that
//! a flood of bogus tokens starves neither the sessions the layer knows nor fresh logins:
//!
//! - **Known sessions first.** A token whose valid answer is cached but past its freshness
//!   (`max_staleness`) re-verifies with a **reserved quarter** of the slots (8 of 32) that
//!   no other token can take, and also waits in the general queue, taking whichever slot
//!   comes first. A stale answer is never served: a logout elsewhere is seen within
//!   `max_staleness`, whatever the load.
//! - **Fresh tokens compete fairly.** Every other token (a login the layer has not seen, a
//!   bogus one) waits for one of the other slots in a **FIFO queue** (tokio's fair
//!   semaphore), for at most `verify_timeout`, instead of getting 503 at once. A client
//!   waits for its own answer before sending again, so a flood of C concurrent clients
//!   holds at most C places ahead of a fresh login: with 24 general slots, verifies of
//!   100 ms and 64 attackers, a login waits about 0.3 s.
//! - **Bounded.** Each queue holds at most 8 waiters per slot (192 and 64 by default);
//!   past that, 503 at once. A wait that reaches `verify_timeout` gets 503.
//!
//! **Under a larger flood** (more concurrent attackers than the queue holds): known
//! sessions keep their reserved quarter, so re-verifies go on at 8 per verify time. Fresh
//! logins get the general slots in proportion to their share of arrivals and are refused
//! (503) as often as attackers: what bounds a flood then is a per-client rate limit in front
//! of the layer (the README shows one with `tower_governor`), and
//! [`Metrics::over_capacity`] shows it. A session whose answer was evicted from the
//! [`capacity`](RebillyAuthBuilder::capacity)-bounded cache counts as fresh.
//!
//! ## The verify cache
//!
//! - **Bounded:** [`capacity`](RebillyAuthBuilder::capacity) valid answers,
//!   [`negative_capacity`](RebillyAuthBuilder::negative_capacity) negative answers (10,000
//!   each), in LRU moka caches.
//! - **Fresh:** an entry lives at most `min(expiredTime − 5 s, max_staleness)` (`max_staleness`
//!   when `expiredTime` is null; `max_staleness` may not exceed
//!   [`max_token_lifetime`](RebillyAuthBuilder::max_token_lifetime)), checked **on read** against the layer's
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
//! - **Tombstones no traffic evicts:** they are kept apart from answers, in a store bounded
//!   by [`max_tombstones`](RebillyAuthBuilder::max_tombstones) (1,000,000, 47 to 94 bytes
//!   each). One lives until the token's `expiredTime` when the layer knows it (a cached
//!   answer, or the verify in flight), else for
//!   [`max_token_lifetime`](RebillyAuthBuilder::max_token_lifetime) (7 days); nothing lives
//!   forever. At the bound, lapsed tombstones are purged; if all are live, none is dropped:
//!   the further `invalidate` or `logout` **returns an error** ([`RevokeError`],
//!   [`LogoutError::NotRevoked`]), drops the token's cached answer (so it is verified again),
//!   and [`Metrics::tombstones_refused`] counts it.
//! - **A fleet** shares answers through a store of its own behind the [`VerifyCache`] trait
//!   (see the [`cache`] module); the in-memory [`MemoryCache`] is the default.
//!
//! ## Observability
//!
//! One `rebilly_auth.authenticate` span per authentication, with fields `cache` (`hit`,
//! `miss`, `negative_hit`, `revoked`, `coalesced`), `upstream` (`valid`, `not_valid`,
//! `misconfigured`, `bad_answer`, `unavailable`, `over_capacity`) and `outcome`; the SDK's
//! own `rebilly_auth.call` span nests inside for upstream calls. With a shared store, a
//! `store` field (`connected`, `degraded`) and [`Metrics::store`] show its state. Counters:
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
mod settings;
mod slots;
mod token;
mod verify;

pub use auth::{LogoutError, RebillyAuth};
pub use cache::{CachedAnswer, Claim, MemoryCache, PutOutcome, RevokeError, VerifyCache};
#[allow(deprecated)]
pub use config::ConfigError;
pub use config::{BuildError, RebillyAuthBuilder};
pub use customer::AuthenticatedCustomer;
pub use digest::CacheKey;
pub use layer::{CurrentSession, RebillyAuthLayer, RebillyAuthService};
pub use metrics::{Metrics, StoreMetrics};
pub use outcome::Rejection;
pub use token::TokenSource;
