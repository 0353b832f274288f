//! How the SDK authenticates: [`Auth`] and the organization it acts for.

use http::{HeaderName, HeaderValue};

use crate::error::InvalidInput;
use crate::models::Jwt;
use crate::secret::secret_newtype;

secret_newtype!(
    /// A secret API key, sent as `REB-APIKEY`. Server side only.
    SecretKey
);
secret_newtype!(
    /// A publishable API key, sent as `Authorization: <key>`; accepted only by login, verify,
    /// logout and exchange.
    PublishableKey
);

crate::models::id_newtype!(
    /// The organization the API acts for; it goes in the path, `/organizations/{id}/…`.
    OrganizationId
);

/// The credential a request carries.
///
/// ```
/// use rebilly_auth_core::Auth;
///
/// let auth = Auth::secret_key("sk_sandbox_1234");
/// assert_eq!(format!("{auth:?}"), "SecretKey(SecretKey([REDACTED]))");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Auth {
    /// `REB-APIKEY: <secret key>`.
    SecretKey(SecretKey),
    /// `Authorization: <publishable key>` (no `Bearer`).
    PublishableKey(PublishableKey),
    /// `Authorization: Bearer <jwt>`: a customer's session.
    Jwt(Jwt),
}

impl Auth {
    /// A secret API key.
    pub fn secret_key(key: impl Into<SecretKey>) -> Self {
        Self::SecretKey(key.into())
    }

    /// A publishable API key.
    pub fn publishable_key(key: impl Into<PublishableKey>) -> Self {
        Self::PublishableKey(key.into())
    }

    /// A customer JWT.
    pub fn jwt(jwt: impl Into<Jwt>) -> Self {
        Self::Jwt(jwt.into())
    }

    /// The header this credential is sent in, marked sensitive so that HTTP stacks never log
    /// it. Rejects values with control bytes, CR or LF.
    pub(crate) fn header(&self) -> Result<(HeaderName, HeaderValue), InvalidInput> {
        static REB_APIKEY: HeaderName = HeaderName::from_static("reb-apikey");
        let (name, what, prefix, raw) = match self {
            Auth::SecretKey(key) => (REB_APIKEY.clone(), "secret key", "", key.expose()),
            Auth::PublishableKey(key) => (
                http::header::AUTHORIZATION,
                "publishable key",
                "",
                key.expose(),
            ),
            Auth::Jwt(jwt) => (http::header::AUTHORIZATION, "JWT", "Bearer ", jwt.expose()),
        };
        if raw.is_empty() {
            return Err(InvalidInput::new(what, "must not be empty"));
        }
        if !raw.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(InvalidInput::new(
                what,
                "must be visible ASCII (no spaces, control bytes, CR or LF)",
            ));
        }
        let mut value = HeaderValue::try_from(format!("{prefix}{raw}"))
            .map_err(|_| InvalidInput::new(what, "is not a valid header value"))?;
        value.set_sensitive(true);
        Ok((name, value))
    }

    /// What kind of credential this is, for logs: `secret key`, `publishable key` or `JWT`.
    pub fn kind(&self) -> &'static str {
        match self {
            Auth::SecretKey(_) => "secret key",
            Auth::PublishableKey(_) => "publishable key",
            Auth::Jwt(_) => "JWT",
        }
    }
}

impl From<SecretKey> for Auth {
    fn from(key: SecretKey) -> Self {
        Self::SecretKey(key)
    }
}

impl From<PublishableKey> for Auth {
    fn from(key: PublishableKey) -> Self {
        Self::PublishableKey(key)
    }
}

impl From<Jwt> for Auth {
    fn from(jwt: Jwt) -> Self {
        Self::Jwt(jwt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_per_scheme_and_sensitive() {
        let (name, value) = Auth::secret_key("sk_1").header().unwrap();
        assert_eq!(name, "reb-apikey");
        assert_eq!(value, "sk_1");
        assert!(value.is_sensitive());
        let (name, value) = Auth::publishable_key("pk_1").header().unwrap();
        assert_eq!(name, "authorization");
        assert_eq!(value, "pk_1");
        let (_, value) = Auth::jwt("a.b.c").header().unwrap();
        assert_eq!(value, "Bearer a.b.c");
    }

    #[test]
    fn rejects_header_injection() {
        for bad in ["sk\r\nX-Evil: 1", "sk\n", "", "sk 1", "sk\u{7f}", "ключ"] {
            let error = Auth::secret_key(bad).header().unwrap_err();
            assert_eq!(error.what, "secret key");
            assert!(!error.to_string().contains("Evil"));
        }
    }
}
