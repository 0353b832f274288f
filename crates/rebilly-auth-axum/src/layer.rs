//! The tower [`Layer`] and [`Service`], and the [`CurrentSession`] extractor.

use std::fmt;
use std::task::{Context, Poll};

use axum_core::BoxError;
use axum_core::body::Body;
use axum_core::extract::FromRequestParts;
use axum_core::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::request::Parts;
use rebilly_auth_core::Deletion;
use rebilly_auth_core::models::AuthToken;
use tower_layer::Layer;
use tower_service::Service;
use tracing::Instrument;

use crate::auth::{LogoutError, RebillyAuth, authentication_span};
use crate::cache::RevokeError;
use crate::customer::{AuthState, AuthenticatedCustomer};
use crate::metrics::Counters;
use crate::outcome::Rejection;
use crate::token::{TokenSource, Unreadable, is_unsafe, origin_allowed};

impl RebillyAuth {
    /// A layer that lets a request through only with a valid token (and no pending OTP,
    /// unless allowed); the handler gets an [`AuthenticatedCustomer`].
    pub fn layer(&self) -> RebillyAuthLayer {
        RebillyAuthLayer {
            auth: self.clone(),
            optional: false,
        }
    }

    /// A layer for routes where login is optional: a request without a token, or whose
    /// token is refused (401), passes as anonymous (`Option<AuthenticatedCustomer>` is
    /// `None`). Failures are not hidden: 500, 502, 503 and the CSRF 403 still answer.
    pub fn optional_layer(&self) -> RebillyAuthLayer {
        RebillyAuthLayer {
            auth: self.clone(),
            optional: true,
        }
    }

    /// Decides a request: `Ok` lets it through with its extensions set.
    async fn admit<B>(
        &self,
        request: &mut http::Request<B>,
        optional: bool,
    ) -> Result<(), Rejection> {
        let span = authentication_span();
        let decided = self
            .decide(request.method(), request.headers())
            .instrument(span.clone())
            .await;
        let customer = match decided {
            Ok(customer) => {
                Counters::inc(&self.shared.counters.authenticated);
                span.record("outcome", "authenticated");
                Some(customer)
            }
            Err(rejection) if optional && rejection.is_unauthenticated() => {
                span.record("outcome", "anonymous");
                None
            }
            Err(rejection) => {
                span.record("outcome", rejection.name());
                return Err(rejection);
            }
        };
        request.extensions_mut().insert(AuthState {
            auth: self.clone(),
            customer,
        });
        Ok(())
    }

    async fn decide(
        &self,
        method: &http::Method,
        headers: &http::HeaderMap,
    ) -> Result<AuthenticatedCustomer, Rejection> {
        let s = &*self.shared;
        let token = match s.source.read(headers) {
            Ok(token) => token,
            Err(Unreadable::Missing) => {
                Counters::inc(&s.counters.missing_token);
                return Err(Rejection::MissingToken);
            }
            Err(Unreadable::Malformed) => {
                Counters::inc(&s.counters.malformed_token);
                return Err(Rejection::MalformedToken);
            }
        };
        if matches!(s.source, TokenSource::Cookie(_))
            && is_unsafe(method)
            && !origin_allowed(headers, &s.allowed_origins)
        {
            Counters::inc(&s.counters.cross_origin);
            return Err(Rejection::CrossOrigin);
        }
        self.authenticate_inner(token).await
    }
}

/// The tower layer: wraps a service (an axum `Router`, a route, any tower service over
/// `http::Request`) so that only authenticated requests reach it. Made by
/// [`RebillyAuth::layer`] or [`RebillyAuth::optional_layer`].
#[derive(Clone)]
pub struct RebillyAuthLayer {
    auth: RebillyAuth,
    optional: bool,
}

impl fmt::Debug for RebillyAuthLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RebillyAuthLayer")
            .field("auth", &self.auth)
            .field("optional", &self.optional)
            .finish()
    }
}

impl<S> Layer<S> for RebillyAuthLayer {
    type Service = RebillyAuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RebillyAuthService {
            inner,
            auth: self.auth.clone(),
            optional: self.optional,
        }
    }
}

/// The service [`RebillyAuthLayer`] makes. Rejected requests get the [`Rejection`]'s
/// response and never reach the inner service; admitted ones carry an
/// [`AuthenticatedCustomer`] (or, where login is optional, none) in their extensions.
#[derive(Clone)]
pub struct RebillyAuthService<S> {
    inner: S,
    auth: RebillyAuth,
    optional: bool,
}

impl<S> fmt::Debug for RebillyAuthService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RebillyAuthService")
            .field("auth", &self.auth)
            .field("optional", &self.optional)
            .finish_non_exhaustive()
    }
}

impl<S, B, ResBody> Service<http::Request<B>> for RebillyAuthService<S>
where
    S: Service<http::Request<B>, Response = http::Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
    ResBody: http_body::Body<Data = Bytes> + Send + 'static,
    ResBody::Error: Into<BoxError>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        // The clone that was driven to readiness serves this request.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let auth = self.auth.clone();
        let optional = self.optional;
        Box::pin(async move {
            match auth.admit(&mut request, optional).await {
                Ok(()) => inner
                    .call(request)
                    .await
                    .map(|response| response.map(Body::new)),
                Err(rejection) => Ok(rejection.into_response()),
            }
        })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RebillyAuth {
    type Rejection = Rejection;

    /// The [`RebillyAuth`] of the layer in front of the route.
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Rejection> {
        Ok(crate::customer::state(parts)?.auth.clone())
    }
}

/// The authenticated session of a request: its customer, and the means to end it. The
/// token stays inside (its `Debug` is redacted).
///
/// ```
/// use axum_core::response::IntoResponse;
/// use rebilly_auth_axum::CurrentSession;
///
/// async fn logout(session: CurrentSession) -> impl IntoResponse {
///     match session.logout().await {
///         Ok(_) => http::StatusCode::NO_CONTENT,
///         // The token is refused here already; Rebilly may still hold it.
///         Err(_) => http::StatusCode::BAD_GATEWAY,
///     }
/// }
/// ```
pub struct CurrentSession {
    auth: RebillyAuth,
    token: AuthToken,
    customer: AuthenticatedCustomer,
}

impl fmt::Debug for CurrentSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CurrentSession")
            .field("token", &self.token)
            .field("customer", &self.customer)
            .finish_non_exhaustive()
    }
}

impl CurrentSession {
    /// The customer.
    pub fn customer(&self) -> &AuthenticatedCustomer {
        &self.customer
    }

    /// Logs the customer out: the token is refused by this layer at once (a tombstone) and
    /// logged out upstream. See [`RebillyAuth::logout`].
    pub async fn logout(self) -> Result<Deletion, LogoutError> {
        self.auth.logout(self.token.expose()).await
    }

    /// Refuses the token in this layer from now on, without calling Rebilly. See
    /// [`RebillyAuth::invalidate`], whose errors it returns.
    pub async fn invalidate(self) -> Result<(), RevokeError> {
        self.auth.invalidate(self.token.expose()).await
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentSession {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Rejection> {
        let customer =
            <AuthenticatedCustomer as FromRequestParts<S>>::from_request_parts(parts, state)
                .await?;
        let auth = <RebillyAuth as FromRequestParts<S>>::from_request_parts(parts, state).await?;
        let token = auth
            .token_from_headers(&parts.headers)
            .ok_or(Rejection::MissingToken)?;
        Ok(Self {
            auth,
            token,
            customer,
        })
    }
}
