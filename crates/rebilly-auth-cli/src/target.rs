//! Where commands go: `--emulator`, or the API URL, organization and secret key from the
//! environment variables the examples read. There is no default: a command with neither
//! stops with a usage error.

use std::ffi::OsString;
use std::fmt;

use rebilly_auth_core::Secret;

/// The API's server root.
pub(crate) const API_URL_ENV: &str = "REBILLY_API_URL";
/// The organization.
pub(crate) const ORGANIZATION_ENV: &str = "REBILLY_ORGANIZATION_ID";
/// The secret API key.
pub(crate) const SECRET_KEY_ENV: &str = "REBILLY_SECRET_KEY";

/// A resolved target. Its `Debug` hides the key.
#[derive(Clone)]
pub(crate) struct Target {
    /// The server root.
    pub(crate) url: String,
    /// The organization.
    pub(crate) organization: String,
    /// The secret key.
    pub(crate) secret_key: Secret,
    /// Whether it is the embedded emulator.
    pub(crate) embedded: bool,
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Target")
            .field("url", &self.url)
            .field("organization", &self.organization)
            .field("embedded", &self.embedded)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for Target {
    /// The URL and organization, never the key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.embedded {
            f.write_str("the embedded emulator at ")?;
        }
        write!(f, "{} (organization {})", self.url, self.organization)
    }
}

/// Reads the target from `--emulator` or from `env` (the process's environment, or a test's).
pub(crate) fn resolve(
    emulator: bool,
    env: impl Fn(&str) -> Option<OsString>,
) -> Result<Target, String> {
    if emulator {
        return embedded();
    }
    let var = |name: &str| -> Result<Option<String>, String> {
        match env(name) {
            None => Ok(None),
            Some(value) if value.is_empty() => Ok(None),
            Some(value) => value
                .into_string()
                .map(Some)
                .map_err(|_| format!("{name} is not valid UTF-8")),
        }
    };
    let Some(url) = var(API_URL_ENV)? else {
        return Err(format!(
            "no target: give --emulator, or set {API_URL_ENV}, {ORGANIZATION_ENV} and \
             {SECRET_KEY_ENV} (the commands have no default target)"
        ));
    };
    let organization = var(ORGANIZATION_ENV)?
        .ok_or_else(|| format!("{API_URL_ENV} is set: {ORGANIZATION_ENV} is required too"))?;
    let secret_key = var(SECRET_KEY_ENV)?
        .ok_or_else(|| format!("{API_URL_ENV} is set: {SECRET_KEY_ENV} is required too"))?;
    Ok(Target {
        url,
        organization,
        secret_key: Secret::new(secret_key),
        embedded: false,
    })
}

#[cfg(feature = "emulator")]
fn embedded() -> Result<Target, String> {
    let url = crate::embedded::start()?;
    Ok(Target {
        url,
        organization: crate::embedded::ORGANIZATION.to_owned(),
        secret_key: Secret::new(crate::embedded::SECRET_KEY),
        embedded: true,
    })
}

#[cfg(not(feature = "emulator"))]
fn embedded() -> Result<Target, String> {
    Err("--emulator: this build has no embedded emulator (cargo feature `emulator`)".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<OsString> {
        move |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn no_target_is_an_error_naming_both_ways() {
        let error = resolve(false, env(&[])).unwrap_err();
        assert!(
            error.contains("--emulator") && error.contains(API_URL_ENV),
            "{error}"
        );
        let error = resolve(false, env(&[(API_URL_ENV, "https://x")])).unwrap_err();
        assert!(error.contains(ORGANIZATION_ENV), "{error}");
    }

    #[test]
    fn the_environment_gives_a_target_that_never_shows_its_key() {
        let target = resolve(
            false,
            env(&[
                (API_URL_ENV, "https://api.example"),
                (ORGANIZATION_ENV, "org-1"),
                (SECRET_KEY_ENV, "sk_live_SECRET"),
            ]),
        )
        .unwrap();
        assert_eq!(
            target.to_string(),
            "https://api.example (organization org-1)"
        );
        assert!(!format!("{target:?}").contains("SECRET"));
    }
}
