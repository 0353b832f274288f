//! The transport conformance suite (async checks over loopback: plain, TLS, refusals,
//! timeouts, connect failures, size limits) against `UreqTransport`, through a test-only
//! adapter that runs each blocking send on a plain thread of its own and awaits its answer.
//! The client path never does this: a `BlockingClient` calls its transport on the caller's
//! thread.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use rebilly_auth_testing::conformance::connect::{
    check_connect_timeout_covers_the_handshake, check_unresolvable_name, run_isolated,
};
use rebilly_auth_testing::conformance::{CheckOutcome, ConformanceEnv, run_all};
use rebilly_auth_ureq::auth_core::{HttpTransport, TransportError};
use rebilly_auth_ureq::{BlockingTransport, TransportErrorKind, UreqTransport};

/// A blocking transport seen as an async one: each send on a thread of its own.
struct OnThreads<T>(Arc<T>);

#[async_trait]
impl<T: BlockingTransport + 'static> HttpTransport for OnThreads<T> {
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let transport = self.0.clone();
        std::thread::spawn(move || {
            let _ = answer.send(transport.send(request));
        });
        answered
            .await
            .map_err(|_| TransportError::other("the sending thread panicked"))?
    }
}

fn on_threads(transport: UreqTransport) -> OnThreads<UreqTransport> {
    OnThreads(Arc::new(transport))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ureq_transport_passes_the_conformance_suite() {
    let report = run_all(|env: &ConformanceEnv| {
        on_threads(
            UreqTransport::builder()
                .no_proxy()
                .tls_roots([env.ca_cert_der.clone()])
                .build()
                .unwrap(),
        )
    })
    .await;
    println!("{report}");
    report.assert_all_passed();
}

#[track_caller]
fn passes(outcome: CheckOutcome) {
    if let Err(reason) = outcome {
        panic!("{reason}");
    }
}

#[test]
fn an_unresolvable_name_is_dns_and_never_left() {
    let transport = on_threads(
        UreqTransport::builder()
            .no_proxy()
            .connect_timeout(None)
            .build()
            .unwrap(),
    );
    passes(run_isolated(async {
        check_unresolvable_name(&transport).await
    }));
}

#[test]
fn connect_timeout_covers_the_tls_handshake_as_a_timeout_never_sent() {
    let limit = Duration::from_millis(300);
    let transport = on_threads(
        UreqTransport::builder()
            .no_proxy()
            .connect_timeout(limit)
            .build()
            .unwrap(),
    );
    passes(run_isolated(async {
        check_connect_timeout_covers_the_handshake(&transport, limit).await
    }));
}

/// The attempt's own deadline (`AttemptTimeout`, what a `BlockingClient` puts in each
/// request) cuts a stalled response as a `Timeout` that may have reached the server, and the
/// transport stays usable.
#[test]
fn the_attempt_timeout_cuts_a_stalled_response() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for (i, stream) in listener.incoming().enumerate() {
            let mut stream = stream.unwrap();
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            if i > 0 {
                let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
            }
            held.push(stream);
        }
    });
    let transport = UreqTransport::builder().no_proxy().build().unwrap();
    let request = || {
        let mut request = http::Request::get(format!("http://{addr}/organizations/secret-token"))
            .body(Bytes::new())
            .unwrap();
        request
            .extensions_mut()
            .insert(rebilly_auth_ureq::auth_core::AttemptTimeout(
                Duration::from_millis(300),
            ));
        request
    };
    let started = std::time::Instant::now();
    let error = transport.send(request()).unwrap_err();
    let took = started.elapsed();
    assert_eq!(error.kind(), TransportErrorKind::Timeout, "{error:?}");
    assert!(error.may_have_reached_server());
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(3),
        "{took:?}"
    );
    assert!(!format!("{error} {error:?}").contains("secret-token"));
    assert_eq!(transport.send(request()).unwrap().body().as_ref(), b"ok");
}
