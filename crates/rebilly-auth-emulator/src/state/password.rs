//! `passwordPattern`: compiling it, and checking a password against it with bounded work.
//!
//! `fancy-regex` counts backtracking steps, but not the scan a lookahead hands to the `regex`
//! crate: `(?=[a-z]*[0-9])` scans to the end of the password from every start position, so its
//! work grows with the square of the length (and nested lookaheads multiply again). The real
//! bounds are therefore the password's length ([`MAX_PASSWORD_LENGTH`]), the pattern's length
//! ([`MAX_PASSWORD_PATTERN_LENGTH`]) and a backtracking limit
//! ([`PASSWORD_PATTERN_BACKTRACK_LIMIT`]) lower than fancy-regex's default; no wall-clock
//! budget, so the answer is the same on any machine.

use std::sync::Arc;

/// The longest password the emulator accepts, in characters (`POST`/`PUT /credentials`;
/// longer ones get 422 naming `password`). At this length the worst pattern the emulator
/// accepts is checked in milliseconds (see `BENCHMARKS.md`).
pub const MAX_PASSWORD_LENGTH: usize = 256;

/// The longest `passwordPattern` `PUT /authentication-options` accepts, in characters.
pub const MAX_PASSWORD_PATTERN_LENGTH: usize = 256;

/// How many backtracking steps one password check may take; a check that needs more gets 422
/// naming `password` (fancy-regex's default is 1,000,000).
pub const PASSWORD_PATTERN_BACKTRACK_LIMIT: usize = 100_000;

/// A compiled `passwordPattern`: cheap to clone, compared by identity (a pattern read before a
/// check is the one in force after it only if it is the very same compiled value).
#[derive(Debug, Clone)]
pub(crate) struct PasswordPattern(Arc<fancy_regex::Regex>);

/// What a check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PasswordVerdict {
    /// The password matches the pattern (or there is no pattern).
    Matches,
    /// It does not.
    DoesNotMatch,
    /// The check passed [`PASSWORD_PATTERN_BACKTRACK_LIMIT`].
    TooComplex,
    /// Longer than [`MAX_PASSWORD_LENGTH`]: not checked at all.
    TooLong,
}

impl PasswordVerdict {
    /// The invalid-field message for `password`, when the verdict refuses it.
    pub(crate) fn refusal(self) -> Option<String> {
        match self {
            PasswordVerdict::Matches => None,
            PasswordVerdict::DoesNotMatch => {
                Some("does not match the organization's passwordPattern".into())
            }
            PasswordVerdict::TooComplex => Some(format!(
                "could not be checked against the organization's passwordPattern: the check \
                 needs more than the emulator's {PASSWORD_PATTERN_BACKTRACK_LIMIT} backtracking steps"
            )),
            PasswordVerdict::TooLong => {
                Some(format!("must be at most {MAX_PASSWORD_LENGTH} characters"))
            }
        }
    }
}

impl PasswordPattern {
    /// Whether both are the same compiled value (not merely equal text).
    pub(crate) fn same(&self, other: &PasswordPattern) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// Checks `password`; bounded by [`MAX_PASSWORD_LENGTH`] and the backtracking limit.
    pub(crate) fn check(&self, password: &str) -> PasswordVerdict {
        if password.chars().count() > MAX_PASSWORD_LENGTH {
            return PasswordVerdict::TooLong;
        }
        match self.0.is_match(password) {
            Ok(true) => PasswordVerdict::Matches,
            Ok(false) => PasswordVerdict::DoesNotMatch,
            Err(_) => PasswordVerdict::TooComplex,
        }
    }
}

/// A check made before the state lock was taken: the pattern it read, and its verdict. It
/// counts only while that very pattern is still in force.
#[derive(Debug, Clone)]
pub(crate) struct PasswordCheck {
    /// The pattern in force when the check started (`None`: no pattern).
    pub(crate) pattern: Option<PasswordPattern>,
    /// What it found.
    pub(crate) verdict: PasswordVerdict,
}

impl PasswordCheck {
    /// Whether `current` (the pattern in force now) is the one this check used.
    pub(crate) fn still_applies(&self, current: Option<&PasswordPattern>) -> bool {
        match (&self.pattern, current) {
            (None, None) => true,
            (Some(checked), Some(current)) => checked.same(current),
            _ => false,
        }
    }
}

/// Checks `password` against `pattern` (none: only the length cap applies).
pub(crate) fn check_password(pattern: Option<&PasswordPattern>, password: &str) -> PasswordVerdict {
    match pattern {
        Some(pattern) => pattern.check(password),
        None if password.chars().count() > MAX_PASSWORD_LENGTH => PasswordVerdict::TooLong,
        None => PasswordVerdict::Matches,
    }
}

/// Compiles a JS-style `/pattern/flags` literal (or a bare pattern) with `fancy-regex`.
/// Flags `i`, `m`, `s` map to inline flags; `g` and `u` are ignored; others are refused.
pub(crate) fn compile_password_pattern(pattern: &str) -> Result<PasswordPattern, String> {
    if pattern.chars().count() > MAX_PASSWORD_PATTERN_LENGTH {
        return Err(format!(
            "must be at most {MAX_PASSWORD_PATTERN_LENGTH} characters"
        ));
    }
    let (body, flags) = match pattern
        .strip_prefix('/')
        .and_then(|rest| rest.rsplit_once('/'))
    {
        Some((body, flags)) => (body, flags),
        None => (pattern, ""),
    };
    let mut inline = String::new();
    for flag in flags.chars() {
        match flag {
            'i' | 'm' | 's' => inline.push(flag),
            'g' | 'u' => {}
            other => {
                return Err(format!(
                    "the regular-expression flag `{other}` is not supported"
                ));
            }
        }
    }
    let source = if inline.is_empty() {
        body.to_owned()
    } else {
        format!("(?{inline}){body}")
    };
    fancy_regex::RegexBuilder::new(&source)
        .backtrack_limit(PASSWORD_PATTERN_BACKTRACK_LIMIT)
        .build()
        .map(|regex| PasswordPattern(Arc::new(regex)))
        .map_err(|e| format!("is not a supported regular expression: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pattern: &str, password: &str) -> PasswordVerdict {
        compile_password_pattern(pattern).unwrap().check(password)
    }

    #[test]
    fn patterns() {
        use PasswordVerdict::*;
        let strong = "/^(?=.*[A-Z])(?=.*\\d).{8,}$/";
        assert_eq!(check(strong, "Password1"), Matches);
        assert_eq!(check(strong, "password1"), DoesNotMatch);
        assert_eq!(check("/^abc$/i", "ABC"), Matches);
        assert!(compile_password_pattern("/x/y").is_err());
        assert!(compile_password_pattern("/(/").is_err());
        assert!(compile_password_pattern(&"a".repeat(MAX_PASSWORD_PATTERN_LENGTH + 1)).is_err());
        assert_eq!(check("^[0-9]+$", "12"), Matches);
        let at_cap = "a".repeat(MAX_PASSWORD_LENGTH);
        assert_eq!(check("^a+$", &at_cap), Matches);
        assert_eq!(check("^a+$", &format!("{at_cap}a")), TooLong);
        assert_eq!(check_password(None, &format!("{at_cap}a")), TooLong);
        assert_eq!(check_password(None, &at_cap), Matches);
        assert_eq!(check("(a|a)*(?=b)", &at_cap), TooComplex);
        let pattern = compile_password_pattern("^a$").unwrap();
        assert!(pattern.same(&pattern.clone()));
        assert!(!pattern.same(&compile_password_pattern("^a$").unwrap()));
    }
}
