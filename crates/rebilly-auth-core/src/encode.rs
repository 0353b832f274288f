//! Turning user input into URL parts safely: validation and percent-encoding.
//!
//! Every path segment is percent-encoded with everything but RFC 3986's unreserved characters
//! escaped, so no id or token can add a segment, a query or a fragment.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::error::InvalidInput;

/// Everything but `A-Z a-z 0-9 - . _ ~` is escaped.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The API's largest `limit` and `offset`.
pub const MAX_LIMIT: u32 = 1000;
/// The live API's largest `offset`.
pub const MAX_OFFSET: u32 = 1000;

/// Checks a path value that is not a resource id (an organization id, a token): not empty and
/// not a dot segment.
pub(crate) fn check_segment(what: &'static str, value: &str) -> Result<(), InvalidInput> {
    if value.is_empty() {
        return Err(InvalidInput::new(what, "must not be empty"));
    }
    if value == "." || value == ".." {
        return Err(InvalidInput::new(what, "must not be `.` or `..`"));
    }
    Ok(())
}

/// The longest authentication-token value sent (in bytes).
pub(crate) const MAX_TOKEN_LEN: usize = 1024;

/// Checks an authentication-token value before it goes into a path. Token values come
/// straight from browsers (cookies, headers), so they are untrusted: not empty, not a dot
/// segment, no byte below 0x21 (controls, space) or 0x7F, at most [`MAX_TOKEN_LEN`] bytes.
/// No allowlist, so a future token format still passes; the rest is percent-encoded into one
/// segment.
pub(crate) fn check_token(what: &'static str, value: &str) -> Result<(), InvalidInput> {
    check_segment(what, value)?;
    if value.len() > MAX_TOKEN_LEN {
        return Err(InvalidInput::new(
            what,
            format!("must be at most {MAX_TOKEN_LEN} bytes"),
        ));
    }
    if value.bytes().any(|b| b < 0x21 || b == 0x7F) {
        return Err(InvalidInput::new(
            what,
            "must not hold spaces or control characters",
        ));
    }
    Ok(())
}

/// Checks a resource id against the spec's `resourceId`: 1 to 50 of ASCII `[@~\-.A-Za-z0-9_]`.
pub(crate) fn check_resource_id(what: &'static str, value: &str) -> Result<(), InvalidInput> {
    check_segment(what, value)?;
    if value.len() > 50 {
        return Err(InvalidInput::new(what, "must be at most 50 characters"));
    }
    if !value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"@~-._".contains(&b))
    {
        return Err(InvalidInput::new(
            what,
            "may hold only ASCII letters, digits and @ ~ - . _",
        ));
    }
    Ok(())
}

/// Appends `/` and the percent-encoded `segment` to `path`.
pub(crate) fn push_segment(path: &mut String, segment: &str) {
    path.push('/');
    // The encoder yields borrowed runs and escapes; pushing them skips `fmt`'s machinery.
    path.extend(utf8_percent_encode(segment, SEGMENT));
}

/// The path of a route with its one parameter set to `value`, percent-encoded as one segment,
/// from the route's template split around that parameter
/// ([`OperationId::path_parts`](crate::OperationId), done at compile time): no path prefix is
/// written twice, and nothing is searched per call.
pub(crate) fn fill_template((prefix, suffix): (&str, &str), value: &str) -> String {
    let mut path = String::with_capacity(prefix.len() + 1 + value.len() * 3 + suffix.len());
    path.push_str(prefix);
    push_segment(&mut path, value);
    path.push_str(suffix);
    path
}

/// The query string of a listing, or `None` when neither is set.
pub(crate) fn list_query(
    limit: Option<u32>,
    offset: Option<u32>,
) -> Result<Option<String>, InvalidInput> {
    if limit.is_some_and(|l| l > MAX_LIMIT) {
        return Err(InvalidInput::new(
            "limit",
            format!("must be at most {MAX_LIMIT}"),
        ));
    }
    if offset.is_some_and(|o| o > MAX_OFFSET) {
        return Err(InvalidInput::new(
            "offset",
            format!("must be at most {MAX_OFFSET}"),
        ));
    }
    Ok(match (limit, offset) {
        (None, None) => None,
        (Some(l), None) => Some(format!("limit={l}")),
        (None, Some(o)) => Some(format!("offset={o}")),
        (Some(l), Some(o)) => Some(format!("limit={l}&offset={o}")),
    })
}

/// Checks a header value we send: visible ASCII and spaces only (no CR, LF or control bytes).
pub(crate) fn check_header_text(what: &'static str, value: &str) -> Result<(), InvalidInput> {
    if value.bytes().all(|b| b == b' ' || b.is_ascii_graphic()) {
        Ok(())
    } else {
        Err(InvalidInput::new(
            what,
            "may hold only visible ASCII and spaces (no CR, LF or control bytes)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_cannot_escape() {
        let mut path = String::new();
        push_segment(&mut path, "a/../b?c=d#e f%2Fé");
        assert_eq!(path, "/a%2F..%2Fb%3Fc%3Dd%23e%20f%252F%C3%A9");
    }

    #[test]
    fn resource_ids_follow_the_spec() {
        assert!(check_resource_id("id", "cus_crd_0YV9Y706QGCB39FQD380G1ZHZH").is_ok());
        assert!(check_resource_id("id", "4f6cf35x-2c4y-483z-a0a9-158621f77a21").is_ok());
        assert!(check_resource_id("id", "a@b~c.d").is_ok());
        for bad in ["", ".", "..", "a/b", "a b", "é", &"x".repeat(51)] {
            assert!(check_resource_id("id", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn untrusted_tokens() {
        assert!(check_token("token", "tok_0YV7DDSDD1C8DA64KHH2W33CPF").is_ok());
        assert!(check_token("token", "a/b?c#d%é").is_ok(), "no allowlist");
        assert!(check_token("token", &"x".repeat(1024)).is_ok());
        for bad in [
            "",
            ".",
            "..",
            "a b",
            "a\tb",
            "a\u{7f}",
            "\r\n",
            &"x".repeat(1025),
        ] {
            assert!(check_token("token", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn list_bounds() {
        assert_eq!(list_query(None, None).unwrap(), None);
        assert_eq!(
            list_query(Some(10), Some(20)).unwrap().unwrap(),
            "limit=10&offset=20"
        );
        assert!(list_query(Some(1001), None).is_err());
        assert!(list_query(None, Some(1001)).is_err());
    }
}
