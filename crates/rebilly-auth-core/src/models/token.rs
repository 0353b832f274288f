//! Authentication tokens: logging a customer in, and the token a login returns.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::link::{Link, links_or_empty};
use super::{CredentialId, CustomerId, rfc3339_opt};
use crate::secret::{Secret, secret_newtype};

secret_newtype!(
    /// The value of an authentication token: what verify, logout and exchange take. A secret.
    AuthToken
);

/// How a customer proves who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoginMethod {
    /// `mode: password`: a username and password.
    Password {
        /// The username.
        username: String,
        /// The password.
        password: Secret,
    },
    /// `mode: passwordless`: the customer id alone; needs the secret API key.
    Passwordless {
        /// The customer.
        customer_id: CustomerId,
    },
}

/// A login request (POST `/authentication-tokens`).
///
/// ```
/// use rebilly_auth_core::models::Login;
///
/// let login = Login::password("ada@example.com", "correct horse").otp_required(true);
/// assert_eq!(
///     serde_json::to_value(&login).unwrap(),
///     serde_json::json!({
///         "mode": "password",
///         "username": "ada@example.com",
///         "password": "correct horse",
///         "otpRequired": true
///     })
/// );
/// assert!(!format!("{login:?}").contains("correct horse"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Login {
    /// How the customer proves who they are.
    pub method: LoginMethod,
    /// When the token should expire (the organization's `authTokenTtl` applies otherwise).
    pub expired_time: Option<OffsetDateTime>,
    /// Whether exchanging the token needs a one-time password.
    pub otp_required: Option<bool>,
}

impl Login {
    /// A password login.
    pub fn password(username: impl Into<String>, password: impl Into<Secret>) -> Self {
        Self::with_method(LoginMethod::Password {
            username: username.into(),
            password: password.into(),
        })
    }

    /// A passwordless login (needs the secret API key).
    pub fn passwordless(customer_id: impl Into<CustomerId>) -> Self {
        Self::with_method(LoginMethod::Passwordless {
            customer_id: customer_id.into(),
        })
    }

    fn with_method(method: LoginMethod) -> Self {
        Self {
            method,
            expired_time: None,
            otp_required: None,
        }
    }

    /// Sets when the token expires.
    pub fn expired_time(mut self, at: OffsetDateTime) -> Self {
        self.expired_time = Some(at);
        self
    }

    /// Sets whether exchanging the token needs a one-time password.
    pub fn otp_required(mut self, required: bool) -> Self {
        self.otp_required = Some(required);
        self
    }
}

impl Serialize for Login {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Wire<'a> {
            mode: &'static str,
            #[serde(skip_serializing_if = "Option::is_none")]
            username: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            password: Option<&'a Secret>,
            #[serde(skip_serializing_if = "Option::is_none")]
            customer_id: Option<&'a CustomerId>,
            #[serde(with = "rfc3339_opt", skip_serializing_if = "Option::is_none")]
            expired_time: Option<OffsetDateTime>,
            #[serde(skip_serializing_if = "Option::is_none")]
            otp_required: Option<bool>,
        }
        let (mode, username, password, customer_id) = match &self.method {
            LoginMethod::Password { username, password } => {
                ("password", Some(username.as_str()), Some(password), None)
            }
            LoginMethod::Passwordless { customer_id } => {
                ("passwordless", None, None, Some(customer_id))
            }
        };
        Wire {
            mode,
            username,
            password,
            customer_id,
            expired_time: self.expired_time,
            otp_required: self.otp_required,
        }
        .serialize(serializer)
    }
}

/// An authentication token as the token list (`client.authentication_tokens().list()`) shows
/// it: lenient, every field may be missing.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ListedToken {
    /// The customer's username.
    #[serde(default)]
    pub username: String,
    /// The customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<CustomerId>,
    /// The token's value (a secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<AuthToken>,
    /// Whether exchanging the token needs a one-time password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otp_required: Option<bool>,
    /// The credential the customer logged in with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_id: Option<CredentialId>,
    /// When the token expires (`None`: never, or not said).
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

/// What a login returns: the new token's value and who it belongs to.
///
/// Unlike [`ListedToken`] (a list item, where every field may be missing), the token
/// value is required: a 2xx login answer without one is a [`DecodeError`](crate::DecodeError).
/// The spec marks it optional; the SDK deliberately does not, since a login exists to return it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct IssuedToken {
    /// The token's value (a secret): what verify, logout and exchange take.
    pub token: AuthToken,
    /// The customer's username.
    #[serde(default)]
    pub username: String,
    /// The customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<CustomerId>,
    /// Whether exchanging the token needs a one-time password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otp_required: Option<bool>,
    /// The credential the customer logged in with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_id: Option<CredentialId>,
    /// When the token expires (`None`: never, or not said).
    #[serde(default, with = "rfc3339_opt")]
    pub expired_time: Option<OffsetDateTime>,
}

impl IssuedToken {
    /// A token value for `username`, every other field unset: for tests of your own code.
    pub fn new(token: impl Into<AuthToken>, username: impl Into<String>) -> Self {
        Self {
            token: token.into(),
            username: username.into(),
            ..Self::default()
        }
    }
}

/// What verify says of a valid token: who it belongs to and until when.
///
/// It holds no token value and no links (whose `href`s hold the value): keeping or caching it
/// keeps no secret. A 2xx verify answer without the spec's required `username`, or whose
/// `token` differs from the one asked about, is a [`DecodeError`](crate::DecodeError), never a
/// verification.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct TokenVerification {
    /// The customer's username (required by the spec).
    pub username: String,
    /// The customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<CustomerId>,
    /// Whether exchanging the token still needs a one-time password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otp_required: Option<bool>,
    /// The credential the customer logged in with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_id: Option<CredentialId>,
    /// When the token expires (`None`: never, or not said).
    #[serde(default, with = "rfc3339_opt")]
    pub expired_time: Option<OffsetDateTime>,
}

impl TokenVerification {
    /// A verification of `username`'s token, every other field unset: for tests of your own
    /// code.
    pub fn new(username: impl Into<String>) -> Self {
        Self {
            username: username.into(),
            ..Self::default()
        }
    }
}
