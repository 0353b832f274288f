//! Which step of an exchange failed, told by type: ureq's resolver and connector are wrapped so
//! that every error they return is tagged as happening before any byte of the request left.

use std::error::Error as StdError;
use std::fmt;

use rebilly_auth_core::transport_support::{DnsFailure, classify_connect_failure, connect_failure};
use rebilly_auth_core::{TransportError, TransportErrorKind};
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{
    ConnectionDetails, Connector, DefaultConnector, NextTimeout, Transport,
};

/// A failure before the request was sent: resolving the host, or connecting (TCP, a proxy's
/// tunnel, the TLS handshake).
#[derive(Debug)]
pub(crate) enum BeforeSending {
    Resolve(ureq::Error),
    Connect(ureq::Error),
}

impl fmt::Display for BeforeSending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Resolve(e) | Self::Connect(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl StdError for BeforeSending {}

impl BeforeSending {
    /// The transport error: never sent, whatever the kind.
    pub(crate) fn into_transport_error(self) -> TransportError {
        match self {
            Self::Resolve(ureq::Error::Timeout(t)) => {
                connect_failure(TransportErrorKind::Timeout, ureq::Error::Timeout(t))
            }
            Self::Resolve(e) => connect_failure(TransportErrorKind::Dns, DnsFailure::new(e)),
            Self::Connect(e) => {
                let kind = match &e {
                    ureq::Error::HostNotFound => TransportErrorKind::Dns,
                    ureq::Error::Timeout(_) => TransportErrorKind::Timeout,
                    ureq::Error::Rustls(_) | ureq::Error::Tls(_) => {
                        TransportErrorKind::TlsHandshake
                    }
                    // An io::Error's chain: a rustls::Error inside is the handshake, TimedOut
                    // the system's connect timeout, the rest (refused, reset) a connect failure.
                    ureq::Error::Io(io) => classify_connect_failure(io),
                    _ => TransportErrorKind::Connect,
                };
                connect_failure(kind, e)
            }
        }
    }
}

/// ureq's own resolver, its errors tagged [`BeforeSending::Resolve`].
#[derive(Debug, Default)]
pub(crate) struct TaggedResolver(DefaultResolver);

impl Resolver for TaggedResolver {
    fn resolve(
        &self,
        uri: &http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        // An IP address needs no lookup. ureq's resolver calls `to_socket_addrs` for every
        // request, pooled connection or not, on a thread of its own whenever a deadline is set
        // (each attempt's is): no thread and no lookup for the emulator's `127.0.0.1`.
        if let Some(addr) = ip_literal(uri) {
            let mut addrs = self.empty();
            addrs.push(addr);
            return Ok(addrs);
        }
        self.0
            .resolve(uri, config, timeout)
            .map_err(|e| ureq::Error::Other(Box::new(BeforeSending::Resolve(e))))
    }
}

/// The socket address of a URI whose host is an IP address (`127.0.0.1`, `[::1]`).
fn ip_literal(uri: &http::Uri) -> Option<std::net::SocketAddr> {
    let host = uri.host()?;
    let ip: std::net::IpAddr = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()?;
    let port = uri.port_u16().or(match uri.scheme_str()? {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    })?;
    Some(std::net::SocketAddr::new(ip, port))
}

/// ureq's own connector chain (TCP, proxy tunnel, rustls), its errors tagged
/// [`BeforeSending::Connect`]. It is called only for a new connection: a pooled one skips it.
#[derive(Debug, Default)]
pub(crate) struct TaggedConnector(DefaultConnector);

impl Connector<()> for TaggedConnector {
    type Out = Box<dyn Transport>;

    fn connect(
        &self,
        details: &ConnectionDetails<'_>,
        chained: Option<()>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        self.0
            .connect(details, chained)
            .map_err(|e| ureq::Error::Other(Box::new(BeforeSending::Connect(e))))
    }
}

/// Maps an error of `Agent::run` (up to the response head).
pub(crate) fn map_error(error: ureq::Error) -> TransportError {
    match error {
        ureq::Error::Other(other) => match other.downcast::<BeforeSending>() {
            Ok(before) => before.into_transport_error(),
            Err(other) => TransportError::other(other),
        },
        // The URL's own text stays out of the error: paths carry token values.
        ureq::Error::Http(_) | ureq::Error::BadUri(_) | ureq::Error::RequireHttpsOnly(_) => {
            TransportError::other("the request could not be built")
                .with_may_have_reached_server(false)
        }
        ureq::Error::HostNotFound => connect_failure(TransportErrorKind::Dns, error),
        ureq::Error::Timeout(ureq::Timeout::Resolve | ureq::Timeout::Connect) => {
            connect_failure(TransportErrorKind::Timeout, error)
        }
        ureq::Error::ConnectionFailed => connect_failure(TransportErrorKind::Connect, error),
        ureq::Error::Timeout(_) => TransportError::timeout(error),
        ureq::Error::BodyExceedsLimit(_) => TransportError::body(error),
        ureq::Error::Io(_) => TransportError::io(error),
        other => TransportError::other(other),
    }
}

/// Maps an error while reading the response body: the request was processed.
pub(crate) fn map_body_error(error: ureq::Error, limit: usize) -> TransportError {
    match error {
        ureq::Error::BodyExceedsLimit(_) => TransportError::body_too_large(limit),
        ureq::Error::Timeout(_) => TransportError::timeout(error),
        other => TransportError::body(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_before_sending_never_left() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let err = BeforeSending::Connect(ureq::Error::Io(refused)).into_transport_error();
        assert_eq!(err.kind(), TransportErrorKind::Connect);
        assert!(!err.may_have_reached_server());
        let tls = std::io::Error::other(rustls::Error::HandshakeNotComplete);
        let err = BeforeSending::Connect(ureq::Error::Io(tls)).into_transport_error();
        assert_eq!(err.kind(), TransportErrorKind::TlsHandshake);
        let err = BeforeSending::Resolve(ureq::Error::HostNotFound).into_transport_error();
        assert_eq!(err.kind(), TransportErrorKind::Dns);
        assert!(!err.may_have_reached_server());
    }

    #[test]
    fn ip_literals_need_no_lookup() {
        let addr = |uri: &str| ip_literal(&uri.parse().unwrap());
        assert_eq!(
            addr("http://127.0.0.1:8080/x"),
            Some("127.0.0.1:8080".parse().unwrap())
        );
        assert_eq!(addr("https://[::1]/x"), Some("[::1]:443".parse().unwrap()));
        assert_eq!(
            addr("http://10.1.2.3/x"),
            Some("10.1.2.3:80".parse().unwrap())
        );
        assert_eq!(addr("http://localhost:8080/x"), None);
        assert_eq!(addr("https://api.rebilly.com/x"), None);
    }

    #[test]
    fn failures_after_sending_may_have_reached() {
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        let err = map_error(ureq::Error::Io(reset));
        assert_eq!(err.kind(), TransportErrorKind::Io);
        assert!(err.may_have_reached_server());
        let err = map_error(ureq::Error::Timeout(ureq::Timeout::Global));
        assert_eq!(err.kind(), TransportErrorKind::Timeout);
        assert!(err.may_have_reached_server());
    }
}
