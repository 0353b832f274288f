//! [`EmulatorBuilder`]: organizations, customers, clock, limits and behaviours, set once.

use super::*;

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
    /// Adds an organization with its secret key and optional publishable key (as
    /// [`Emulator::add_organization`] does on a running emulator).
    pub fn add_organization(
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

    /// Seeds a customer of `organization` (added with [`add_organization`](Self::add_organization)).
    /// An organization with no seeded customer accepts any `customerId`; one with some
    /// refuses others with 422 and `invalidFields` (credential create and upsert,
    /// passwordless login). The same verb as [`Emulator::add_customer`](crate::Emulator::add_customer)
    /// on a running emulator.
    ///
    /// ```
    /// let emulator = rebilly_auth_emulator::Emulator::builder()
    ///     .add_organization("org", "sk_test", None)
    ///     .add_customer("org", "cus_ada")
    ///     .build();
    /// assert_eq!(emulator.customers("org"), ["cus_ada"]);
    /// ```
    pub fn add_customer(mut self, organization: impl Into<String>, id: impl Into<String>) -> Self {
        self.customers.push((organization.into(), id.into()));
        self
    }

    /// The former name of [`add_customer`](Self::add_customer).
    #[deprecated(
        since = "0.1.0",
        note = "renamed `add_customer`, the verb of `Emulator::add_customer`"
    )]
    pub fn customer(self, organization: impl Into<String>, id: impl Into<String>) -> Self {
        self.add_customer(organization, id)
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
    ///
    /// # Panics
    ///
    /// When the [`state`](Self::state) snapshot stores more records of one kind in an
    /// organization than [`max_records_per_kind`](Self::max_records_per_kind) allows;
    /// [`try_build`](Self::try_build) returns that error instead.
    pub fn build(self) -> Emulator {
        self.try_build()
            .unwrap_or_else(|error| panic!("EmulatorBuilder::build: {error}"))
    }

    /// Builds the emulator, or says why its [`state`](Self::state) snapshot cannot be
    /// restored (more records of one kind than
    /// [`max_records_per_kind`](Self::max_records_per_kind) allows).
    pub fn try_build(self) -> Result<Emulator, SnapshotError> {
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
            emulator.restore(snapshot)?;
        }
        for (id, secret, publishable) in self.organizations {
            emulator.add_organization(id, secret, publishable.as_deref());
        }
        for (organization, id) in self.customers {
            emulator.add_customer(&organization, id);
        }
        *lock(&emulator.shared.start) = emulator.snapshot();
        Ok(emulator)
    }
}
