//! [`BlockingRequest`]: one call being built, sent with `.send()`; and [`BlockingItems`], a
//! listing's items across pages.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::Bytes;
use futures_core::Stream;
use futures_core::stream::BoxStream;

use super::{not_ready, poll_once};
use crate::auth::{Auth, OrganizationId};
use crate::error::Error;
use crate::pagination::ListOperation;
use crate::request::{Operation, Request};
use crate::response::WithMeta;
use crate::retry::RetryPolicy;
use crate::routes::OperationId;

/// A call being built: core's [`Request`] with the same per-call settings, sent on the
/// calling thread by [`send`](Self::send).
///
/// ```
/// use std::time::Duration;
/// use bytes::Bytes;
/// use rebilly_auth_core::{Auth, RetryPolicy};
/// use rebilly_auth_core::blocking::{blocking_transport_fn, BlockingClient};
///
/// let transport = blocking_transport_fn(|request: http::Request<Bytes>| {
///     assert_eq!(request.uri().path(), "/organizations/another-org/credentials/crd_1");
///     assert_eq!(request.headers()["reb-apikey"], "sk_of_another_org");
///     let body = r#"{"id":"crd_1","username":"ada","customerId":"cus_1"}"#;
///     Ok(http::Response::new(Bytes::from(body)))
/// });
/// let client = BlockingClient::builder()
///     .organization("org")
///     .secret_key("sk_test")
///     .transport(transport)
///     .build()?;
/// let credential = client
///     .credentials()
///     .get("crd_1")
///     .organization("another-org")
///     .auth(Auth::secret_key("sk_of_another_org"))
///     .retry_policy(RetryPolicy::none())
///     .call_timeout(Duration::from_secs(5))
///     .attempt_timeout(Duration::from_secs(2))
///     .send()?;
/// assert_eq!(credential.customer_id.as_str(), "cus_1");
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// ```
#[must_use = "a request does nothing until sent"]
pub struct BlockingRequest<Op>(Request<Op>);

impl<Op: fmt::Debug> fmt::Debug for BlockingRequest<Op> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("BlockingRequest").field(&self.0).finish()
    }
}

impl<Op: Clone> Clone for BlockingRequest<Op> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<Op: Operation> BlockingRequest<Op> {
    pub(super) fn new(request: Request<Op>) -> Self {
        Self(request)
    }

    /// Sends this call to another organization than the client's
    /// ([`Request::organization`]).
    pub fn organization(self, organization: impl Into<OrganizationId>) -> Self {
        Self(self.0.organization(organization))
    }

    /// Sends this call with another credential than the client's ([`Request::auth`]).
    pub fn auth(self, auth: impl Into<Auth>) -> Self {
        Self(self.0.auth(auth))
    }

    /// Retries this call as `policy` says ([`Request::retry_policy`]); the operation's own
    /// rules still apply.
    pub fn retry_policy(self, policy: RetryPolicy) -> Self {
        Self(self.0.retry_policy(policy))
    }

    /// The longest this call may take, retries included ([`Request::call_timeout`]).
    pub fn call_timeout(self, timeout: Duration) -> Self {
        Self(self.0.call_timeout(timeout))
    }

    /// The longest one attempt of this call may take ([`Request::attempt_timeout`]).
    pub fn attempt_timeout(self, timeout: Duration) -> Self {
        Self(self.0.attempt_timeout(timeout))
    }

    /// The operation's input.
    ///
    /// ```
    /// # let client = rebilly_auth_core::blocking::BlockingClient::builder().organization("org")
    /// #     .transport(rebilly_auth_core::blocking::blocking_transport_fn(|_| unreachable!()))
    /// #     .build().unwrap();
    /// let request = client.credentials().get("crd_1");
    /// assert_eq!(request.operation().id.as_str(), "crd_1");
    /// ```
    pub fn operation(&self) -> &Op {
        self.0.operation()
    }

    /// The `http::Request` this call would send first, without sending it
    /// ([`Request::to_http_request`]). Its URI and headers hold secrets: do not log them.
    ///
    /// ```
    /// # let client = rebilly_auth_core::blocking::BlockingClient::builder().organization("org")
    /// #     .transport(rebilly_auth_core::blocking::blocking_transport_fn(|_| unreachable!()))
    /// #     .build().unwrap();
    /// let request = client.authentication_tokens().logout("tok_1").to_http_request()?;
    /// assert_eq!(request.method(), http::Method::DELETE);
    /// # Ok::<_, rebilly_auth_core::Error>(())
    /// ```
    pub fn to_http_request(&self) -> Result<http::Request<Bytes>, Error> {
        self.0.to_http_request()
    }

    /// Sends the call on this thread and decodes the answer.
    pub fn send(self) -> Result<Op::Output, Error> {
        poll_once(self.0.send(), Op::ID)?
    }

    /// Sends the call; returns the decoded answer with its status, headers, rate-limit
    /// figures and attempt count.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use rebilly_auth_core::blocking::{blocking_transport_fn, BlockingClient};
    ///
    /// let transport = blocking_transport_fn(|_| {
    ///     Ok(http::Response::builder()
    ///         .status(204)
    ///         .header("x-ratelimit-remaining", "41")
    ///         .body(Bytes::new())
    ///         .unwrap())
    /// });
    /// let client = BlockingClient::builder().organization("org").secret_key("sk")
    ///     .transport(transport).build()?;
    /// let deleted = client.credentials().delete("crd_1").send_with_meta()?;
    /// assert_eq!(deleted.meta.status, 204);
    /// assert_eq!(deleted.meta.attempts, 1);
    /// assert_eq!(deleted.meta.rate_limit.remaining, Some(41));
    /// # Ok::<_, Box<dyn std::error::Error>>(())
    /// ```
    pub fn send_with_meta(self) -> Result<WithMeta<Op::Output>, Error> {
        poll_once(self.0.send_with_meta(), Op::ID)?
    }
}

impl<Op: ListOperation> BlockingRequest<Op> {
    /// Items per page, 0 to 1000.
    pub fn limit(self, limit: u32) -> Self {
        Self(self.0.limit(limit))
    }

    /// Where the page starts, 0 to 1000.
    pub fn offset(self, offset: u32) -> Self {
        Self(self.0.offset(offset))
    }

    /// Every item from this request's offset on, fetched page by page as the iterator is
    /// read: [`Request::stream`]'s pages and rules (it ends after the first error, on a short
    /// page or at `Pagination-Total`, and yields
    /// [`Error::OffsetLimitReached`] past offset 1000). `for item in request` does the same.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use rebilly_auth_core::blocking::{blocking_transport_fn, BlockingClient};
    ///
    /// let transport = blocking_transport_fn(|request: http::Request<Bytes>| {
    ///     let query = request.uri().query().unwrap_or_default();
    ///     assert!(query.contains("limit=2"), "{query}");
    ///     let body = if query.contains("offset=2") {
    ///         r#"[{"username":"c"}]"#
    ///     } else {
    ///         r#"[{"username":"a"},{"username":"b"}]"#
    ///     };
    ///     Ok(http::Response::new(Bytes::from(body)))
    /// });
    /// let client = BlockingClient::builder().organization("org").secret_key("sk")
    ///     .transport(transport).build()?;
    /// let names: Vec<String> = client
    ///     .authentication_tokens()
    ///     .list()
    ///     .limit(2)
    ///     .items()
    ///     .map(|token| token.map(|t| t.username))
    ///     .collect::<Result<_, _>>()?;
    /// assert_eq!(names, ["a", "b", "c"]);
    /// # Ok::<_, Box<dyn std::error::Error>>(())
    /// ```
    pub fn items(self) -> BlockingItems<Op::Item> {
        BlockingItems {
            stream: Some(self.0.stream()),
            operation: Op::ID,
        }
    }
}

impl<Op: ListOperation> IntoIterator for BlockingRequest<Op> {
    type Item = Result<Op::Item, Error>;
    type IntoIter = BlockingItems<Op::Item>;

    fn into_iter(self) -> Self::IntoIter {
        self.items()
    }
}

/// A listing's items across pages, each page fetched on this thread when the iterator
/// reaches it; see [`BlockingRequest::items`].
#[must_use = "an iterator does nothing until read"]
pub struct BlockingItems<I> {
    /// Core's own stream of items; `None` once it failed to complete in one poll.
    stream: Option<BoxStream<'static, Result<I, Error>>>,
    operation: OperationId,
}

impl<I> fmt::Debug for BlockingItems<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingItems")
            .field("operation", &self.operation)
            .finish_non_exhaustive()
    }
}

impl<I> Iterator for BlockingItems<I> {
    type Item = Result<I, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        let stream = self.stream.as_mut()?;
        // One poll, as in `poll_once`: each item is ready after it (see there why).
        match Pin::new(stream).poll_next(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(item) => item,
            Poll::Pending => {
                self.stream = None;
                Some(Err(not_ready(self.operation)))
            }
        }
    }
}
