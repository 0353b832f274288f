//! # rebilly-auth-emulator
//!
//! [`Emulator`]: a stateful, in-memory Rebilly Customer Authentication API, as a library (also
//! reachable as `rebilly_auth_testing::emulator`) and as a binary for every language (feature
//! `cli`, on by default; see the README or `rebilly-auth-emulator --help`).
//!
//! It implements core's [`HttpTransport`] in process (no sockets) and serves the very same
//! request handler over loopback HTTP ([`Emulator::serve_on_loopback`]). Clones share state.
//! Its rules are below; the [control API](control) is described in its module.
//!
//! ```
//! use rebilly_auth_core::Client;
//! use rebilly_auth_core::models::{Login, NewCredential};
//! use rebilly_auth_emulator::Emulator;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let emulator = Emulator::builder().add_organization("org", "sk_test", Some("pk_test")).build();
//! let admin = Client::builder()
//!     .organization("org")
//!     .secret_key("sk_test")
//!     .transport(emulator.clone())
//!     .build()?;
//! admin.credentials().create(NewCredential::new("ada", "s3cret!", "cus_1")).await?;
//! let token = admin.authentication_tokens().login(Login::password("ada", "s3cret!")).await?;
//! assert_eq!(token.customer_id.unwrap().as_str(), "cus_1");
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
#![doc = include_str!("behaviour.md")]
//!
//! ## Features
//!
#![doc = document_features::document_features!()]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod auth;
pub mod behaviours;
pub mod clock;
pub mod control;
mod cors;
pub mod faults;
mod handlers;
pub mod jwt;
mod routes;
pub mod server;
pub mod snapshot;
mod state;

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode};
use rebilly_auth_core::test_util::InstantSleep;
use rebilly_auth_core::{
    BodyLimit, Client, HttpTransport, OperationId, RetryPolicy, TransportError,
};
use time::OffsetDateTime;

pub use behaviours::{
    Behaviours, ErrorContentType, NullExpiredTime, OptionsUpdate, Pagination, WrongPassword,
};
pub use clock::EmulatorClock;
pub use control::ControlApi;
pub use faults::{Fault, Injection, RequestMatcher};
pub use server::{ServeOptions, ServerHandle};
pub use snapshot::{Snapshot, SnapshotError};
pub use state::{
    MAX_PASSWORD_LENGTH, MAX_PASSWORD_PATTERN_LENGTH, PASSWORD_PATTERN_BACKTRACK_LIMIT,
};

use handlers::{Ctx, Reply};
use state::{Organization, State};

/// The emulator's rate limit: non-GET requests per organization per 10-minute window.
pub const DEFAULT_RATE_LIMIT: u64 = 3000;

/// The longest `credentialTtl`, `authTokenTtl` or `resetTokenTtl` that
/// `PUT /authentication-options` accepts: 100 years (of 365.25 days), in seconds. Longer ones
/// (and negative, fractional or non-numeric ones) are refused with 422 and `invalidFields`.
pub const MAX_TTL_SECONDS: i64 = 3_155_760_000;
const RATE_WINDOW: time::Duration = time::Duration::minutes(10);

/// The default cap on stored records of each kind (credentials, authentication tokens,
/// reset-password tokens, JWT sessions) per organization; see
/// [`EmulatorBuilder::max_records_per_kind`].
pub const DEFAULT_MAX_RECORDS_PER_KIND: usize = 10_000;

/// The default number of entries the request journal ([`Emulator::request_log`]) keeps; see
/// [`EmulatorBuilder::journal_capacity`].
pub const DEFAULT_JOURNAL_CAPACITY: usize = 10_000;

/// How many records of each kind an organization stores right now (see
/// [`Emulator::stored_records`]). Expired records count until they are purged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordCounts {
    /// Credentials (expired ones included: they stay listed until deleted).
    pub credentials: usize,
    /// Authentication tokens.
    pub authentication_tokens: usize,
    /// Reset-password tokens.
    pub reset_password_tokens: usize,
    /// JWT sessions (one per exchange).
    pub sessions: usize,
}

/// A one-time password "sent by email" (see [`Emulator::outbox`]). Its `Debug` hides the
/// password; [`one_time_password`](Self::one_time_password) reads it.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SentOneTimePassword {
    /// The organization.
    pub organization: String,
    /// The username it was sent to.
    pub username: String,
    /// The customer of that username's credential.
    pub customer_id: String,
    /// When it was sent, on the emulator's clock.
    pub sent_time: OffsetDateTime,
    one_time_password: String,
}

impl SentOneTimePassword {
    /// The 6-digit one-time password.
    pub fn one_time_password(&self) -> &str {
        &self.one_time_password
    }
}

impl fmt::Debug for SentOneTimePassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SentOneTimePassword")
            .field("organization", &self.organization)
            .field("username", &self.username)
            .field("customer_id", &self.customer_id)
            .field("sent_time", &self.sent_time)
            .field("one_time_password", &"[REDACTED]")
            .finish()
    }
}

/// What the shared request handler decided; both faces turn it into their own form.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// A complete response.
    Reply(Reply),
    /// Close the connection before the response head.
    Drop,
    /// Send the head, part of the body, then close.
    Truncated(Reply),
}

struct Shared {
    state: Mutex<State>,
    clock: EmulatorClock,
    faults: Mutex<Vec<faults::FaultRule>>,
    journal: Mutex<Journal>,
    rate_limit: u64,
    max_records: usize,
    /// The control API, when enabled.
    control: Option<ControlApi>,
    /// Origins allowed to call the API from a browser (CORS).
    cors_origins: Vec<String>,
    /// What [`Emulator::reset`] returns to.
    start: Mutex<Snapshot>,
}

/// The emulator. Cheap to clone; clones share state, clock, faults and log.
#[derive(Clone)]
pub struct Emulator {
    shared: Arc<Shared>,
}

impl fmt::Debug for Emulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let organizations: Vec<String> = lock(&self.shared.state)
            .organizations
            .keys()
            .cloned()
            .collect();
        f.debug_struct("Emulator")
            .field("organizations", &organizations)
            .field("clock", &self.shared.clock)
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Emulator {
    /// A builder.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// Adds (or replaces, emptied) an organization.
    pub fn add_organization(
        &self,
        id: impl Into<String>,
        secret_key: impl Into<String>,
        publishable_key: Option<&str>,
    ) {
        let id = id.into();
        let now = self.shared.clock.now();
        let mut state = lock(&self.shared.state);
        let org = Organization::new(
            id.clone(),
            secret_key.into(),
            publishable_key.map(str::to_owned),
            now,
            &mut state.rng,
        );
        state.organizations.insert(id, org);
    }

    /// Seeds a customer of `organization`; `false` if there is no such organization. See
    /// [`EmulatorBuilder::add_customer`].
    pub fn add_customer(&self, organization: &str, id: impl Into<String>) -> bool {
        match lock(&self.shared.state).organizations.get_mut(organization) {
            Some(org) => {
                org.customers.insert(id.into());
                true
            }
            None => false,
        }
    }

    /// The customers seeded in `organization` (empty: any `customerId` is accepted).
    pub fn customers(&self, organization: &str) -> Vec<String> {
        lock(&self.shared.state)
            .organizations
            .get(organization)
            .map(|org| org.customers.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The switchable behaviours in force.
    pub fn behaviours(&self) -> Behaviours {
        lock(&self.shared.state).behaviours
    }

    /// Switches behaviours while running (the next request sees them).
    pub fn set_behaviours(&self, behaviours: Behaviours) {
        lock(&self.shared.state).behaviours = behaviours;
    }

    /// The whole state (organizations and their keys, options, customers, credentials,
    /// tokens, sessions, the outbox, the clock, the generator's seed and the behaviours) as a
    /// [`Snapshot`]. Faults and the request journal are not part of it.
    pub fn snapshot(&self) -> Snapshot {
        let state = lock(&self.shared.state);
        Snapshot::capture(&state, self.shared.clock.now())
    }

    /// Replaces the whole state by `snapshot` (clock included). Faults and the request journal
    /// stay as they are.
    ///
    /// # Errors
    ///
    /// [`SnapshotError::Invalid`] (and nothing changes) when an organization of `snapshot`
    /// stores more records of one kind than
    /// [`max_records_per_kind`](EmulatorBuilder::max_records_per_kind) allows: restores
    /// apply the caps of live writes.
    pub fn restore(&self, snapshot: &Snapshot) -> Result<(), SnapshotError> {
        snapshot
            .check_caps(self.shared.max_records)
            .map_err(SnapshotError::Invalid)?;
        // Copied before the lock is taken, and the old state dropped after it is released.
        let mut organizations = snapshot.organizations_by_id();
        {
            let mut state = lock(&self.shared.state);
            snapshot.apply(&mut state, &mut organizations);
            self.shared.clock.set(snapshot.now());
        }
        drop(organizations);
        Ok(())
    }

    /// Returns to the state [`EmulatorBuilder::build`] made (its organizations, customers,
    /// clock, seed, behaviours, or its [`state`](EmulatorBuilder::state)), and clears the
    /// faults, the request journal and its counters.
    pub fn reset(&self) {
        let start = lock(&self.shared.start).clone();
        // The start state was this emulator's own: it fits its caps.
        let _ = self.restore(&start);
        self.clear_faults();
        self.clear_request_log();
    }

    /// The one-time passwords "sent by email", newest first: every organization's, or
    /// `organization`'s, and only `username`'s when given. Each organization keeps its latest
    /// 1000; those of a deleted or renamed credential's username are forgotten.
    pub fn outbox(
        &self,
        organization: Option<&str>,
        username: Option<&str>,
    ) -> Vec<SentOneTimePassword> {
        let state = lock(&self.shared.state);
        let mut sent: Vec<(u64, SentOneTimePassword)> = state
            .organizations
            .values()
            .filter(|org| organization.is_none_or(|o| o == org.id))
            .flat_map(|org| {
                org.outbox
                    .iter()
                    .filter(|s| username.is_none_or(|u| u == s.username))
                    .map(|s| {
                        (
                            s.seq,
                            SentOneTimePassword {
                                organization: org.id.clone(),
                                username: s.username.clone(),
                                customer_id: s.customer_id.clone(),
                                sent_time: s.sent_time,
                                one_time_password: s.one_time_password.clone(),
                            },
                        )
                    })
            })
            .collect();
        sent.sort_by_key(|(seq, _)| std::cmp::Reverse(*seq));
        sent.into_iter().map(|(_, s)| s).collect()
    }

    /// The emulated clock.
    pub fn clock(&self) -> &EmulatorClock {
        &self.shared.clock
    }

    /// A ready test client of `organization` on this emulator, in process: its secret key, no
    /// retries ([`RetryPolicy::none`]), the emulator's [clock](Self::clock), and an
    /// [`InstantSleep`] on it (a wait returns at once and moves the emulated time). Its
    /// timeouts are instant too: an answer that is not ready at once, such as one held back by
    /// [`Fault::Delay`], is a timeout for it; build a client with tokio's sleep for those.
    ///
    /// # Panics
    ///
    /// If the emulator has no such organization.
    ///
    /// ```
    /// use rebilly_auth_core::models::Login;
    /// use rebilly_auth_emulator::Emulator;
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let emulator = Emulator::builder().add_organization("org", "sk_test", None).build();
    /// let client = emulator.client("org");
    /// let refused = client.authentication_tokens().login(Login::password("ada", "pw")).await;
    /// assert_eq!(refused.unwrap_err().status(), Some(http::StatusCode::UNAUTHORIZED));
    /// # });
    /// ```
    pub fn client(&self, organization: &str) -> Client {
        let secret_key = lock(&self.shared.state)
            .organizations
            .get(organization)
            .map(|org| org.secret_key.clone())
            .unwrap_or_else(|| panic!("the emulator has no organization {organization:?}"));
        let clock = self.shared.clock.clone();
        let sleep = InstantSleep::new(clock.manual_clock().clone());
        Client::builder()
            .organization(organization)
            .secret_key(secret_key)
            .retry_policy(RetryPolicy::none())
            .sleep(Arc::new(sleep))
            .clock(Arc::new(clock))
            .transport(self.clone())
            .build()
            .expect("an organization id and a secret key are all a client needs")
    }

    /// The one-time password last "sent by email" to `username` in `organization`.
    pub fn last_otp(&self, organization: &str, username: &str) -> Option<String> {
        lock(&self.shared.state)
            .organizations
            .get(organization)?
            .last_otp(username)
            .map(|s| s.one_time_password.clone())
    }

    /// The HS256 key `organization`'s JWTs are signed with (for [`jwt::verify`]).
    pub fn jwt_signing_key(&self, organization: &str) -> Option<Vec<u8>> {
        Some(
            lock(&self.shared.state)
                .organizations
                .get(organization)?
                .jwt_key
                .clone(),
        )
    }

    /// Makes the next request matching `matcher` misbehave with a [`Fault`], or the next `n`
    /// with [`Fault::times`]. Rules apply in the order they were injected.
    ///
    /// ```
    /// use http::StatusCode;
    /// use rebilly_auth_core::OperationId;
    /// use rebilly_auth_emulator::{Emulator, Fault, RequestMatcher};
    ///
    /// let emulator = Emulator::builder().build();
    /// let login = RequestMatcher::operation(OperationId::PostAuthenticationToken);
    /// emulator.inject(login.clone(), Fault::DropAfterProcessing); // the next login only
    /// emulator.inject(login, Fault::Status(StatusCode::BAD_GATEWAY).times(3));
    /// assert_eq!(emulator.pending_faults(), 4);
    /// ```
    pub fn inject(&self, matcher: RequestMatcher, injection: impl Into<Injection>) {
        let Injection { fault, times } = injection.into();
        if times > 0 {
            lock(&self.shared.faults).push(faults::FaultRule {
                matcher,
                fault,
                remaining: times,
            });
        }
    }

    /// Removes every pending fault.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// How many injected faults are still pending.
    pub fn pending_faults(&self) -> usize {
        lock(&self.shared.faults).iter().map(|r| r.remaining).sum()
    }

    /// The latest requests seen, in order of completion: at most
    /// [`journal_capacity`](EmulatorBuilder::journal_capacity) of them (a ring buffer; the
    /// oldest are evicted first).
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        lock(&self.shared.journal).entries.iter().cloned().collect()
    }

    /// Forgets the request log and resets the counters of [`requests_seen`](Self::requests_seen)
    /// and [`executed`](Self::executed) (they count from the last clear).
    pub fn clear_request_log(&self) {
        let mut journal = lock(&self.shared.journal);
        journal.entries.clear();
        journal.counts.clear();
    }

    /// How many requests for `operation` the emulator saw (faulted ones included), since it
    /// was built or [`clear_request_log`](Self::clear_request_log) was called. Counted apart
    /// from the request log: evicting old log entries does not change it.
    pub fn requests_seen(&self, operation: OperationId) -> usize {
        lock(&self.shared.journal).counts(operation).seen
    }

    /// How many requests for `operation` the emulator executed against its state (same
    /// counting rules as [`requests_seen`](Self::requests_seen)).
    pub fn executed(&self, operation: OperationId) -> usize {
        lock(&self.shared.journal).counts(operation).executed
    }

    /// How many records of each kind `organization` stores right now, or `None` for an unknown
    /// organization. For tests of the emulator's memory bounds: expired authentication tokens
    /// and JWT sessions are purged by the next write to the organization (any non-GET request
    /// that passes authentication and the rate limit), reset-password tokens one day (emulated)
    /// after they stopped being pending; credentials are never purged.
    pub fn stored_records(&self, organization: &str) -> Option<RecordCounts> {
        let state = lock(&self.shared.state);
        let org = state.organizations.get(organization)?;
        Some(RecordCounts {
            credentials: org.credentials.len(),
            authentication_tokens: org.auth_tokens.len(),
            reset_password_tokens: org.reset_tokens.len(),
            sessions: org.sessions.len(),
        })
    }
}

mod builder;
mod dispatch;
mod journal;

pub use builder::EmulatorBuilder;
use dispatch::into_response;
use journal::Journal;
pub use journal::LoggedRequest;
