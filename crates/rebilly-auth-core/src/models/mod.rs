//! The API's resources, one module per resource.
//!
//! Request and response types are separate where the spec has write-only or read-only fields:
//! a response never holds a password, a request never holds a server-set id. Responses ignore
//! unknown fields and tolerate missing optional ones; requests omit unset optionals. Every
//! response type implements `Default` and has public fields, so tests can build one.
//!
//! Names keep a token's *value* apart from a *resource* about a token:
//!
//! | secret value (a [`Secret`](crate::Secret) newtype; no `Display`) | resources that describe one |
//! |---|---|
//! | [`AuthToken`] | [`IssuedToken`] (login), [`TokenVerification`] (verify), [`ListedToken`] (the token list) |
//! | [`Jwt`] | [`CustomerJwt`] (exchange) |
//! | [`ResetToken`] | [`ResetPasswordToken`], [`NewResetPasswordToken`] (`client.reset_password_tokens()`) |

mod credential;
mod jwt;
mod link;
pub(crate) mod options;
mod problem;
mod reset_password_token;
mod token;

use std::fmt;

pub use time::OffsetDateTime;

// Every model at `models::Name`, so imports stay short; the submodules group them by resource.
pub use credential::{Credential, NewCredential};
pub use jwt::{AclEntry, AclScope, CustomerJwt, Exchange, Jwt, SessionType};
pub use link::{Link, LinkRel};
pub use options::AuthenticationOptions;
pub use problem::{InvalidField, ProblemDetails};
pub use reset_password_token::{NewResetPasswordToken, ResetPasswordToken, ResetToken};
pub use token::{AuthToken, IssuedToken, ListedToken, Login, LoginMethod, TokenVerification};

/// Declares an id newtype over `String`.
macro_rules! id_newtype {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps an id.
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            /// The id as a string.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Unwraps the id.
            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Debug::fmt(&self.0, f)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_owned())
            }
        }

        impl From<&$name> for $name {
            fn from(id: &$name) -> Self {
                id.clone()
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

/// Declares a spec enum of strings that decodes unknown values to `Other(String)`.
macro_rules! open_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
            /// A value this version of the SDK does not know.
            Other(String),
        }

        impl $name {
            /// The value as sent on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)+
                    Self::Other(other) => other,
                }
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                match value {
                    $($wire => Self::$variant,)+
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Ok(Self::from(value.as_ref()))
            }
        }
    };
}

pub(crate) use {id_newtype, open_enum};

id_newtype!(
    /// The id of a customer, such as `cus_0YV7DDSDD1C8DA64KHH2W33CPF`.
    CustomerId
);
id_newtype!(
    /// The id of a credential, such as `cus_crd_0YV9Y706QGCB39FQD380G1ZHZH`.
    CredentialId
);
id_newtype!(
    /// The id of a customer JWT session, such as `jwt_0YV7DEJX80CDRAKVTV478ZNJDR`.
    SessionId
);

/// RFC 3339 (de)serialization of optional timestamps that tolerates `null` and absence.
pub(crate) mod rfc3339_opt {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;

    pub(crate) fn serialize<S: Serializer>(
        value: &Option<OffsetDateTime>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(t) => {
                let text = t.format(&Rfc3339).map_err(serde::ser::Error::custom)?;
                serializer.serialize_str(&text)
            }
            None => serializer.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<OffsetDateTime>, D::Error> {
        let text = <Option<std::borrow::Cow<'de, str>>>::deserialize(deserializer)?;
        match text {
            None => Ok(None),
            Some(text) if text.is_empty() => Ok(None),
            Some(text) => OffsetDateTime::parse(&text, &Rfc3339)
                .map(Some)
                .map_err(|_| serde::de::Error::custom("expected an RFC 3339 date-time")),
        }
    }
}

/// Formats an optional value for `Debug` without its content (for long or sensitive maps).
pub(crate) struct Present(pub(crate) bool);

impl fmt::Debug for Present {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0 { "Some(..)" } else { "None" })
    }
}
