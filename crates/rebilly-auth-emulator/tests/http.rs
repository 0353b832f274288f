//! The HTTP face on loopback: same semantics as in process, faults on the wire.

mod support;

use std::time::Duration;

use http::{Method, StatusCode};
use rebilly_auth_core::OperationId;
use rebilly_auth_emulator::{Fault, RequestMatcher};
use support::*;
use tokio::net::TcpStream;

#[tokio::test]
async fn serves_the_same_state_over_http() {
    let emu = emulator();
    let server = emu.serve_on_loopback().await.unwrap();
    assert!(server.url().starts_with("http://127.0.0.1:"));
    let body = r#"{"username":"ada","password":"pw","customerId":"cus_ada"}"#;
    let (status, head, json) =
        split(&exchange(server.addr(), &request("POST", &path("/credentials"), body)).await);
    assert_eq!(status, 201);
    assert!(head.contains("content-type: application/json"));
    assert!(head.contains(&format!(
        "location: http://127.0.0.1/organizations/{ORG}/credentials/cus_crd_"
    )));
    assert!(head.contains("x-ratelimit-remaining: "));
    assert!(!json.contains("password"));
    // The in-process face sees it.
    let r = raw(
        &emu,
        Method::GET,
        &path("/credentials"),
        As::Secret(SK),
        None,
    )
    .await;
    assert_eq!(r.json().as_array().unwrap().len(), 1);
    // Errors are problem documents.
    let (status, _, json) = split(
        &exchange(
            server.addr(),
            &request("GET", &path("/credentials/nope"), ""),
        )
        .await,
    );
    assert_eq!(status, 404);
    assert!(json.contains("\"status\":404"));
    server.shutdown().await;
}

#[tokio::test]
async fn faults_on_the_wire() {
    let emu = emulator();
    let server = emu.serve_on_loopback().await.unwrap();
    let body = r#"{"username":"ada","password":"pw","customerId":"cus_ada"}"#;
    let post = RequestMatcher::operation(OperationId::PostCredential);

    // Dropped before the head: nothing comes back; not executed.
    emu.inject(post.clone(), Fault::DropBeforeProcessing);
    let out = exchange(server.addr(), &request("POST", &path("/credentials"), body)).await;
    assert!(out.is_empty(), "{}", String::from_utf8_lossy(&out));
    assert_eq!(emu.executed(OperationId::PostCredential), 0);

    // Dropped after processing: nothing comes back, but it was executed.
    emu.inject(post.clone(), Fault::DropAfterProcessing);
    let out = exchange(server.addr(), &request("POST", &path("/credentials"), body)).await;
    assert!(out.is_empty());
    assert_eq!(emu.executed(OperationId::PostCredential), 1);

    // Truncated: the head announces more than arrives.
    emu.inject(RequestMatcher::any(), Fault::TruncatedBody);
    let out = exchange(
        server.addr(),
        &request("GET", &path("/authentication-options"), ""),
    )
    .await;
    let (status, head, json) = split(&out);
    assert_eq!(status, 200);
    let announced: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(json.len() < announced, "{} < {announced}", json.len());

    // 429 with both retry headers.
    emu.inject(
        RequestMatcher::any(),
        Fault::RateLimited {
            retry_after: Duration::from_secs(3),
        },
    );
    let (status, head, _) =
        split(&exchange(server.addr(), &request("GET", &path("/credentials"), "")).await);
    assert_eq!(status, 429);
    assert!(head.contains("retry-after: 3"));
    assert!(head.contains("x-ratelimit-retry-after: "));

    // A status fault.
    emu.inject(
        RequestMatcher::any(),
        Fault::Status(StatusCode::SERVICE_UNAVAILABLE),
    );
    let (status, _, _) =
        split(&exchange(server.addr(), &request("GET", &path("/credentials"), "")).await);
    assert_eq!(status, 503);
    server.shutdown().await;
}

#[tokio::test]
async fn shutdown_stops_listening() {
    let emu = emulator();
    let server = emu.serve_on_loopback().await.unwrap();
    let addr = server.addr();
    server.shutdown().await;
    assert!(TcpStream::connect(addr).await.is_err());
}

// The binary's own tests (a separate process over loopback) live in the rebilly-auth-emulator
// crate, which builds it.
