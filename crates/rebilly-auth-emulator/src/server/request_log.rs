//! The HTTP face's log: one `tracing` event per request, at INFO, with target
//! [`REQUEST_LOG_TARGET`]: method, route template, status, duration. Never the path as sent
//! (it may hold a token), never the query (`?token=` of the inbox page), never a header or a
//! body.

use std::fmt;
use std::time::Duration;

use http::{Method, StatusCode};
use rebilly_auth_core::routes::RoutedPath;

use super::REQUEST_LOG_TARGET;
use crate::control;

/// What a path that names no route logs instead of itself.
pub(crate) const UNROUTED: &str = "<unrouted>";

/// The route template a request path is logged as: the API's templates with the
/// `/organizations/{organizationId}` prefix (as the journal shows them), the control API's
/// endpoints, or [`UNROUTED`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Route {
    prefix: &'static str,
    template: &'static str,
}

impl Route {
    /// The route of `path` (without its query).
    pub(crate) fn of(path: &str) -> Self {
        let (prefix, template) = if control::is_control_path(path) {
            ("", control::endpoint(path).unwrap_or(UNROUTED))
        } else {
            match RoutedPath::parse(path) {
                Some(routed) => ("/organizations/{organizationId}", routed.template),
                None => ("", UNROUTED),
            }
        };
        Route { prefix, template }
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.prefix, self.template)
    }
}

/// Emits the request's line: `POST /organizations/{organizationId}/authentication-tokens 201
/// 1.3ms`; `dropped` in place of a status when the connection was closed without an answer.
pub(crate) fn log(method: &Method, route: Route, status: Option<StatusCode>, elapsed: Duration) {
    let millis = elapsed.as_secs_f64() * 1000.0;
    match status {
        Some(status) => tracing::info!(
            target: REQUEST_LOG_TARGET,
            "{method} {route} {} {millis:.1}ms",
            status.as_u16()
        ),
        None => tracing::info!(
            target: REQUEST_LOG_TARGET,
            "{method} {route} dropped {millis:.1}ms"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_templates_never_paths() {
        let shown = |path: &str| Route::of(path).to_string();
        assert_eq!(
            shown("/organizations/acme/authentication-tokens/tok_secret/exchange"),
            "/organizations/{organizationId}/authentication-tokens/{token}/exchange"
        );
        assert_eq!(
            shown("/credentials/cred_1"),
            "/organizations/{organizationId}/credentials/{id}"
        );
        assert_eq!(
            shown("/__emulator/clock/advance/"),
            "/__emulator/clock/advance"
        );
        assert_eq!(shown("/__emulator"), "/__emulator/");
        assert_eq!(shown("/__emulator/tok_secret"), UNROUTED);
        assert_eq!(shown("/organizations/acme/tok_secret"), UNROUTED);
        assert_eq!(shown("/"), UNROUTED);
    }
}
