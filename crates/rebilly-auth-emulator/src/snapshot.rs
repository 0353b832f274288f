//! [`Snapshot`]: the emulator's whole state as JSON, to save and restore.
//!
//! A snapshot holds every organization (its keys, JWT signing key, options, customers,
//! credentials with salted password hashes, authentication tokens with their one-time
//! passwords, reset-password tokens, JWT sessions, outbox and rate-limit window), the clock,
//! the generator's seed and the behaviours. It is full of secrets: keep it on the machine that
//! runs the tests. Faults and the request journal are not part of it.
//!
//! ```
//! use rebilly_auth_emulator::{Emulator, Snapshot};
//!
//! let emulator = Emulator::builder().add_organization("org", "sk", None).seed(7).build();
//! let saved = emulator.snapshot().to_json();
//! let copy = Emulator::builder()
//!     .state(Snapshot::from_json(&saved).unwrap())
//!     .build();
//! assert_eq!(copy.jwt_signing_key("org"), emulator.jwt_signing_key("org"));
//! assert!(Snapshot::from_json(b"{\"version\": 99}").is_err());
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::behaviours::Behaviours;
use super::state::{Organization, State};

/// The format version [`Snapshot::to_json`] writes and [`Snapshot::from_json`] reads.
pub const SNAPSHOT_VERSION: u32 = 1;

/// The most organizations a snapshot may hold.
const MAX_ORGANIZATIONS: usize = 1000;

/// The emulator's whole state; see the [module documentation](self). Its `Debug` names the
/// organizations only (the rest is secret).
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Snapshot {
    version: u32,
    #[serde(with = "time::serde::rfc3339")]
    now: OffsetDateTime,
    seq: u64,
    seed: u64,
    #[serde(default)]
    behaviours: Behaviours,
    organizations: Vec<Organization>,
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<&str> = self.organizations.iter().map(|o| o.id.as_str()).collect();
        f.debug_struct("Snapshot")
            .field("now", &self.now)
            .field("organizations", &ids)
            .finish_non_exhaustive()
    }
}

/// Why a snapshot was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SnapshotError {
    /// Not JSON of the snapshot's shape (the message says where; it never quotes values).
    Malformed(String),
    /// Another format version.
    Version(u32),
    /// Well-formed, but not a state the emulator can run (a bad pattern, a TTL out of range,
    /// an organization twice, too many organizations, two records claiming one id or token
    /// value, two credentials sharing a username in one organization, more records of one kind
    /// than the emulator's cap).
    Invalid(String),
}

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SnapshotError::Malformed(why) => write!(f, "not an emulator snapshot: {why}"),
            SnapshotError::Version(v) => write!(
                f,
                "snapshot format version {v} is not supported (this emulator reads {SNAPSHOT_VERSION})"
            ),
            SnapshotError::Invalid(why) => write!(f, "invalid emulator snapshot: {why}"),
        }
    }
}

impl std::error::Error for SnapshotError {}

impl Snapshot {
    /// A state with no organization (what a builder starts from).
    pub(crate) fn empty() -> Self {
        Snapshot {
            version: SNAPSHOT_VERSION,
            now: OffsetDateTime::UNIX_EPOCH,
            seq: 0,
            seed: 0,
            behaviours: Behaviours::default(),
            organizations: Vec::new(),
        }
    }

    pub(crate) fn capture(state: &State, now: OffsetDateTime) -> Self {
        Snapshot {
            version: SNAPSHOT_VERSION,
            now,
            seq: state.seq,
            seed: state.rng.get_seed(),
            behaviours: state.behaviours,
            organizations: state.organizations.values().cloned().collect(),
        }
    }

    /// A copy of its organizations, by id (made before the state lock is taken).
    pub(crate) fn organizations_by_id(&self) -> BTreeMap<String, Organization> {
        self.organizations
            .iter()
            .map(|o| (o.id.clone(), o.clone()))
            .collect()
    }

    /// `Err` naming an organization that stores more than `cap` records of one kind.
    pub(crate) fn check_caps(&self, cap: usize) -> Result<(), String> {
        self.organizations
            .iter()
            .try_for_each(|org| org.check_caps(cap))
    }

    /// Puts `organizations` (from [`organizations_by_id`](Self::organizations_by_id)) in
    /// force; `organizations` gets the old ones, to be dropped after the lock is released.
    pub(crate) fn apply(
        &self,
        state: &mut State,
        organizations: &mut BTreeMap<String, Organization>,
    ) {
        std::mem::swap(&mut state.organizations, organizations);
        state.seq = self.seq;
        state.rng = fastrand::Rng::with_seed(self.seed);
        state.behaviours = self.behaviours;
    }

    /// The clock's time in this state.
    pub fn now(&self) -> OffsetDateTime {
        self.now
    }

    /// The ids of its organizations.
    pub fn organizations(&self) -> Vec<&str> {
        self.organizations.iter().map(|o| o.id.as_str()).collect()
    }

    /// The snapshot as (pretty-printed) JSON.
    pub fn to_json(&self) -> Vec<u8> {
        // Every member serializes (strings, integers, RFC 3339 times within year 9999).
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }

    /// Reads and checks a snapshot written by [`to_json`](Self::to_json) (or by hand).
    pub fn from_json(json: &[u8]) -> Result<Snapshot, SnapshotError> {
        let value: serde_json::Value = serde_json::from_slice(json).map_err(|e| {
            SnapshotError::Malformed(format!("line {}: {}", e.line(), e.classify_name()))
        })?;
        match value.get("version").map(serde_json::Value::as_u64) {
            Some(Some(v)) if v == u64::from(SNAPSHOT_VERSION) => {}
            Some(Some(v)) => {
                return Err(SnapshotError::Version(u32::try_from(v).unwrap_or(u32::MAX)));
            }
            _ => return Err(SnapshotError::Malformed("no `version`".into())),
        }
        let mut snapshot: Snapshot = serde_json::from_value(value)
            .map_err(|e| SnapshotError::Malformed(redacted(&e.to_string())))?;
        if snapshot.organizations.len() > MAX_ORGANIZATIONS {
            return Err(SnapshotError::Invalid(format!(
                "more than {MAX_ORGANIZATIONS} organizations"
            )));
        }
        let mut seen = BTreeSet::new();
        for org in &mut snapshot.organizations {
            if !seen.insert(org.id.clone()) {
                return Err(SnapshotError::Invalid(format!(
                    "organization {:?} appears twice",
                    org.id
                )));
            }
            org.rebuild().map_err(|why| {
                SnapshotError::Invalid(format!("organization {:?}: {why}", org.id))
            })?;
        }
        Ok(snapshot)
    }
}

/// A serde message without the values it may quote (they may be secrets): up to the first
/// backtick or quote.
fn redacted(message: &str) -> String {
    let cut = message.find(['`', '"']).unwrap_or(message.len());
    let head = message[..cut].trim_end();
    // Keep serde's "missing field `x`" / "unknown field `x`" names: field names are not secret.
    if let Some(field) = message
        .strip_prefix("missing field `")
        .or_else(|| message.strip_prefix("unknown field `"))
        .and_then(|rest| rest.split('`').next())
    {
        return format!("{head} `{field}`");
    }
    head.to_owned()
}

trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "I/O error",
            serde_json::error::Category::Syntax => "not valid JSON",
            serde_json::error::Category::Data => "unexpected data",
            serde_json::error::Category::Eof => "unexpected end of input",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_never_quote_values() {
        let err = Snapshot::from_json(br#"{"version": 1, "now": "sk_live_secret"}"#).unwrap_err();
        assert!(!err.to_string().contains("sk_live_secret"), "{err}");
        assert!(matches!(
            Snapshot::from_json(b"[1,"),
            Err(SnapshotError::Malformed(_))
        ));
        assert!(matches!(
            Snapshot::from_json(br#"{"version": 2}"#),
            Err(SnapshotError::Version(2))
        ));
        assert_eq!(redacted("missing field `seq`"), "missing field `seq`");
    }
}
