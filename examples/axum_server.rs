//! A small protected API against the embedded emulator: a login endpoint, a protected route
//! and logout.
//!
//! ```sh
//! cargo run --example axum_server
//! ```
//!
//! It prints its address and the `curl` lines to try it, and runs until Ctrl-C. The emulator
//! runs in process (no network): it stands in for Rebilly, with one customer, `ada`.
//!
//! It serves with hyper's HTTP/1 connection builder rather than `axum::serve`, for two limits
//! every server facing the internet needs and `axum::serve` does not offer: a deadline on
//! reading a request's head and a cap on open connections (see [`serve`]). Copy them along
//! with the rest.

mod support;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use rebilly_auth_axum::{AuthenticatedCustomer, CurrentSession, RebillyAuth};
use rebilly_auth_core::models::{Login, NewCredential};
use rebilly_auth_core::{Auth, Client};
use rebilly_auth_testing::emulator::Emulator;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;
use tower_http::timeout::TimeoutLayer;

const ORG: &str = "demo-org";
const SECRET_KEY: &str = "sk_demo_secret";
const PUBLISHABLE_KEY: &str = "pk_demo_publishable";

/// How long a connection may take to send a request's head (request line and headers). It is
/// also how long an idle keep-alive connection stays open: hyper's head-read timer runs while it
/// waits for the next request. Without it, a connection that sends nothing holds its socket,
/// task and buffers for as long as the client likes: about 20,000 such idle connections made
/// legitimate requests to this example time out.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a request may take, body and handler included: a body trickled a byte at a time
/// would otherwise hold its connection long after its head arrived. (tower-http's
/// `TimeoutBody` would not do: its deadline restarts with each chunk.)
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The most connections served at once. The deadlines above free a slot a slow client holds;
/// this cap bounds how many it can hold meanwhile, so memory, file descriptors and tasks stay
/// bounded whatever the number of clients. At the cap the server stops accepting: newcomers
/// wait in the kernel's listen backlog until a slot frees. (A per-client limit belongs in front,
/// in your reverse proxy or load balancer: one client can still fill this cap.)
const MAX_CONNECTIONS: usize = 1024;
/// How long Ctrl-C waits for requests in flight before closing their connections.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// `POST /login` with `{"username": …, "password": …}`: the customer's token, or 401.
async fn login(client: Client, body: Bytes) -> impl IntoResponse {
    #[derive(serde::Deserialize)]
    struct Form {
        username: String,
        password: String,
    }
    let Ok(form) = serde_json::from_slice::<Form>(&body) else {
        return (
            StatusCode::BAD_REQUEST,
            "expected {\"username\":…,\"password\":…}\n".to_owned(),
        );
    };
    match client
        .authentication_tokens()
        .login(Login::password(form.username, form.password))
        .await
    {
        // The token goes to its owner, once; it is never logged.
        Ok(issued) => (StatusCode::OK, format!("{}\n", issued.token.expose())),
        Err(error) if error.is_unauthorized() => (
            StatusCode::UNAUTHORIZED,
            "wrong username or password\n".to_owned(),
        ),
        Err(error) => (StatusCode::BAD_GATEWAY, format!("{error}\n")),
    }
}

/// `GET /me`: who the token belongs to.
async fn me(customer: AuthenticatedCustomer) -> String {
    let expires = customer
        .expires_at()
        .map_or_else(|| "never".to_owned(), |at| at.to_string());
    format!(
        "customer {} ({}), token expires {expires}\n",
        customer.customer_id().as_str(),
        customer.username(),
    )
}

/// `POST /logout`: ends the session here and at Rebilly.
async fn logout(session: CurrentSession) -> impl IntoResponse {
    match session.logout().await {
        Ok(_) => (StatusCode::OK, "logged out\n".to_owned()),
        Err(error) => (StatusCode::BAD_GATEWAY, format!("{error}\n")),
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    support::init_logging();
    support::exit_code(run().await)
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    // The embedded emulator, with one customer.
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
        .create(NewCredential::new("ada", "correct horse", "cus_ada"))
        .await?;

    // The layer's client: a publishable key is all verify, login and logout need.
    let client = Client::builder()
        .organization(ORG)
        .auth(Auth::publishable_key(PUBLISHABLE_KEY))
        .transport(emulator.clone())
        .build()?;
    let auth = RebillyAuth::builder(client.clone()).build()?;

    let protected = Router::new()
        .route("/me", get(me))
        .route("/logout", post(logout))
        .layer(auth.layer());
    let app = Router::new()
        .route("/login", post(move |body: Bytes| login(client, body)))
        .merge(protected);

    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    println!("listening on {url}");
    println!("try:");
    println!(
        "  TOKEN=$(curl -s -X POST {url}/login -d '{{\"username\":\"ada\",\"password\":\"correct horse\"}}')"
    );
    println!("  curl -i {url}/me -H \"Authorization: Bearer $TOKEN\"");
    println!("  curl -i -X POST {url}/logout -H \"Authorization: Bearer $TOKEN\"");
    println!("  curl -i {url}/me -H \"Authorization: Bearer $TOKEN\"   # 401 now");
    println!("  curl -i {url}/me                                   # 401: no token");
    println!("Ctrl-C stops it.");

    serve(listener, app, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await;
    let metrics = auth.metrics();
    println!(
        "served {}: {}, {}",
        support::counted(metrics.authentications as usize, "authentication"),
        support::counted(metrics.cache_hits as usize, "cache hit"),
        support::counted(metrics.upstream_verifies as usize, "upstream verify call")
    );
    Ok(())
}

/// Serves `app` on `listener` until `shutdown` completes, with a head-read deadline, a whole-
/// request deadline and at most [`MAX_CONNECTIONS`] connections; then lets requests in flight finish
/// (for up to [`SHUTDOWN_GRACE`]).
async fn serve(listener: TcpListener, app: Router, shutdown: impl Future<Output = ()>) {
    // On expiry the handler (and its read of the body) is dropped and the client gets a 408.
    let app = app.layer(TimeoutLayer::with_status_code(
        StatusCode::REQUEST_TIMEOUT,
        REQUEST_TIMEOUT,
    ));
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // A free slot first, then accept: at the cap, no socket is taken from the backlog.
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = async {
                let slot = Arc::clone(&slots).acquire_owned().await;
                (slot, listener.accept().await)
            } => accepted,
        };
        let (slot, stream) = match accepted {
            (Ok(slot), Ok((stream, _peer))) => (slot, stream),
            (_, Err(error)) => {
                // Out of file descriptors, say: wait, do not spin, do not stop serving.
                eprintln!("accept failed: {error}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            (Err(_closed), _) => unreachable!("the semaphore is never closed"),
        };
        let app = app.clone();
        let service = hyper::service::service_fn(move |request| app.clone().oneshot(request));
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_READ_TIMEOUT)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // An error here is one client's (a reset, a missed deadline): nothing to do.
            let _ = connection.await;
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        eprintln!("requests still in flight after {SHUTDOWN_GRACE:?}: closing them");
    }
}
