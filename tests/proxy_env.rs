//! Loopback traffic never goes to a proxy taken from the environment.
//!
//! Plain-HTTP loopback (the emulator) carries API keys, passwords and one-time passwords in
//! clear text, so the transports this project builds must connect to `127.0.0.0/8`, `::1` and
//! `localhost` directly even when `HTTP_PROXY`, `HTTPS_PROXY` or `ALL_PROXY` (or their
//! lower-case forms) are set.
//!
//! Proxy variables are process-wide and read when a client is built, and Rust 2024 makes
//! `std::env::set_var` `unsafe` (forbidden in this workspace). So the test re-runs this test
//! binary as a child process whose environment names a fake "proxy" — a listener of the parent
//! on `127.0.0.1` that counts connections and answers `502` — and, in the child, builds clients
//! over every transport with default settings and makes calls to the emulator on loopback. The
//! child must succeed and the fake proxy must have seen no connection. No other test binary
//! depends on these variables.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rebilly_auth_core::models::Login;
use rebilly_auth_core::models::NewCredential;
use rebilly_auth_core::{Client, ClientBuilder, RetryPolicy};
use rebilly_auth_hyper::HyperTransport;
use rebilly_auth_reqwest::ReqwestTransport;
use rebilly_auth_testing::emulator::Emulator;

const ORG: &str = "proxy-org";
const SECRET_KEY: &str = "sk_test_proxy_env";
const PASSWORD: &str = "clear-text-password";

/// Set in the child's environment: the test body runs the calls instead of spawning.
const CHILD: &str = "REBILLY_AUTH_PROXY_ENV_CHILD";

/// The name of the single test of this binary (the child runs exactly it).
const TEST_NAME: &str = "loopback_traffic_never_goes_to_a_proxy_from_the_environment";

/// Every variable that names a proxy (or an exception list, or CGI mode) for reqwest.
const PROXY_VARS: [&str; 9] = [
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "REQUEST_METHOD",
];

/// A fake proxy on `127.0.0.1`: counts connections and answers each with `502 Bad Gateway`,
/// so a call that went through it fails fast.
struct FakeProxy {
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
}

impl FakeProxy {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fake proxy");
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let counter = connections.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                counter.fetch_add(1, Ordering::SeqCst);
                let mut buf = [0u8; 1024];
                let _ = stream.read(&mut buf);
                let _ = stream.write_all(
                    b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                );
            }
        });
        Self { addr, connections }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

/// Runs this test binary again with `vars` (and no other proxy variable) set; returns whether
/// the child succeeded, and its output.
fn run_child(vars: &[(&str, String)]) -> (bool, String) {
    let mut command = Command::new(std::env::current_exe().expect("the test binary"));
    command.args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"]);
    for var in PROXY_VARS {
        command.env_remove(var);
    }
    command.env(CHILD, "1").env("RUST_BACKTRACE", "0");
    for (name, value) in vars {
        command.env(name, value);
    }
    let output = command.output().expect("run the child test process");
    let text = format!(
        "--- child stdout\n{}\n--- child stderr\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[test]
fn loopback_traffic_never_goes_to_a_proxy_from_the_environment() {
    if std::env::var_os(CHILD).is_some() {
        calls_over_loopback();
        return;
    }
    // The scheme-specific variables (reqwest's `http`/`https` proxies), then `ALL_PROXY` alone.
    let scenarios: [&[&str]; 2] = [
        &["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"],
        &["ALL_PROXY", "all_proxy"],
    ];
    let mut failures = Vec::new();
    for names in scenarios {
        let proxy = FakeProxy::start();
        let vars: Vec<(&str, String)> = names.iter().map(|n| (*n, proxy.url())).collect();
        let (ok, output) = run_child(&vars);
        let connections = proxy.connections();
        if ok && connections == 0 {
            println!("{names:?}: every call went direct; the proxy saw no connection");
        } else {
            failures.push(format!(
                "with {names:?} set to a proxy: the calls must succeed (they did: {ok}) and the \
                 proxy must see no connection (it saw {connections})\n{output}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The child: the emulator on loopback, and calls over every transport built with defaults.
fn calls_over_loopback() {
    assert!(
        ["HTTP_PROXY", "ALL_PROXY"]
            .iter()
            .any(|v| std::env::var_os(v).is_some()),
        "the child runs with a proxy in its environment"
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let emulator = Emulator::builder()
            .add_organization(ORG, SECRET_KEY, None)
            .build();
        let v4 = emulator.serve_on_loopback().await.unwrap();
        let port = v4.addr().port();
        let mut urls = vec![v4.url(), format!("http://localhost:{port}")];
        // `::1` only where the machine has IPv6 loopback.
        let v6 = emulator.serve("[::1]:0".parse().unwrap()).await.ok();
        match &v6 {
            Some(server) => urls.push(server.url()),
            None => println!("no IPv6 loopback here: [::1] not checked"),
        }

        let mut user = 0;
        let mut failures = Vec::new();
        for url in &urls {
            let mut call = async |name: &str, builder: ClientBuilder| {
                user += 1;
                match check(name, url, builder, user).await {
                    Ok(()) => println!("{name} against {url}: direct"),
                    Err(e) => failures.push(e),
                }
            };
            call(
                "rebilly_auth_reqwest::client_builder()",
                rebilly_auth_reqwest::client_builder(),
            )
            .await;
            call(
                "ReqwestTransport::new()",
                Client::builder().try_transport(ReqwestTransport::new()),
            )
            .await;
            call(
                "ReqwestTransport::builder().build()",
                Client::builder().transport(ReqwestTransport::builder().build().unwrap()),
            )
            .await;
            call(
                "rebilly_auth_hyper::client_builder()",
                rebilly_auth_hyper::client_builder(),
            )
            .await;
            call(
                "HyperTransport::new()",
                Client::builder().try_transport(HyperTransport::new()),
            )
            .await;
        }
        v4.shutdown().await;
        if let Some(server) = v6 {
            server.shutdown().await;
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    });
}

/// Creates a credential and logs in with its password (secrets in clear text) over `builder`'s
/// transport against `url`; the error names the client and the call that failed.
async fn check(name: &str, url: &str, builder: ClientBuilder, user: usize) -> Result<(), String> {
    let client = builder
        .server_url(url)
        .organization(ORG)
        .secret_key(SECRET_KEY)
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let username = format!("user{user}");
    client
        .credentials()
        .create(NewCredential::new(
            &username,
            PASSWORD,
            format!("cus_{user}"),
        ))
        .await
        .map_err(|e| format!("{name} against {url}: creating a credential failed: {e}"))?;
    client
        .authentication_tokens()
        .login(Login::password(&username, PASSWORD))
        .await
        .map_err(|e| format!("{name} against {url}: login failed: {e}"))?;
    Ok(())
}
