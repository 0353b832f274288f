//! A blocking client (feature `blocking`): the async [`Client`](crate::Client)'s API, with no
//! async runtime anywhere on its path.
//!
//! [`BlockingClient`] has the async client's methods (`client.credentials().get(id)`,
//! `client.authentication_tokens().login(..)`, …), each returning a [`BlockingRequest`] with the
//! same per-call settings, sent with `.send()`. Listings are iterators
//! ([`BlockingRequest::items`]). Its transport is a [`BlockingTransport`], one method; the
//! `rebilly-auth-ureq` crate ships one on ureq 3.
//!
//! ```
//! use bytes::Bytes;
//! use rebilly_auth_core::blocking::{blocking_transport_fn, BlockingClient};
//! use rebilly_auth_core::models::Login;
//!
//! // A fake server: answers every login with a token.
//! let transport = blocking_transport_fn(|request: http::Request<Bytes>| {
//!     assert_eq!(request.uri().path(), "/organizations/my-org/authentication-tokens");
//!     let body = r#"{"username":"ada","token":"tok_1","customerId":"cus_1","expiredTime":null}"#;
//!     Ok(http::Response::builder().status(201).body(Bytes::from(body)).unwrap())
//! });
//! let client = BlockingClient::builder()
//!     .organization("my-org")
//!     .secret_key("sk_sandbox_xxx")
//!     .transport(transport)
//!     .build()?;
//! let token = client.authentication_tokens().login(Login::password("ada", "pw")).send()?;
//! assert_eq!(token.token.expose(), "tok_1");
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! ```
//!
//! ## One set of rules
//!
//! A blocking client *is* a [`Client`](crate::Client) underneath: every call runs core's own
//! attempt loop, so retries, deadlines, `Retry-After`, the exchange's safety
//! ([`Error::ExchangeOutcomeUnknown`]), redaction, spans
//! and errors are the async client's, not a copy. The loop sees the blocking transport through
//! an adapter whose future makes the blocking call in its first poll, and waits between
//! attempts with [`ThreadSleep`], whose future sleeps in its first poll: each call's future is
//! then complete after one poll, which a plain function does (no executor, no reactor, no
//! thread). Since a blocking call cannot be cancelled, each attempt's time limit reaches the
//! transport as an [`AttemptTimeout`](crate::AttemptTimeout) in the request's extensions.
//!
//! ## Inside an async runtime
//!
//! It works there, with no panic and no deadlock, and blocks the calling thread for the
//! call's duration, as any blocking I/O does: on a tokio worker that thread runs no other task
//! meanwhile. Prefer the async client in async code, or call this one from
//! `tokio::task::spawn_blocking`.
//!
//! **The trap: a server on the same single-threaded runtime.** If the server the client calls
//! (an emulator, a test server) runs as a task of a `current_thread` runtime, and the blocking
//! call is made on that runtime's thread, the server can never run to answer: the call waits
//! until its timeout. Run such a server on a runtime of its own thread, or in its own process.
//! (The multi-threaded runtime hides the trap only while another worker is free.)

mod api;
mod client;
mod request;
mod transport;

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

pub use api::{
    BlockingAuthenticationOptionsApi, BlockingAuthenticationTokensApi, BlockingCredentialsApi,
    BlockingResetPasswordTokensApi,
};
pub use client::{BlockingClient, BlockingClientBuilder};
pub use request::{BlockingItems, BlockingRequest};
#[cfg(feature = "mock")]
pub use transport::MockBlockingTransport;
pub use transport::{BlockingTransport, BlockingTransportFn, ThreadSleep, blocking_transport_fn};

use crate::error::Error;
use crate::routes::OperationId;
use crate::transport::TransportError;

/// Polls `future` once and returns its output.
///
/// This is not a runtime: nothing here waits, wakes or schedules. Under a blocking client
/// every future that can be pending is one of two: the transport adapter's, which makes the
/// blocking call in its first poll, and [`ThreadSleep`]'s, which sleeps in its first poll;
/// both are ready at once, so the whole call is complete after one poll and the no-op waker
/// is never needed. A future still pending (a custom [`Sleep`](crate::Sleep) given to the
/// builder that does not complete at once) is a typed error, never a spin or a panic.
fn poll_once<F: Future>(future: F, operation: OperationId) -> Result<F::Output, Error> {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => Ok(output),
        Poll::Pending => Err(not_ready(operation)),
    }
}

/// The error of a future that was not complete after its one poll.
fn not_ready(operation: OperationId) -> Error {
    Error::Transport {
        operation,
        source: TransportError::other(
            "the blocking client's call did not complete in one poll: its Sleep (or \
             transport) is asynchronous; give the builder one that blocks, such as ThreadSleep",
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use bytes::Bytes;

    use super::*;
    use crate::runtime::{Sleep, SleepFuture};

    /// Each attempt's limit reaches the transport, and the transport's timeout after sending
    /// is the async race's outcome: `Error::Timeout` of scope `Attempt`, retried for a GET.
    #[test]
    fn the_attempt_timeout_reaches_the_transport_and_its_expiry_is_the_attempts_timeout() {
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = seen.clone();
        let transport = blocking_transport_fn(move |request: http::Request<Bytes>| {
            log.lock()
                .unwrap()
                .push(crate::AttemptTimeout::of(&request));
            Err(TransportError::timeout("ureq: timeout: global"))
        });
        let client = BlockingClient::builder()
            .organization("org")
            .secret_key("sk")
            .attempt_timeout(Duration::from_secs(2))
            .retry_policy(crate::RetryPolicy::default().initial_backoff(Duration::from_millis(1)))
            .transport(transport)
            .build()
            .unwrap();
        let error = client.credentials().get("crd_1").send().unwrap_err();
        assert!(
            matches!(
                error,
                Error::Timeout {
                    scope: crate::TimeoutScope::Attempt,
                    ..
                }
            ),
            "{error:?}"
        );
        assert_eq!(*seen.lock().unwrap(), [Some(Duration::from_secs(2)); 3]);
    }

    #[test]
    fn a_future_pending_after_its_one_poll_is_a_typed_error() {
        let error = poll_once(std::future::pending::<()>(), OperationId::GetCredential);
        assert!(matches!(error, Err(Error::Transport { .. })), "{error:?}");
    }

    /// A `Sleep` that never completes: the retry after a reset fails the call at once.
    #[derive(Debug)]
    struct Never;

    impl Sleep for Never {
        fn sleep(&self, _: Duration) -> SleepFuture {
            Box::pin(std::future::pending())
        }
    }

    #[test]
    fn an_asynchronous_sleep_fails_the_call_instead_of_hanging() {
        let transport =
            blocking_transport_fn(|_: http::Request<Bytes>| Err(TransportError::io("reset")));
        let client = BlockingClient::builder()
            .organization("org")
            .secret_key("sk")
            .sleep(Arc::new(Never))
            .transport(transport)
            .build()
            .unwrap();
        let error = client.credentials().get("crd_1").send().unwrap_err();
        let shown = format!("{:?}", error);
        assert!(shown.contains("did not complete in one poll"), "{shown}");
        let mut items = client.credentials().list().items();
        assert!(items.next().unwrap().is_err());
        assert!(items.next().is_none(), "the iterator ends after it");
    }
}
