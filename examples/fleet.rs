//! Three protected servers sharing one Redis (rebilly-auth-redis), with the embedded
//! emulator standing in for Rebilly: a logout on one server is refused by the other two.
//!
//! ```sh
//! cargo run --example fleet            # runs the demo, then serves until Ctrl-C
//! cargo run --example fleet -- --once  # the demo only
//! ```
//!
//! It uses `REDIS_URL` when set; otherwise it starts its own `redis-server` on a free
//! loopback port in a temporary directory when one is installed; otherwise it says how to
//! install one and exits non-zero.

mod support;

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};
use rebilly_auth_axum::{AuthenticatedCustomer, CurrentSession, RebillyAuth};
use rebilly_auth_core::models::{Login, NewCredential};
use rebilly_auth_core::{Auth, Client};
use rebilly_auth_redis::RedisStore;
use rebilly_auth_testing::emulator::Emulator;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const ORG: &str = "demo-org";
const SECRET_KEY: &str = "sk_demo_secret";
const PUBLISHABLE_KEY: &str = "pk_demo_publishable";
/// The fleet's digest key: in production 32 random bytes from your secret store, the same
/// on every server (`REBILLY_AUTH_DIGEST_KEY`).
const DIGEST_KEY: [u8; 32] = [7; 32];

/// The redis-server this example started, stopped on exit.
struct OwnRedis(Child, std::path::PathBuf);

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_dir_all(&self.1);
    }
}

/// `REDIS_URL`, else a redis-server of our own, else `None` (not installed).
fn redis() -> Option<(String, Option<OwnRedis>)> {
    if let Ok(url) = std::env::var("REDIS_URL") {
        return Some((url, None));
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let dir = std::env::temp_dir().join(format!("rebilly-auth-fleet-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no", "--dir"])
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let own = OwnRedis(child, dir);
    for _ in 0..500 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some((format!("redis://127.0.0.1:{port}"), Some(own)));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

/// One protected server: `GET /me`, `POST /logout`.
async fn server(auth: &RebillyAuth) -> std::io::Result<SocketAddr> {
    let app = Router::new()
        .route(
            "/me",
            get(|customer: AuthenticatedCustomer| async move {
                format!("hello {}\n", customer.username())
            }),
        )
        .route(
            "/logout",
            post(|session: CurrentSession| async move {
                match session.logout().await {
                    Ok(_) => StatusCode::NO_CONTENT,
                    Err(_) => StatusCode::BAD_GATEWAY,
                }
            }),
        )
        .layer(auth.layer());
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(addr)
}

/// Sends one request and returns its status code (what the curl line would show).
async fn status(method: &str, addr: SocketAddr, path: &str, token: &str) -> std::io::Result<u16> {
    let mut stream = TcpStream::connect(addr).await?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    Ok(response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0))
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    support::init_logging();
    support::exit_code(run().await)
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let once = std::env::args().any(|a| a == "--once");
    let Some((url, _own)) = redis() else {
        eprintln!(
            "No Redis: set REDIS_URL=redis://host:port, or install redis-server \
             (Debian/Ubuntu: apt-get install -y redis-server; macOS: brew install redis)."
        );
        std::process::exit(1);
    };

    let emulator = Emulator::builder()
        .add_organization(ORG, SECRET_KEY, Some(PUBLISHABLE_KEY))
        .build();
    let admin = Client::builder()
        .organization(ORG)
        .secret_key(SECRET_KEY)
        .transport(emulator.clone())
        .build()?;
    admin
        .credentials()
        .create(NewCredential::new("ada", "s3cret!", "cus_ada"))
        .await?;

    let mut servers = Vec::new();
    for _ in 0..3 {
        // Each server would be its own process: its own store, the same Redis and key.
        let store = RedisStore::builder(url.as_str())
            .digest_key(DIGEST_KEY)
            .build()
            .await?;
        let client = Client::builder()
            .organization(ORG)
            .auth(Auth::publishable_key(PUBLISHABLE_KEY))
            .transport(emulator.clone())
            .build()?;
        let auth = store.apply(RebillyAuth::builder(client)).build()?;
        let addr = server(&auth).await?;
        servers.push((addr, auth, store));
    }
    let token = admin
        .authentication_tokens()
        .login(Login::password("ada", "s3cret!"))
        .await?
        .token;
    let token = token.expose();

    println!(
        "Three servers on one Redis: {}",
        servers
            .iter()
            .map(|s| s.0.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("\n# ada's token works on every server:");
    for (addr, _, _) in &servers {
        let code = status("GET", *addr, "/me", token).await?;
        println!("curl -i -H 'Authorization: Bearer {token}' http://{addr}/me   # {code}");
    }
    let (first, _, _) = &servers[0];
    let code = status("POST", *first, "/logout", token).await?;
    println!("\n# logout on the first server:");
    println!("curl -i -X POST -H 'Authorization: Bearer {token}' http://{first}/logout   # {code}");
    // The revocation bus delivers within milliseconds; wait until both others heard it.
    for (_, _, store) in &servers[1..] {
        for _ in 0..500 {
            if store.metrics().bus_messages > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    println!("\n# refused by the other two (no call to Rebilly):");
    let mut refused = 0;
    for (addr, _, _) in &servers[1..] {
        let code = status("GET", *addr, "/me", token).await?;
        refused += usize::from(code == 401);
        println!("curl -i -H 'Authorization: Bearer {token}' http://{addr}/me   # {code}");
    }
    let verifies: u64 = servers
        .iter()
        .map(|s| s.1.metrics().upstream_verifies)
        .sum();
    println!("\nUpstream verifies for 3 servers: {verifies} (one, shared through Redis).");
    if refused != 2 {
        eprintln!("unexpected: the logout was not refused by both other servers");
        std::process::exit(2);
    }
    if once {
        return Ok(());
    }
    println!("\nServing until Ctrl-C.");
    tokio::signal::ctrl_c().await?;
    Ok(())
}
