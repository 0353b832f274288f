//! No secret leaks: one test builds every public type that can hold a secret — with a known,
//! distinct secret in each secret field — and asserts that no secret appears in its `{:?}`,
//! `{:#?}` or `{}` (errors: along the whole `source()` chain), in a recorded request, in a
//! cassette's JSON or file; and, with a TRACE subscriber of every target installed (the `log`
//! records of reqwest and rustls bridged in), runs login → verify → exchange (with a one-time
//! password) → JWT-authenticated call → reset token → logout over both transports and asserts
//! that none of the secrets, those the server generated included, appears in the output.
//!
//! One test on purpose: the subscriber is process-wide, and every check shares the capture.

use std::error::Error as StdError;
use std::fmt::Debug;
use std::io::Write;
use std::sync::{Arc, Mutex};

use http::Method;
use rebilly_auth_core::models::credential::NewCredential;
use rebilly_auth_core::models::jwt::{CustomerJwt, Exchange, Jwt};
use rebilly_auth_core::models::password_token::{NewResetPasswordToken, ResetPasswordToken};
use rebilly_auth_core::models::token::{AuthToken, AuthenticationToken, Login};
use rebilly_auth_core::{
    Auth, Client, Error, HttpTransport, PublishableKey, RetryPolicy, Secret, SecretKey,
};
use rebilly_auth_hyper::HyperTransport;
use rebilly_auth_reqwest::ReqwestTransport;
use rebilly_auth_testing::cassette::Recorder;
use rebilly_auth_testing::emulator::{Emulator, Fault, RequestMatcher, Route};
use rebilly_auth_testing::{RecordingTransport, json_response};
use serde_json::json;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::FmtSpan;

const ORG: &str = "leak-org";
const SECRET_KEY: &str = "sk_live_LEAK01secretkey";
const PUBLISHABLE_KEY: &str = "pk_live_LEAK02publishable";
const PASSWORD: &str = "LEAK03-hunter2-password";
const OTP: &str = "730519";
const TOKEN: &str = "LEAK04tokenvalue0000000000000000000000ab";
const JWT: &str = "eyJLEAK05.eyJqwtpayload.LEAK05signature";
const RESET_TOKEN: &str = "LEAK06resettoken";
const LOCATION_TOKEN: &str = "LEAK07locationtoken";
const DECODE_TOKEN: &str = "LEAK08decodebodytoken";
const CLOSED_PORT_TOKEN: &str = "LEAK09closedporttoken";
const DROPPED_TOKEN: &str = "LEAK10droppedtoken";
const EXCHANGE_TOKEN: &str = "LEAK11exchangetoken";
const EXCHANGE_OTP: &str = "482913";
const OTHER_SECRET: &str = "LEAK12plainsecret";

/// Every secret known up front.
const SECRETS: [&str; 15] = [
    SECRET_KEY,
    PUBLISHABLE_KEY,
    PASSWORD,
    OTP,
    TOKEN,
    JWT,
    RESET_TOKEN,
    LOCATION_TOKEN,
    DECODE_TOKEN,
    CLOSED_PORT_TOKEN,
    DROPPED_TOKEN,
    EXCHANGE_TOKEN,
    EXCHANGE_OTP,
    OTHER_SECRET,
    "eyJqwtpayload",
];

/// Whether `secret` occurs in `text`. A 6-digit one-time password counts only when not part of
/// a longer run of digits or letters (it could otherwise match inside an id by chance).
fn leaks(text: &str, secret: &str) -> bool {
    if secret.len() > 6 {
        return text.contains(secret);
    }
    text.match_indices(secret).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + secret.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphanumeric())
            && !after.is_some_and(|c| c.is_ascii_alphanumeric())
    })
}

struct Checker {
    secrets: Vec<String>,
    checked: usize,
    failures: Vec<String>,
}

impl Checker {
    fn new() -> Self {
        Self {
            secrets: SECRETS.iter().map(|s| (*s).to_owned()).collect(),
            checked: 0,
            failures: Vec::new(),
        }
    }

    fn add_secret(&mut self, secret: impl Into<String>) {
        let secret = secret.into();
        assert!(secret.len() >= 6, "a secret to look for: {}", secret.len());
        self.secrets.push(secret);
    }

    fn text(&mut self, label: &str, text: &str) {
        self.checked += 1;
        for secret in &self.secrets {
            if leaks(text, secret) {
                self.failures.push(format!(
                    "{label} shows a secret ({} chars): {text}",
                    secret.len()
                ));
            }
        }
    }

    fn debug(&mut self, label: &str, value: &impl Debug) {
        self.text(&format!("{label} {{:?}}"), &format!("{value:?}"));
        self.text(&format!("{label} {{:#?}}"), &format!("{value:#?}"));
    }

    fn shown(&mut self, label: &str, value: &(impl Debug + std::fmt::Display)) {
        self.debug(label, value);
        self.text(&format!("{label} {{}}"), &format!("{value}"));
    }

    /// An error: `{}`, `{:?}`, `{:#?}`, and the same of every source.
    fn error(&mut self, label: &str, error: &(dyn StdError + 'static)) {
        let mut current = Some(error);
        let mut depth = 0;
        while let Some(e) = current {
            self.text(&format!("{label} source {depth} {{}}"), &format!("{e}"));
            self.text(&format!("{label} source {depth} {{:?}}"), &format!("{e:?}"));
            self.text(
                &format!("{label} source {depth} {{:#?}}"),
                &format!("{e:#?}"),
            );
            current = e.source();
            depth += 1;
        }
    }
}

/// A `MakeWriter` that appends everything to one buffer.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Capture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// A client of `transport` for `url`, no retries (so each fault surfaces as it is).
fn client<T: HttpTransport>(url: &str, transport: T) -> Client<T> {
    Client::builder()
        .server_url(url)
        .organization_id(ORG)
        .secret_key(SECRET_KEY)
        .retry_policy(RetryPolicy::none())
        .transport(transport)
        .build()
        .expect("client")
}

/// The browser-and-backend flow with every kind of secret, over `transport`; returns the
/// secrets the server generated.
async fn flow<T: HttpTransport + 'static>(
    emulator: &Emulator,
    url: &str,
    transport: T,
    username: &str,
) -> Vec<String> {
    let client = client(url, transport);
    let publishable = Auth::publishable_key(PUBLISHABLE_KEY);
    client
        .credentials()
        .create(NewCredential::new(
            username,
            PASSWORD,
            format!("cus_{username}"),
        ))
        .await
        .unwrap();
    let token = client
        .authentication_tokens()
        .login(Login::password(username, PASSWORD).otp_required(true))
        .auth(publishable.clone())
        .await
        .unwrap()
        .token;
    let otp = emulator.last_otp(ORG, username).expect("an OTP was sent");
    let verified = client
        .authentication_tokens()
        .verify(&token)
        .auth(publishable.clone())
        .await
        .unwrap();
    assert!(verified.is_some());
    let jwt = client
        .authentication_tokens()
        .exchange(
            &token,
            Exchange::new().keep_token().one_time_password(&*otp),
        )
        .auth(publishable.clone())
        .await
        .unwrap()
        .token;
    // The customer's JWT as the credential of a call.
    let own = client
        .credentials()
        .list()
        .auth(Auth::jwt(jwt.clone()))
        .await
        .unwrap();
    assert_eq!(own.items.len(), 1);
    let reset = client
        .password_tokens()
        .create(NewResetPasswordToken::new(username))
        .await
        .unwrap()
        .token;
    client.password_tokens().get(&reset).await.unwrap();
    client
        .authentication_tokens()
        .logout(&token)
        .auth(publishable)
        .await
        .unwrap();
    vec![
        token.expose().to_owned(),
        jwt.expose().to_owned(),
        otp,
        reset.expose().to_owned(),
    ]
}

/// The transport errors of `transport`: a closed port and a dropped connection, each with a
/// token in the URL, and an exchange whose outcome is unknown (with a one-time password).
async fn transport_errors<T: HttpTransport + Clone + 'static>(
    checker: &mut Checker,
    name: &str,
    transport: T,
    emulator: &Emulator,
    url: &str,
) {
    // A port nothing listens on.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        format!("http://127.0.0.1:{port}")
    };
    let refused = client(&closed, transport.clone())
        .authentication_tokens()
        .verify(CLOSED_PORT_TOKEN)
        .await
        .unwrap_err();
    assert!(matches!(refused, Error::Transport { .. }), "{refused:?}");
    checker.error(&format!("{name} connection refused"), &refused);

    let client = client(url, transport);
    emulator.inject(
        RequestMatcher::new(Method::GET, Route::AuthenticationToken),
        Fault::DropBeforeProcessing,
        1,
    );
    let dropped = client
        .authentication_tokens()
        .verify(DROPPED_TOKEN)
        .await
        .unwrap_err();
    assert!(matches!(dropped, Error::Transport { .. }), "{dropped:?}");
    checker.error(&format!("{name} dropped connection"), &dropped);

    emulator.inject(
        RequestMatcher::new(Method::POST, Route::AuthenticationTokenExchange),
        Fault::DropBeforeProcessing,
        1,
    );
    let unknown = client
        .authentication_tokens()
        .exchange(
            EXCHANGE_TOKEN,
            Exchange::new().one_time_password(EXCHANGE_OTP),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(unknown, Error::ExchangeOutcomeUnknown { .. }),
        "{unknown:?}"
    );
    checker.error(&format!("{name} exchange outcome unknown"), &unknown);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_in_any_output() {
    let capture = Capture::default();
    tracing_subscriber::fmt()
        .with_max_level(LevelFilter::TRACE)
        .with_span_events(FmtSpan::FULL)
        .without_time()
        .with_writer(capture.clone())
        .try_init()
        .expect("the only subscriber of this test binary");
    let mut checker = Checker::new();

    // --- Values that hold secrets.
    checker.shown("Secret", &Secret::new(OTHER_SECRET));
    checker.shown("SecretKey", &SecretKey::new(SECRET_KEY));
    checker.shown("PublishableKey", &PublishableKey::new(PUBLISHABLE_KEY));
    checker.shown("AuthToken", &AuthToken::new(TOKEN));
    checker.shown("Jwt", &Jwt::new(JWT));
    for auth in [
        Auth::secret_key(SECRET_KEY),
        Auth::publishable_key(PUBLISHABLE_KEY),
        Auth::jwt(JWT),
    ] {
        checker.debug("Auth", &auth);
    }
    checker.debug(
        "Login",
        &Login::password("ada", PASSWORD).otp_required(true),
    );
    checker.debug(
        "NewCredential",
        &NewCredential::new("ada", PASSWORD, "cus_1"),
    );
    checker.debug("Exchange", &Exchange::new().one_time_password(OTP));
    let token: AuthenticationToken =
        serde_json::from_value(json!({"username": "ada", "token": TOKEN, "customerId": "cus_1"}))
            .unwrap();
    assert_eq!(token.token.as_ref().unwrap().expose(), TOKEN);
    checker.debug("AuthenticationToken", &token);
    let jwt: CustomerJwt =
        serde_json::from_value(json!({"token": JWT, "customerId": "cus_1"})).unwrap();
    assert_eq!(jwt.token.expose(), JWT);
    checker.debug("CustomerJwt", &jwt);
    let reset: ResetPasswordToken =
        serde_json::from_value(json!({"token": RESET_TOKEN, "username": "ada"})).unwrap();
    assert_eq!(reset.token.expose(), RESET_TOKEN);
    checker.debug("ResetPasswordToken", &reset);

    // --- Clients of each transport, their builders, and a prepared request.
    let builder = rebilly_auth_reqwest::client_builder()
        .organization_id(ORG)
        .auth(Auth::publishable_key(PUBLISHABLE_KEY));
    checker.debug("ClientBuilder<ReqwestTransport>", &builder);
    let reqwest_client = builder.build().unwrap();
    checker.debug("Client<ReqwestTransport>", &reqwest_client);
    let hyper_client = rebilly_auth_hyper::client_builder()
        .organization_id(ORG)
        .secret_key(SECRET_KEY)
        .build()
        .unwrap();
    checker.debug("Client<HyperTransport>", &hyper_client);
    checker.debug(
        "Request<PostAuthenticationToken>",
        &hyper_client
            .authentication_tokens()
            .login(Login::password("ada", PASSWORD))
            .auth(Auth::jwt(JWT)),
    );
    checker.debug(
        "Request<PostAuthenticationTokenExchange>",
        &hyper_client
            .authentication_tokens()
            .exchange(TOKEN, Exchange::new().one_time_password(OTP)),
    );

    // --- Errors built from answers: a Location holding a token, a body holding a token.
    let fake = RecordingTransport::new();
    let fake_client = Client::builder()
        .organization_id(ORG)
        .secret_key(SECRET_KEY)
        .retry_policy(RetryPolicy::none())
        .transport(fake.clone())
        .build()
        .unwrap();
    let mut conflict = json_response(409, &json!({"title": "Conflict", "detail": "already used"}));
    conflict.headers_mut().insert(
        http::header::LOCATION,
        format!("https://api.example/organizations/{ORG}/authentication-tokens/{LOCATION_TOKEN}")
            .parse()
            .unwrap(),
    );
    fake.push(conflict);
    let api = fake_client
        .authentication_tokens()
        .logout(TOKEN)
        .await
        .unwrap_err();
    assert_eq!(api.status().map(|s| s.as_u16()), Some(409), "{api:?}");
    checker.error("ApiError with Location", &api);

    fake.push(json_response(
        201,
        &json!({"username": 42, "token": DECODE_TOKEN}),
    ));
    let decode = fake_client
        .authentication_tokens()
        .login(Login::password("ada", PASSWORD))
        .await
        .unwrap_err();
    let Error::Decode(details) = &decode else {
        panic!("a decode error: {decode:?}")
    };
    assert!(leaks(
        std::str::from_utf8(details.body()).unwrap(),
        DECODE_TOKEN
    ));
    checker.error("DecodeError", &decode);

    // --- Recorded requests: the secret key, a publishable key, a JWT; a password, an OTP;
    // token values in paths.
    fake.push(json_response(
        201,
        &json!({"username": "ada", "token": TOKEN}),
    ));
    fake.push(json_response(200, &json!({"username": "ada"})));
    fake.push(json_response(201, &json!({"token": JWT})));
    fake_client
        .authentication_tokens()
        .login(Login::password("ada", PASSWORD))
        .auth(Auth::publishable_key(PUBLISHABLE_KEY))
        .await
        .unwrap();
    fake_client
        .authentication_tokens()
        .verify(TOKEN)
        .auth(Auth::jwt(JWT))
        .await
        .unwrap();
    fake_client
        .authentication_tokens()
        .exchange(TOKEN, Exchange::new().one_time_password(OTP))
        .await
        .unwrap();
    // Unscripted: the error names the request.
    let unscripted = fake_client
        .password_tokens()
        .get(RESET_TOKEN)
        .await
        .unwrap_err();
    checker.error("unscripted request", &unscripted);
    let recorded = fake.requests();
    assert_eq!(recorded.len(), 6);
    assert!(
        recorded[2]
            .body
            .windows(PASSWORD.len())
            .any(|w| w == PASSWORD.as_bytes())
    );
    for (i, request) in recorded.iter().enumerate() {
        checker.debug(&format!("RecordedRequest {i}"), request);
    }
    checker.debug("RecordingTransport", &fake);

    // --- Over loopback: the flow with TRACE output of every target captured, and the
    // transport errors of both transports.
    let emulator = Emulator::builder()
        .organization(ORG, SECRET_KEY, Some(PUBLISHABLE_KEY))
        .build();
    let server = emulator.serve_on_loopback().await.unwrap();
    let url = server.url();
    for generated in flow(&emulator, &url, ReqwestTransport::new(), "ada-reqwest").await {
        checker.add_secret(generated);
    }
    for generated in flow(&emulator, &url, HyperTransport::new(), "ada-hyper").await {
        checker.add_secret(generated);
    }
    transport_errors(
        &mut checker,
        "reqwest",
        ReqwestTransport::new(),
        &emulator,
        &url,
    )
    .await;
    transport_errors(
        &mut checker,
        "hyper",
        HyperTransport::new(),
        &emulator,
        &url,
    )
    .await;
    checker.debug("Emulator", &emulator);

    // --- A cassette recorded in process: its JSON and the file it writes.
    let recorder = Recorder::new(emulator.clone());
    let recorded_generated = flow(
        &emulator,
        "http://127.0.0.1:1",
        recorder.clone(),
        "ada-cassette",
    )
    .await;
    for generated in recorded_generated {
        checker.add_secret(generated);
    }
    let cassette = recorder.cassette();
    assert!(cassette.interactions.len() >= 8);
    checker.text("cassette JSON", &cassette.to_json());
    checker.debug("Cassette", &cassette);
    let path = std::env::temp_dir().join(format!("secret-leaks-{}.json", std::process::id()));
    recorder.save(&path).unwrap();
    let written = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_file(&path).ok();
    checker.text("cassette file", &written);

    server.shutdown().await;

    // --- The captured TRACE output, with every secret known by now.
    let output = capture.text();
    assert!(
        output.contains("rebilly_auth.call"),
        "the capture works: the SDK's spans are in it"
    );
    for target in ["reqwest", "hyper_util", "hyper", "rustls"] {
        let lines = output
            .lines()
            .filter(|l| l.contains(&format!("{target}::")))
            .count();
        println!("TRACE lines naming `{target}::`: {lines}");
    }
    println!("captured {} lines of TRACE output", output.lines().count());
    checker.text("TRACE output", &output);

    println!(
        "{} outputs checked against {} secrets",
        checker.checked,
        checker.secrets.len()
    );
    assert!(
        checker.failures.is_empty(),
        "{} leak(s):\n{}",
        checker.failures.len(),
        checker.failures.join("\n")
    );
}
