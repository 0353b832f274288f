//! Tracing HTTP requests without recording secrets.
//!
//! Request paths carry secrets: the verify, logout and exchange paths hold the customer's
//! token (`/authentication-tokens/{token}`), password-token paths hold the reset token.
//! tower-http's `TraceLayer` at its default configuration (`DefaultMakeSpan`) records the whole
//! URI in its span, so every event logged inside it (`started processing request`, …) prints
//! the token. Make the span with [`redacted_span`] instead; it records the method and the
//! [`route_template`] only:
//!
//! ```
//! use bytes::Bytes;
//! use http_body_util::Full;
//! use tower_http::trace::TraceLayer;
//!
//! let layer = TraceLayer::new_for_http()
//!     .make_span_with(rebilly_auth_tower::trace::redacted_span::<Full<Bytes>>);
//! let service = tower::ServiceBuilder::new().layer(layer).service_fn(|_: http::Request<Full<Bytes>>| async {
//!     Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(Bytes::new())))
//! });
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! use tower::ServiceExt;
//! let request = http::Request::new(Full::new(Bytes::new()));
//! assert_eq!(service.oneshot(request).await.unwrap().status(), http::StatusCode::OK);
//! # });
//! ```

use rebilly_auth_core::routes::RoutedPath;

/// The route template of an SDK request path: `/authentication-tokens/{token}` for
/// `/organizations/acme/authentication-tokens/3f1c…`. Only fixed strings come out (never a
/// piece of `path`): an unknown path is `{unrecognised}`.
///
/// ```
/// use rebilly_auth_tower::trace::route_template;
///
/// assert_eq!(
///     route_template("/organizations/acme/authentication-tokens/secret-token/exchange"),
///     "/authentication-tokens/{token}/exchange"
/// );
/// assert_eq!(route_template("/base/organizations/acme/credentials"), "/credentials");
/// assert_eq!(route_template("/organizations/acme/password-tokens/reset-token"), "/password-tokens/{id}");
/// assert_eq!(route_template("/some/other/secret-path"), "{unrecognised}");
/// ```
pub fn route_template(path: &str) -> &'static str {
    // `…/organizations/{organization}/{route}`, read by core's route table; from the right,
    // in case a base path or an organization id is itself `organizations`. No allocation.
    let mut end = path.len();
    while let Some(start) = path[..end].rfind("/organizations") {
        // `/organizations` followed by `/`, not `/organizationsX`.
        let routed = Some(&path[start..])
            .filter(|from| from["/organizations".len()..].starts_with('/'))
            .and_then(RoutedPath::parse);
        if let Some(routed) = routed {
            return routed.template;
        }
        end = start;
    }
    "{unrecognised}"
}

/// A `DEBUG` span named `request` with the request's `method`, [`route_template`] and
/// `version`, and nothing else of the URI: pass it to tower-http's
/// `TraceLayer::make_span_with` (any function `Fn(&http::Request<B>) -> tracing::Span` is a
/// `MakeSpan`).
///
/// ```
/// let request = http::Request::get("https://api.example/organizations/o/authentication-tokens/tok")
///     .body(())
///     .unwrap();
/// # let span = tracing::subscriber::with_default(tracing_subscriber::registry(), || {
/// let span = rebilly_auth_tower::trace::redacted_span(&request);
/// # span });
/// let meta = span.metadata().unwrap();
/// assert_eq!(meta.name(), "request");
/// // Its only fields: `route` is `/authentication-tokens/{token}`; no field holds the URI.
/// let fields: Vec<_> = meta.fields().iter().map(|f| f.name()).collect();
/// assert_eq!(fields, ["method", "route", "version"]);
/// ```
pub fn redacted_span<B>(request: &http::Request<B>) -> tracing::Span {
    tracing::debug_span!(
        "request",
        method = %request.method(),
        route = %route_template(request.uri().path()),
        version = ?request.version(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_of_the_sdk() {
        let org = "/organizations/org";
        for (path, template) in [
            ("/authentication-options", "/authentication-options"),
            ("/authentication-tokens", "/authentication-tokens"),
            ("/authentication-tokens/t", "/authentication-tokens/{token}"),
            (
                "/authentication-tokens/t/exchange",
                "/authentication-tokens/{token}/exchange",
            ),
            ("/credentials", "/credentials"),
            ("/credentials/c", "/credentials/{id}"),
            ("/password-tokens", "/password-tokens"),
            ("/password-tokens/p", "/password-tokens/{id}"),
        ] {
            assert_eq!(route_template(&format!("{org}{path}")), template);
        }
    }

    #[test]
    fn odd_paths_never_echo_their_input() {
        assert_eq!(
            route_template("/organizations/organizations/credentials"),
            "/credentials"
        );
        assert_eq!(route_template("/organizations/o"), "{unrecognised}");
        assert_eq!(
            route_template("/organizations/o/authentication-tokens/a/b/c"),
            "{unrecognised}"
        );
        assert_eq!(route_template(""), "{unrecognised}");
    }
}
