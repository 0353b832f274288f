//! How `HyperTransport` classifies connect failures, and what its `connect_timeout` bounds.
//! `rebilly-auth-reqwest/tests/connect_failures.rs` holds the same scenarios and assertions:
//! both transports must agree.

use std::future::Future;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rebilly_auth_hyper::auth_core::TransportError;
use rebilly_auth_hyper::{
    HttpTransport, HyperTransport, HyperTransportBuilder, TransportErrorKind,
};

/// A scenario never takes longer than this, whatever the machine's resolver does.
const BOUND: Duration = Duration::from_secs(30);

fn builder() -> HyperTransportBuilder {
    HyperTransport::builder()
}

/// Runs `test` on its own runtime, bounded by [`BOUND`], and does not wait for a blocking
/// `getaddrinfo` still running when it ends.
fn bounded<F: Future<Output = ()>>(test: F) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let finished = runtime.block_on(async { tokio::time::timeout(BOUND, test).await });
    runtime.shutdown_background();
    finished.unwrap_or_else(|_| panic!("the scenario did not finish within {BOUND:?}"));
}

async fn get(transport: &impl HttpTransport, url: &str) -> Result<(), TransportError> {
    let request = http::Request::get(url).body(Bytes::new()).unwrap();
    transport.send(request).await.map(drop)
}

fn assert_never_left(err: &TransportError, kind: TransportErrorKind) {
    assert_eq!(err.kind(), kind, "{err:?}");
    assert!(!err.may_have_reached_server(), "{err:?}");
    assert!(
        !format!("{err} {err:?}").contains("secret-token"),
        "{err:?}"
    );
}

/// `.invalid` never resolves (RFC 6761): no network needed.
#[test]
fn an_unresolvable_name_is_dns_and_never_left() {
    bounded(async {
        let transport = builder().connect_timeout(None).build().unwrap();
        for scheme in ["http", "https"] {
            let url = format!("{scheme}://rebilly-auth-test.invalid/organizations/secret-token");
            let err = get(&transport, &url).await.unwrap_err();
            assert_never_left(&err, TransportErrorKind::Dns);
        }
    });
}

#[test]
fn a_refused_loopback_connect_is_connect_and_never_left() {
    bounded(async {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let transport = builder().build().unwrap();
        for scheme in ["http", "https"] {
            let url = format!("{scheme}://{addr}/organizations/secret-token");
            let err = get(&transport, &url).await.unwrap_err();
            assert_never_left(&err, TransportErrorKind::Connect);
        }
    });
}

/// `connect_timeout` bounds the TLS handshake too: a server that accepts TCP and never answers
/// the ClientHello fails the request within the connect timeout, as a connect failure.
#[test]
fn connect_timeout_covers_the_tls_handshake() {
    bounded(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                held.push(stream); // accepted, never answered
            }
        });
        let limit = Duration::from_millis(300);
        let transport = builder().connect_timeout(limit).build().unwrap();
        let started = Instant::now();
        let err = get(
            &transport,
            &format!("https://{addr}/organizations/secret-token"),
        )
        .await
        .unwrap_err();
        let took = started.elapsed();
        assert_never_left(&err, TransportErrorKind::Connect);
        assert!(
            took >= limit,
            "failed after {took:?}, before the connect timeout"
        );
        assert!(
            took < Duration::from_secs(5),
            "took {took:?}: the handshake was not bounded"
        );
        server.abort();
    });
}

/// Without a connect timeout, the same stalled handshake is cut only by the transport's
/// whole-request `timeout`, whose error says the request may have been processed.
#[test]
fn without_connect_timeout_a_stalled_handshake_waits_for_the_request_timeout() {
    bounded(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                held.push(stream);
            }
        });
        let transport = builder()
            .connect_timeout(None)
            .timeout(Duration::from_millis(300))
            .build()
            .unwrap();
        let err = get(&transport, &format!("https://{addr}/x"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), TransportErrorKind::Timeout, "{err:?}");
        assert!(err.may_have_reached_server(), "{err:?}");
        server.abort();
    });
}
