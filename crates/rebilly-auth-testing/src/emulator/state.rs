//! The emulator's in-memory state: organizations and their resources.

use std::collections::{BTreeMap, HashMap};

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

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
        }
    }

    pub(crate) fn credential_by_username(&self, username: &str) -> Option<&CredentialRecord> {
        self.credentials.values().find(|c| c.username == username)
    }

    pub(crate) fn reset_token_is_pending(
        &self,
        token: &ResetTokenRecord,
        now: OffsetDateTime,
    ) -> bool {
        token.expired_time.is_none_or(|at| at > now)
            && self
                .credentials
                .get(&token.credential_id)
                .is_some_and(|c| c.password_version == token.password_version)
    }
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
