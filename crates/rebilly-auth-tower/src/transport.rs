//! [`TowerTransport`]: a tower service as an [`HttpTransport`].

use std::fmt;
use std::marker::PhantomData;
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use bytes::Bytes;
use http::StatusCode;
use http_body::Body;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use rebilly_auth_core::{BodyLimit, HttpTransport, TransportError};
use tower_service::Service;

use crate::BoxError;
use crate::classify::{Classifier, Phase, to_transport_error};
use crate::timeout::TimedOut;

/// Any tower HTTP service as an [`HttpTransport`].
///
/// `S` is a `Service<http::Request<B>, Response = http::Response<RB>>` with `RB:
/// http_body::Body`, `Clone` (each request drives its own clone: `poll_ready`, then `call`; a
/// service that is not `Clone` can go behind `tower::buffer::Buffer`). `B`, the request body
/// type, is [`Full<Bytes>`] unless [`TowerTransportBuilder::request_body`] says otherwise:
/// what hyper-util clients built for `Full<Bytes>` and [`TransportService`](crate::TransportService)
/// take.
///
/// `S` needs to be `Send` but not `Sync` (a `BoxCloneService` will do): the transport keeps it
/// behind a mutex held only while cloning.
///
/// Errors are mapped as the [crate docs](crate#how-errors-are-classified) say; response
/// bodies are read under the request's [`BodyLimit`].
///
/// ```
/// use bytes::Bytes;
/// use http_body_util::Full;
/// use rebilly_auth_core::HttpTransport;
/// use rebilly_auth_tower::TowerTransport;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// // A tower service written as a function, answering every request.
/// let service = tower::service_fn(|request: http::Request<Full<Bytes>>| async move {
///     let body = Full::new(Bytes::from(format!("you asked for {}", request.uri().path())));
///     Ok::<_, std::convert::Infallible>(http::Response::new(body))
/// });
/// let transport = TowerTransport::new(service);
/// let response = transport
///     .send(http::Request::get("http://127.0.0.1/hello").body(Bytes::new()).unwrap())
///     .await
///     .unwrap();
/// assert_eq!(response.body().as_ref(), b"you asked for /hello");
/// # });
/// ```
pub struct TowerTransport<S, B = Full<Bytes>> {
    service: Mutex<S>,
    classifier: Option<Classifier>,
    synthetic_timeout_status: Option<StatusCode>,
    _body: PhantomData<fn(B)>,
}

impl<S> TowerTransport<S> {
    /// A transport over `service`, with the defaults of [`TowerTransportBuilder`].
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use http_body_util::Full;
    /// use rebilly_auth_tower::HttpTransport;
    ///
    /// let service = tower::service_fn(|_: http::Request<Full<Bytes>>| async {
    ///     Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(Bytes::from("pong"))))
    /// });
    /// let transport = rebilly_auth_tower::TowerTransport::new(service);
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let response = transport.send(http::Request::new(Bytes::new())).await.unwrap();
    /// assert_eq!(response.body(), "pong");
    /// # });
    /// ```
    pub fn new(service: S) -> Self {
        Self::builder(service).build()
    }

    /// Options for a transport over `service`.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use http_body_util::Full;
    /// use rebilly_auth_tower::HttpTransport;
    ///
    /// // A bare 408 with no headers: by default read as tower-http's synthetic timeout.
    /// let service = tower::service_fn(|_: http::Request<Full<Bytes>>| async {
    ///     let mut response = http::Response::new(Full::new(Bytes::new()));
    ///     *response.status_mut() = http::StatusCode::REQUEST_TIMEOUT;
    ///     Ok::<_, std::convert::Infallible>(response)
    /// });
    /// let transport = rebilly_auth_tower::TowerTransport::builder(service)
    ///     .synthetic_timeout_status(None) // the rule off: a 408 is the server's answer
    ///     .build();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let response = transport.send(http::Request::new(Bytes::new())).await.unwrap();
    /// assert_eq!(response.status(), http::StatusCode::REQUEST_TIMEOUT);
    /// # });
    /// ```
    pub fn builder(service: S) -> TowerTransportBuilder<S> {
        TowerTransportBuilder {
            service,
            classifier: None,
            synthetic_timeout_status: Some(StatusCode::REQUEST_TIMEOUT),
            _body: PhantomData,
        }
    }
}

impl<S: Clone, B> TowerTransport<S, B> {
    /// A clone of the service (each request uses its own clone).
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use http_body_util::Full;
    /// # let service = tower::service_fn(|_: http::Request<Full<Bytes>>| async {
    /// #     Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(Bytes::new())))
    /// # });
    /// let transport = rebilly_auth_tower::TowerTransport::new(service);
    /// let _service = transport.service();
    /// ```
    pub fn service(&self) -> S {
        self.service
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl<S: Clone, B> Clone for TowerTransport<S, B> {
    fn clone(&self) -> Self {
        Self {
            service: Mutex::new(self.service()),
            classifier: self.classifier.clone(),
            synthetic_timeout_status: self.synthetic_timeout_status,
            _body: PhantomData,
        }
    }
}

/// The service itself is not shown (a stack's type can be long, and a layer may hold
/// credentials).
impl<S, B> fmt::Debug for TowerTransport<S, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TowerTransport")
            .field("classifier", &self.classifier.is_some())
            .field("synthetic_timeout_status", &self.synthetic_timeout_status)
            .finish_non_exhaustive()
    }
}

/// Options for a [`TowerTransport`]; see [`TowerTransport::builder`].
///
/// Defaults: no classifier, a headerless 408 is tower-http's timeout, request body
/// [`Full<Bytes>`].
pub struct TowerTransportBuilder<S, B = Full<Bytes>> {
    service: S,
    classifier: Option<Classifier>,
    synthetic_timeout_status: Option<StatusCode>,
    _body: PhantomData<fn(B)>,
}

impl<S, B> fmt::Debug for TowerTransportBuilder<S, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TowerTransportBuilder")
            .field("classifier", &self.classifier.is_some())
            .field("synthetic_timeout_status", &self.synthetic_timeout_status)
            .finish_non_exhaustive()
    }
}

impl<S, B> TowerTransportBuilder<S, B> {
    /// Classifies the errors only your stack knows, before the built-in rules (see
    /// [`Classifier`] and the [crate docs](crate#how-errors-are-classified)). Say "never left"
    /// only for an error that proves nothing was written to the network.
    ///
    /// ```
    /// use rebilly_auth_tower::{Classifier, ErrorClass, TowerTransport, TransportErrorKind};
    /// # use bytes::Bytes;
    /// # use http_body_util::Full;
    /// # let service = tower::service_fn(|_: http::Request<Full<Bytes>>| async {
    /// #     Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(Bytes::new())))
    /// # });
    ///
    /// let transport = TowerTransport::builder(tower::load_shed::LoadShed::new(service))
    ///     .classifier(Classifier::new(|error| {
    ///         error
    ///             .is::<tower::load_shed::error::Overloaded>()
    ///             .then_some(ErrorClass::never_left(TransportErrorKind::Other))
    ///     }))
    ///     .build();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// // Not overloaded: the request goes through.
    /// use rebilly_auth_core::HttpTransport;
    /// assert!(transport.send(http::Request::new(Bytes::new())).await.is_ok());
    /// # });
    /// ```
    pub fn classifier(mut self, classifier: Classifier) -> Self {
        self.classifier = Some(classifier);
        self
    }

    /// The status tower-http's `TimeoutLayer` was told to synthesise on expiry (408 by
    /// default, its own default): a response with this status **and no headers at all** is
    /// turned into a [`Timeout`](rebilly_auth_core::TransportErrorKind::Timeout) error that
    /// may have reached the server. `None` turns the rule off.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use http_body_util::Full;
    /// use rebilly_auth_tower::{HttpTransport, TransportErrorKind};
    ///
    /// // What tower-http's timeout answers when told 504: the status, no headers.
    /// let service = tower::service_fn(|_: http::Request<Full<Bytes>>| async {
    ///     let mut response = http::Response::new(Full::new(Bytes::new()));
    ///     *response.status_mut() = http::StatusCode::GATEWAY_TIMEOUT;
    ///     Ok::<_, std::convert::Infallible>(response)
    /// });
    /// // Paired with `TimeoutLayer::with_status_code(StatusCode::GATEWAY_TIMEOUT, ..)`:
    /// let transport = rebilly_auth_tower::TowerTransport::builder(service)
    ///     .synthetic_timeout_status(http::StatusCode::GATEWAY_TIMEOUT)
    ///     .build();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let error = transport.send(http::Request::new(Bytes::new())).await.unwrap_err();
    /// assert_eq!(error.kind(), TransportErrorKind::Timeout);
    /// assert!(error.may_have_reached_server());
    /// # });
    /// ```
    pub fn synthetic_timeout_status(mut self, status: impl Into<Option<StatusCode>>) -> Self {
        self.synthetic_timeout_status = status.into();
        self
    }

    /// The request body type handed to the service, built from the SDK's `Bytes` with
    /// `From<Bytes>` (`Full<Bytes>` unless changed). Needed only for a service that takes
    /// another body type.
    ///
    /// ```
    /// use bytes::Bytes;
    ///
    /// // A service that takes the body as plain `Bytes`.
    /// let service = tower::service_fn(|request: http::Request<Bytes>| async move {
    ///     let body = http_body_util::Full::new(request.into_body());
    ///     Ok::<_, std::convert::Infallible>(http::Response::new(body))
    /// });
    /// let transport = rebilly_auth_tower::TowerTransport::builder(service)
    ///     .request_body::<Bytes>()
    ///     .build();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use rebilly_auth_tower::HttpTransport;
    /// let echoed = transport.send(http::Request::new(Bytes::from("hi"))).await.unwrap();
    /// assert_eq!(echoed.body(), "hi");
    /// # });
    /// ```
    pub fn request_body<B2>(self) -> TowerTransportBuilder<S, B2> {
        TowerTransportBuilder {
            service: self.service,
            classifier: self.classifier,
            synthetic_timeout_status: self.synthetic_timeout_status,
            _body: PhantomData,
        }
    }

    /// The transport.
    ///
    /// ```
    /// # use bytes::Bytes;
    /// # use http_body_util::Full;
    /// # let service = tower::service_fn(|_: http::Request<Full<Bytes>>| async {
    /// #     Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(Bytes::new())))
    /// # });
    /// let transport = rebilly_auth_tower::TowerTransport::builder(service).build();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use rebilly_auth_tower::HttpTransport;
    /// let response = transport.send(http::Request::new(Bytes::new())).await.unwrap();
    /// assert_eq!(response.status(), http::StatusCode::OK);
    /// # });
    /// ```
    pub fn build(self) -> TowerTransport<S, B> {
        TowerTransport {
            service: Mutex::new(self.service),
            classifier: self.classifier,
            synthetic_timeout_status: self.synthetic_timeout_status,
            _body: PhantomData,
        }
    }
}

impl<S, B> TowerTransport<S, B> {
    fn error(&self, error: impl Into<BoxError>, phase: Phase) -> TransportError {
        to_transport_error(error.into(), phase, self.classifier.as_ref())
    }
}

#[async_trait]
impl<S, B, RB> HttpTransport for TowerTransport<S, B>
where
    S: Service<http::Request<B>, Response = http::Response<RB>> + Clone + Send + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send,
    B: From<Bytes> + Send + 'static,
    RB: Body + Send + 'static,
    RB::Data: Send,
    RB::Error: Into<BoxError>,
{
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        let limit = BodyLimit::of(&request);
        let mut service = self.service();
        std::future::poll_fn(|cx| service.poll_ready(cx))
            .await
            .map_err(|e| self.error(e, Phase::Ready))?;
        let response = service
            .call(request.map(B::from))
            .await
            .map_err(|e| self.error(e, Phase::Call))?;
        drop(service);
        let (parts, body) = response.into_parts();
        // A timeout layer's answer: marked (survives header-adding layers), or, from a bare
        // tower-http `TimeoutLayer`, recognised by its status and its missing headers.
        if parts.extensions.get::<TimedOut>().is_some()
            || self
                .synthetic_timeout_status
                .is_some_and(|status| parts.status == status && parts.headers.is_empty())
        {
            return Err(TransportError::timeout(format!(
                "a timeout layer answered {} in the server's place",
                parts.status
            )));
        }
        let declared = parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|length| length > limit as u64)
            || body.size_hint().lower() > limit as u64
        {
            return Err(TransportError::body_too_large(limit));
        }
        let body = Limited::new(body, limit)
            .collect()
            .await
            .map_err(|error| {
                if error.is::<LengthLimitError>() {
                    TransportError::body_too_large(limit)
                } else {
                    TransportError::body(error)
                }
            })?
            .to_bytes();
        Ok(http::Response::from_parts(parts, body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_sync_even_over_a_service_that_is_not_sync() {
        fn assert<T: Send + Sync + 'static>() {}
        type NotSync = tower::util::BoxCloneService<
            http::Request<Full<Bytes>>,
            http::Response<Full<Bytes>>,
            BoxError,
        >;
        assert::<TowerTransport<NotSync>>();
    }
}
