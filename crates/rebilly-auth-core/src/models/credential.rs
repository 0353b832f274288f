//! Credentials: a customer's username and password.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::link::{Link, links_or_empty};
use super::{CredentialId, CustomerId, rfc3339_opt};
use crate::secret::Secret;

/// A credential to create or upsert (POST `/credentials`, PUT `/credentials/{id}`).
///
/// ```
/// use rebilly_auth_core::models::NewCredential;
///
/// let credential = NewCredential::new("ada@example.com", "correct horse", "cus_01");
/// assert_eq!(
///     serde_json::to_value(&credential).unwrap(),
///     serde_json::json!({
///         "username": "ada@example.com",
///         "password": "correct horse",
///         "customerId": "cus_01"
///     })
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NewCredential {
    /// The username, unique within the organization.
    pub username: String,
    /// The password (checked against the organization's `passwordPattern`).
    pub password: Secret,
    /// The customer the credential belongs to.
    pub customer_id: CustomerId,
    /// When the credential expires (the organization's `credentialTtl` applies otherwise).
    #[serde(with = "rfc3339_opt", skip_serializing_if = "Option::is_none")]
    pub expired_time: Option<OffsetDateTime>,
}

impl NewCredential {
    /// A credential for `customer_id`.
    pub fn new(
        username: impl Into<String>,
        password: impl Into<Secret>,
        customer_id: impl Into<CustomerId>,
    ) -> Self {
        Self {
            username: username.into(),
            password: password.into(),
            customer_id: customer_id.into(),
            expired_time: None,
        }
    }

    /// Sets when the credential expires.
    pub fn expired_time(mut self, at: OffsetDateTime) -> Self {
        self.expired_time = Some(at);
        self
    }
}

/// A credential as the API returns it: never with its password.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Credential {
    /// The credential's id.
    #[serde(default)]
    pub id: CredentialId,
    /// The username.
    #[serde(default)]
    pub username: String,
    /// The customer.
    #[serde(default)]
    pub customer_id: CustomerId,
    /// When the credential expires.
    #[serde(default, with = "rfc3339_opt")]
    pub expired_time: Option<OffsetDateTime>,
    /// Related links.
    #[serde(
        rename = "_links",
        default,
        deserialize_with = "links_or_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub links: Vec<Link>,
}
