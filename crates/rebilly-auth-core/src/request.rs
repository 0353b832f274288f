//! [`Request`]: one call being built; `.await` it (or `.send().await`) to send it.

use std::borrow::Cow;
use std::future::{Future, IntoFuture};
use std::pin::Pin;

use bytes::Bytes;
use http::Method;
use serde::Serialize;

use crate::auth::{Auth, OrganizationId};
use crate::client::{Client, PreparedCall};
use crate::error::{Error, InvalidInput};
use crate::response::{RawResponse, WithMeta};
use crate::retry::RetryClass;
use crate::routes::OperationId;

/// Implemented by the SDK's 16 operation types only.
pub(crate) mod sealed {
    pub trait Sealed {}
}

/// One API operation: how to encode its request and decode its response. Each of the 16
/// operations is a type implementing it (`GetCredential`, `PostAuthenticationToken`, …), named
/// after the spec's `operationId`.
///
/// Sealed: the SDK implements it for its operations and nothing else can. What a user names
/// is [`Operation::Output`] (what a call returns) and [`Operation::ID`].
pub trait Operation: sealed::Sealed + Send + Sync + 'static {
    /// What a successful call returns.
    type Output: Send + 'static;
    /// Which operation this is: its `operationId`, method and route template.
    const ID: OperationId;

    #[doc(hidden)]
    /// The path after `/organizations/{organizationId}`, percent-encoded; rejects bad ids.
    fn path(&self) -> Result<Cow<'static, str>, InvalidInput>;

    #[doc(hidden)]
    /// The query string, if any.
    fn query(&self) -> Result<Option<String>, InvalidInput> {
        Ok(None)
    }

    #[doc(hidden)]
    /// The JSON body, if any.
    fn body(&self) -> Result<Option<Bytes>, Error> {
        Ok(None)
    }

    #[doc(hidden)]
    /// How safe a replay is; by default from the method.
    fn retry_class(&self) -> RetryClass {
        if Self::ID.method() == Method::POST {
            RetryClass::NonIdempotent
        } else {
            RetryClass::Idempotent
        }
    }

    #[doc(hidden)]
    /// Decodes the answer.
    fn decode(&self, response: &RawResponse) -> Result<Self::Output, Error>;
}

/// Serializes a request body.
pub(crate) fn json_body(value: &impl Serialize) -> Result<Option<Bytes>, Error> {
    serde_json::to_vec(value)
        .map(|body| Some(Bytes::from(body)))
        .map_err(|e| Error::InvalidInput(InvalidInput::new("request body", e.to_string())))
}

/// A call being built. It owns a [`Client`] clone, so its future is `Send + 'static`.
///
/// ```no_run
/// # async fn demo(client: rebilly_auth_core::Client) -> Result<(), rebilly_auth_core::Error> {
/// use rebilly_auth_core::Auth;
///
/// let credential = client
///     .credentials()
///     .get("cus_crd_0YV9Y706QGCB39FQD380G1ZHZH")
///     .organization("another-org")               // per-call organization
///     .auth(Auth::secret_key("sk_of_another_org")) // per-call credential
///     .await?;
/// # Ok(()) }
/// ```
#[must_use = "a request does nothing until awaited"]
pub struct Request<Op> {
    client: Client,
    operation: Op,
    organization: Option<OrganizationId>,
    auth: Option<Auth>,
}

impl<Op: std::fmt::Debug> std::fmt::Debug for Request<Op> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("operation", &self.operation)
            .field("organization", &self.organization)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

impl<Op: Clone> Clone for Request<Op> {
    fn clone(&self) -> Self {
        Self {
            client: self.client.clone(),
            operation: self.operation.clone(),
            organization: self.organization.clone(),
            auth: self.auth.clone(),
        }
    }
}

impl<Op: Operation> Request<Op> {
    pub(crate) fn new(client: Client, operation: Op) -> Self {
        Self {
            client,
            operation,
            organization: None,
            auth: None,
        }
    }

    /// Sends this call to another organization than the client's.
    pub fn organization(mut self, organization: impl Into<OrganizationId>) -> Self {
        self.organization = Some(organization.into());
        self
    }

    /// Sends this call with another credential than the client's, such as a publishable key
    /// or a customer JWT for the token operations.
    pub fn auth(mut self, auth: impl Into<Auth>) -> Self {
        self.auth = Some(auth.into());
        self
    }

    /// The operation's input.
    pub fn operation(&self) -> &Op {
        &self.operation
    }

    pub(crate) fn operation_mut(&mut self) -> &mut Op {
        &mut self.operation
    }

    fn prepare(&self) -> Result<PreparedCall, Error> {
        Ok(PreparedCall {
            operation: Op::ID,
            path: self.operation.path()?,
            query: self.operation.query()?,
            body: self.operation.body()?,
            class: self.operation.retry_class(),
            organization: self.organization.clone(),
            auth: self.auth.clone(),
        })
    }

    /// The `http::Request` this call would send first, without sending it: for tests of
    /// your own code and for debugging. Its URI and headers hold secrets: do not log them.
    pub fn to_http_request(&self) -> Result<http::Request<Bytes>, Error> {
        self.client.build_request(&self.prepare()?)
    }
}

impl<Op: Operation> Request<Op> {
    /// Sends the call and decodes the answer.
    pub async fn send(self) -> Result<Op::Output, Error> {
        let raw = self.client.execute(self.prepare()?).await?;
        self.operation.decode(&raw)
    }

    /// Sends the call; returns the decoded answer with its status, headers, rate-limit
    /// figures and attempt count.
    pub async fn send_with_meta(self) -> Result<WithMeta<Op::Output>, Error> {
        let raw = self.client.execute(self.prepare()?).await?;
        let value = self.operation.decode(&raw)?;
        Ok(WithMeta {
            value,
            meta: raw.meta,
        })
    }
}

impl<Op: Operation> IntoFuture for Request<Op> {
    type Output = Result<Op::Output, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'static>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}
