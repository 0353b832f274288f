//! [`TransportService`]: an [`HttpTransport`] as a tower service.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::Body;
use http_body_util::{BodyExt, Full};
use rebilly_auth_core::{HttpTransport, TransportError};
use tower_service::Service;

use crate::BoxError;

/// Any [`HttpTransport`] as a tower `Service<http::Request<B>>` for any request body `B`
/// (collected before sending: the SDK's bodies are small and already in memory), answering
/// `http::Response<Full<Bytes>>` and failing with the transport's own [`TransportError`]
/// (kind and "may have reached the server" intact, which [`TowerTransport`](crate::TowerTransport)
/// finds again under the layers).
///
/// It is always ready; the request's extensions (the [`BodyLimit`](rebilly_auth_core::BodyLimit)
/// among them) reach the transport. Clones share one transport.
///
/// ```
/// use std::time::Duration;
/// use bytes::Bytes;
/// use http_body_util::{BodyExt, Full};
/// use rebilly_auth_core::transport_fn;
/// use rebilly_auth_tower::TransportService;
/// use tower::ServiceExt;
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let transport = transport_fn(|request: http::Request<Bytes>| async move {
///     Ok(http::Response::new(request.into_body()))
/// });
/// let service = tower::ServiceBuilder::new()
///     .timeout(Duration::from_secs(5))
///     .service(TransportService::new(transport));
/// let response = service
///     .oneshot(http::Request::new(Full::new(Bytes::from_static(b"echo"))))
///     .await
///     .unwrap();
/// let body = response.into_body().collect().await.unwrap().to_bytes();
/// assert_eq!(body.as_ref(), b"echo");
/// # });
/// ```
pub struct TransportService<T: ?Sized> {
    transport: Arc<T>,
}

impl<T: HttpTransport> TransportService<T> {
    /// A service over `transport`.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// use tower::ServiceExt;
    /// let transport = rebilly_auth_core::transport_fn(|_: http::Request<Bytes>| async {
    ///     Ok(http::Response::new(Bytes::from_static(b"pong")))
    /// });
    /// let service = rebilly_auth_tower::TransportService::new(transport);
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let response = service.oneshot(http::Request::new(String::new())).await.unwrap();
    /// let body = http_body_util::BodyExt::collect(response.into_body()).await.unwrap();
    /// assert_eq!(body.to_bytes().as_ref(), b"pong");
    /// # });
    /// ```
    pub fn new(transport: T) -> Self {
        Self::from_arc(Arc::new(transport))
    }
}

impl<T: HttpTransport + ?Sized> TransportService<T> {
    /// A service over a shared transport, e.g. an `Arc<dyn HttpTransport>` (a `Client`'s
    /// [`transport()`](rebilly_auth_core::Client::transport)).
    ///
    /// ```
    /// use std::sync::Arc;
    /// # use bytes::Bytes;
    /// use rebilly_auth_core::HttpTransport;
    ///
    /// let transport: Arc<dyn HttpTransport> = Arc::new(rebilly_auth_core::transport_fn(
    ///     |_: http::Request<Bytes>| async { Ok(http::Response::new(Bytes::new())) },
    /// ));
    /// let service = rebilly_auth_tower::TransportService::from_arc(Arc::clone(&transport));
    /// assert!(Arc::ptr_eq(service.transport(), &transport)); // shared, not copied
    /// ```
    pub fn from_arc(transport: Arc<T>) -> Self {
        Self { transport }
    }

    /// The transport.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # let transport = rebilly_auth_core::transport_fn(|_: http::Request<Bytes>| async {
    /// #     Ok(http::Response::new(Bytes::new()))
    /// # });
    /// let service = rebilly_auth_tower::TransportService::new(transport);
    /// let _shared = service.transport();
    /// ```
    pub fn transport(&self) -> &Arc<T> {
        &self.transport
    }
}

impl<T: ?Sized> Clone for TransportService<T> {
    fn clone(&self) -> Self {
        Self {
            transport: Arc::clone(&self.transport),
        }
    }
}

/// The transport is not shown (it may hold credentials).
impl<T: ?Sized> fmt::Debug for TransportService<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportService").finish_non_exhaustive()
    }
}

impl<T, B> Service<http::Request<B>> for TransportService<T>
where
    T: HttpTransport + ?Sized + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = http::Response<Full<Bytes>>;
    type Error = TransportError;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let transport = Arc::clone(&self.transport);
        ResponseFuture(Box::pin(async move {
            let (parts, body) = request.into_parts();
            let body = body
                .collect()
                .await
                .map_err(|e| {
                    // The request body could not be read: nothing was sent.
                    TransportError::other(e.into()).with_may_have_reached_server(false)
                })?
                .to_bytes();
            let response = transport
                .send(http::Request::from_parts(parts, body))
                .await?;
            Ok(response.map(Full::new))
        }))
    }
}

type ServiceResult = Result<http::Response<Full<Bytes>>, TransportError>;

/// The future of [`TransportService`]'s `call`.
pub struct ResponseFuture(Pin<Box<dyn Future<Output = ServiceResult> + Send>>);

impl Future for ResponseFuture {
    type Output = ServiceResult;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.0.as_mut().poll(cx)
    }
}

impl fmt::Debug for ResponseFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ResponseFuture")
    }
}
