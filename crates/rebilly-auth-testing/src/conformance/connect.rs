//! Connect-stage checks that depend on how the transport was configured, so [`run_all`]
//! cannot build the transport for them: a name that never resolves, and a handshake that
//! stalls under a `connect_timeout`. Each shipped transport's tests call them with the
//! settings named here; a transport of your own can too.
//!
//! Name resolution may block a thread (`getaddrinfo`), so run each check with
//! [`run_isolated`], which bounds it and never waits for a resolver still running.
//!
//! [`run_all`]: super::run_all

use std::future::Future;
use std::time::{Duration, Instant};

use rebilly_auth_core::{HttpTransport, TransportError, TransportErrorKind};

use super::CheckOutcome;

/// How long [`run_isolated`] lets a check run, whatever the machine's resolver does.
pub const ISOLATED_BOUND: Duration = Duration::from_secs(30);

/// The request path the checks send: a token-like segment that must never show in an error.
const SECRET_PATH: &str = "/organizations/secret-token";

/// Runs `check` on a runtime of its own, bounded by [`ISOLATED_BOUND`], and shuts the runtime
/// down without waiting for a blocking name lookup still running. Call it from a plain
/// `#[test]` (not from inside another runtime).
pub fn run_isolated<F: Future<Output = CheckOutcome>>(check: F) -> CheckOutcome {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("could not start a runtime: {e}"))?;
    let finished = runtime.block_on(async { tokio::time::timeout(ISOLATED_BOUND, check).await });
    runtime.shutdown_background();
    finished.unwrap_or_else(|_| Err(format!("did not finish within {ISOLATED_BOUND:?}")))
}

async fn send_get<T: HttpTransport + ?Sized>(transport: &T, url: &str) -> Result<(), String> {
    let request = http::Request::get(url)
        .body(bytes::Bytes::new())
        .map_err(|e| e.to_string())?;
    match transport.send(request).await {
        Ok(response) => Err(format!(
            "{url}: expected a transport error, got status {}",
            response.status()
        )),
        Err(error) => Err(classified(&error)),
    }
}

/// Renders an error's kind and flag for the checks to compare, and refuses one that shows the
/// request path.
fn classified(error: &TransportError) -> String {
    let shown = format!("{error} {error:?}");
    if shown.contains("secret-token") {
        return format!("the error shows the request path: {shown}");
    }
    format!(
        "{:?}/{}",
        error.kind(),
        if error.may_have_reached_server() {
            "may have reached"
        } else {
            "never left"
        }
    )
}

fn expect_classified(
    got: Result<(), String>,
    kind: TransportErrorKind,
    reached: bool,
) -> CheckOutcome {
    let want = format!(
        "{kind:?}/{}",
        if reached {
            "may have reached"
        } else {
            "never left"
        }
    );
    match got {
        Err(got) if got == want => Ok(want),
        Err(got) => Err(format!("expected {want}, got {got}")),
        Ok(()) => Err(format!("expected {want}, got a response")),
    }
}

/// A host under `.invalid` (RFC 6761: it never resolves, so no network is needed) fails as
/// [`TransportErrorKind::Dns`], never sent, over `http` and `https`. Build the transport with
/// no connect timeout, so that the resolver's own answer is what is classified.
pub async fn check_unresolvable_name<T: HttpTransport + ?Sized>(transport: &T) -> CheckOutcome {
    for scheme in ["http", "https"] {
        let url = format!("{scheme}://rebilly-auth-test.invalid{SECRET_PATH}");
        expect_classified(
            send_get(transport, &url).await,
            TransportErrorKind::Dns,
            false,
        )
        .map_err(|e| format!("{scheme}: {e}"))?;
    }
    Ok("Dns, never sent, over http and https".into())
}

/// A loopback server that accepts TCP and never answers: each connection is held open.
async fn stalling_server() -> Result<(std::net::SocketAddr, tokio::task::JoinHandle<()>), String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let server = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    Ok((addr, server))
}

/// `connect_timeout` bounds the whole connection setup, the TLS handshake included: against a
/// server that accepts TCP and never answers the ClientHello, the request fails as a
/// [`TransportErrorKind::Timeout`] that never left, after `limit` and well before 5 s. Build
/// the transport with `connect_timeout(limit)` and no whole-request timeout.
pub async fn check_connect_timeout_covers_the_handshake<T: HttpTransport + ?Sized>(
    transport: &T,
    limit: Duration,
) -> CheckOutcome {
    let (addr, server) = stalling_server().await?;
    let started = Instant::now();
    let got = send_get(transport, &format!("https://{addr}{SECRET_PATH}")).await;
    let took = started.elapsed();
    server.abort();
    expect_classified(got, TransportErrorKind::Timeout, false)?;
    if took < limit {
        return Err(format!(
            "failed after {took:?}, before the connect timeout {limit:?}"
        ));
    }
    if took >= Duration::from_secs(5) {
        return Err(format!("took {took:?}: the handshake was not bounded"));
    }
    Ok(format!("Timeout, never sent, after {took:?}"))
}

/// Without a connect timeout, the same stalled handshake is cut only by the transport's own
/// whole-request timeout, whose error says the request may have reached the server (the
/// transport cannot tell how far it got). Build the transport with no connect timeout and a
/// short request timeout.
pub async fn check_stalled_handshake_without_connect_timeout<T: HttpTransport + ?Sized>(
    transport: &T,
) -> CheckOutcome {
    let (addr, server) = stalling_server().await?;
    let got = send_get(transport, &format!("https://{addr}{SECRET_PATH}")).await;
    server.abort();
    expect_classified(got, TransportErrorKind::Timeout, true)
}
