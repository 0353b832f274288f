//! The emulator's in-memory state: organizations and their resources.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::behaviours::Behaviours;
use super::clock::saturating_add;

mod encoding;
mod password;

use encoding::{hash_hex, key_hex};
pub(crate) use encoding::{one_time_password, random_token, ulid};

pub use password::{
    MAX_PASSWORD_LENGTH, MAX_PASSWORD_PATTERN_LENGTH, PASSWORD_PATTERN_BACKTRACK_LIMIT,
};
pub(crate) use password::{
    PasswordCheck, PasswordPattern, PasswordVerdict, check_password, compile_password_pattern,
};

/// How many one-time passwords the outbox keeps per organization (the oldest go first).
pub(crate) const OUTBOX_CAPACITY: usize = 1000;

/// How long a reset-password token that is no longer pending (expired, or spent by a password
/// change) is remembered, so that `DELETE` can still tell it (409) from an unknown one (404).
pub(crate) const RESET_TOKEN_RETENTION: time::Duration = time::Duration::hours(24);

/// The kinds of records an organization stores, each capped separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Credential,
    AuthenticationToken,
    ResetPasswordToken,
    Session,
}

impl Kind {
    /// What the 429 calls it.
    pub(crate) fn plural(self) -> &'static str {
        match self {
            Kind::Credential => "credentials",
            Kind::AuthenticationToken => "authentication tokens",
            Kind::ResetPasswordToken => "reset-password tokens",
            Kind::Session => "JWT sessions",
        }
    }
}

/// Authentication options of one organization (the defaults are documented on the crate).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Options {
    pub(crate) password_pattern: Option<String>,
    #[serde(skip)]
    pub(crate) compiled: Option<PasswordPattern>,
    pub(crate) credential_ttl: i64,
    pub(crate) auth_token_ttl: i64,
    pub(crate) reset_token_ttl: i64,
    pub(crate) otp_required: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            password_pattern: None,
            compiled: None,
            credential_ttl: 0,
            auth_token_ttl: 3600,
            reset_token_ttl: 3600,
            otp_required: false,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CredentialRecord {
    pub(crate) seq: u64,
    pub(crate) id: String,
    pub(crate) username: String,
    #[serde(with = "hash_hex")]
    pub(crate) password_hash: [u8; 32],
    pub(crate) salt: u64,
    pub(crate) customer_id: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) expired_time: Option<OffsetDateTime>,
    /// Bumped on every password change; reset tokens issued before are spent.
    pub(crate) password_version: u64,
}

impl CredentialRecord {
    pub(crate) fn password_matches(&self, password: &str) -> bool {
        hash_password(self.salt, password) == self.password_hash
    }

    pub(crate) fn is_expired(&self, now: OffsetDateTime) -> bool {
        self.expired_time.is_some_and(|at| at <= now)
    }
}

pub(crate) fn hash_password(salt: u64, password: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(salt.to_be_bytes());
    hasher.update(password.as_bytes());
    hasher.finalize().into()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AuthTokenRecord {
    pub(crate) seq: u64,
    pub(crate) token: String,
    pub(crate) credential_id: String,
    pub(crate) username: String,
    pub(crate) customer_id: String,
    pub(crate) otp_required: bool,
    pub(crate) otp: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) expired_time: Option<OffsetDateTime>,
}

impl AuthTokenRecord {
    pub(crate) fn is_active(&self, now: OffsetDateTime) -> bool {
        self.expired_time.is_none_or(|at| at > now)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ResetTokenRecord {
    pub(crate) seq: u64,
    pub(crate) token: String,
    pub(crate) username: String,
    pub(crate) credential_id: String,
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) expired_time: Option<OffsetDateTime>,
    pub(crate) password_version: u64,
    /// When a password change spent it (`None` while its credential's password is unchanged).
    #[serde(with = "time::serde::rfc3339::option")]
    pub(crate) spent_at: Option<OffsetDateTime>,
}

impl ResetTokenRecord {
    /// When it may be forgotten: [`RESET_TOKEN_RETENTION`] after it stopped being pending.
    pub(crate) fn purge_at(&self) -> Option<OffsetDateTime> {
        let ended = match (self.expired_time, self.spent_at) {
            (Some(expired), Some(spent)) => Some(expired.min(spent)),
            (expired, spent) => expired.or(spent),
        };
        ended.map(|at| saturating_add(at, RESET_TOKEN_RETENTION))
    }
}

/// A JWT issued by exchange (its `jti` is the key it is stored under).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Session {
    pub(crate) customer_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) expired_time: OffsetDateTime,
    /// The operations its `acl` allows, when the exchange gave one (`None`: the default
    /// customer permissions). `*` allows every operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) permissions: Option<BTreeSet<String>>,
}

/// A one-time password "sent by email".
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SentOtp {
    pub(crate) username: String,
    pub(crate) customer_id: String,
    pub(crate) one_time_password: String,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) sent_time: OffsetDateTime,
    /// Orders the outbox (newest first).
    pub(crate) seq: u64,
}

/// One organization.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Organization {
    pub(crate) id: String,
    pub(crate) secret_key: String,
    pub(crate) publishable_key: Option<String>,
    #[serde(with = "key_hex")]
    pub(crate) jwt_key: Vec<u8>,
    pub(crate) options: Options,
    /// The customers the emulator knows; empty: any `customerId` is accepted.
    #[serde(default)]
    pub(crate) customers: BTreeSet<String>,
    #[serde(default)]
    pub(crate) credentials: HashMap<String, CredentialRecord>,
    #[serde(default)]
    pub(crate) auth_tokens: HashMap<String, AuthTokenRecord>,
    #[serde(default)]
    pub(crate) reset_tokens: HashMap<String, ResetTokenRecord>,
    #[serde(default)]
    pub(crate) sessions: HashMap<String, Session>,
    /// The one-time passwords "sent by email", oldest first (at most [`OUTBOX_CAPACITY`]).
    #[serde(default)]
    pub(crate) outbox: VecDeque<SentOtp>,
    #[serde(with = "time::serde::rfc3339")]
    pub(crate) rate_window_start: OffsetDateTime,
    #[serde(default)]
    pub(crate) rate_used: u64,
    /// The earliest time a stored record may be purged (`None`: nothing will ever be).
    #[serde(skip)]
    next_purge: Option<OffsetDateTime>,
}

impl Organization {
    pub(crate) fn new(
        id: String,
        secret_key: String,
        publishable_key: Option<String>,
        now: OffsetDateTime,
        rng: &mut fastrand::Rng,
    ) -> Self {
        let jwt_key = (0..32).map(|_| rng.u8(..)).collect();
        Self {
            id,
            secret_key,
            publishable_key,
            jwt_key,
            options: Options::default(),
            customers: BTreeSet::new(),
            credentials: HashMap::new(),
            auth_tokens: HashMap::new(),
            reset_tokens: HashMap::new(),
            sessions: HashMap::new(),
            outbox: VecDeque::new(),
            rate_window_start: now,
            rate_used: 0,
            next_purge: None,
        }
    }

    /// Whether `customer_id` may be used: any, when no customer was seeded.
    pub(crate) fn knows_customer(&self, customer_id: &str) -> bool {
        self.customers.is_empty() || self.customers.contains(customer_id)
    }

    /// "Sends" a one-time password by email: into the outbox (bounded, oldest dropped).
    pub(crate) fn send_otp(&mut self, entry: SentOtp) {
        while self.outbox.len() >= OUTBOX_CAPACITY {
            self.outbox.pop_front();
        }
        self.outbox.push_back(entry);
    }

    /// The newest one-time password sent to `username`.
    pub(crate) fn last_otp(&self, username: &str) -> Option<&SentOtp> {
        self.outbox.iter().rev().find(|s| s.username == username)
    }

    /// Forgets the one-time passwords sent to `username` (its credential is gone or renamed).
    pub(crate) fn forget_otps(&mut self, username: &str) {
        self.outbox.retain(|s| s.username != username);
    }

    /// After a restore: rebuilds what is derived (compiled pattern, keys of the maps, the purge
    /// schedule). `Err` names what is invalid.
    pub(crate) fn rebuild(&mut self) -> Result<(), String> {
        if let Some(pattern) = &self.options.password_pattern {
            self.options.compiled = Some(
                compile_password_pattern(pattern).map_err(|e| format!("passwordPattern {e}"))?,
            );
        }
        let max = super::MAX_TTL_SECONDS;
        for (name, ttl) in [
            ("credentialTtl", self.options.credential_ttl),
            ("authTokenTtl", self.options.auth_token_ttl),
            ("resetTokenTtl", self.options.reset_token_ttl),
        ] {
            if !(0..=max).contains(&ttl) {
                return Err(format!("{name} must be from 0 to {max}"));
            }
        }
        // Re-keyed by what they claim; two records claiming one key are refused (whichever
        // survived would change from one restore to the next).
        self.credentials = rekey(
            std::mem::take(&mut self.credentials),
            "credential id",
            |c| &c.id,
        )?;
        self.auth_tokens = rekey(
            std::mem::take(&mut self.auth_tokens),
            "authentication token",
            |t| &t.token,
        )?;
        self.reset_tokens = rekey(
            std::mem::take(&mut self.reset_tokens),
            "reset-password token",
            |t| &t.token,
        )?;
        let mut usernames = BTreeSet::new();
        if let Some(c) = self
            .credentials
            .values()
            .find(|c| !usernames.insert(c.username.as_str()))
        {
            return Err(format!(
                "two credentials have the username {:?} (it must be unique in an organization)",
                c.username
            ));
        }
        while self.outbox.len() > OUTBOX_CAPACITY {
            self.outbox.pop_front();
        }
        let next = self
            .auth_tokens
            .values()
            .filter_map(|t| t.expired_time)
            .chain(self.sessions.values().map(|s| s.expired_time))
            .chain(
                self.reset_tokens
                    .values()
                    .filter_map(ResetTokenRecord::purge_at),
            )
            .min();
        self.next_purge = next;
        Ok(())
    }

    /// `Err` naming the first kind of record of which more than `cap` are stored.
    pub(crate) fn check_caps(&self, cap: usize) -> Result<(), String> {
        for kind in [
            Kind::Credential,
            Kind::AuthenticationToken,
            Kind::ResetPasswordToken,
            Kind::Session,
        ] {
            if self.count(kind) > cap {
                return Err(format!(
                    "organization {:?} stores {} {}, more than the emulator's maximum of {cap}",
                    self.id,
                    self.count(kind),
                    kind.plural()
                ));
            }
        }
        Ok(())
    }

    /// How many records of `kind` are stored (expired ones not yet purged included).
    pub(crate) fn count(&self, kind: Kind) -> usize {
        match kind {
            Kind::Credential => self.credentials.len(),
            Kind::AuthenticationToken => self.auth_tokens.len(),
            Kind::ResetPasswordToken => self.reset_tokens.len(),
            Kind::Session => self.sessions.len(),
        }
    }

    /// Notes that a record just stored (or changed) may be purged from `at` on.
    pub(crate) fn schedule_purge(&mut self, at: Option<OffsetDateTime>) {
        if let Some(at) = at {
            self.next_purge = Some(self.next_purge.map_or(at, |next| next.min(at)));
        }
    }

    /// Purges what is due, if anything is: authentication tokens and JWT sessions once they
    /// expired, reset-password tokens [`RESET_TOKEN_RETENTION`] after they stopped being
    /// pending. Constant time when nothing is due.
    pub(crate) fn purge_due(&mut self, now: OffsetDateTime) {
        if self.next_purge.is_some_and(|at| at <= now) {
            self.purge(now, false);
        }
    }

    /// Purges expired records; with `eager`, also every reset-password token that is no
    /// longer pending, however recently it stopped being.
    fn purge(&mut self, now: OffsetDateTime, eager: bool) {
        let Self {
            credentials,
            auth_tokens,
            reset_tokens,
            sessions,
            ..
        } = self;
        auth_tokens.retain(|_, t| t.is_active(now));
        sessions.retain(|_, s| s.expired_time > now);
        reset_tokens.retain(|_, t| {
            if eager {
                token_is_pending(credentials, t, now)
            } else {
                t.purge_at().is_none_or(|at| at > now)
            }
        });
        let next = auth_tokens
            .values()
            .filter_map(|t| t.expired_time)
            .chain(sessions.values().map(|s| s.expired_time))
            .chain(reset_tokens.values().filter_map(ResetTokenRecord::purge_at))
            .min();
        self.next_purge = next;
    }

    /// Whether one more record of `kind` fits under `cap`; at the cap, first purges every
    /// expired record (and every reset-password token that is no longer pending).
    pub(crate) fn make_room(&mut self, kind: Kind, now: OffsetDateTime, cap: usize) -> bool {
        if self.count(kind) < cap {
            return true;
        }
        self.purge(now, true);
        self.count(kind) < cap
    }

    /// A password change spent the pending reset-password tokens of `credential_id`.
    pub(crate) fn spend_reset_tokens(&mut self, credential_id: &str, now: OffsetDateTime) {
        let mut earliest: Option<OffsetDateTime> = None;
        for token in self.reset_tokens.values_mut() {
            if token.credential_id == credential_id && token.spent_at.is_none() {
                token.spent_at = Some(now);
                if let Some(at) = token.purge_at() {
                    earliest = Some(earliest.map_or(at, |e| e.min(at)));
                }
            }
        }
        self.schedule_purge(earliest);
    }

    pub(crate) fn credential_by_username(&self, username: &str) -> Option<&CredentialRecord> {
        self.credentials.values().find(|c| c.username == username)
    }

    pub(crate) fn reset_token_is_pending(
        &self,
        token: &ResetTokenRecord,
        now: OffsetDateTime,
    ) -> bool {
        token_is_pending(&self.credentials, token, now)
    }
}

/// `records` keyed by `key_of` each; `Err` when two claim the same key.
fn rekey<T>(
    records: HashMap<String, T>,
    what: &str,
    key_of: impl Fn(&T) -> &String,
) -> Result<HashMap<String, T>, String> {
    let mut out = HashMap::with_capacity(records.len());
    for record in records.into_values() {
        let key = key_of(&record).clone();
        if out.insert(key, record).is_some() {
            // The value may be a secret (a token): name the kind only.
            return Err(format!("two records claim the same {what}"));
        }
    }
    Ok(out)
}

fn token_is_pending(
    credentials: &HashMap<String, CredentialRecord>,
    token: &ResetTokenRecord,
    now: OffsetDateTime,
) -> bool {
    token.expired_time.is_none_or(|at| at > now)
        && credentials
            .get(&token.credential_id)
            .is_some_and(|c| c.password_version == token.password_version)
}

/// Every organization, by id; `seq` orders resources by creation; `rng` makes every id,
/// token, key and one-time password (seeded: reproducible).
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) organizations: BTreeMap<String, Organization>,
    pub(crate) seq: u64,
    pub(crate) rng: fastrand::Rng,
    pub(crate) behaviours: Behaviours,
}

impl State {
    pub(crate) fn new(seed: Option<u64>, behaviours: Behaviours) -> Self {
        Self {
            organizations: BTreeMap::new(),
            seq: 0,
            rng: seed.map_or_else(fastrand::Rng::new, fastrand::Rng::with_seed),
            behaviours,
        }
    }
}
