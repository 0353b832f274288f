//! What the tests share: an emulator with customers, the layer's client, a router, requests,
//! and a TRACE capture that must never hold a token.
#![allow(dead_code, unreachable_pub)]

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::routing::{get, post};
use http::{HeaderMap, Method, StatusCode};
use http_body_util::BodyExt;
use rebilly_auth_axum::{AuthenticatedCustomer, CurrentSession, RebillyAuth, RebillyAuthBuilder};
use rebilly_auth_core::OperationId;
use rebilly_auth_core::models::{AuthToken, Login, NewCredential};
use rebilly_auth_core::{Auth, Client};
use rebilly_auth_testing::emulator::{Emulator, Fault, RequestMatcher};
use tower::ServiceExt;
use tracing_subscriber::fmt::format::FmtSpan;

pub const ORG: &str = "org";
pub const SECRET_KEY: &str = "sk_test_axum";
pub const PUBLISHABLE_KEY: &str = "pk_test_axum";

/// An emulator with two customers.
pub struct World {
    pub emulator: Emulator,
    pub admin: Client,
}

impl World {
    pub async fn new() -> Self {
        let emulator = Emulator::builder()
            .add_organization(ORG, SECRET_KEY, Some(PUBLISHABLE_KEY))
            .build();
        let admin = Client::builder()
            .organization(ORG)
            .secret_key(SECRET_KEY)
            .transport(emulator.clone())
            .build()
            .unwrap();
        for (user, customer) in [("ada", "cus_ada"), ("bob", "cus_bob")] {
            admin
                .credentials()
                .create(NewCredential::new(user, "pw-of-the-test", customer))
                .await
                .unwrap();
        }
        Self { emulator, admin }
    }

    /// The emulator's clock, a core `ManualClock`: the layer checks cache entries against the
    /// very time the emulator expires tokens with.
    pub fn clock(&self) -> rebilly_auth_core::test_util::ManualClock {
        self.emulator.clock().manual_clock().clone()
    }

    pub async fn login(&self, user: &str) -> AuthToken {
        self.login_with(Login::password(user, "pw-of-the-test"))
            .await
    }

    pub async fn login_with(&self, login: Login) -> AuthToken {
        self.admin
            .authentication_tokens()
            .login(login)
            .await
            .unwrap()
            .token
    }

    /// The layer's client: the publishable key, the layer's settings, the emulator's clock.
    pub fn layer_client(&self) -> Client {
        self.layer_client_with(Auth::publishable_key(PUBLISHABLE_KEY))
    }

    pub fn layer_client_with(&self, auth: Auth) -> Client {
        Client::builder()
            .organization(ORG)
            .auth(auth)
            .clock(Arc::new(self.clock()))
            .transport(self.emulator.clone())
            .build()
            .unwrap()
    }

    /// A builder over the layer's client, on the emulator's clock.
    pub fn auth(&self) -> RebillyAuthBuilder {
        RebillyAuth::builder(self.layer_client()).clock(Arc::new(self.clock()))
    }

    /// Verify requests the emulator saw (faulted ones included).
    pub fn verifies_seen(&self) -> usize {
        self.emulator
            .requests_seen(OperationId::GetAuthenticationTokenVerification)
    }

    /// Verify requests the emulator executed.
    pub fn verifies_executed(&self) -> usize {
        self.emulator
            .executed(OperationId::GetAuthenticationTokenVerification)
    }

    /// The next `times` verify requests meet `fault`.
    pub fn fault_verifies(&self, fault: Fault, times: usize) {
        self.emulator.inject(verify_matcher(), fault.times(times));
    }
}

/// The layer's upstream call: token verification.
pub fn verify_matcher() -> RequestMatcher {
    RequestMatcher::operation(OperationId::GetAuthenticationTokenVerification)
}

/// TRACE captured from the first line on, the world, and ada's token.
pub async fn ada_logged_in() -> (Capture, World, AuthToken) {
    let capture = Capture::start();
    let world = World::new().await;
    let token = world.login("ada").await;
    (capture, world, token)
}

/// [`ada_logged_in`], behind a layer with the default settings: its `RebillyAuth` and the
/// [`app`] over it.
pub async fn ada_behind_the_layer() -> (Capture, World, AuthToken, RebillyAuth, Router) {
    let (capture, world, token) = ada_logged_in().await;
    let auth = world.auth().build().unwrap();
    let app = app(&auth);
    (capture, world, token, auth, app)
}

/// A protected API: `GET|POST /me` answers `customer_id username otp_pending`, `POST /logout`
/// logs out through the layer, `GET /maybe` is under the optional layer.
pub fn app(auth: &RebillyAuth) -> Router {
    counted_app(auth).0
}

/// [`app`], and how many times its handlers ran.
pub fn counted_app(auth: &RebillyAuth) -> (Router, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let me = {
        let hits = hits.clone();
        move |customer: AuthenticatedCustomer| async move {
            hits.fetch_add(1, Ordering::SeqCst);
            format!(
                "{} {} {}",
                customer.customer_id().as_str(),
                customer.username(),
                customer.otp_pending()
            )
        }
    };
    let logout = {
        let hits = hits.clone();
        move |session: CurrentSession| async move {
            hits.fetch_add(1, Ordering::SeqCst);
            match session.logout().await {
                Ok(_) => StatusCode::NO_CONTENT,
                Err(_) => StatusCode::BAD_GATEWAY,
            }
        }
    };
    let maybe = {
        let hits = hits.clone();
        move |customer: Option<AuthenticatedCustomer>| async move {
            hits.fetch_add(1, Ordering::SeqCst);
            match customer {
                Some(customer) => customer.username().to_owned(),
                None => "anonymous".to_owned(),
            }
        }
    };
    let protected = Router::new()
        .route("/me", get(me.clone()).post(me))
        .route("/logout", post(logout))
        .layer(auth.layer());
    let optional = Router::new()
        .route("/maybe", get(maybe))
        .layer(auth.optional_layer());
    (protected.merge(optional), hits)
}

/// A response, read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn challenge(&self) -> Option<&str> {
        self.headers
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap())
    }

    pub fn retry_after(&self) -> Option<&str> {
        self.headers.get("retry-after").map(|v| v.to_str().unwrap())
    }
}

pub async fn send(app: &Router, method: Method, path: &str, headers: &[(&str, &str)]) -> Answer {
    let mut request = http::Request::builder().method(method).uri(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let (parts, body) = response.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    Answer {
        status: parts.status,
        headers: parts.headers,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}

/// `method path` with `Authorization: Bearer <token>`.
pub async fn send_bearer(app: &Router, method: Method, path: &str, token: &str) -> Answer {
    let bearer = format!("Bearer {token}");
    send(app, method, path, &[("authorization", &bearer)]).await
}

/// `GET /me` with `Authorization: Bearer <token>`.
pub async fn get_me(app: &Router, token: &str) -> Answer {
    send_bearer(app, Method::GET, "/me", token).await
}

/// TRACE output of everything this thread runs while it lives (tests run on current-thread
/// runtimes, so every task of the test is captured).
pub struct Capture {
    buffer: Arc<Mutex<Vec<u8>>>,
    _guard: tracing::subscriber::DefaultGuard,
}

#[derive(Clone)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl io::Write for Sink {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Capture {
    pub fn start() -> Self {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = Sink(buffer.clone());
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_span_events(FmtSpan::FULL)
            .with_ansi(false)
            .with_writer(move || sink.clone())
            .finish();
        let guard = tracing::subscriber::set_default(subscriber);
        Self {
            buffer,
            _guard: guard,
        }
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.buffer.lock().unwrap()).into_owned()
    }

    /// Fails if any of `secrets` appears in the output (in clear or percent-encoded form).
    #[track_caller]
    pub fn assert_clean(&self, secrets: &[&str]) {
        let text = self.text();
        assert!(
            text.contains("rebilly_auth.authenticate"),
            "the capture saw no authentication span"
        );
        for secret in secrets {
            assert!(secret.len() >= 8, "too short to search for: {secret}");
            assert!(
                !text.contains(secret),
                "a token appears in the TRACE output"
            );
        }
    }
}
