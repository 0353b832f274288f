//! [`BlockingClient`] and its [`BlockingClientBuilder`]: a core [`Client`] over a
//! [`BlockingTransport`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::transport::{Adapter, BlockingTransport, ThreadSleep};
use crate::auth::{Auth, OrganizationId, SecretKey};
use crate::client::{Client, ClientBuilder, Environment};
use crate::error::BuildError;
use crate::retry::RetryPolicy;
use crate::runtime::{Clock, Sleep};

/// The blocking client of the Customer Authentication API: the async [`Client`]'s methods,
/// each call sent with `.send()` on the calling thread. Cheap to clone, `Send + Sync`, not
/// generic over its transport. See the [module docs](super) for how it works and for calling
/// it inside an async runtime.
///
/// ```
/// use bytes::Bytes;
/// use rebilly_auth_core::blocking::{blocking_transport_fn, BlockingClient};
///
/// let transport = blocking_transport_fn(|_request| unreachable!("nothing is sent here"));
/// let client = BlockingClient::builder()
///     .server_url("http://127.0.0.1:8080")
///     .organization("my-org")
///     .secret_key("sk_sandbox_xxx")
///     .transport(transport)
///     .build()?;
/// assert_eq!(client.organization().as_str(), "my-org");
/// assert!(!format!("{client:?}").contains("sk_sandbox_xxx"));
/// # Ok::<_, rebilly_auth_core::BuildError>(())
/// ```
#[derive(Clone)]
pub struct BlockingClient {
    pub(super) client: Client,
    transport: Arc<dyn BlockingTransport>,
}

impl fmt::Debug for BlockingClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The core client's Debug: root, organization, auth kind, policy; never a secret.
        f.debug_tuple("BlockingClient").field(&self.client).finish()
    }
}

impl BlockingClient {
    /// A builder; give it at least an organization and a transport.
    ///
    /// ```
    /// let error = rebilly_auth_core::blocking::BlockingClient::builder()
    ///     .organization("org")
    ///     .build()
    ///     .unwrap_err();
    /// assert!(error.to_string().contains("transport"));
    /// ```
    pub fn builder() -> BlockingClientBuilder {
        BlockingClientBuilder {
            inner: Client::builder().sleep(Arc::new(ThreadSleep)),
            transport: None,
        }
    }

    /// The organization requests go to unless a call overrides it.
    ///
    /// ```
    /// # let client = rebilly_auth_core::blocking::BlockingClient::builder().organization("org")
    /// #     .transport(rebilly_auth_core::blocking::blocking_transport_fn(|_| unreachable!()))
    /// #     .build().unwrap();
    /// assert_eq!(client.organization().as_str(), "org");
    /// ```
    pub fn organization(&self) -> &OrganizationId {
        self.client.organization()
    }

    /// The server URL, such as `https://api-sandbox.rebilly.com`.
    ///
    /// ```
    /// # let client = rebilly_auth_core::blocking::BlockingClient::builder().organization("org")
    /// #     .transport(rebilly_auth_core::blocking::blocking_transport_fn(|_| unreachable!()))
    /// #     .build().unwrap();
    /// assert_eq!(client.server_url(), "https://api-sandbox.rebilly.com");
    /// ```
    pub fn server_url(&self) -> &str {
        self.client.server_url()
    }

    /// The retry policy.
    ///
    /// ```
    /// # let client = rebilly_auth_core::blocking::BlockingClient::builder().organization("org")
    /// #     .transport(rebilly_auth_core::blocking::blocking_transport_fn(|_| unreachable!()))
    /// #     .build().unwrap();
    /// assert_eq!(client.retry_policy().max_attempts, 3);
    /// ```
    pub fn retry_policy(&self) -> &RetryPolicy {
        self.client.retry_policy()
    }

    /// The transport.
    ///
    /// ```
    /// # let client = rebilly_auth_core::blocking::BlockingClient::builder().organization("org")
    /// #     .transport(rebilly_auth_core::blocking::blocking_transport_fn(|_| Err(
    /// #         rebilly_auth_core::TransportError::connect("refused"))))
    /// #     .build().unwrap();
    /// let error = client.transport().send(http::Request::new(bytes::Bytes::new())).unwrap_err();
    /// assert!(!error.may_have_reached_server());
    /// ```
    pub fn transport(&self) -> &Arc<dyn BlockingTransport> {
        &self.transport
    }
}

/// Builds a [`BlockingClient`]. Every setting is [`ClientBuilder`]'s, with its meaning and
/// default; what differs is the transport (a [`BlockingTransport`]) and the default
/// [`Sleep`] ([`ThreadSleep`]).
///
/// ```
/// use std::time::Duration;
/// use rebilly_auth_core::RetryPolicy;
/// use rebilly_auth_core::blocking::{blocking_transport_fn, BlockingClient};
///
/// let client = BlockingClient::builder()
///     .server_url("http://127.0.0.1:8080")
///     .organization("my-org")
///     .secret_key("sk_test")
///     .retry_policy(RetryPolicy::default().max_attempts(5))
///     .attempt_timeout(Duration::from_secs(5))
///     .call_timeout(Duration::from_secs(20))
///     .transport(blocking_transport_fn(|_| unreachable!()))
///     .build()?;
/// assert_eq!(client.retry_policy().max_attempts, 5);
/// # Ok::<_, rebilly_auth_core::BuildError>(())
/// ```
#[must_use]
pub struct BlockingClientBuilder {
    inner: ClientBuilder,
    transport: Option<Result<Arc<dyn BlockingTransport>, BuildError>>,
}

impl fmt::Debug for BlockingClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("BlockingClientBuilder")
            .field(&self.inner)
            .finish()
    }
}

/// Forwards a setter to the wrapped [`ClientBuilder`], with its documentation.
macro_rules! forward {
    ($(#[$doc:meta])* $name:ident($($arg:ident: $ty:ty),*)) => {
        $(#[$doc])*
        pub fn $name(mut self, $($arg: $ty),*) -> Self {
            self.inner = self.inner.$name($($arg),*);
            self
        }
    };
}

impl BlockingClientBuilder {
    /// The transport requests go through (required): `rebilly-auth-ureq`'s, a fake, a mock,
    /// or your own. The client shares it (`Arc`).
    pub fn transport(mut self, transport: impl BlockingTransport + 'static) -> Self {
        self.transport = Some(Ok(Arc::new(transport)));
        self
    }

    /// A transport whose construction may have failed (such as its TLS setup): its error is
    /// reported by [`build`](Self::build), as [`BuildError::Transport`] (a transport's own
    /// `BuildError` as is).
    pub fn try_transport<T, E>(mut self, transport: Result<T, E>) -> Self
    where
        T: BlockingTransport + 'static,
        E: Into<BuildError>,
    {
        self.transport = Some(match transport {
            Ok(transport) => Ok(Arc::new(transport)),
            Err(error) => Err(error.into()),
        });
        self
    }

    forward!(
        /// Sandbox (the default), Live, or a custom server root.
        environment(environment: Environment)
    );
    forward!(
        /// A custom server root, such as `http://127.0.0.1:8080`.
        server_url(root: impl Into<String>)
    );
    forward!(
        /// The organization requests go to (required).
        organization(organization: impl Into<OrganizationId>)
    );
    forward!(
        /// The credential every request carries unless a call overrides it.
        auth(auth: impl Into<Auth>)
    );
    forward!(
        /// Shorthand for `auth(Auth::secret_key(key))`.
        secret_key(key: impl Into<SecretKey>)
    );
    forward!(
        /// The `User-Agent` (default `rebilly-auth-rust/<version>`).
        user_agent(user_agent: impl Into<String>)
    );
    forward!(
        /// The retry policy (on by default; [`RetryPolicy::none`] turns it off).
        retry_policy(policy: RetryPolicy)
    );
    forward!(
        /// The longest one attempt may take (default 30 s); the transport applies it.
        attempt_timeout(timeout: Duration)
    );
    forward!(
        /// The longest a whole call may take, retries included (default 60 s).
        call_timeout(timeout: Duration)
    );
    forward!(
        /// The largest response body accepted (default 4 MiB).
        body_limit(bytes: usize)
    );
    forward!(
        /// How to wait between attempts (default [`ThreadSleep`]). Its futures must complete
        /// in their first poll (block, or not wait at all): one that stays pending fails the
        /// call with an error, since nothing here would ever poll it again.
        sleep(sleep: Arc<dyn Sleep>)
    );
    forward!(
        /// How to read the wall clock (default: the system clock), for
        /// `X-RateLimit-Retry-After`.
        clock(clock: Arc<dyn Clock>)
    );
    forward!(
        /// Allows `http://` server roots that are not loopback (refused by default).
        allow_insecure_http(allow: bool)
    );

    /// Checks the configuration and builds the client, with [`ClientBuilder::build`]'s checks.
    pub fn build(self) -> Result<BlockingClient, BuildError> {
        let transport = match self.transport {
            Some(Ok(transport)) => transport,
            Some(Err(error)) => return Err(error),
            None => return Err(BuildError::Invalid("a transport is required")),
        };
        let client = self
            .inner
            .transport(Adapter(transport.clone()))
            .attempt_timeout_in_request()
            .build()?;
        Ok(BlockingClient { client, transport })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_transport_setup_is_the_build_error() {
        let failed: Result<Arc<dyn BlockingTransport>, BuildError> =
            Err(BuildError::Invalid("no TLS provider"));
        let error = BlockingClient::builder()
            .organization("org")
            .try_transport(failed)
            .build()
            .unwrap_err();
        assert!(error.to_string().contains("no TLS provider"), "{error}");
    }

    #[test]
    fn send_sync_clone() {
        fn assert<T: Send + Sync + Clone + 'static>() {}
        assert::<BlockingClient>();
    }
}
