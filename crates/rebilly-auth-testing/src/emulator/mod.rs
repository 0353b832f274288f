//! [`Emulator`]: a stateful, in-memory Rebilly Customer Authentication API.
//!
//! It implements core's [`HttpTransport`] in process (no sockets) and serves the very same
//! request handler over loopback HTTP ([`Emulator::serve_on_loopback`]). Clones share state.
//! See the crate documentation for the behaviour the spec leaves open and what the emulator
//! chose.
//!
//! ```
//! use rebilly_auth_core::{Client, models::credential::NewCredential, models::token::Login};
//! use rebilly_auth_testing::emulator::Emulator;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let emulator = Emulator::builder().organization("org", "sk_test", Some("pk_test")).build();
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

mod auth;
pub mod behaviours;
pub mod clock;
pub mod control;
mod cors;
pub mod faults;
mod handlers;
pub mod jwt;
pub mod routes;
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
use rebilly_auth_core::{BodyLimit, HttpTransport, OperationId, TransportError};
use time::OffsetDateTime;

pub use behaviours::{
    Behaviours, ErrorContentType, NullExpiredTime, OptionsUpdate, Pagination, WrongPassword,
};
pub use clock::EmulatorClock;
pub use control::ControlApi;
pub use faults::{Fault, RequestMatcher};
pub use server::{ServeOptions, ServerHandle};
pub use snapshot::{Snapshot, SnapshotError};

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

/// One request the emulator saw.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoggedRequest {
    /// The method.
    pub method: Method,
    /// The operation, if the method and path named one of the API's.
    pub operation: Option<OperationId>,
    /// The route template the path matched, if any (also set for a method the route does not
    /// serve, which has no operation).
    pub route: Option<&'static str>,
    /// The organization of the path (or the `Organization-Id` header).
    pub organization: Option<String>,
    /// The injected fault, if any.
    pub fault: Option<Fault>,
    /// Whether the emulator ran the operation against its state.
    pub executed: bool,
    /// The status sent, if a response head was sent.
    pub status: Option<u16>,
    /// When it arrived, on the emulator's clock.
    pub time: OffsetDateTime,
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

/// Per-operation counts, kept apart from the journal and never evicted.
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    seen: usize,
    executed: usize,
}

/// The request journal (a ring buffer of the latest requests) and the per-operation counters.
#[derive(Debug)]
struct Journal {
    entries: VecDeque<LoggedRequest>,
    capacity: usize,
    counts: HashMap<OperationId, Counts>,
}

impl Journal {
    fn new(capacity: usize) -> Self {
        Self {
            entries: VecDeque::with_capacity(capacity.min(1024)),
            capacity,
            counts: HashMap::new(),
        }
    }

    fn record(&mut self, entry: LoggedRequest) {
        // Only the API's 16 operations are counted, so invented methods or paths cannot grow
        // the map.
        if let Some(operation) = entry.operation {
            let counts = self.counts.entry(operation).or_default();
            counts.seen = counts.seen.saturating_add(1);
            if entry.executed {
                counts.executed = counts.executed.saturating_add(1);
            }
        }
        if self.capacity == 0 {
            return;
        }
        while self.entries.len() >= self.capacity {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
    }

    fn counts(&self, operation: OperationId) -> Counts {
        self.counts.get(&operation).copied().unwrap_or_default()
    }
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

/// Builds an [`Emulator`].
#[derive(Default)]
#[must_use]
pub struct EmulatorBuilder {
    organizations: Vec<(String, String, Option<String>)>,
    customers: Vec<(String, String)>,
    start: Option<OffsetDateTime>,
    rate_limit: Option<u64>,
    max_records: Option<usize>,
    journal_capacity: Option<usize>,
    seed: Option<u64>,
    behaviours: Behaviours,
    control: Option<ControlApi>,
    cors_origins: Vec<String>,
    state: Option<Snapshot>,
}

impl fmt::Debug for EmulatorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<&str> = self.organizations.iter().map(|o| o.0.as_str()).collect();
        f.debug_struct("EmulatorBuilder")
            .field("organizations", &ids)
            .field("start", &self.start)
            .field("seed", &self.seed)
            .field("behaviours", &self.behaviours)
            .field("control", &self.control)
            .field("cors_origins", &self.cors_origins)
            .finish_non_exhaustive()
    }
}

impl EmulatorBuilder {
    /// Adds an organization with its secret key and optional publishable key.
    pub fn organization(
        mut self,
        id: impl Into<String>,
        secret_key: impl Into<String>,
        publishable_key: Option<&str>,
    ) -> Self {
        self.organizations.push((
            id.into(),
            secret_key.into(),
            publishable_key.map(str::to_owned),
        ));
        self
    }

    /// The clock's starting time (default: now, whole seconds).
    pub fn start_time(mut self, at: OffsetDateTime) -> Self {
        self.start = Some(at);
        self
    }

    /// Non-GET requests allowed per organization per 10 minutes of emulated time (default
    /// [`DEFAULT_RATE_LIMIT`]); past it the emulator answers a real 429.
    pub fn rate_limit(mut self, per_window: u64) -> Self {
        self.rate_limit = Some(per_window);
        self
    }

    /// The most records of each kind one organization may store (default
    /// [`DEFAULT_MAX_RECORDS_PER_KIND`]): credentials, authentication tokens, reset-password
    /// tokens and JWT sessions are capped separately. A write that would store one more answers
    /// 429 with a problem body, after the emulator purged what had expired.
    pub fn max_records_per_kind(mut self, max: usize) -> Self {
        self.max_records = Some(max);
        self
    }

    /// How many of the latest requests [`Emulator::request_log`] keeps (default
    /// [`DEFAULT_JOURNAL_CAPACITY`]; 0 keeps none). Older entries are evicted; the counters of
    /// [`Emulator::requests_seen`] and [`Emulator::executed`] are kept apart and never evicted.
    pub fn journal_capacity(mut self, entries: usize) -> Self {
        self.journal_capacity = Some(entries);
        self
    }

    /// Seeds the generator of ids, tokens, signing keys and one-time passwords, so that the
    /// same requests in the same order get the same values (ids also carry the clock's time:
    /// fix it with [`start_time`](Self::start_time) too). Default: a random seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// The switchable behaviours (default: the most likely live behaviour of each; see
    /// [`Behaviours`]).
    pub fn behaviours(mut self, behaviours: Behaviours) -> Self {
        self.behaviours = behaviours;
        self
    }

    /// Seeds a customer of `organization` (added with [`organization`](Self::organization)).
    /// An organization with no seeded customer accepts any `customerId`; one with some
    /// refuses others with 422 and `invalidFields` (credential create and upsert,
    /// passwordless login).
    pub fn customer(mut self, organization: impl Into<String>, id: impl Into<String>) -> Self {
        self.customers.push((organization.into(), id.into()));
        self
    }

    /// Serves the control API under `/__emulator/` on both faces (off by default); see
    /// [`control`] for its endpoints and security rules.
    pub fn control_api(mut self, control: ControlApi) -> Self {
        self.control = Some(control);
        self
    }

    /// Allows browser pages of `origin` (such as `http://localhost:3000`) to call the 16 API
    /// routes: their `OPTIONS` preflights get an answer and API answers carry CORS headers
    /// for them. Repeatable. The control API never sends CORS headers.
    pub fn cors_origin(mut self, origin: impl Into<String>) -> Self {
        self.cors_origins.push(origin.into());
        self
    }

    /// Starts from a saved state ([`Emulator::snapshot`], or a JSON file read with
    /// [`Snapshot::from_json`]) instead of the organizations given here; its clock, seed and
    /// behaviours win over [`start_time`](Self::start_time), [`seed`](Self::seed) and
    /// [`behaviours`](Self::behaviours). Organizations and customers given to this builder
    /// are added to it.
    pub fn state(mut self, snapshot: Snapshot) -> Self {
        self.state = Some(snapshot);
        self
    }

    /// Builds the emulator. [`Emulator::reset`] returns to what this builds.
    pub fn build(self) -> Emulator {
        let clock = EmulatorClock::starting_at(self.start.unwrap_or_else(clock::system_now));
        let state = State::new(self.seed, self.behaviours);
        let emulator = Emulator {
            shared: Arc::new(Shared {
                state: Mutex::new(state),
                clock,
                faults: Mutex::new(Vec::new()),
                journal: Mutex::new(Journal::new(
                    self.journal_capacity.unwrap_or(DEFAULT_JOURNAL_CAPACITY),
                )),
                rate_limit: self.rate_limit.unwrap_or(DEFAULT_RATE_LIMIT),
                max_records: self.max_records.unwrap_or(DEFAULT_MAX_RECORDS_PER_KIND),
                control: self.control,
                cors_origins: self.cors_origins,
                start: Mutex::new(Snapshot::empty()),
            }),
        };
        if let Some(snapshot) = &self.state {
            emulator.restore(snapshot);
        }
        for (id, secret, publishable) in self.organizations {
            emulator.add_organization(id, secret, publishable.as_deref());
        }
        for (organization, id) in self.customers {
            emulator.add_customer(&organization, id);
        }
        *lock(&emulator.shared.start) = emulator.snapshot();
        emulator
    }
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
    /// [`EmulatorBuilder::customer`].
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
    pub fn restore(&self, snapshot: &Snapshot) {
        let mut state = lock(&self.shared.state);
        snapshot.apply(&mut state);
        self.shared.clock.set(snapshot.now());
    }

    /// Returns to the state [`EmulatorBuilder::build`] made (its organizations, customers,
    /// clock, seed, behaviours, or its [`state`](EmulatorBuilder::state)), and clears the
    /// faults, the request journal and its counters.
    pub fn reset(&self) {
        let start = lock(&self.shared.start).clone();
        self.restore(&start);
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

    /// Makes the next `times` requests matching `matcher` misbehave with `fault`. Rules apply
    /// in the order they were injected.
    pub fn inject(&self, matcher: RequestMatcher, fault: Fault, times: usize) {
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

    /// Records a request the HTTP face refused before the handler saw it (e.g. 413).
    pub(crate) fn record_refused(&self, parts: &http::request::Parts, status: StatusCode) {
        if control::is_control_path(parts.uri.path()) {
            return;
        }
        let parsed = routes::parse(&parts.method, parts.uri.path());
        let entry = LoggedRequest {
            method: parts.method.clone(),
            operation: parsed.as_ref().and_then(|p| p.operation),
            route: parsed.as_ref().map(|p| p.template),
            organization: parsed.and_then(|p| p.organization),
            fault: None,
            executed: false,
            status: Some(status.as_u16()),
            time: self.shared.clock.now(),
        };
        lock(&self.shared.journal).record(entry);
    }

    /// The shared request handler of both faces: the control API under `/__emulator/`, then
    /// the API's 16 routes (with `OPTIONS` preflights, `HEAD`, and CORS headers for allowed
    /// origins).
    pub(crate) async fn process(&self, request: http::Request<Bytes>) -> Outcome {
        if control::is_control_path(request.uri().path()) {
            return Outcome::Reply(control::handle(self, &request));
        }
        let (mut parts, body) = request.into_parts();
        let method = parts.method.clone();
        let behaviours = lock(&self.shared.state).behaviours;
        let origin = cors::allowed_origin(&self.shared.cors_origins, &parts.headers);
        let cors_on = !self.shared.cors_origins.is_empty();
        let mut parsed = routes::parse(&method, parts.uri.path());
        if method == Method::OPTIONS
            && let Some(route) = &parsed
        {
            // Preflights are answered before authentication: browsers send no credentials.
            let reply = cors::preflight(route.template, origin.as_ref());
            lock(&self.shared.journal).record(LoggedRequest {
                method,
                operation: None,
                route: Some(route.template),
                organization: route.organization.clone(),
                fault: None,
                executed: false,
                status: Some(reply.status.as_u16()),
                time: self.shared.clock.now(),
            });
            return Outcome::Reply(reply);
        }
        if method == Method::HEAD
            && let Some(route) = &mut parsed
            && let Some(get) = OperationId::from_route(&Method::GET, route.template)
        {
            // HEAD is answered like GET; each face drops the body.
            route.operation = Some(get);
            parts.method = Method::GET;
        }
        let operation = parsed.as_ref().and_then(|p| p.operation);
        let mut fault = faults::take(&mut lock(&self.shared.faults), &method, operation);
        let mut entry = LoggedRequest {
            method: method.clone(),
            operation,
            route: parsed.as_ref().map(|p| p.template),
            organization: None,
            fault: fault.clone(),
            executed: false,
            status: None,
            time: self.shared.clock.now(),
        };
        if let Some(Fault::Delay(by)) = fault {
            tokio::time::sleep(by).await;
            fault = None;
        }
        let organization_of_path = parsed.as_ref().and_then(|p| p.organization.clone());
        let mut outcome = match &fault {
            Some(Fault::Status(status)) => Outcome::Reply(Reply::problem(
                *status,
                "injected by the emulator's fault injection",
            )),
            Some(Fault::RateLimited { retry_after }) => {
                let at = clock::saturating_add_std(self.shared.clock.now(), *retry_after);
                let seconds = retry_after.as_secs_f64().ceil() as u64;
                Outcome::Reply(
                    Reply::problem(
                        StatusCode::TOO_MANY_REQUESTS,
                        "A request cannot be executed because the user has sent too many requests within a certain period of time",
                    )
                    .with_header("retry-after", &seconds.to_string())
                    .with_header("x-ratelimit-retry-after", &at.unix_timestamp().to_string()),
                )
            }
            Some(Fault::DropBeforeProcessing) => Outcome::Drop,
            _ => {
                // A bug must not take the connection (or the caller's thread) down with it: a
                // panic becomes a 500 problem (the panic hook still reports it).
                let (reply, organization, executed) =
                    std::panic::catch_unwind(AssertUnwindSafe(|| {
                        self.execute(&parts, parsed, &body)
                    }))
                    .unwrap_or_else(|_| {
                        (
                            Reply::problem(
                                StatusCode::INTERNAL_SERVER_ERROR,
                                "the emulator failed on this request (a bug in the emulator)",
                            ),
                            None,
                            true,
                        )
                    });
                entry.organization = organization;
                entry.executed = executed;
                apply_fault(fault.as_ref(), reply)
            }
        };
        if entry.organization.is_none() {
            entry.organization = organization_of_path;
        }
        if let Outcome::Reply(reply) | Outcome::Truncated(reply) = &mut outcome {
            handlers::apply_error_content_type(reply, behaviours);
            if cors_on {
                cors::decorate(reply, origin.as_ref());
            }
        }
        entry.status = match &outcome {
            Outcome::Reply(reply) | Outcome::Truncated(reply) => Some(reply.status.as_u16()),
            Outcome::Drop => None,
        };
        lock(&self.shared.journal).record(entry);
        outcome
    }

    /// Authenticates, rate-limits and runs the operation; returns the reply, the
    /// organization, and whether the state handler ran.
    fn execute(
        &self,
        parts: &http::request::Parts,
        parsed: Option<routes::Parsed>,
        body: &[u8],
    ) -> (Reply, Option<String>, bool) {
        let Some(parsed) = parsed else {
            return (
                Reply::problem(StatusCode::NOT_FOUND, "no such route"),
                None,
                false,
            );
        };
        let organization = parsed.organization.clone().or_else(|| {
            parts
                .headers
                .get("organization-id")
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().to_owned())
        });
        let Some(organization) = organization else {
            return (
                Reply::problem(
                    StatusCode::NOT_FOUND,
                    "the path must start with /organizations/{organizationId}",
                ),
                None,
                false,
            );
        };
        let now = self.shared.clock.now();
        let base = base_url(parts);
        let mut guard = lock(&self.shared.state);
        let State {
            organizations,
            seq,
            rng,
            behaviours,
        } = &mut *guard;
        let Some(org) = organizations.get_mut(&organization) else {
            return (
                Reply::problem(StatusCode::UNAUTHORIZED, "invalid credentials were used"),
                Some(organization),
                false,
            );
        };
        let caller = match auth::authenticate(org, &parts.headers, now) {
            Ok(caller) => caller,
            Err(detail) => {
                return (
                    Reply::problem(StatusCode::UNAUTHORIZED, detail),
                    Some(organization),
                    false,
                );
            }
        };
        let Some(operation) = parsed.operation else {
            return (
                handlers::method_not_allowed(parsed.template),
                Some(organization),
                false,
            );
        };
        if let Err((status, detail)) = auth::permit(&caller, operation) {
            return (Reply::problem(status, detail), Some(organization), false);
        }
        let limited = parts.method != Method::GET;
        if limited {
            if now >= clock::saturating_add(org.rate_window_start, RATE_WINDOW) {
                org.rate_window_start = now;
                org.rate_used = 0;
            }
            if org.rate_used >= self.shared.rate_limit {
                let reset = clock::saturating_add(org.rate_window_start, RATE_WINDOW);
                let reply = Reply::problem(
                    StatusCode::TOO_MANY_REQUESTS,
                    "A request cannot be executed because the user has sent too many requests within a certain period of time",
                )
                .with_header("x-ratelimit-retry-after", &reset.unix_timestamp().to_string())
                .with_header("retry-after", &(reset - now).whole_seconds().max(1).to_string());
                return (reply, Some(organization), false);
            }
            org.rate_used = org.rate_used.saturating_add(1);
            // Writes purge what expired: memory stays bounded however long the emulator runs.
            org.purge_due(now);
        }
        let mut ctx = Ctx {
            operation,
            param: parsed.param.as_deref(),
            query: parts.uri.query(),
            body,
            org,
            caller,
            now,
            base: &base,
            seq,
            rng,
            behaviours: *behaviours,
            max_records: self.shared.max_records,
        };
        let mut reply = handlers::dispatch(&mut ctx);
        if limited && reply.status.is_success() {
            let remaining = self.shared.rate_limit.saturating_sub(ctx.org.rate_used);
            reply = reply
                .with_header("x-ratelimit-limit", &self.shared.rate_limit.to_string())
                .with_header("x-ratelimit-remaining", &remaining.to_string());
        }
        (reply, Some(organization), true)
    }
}

/// `scheme://authority` of the request (absolute URI, else `Host`, else `http://localhost`).
fn base_url(parts: &http::request::Parts) -> String {
    if let (Some(scheme), Some(authority)) = (parts.uri.scheme_str(), parts.uri.authority()) {
        return format!("{scheme}://{authority}");
    }
    match parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
    {
        Some(host) if !host.is_empty() => format!("http://{host}"),
        _ => "http://localhost".into(),
    }
}

/// Applies a fault that acts after execution.
fn apply_fault(fault: Option<&Fault>, mut reply: Reply) -> Outcome {
    match fault {
        None | Some(Fault::Delay(_)) => Outcome::Reply(reply),
        Some(Fault::StatusAfterProcessing(status)) => Outcome::Reply(Reply::problem(
            *status,
            "injected by the emulator's fault injection (after processing)",
        )),
        Some(Fault::DropAfterProcessing) => Outcome::Drop,
        Some(Fault::TruncatedBody) => Outcome::Truncated(reply),
        Some(Fault::MalformedJson) => {
            reply.body = Bytes::from_static(b"{\"username\": \"ada\", \"token\": ");
            Outcome::Reply(reply)
        }
        Some(Fault::WrongContentType) => {
            reply.headers.insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            reply.body = Bytes::from_static(b"<html><body><h1>502 Bad Gateway</h1></body></html>");
            Outcome::Reply(reply)
        }
        Some(Fault::EmptyBody) => {
            reply.status = StatusCode::OK;
            reply.body = Bytes::new();
            Outcome::Reply(reply)
        }
        Some(Fault::OversizedBody(size)) => {
            let size = *size;
            let mut body = Vec::with_capacity(size);
            if reply.body.first() == Some(&b'{') && size > reply.body.len() + 16 {
                // `{"padding":"xxx…", <original members>}` keeps it valid JSON.
                body.extend_from_slice(b"{\"padding\":\"");
                let pad = size - reply.body.len() - 13;
                body.resize(body.len() + pad, b'x');
                body.extend_from_slice(b"\",");
                body.extend_from_slice(&reply.body[1..]);
            } else {
                body.extend_from_slice(&reply.body);
                body.resize(size.max(body.len()), b' ');
            }
            reply.body = Bytes::from(body);
            Outcome::Reply(reply)
        }
        Some(Fault::Status(_) | Fault::RateLimited { .. } | Fault::DropBeforeProcessing) => {
            Outcome::Reply(reply)
        }
    }
}

pub(crate) fn into_response(reply: Reply) -> http::Response<Bytes> {
    let mut response = http::Response::new(reply.body);
    *response.status_mut() = reply.status;
    *response.headers_mut() = reply.headers;
    response
}

#[async_trait]
impl HttpTransport for Emulator {
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        let limit = BodyLimit::of(&request);
        let head = request.method() == Method::HEAD;
        match self.process(request).await {
            Outcome::Reply(mut reply) => {
                if head {
                    // Like an HTTP server: the GET answer's length, no body.
                    let length = reply.body.len().to_string();
                    reply.body = Bytes::new();
                    reply = reply.with_header("content-length", &length);
                }
                if reply.body.len() > limit {
                    return Err(TransportError::body_too_large(limit));
                }
                Ok(into_response(reply))
            }
            Outcome::Drop => Err(TransportError::io(
                "the emulator closed the connection before the response head",
            )),
            Outcome::Truncated(_) => Err(TransportError::body(
                "the emulator closed the connection in the middle of the body",
            )),
        }
    }
}
