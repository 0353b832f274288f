//! Exchanging an authentication token for a customer JWT.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::link::{Link, links_or_empty};
use super::{CustomerId, SessionId, open_enum, rfc3339_opt};
use crate::secret::{Secret, secret_newtype};

secret_newtype!(
    /// A JSON Web Token: a customer's session, sent as `Authorization: Bearer …`. A secret.
    Jwt
);

open_enum!(
    /// The kind of session a JWT opens.
    SessionType {
        /// A customer session.
        Customer = "customer",
    }
);

/// What a JWT may access: one entry of an access-control list.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AclEntry {
    /// Which resources the entry covers.
    #[serde(default)]
    pub scope: AclScope,
    /// Operation ids allowed, or `*` for all.
    #[serde(default)]
    pub permissions: Vec<String>,
}

impl AclEntry {
    /// An entry granting `permissions` on `scope`.
    pub fn new(scope: AclScope, permissions: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            scope,
            permissions: permissions.into_iter().map(Into::into).collect(),
        }
    }
}

/// The resources an [`AclEntry`] covers; each list narrows it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AclScope {
    /// Organization ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<Vec<String>>,
    /// Product ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<Vec<String>>,
    /// Plan ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_id: Option<Vec<String>>,
    /// Custom field names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_field_name: Option<Vec<String>>,
}

impl AclScope {
    /// Narrows the scope to these organizations.
    pub fn organization_ids(mut self, ids: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.organization_id = Some(ids.into_iter().map(Into::into).collect());
        self
    }

    /// Narrows the scope to these products.
    pub fn product_ids(mut self, ids: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.product_id = Some(ids.into_iter().map(Into::into).collect());
        self
    }

    /// Narrows the scope to these plans.
    pub fn plan_ids(mut self, ids: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.plan_id = Some(ids.into_iter().map(Into::into).collect());
        self
    }

    /// Narrows the scope to these custom fields.
    pub fn custom_field_names(
        mut self,
        names: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        self.custom_field_name = Some(names.into_iter().map(Into::into).collect());
        self
    }
}

/// An exchange request (POST `/authentication-tokens/{token}/exchange`).
///
/// By default the server invalidates the authentication token once exchanged.
///
/// ```
/// use rebilly_auth_core::models::Exchange;
///
/// let exchange = Exchange::new().keep_token().one_time_password("123456");
/// assert_eq!(
///     serde_json::to_value(&exchange).unwrap(),
///     serde_json::json!({"invalidate": false, "oneTimePassword": "123456"})
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Exchange {
    /// Whether the server invalidates the authentication token (default `true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invalidate: Option<bool>,
    /// The six-digit one-time password sent by email, when the token requires one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub one_time_password: Option<Secret>,
    /// What the JWT may access.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acl: Option<Vec<AclEntry>>,
    /// Extra claims to put in the JWT.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_claims: Option<serde_json::Map<String, serde_json::Value>>,
    /// When the JWT expires (one hour after creation otherwise).
    #[serde(with = "rfc3339_opt", skip_serializing_if = "Option::is_none")]
    pub expired_time: Option<OffsetDateTime>,
}

impl Exchange {
    /// An exchange with every option at the server's default.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps the authentication token valid after the exchange (`invalidate: false`).
    pub fn keep_token(mut self) -> Self {
        self.invalidate = Some(false);
        self
    }

    /// Sets `invalidate` explicitly.
    pub fn invalidate(mut self, invalidate: bool) -> Self {
        self.invalidate = Some(invalidate);
        self
    }

    /// Whether the server will invalidate the token (the default is yes).
    pub fn invalidates_token(&self) -> bool {
        self.invalidate.unwrap_or(true)
    }

    /// Sets the one-time password.
    pub fn one_time_password(mut self, otp: impl Into<Secret>) -> Self {
        self.one_time_password = Some(otp.into());
        self
    }

    /// Adds an access-control entry.
    pub fn acl_entry(mut self, entry: AclEntry) -> Self {
        self.acl.get_or_insert_with(Vec::new).push(entry);
        self
    }

    /// Adds a custom claim.
    pub fn custom_claim(mut self, name: impl Into<String>, value: serde_json::Value) -> Self {
        self.custom_claims
            .get_or_insert_with(Default::default)
            .insert(name.into(), value);
        self
    }

    /// Sets when the JWT expires.
    pub fn expired_time(mut self, at: OffsetDateTime) -> Self {
        self.expired_time = Some(at);
        self
    }
}

/// A customer JWT, as an exchange returns it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CustomerJwt {
    /// The session's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<SessionId>,
    /// The kind of session.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub session_type: Option<SessionType>,
    /// The JWT itself (a secret). Required: a 2xx exchange answer without it is a
    /// [`DecodeError`](crate::DecodeError) (the spec marks it optional; an exchange exists to
    /// return it).
    pub token: Jwt,
    /// The customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<CustomerId>,
    /// What the JWT may access.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acl: Option<Vec<AclEntry>>,
    /// Extra claims in the JWT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_claims: Option<serde_json::Map<String, serde_json::Value>>,
    /// When the session was created.
    #[serde(default, with = "rfc3339_opt", skip_serializing_if = "Option::is_none")]
    pub created_time: Option<OffsetDateTime>,
    /// When the session was last updated.
    #[serde(default, with = "rfc3339_opt", skip_serializing_if = "Option::is_none")]
    pub updated_time: Option<OffsetDateTime>,
    /// When the JWT expires.
    #[serde(default, with = "rfc3339_opt", skip_serializing_if = "Option::is_none")]
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
