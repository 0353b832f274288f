//! Reset-password tokens. They have no `id`: they are addressed by their secret `token` value.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::link::{Link, links_or_empty};
use super::{CredentialId, rfc3339_opt};
use crate::secret::secret_newtype;

secret_newtype!(
    /// The value of a reset-password token; it resets a password, so it is a secret.
    ResetToken
);

/// A reset-password token to create (POST `/password-tokens`).
///
/// ```
/// use rebilly_auth_core::models::NewResetPasswordToken;
///
/// let request = NewResetPasswordToken::new("ada@example.com");
/// assert_eq!(
///     serde_json::to_value(&request).unwrap(),
///     serde_json::json!({"username": "ada@example.com"})
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NewResetPasswordToken {
    /// The username whose password the token resets.
    pub username: String,
    /// When the token expires (the organization's `resetTokenTtl` applies otherwise).
    #[serde(with = "rfc3339_opt", skip_serializing_if = "Option::is_none")]
    pub expired_time: Option<OffsetDateTime>,
}

impl NewResetPasswordToken {
    /// A token for `username`.
    pub fn new(username: impl Into<String>) -> Self {
        Self {
            username: username.into(),
            expired_time: None,
        }
    }

    /// Sets when the token expires.
    pub fn expired_time(mut self, at: OffsetDateTime) -> Self {
        self.expired_time = Some(at);
        self
    }
}

/// A reset-password token as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ResetPasswordToken {
    /// The token's value (a secret); it addresses the token in get and delete. Required: the
    /// resource has no other address, so an answer without it (create, get or a list item) is
    /// a [`DecodeError`](crate::DecodeError). The spec marks it optional; the SDK deliberately
    /// does not.
    pub token: ResetToken,
    /// The username.
    #[serde(default)]
    pub username: String,
    /// The credential whose password the token resets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_id: Option<CredentialId>,
    /// When the token expires.
    #[serde(default, with = "rfc3339_opt")]
    pub expired_time: Option<OffsetDateTime>,
    /// Related links. Their `href`s may hold the token value.
    #[serde(
        rename = "_links",
        default,
        deserialize_with = "links_or_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub links: Vec<Link>,
}
