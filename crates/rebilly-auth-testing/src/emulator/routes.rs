//! The 8 route templates of the Customer Authentication API and path parsing.

use std::fmt;

/// A route template of the API (the part after `/organizations/{organizationId}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Route {
    /// `/authentication-options`
    AuthenticationOptions,
    /// `/authentication-tokens`
    AuthenticationTokens,
    /// `/authentication-tokens/{token}`
    AuthenticationToken,
    /// `/authentication-tokens/{token}/exchange`
    AuthenticationTokenExchange,
    /// `/credentials`
    Credentials,
    /// `/credentials/{id}`
    Credential,
    /// `/password-tokens`
    PasswordTokens,
    /// `/password-tokens/{id}`
    PasswordToken,
}

impl Route {
    /// Every route.
    pub const ALL: [Route; 8] = [
        Route::AuthenticationOptions,
        Route::AuthenticationTokens,
        Route::AuthenticationToken,
        Route::AuthenticationTokenExchange,
        Route::Credentials,
        Route::Credential,
        Route::PasswordTokens,
        Route::PasswordToken,
    ];

    /// The template as the spec writes it, e.g. `/authentication-tokens/{token}`.
    pub fn template(self) -> &'static str {
        match self {
            Route::AuthenticationOptions => "/authentication-options",
            Route::AuthenticationTokens => "/authentication-tokens",
            Route::AuthenticationToken => "/authentication-tokens/{token}",
            Route::AuthenticationTokenExchange => "/authentication-tokens/{token}/exchange",
            Route::Credentials => "/credentials",
            Route::Credential => "/credentials/{id}",
            Route::PasswordTokens => "/password-tokens",
            Route::PasswordToken => "/password-tokens/{id}",
        }
    }

    /// The route of a template written as [`Route::template`] does.
    pub fn from_template(template: &str) -> Option<Route> {
        Route::ALL.into_iter().find(|r| r.template() == template)
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.template())
    }
}

/// A parsed request path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Parsed {
    /// The organization (percent-decoded); `None` when the path omits it.
    pub(crate) organization: Option<String>,
    pub(crate) route: Route,
    /// The `{token}` or `{id}` (percent-decoded).
    pub(crate) param: Option<String>,
}

/// Percent-decodes a path segment; `None` if it is not valid UTF-8 after decoding.
pub(crate) fn percent_decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(byte) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Parses `/organizations/{org}/<route>` (liberally: empty segments from doubled or trailing
/// slashes are ignored, and the `/organizations/{org}` prefix may be missing, for the deprecated
/// `Organization-Id` header).
pub(crate) fn parse(path: &str) -> Option<Parsed> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let (organization, rest) = match segments.as_slice() {
        ["organizations", org, rest @ ..] => (Some(percent_decode(org)?), rest),
        rest => (None, rest),
    };
    let decode = |s: &str| percent_decode(s);
    let (route, param) = match rest {
        ["authentication-options"] => (Route::AuthenticationOptions, None),
        ["authentication-tokens"] => (Route::AuthenticationTokens, None),
        ["authentication-tokens", token] => (Route::AuthenticationToken, Some(decode(token)?)),
        ["authentication-tokens", token, "exchange"] => {
            (Route::AuthenticationTokenExchange, Some(decode(token)?))
        }
        ["credentials"] => (Route::Credentials, None),
        ["credentials", id] => (Route::Credential, Some(decode(id)?)),
        ["password-tokens"] => (Route::PasswordTokens, None),
        ["password-tokens", id] => (Route::PasswordToken, Some(decode(id)?)),
        _ => return None,
    };
    Some(Parsed {
        organization,
        route,
        param,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_liberally() {
        let p = parse("/organizations/my%20org/authentication-tokens/a%2Fb/exchange/").unwrap();
        assert_eq!(p.organization.as_deref(), Some("my org"));
        assert_eq!(p.route, Route::AuthenticationTokenExchange);
        assert_eq!(p.param.as_deref(), Some("a/b"));
        assert_eq!(
            parse("//organizations/o//credentials").unwrap().route,
            Route::Credentials
        );
        assert_eq!(parse("/credentials").unwrap().organization, None);
        assert!(parse("/organizations/o/nope").is_none());
        assert_eq!(percent_decode("%zz%4"), Some("%zz%4".into()));
        for r in Route::ALL {
            assert_eq!(Route::from_template(r.template()), Some(r));
        }
    }
}
