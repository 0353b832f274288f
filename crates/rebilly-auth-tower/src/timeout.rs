//! Timeouts whose synthetic answer a [`TowerTransport`](crate::TowerTransport) cannot mistake
//! for the server's: the [`TimedOut`] marker, and (feature `tower-http`) `TimeoutLayer`, a
//! wrapper around tower-http's that sets it.
//!
//! tower-http's `TimeoutLayer` does not fail on expiry: it answers a response of its own (408
//! by default) with no headers, which the transport recognises only by those missing headers.
//! A layer above it that adds a response header (request-id, CORS, security headers) erases
//! that sign, and the synthetic 408 then reads as the server's answer: an exchange the server
//! executed comes back as `Error::Api(408)` instead of `ExchangeOutcomeUnknown`, and a caller
//! that retries a 408 replays a spent token. A response *extension* survives such layers; this
//! module's `TimeoutLayer` tags its synthetic response with [`TimedOut`], which the transport
//! always reads as a timeout that may have reached the server.

#[cfg(feature = "tower-http")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower-http")))]
pub use layer::{ResponseFuture, Timeout, TimeoutLayer};

/// A response extension that says "a timeout layer answered this in the server's place": a
/// [`TowerTransport`](crate::TowerTransport) turns any response that carries it into a
/// [`Timeout`](crate::TransportErrorKind::Timeout) error that may have reached the server,
/// whatever its status and headers.
///
/// [`TimeoutLayer`](crate::timeout) (feature `tower-http`) sets it; a timeout layer of your own that answers
/// instead of failing should set it too.
///
/// ```
/// use bytes::Bytes;
/// use http_body_util::Full;
/// use rebilly_auth_core::HttpTransport;
/// use rebilly_auth_tower::{TimedOut, TowerTransport, TransportErrorKind};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// // A layer of yours gave up on the server and answered 503, with headers, in its place.
/// let service = tower::service_fn(|_: http::Request<Full<Bytes>>| async {
///     let mut response = http::Response::new(Full::new(Bytes::new()));
///     *response.status_mut() = http::StatusCode::SERVICE_UNAVAILABLE;
///     response.headers_mut().insert("x-request-id", "req-1".parse().unwrap());
///     response.extensions_mut().insert(TimedOut);
///     Ok::<_, std::convert::Infallible>(response)
/// });
/// let error = TowerTransport::new(service)
///     .send(http::Request::post("http://127.0.0.1/x").body(Bytes::new()).unwrap())
///     .await
///     .unwrap_err();
/// assert_eq!(error.kind(), TransportErrorKind::Timeout);
/// assert!(error.may_have_reached_server());
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TimedOut;

#[cfg(feature = "tower-http")]
mod layer {
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll, ready};
    use std::time::Duration;

    use http::{Request, Response, StatusCode};
    use pin_project_lite::pin_project;
    use tower_service::Service;

    use super::TimedOut;

    /// tower-http's `TimeoutLayer`, whose synthetic answer carries the [`TimedOut`] extension:
    /// a [`TowerTransport`](crate::TowerTransport) recognises it as a timeout even when layers
    /// above it add response headers. Use it instead of `tower_http::timeout::TimeoutLayer`
    /// under a `TowerTransport`.
    ///
    /// Expiry, timer and requirements are tower-http's (tokio's timer; the response body must
    /// implement `Default`). A layer between this one and the transport must keep the
    /// response's extensions (adding headers, as `SetResponseHeaderLayer`, CORS or request-id
    /// layers do, keeps them; building a new response from the old one's body alone does
    /// not).
    ///
    /// ```
    /// use std::time::Duration;
    /// use bytes::Bytes;
    /// use http::{HeaderName, HeaderValue};
    /// use rebilly_auth_core::{HttpTransport, transport_fn};
    /// use rebilly_auth_tower::{TimeoutLayer, TowerTransport, TransportErrorKind, TransportService};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
    /// // A transport that takes too long to answer.
    /// let slow = transport_fn(|_: http::Request<Bytes>| async {
    ///     tokio::time::sleep(Duration::from_secs(5)).await;
    ///     Ok(http::Response::new(Bytes::new()))
    /// });
    /// let stack = tower::ServiceBuilder::new()
    ///     // A header-adding layer above the timeout: tower-http's own 408 would now pass for
    ///     // the server's answer; this one does not.
    ///     .layer(tower_http::set_header::SetResponseHeaderLayer::overriding(
    ///         HeaderName::from_static("x-request-id"),
    ///         HeaderValue::from_static("req-1"),
    ///     ))
    ///     .layer(TimeoutLayer::new(Duration::from_millis(50)))
    ///     .service(TransportService::new(slow));
    /// let error = TowerTransport::new(stack)
    ///     .send(http::Request::post("http://127.0.0.1/x").body(Bytes::new()).unwrap())
    ///     .await
    ///     .unwrap_err();
    /// assert_eq!(error.kind(), TransportErrorKind::Timeout);
    /// assert!(error.may_have_reached_server());
    /// # });
    /// ```
    #[derive(Debug, Clone, Copy)]
    pub struct TimeoutLayer {
        status: StatusCode,
        timeout: Duration,
    }

    impl TimeoutLayer {
        /// Answers 408 (tower-http's status) once `timeout` has passed.
        ///
        /// ```
        /// use std::time::Duration;
        /// use tower::{Service, ServiceExt};
        ///
        /// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
        /// let layer = rebilly_auth_tower::TimeoutLayer::new(Duration::from_millis(20));
        /// let mut slow = tower::ServiceBuilder::new().layer(layer).service_fn(|_: http::Request<()>| async {
        ///     tokio::time::sleep(Duration::from_secs(5)).await;
        ///     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
        /// });
        /// let answer = slow.ready().await.unwrap().call(http::Request::new(())).await.unwrap();
        /// assert_eq!(answer.status(), http::StatusCode::REQUEST_TIMEOUT);
        /// assert!(answer.extensions().get::<rebilly_auth_tower::TimedOut>().is_some());
        /// # });
        /// ```
        pub const fn new(timeout: Duration) -> Self {
            Self::with_status_code(StatusCode::REQUEST_TIMEOUT, timeout)
        }

        /// Answers `status` once `timeout` has passed. The transport recognises the answer by
        /// its [`TimedOut`] extension, whatever the status: no need to tell
        /// [`synthetic_timeout_status`](crate::TowerTransportBuilder::synthetic_timeout_status).
        ///
        /// ```
        /// use std::time::Duration;
        /// use tower::{Service, ServiceExt};
        ///
        /// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
        /// let layer = rebilly_auth_tower::TimeoutLayer::with_status_code(
        ///     http::StatusCode::GATEWAY_TIMEOUT,
        ///     Duration::from_millis(20),
        /// );
        /// let mut slow = tower::ServiceBuilder::new().layer(layer).service_fn(|_: http::Request<()>| async {
        ///     tokio::time::sleep(Duration::from_secs(5)).await;
        ///     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
        /// });
        /// let answer = slow.ready().await.unwrap().call(http::Request::new(())).await.unwrap();
        /// assert_eq!(answer.status(), http::StatusCode::GATEWAY_TIMEOUT);
        /// assert!(answer.extensions().get::<rebilly_auth_tower::TimedOut>().is_some());
        /// # });
        /// ```
        pub const fn with_status_code(status: StatusCode, timeout: Duration) -> Self {
            Self { status, timeout }
        }
    }

    impl<S> tower::Layer<S> for TimeoutLayer {
        type Service = Timeout<S>;

        fn layer(&self, inner: S) -> Timeout<S> {
            Timeout {
                inner: tower_http::timeout::Timeout::with_status_code(
                    MarkAnswered(inner),
                    self.status,
                    self.timeout,
                ),
            }
        }
    }

    /// The service [`TimeoutLayer`] makes: tower-http's `Timeout` over `S`, whose synthetic
    /// answer carries [`TimedOut`] (and the inner service's answers never do, unless they
    /// already did).
    ///
    /// ```
    /// use std::time::Duration;
    /// use bytes::Bytes;
    /// use http_body_util::Full;
    /// use rebilly_auth_tower::timeout::Timeout;
    /// use tower::Layer;
    ///
    /// let inner = tower::service_fn(|_: http::Request<Full<Bytes>>| async {
    ///     Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(Bytes::new())))
    /// });
    /// let service: Timeout<_> =
    ///     rebilly_auth_tower::TimeoutLayer::new(Duration::from_secs(10)).layer(inner);
    /// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
    /// use tower::ServiceExt;
    /// let answer = service.oneshot(http::Request::new(Full::new(Bytes::new()))).await.unwrap();
    /// assert_eq!(answer.status(), http::StatusCode::OK); // in time: the inner answer,
    /// assert!(answer.extensions().get::<rebilly_auth_tower::TimedOut>().is_none()); // unmarked
    /// # });
    /// ```
    #[derive(Debug, Clone)]
    pub struct Timeout<S> {
        inner: tower_http::timeout::Timeout<MarkAnswered<S>>,
    }

    impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Timeout<S>
    where
        S: Service<Request<ReqBody>, Response = Response<ResBody>>,
        ResBody: Default,
    {
        type Response = Response<ResBody>;
        type Error = S::Error;
        type Future = ResponseFuture<
            <tower_http::timeout::Timeout<MarkAnswered<S>> as Service<Request<ReqBody>>>::Future,
        >;

        fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            self.inner.poll_ready(cx)
        }

        fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
            ResponseFuture {
                inner: self.inner.call(request),
            }
        }
    }

    pin_project! {
        /// The response future of [`Timeout`]: the inner service's answer, or the synthetic
        /// one marked [`TimedOut`]. `F` is tower-http's timeout future (which tower-http does
        /// not export by name).
        ///
        /// ```
        /// # use std::time::Duration;
        /// # use bytes::Bytes;
        /// # use http_body_util::Full;
        /// use tower::{Layer, Service};
        ///
        /// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
        /// let inner = tower::service_fn(|_: http::Request<Full<Bytes>>| async {
        ///     Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(Bytes::new())))
        /// });
        /// let mut service = rebilly_auth_tower::TimeoutLayer::new(Duration::from_secs(10)).layer(inner);
        /// let future: rebilly_auth_tower::timeout::ResponseFuture<_> =
        ///     service.call(http::Request::new(Full::new(Bytes::new())));
        /// let response = future.await.unwrap();
        /// assert!(response.extensions().get::<rebilly_auth_tower::TimedOut>().is_none());
        /// # });
        /// ```
        pub struct ResponseFuture<F> {
            #[pin]
            inner: F,
        }
    }

    impl<F, B, E> Future for ResponseFuture<F>
    where
        F: Future<Output = Result<Response<B>, E>>,
        B: Default,
    {
        type Output = Result<Response<B>, E>;

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            let mut response = ready!(self.project().inner.poll(cx))?;
            // The inner service's answers carry `Answered`; tower-http's own does not.
            if response.extensions_mut().remove::<Answered>().is_none() {
                response.extensions_mut().insert(TimedOut);
            }
            Poll::Ready(Ok(response))
        }
    }

    /// Set on every answer of the service under tower-http's timeout, and removed above it.
    #[derive(Debug, Clone, Copy)]
    struct Answered;

    /// Tags the inner service's answers with [`Answered`] (public only because it appears in
    /// [`Timeout`]'s `Future` type; not reachable from outside the crate).
    #[derive(Debug, Clone)]
    pub struct MarkAnswered<S>(S);

    impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for MarkAnswered<S>
    where
        S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    {
        type Response = Response<ResBody>;
        type Error = S::Error;
        type Future = MarkAnsweredFuture<S::Future>;

        fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            self.0.poll_ready(cx)
        }

        fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
            MarkAnsweredFuture {
                inner: self.0.call(request),
            }
        }
    }

    pin_project! {
        /// The response future of [`MarkAnswered`].
        pub struct MarkAnsweredFuture<F> {
            #[pin]
            inner: F,
        }
    }

    impl<F, B, E> Future for MarkAnsweredFuture<F>
    where
        F: Future<Output = Result<Response<B>, E>>,
    {
        type Output = Result<Response<B>, E>;

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            let mut response = ready!(self.project().inner.poll(cx))?;
            response.extensions_mut().insert(Answered);
            Poll::Ready(Ok(response))
        }
    }
}
