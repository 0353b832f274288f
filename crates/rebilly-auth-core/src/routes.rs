//! The API's one list of operations and route templates.
//!
//! [`OperationId`] names each of the 16 operations by the spec's `operationId` and knows its
//! method and path template. Errors carry it, spans record its template, and the testing
//! crate's fakes match requests and faults by it, so the table below is the only copy.

use std::fmt;

use http::Method;

/// One of the API's 16 operations, named by the spec's `operationId`.
///
/// ```
/// use rebilly_auth_core::OperationId;
///
/// let op = OperationId::recognize(&http::Method::GET, "/organizations/acme/credentials/cred_1");
/// assert_eq!(op, Some(OperationId::GetCredential));
/// assert_eq!(OperationId::GetCredential.path_template(), "/credentials/{id}");
/// assert_eq!(OperationId::GetCredential.to_string(), "GetCredential");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum OperationId {
    /// `GET /authentication-options`
    GetAuthenticationOption,
    /// `PUT /authentication-options`
    PutAuthenticationOption,
    /// `GET /authentication-tokens`
    GetAuthenticationTokenCollection,
    /// `POST /authentication-tokens` (login)
    PostAuthenticationToken,
    /// `GET /authentication-tokens/{token}` (verify)
    GetAuthenticationTokenVerification,
    /// `DELETE /authentication-tokens/{token}` (logout)
    DeleteAuthenticationToken,
    /// `POST /authentication-tokens/{token}/exchange`
    PostAuthenticationTokenExchange,
    /// `GET /credentials`
    GetCredentialCollection,
    /// `POST /credentials`
    PostCredential,
    /// `GET /credentials/{id}`
    GetCredential,
    /// `PUT /credentials/{id}`
    PutCredential,
    /// `DELETE /credentials/{id}`
    DeleteCredential,
    /// `GET /password-tokens`
    GetPasswordTokenCollection,
    /// `POST /password-tokens`
    PostPasswordToken,
    /// `GET /password-tokens/{id}`
    GetPasswordToken,
    /// `DELETE /password-tokens/{id}`
    DeletePasswordToken,
}

/// The path prefix every template follows; `{organizationId}` is the organization.
pub const ORGANIZATION_PREFIX: &str = "/organizations/{organizationId}";

/// Every route template of the API (the part after [`ORGANIZATION_PREFIX`]), each once.
pub const ROUTE_TEMPLATES: &[&str] = &[
    "/authentication-options",
    "/authentication-tokens",
    "/authentication-tokens/{token}",
    "/authentication-tokens/{token}/exchange",
    "/credentials",
    "/credentials/{id}",
    "/password-tokens",
    "/password-tokens/{id}",
];

impl OperationId {
    /// Every operation, in the spec's order. A slice: an operation added later is no
    /// breaking change.
    pub const ALL: &'static [OperationId] = &[
        OperationId::GetAuthenticationOption,
        OperationId::PutAuthenticationOption,
        OperationId::GetAuthenticationTokenCollection,
        OperationId::PostAuthenticationToken,
        OperationId::GetAuthenticationTokenVerification,
        OperationId::DeleteAuthenticationToken,
        OperationId::PostAuthenticationTokenExchange,
        OperationId::GetCredentialCollection,
        OperationId::PostCredential,
        OperationId::GetCredential,
        OperationId::PutCredential,
        OperationId::DeleteCredential,
        OperationId::GetPasswordTokenCollection,
        OperationId::PostPasswordToken,
        OperationId::GetPasswordToken,
        OperationId::DeletePasswordToken,
    ];

    /// The spec's `operationId`, such as `GetCredential`.
    pub fn name(self) -> &'static str {
        self.row().0
    }

    /// The HTTP method.
    pub fn method(self) -> Method {
        self.row().1
    }

    /// The path template after [`ORGANIZATION_PREFIX`], such as `/credentials/{id}`: one of
    /// [`ROUTE_TEMPLATES`].
    pub fn path_template(self) -> &'static str {
        self.row().2
    }

    /// The whole URL path template, organization included, such as
    /// `/organizations/{organizationId}/credentials/{id}` (what spans record as
    /// `url.template`; never the real path, which may hold a token).
    pub fn url_template(self) -> &'static str {
        self.row().3
    }

    /// The operation with this `operationId`, if any.
    pub fn from_name(name: &str) -> Option<OperationId> {
        Self::ALL.iter().copied().find(|op| op.name() == name)
    }

    /// The operation of `method` on a route template (one of [`ROUTE_TEMPLATES`]), if any.
    pub fn from_route(method: &Method, template: &str) -> Option<OperationId> {
        Self::ALL
            .iter()
            .copied()
            .find(|op| op.path_template() == template && op.row().1 == method)
    }

    /// The operation a request is, from its method and path (query excluded), as
    /// [`RoutedPath::parse`] reads paths. `None` for any other route or method.
    pub fn recognize(method: &Method, path: &str) -> Option<OperationId> {
        let routed = RoutedPath::parse(path)?;
        Self::from_route(method, routed.template)
    }

    /// The path template split around its one parameter's segment: what comes before the
    /// segment's `/` and what follows its `}` (`("/credentials", "")` for
    /// `/credentials/{id}`); `(template, "")` for a template with no parameter. Split at
    /// compile time, so filling a path searches nothing.
    pub(crate) fn path_parts(self) -> (&'static str, &'static str) {
        self.row().4
    }

    // One row per operation: name, method, template, full template, the template's parts
    // around its parameter. The only copy.
    #[allow(clippy::type_complexity)]
    fn row(
        self,
    ) -> (
        &'static str,
        Method,
        &'static str,
        &'static str,
        (&'static str, &'static str),
    ) {
        macro_rules! row {
            ($name:literal, $method:ident, $template:literal) => {
                (
                    $name,
                    Method::$method,
                    $template,
                    concat!("/organizations/{organizationId}", $template),
                    const { split_template($template) },
                )
            };
        }
        match self {
            OperationId::GetAuthenticationOption => {
                row!("GetAuthenticationOption", GET, "/authentication-options")
            }
            OperationId::PutAuthenticationOption => {
                row!("PutAuthenticationOption", PUT, "/authentication-options")
            }
            OperationId::GetAuthenticationTokenCollection => row!(
                "GetAuthenticationTokenCollection",
                GET,
                "/authentication-tokens"
            ),
            OperationId::PostAuthenticationToken => {
                row!("PostAuthenticationToken", POST, "/authentication-tokens")
            }
            OperationId::GetAuthenticationTokenVerification => row!(
                "GetAuthenticationTokenVerification",
                GET,
                "/authentication-tokens/{token}"
            ),
            OperationId::DeleteAuthenticationToken => row!(
                "DeleteAuthenticationToken",
                DELETE,
                "/authentication-tokens/{token}"
            ),
            OperationId::PostAuthenticationTokenExchange => row!(
                "PostAuthenticationTokenExchange",
                POST,
                "/authentication-tokens/{token}/exchange"
            ),
            OperationId::GetCredentialCollection => {
                row!("GetCredentialCollection", GET, "/credentials")
            }
            OperationId::PostCredential => row!("PostCredential", POST, "/credentials"),
            OperationId::GetCredential => row!("GetCredential", GET, "/credentials/{id}"),
            OperationId::PutCredential => row!("PutCredential", PUT, "/credentials/{id}"),
            OperationId::DeleteCredential => row!("DeleteCredential", DELETE, "/credentials/{id}"),
            OperationId::GetPasswordTokenCollection => {
                row!("GetPasswordTokenCollection", GET, "/password-tokens")
            }
            OperationId::PostPasswordToken => row!("PostPasswordToken", POST, "/password-tokens"),
            OperationId::GetPasswordToken => row!("GetPasswordToken", GET, "/password-tokens/{id}"),
            OperationId::DeletePasswordToken => {
                row!("DeletePasswordToken", DELETE, "/password-tokens/{id}")
            }
        }
    }
}

/// `template` split around its one `/{parameter}` segment (see [`OperationId::path_parts`]);
/// evaluated at compile time for every row.
const fn split_template(template: &'static str) -> (&'static str, &'static str) {
    let bytes = template.as_bytes();
    let mut brace = 0;
    while brace < bytes.len() && bytes[brace] != b'{' {
        brace += 1;
    }
    if brace == bytes.len() {
        return (template, "");
    }
    let mut close = brace;
    while close < bytes.len() && bytes[close] != b'}' {
        close += 1;
    }
    let end = if close < bytes.len() {
        close + 1
    } else {
        close
    };
    // Every template starts with `/`, so a `{` is never first (else: a compile-time error).
    let (prefix, _) = bytes.split_at(brace - 1);
    let (_, suffix) = bytes.split_at(end);
    (ascii(prefix), ascii(suffix))
}

/// Bytes of a route template as `str` (templates are ASCII; a compile-time error otherwise).
const fn ascii(bytes: &'static [u8]) -> &'static str {
    match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(_) => panic!("route templates are ASCII"),
    }
}

impl fmt::Display for OperationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A request path read against [`ROUTE_TEMPLATES`]. Segments stay as sent (percent-encoded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RoutedPath<'a> {
    /// The `{organizationId}` segment; `None` when the path has no `/organizations/{id}`
    /// prefix (the deprecated `Organization-Id` header names it then).
    pub organization: Option<&'a str>,
    /// The matching template, one of [`ROUTE_TEMPLATES`].
    pub template: &'static str,
    /// The `{token}` or `{id}` segment, for templates that have one.
    pub param: Option<&'a str>,
}

impl<'a> RoutedPath<'a> {
    /// Reads `path` (without its query). Liberal, as servers are: empty segments from doubled
    /// or trailing slashes are ignored, and the `/organizations/{id}` prefix may be missing.
    /// `None` when no template matches.
    ///
    /// ```
    /// use rebilly_auth_core::routes::RoutedPath;
    ///
    /// let routed = RoutedPath::parse("/organizations/acme/authentication-tokens/t%201/exchange").unwrap();
    /// assert_eq!(routed.organization, Some("acme"));
    /// assert_eq!(routed.template, "/authentication-tokens/{token}/exchange");
    /// assert_eq!(routed.param, Some("t%201"));
    /// assert!(RoutedPath::parse("/organizations/acme/customers").is_none());
    /// ```
    pub fn parse(path: &'a str) -> Option<RoutedPath<'a>> {
        let mut segments = path.split('/').filter(|s| !s.is_empty());
        let mut first = segments.next()?;
        let mut organization = None;
        if first == "organizations" {
            organization = Some(segments.next()?);
            first = segments.next()?;
        }
        // No template has more than three segments: read at most three, without allocating.
        let mut rest = [first, "", ""];
        let mut len = 1;
        for segment in segments {
            *rest.get_mut(len)? = segment;
            len += 1;
        }
        let rest = &rest[..len];
        ROUTE_TEMPLATES.iter().find_map(|&template| {
            let mut param = None;
            let mut parts = template.split('/').skip(1);
            for segment in rest {
                match parts.next()? {
                    part if part.starts_with('{') => param = Some(*segment),
                    part if part == *segment => {}
                    _ => return None,
                }
            }
            if parts.next().is_some() {
                return None;
            }
            Some(RoutedPath {
                organization,
                template,
                param,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_parts_put_back_together_give_the_template() {
        for &op in OperationId::ALL {
            let template = op.path_template();
            let (prefix, suffix) = op.path_parts();
            match template.find('{') {
                None => assert_eq!((prefix, suffix), (template, ""), "{op}"),
                Some(brace) => {
                    let close = template.find('}').expect("closed");
                    let param = &template[brace - 1..=close];
                    assert_eq!(format!("{prefix}{param}{suffix}"), template, "{op}");
                    assert!(param.starts_with("/{"), "{op}: {param}");
                }
            }
        }
        assert_eq!(
            OperationId::PostAuthenticationTokenExchange.path_parts(),
            ("/authentication-tokens", "/exchange")
        );
    }

    #[test]
    fn every_template_has_operations_and_every_operation_a_template() {
        for &template in ROUTE_TEMPLATES {
            assert!(
                OperationId::ALL
                    .iter()
                    .any(|op| op.path_template() == template)
            );
        }
        for &op in OperationId::ALL {
            assert!(ROUTE_TEMPLATES.contains(&op.path_template()));
            assert_eq!(OperationId::from_name(op.name()), Some(op));
            assert_eq!(
                OperationId::from_route(&op.method(), op.path_template()),
                Some(op)
            );
            assert_eq!(
                op.url_template(),
                format!("{ORGANIZATION_PREFIX}{}", op.path_template())
            );
        }
    }

    #[test]
    fn recognizes_paths_with_and_without_the_organization() {
        let get = Method::GET;
        assert_eq!(
            OperationId::recognize(&get, "/organizations/o/authentication-tokens/abc"),
            Some(OperationId::GetAuthenticationTokenVerification)
        );
        assert_eq!(
            OperationId::recognize(&Method::DELETE, "//password-tokens/x/"),
            Some(OperationId::DeletePasswordToken)
        );
        assert_eq!(
            OperationId::recognize(&Method::PATCH, "/credentials/x"),
            None
        );
        assert_eq!(OperationId::recognize(&get, "/organizations/o"), None);
        assert_eq!(OperationId::recognize(&get, "/"), None);
        assert_eq!(OperationId::recognize(&get, "/credentials/a/b"), None);
        // A longer path is no route, even when it starts like one.
        assert_eq!(
            OperationId::recognize(&Method::POST, "/authentication-tokens/t/exchange/more"),
            None
        );
    }
}
