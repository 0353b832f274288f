//! A small protected API against the embedded emulator: a login endpoint, a protected route
//! and logout.
//!
//! ```sh
//! cargo run --example axum_server
//! ```
//!
//! It prints its address and the `curl` lines to try it, and runs until Ctrl-C. The emulator
//! runs in process (no network): it stands in for Rebilly, with one customer, `ada`.

use axum::Router;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use rebilly_auth_axum::{AuthenticatedCustomer, CurrentSession, RebillyAuth};
use rebilly_auth_core::models::{Login, NewCredential};
use rebilly_auth_core::{Auth, Client};
use rebilly_auth_testing::emulator::Emulator;

const ORG: &str = "demo-org";
const SECRET_KEY: &str = "sk_demo_secret";
const PUBLISHABLE_KEY: &str = "pk_demo_publishable";

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
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The embedded emulator, with one customer.
    let emulator = Emulator::builder()
        .organization(ORG, SECRET_KEY, Some(PUBLISHABLE_KEY))
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

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
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

    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    let metrics = auth.metrics();
    println!(
        "served {} authentications: {} cache hits, {} upstream verifies",
        metrics.authentications, metrics.cache_hits, metrics.upstream_verifies
    );
    Ok(())
}
