//! The emulator's in-memory state: organizations and their resources.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::behaviours::Behaviours;
use super::clock::saturating_add;

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
    pub(crate) compiled: Option<fancy_regex::Regex>,
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
        self.credentials = std::mem::take(&mut self.credentials)
            .into_values()
            .map(|c| (c.id.clone(), c))
            .collect();
        self.auth_tokens = std::mem::take(&mut self.auth_tokens)
            .into_values()
            .map(|t| (t.token.clone(), t))
            .collect();
        self.reset_tokens = std::mem::take(&mut self.reset_tokens)
            .into_values()
            .map(|t| (t.token.clone(), t))
            .collect();
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

/// `[u8; 32]` as 64 hex characters.
mod hash_hex {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::to_hex(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(d)?;
        super::from_hex(&text)
            .and_then(|v| <[u8; 32]>::try_from(v).ok())
            .ok_or_else(|| D::Error::custom("expected 64 hex characters"))
    }
}

/// A key as hex (1 to 1024 bytes).
mod key_hex {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::to_hex(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        super::from_hex(&text)
            .filter(|v| (1..=1024).contains(&v.len()))
            .ok_or_else(|| D::Error::custom("expected 2 to 2048 hex characters"))
    }
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A ULID-like id (26 Crockford base32 characters: 48 bits of milliseconds, 80 random bits)
/// with `prefix`, like the live API's `cus_crd_0YV9Y706QGCB39FQD380G1ZHZH`.
pub(crate) fn ulid(prefix: &str, now: OffsetDateTime, rng: &mut fastrand::Rng) -> String {
    let millis = (now.unix_timestamp_nanos() / 1_000_000).max(0) as u128 & ((1 << 48) - 1);
    let random = rng.u128(..) & ((1 << 80) - 1);
    let value = (millis << 80) | random;
    let mut out = String::with_capacity(prefix.len() + 26);
    out.push_str(prefix);
    for i in (0..26).rev() {
        let index = ((value >> (i * 5)) & 0x1f) as usize;
        out.push(CROCKFORD[index] as char);
    }
    out
}

/// An opaque random token: 40 lower-case hex characters.
pub(crate) fn random_token(rng: &mut fastrand::Rng) -> String {
    (0..20).map(|_| format!("{:02x}", rng.u8(..))).collect()
}

/// A 6-digit one-time password.
pub(crate) fn one_time_password(rng: &mut fastrand::Rng) -> String {
    format!("{:06}", rng.u32(0..1_000_000))
}

/// Compiles a JS-style `/pattern/flags` literal (or a bare pattern) with `fancy-regex`.
/// Flags `i`, `m`, `s` map to inline flags; `g` and `u` are ignored; others are refused.
pub(crate) fn compile_password_pattern(pattern: &str) -> Result<fancy_regex::Regex, String> {
    let (body, flags) = match pattern
        .strip_prefix('/')
        .and_then(|rest| rest.rsplit_once('/'))
    {
        Some((body, flags)) => (body, flags),
        None => (pattern, ""),
    };
    let mut inline = String::new();
    for flag in flags.chars() {
        match flag {
            'i' | 'm' | 's' => inline.push(flag),
            'g' | 'u' => {}
            other => {
                return Err(format!(
                    "the regular-expression flag `{other}` is not supported"
                ));
            }
        }
    }
    let source = if inline.is_empty() {
        body.to_owned()
    } else {
        format!("(?{inline}){body}")
    };
    fancy_regex::Regex::new(&source)
        .map_err(|e| format!("is not a supported regular expression: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_patterns() {
        let mut rng = fastrand::Rng::with_seed(7);
        let id = ulid("cus_crd_", OffsetDateTime::now_utc(), &mut rng);
        assert_eq!(id.len(), 8 + 26);
        assert!(id.len() <= 50);
        assert_eq!(random_token(&mut rng).len(), 40);
        assert_eq!(one_time_password(&mut rng).len(), 6);
        assert_eq!(from_hex(&to_hex(&[0, 255, 16])), Some(vec![0, 255, 16]));
        assert_eq!(from_hex("0g"), None);
        assert_eq!(from_hex("abc"), None);
        let re = compile_password_pattern("/^(?=.*[A-Z])(?=.*\\d).{8,}$/").unwrap();
        assert!(re.is_match("Password1").unwrap());
        assert!(!re.is_match("password1").unwrap());
        let re = compile_password_pattern("/^abc$/i").unwrap();
        assert!(re.is_match("ABC").unwrap());
        assert!(compile_password_pattern("/x/y").is_err());
        assert!(compile_password_pattern("/(/").is_err());
        assert!(
            compile_password_pattern("^[0-9]+$")
                .unwrap()
                .is_match("12")
                .unwrap()
        );
    }
}
