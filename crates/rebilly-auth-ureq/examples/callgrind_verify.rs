//! The blocking client's cost per call against raw ureq on the same loopback exchange, for
//! callgrind (`scripts/blocking-instructions.sh`): a verify (`GET …/authentication-tokens/{token}`
//! and its decode) repeated `REBILLY_BENCH_CALLS` times, after a warm-up call that opens the
//! connection, against a server in its own process (`REBILLY_BENCH_URL`, the emulator binary
//! with organization `org` and secret key `sk_bench`).
//!
//! `REBILLY_BENCH_MODE=sdk`: `BlockingClient` over `UreqTransport`. `raw`: a `ureq::Agent`
//! configured as the transport's, the SDK's own request headers, the URL formatted per call,
//! the body read under the same limit, and the same JSON decode (`ListedToken`);
//! `raw-deadline`: the same with a per-request deadline, as the transport sets each attempt's.

use std::time::Duration;

use bytes::Bytes;
use rebilly_auth_ureq::models::{ListedToken, Login, NewCredential};
use rebilly_auth_ureq::{BlockingClient, UreqTransport};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("REBILLY_BENCH_URL")?;
    let calls: usize = std::env::var("REBILLY_BENCH_CALLS")?.parse()?;
    let mode = std::env::var("REBILLY_BENCH_MODE")?;
    let client = BlockingClient::builder()
        .server_url(&url)
        .organization("org")
        .secret_key("sk_bench")
        .transport(UreqTransport::builder().no_proxy().build()?)
        .build()?;
    client
        .credentials()
        .upsert("crd_bench", NewCredential::new("bench", "pw", "cus_bench"))
        .send()?;
    let token = client
        .authentication_tokens()
        .login(Login::password("bench", "pw"))
        .send()?
        .token;
    let mut verified = 0usize;
    match mode.as_str() {
        "sdk" => {
            for _ in 0..=calls {
                let answer = client
                    .authentication_tokens()
                    .verify(token.clone())
                    .send()?;
                verified += usize::from(answer.is_some());
            }
        }
        "raw" | "raw-deadline" => {
            // `raw-deadline`: each request also gets its own 30 s deadline, as the transport
            // gives each attempt (ureq's `configure_request`, a copy of the agent's config).
            let deadline = mode == "raw-deadline";
            let agent = ureq::Agent::config_builder()
                .max_redirects(0)
                .http_status_as_error(false)
                .proxy(None)
                .timeout_connect(Some(Duration::from_secs(10)))
                .build()
                .new_agent();
            let headers = client
                .authentication_tokens()
                .verify(token.clone())
                .to_http_request()?
                .headers()
                .clone();
            for _ in 0..=calls {
                let mut request = http::Request::get(format!(
                    "{url}/organizations/org/authentication-tokens/{}",
                    token.expose()
                ))
                .body(())?;
                *request.headers_mut() = headers.clone();
                let request = if deadline {
                    agent
                        .configure_request(request)
                        .timeout_global(Some(Duration::from_secs(30)))
                        .build()
                } else {
                    request
                };
                let response = agent.run(request)?;
                let (parts, mut body) = response.into_parts();
                let bytes = Bytes::from(body.with_config().limit(4 << 20).read_to_vec()?);
                if parts.status.is_success() {
                    let answer: ListedToken = serde_json::from_slice(&bytes)?;
                    verified += usize::from(!answer.username.is_empty());
                }
            }
        }
        other => return Err(format!("unknown mode {other}").into()),
    }
    assert_eq!(verified, calls + 1);
    Ok(())
}
