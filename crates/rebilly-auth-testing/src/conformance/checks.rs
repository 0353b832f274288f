//! The checks, one function each; [`run_all`](super::run_all) runs them all.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rebilly_auth_core::{BodyLimit, HttpTransport, TransportError, TransportErrorKind};
use tokio::task::JoinSet;

use super::server::*;
use super::*;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn request(method: &str, url: &str, body: impl Into<Bytes>) -> http::Request<Bytes> {
    http::Request::builder()
        .method(method)
        .uri(url)
        .body(body.into())
        .expect("a valid request")
}

async fn send<T: HttpTransport + ?Sized>(
    transport: &T,
    request: http::Request<Bytes>,
) -> Result<http::Response<Bytes>, String> {
    let what = format!("{} {}", request.method(), request.uri().path());
    transport
        .send(request)
        .await
        .map_err(|e| format!("{what}: unexpected transport error: {e} ({e:?})"))
}

fn expect(cond: bool, message: impl FnOnce() -> String) -> Result<(), String> {
    if cond { Ok(()) } else { Err(message()) }
}

fn expect_error(
    result: Result<http::Response<Bytes>, TransportError>,
    what: &str,
) -> Result<TransportError, String> {
    match result {
        Ok(response) => Err(format!(
            "{what}: expected a transport error, got status {} with {} body bytes",
            response.status(),
            response.body().len()
        )),
        Err(e) => Ok(e),
    }
}

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

/// GET and POST bodies arrive intact (including an empty body and binary bytes), and the
/// request method, path and body reach the server.
pub async fn check_success_bodies<T: HttpTransport + ?Sized>(transport: &T) -> CheckOutcome {
    let server = TestServer::start(None, |req| match req.path.as_str() {
        "/empty" => ok(Vec::new()),
        "/echo" => ok(req.body.clone()),
        _ => ok("hello"),
    })
    .await?;
    let response = send(
        transport,
        request("GET", &server.url("/hello"), Bytes::new()),
    )
    .await?;
    expect(response.status() == 200, || {
        format!("GET /hello: status {}", response.status())
    })?;
    expect(response.body().as_ref() == b"hello", || {
        format!("GET /hello: body {:?}", response.body())
    })?;

    let response = send(
        transport,
        request("GET", &server.url("/empty"), Bytes::new()),
    )
    .await?;
    expect(response.body().is_empty(), || {
        "GET /empty: body not empty".into()
    })?;

    let binary: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
    let response = send(
        transport,
        request("POST", &server.url("/echo"), binary.clone()),
    )
    .await?;
    expect(response.body().as_ref() == binary.as_slice(), || {
        format!(
            "POST /echo: {} bytes came back, expected 10000 identical",
            response.body().len()
        )
    })?;

    let seen = server.seen();
    let post = seen
        .iter()
        .find(|r| r.path == "/echo")
        .ok_or("POST never seen")?;
    expect(post.method == "POST" && post.body == binary, || {
        format!(
            "server saw {} with {} body bytes",
            post.method,
            post.body.len()
        )
    })?;
    Ok(format!("{} requests", seen.len()))
}

/// 2xx, 3xx (not followed), 4xx and 5xx come back as responses with their bodies.
pub async fn check_status_classes<T: HttpTransport + ?Sized>(transport: &T) -> CheckOutcome {
    let server = TestServer::start(None, |req| {
        let status: u16 = req.path.trim_start_matches('/').parse().unwrap_or(200);
        let mut headers = Vec::new();
        if (300..400).contains(&status) {
            headers.push(("location".to_owned(), "/redirected".to_owned()));
        }
        let body = if status == 204 {
            Vec::new()
        } else {
            format!("status {status}").into_bytes()
        };
        Action::Respond {
            status,
            headers,
            body,
        }
    })
    .await?;
    for status in [200u16, 201, 204, 301, 302, 404, 500, 503] {
        let response = send(
            transport,
            request("GET", &server.url(&format!("/{status}")), Bytes::new()),
        )
        .await?;
        expect(response.status().as_u16() == status, || {
            format!("asked for {status}, got {}", response.status())
        })?;
        let expected = if status == 204 {
            String::new()
        } else {
            format!("status {status}")
        };
        expect(response.body().as_ref() == expected.as_bytes(), || {
            format!("status {status}: body {:?}", response.body())
        })?;
        if (300..400).contains(&status) {
            expect(response.headers().get("location").is_some(), || {
                format!("status {status}: Location header lost")
            })?;
        }
    }
    expect(
        !server.seen().iter().any(|r| r.path == "/redirected"),
        || "a redirect was followed".into(),
    )?;
    Ok("2xx/3xx/4xx/5xx returned, redirects not followed".into())
}

/// Request headers with several values reach the server in order; response headers with
/// several values come back; names match case-insensitively.
pub async fn check_headers<T: HttpTransport + ?Sized>(transport: &T) -> CheckOutcome {
    let server = TestServer::start(None, |req| {
        let multi = req.header_values("x-multi").join("|");
        let case = req.header_values("x-mixed-case").join("|");
        Action::Respond {
            status: 200,
            headers: vec![
                ("X-Echo-Multi".into(), multi),
                ("X-Echo-Case".into(), case),
                ("X-Resp".into(), "one".into()),
                ("x-resp".into(), "two".into()),
                ("X-UPPER-Case".into(), "up".into()),
            ],
            body: Vec::new(),
        }
    })
    .await?;
    let mut req = request("GET", &server.url("/headers"), Bytes::new());
    let headers = req.headers_mut();
    headers.append("x-multi", http::HeaderValue::from_static("a"));
    headers.append("x-multi", http::HeaderValue::from_static("b"));
    headers.append("X-Mixed-Case", http::HeaderValue::from_static("v"));
    let response = send(transport, req).await?;
    let h = response.headers();
    expect(h.get("x-echo-multi").is_some_and(|v| v == "a|b"), || {
        format!("server saw x-multi as {:?}", h.get("x-echo-multi"))
    })?;
    expect(h.get("x-echo-case").is_some_and(|v| v == "v"), || {
        format!("server saw x-mixed-case as {:?}", h.get("x-echo-case"))
    })?;
    let resp: Vec<_> = h.get_all("X-RESP").iter().collect();
    expect(resp == ["one", "two"], || {
        format!("x-resp came back as {resp:?}")
    })?;
    expect(h.get("x-upper-case").is_some_and(|v| v == "up"), || {
        "X-UPPER-Case not found as x-upper-case".into()
    })?;
    Ok("multi-value and case-insensitive headers both ways".into())
}

/// A 3 MiB body (under the default 4 MiB cap) arrives intact, sized and chunked.
pub async fn check_large_body<T: HttpTransport + ?Sized>(transport: &T) -> CheckOutcome {
    let big: Arc<Vec<u8>> = Arc::new((0..3 * 1024 * 1024).map(|i| (i % 251) as u8).collect());
    let body = big.clone();
    let server = TestServer::start(None, move |req| {
        if req.path == "/chunked" {
            Action::Chunked {
                body: (*body).clone(),
            }
        } else {
            ok((*body).clone())
        }
    })
    .await?;
    for path in ["/sized", "/chunked"] {
        let response = send(transport, request("GET", &server.url(path), Bytes::new())).await?;
        expect(response.body().as_ref() == big.as_slice(), || {
            format!(
                "{path}: got {} bytes, expected {} identical",
                response.body().len(),
                big.len()
            )
        })?;
    }
    Ok(format!("{} bytes, sized and chunked", big.len()))
}

/// A body over the request's [`BodyLimit`] fails with [`TransportErrorKind::BodyTooLarge`],
/// whether the server announced its length or streamed it chunked.
pub async fn check_body_over_limit<T: HttpTransport + ?Sized>(transport: &T) -> CheckOutcome {
    const LIMIT: usize = 64 * 1024;
    let server = TestServer::start(None, |req| {
        let body = vec![b'z'; 2 * 1024 * 1024];
        if req.path == "/chunked" {
            Action::Chunked { body }
        } else {
            ok(body)
        }
    })
    .await?;
    for path in ["/sized", "/chunked"] {
        let mut req = request("GET", &server.url(path), Bytes::new());
        req.extensions_mut().insert(BodyLimit(LIMIT));
        let err = expect_error(transport.send(req).await, path)?;
        expect(err.kind() == TransportErrorKind::BodyTooLarge, || {
            format!("{path}: expected BodyTooLarge, got {:?}: {err}", err.kind())
        })?;
    }
    // Exactly at the limit is fine.
    let server = TestServer::start(None, |_| ok(vec![b'a'; LIMIT])).await?;
    let mut req = request("GET", &server.url("/exact"), Bytes::new());
    req.extensions_mut().insert(BodyLimit(LIMIT));
    let response = send(transport, req).await?;
    expect(response.body().len() == LIMIT, || {
        "body at the limit cut".into()
    })?;
    Ok(format!(
        "2 MiB over a {LIMIT}-byte cap refused; exactly {LIMIT} accepted"
    ))
}

/// A response slower than core's deadline: when the caller gives up (the future is dropped),
/// the transport stays usable; if the transport has its own shorter timeout, it must say
/// [`TransportErrorKind::Timeout`] (or an ambiguous I/O error), never a "never sent" kind.
pub async fn check_slow_response<T: HttpTransport + ?Sized>(transport: &T) -> CheckOutcome {
    let server = TestServer::start(None, |req| {
        if req.path == "/slow" {
            Action::Delay(Duration::from_secs(5), Box::new(ok("late")))
        } else {
            ok("fast")
        }
    })
    .await?;
    let start = Instant::now();
    let outcome = tokio::time::timeout(
        Duration::from_millis(500),
        transport.send(request("GET", &server.url("/slow"), Bytes::new())),
    )
    .await;
    let note = match outcome {
        Err(_) => "cancelled by the caller's 500 ms deadline".to_owned(),
        Ok(Ok(response)) => {
            return Err(format!(
                "a 5 s response arrived in {:?}: {}",
                start.elapsed(),
                response.status()
            ));
        }
        Ok(Err(e)) => {
            expect(e.may_have_reached_server(), || {
                format!("slow response reported as never sent: {e:?}")
            })?;
            format!("the transport's own timeout: {:?}", e.kind())
        }
    };
    let response = send(
        transport,
        request("GET", &server.url("/fast"), Bytes::new()),
    )
    .await?;
    expect(response.body().as_ref() == b"fast", || {
        "follow-up request failed".into()
    })?;
    Ok(format!("{note}; a follow-up request succeeded"))
}

/// A server that closes mid-body, or before answering, yields an error that says the request
/// may have reached the server (kind I/O, Body or Other).
pub async fn check_closed_mid_response<T: HttpTransport + ?Sized>(transport: &T) -> CheckOutcome {
    let server = TestServer::start(None, |req| {
        if req.path == "/mid-body" {
            Action::CloseMidBody {
                declared: 10_000,
                sent: 100,
            }
        } else {
            Action::CloseBeforeResponse
        }
    })
    .await?;
    let mut kinds = Vec::new();
    for path in ["/mid-body", "/no-response"] {
        let err = expect_error(
            transport
                .send(request("POST", &server.url(path), "payload"))
                .await,
            path,
        )?;
        expect(err.may_have_reached_server(), || {
            format!("{path}: claims the request never left: {err:?}")
        })?;
        expect(
            matches!(
                err.kind(),
                TransportErrorKind::Io | TransportErrorKind::Body | TransportErrorKind::Other
            ),
            || {
                format!(
                    "{path}: kind {:?} for a connection closed after sending",
                    err.kind()
                )
            },
        )?;
        kinds.push(format!("{path}: {:?}", err.kind()));
    }
    Ok(kinds.join(", "))
}

/// A refused connection is [`TransportErrorKind::Connect`] and provably never sent.
pub async fn check_connection_refused<T: HttpTransport + ?Sized>(transport: &T) -> CheckOutcome {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    drop(listener);
    let url = format!("http://{addr}/refused");
    let err = expect_error(transport.send(request("POST", &url, "x")).await, "refused")?;
    expect(err.kind() == TransportErrorKind::Connect, || {
        format!("expected Connect, got {:?}: {err}", err.kind())
    })?;
    expect(!err.may_have_reached_server(), || {
        "a refused connection must say the request never left".into()
    })?;
    let message = format!("{err} {err:?}");
    expect(!message.contains("/refused"), || {
        format!("the error leaks the request path: {message}")
    })?;
    Ok("Connect, never sent, no URL in the message".into())
}

/// Ten sequential requests (GET and POST) use one keep-alive connection.
///
/// hyper-util (under reqwest too) hands a connection back to its pool asynchronously, just
/// after the body ends, so a request sent in the same instant may open a second connection.
/// The check leaves [`REUSE_PAUSE`] between requests: reuse is what it asserts, not that race.
pub async fn check_keep_alive<T: HttpTransport + ?Sized>(transport: &T) -> CheckOutcome {
    let server = TestServer::start(None, |_| ok("k")).await?;
    for i in 0..10 {
        let method = if i % 2 == 0 { "GET" } else { "POST" };
        let body = if method == "POST" { "b" } else { "" };
        send(
            transport,
            request(method, &server.url(&format!("/k/{i}")), body),
        )
        .await?;
        tokio::time::sleep(REUSE_PAUSE).await;
    }
    let connections = server.connections();
    expect(connections == 1, || {
        format!("10 sequential requests opened {connections} connections, expected 1")
    })?;
    Ok("10 requests, 1 connection".into())
}

/// `n` concurrent requests all get their own answer.
pub async fn check_concurrent<T: HttpTransport + 'static>(
    transport: Arc<T>,
    n: usize,
) -> CheckOutcome {
    let server = TestServer::start(None, |req| {
        Action::Delay(Duration::from_millis(20), Box::new(ok(req.path.clone())))
    })
    .await?;
    let mut tasks = JoinSet::new();
    for i in 0..n {
        let transport = transport.clone();
        let url = server.url(&format!("/c/{i}"));
        tasks.spawn(async move { (i, transport.send(request("GET", &url, Bytes::new())).await) });
    }
    let mut answered: HashMap<usize, bool> = HashMap::new();
    while let Some(joined) = tasks.join_next().await {
        let (i, result) = joined.map_err(|e| format!("task failed: {e}"))?;
        let response = result.map_err(|e| format!("request {i}: {e}"))?;
        let expected = format!("/c/{i}");
        expect(response.body().as_ref() == expected.as_bytes(), || {
            format!("request {i} got {:?}", response.body())
        })?;
        answered.insert(i, true);
    }
    expect(answered.len() == n, || {
        format!("{} of {n} answered", answered.len())
    })?;
    Ok(format!(
        "{n} concurrent requests over {} connections",
        server.connections()
    ))
}

/// HTTPS to a server whose certificate is signed by [`ConformanceEnv::ca_cert_der`] works, with
/// keep-alive.
pub async fn check_https<T: HttpTransport + ?Sized>(
    transport: &T,
    env: &ConformanceEnv,
) -> CheckOutcome {
    let server = TestServer::start(Some(env.server.clone()), |req| ok(req.body.clone())).await?;
    for i in 0..3 {
        let body = format!("secure {i}");
        let response = send(
            transport,
            request("POST", &server.url("/tls"), body.clone()),
        )
        .await?;
        expect(response.body().as_ref() == body.as_bytes(), || {
            format!("HTTPS echo: {:?}", response.body())
        })?;
        tokio::time::sleep(REUSE_PAUSE).await;
    }
    let connections = server.connections();
    expect(connections == 1, || {
        format!("3 HTTPS requests used {connections} connections")
    })?;
    Ok("3 requests over 1 TLS connection".into())
}

/// HTTPS to a server whose CA the transport does not trust fails with
/// [`TransportErrorKind::TlsHandshake`] and says the request never left.
pub async fn check_https_untrusted<T: HttpTransport + ?Sized>(
    untrusting: &T,
    env: &ConformanceEnv,
) -> CheckOutcome {
    let server = TestServer::start(Some(env.server.clone()), |_| ok("should not happen")).await?;
    let err = expect_error(
        untrusting
            .send(request("POST", &server.url("/tls"), "x"))
            .await,
        "untrusted certificate",
    )?;
    expect(err.kind() == TransportErrorKind::TlsHandshake, || {
        format!("expected TlsHandshake, got {:?}: {err}", err.kind())
    })?;
    expect(!err.may_have_reached_server(), || {
        "a failed handshake must say the request never left".into()
    })?;
    expect(server.seen().is_empty(), || {
        "the server saw a request".into()
    })?;
    Ok("TlsHandshake, never sent".into())
}
