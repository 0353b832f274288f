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
//! ## Auth rules
//!
//! Each organization has a secret key and optionally a publishable key.
//!
//! - No credential, a wrong key, another organization's key, an unknown organization, or an
//!   invalid/expired JWT: **401**.
//! - The secret key (`REB-APIKEY`) may call everything.
//! - The publishable key (`Authorization: <key>`) may log in (password mode), verify, log out
//!   and exchange. Elsewhere: **403** (the spec's "forbidden"), except
//!   `DELETE /credentials/{id}`, for which the spec lists no 403: **401**.
//! - A customer JWT whose exchange gave an explicit `acl` may call exactly the operations its
//!   `permissions` list, by the spec's operation ids (`*` for all; an empty list allows
//!   nothing); it still sees only its own customer's tokens and credentials. Otherwise:
//! - A customer JWT (`Authorization: Bearer …`, issued by exchange, checked for signature,
//!   expiry and organization) acts for its customer only: it may list its own authentication
//!   tokens, log in (password mode, as itself), verify, log out and exchange its own tokens
//!   (another customer's token is **404**), and read its own credentials (list filtered; another
//!   customer's credential is **404**). Everything else: 403 (401 for `DELETE /credentials/{id}`).
//!
//! ## Behaviour the spec leaves open
//!
//! What the emulator does where the spec is silent (each is covered by a test):
//!
//! - **Wrong username or password on login**: 401 "invalid credentials were used" (no hint which
//!   one was wrong). An expired credential cannot log in either (401).
//! - **Login with no `mode`** means `password`; an unknown `mode` is 422.
//! - **Passwordless login** needs the secret key (403 with another credential). The customer's
//!   *earliest-created* unexpired credential gives the `username`; a customer with none is 422
//!   (`invalidFields: customerId`).
//! - **`otpRequired`**: required when the login request *or* the organization's options ask for
//!   it (a browser with the publishable key cannot turn off what the organization requires).
//! - **The one-time password** is 6 digits, "sent by email": tests read it with
//!   [`Emulator::last_otp`](emulator::Emulator::last_otp), the outbox
//!   ([`Emulator::outbox`](emulator::Emulator::outbox), newest first, the latest 1000 per
//!   organization) or the control API's `GET /__emulator/outbox`.
//! - **Customers**: with none seeded in an organization (the default), any `customerId` is
//!   accepted; once some are seeded
//!   ([`EmulatorBuilder::customer`](emulator::EmulatorBuilder::customer), the binary's
//!   `--customer`, a state file, `POST /__emulator/customers`), an unknown one is 422 with
//!   `invalidFields: customerId` (credential create and upsert, passwordless login).
//! - **Where the live answer is not certain**, a [behaviour switch](emulator::behaviours)
//!   offers each plausible one; the defaults are listed here, the other settings there
//!   (wrong password 401 or 422; errors `application/json` or `application/problem+json`;
//!   options merge or replace; out-of-range pagination clamped or 422; `expiredTime: null`
//!   on login and reset-token create means the default lifetime, 422 or never).
//! - **`expiredTime: null`** on login and reset-password token create means the
//!   organization's default lifetime (as when absent); on credentials it means "never
//!   expires".
//! - **Missing or wrong one-time password on exchange**: 401; the token stays usable.
//! - **A malformed exchange body** (wrong types, past `expiredTime`): 403 with `invalidFields`,
//!   since the spec lists no 422 for exchange.
//! - **Verify on an unknown, expired, logged-out or exchanged token**: 404 (so is logout and
//!   exchange of such a token). Exchange with `invalidate: false` keeps the token.
//! - **Duplicate username on create or upsert**: 422 with `invalidFields: username`; usernames
//!   are unique per organization.
//! - **`passwordPattern`**: a JS-style `/…/flags` literal (or a bare pattern), compiled with
//!   fancy-regex (lookahead works); flags `i`, `m`, `s` apply, `g`, `u` are ignored, others and
//!   patterns that do not compile are refused on `PUT /authentication-options` with 422.
//!   No input can stall the check: a pattern has at most
//!   [`MAX_PASSWORD_PATTERN_LENGTH`](emulator::MAX_PASSWORD_PATTERN_LENGTH) characters, a
//!   password at most [`MAX_PASSWORD_LENGTH`](emulator::MAX_PASSWORD_LENGTH) (longer: 422
//!   naming `password`, with or without a pattern), and a check that needs more than
//!   [`PASSWORD_PATTERN_BACKTRACK_LIMIT`](emulator::PASSWORD_PATTERN_BACKTRACK_LIMIT)
//!   backtracking steps gets 422 naming `password` too. The check runs outside the state lock,
//!   on tokio's blocking pool; should the pattern change meanwhile, the password is checked
//!   again against the new one.
//! - **`PUT /authentication-options` merges**: members sent replace, `null` restores the
//!   default, members left out stay. Defaults: no pattern, `credentialTtl` 0,
//!   `authTokenTtl` 3600, `resetTokenTtl` 3600, `otpRequired` false. A TTL of 0 means "never
//!   expires" (`expiredTime: null`). A TTL must be an integer from 0 to
//!   [`MAX_TTL_SECONDS`](emulator::MAX_TTL_SECONDS) (100 years): anything else (negative, larger,
//!   beyond `i64`, fractional, a string) is **422** with `invalidFields` naming it, and the
//!   options stay as they were.
//! - **`DELETE /password-tokens/{id}` answers 409** when the token is no longer pending: it
//!   expired, or it was used, i.e. its credential's password changed (`PUT /credentials/{id}`)
//!   after it was issued. `GET` answers 404 for such a token; an unknown token is 404 for both.
//!   Such a token is remembered (for the 409) for one emulated day after it stopped being
//!   pending; after that it is purged and is 404 for both.
//! - **Deleting a credential** also ends its authentication and reset-password tokens.
//! - **`PUT /credentials/{id}`**: 201 when created, 200 when replaced; an id that breaks the
//!   spec's `resourceId` rule (≤ 50 chars of `[@~\-.\w]`) is 422.
//! - **Pagination**: `limit` and `offset` out of 0..=1000 are clamped, unparsable ones fall
//!   back to the defaults (100, 0); the spec lists no 422 for lists. `Pagination-Total`,
//!   `-Limit`, `-Offset` report what was used. Lists come **newest first** (the spec documents no
//!   order for these three collections and no live answer says otherwise; a client must not
//!   rely on either order); token lists show
//!   only active tokens.
//! - **Rate limit**: non-GET requests per organization per 10 emulated minutes (3000 by
//!   default, [`EmulatorBuilder::rate_limit`](emulator::EmulatorBuilder::rate_limit)); successes
//!   carry `X-RateLimit-Limit`/`-Remaining`; past the limit a real 429 carries
//!   `X-RateLimit-Retry-After` (epoch seconds) and `Retry-After`.
//! - **JWT**: HS256 signed with a per-organization key
//!   ([`Emulator::jwt_signing_key`](emulator::Emulator::jwt_signing_key)), claims `jti`, `iss`,
//!   `sub`, `customerId`, `organizationId`, `type`, `iat`, `exp`, `acl`, `customClaims`; it
//!   expires one hour after creation unless `expiredTime` is given.
//! - **Ids**: credentials `cus_crd_` + 26 ULID-like characters, sessions `jwt_` + 26; tokens are
//!   40 hex characters. `Location` (on every 201) and `_links` are absolute URLs built from the
//!   request's authority or `Host`.
//! - **Liberal input**: doubled or trailing slashes, a `bearer` scheme in any case, a missing
//!   `Content-Type`, the deprecated `Organization-Id` header when the path omits the
//!   organization. **Strict output**: every response is `application/json` (problems too) or
//!   empty, with a status the spec lists for the operation (checked against the spec file by
//!   `tests/spec.rs`); no write-only member (`password`, `oneTimePassword`, `invalidate`,
//!   `mode`) ever appears in a response. Unknown routes are 404, other methods 405 (`Allow`
//!   lists the route's methods, `HEAD` and `OPTIONS`). `HEAD` on a `GET` route answers like
//!   `GET` without a body. `OPTIONS` is answered before authentication (204 with `Allow`);
//!   with [`cors_origin`](emulator::EmulatorBuilder::cors_origin), a preflight or an answer for
//!   an allowed origin carries the CORS headers (the origin echoed, `Vary: Origin`,
//!   `Authorization` and `Content-Type` allowed by name, never `REB-APIKEY`, never
//!   credentials).
//!
//! ## The control API
//!
//! [`EmulatorBuilder::control_api`](emulator::EmulatorBuilder::control_api) (the binary turns
//! it on) serves everything above over HTTP under `/__emulator/`: health, the outbox, the
//! clock (advance with checked arithmetic: 422, never a panic), reset, faults, the request
//! journal (route templates only), state snapshots, behaviours, customers, and an inbox page
//! for people. It never sends CORS headers, answers only loopback `Host`s, needs
//! `X-Emulator-Control: 1` (or the control token) on every request that is not `GET`, and with
//! a control token needs it on every request. See [`emulator::control`] for every endpoint and
//! `curl` lines.
//!
//! ## Hostile input and bounded memory
//!
//! No sequence of requests makes the emulator panic or leaves a connection unanswered (except an
//! injected [`Fault::DropBeforeProcessing`](emulator::Fault::DropBeforeProcessing) /
//! `DropAfterProcessing`). Every value that feeds arithmetic or time math is checked:
//!
//! | input | out of range | outcome |
//! |---|---|---|
//! | `credentialTtl`, `authTokenTtl`, `resetTokenTtl` (`PUT /authentication-options`) | negative, over [`MAX_TTL_SECONDS`](emulator::MAX_TTL_SECONDS) (100 years), beyond `i64`/`u64`, fractional, not a number | **422**, `invalidFields` names the member; the options are unchanged |
//! | `expiredTime` (credential create/upsert, login, exchange, reset-password token) | not an RFC 3339 date-time | **422** with `invalidFields` (**403** on exchange, which lists no 422); a past one on login, exchange and reset-password tokens is refused the same way |
//! | an expiry computed from a TTL or the JWT's 1-hour default | later than 9999-12-31T23:59:59Z | **saturates** there (also if the clock was moved near the end of time) |
//! | `limit`, `offset` | outside 0..=1000, or any size of integer | **saturate** (clamped into 0..=1000); unparsable: the defaults (100, 0) |
//! | [`EmulatorClock::advance`](emulator::EmulatorClock::advance) | past the end of year 9999 | **saturates** there |
//! | the rate-limit window and [`Fault::RateLimited`](emulator::Fault::RateLimited)'s reset time | past the end of year 9999 | **saturate** |
//! | stored records per organization, per kind (credentials, authentication tokens, reset-password tokens, JWT sessions) | more than [`max_records_per_kind`](emulator::EmulatorBuilder::max_records_per_kind) (default [`DEFAULT_MAX_RECORDS_PER_KIND`](emulator::DEFAULT_MAX_RECORDS_PER_KIND), 10,000) | **429** problem body, after purging what had expired; the request is counted as executed, nothing is stored |
//! | a request body over loopback HTTP | more than [`ServeOptions::max_request_body`](emulator::ServeOptions::max_request_body) (default 1 MiB) | **413** problem body, decided from `Content-Length` before a byte of the body is read (chunked bodies: once the limit is passed); the connection closes |
//!
//! Memory stays bounded however long the emulator runs:
//!
//! - **Expired records are purged as it writes**: every non-GET request that passes
//!   authentication and the rate limit first drops expired authentication tokens and JWT
//!   sessions, and reset-password tokens one emulated day after they stopped being pending
//!   (constant time when nothing is due). Credentials are never purged (an expired credential
//!   stays listed until deleted); they count against the cap. The one-time password "sent" to a
//!   username is forgotten when its credential is deleted or renamed.
//!   [`Emulator::stored_records`](emulator::Emulator::stored_records) shows what is stored.
//! - **The request journal is a ring buffer** of the latest
//!   [`journal_capacity`](emulator::EmulatorBuilder::journal_capacity) requests (default
//!   [`DEFAULT_JOURNAL_CAPACITY`](emulator::DEFAULT_JOURNAL_CAPACITY), 10,000). The counters of
//!   [`requests_seen`](emulator::Emulator::requests_seen) and
//!   [`executed`](emulator::Emulator::executed) are kept apart and never evicted (only
//!   [`clear_request_log`](emulator::Emulator::clear_request_log) resets them); extension
//!   methods are counted for at most 256 distinct (method, route) pairs.
//! - **Over HTTP** ([`ServeOptions`](emulator::ServeOptions)): at most
//!   [`max_connections`](emulator::ServeOptions::max_connections) open connections (default
//!   512; further clients wait in the listen backlog), a request head must arrive within
//!   [`header_read_timeout`](emulator::ServeOptions::header_read_timeout) (default 30 s; then
//!   the connection closes), and an accept error (e.g. out of file descriptors) pauses the
//!   accept loop for 75 ms instead of spinning.
//! - **A bug** in a handler answers **500** with a problem body instead of unwinding into the
//!   caller or dropping the connection (the panic message still reaches the panic hook).

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
