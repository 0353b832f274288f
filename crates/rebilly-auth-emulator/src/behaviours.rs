//! [`Behaviours`]: switches for the answers the live API may give where its documentation is
//! not certain.
//!
//! Each switch defaults to the most likely live behaviour, so tests written against the
//! defaults describe the live API as well as anyone knows it; a test that sets the other
//! values proves that a client survives either answer. Each is a builder method
//! ([`EmulatorBuilder::behaviours`](super::EmulatorBuilder::behaviours)), a flag of the
//! `rebilly-auth-emulator` binary, and a setting of the control API
//! (`PUT /__emulator/behaviours`).
//!
//! | switch | default | other settings |
//! |---|---|---|
//! | [`wrong_password`](Behaviours::wrong_password) | `unauthorized` (401, the spec's "invalid credentials were used") | `unprocessable-entity` (422 with `invalidFields`) |
//! | [`error_content_type`](Behaviours::error_content_type) | `json` (`application/json`, as the spec lists) | `problem-json` (`application/problem+json`, RFC 7807) |
//! | [`options_update`](Behaviours::options_update) | `merge` (members left out keep their value) | `replace` (members left out return to their default) |
//! | [`pagination`](Behaviours::pagination) | `clamp` (into 0..=1000) | `reject` (422 with `invalidFields`) |
//! | [`null_expired_time`](Behaviours::null_expired_time) | `default-lifetime` (the organization's TTL) | `reject` (422), `never-expires` |
//!
//! ```
//! use rebilly_auth_emulator::{Behaviours, Emulator, WrongPassword};
//!
//! let emulator = Emulator::builder()
//!     .add_organization("org", "sk", None)
//!     .behaviours(Behaviours::default().wrong_password(WrongPassword::UnprocessableEntity))
//!     .build();
//! assert_eq!(emulator.behaviours().wrong_password, WrongPassword::UnprocessableEntity);
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What a login with a wrong username or password answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum WrongPassword {
    /// 401 "invalid credentials were used" (the default: the spec's text for 401).
    #[default]
    #[serde(alias = "401")]
    Unauthorized,
    /// 422 with `invalidFields` naming `password`.
    #[serde(alias = "422")]
    UnprocessableEntity,
}

/// The `Content-Type` of error (problem) bodies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ErrorContentType {
    /// `application/json` (the default: what the spec lists).
    #[default]
    Json,
    /// `application/problem+json` (RFC 7807's own type).
    #[serde(alias = "problem+json")]
    ProblemJson,
}

/// What `PUT /authentication-options` does with members the body leaves out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum OptionsUpdate {
    /// Members left out keep their value (the default).
    #[default]
    Merge,
    /// Members left out return to their default (a full replacement, as `PUT` reads).
    Replace,
}

/// What a list does with `limit` or `offset` outside 0..=1000 (or not a number).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Pagination {
    /// Out-of-range values are clamped into 0..=1000, unparsable ones fall back to the
    /// defaults (the default: the spec lists no 422 for lists).
    #[default]
    Clamp,
    /// 422 with `invalidFields` naming `limit` or `offset`.
    Reject,
}

/// What `expiredTime: null` means on login (`POST /authentication-tokens`) and on
/// reset-password token create (`POST /password-tokens`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum NullExpiredTime {
    /// The organization's lifetime (`authTokenTtl`, `resetTokenTtl`), as when absent (the
    /// default).
    #[default]
    DefaultLifetime,
    /// 422 with `invalidFields` naming `expiredTime`.
    Reject,
    /// The token never expires (`expiredTime: null` in the answer).
    NeverExpires,
}

/// The switchable behaviours; see the [module documentation](self) for each one's settings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Behaviours {
    /// What a wrong username or password on login answers.
    pub wrong_password: WrongPassword,
    /// The `Content-Type` of problem bodies.
    pub error_content_type: ErrorContentType,
    /// Merge or replace on `PUT /authentication-options`.
    pub options_update: OptionsUpdate,
    /// Clamp or refuse out-of-range `limit`/`offset`.
    pub pagination: Pagination,
    /// What `expiredTime: null` means on login and reset-password token create.
    pub null_expired_time: NullExpiredTime,
}

impl Behaviours {
    /// Sets [`wrong_password`](Self::wrong_password).
    #[must_use]
    pub fn wrong_password(mut self, value: WrongPassword) -> Self {
        self.wrong_password = value;
        self
    }

    /// Sets [`error_content_type`](Self::error_content_type).
    #[must_use]
    pub fn error_content_type(mut self, value: ErrorContentType) -> Self {
        self.error_content_type = value;
        self
    }

    /// Sets [`options_update`](Self::options_update).
    #[must_use]
    pub fn options_update(mut self, value: OptionsUpdate) -> Self {
        self.options_update = value;
        self
    }

    /// Sets [`pagination`](Self::pagination).
    #[must_use]
    pub fn pagination(mut self, value: Pagination) -> Self {
        self.pagination = value;
        self
    }

    /// Sets [`null_expired_time`](Self::null_expired_time).
    #[must_use]
    pub fn null_expired_time(mut self, value: NullExpiredTime) -> Self {
        self.null_expired_time = value;
        self
    }

    /// Every combination that differs from the default in exactly one switch, one per
    /// non-default setting: what a test suite runs its journey against to prove a client
    /// survives each.
    pub fn each_non_default() -> Vec<Behaviours> {
        let d = Behaviours::default();
        vec![
            d.wrong_password(WrongPassword::UnprocessableEntity),
            d.error_content_type(ErrorContentType::ProblemJson),
            d.options_update(OptionsUpdate::Replace),
            d.pagination(Pagination::Reject),
            d.null_expired_time(NullExpiredTime::Reject),
            d.null_expired_time(NullExpiredTime::NeverExpires),
        ]
    }
}

/// A setting name that is not one of the switch's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownSetting {
    given: String,
    expected: &'static str,
}

impl fmt::Display for UnknownSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` is not one of {}", self.given, self.expected)
    }
}

impl std::error::Error for UnknownSetting {}

macro_rules! from_str_via_serde {
    ($ty:ty, $expected:literal) => {
        impl FromStr for $ty {
            type Err = UnknownSetting;

            /// Reads the setting's name (as the control API and the binary's flags spell it).
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                serde_json::from_value(serde_json::Value::String(s.trim().to_owned())).map_err(
                    |_| UnknownSetting {
                        given: s.chars().take(64).collect(),
                        expected: $expected,
                    },
                )
            }
        }
    };
}

from_str_via_serde!(
    WrongPassword,
    "unauthorized (401), unprocessable-entity (422)"
);
from_str_via_serde!(ErrorContentType, "json, problem-json");
from_str_via_serde!(OptionsUpdate, "merge, replace");
from_str_via_serde!(Pagination, "clamp, reject");
from_str_via_serde!(NullExpiredTime, "default-lifetime, reject, never-expires");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        assert_eq!(
            "422".parse::<WrongPassword>(),
            Ok(WrongPassword::UnprocessableEntity)
        );
        assert_eq!(
            "problem-json".parse::<ErrorContentType>(),
            Ok(ErrorContentType::ProblemJson)
        );
        assert_eq!(
            "never-expires".parse::<NullExpiredTime>(),
            Ok(NullExpiredTime::NeverExpires)
        );
        assert!("sometimes".parse::<Pagination>().is_err());
        let json = serde_json::to_value(Behaviours::default()).unwrap();
        assert_eq!(json["wrongPassword"], "unauthorized");
        assert_eq!(json["nullExpiredTime"], "default-lifetime");
        assert_eq!(Behaviours::each_non_default().len(), 6);
    }
}
