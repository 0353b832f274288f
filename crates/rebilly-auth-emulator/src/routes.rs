//! Reading a request path against core's route templates (the one list, in
//! `rebilly_auth_core::routes`), percent-decoding its segments.

use http::Method;
use percent_encoding::percent_decode_str;
use rebilly_auth_core::OperationId;
use rebilly_auth_core::routes::RoutedPath;

/// A parsed request path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Parsed {
    /// The organization (percent-decoded); `None` when the path omits it.
    pub(crate) organization: Option<String>,
    /// The route template the path matched.
    pub(crate) template: &'static str,
    /// The operation of the request's method on that template; `None` for a method the route
    /// does not serve.
    pub(crate) operation: Option<OperationId>,
    /// The `{token}` or `{id}` (percent-decoded).
    pub(crate) param: Option<String>,
}

/// Percent-decodes a path segment; `None` if it is not valid UTF-8 after decoding. Invalid
/// escapes (`%zz`) are kept as sent.
fn percent_decode(segment: &str) -> Option<String> {
    percent_decode_str(segment)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

/// Parses a path as [`RoutedPath::parse`] does, for a request with `method`.
pub(crate) fn parse(method: &Method, path: &str) -> Option<Parsed> {
    let routed = RoutedPath::parse(path)?;
    let organization = match routed.organization {
        Some(segment) => Some(percent_decode(segment)?),
        None => None,
    };
    let param = match routed.param {
        Some(segment) => Some(percent_decode(segment)?),
        None => None,
    };
    Some(Parsed {
        organization,
        template: routed.template,
        operation: OperationId::from_route(method, routed.template),
        param,
    })
}

/// The methods a route template serves, as an `Allow` header lists them: its operations'
/// methods, `HEAD` where it serves `GET`, and `OPTIONS`.
pub(crate) fn allowed_methods(template: &str) -> String {
    let mut methods: Vec<String> = OperationId::ALL
        .iter()
        .filter(|op| op.path_template() == template)
        .map(|op| op.method().to_string())
        .collect();
    if methods.iter().any(|m| m == "GET") {
        methods.push("HEAD".into());
    }
    methods.push("OPTIONS".into());
    methods.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_liberally_and_decodes() {
        let p = parse(
            &Method::POST,
            "/organizations/my%20org/authentication-tokens/a%2Fb/exchange/",
        )
        .unwrap();
        assert_eq!(p.organization.as_deref(), Some("my org"));
        assert_eq!(
            p.operation,
            Some(OperationId::PostAuthenticationTokenExchange)
        );
        assert_eq!(p.param.as_deref(), Some("a/b"));
        let listed = parse(&Method::GET, "//organizations/o//credentials").unwrap();
        assert_eq!(listed.operation, Some(OperationId::GetCredentialCollection));
        let patch = parse(&Method::PATCH, "/credentials").unwrap();
        assert_eq!((patch.organization, patch.operation), (None, None));
        assert!(parse(&Method::GET, "/organizations/o/nope").is_none());
        assert_eq!(percent_decode("%zz%4"), Some("%zz%4".into()));
        assert_eq!(percent_decode("%FF"), None);
        assert_eq!(
            allowed_methods("/credentials/{id}"),
            "GET, PUT, DELETE, HEAD, OPTIONS"
        );
        assert_eq!(
            allowed_methods("/authentication-tokens/{token}/exchange"),
            "POST, OPTIONS"
        );
    }
}
