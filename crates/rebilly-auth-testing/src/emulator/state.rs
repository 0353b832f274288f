//! The emulator's in-memory state: organizations and their resources.

use std::collections::{BTreeMap, HashMap};

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::clock::saturating_add;

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
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub(crate) password_pattern: Option<String>,
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

#[derive(Debug, Clone)]
pub(crate) struct CredentialRecord {
    pub(crate) seq: u64,
    pub(crate) id: String,
    pub(crate) username: String,
    pub(crate) password_hash: [u8; 32],
    pub(crate) salt: u64,
    pub(crate) customer_id: String,
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

#[derive(Debug, Clone)]
pub(crate) struct AuthTokenRecord {
    pub(crate) seq: u64,
    pub(crate) token: String,
    pub(crate) credential_id: String,
    pub(crate) username: String,
    pub(crate) customer_id: String,
    pub(crate) otp_required: bool,
    pub(crate) otp: Option<String>,
    pub(crate) expired_time: Option<OffsetDateTime>,
}

impl AuthTokenRecord {
    pub(crate) fn is_active(&self, now: OffsetDateTime) -> bool {
        self.expired_time.is_none_or(|at| at > now)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct ResetTokenRecord {
    pub(crate) seq: u64,
    pub(crate) token: String,
    pub(crate) username: String,
    pub(crate) credential_id: String,
    pub(crate) expired_time: Option<OffsetDateTime>,
    pub(crate) password_version: u64,
    /// When a password change spent it (`None` while its credential's password is unchanged).
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

#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub(crate) customer_id: String,
    pub(crate) expired_time: OffsetDateTime,
}

/// One organization.
#[derive(Debug)]
pub(crate) struct Organization {
    pub(crate) id: String,
    pub(crate) secret_key: String,
    pub(crate) publishable_key: Option<String>,
    pub(crate) jwt_key: Vec<u8>,
    pub(crate) options: Options,
    pub(crate) credentials: HashMap<String, CredentialRecord>,
    pub(crate) auth_tokens: HashMap<String, AuthTokenRecord>,
    pub(crate) reset_tokens: HashMap<String, ResetTokenRecord>,
    pub(crate) sessions: HashMap<String, Session>,
    /// The last OTP "sent by email" per username.
    pub(crate) sent_otps: HashMap<String, String>,
    pub(crate) rate_window_start: OffsetDateTime,
    pub(crate) rate_used: u64,
    /// The earliest time a stored record may be purged (`None`: nothing will ever be).
    next_purge: Option<OffsetDateTime>,
}

impl Organization {
    pub(crate) fn new(
        id: String,
        secret_key: String,
        publishable_key: Option<String>,
        now: OffsetDateTime,
    ) -> Self {
        let jwt_key = (0..32).map(|_| fastrand::u8(..)).collect();
        Self {
            id,
            secret_key,
            publishable_key,
            jwt_key,
            options: Options::default(),
            credentials: HashMap::new(),
            auth_tokens: HashMap::new(),
            reset_tokens: HashMap::new(),
            sessions: HashMap::new(),
            sent_otps: HashMap::new(),
            rate_window_start: now,
            rate_used: 0,
            next_purge: None,
        }
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

/// Every organization, by id; `seq` orders resources by creation.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) organizations: BTreeMap<String, Organization>,
    pub(crate) seq: u64,
}

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A ULID-like id (26 Crockford base32 characters: 48 bits of milliseconds, 80 random bits)
/// with `prefix`, like the live API's `cus_crd_0YV9Y706QGCB39FQD380G1ZHZH`.
pub(crate) fn ulid(prefix: &str, now: OffsetDateTime) -> String {
    let millis = (now.unix_timestamp_nanos() / 1_000_000).max(0) as u128 & ((1 << 48) - 1);
    let random = fastrand::u128(..) & ((1 << 80) - 1);
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
pub(crate) fn random_token() -> String {
    (0..20)
        .map(|_| format!("{:02x}", fastrand::u8(..)))
        .collect()
}

/// A 6-digit one-time password.
pub(crate) fn one_time_password() -> String {
    format!("{:06}", fastrand::u32(0..1_000_000))
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
        let id = ulid("cus_crd_", OffsetDateTime::now_utc());
        assert_eq!(id.len(), 8 + 26);
        assert!(id.len() <= 50);
        assert_eq!(random_token().len(), 40);
        assert_eq!(one_time_password().len(), 6);
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
