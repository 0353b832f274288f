//! How results and errors read on the terminal: times in RFC 3339, absent values as words
//! (never `Some(…)` or a `Debug` struct), an error as its message and each cause on a line.

use std::error::Error as StdError;

use rebilly_auth_core::error_chain;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// `at` in RFC 3339 (UTC as `Z`).
pub(crate) fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

/// An optional expiry: its RFC 3339 time, or `never`.
pub(crate) fn expiry(at: Option<OffsetDateTime>) -> String {
    at.map_or_else(|| "never".to_owned(), rfc3339)
}

/// An optional text, or `-`.
pub(crate) fn or_dash(text: Option<&str>) -> &str {
    text.filter(|t| !t.is_empty()).unwrap_or("-")
}

/// A yes/no flag that may be absent (`-`).
pub(crate) fn yes_no(flag: Option<bool>) -> &'static str {
    match flag {
        Some(true) => "yes",
        Some(false) => "no",
        None => "-",
    }
}

/// `error`'s message, then each cause of its chain (core's `error_chain`) on a line of its
/// own, `caused by: …`. A cause that only repeats the message before it is left out.
pub(crate) fn error_text(error: &(dyn StdError + 'static)) -> String {
    let mut text = String::new();
    let mut previous = String::new();
    for (depth, cause) in error_chain(error).enumerate() {
        let message = cause.to_string();
        if message == previous {
            continue;
        }
        if depth > 0 {
            text.push_str("\n  caused by: ");
        }
        text.push_str(&message);
        previous = message;
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_absent_values_read_plainly() {
        let at = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        assert_eq!(rfc3339(at), "2027-01-15T08:00:00Z");
        assert_eq!(expiry(None), "never");
        assert_eq!(or_dash(Some("")), "-");
        assert_eq!(yes_no(Some(true)), "yes");
    }

    #[test]
    fn an_error_shows_its_causes() {
        let inner = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("no response")
            }
        }
        impl StdError for Outer {
            fn source(&self) -> Option<&(dyn StdError + 'static)> {
                Some(&self.0)
            }
        }
        assert_eq!(
            error_text(&Outer(inner)),
            "no response\n  caused by: refused"
        );
    }
}
