//! [`Secret`]: a string that never prints.
//!
//! API keys, JWTs, passwords, one-time passwords and token values all travel in a `Secret`.
//! Its `Debug` prints [`REDACTED`] and it has no `Display`; only the JSON serializer and the header writer
//! read the value, through [`Secret::expose`].
//!
//! A `Secret` zeroizes its memory when dropped and compares in constant time (for equal
//! lengths). Copies the SDK cannot reach are not zeroized: the bytes of request bodies, URLs
//! and headers in HTTP buffers (yours, the transport's, the kernel's), and any `String` you
//! took out with [`Secret::into_inner`] or copied from [`Secret::expose`].

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What every secret prints as.
pub const REDACTED: &str = "[REDACTED]";

/// A secret string: `Debug` prints [`REDACTED`], the JSON serializer writes the value, and
/// [`Secret::expose`] is the one explicit way to read it.
///
/// It has no `Display`, so a secret cannot be formatted into a header or a URL by mistake
/// (`format!("Bearer {jwt}")` does not compile, where a redacting `Display` would silently
/// send the placeholder):
///
/// ```
/// use rebilly_auth_core::Secret;
///
/// let password = Secret::new("hunter2");
/// assert_eq!(format!("{password:?}"), "[REDACTED]");
/// assert_eq!(password.expose(), "hunter2");
/// ```
///
/// ```compile_fail
/// let jwt = rebilly_auth_core::Secret::new("eyJ...");
/// let header = format!("Bearer {jwt}"); // error: `Secret` doesn't implement `Display`
/// ```
#[derive(Clone, Default)]
pub struct Secret(String);

impl std::hash::Hash for Secret {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl PartialEq for Secret {
    /// Constant time for values of equal length, so a comparison leaks no prefix.
    fn eq(&self, other: &Self) -> bool {
        use subtle::ConstantTimeEq;
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for Secret {}

impl Drop for Secret {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself. Call it only where the value must leave the process.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Unwraps the value. The returned `String` is no longer zeroized on drop.
    pub fn into_inner(mut self) -> String {
        std::mem::take(&mut self.0)
    }

    /// Whether the value is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self)
    }
}

/// Declares a newtype over [`Secret`] for one kind of secret value.
macro_rules! secret_newtype {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name($crate::Secret);

        impl $name {
            /// Wraps a value.
            pub fn new(value: impl Into<String>) -> Self {
                Self($crate::Secret::new(value))
            }

            /// The value itself; call it only where it must leave the process.
            pub fn expose(&self) -> &str {
                self.0.expose()
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}({})", stringify!($name), $crate::secret::REDACTED)
            }
        }


        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self::new(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::new(value)
            }
        }

        impl From<&$name> for $name {
            fn from(value: &$name) -> Self {
                value.clone()
            }
        }
    };
}
pub(crate) use secret_newtype;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints_but_serializes() {
        let s = Secret::new("s3cr3t-value");
        assert!(!format!("{s:?}{s:#?}").contains("s3cr3t"));
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"s3cr3t-value\"");
        let back: Secret = serde_json::from_str("\"abc\"").unwrap();
        assert_eq!(back.expose(), "abc");
    }
}
