//! [`BlockingTransport`], the synchronous seam, and the two adapters that let core's async
//! attempt loop run over it with no runtime: [`Adapter`] (an [`HttpTransport`] whose future
//! makes the blocking call in its first poll) and [`ThreadSleep`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use crate::runtime::{Sleep, SleepFuture};
use crate::transport::{HttpTransport, TransportError};

/// Sends one HTTP request and returns the complete response, blocking the calling thread:
/// the transport of a [`BlockingClient`](super::BlockingClient).
///
/// The rules of [`HttpTransport`] apply: never follow redirects, enforce the
/// [`BodyLimit`](crate::BodyLimit) of the request's extensions, and say honestly whether a
/// failed request may have reached the server. One more: apply the
/// [`AttemptTimeout`](crate::AttemptTimeout) found in the request's extensions to the whole
/// exchange, failing with [`TransportErrorKind::Timeout`](crate::TransportErrorKind::Timeout)
/// when it passes (a blocking call cannot be cancelled from outside).
///
/// A closure is a transport, through [`blocking_transport_fn`]:
///
/// ```
/// use bytes::Bytes;
/// use rebilly_auth_core::blocking::{blocking_transport_fn, BlockingClient};
///
/// let transport = blocking_transport_fn(|request: http::Request<Bytes>| {
///     assert_eq!(request.uri().path(), "/organizations/org/authentication-options");
///     Ok(http::Response::new(Bytes::from_static(b"{\"otpRequired\":true}")))
/// });
/// let client = BlockingClient::builder()
///     .organization("org")
///     .secret_key("sk_test")
///     .transport(transport)
///     .build()?;
/// let options = client.authentication_options().get().send()?;
/// assert_eq!(options.otp_required, Some(true));
/// # Ok::<_, Box<dyn std::error::Error>>(())
/// ```
///
/// With the `mock` feature, mockall's `MockBlockingTransport`:
///
/// ```
/// # #[cfg(feature = "mock")] {
/// use bytes::Bytes;
/// use rebilly_auth_core::blocking::{BlockingClient, MockBlockingTransport};
///
/// let mut transport = MockBlockingTransport::new();
/// transport
///     .expect_send()
///     .withf(|request| request.uri().path() == "/organizations/org/credentials/crd_1")
///     .times(1)
///     .returning(|_| {
///         let body = r#"{"id":"crd_1","username":"ada","customerId":"cus_1"}"#;
///         Ok(http::Response::new(Bytes::from(body)))
///     });
/// let client = BlockingClient::builder()
///     .organization("org")
///     .secret_key("sk_test")
///     .transport(transport)
///     .build()
///     .unwrap();
/// let credential = client.credentials().get("crd_1").send().unwrap();
/// assert_eq!(credential.username, "ada");
/// # }
/// ```
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait BlockingTransport: Send + Sync {
    /// Sends `request` and returns the response with its whole body.
    fn send(&self, request: http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError>;
}

/// A transport made of a closure; see [`blocking_transport_fn`].
#[derive(Clone)]
pub struct BlockingTransportFn<F>(F);

impl<F> fmt::Debug for BlockingTransportFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BlockingTransportFn")
    }
}

/// Turns a closure `Fn(http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError>`
/// into a [`BlockingTransport`]: the smallest fake for a unit test.
///
/// ```
/// use bytes::Bytes;
/// use rebilly_auth_core::blocking::{blocking_transport_fn, BlockingTransport};
///
/// let transport = blocking_transport_fn(|request: http::Request<Bytes>| {
///     assert_eq!(request.method(), http::Method::GET);
///     Ok(http::Response::new(Bytes::from_static(b"{}")))
/// });
/// let response = transport.send(http::Request::new(Bytes::new())).unwrap();
/// assert_eq!(response.body().as_ref(), b"{}");
/// ```
pub fn blocking_transport_fn<F>(f: F) -> BlockingTransportFn<F>
where
    F: Fn(http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError> + Send + Sync,
{
    BlockingTransportFn(f)
}

impl<F> BlockingTransport for BlockingTransportFn<F>
where
    F: Fn(http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError> + Send + Sync,
{
    fn send(&self, request: http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError> {
        (self.0)(request)
    }
}

impl<T: BlockingTransport + ?Sized> BlockingTransport for Arc<T> {
    fn send(&self, request: http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError> {
        (**self).send(request)
    }
}

impl<T: BlockingTransport + ?Sized> BlockingTransport for Box<T> {
    fn send(&self, request: http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError> {
        (**self).send(request)
    }
}

impl<T: BlockingTransport + ?Sized> BlockingTransport for &T {
    fn send(&self, request: http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError> {
        (**self).send(request)
    }
}

/// The [`HttpTransport`] core's attempt loop sees under a blocking client: its future makes
/// the blocking call in its first poll and is then ready, so the loop's race never creates
/// its timer.
pub(super) struct Adapter(pub(super) Arc<dyn BlockingTransport>);

type SendFuture<'a> = std::pin::Pin<
    Box<
        dyn std::future::Future<Output = Result<http::Response<Bytes>, TransportError>> + Send + 'a,
    >,
>;

impl HttpTransport for Adapter {
    fn send<'life0, 'async_trait>(
        &'life0 self,
        request: http::Request<Bytes>,
    ) -> SendFuture<'async_trait>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        // Lazy: the call happens when the loop polls, inside the attempt's span.
        Box::pin(async move { self.0.send(request) })
    }
}

/// Waits by blocking the thread: the backoff between attempts of a blocking client. Its
/// future sleeps in its first poll and is then ready.
///
/// ```
/// use std::time::{Duration, Instant};
/// use rebilly_auth_core::Sleep;
/// use rebilly_auth_core::blocking::ThreadSleep;
///
/// let started = Instant::now();
/// let mut sleep = ThreadSleep.sleep(Duration::from_millis(5));
/// let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
/// assert!(sleep.as_mut().poll(&mut cx).is_ready());
/// assert!(started.elapsed() >= Duration::from_millis(5));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct ThreadSleep;

impl Sleep for ThreadSleep {
    fn sleep(&self, duration: Duration) -> SleepFuture {
        Box::pin(async move { std::thread::sleep(duration) })
    }
}

impl fmt::Debug for Adapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BlockingAdapter")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shareable_and_object_safe() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Arc<dyn BlockingTransport>>();
        assert_send_sync::<Box<dyn BlockingTransport>>();
    }

    #[test]
    fn the_adapter_calls_in_its_first_poll_and_is_ready() {
        let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let seen = calls.clone();
        let adapter = Adapter(Arc::new(blocking_transport_fn(
            move |_request: http::Request<Bytes>| {
                seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                Ok(http::Response::new(Bytes::new()))
            },
        )));
        let mut future = adapter.send(http::Request::new(Bytes::new()));
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 0, "lazy");
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(future.as_mut().poll(&mut cx).is_ready());
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
    }
}
