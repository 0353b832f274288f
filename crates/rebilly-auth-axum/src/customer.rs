//! [`AuthenticatedCustomer`]: who the request's token belongs to, as the handler sees it.

use std::fmt;
use std::sync::Arc;

use axum_core::extract::{FromRequestParts, OptionalFromRequestParts};
use http::request::Parts;
use rebilly_auth_core::models::{CredentialId, CustomerId};
use time::OffsetDateTime;

use crate::outcome::Rejection;

/// The customer a request's token belongs to, as verify described it. The layer inserts it
/// into the request's extensions; handlers take it as an extractor:
///
/// ```
/// use rebilly_auth_axum::AuthenticatedCustomer;
///
/// async fn me(customer: AuthenticatedCustomer) -> String {
///     format!("{} ({})", customer.username(), customer.customer_id().as_str())
/// }
///
/// // Where login is optional (a layer built with `RebillyAuth::optional_layer`):
/// async fn home(customer: Option<AuthenticatedCustomer>) -> String {
///     match customer {
///         Some(customer) => format!("hello {}", customer.username()),
///         None => "hello stranger".to_owned(),
///     }
/// }
/// ```
///
/// It holds no token and no link (whose `href` holds the token): it is what the verify cache
/// stores. Cheap to clone (one `Arc`).
#[derive(Clone, PartialEq, Eq)]
pub struct AuthenticatedCustomer {
    inner: Arc<Identity>,
}

#[derive(PartialEq, Eq)]
struct Identity {
    customer_id: CustomerId,
    username: String,
    credential_id: Option<CredentialId>,
    expires_at: Option<OffsetDateTime>,
    otp_pending: bool,
}

impl AuthenticatedCustomer {
    /// A customer from its parts: for a shared [`VerifyCache`](crate::VerifyCache) reading an
    /// entry back, and for tests of handlers.
    pub fn new(
        customer_id: CustomerId,
        username: impl Into<String>,
        credential_id: Option<CredentialId>,
        expires_at: Option<OffsetDateTime>,
        otp_pending: bool,
    ) -> Self {
        Self {
            inner: Arc::new(Identity {
                customer_id,
                username: username.into(),
                credential_id,
                expires_at,
                otp_pending,
            }),
        }
    }

    /// The customer's id.
    pub fn customer_id(&self) -> &CustomerId {
        &self.inner.customer_id
    }

    /// The customer's username.
    pub fn username(&self) -> &str {
        &self.inner.username
    }

    /// The credential the customer logged in with, if verify said.
    pub fn credential_id(&self) -> Option<&CredentialId> {
        self.inner.credential_id.as_ref()
    }

    /// When the token expires (`None`: verify gave no expiry).
    pub fn expires_at(&self) -> Option<OffsetDateTime> {
        self.inner.expires_at
    }

    /// Whether a one-time password is still pending: the customer logged in with a password
    /// only. Such sessions reach a handler only with
    /// [`allow_pending_otp`](crate::RebillyAuthBuilder::allow_pending_otp).
    pub fn otp_pending(&self) -> bool {
        self.inner.otp_pending
    }
}

impl fmt::Debug for AuthenticatedCustomer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthenticatedCustomer")
            .field("customer_id", &self.inner.customer_id)
            .field("username", &self.inner.username)
            .field("credential_id", &self.inner.credential_id)
            .field("expires_at", &self.inner.expires_at)
            .field("otp_pending", &self.inner.otp_pending)
            .finish()
    }
}

/// What the layer decided for a request, in its extensions (one insert per request).
#[derive(Clone, Debug)]
pub(crate) struct AuthState {
    /// The layer's shared state (for [`CurrentSession`](crate::CurrentSession)).
    pub(crate) auth: crate::RebillyAuth,
    /// The customer; `None` for an anonymous request where login is optional.
    pub(crate) customer: Option<AuthenticatedCustomer>,
}

pub(crate) fn state(parts: &Parts) -> Result<&AuthState, Rejection> {
    parts.extensions.get::<AuthState>().ok_or_else(|| {
        tracing::error!(
            "an extractor of rebilly-auth-axum (AuthenticatedCustomer, CurrentSession, \
             RebillyAuth) was used on a route without the RebillyAuthLayer: add the layer \
             (RebillyAuth::layer or optional_layer) to this route"
        );
        Rejection::LayerMissing
    })
}

impl<S: Send + Sync> FromRequestParts<S> for AuthenticatedCustomer {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Rejection> {
        state(parts)?
            .customer
            .clone()
            .ok_or(Rejection::MissingToken)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for AuthenticatedCustomer {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Rejection> {
        Ok(state(parts)?.customer.clone())
    }
}
