//! From a tower service's opaque errors to [`TransportError`]s.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

use rebilly_auth_core::{TransportError, TransportErrorKind, error_chain};

use crate::BoxError;

/// What a failure was: its kind, and whether the request may have reached the server.
///
/// Build one with [`ErrorClass::never_left`] or [`ErrorClass::may_have_reached`]; a
/// [`Classifier`] returns one.
///
/// ```
/// use rebilly_auth_tower::{ErrorClass, TransportErrorKind};
///
/// let class = ErrorClass::never_left(TransportErrorKind::Connect);
/// assert!(!class.may_have_reached_server);
/// assert!(ErrorClass::may_have_reached(TransportErrorKind::Other).may_have_reached_server);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ErrorClass {
    /// The kind reported in the [`TransportError`].
    pub kind: TransportErrorKind,
    /// `false` only when the request provably never left this process.
    pub may_have_reached_server: bool,
}

impl ErrorClass {
    /// The request provably never left (nothing was written to the network): core may retry
    /// even a login or an exchange.
    ///
    /// ```
    /// # use rebilly_auth_tower::{ErrorClass, TransportErrorKind};
    /// let class = ErrorClass::never_left(TransportErrorKind::Other);
    /// assert_eq!(class.kind, TransportErrorKind::Other);
    /// ```
    pub const fn never_left(kind: TransportErrorKind) -> Self {
        Self {
            kind,
            may_have_reached_server: false,
        }
    }

    /// The request may have reached the server (and been processed): the answer whenever in
    /// doubt.
    ///
    /// ```
    /// # use rebilly_auth_tower::{ErrorClass, TransportErrorKind};
    /// let class = ErrorClass::may_have_reached(TransportErrorKind::Timeout);
    /// assert!(class.may_have_reached_server);
    /// ```
    pub const fn may_have_reached(kind: TransportErrorKind) -> Self {
        Self {
            kind,
            may_have_reached_server: true,
        }
    }

    /// The [`TransportError`] of this class, with `source` as its cause.
    pub(crate) fn into_error(self, source: BoxError) -> TransportError {
        TransportError::new(self.kind, source)
            .with_may_have_reached_server(self.may_have_reached_server)
    }
}

/// Your classification of errors only your tower stack knows: called with each error of a
/// failure's chain (outermost first, descending into `io::Error`s), it returns `Some` to
/// decide, `None` to pass. See [`TowerTransportBuilder::classifier`](crate::TowerTransportBuilder::classifier).
///
/// ```
/// use rebilly_auth_tower::{Classifier, ErrorClass, TransportErrorKind};
///
/// // tower's load shedder refuses a call before sending anything.
/// let classifier = Classifier::new(|error| {
///     error
///         .is::<tower::load_shed::error::Overloaded>()
///         .then_some(ErrorClass::never_left(TransportErrorKind::Other))
/// });
/// # use {bytes::Bytes, http_body_util::Full, rebilly_auth_tower::HttpTransport};
/// let refusing = tower::service_fn(|_: http::Request<Full<Bytes>>| async {
///     Err::<http::Response<Full<Bytes>>, _>(tower::load_shed::error::Overloaded::new())
/// });
/// let transport =
///     rebilly_auth_tower::TowerTransport::builder(refusing).classifier(classifier).build();
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let error = transport.send(http::Request::new(Bytes::new())).await.unwrap_err();
/// assert_eq!(error.kind(), TransportErrorKind::Other);
/// assert!(!error.may_have_reached_server()); // safe to retry, even a login
/// # });
/// ```
#[derive(Clone)]
pub struct Classifier(ClassifierFn);

type ClassifierFn =
    Arc<dyn Fn(&(dyn StdError + 'static)) -> Option<ErrorClass> + Send + Sync + 'static>;

impl Classifier {
    /// A classifier made of `f`.
    pub fn new<F>(f: F) -> Self
    where
        F: Fn(&(dyn StdError + 'static)) -> Option<ErrorClass> + Send + Sync + 'static,
    {
        Self(Arc::new(f))
    }

    /// The first answer along `error`'s chain.
    fn classify(&self, error: &(dyn StdError + 'static)) -> Option<ErrorClass> {
        error_chain(error).find_map(|e| (self.0)(e))
    }
}

impl fmt::Debug for Classifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Classifier")
    }
}

/// Where in a call a failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// `poll_ready` failed: the request was never handed to the service.
    Ready,
    /// `call`'s future failed.
    Call,
}

/// Maps a service's error to a [`TransportError`]; see the crate docs for the rules.
pub(crate) fn to_transport_error(
    error: BoxError,
    phase: Phase,
    classifier: Option<&Classifier>,
) -> TransportError {
    let class = classifier.and_then(|c| c.classify(&*error));
    if phase == Phase::Ready {
        // Never handed to the service: whatever the error says, this request never left.
        let kind = class.map(|c| c.kind).unwrap_or_else(|| {
            error_chain(&*error)
                .find_map(|e| e.downcast_ref::<TransportError>().map(|t| t.kind()))
                .unwrap_or(TransportErrorKind::Other)
        });
        return match error.downcast::<TransportError>() {
            Ok(own) => (*own).with_may_have_reached_server(false),
            Err(error) => ErrorClass::never_left(kind).into_error(error),
        };
    }
    if let Some(class) = class {
        return class.into_error(error);
    }
    // A transport's own error, returned as is (no second wrapper).
    let error = match error.downcast::<TransportError>() {
        Ok(own) => return *own,
        Err(error) => error,
    };
    builtin_class(&*error).into_error(error)
}

fn builtin_class(error: &(dyn StdError + 'static)) -> ErrorClass {
    for e in error_chain(error) {
        if let Some(own) = e.downcast_ref::<TransportError>() {
            return ErrorClass {
                kind: own.kind(),
                may_have_reached_server: own.may_have_reached_server(),
            };
        }
        if e.is::<tower::timeout::error::Elapsed>() {
            return ErrorClass::may_have_reached(TransportErrorKind::Timeout);
        }
        #[cfg(feature = "hyper-util")]
        if let Some(hyper) = e.downcast_ref::<hyper_util::client::legacy::Error>() {
            return hyper_util_class(hyper);
        }
    }
    ErrorClass::may_have_reached(TransportErrorKind::Other)
}

#[cfg(feature = "hyper-util")]
fn hyper_util_class(error: &hyper_util::client::legacy::Error) -> ErrorClass {
    if !error.is_connect() {
        // Sending, or reading the head, failed on an established connection.
        return ErrorClass::may_have_reached(TransportErrorKind::Io);
    }
    // tokio-rustls reports a failed handshake as an `io::Error` of kind `InvalidData`.
    let tls = error_chain(error).any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::InvalidData)
    });
    ErrorClass::never_left(if tls {
        TransportErrorKind::TlsHandshake
    } else {
        TransportErrorKind::Connect
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Wrapper(BoxError);

    impl fmt::Display for Wrapper {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("wrapper")
        }
    }

    impl StdError for Wrapper {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            Some(&*self.0)
        }
    }

    #[test]
    fn unknown_errors_may_have_reached_the_server() {
        let err = to_transport_error("boom".into(), Phase::Call, None);
        assert_eq!(err.kind(), TransportErrorKind::Other);
        assert!(err.may_have_reached_server());
    }

    #[test]
    fn ready_failures_never_left() {
        let err = to_transport_error("not ready".into(), Phase::Ready, None);
        assert_eq!(err.kind(), TransportErrorKind::Other);
        assert!(!err.may_have_reached_server());
        // Even a classifier or an inner error that says otherwise cannot make it "reached".
        let says_reached =
            Classifier::new(|_| Some(ErrorClass::may_have_reached(TransportErrorKind::Io)));
        let err = to_transport_error(
            Box::new(TransportError::io("x")),
            Phase::Ready,
            Some(&says_reached),
        );
        assert!(!err.may_have_reached_server());
    }

    #[test]
    fn own_errors_keep_kind_and_flag_even_when_wrapped() {
        let err = to_transport_error(
            Box::new(TransportError::connect("refused")),
            Phase::Call,
            None,
        );
        assert_eq!(err.kind(), TransportErrorKind::Connect);
        assert!(!err.may_have_reached_server());
        let wrapped = Wrapper(Box::new(TransportError::io("reset")));
        let err = to_transport_error(Box::new(wrapped), Phase::Call, None);
        assert_eq!(err.kind(), TransportErrorKind::Io);
        assert!(err.may_have_reached_server());
        let wrapped = Wrapper(Box::new(TransportError::dns("nx")));
        let err = to_transport_error(Box::new(wrapped), Phase::Call, None);
        assert_eq!(err.kind(), TransportErrorKind::Dns);
        assert!(!err.may_have_reached_server());
        // The cause stays reachable.
        assert!(err.source().is_some());
    }

    #[test]
    fn elapsed_is_a_timeout_that_may_have_reached() {
        let err = to_transport_error(
            Box::new(tower::timeout::error::Elapsed::new()),
            Phase::Call,
            None,
        );
        assert_eq!(err.kind(), TransportErrorKind::Timeout);
        assert!(err.may_have_reached_server());
    }

    #[test]
    fn the_classifier_sees_the_whole_chain_and_wins() {
        #[derive(Debug)]
        struct Refused;
        impl fmt::Display for Refused {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("refused by the breaker")
            }
        }
        impl StdError for Refused {}
        let classifier = Classifier::new(|e| {
            e.is::<Refused>()
                .then_some(ErrorClass::never_left(TransportErrorKind::Other))
        });
        let err = to_transport_error(
            Box::new(Wrapper(Box::new(std::io::Error::other(Refused)))),
            Phase::Call,
            Some(&classifier),
        );
        assert!(!err.may_have_reached_server());
        // It passes on what it does not know.
        let err = to_transport_error("other".into(), Phase::Call, Some(&classifier));
        assert!(err.may_have_reached_server());
    }
}
