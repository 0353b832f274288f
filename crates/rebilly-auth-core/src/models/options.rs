//! Authentication options: the organization's singleton of password policy and lifetimes.

use serde::{Deserialize, Deserializer, Serialize};

use super::link::{Link, links_or_empty};

/// The organization's authentication options (GET and PUT `/authentication-options`).
///
/// ```
/// use rebilly_auth_core::models::AuthenticationOptions;
///
/// let options = AuthenticationOptions::default()
///     .password_pattern("/^.{8,}$/")
///     .otp_required(false);
/// assert_eq!(
///     serde_json::to_value(&options).unwrap(),
///     serde_json::json!({"passwordPattern": "/^.{8,}$/", "otpRequired": false})
/// );
/// // No pattern is an explicit `null`, so writing options back clears a pattern.
/// assert_eq!(
///     serde_json::to_value(AuthenticationOptions::default()).unwrap(),
///     serde_json::json!({"passwordPattern": null})
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AuthenticationOptions {
    /// The allowed password pattern, a JavaScript-style regex literal such as `/^[0-9]+$/`.
    /// `None` is sent as `null` (no pattern): a PUT replaces the whole options object.
    #[serde(default)]
    pub password_pattern: Option<String>,
    /// Default credential lifetime, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_ttl: Option<i64>,
    /// Default authentication-token lifetime, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_token_ttl: Option<i64>,
    /// Default reset-password-token lifetime, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset_token_ttl: Option<i64>,
    /// Whether a one-time password is required to exchange a token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otp_required: Option<bool>,
    /// Related links (read-only: never sent).
    #[serde(
        rename = "_links",
        default,
        deserialize_with = "links_or_empty",
        skip_serializing
    )]
    pub links: Vec<Link>,
}

impl AuthenticationOptions {
    /// Sets the password pattern.
    pub fn password_pattern(mut self, pattern: impl Into<String>) -> Self {
        self.password_pattern = Some(pattern.into());
        self
    }

    /// Sets the credential lifetime in seconds.
    pub fn credential_ttl(mut self, seconds: i64) -> Self {
        self.credential_ttl = Some(seconds);
        self
    }

    /// Sets the authentication-token lifetime in seconds.
    pub fn auth_token_ttl(mut self, seconds: i64) -> Self {
        self.auth_token_ttl = Some(seconds);
        self
    }

    /// Sets the reset-token lifetime in seconds.
    pub fn reset_token_ttl(mut self, seconds: i64) -> Self {
        self.reset_token_ttl = Some(seconds);
        self
    }

    /// Sets whether a one-time password is required to exchange a token.
    pub fn otp_required(mut self, required: bool) -> Self {
        self.otp_required = Some(required);
        self
    }
}

/// GET `/authentication-options` answers one object on the live API; the 2022 spec said an
/// array. Accept both (an array must hold exactly one object).
pub(crate) struct OptionsBody(pub(crate) AuthenticationOptions);

impl<'de> Deserialize<'de> for OptionsBody {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum OneOrArray {
            One(AuthenticationOptions),
            Many(Vec<AuthenticationOptions>),
        }
        match OneOrArray::deserialize(deserializer)? {
            OneOrArray::One(options) => Ok(Self(options)),
            OneOrArray::Many(mut many) if many.len() == 1 => Ok(Self(many.remove(0))),
            OneOrArray::Many(many) => Err(serde::de::Error::invalid_length(
                many.len(),
                &"one authentication-options object",
            )),
        }
    }
}
