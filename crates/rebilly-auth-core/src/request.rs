//! [`Request`]: one call being built; `.await` it (or `.send().await`) to send it.

use std::borrow::Cow;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use http::Method;
use serde::Serialize;

use crate::auth::{Auth, OrganizationId};
use crate::client::{Client, PreparedCall};
use crate::decode::RawResponse;
use crate::error::{Error, InvalidInput};
use crate::response::WithMeta;
use crate::retry::{RetryClass, RetryPolicy};
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
    retry: Option<RetryPolicy>,
    call_timeout: Option<Duration>,
    attempt_timeout: Option<Duration>,
}

impl<Op: std::fmt::Debug> std::fmt::Debug for Request<Op> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("operation", &self.operation)
            .field("organization", &self.organization)
            .field("auth", &self.auth)
            .field("retry", &self.retry)
            .field("call_timeout", &self.call_timeout)
            .field("attempt_timeout", &self.attempt_timeout)
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
            retry: self.retry.clone(),
            call_timeout: self.call_timeout,
            attempt_timeout: self.attempt_timeout,
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
            retry: None,
            call_timeout: None,
            attempt_timeout: None,
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

    /// Retries this call as `policy` says instead of the client's policy
    /// ([`RetryPolicy::none`] for a single attempt). The operation's own rules still apply: a
    /// POST is never replayed after an ambiguous failure, whatever the policy.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// The longest this call may take, retries included, instead of the client's call
    /// timeout. Zero is refused when the call is sent ([`Error::InvalidInput`]).
    ///
    /// ```no_run
    /// # async fn f(client: rebilly_auth_core::Client) -> Result<(), rebilly_auth_core::Error> {
    /// use std::time::Duration;
    /// use rebilly_auth_core::RetryPolicy;
    ///
    /// // A verify on a request's hot path: 2 s at most, one retry.
    /// let verification = client
    ///     .authentication_tokens()
    ///     .verify("a-token-value")
    ///     .retry_policy(RetryPolicy::default().max_attempts(2))
    ///     .call_timeout(Duration::from_secs(2))
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = Some(timeout);
        self
    }

    /// The longest one attempt of this call may take, instead of the client's attempt
    /// timeout. Zero is refused when the call is sent ([`Error::InvalidInput`]).
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = Some(timeout);
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
        for (what, timeout) in [
            ("call timeout", self.call_timeout),
            ("attempt timeout", self.attempt_timeout),
        ] {
            if timeout.is_some_and(|t| t.is_zero()) {
                return Err(Error::InvalidInput(InvalidInput::new(
                    what,
                    "must be greater than zero",
                )));
            }
        }
        Ok(PreparedCall {
            operation: Op::ID,
            path: self.operation.path()?,
            query: self.operation.query()?,
            body: self.operation.body()?,
            class: self.operation.retry_class(),
            organization: self.organization.clone(),
            auth: self.auth.clone(),
            retry: self.retry.clone(),
            call_timeout: self.call_timeout,
            attempt_timeout: self.attempt_timeout,
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
