//! No secret leaks: one test builds every public type that can hold a secret — with a known,
//! distinct secret in each secret field — and asserts that no secret appears in its `{:?}`,
//! `{:#?}` or `{}` (errors: along the whole `source()` chain), in a recorded request, in a
//! cassette's JSON or file; and, with a TRACE subscriber of every target installed (the `log`
//! records of reqwest and rustls bridged in), runs login → verify → exchange (with a one-time
//! password) → JWT-authenticated call → reset token → logout over both transports — in plain
//! HTTP, and in HTTPS through a TLS front with a self-signed certificate on loopback — and
//! asserts that none of the secrets, those the server generated included, appears in the
//! output. It also asserts that the capture really holds lines of reqwest, hyper-util and
//! rustls (its client handshake included): a broken `log` bridge must fail the test, not pass
//! it vacuously.
//!
//! One test on purpose: the subscriber is process-wide, and every check shares the capture.

use std::error::Error as StdError;
use std::fmt::Debug;
use std::net::SocketAddr;
use std::sync::Arc;

use rebilly_auth_core::OperationId;
use rebilly_auth_core::models::NewCredential;
use rebilly_auth_core::models::{AuthToken, ListedToken, Login};
use rebilly_auth_core::models::{CustomerJwt, Exchange, Jwt};
use rebilly_auth_core::models::{NewResetPasswordToken, ResetPasswordToken};
use rebilly_auth_core::{
    Auth, Client, Error, HttpTransport, PublishableKey, RetryPolicy, Secret, SecretKey,
};
use rebilly_auth_hyper::HyperTransport;
use rebilly_auth_reqwest::ReqwestTransport;
use rebilly_auth_testing::cassette::Recorder;
use rebilly_auth_testing::emulator::{Emulator, Fault, RequestMatcher};
use rebilly_auth_testing::{LogCapture, RecordingTransport, json_response};
use serde_json::json;
use tracing_subscriber::util::SubscriberInitExt;

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

/// A TLS front on `127.0.0.1` for the plain-HTTP server at `backend`, with a self-signed
/// certificate for `127.0.0.1`/`localhost` generated for the run: each connection's TLS is
/// terminated and its bytes piped to `backend`. Returns its `https://` URL, the certificate
/// (DER, for the clients' roots) and the accept task.
async fn tls_front(backend: SocketAddr) -> (String, Vec<u8>, tokio::task::JoinHandle<()>) {
    use tokio_rustls::rustls;
    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .expect("a self-signed certificate");
    let cert_der = certified.cert.der().to_vec();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(rustls::pki_types::PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    // The test server's side stays on ring (the suite's only provider); newer rustls
    // deprecates ring's provider for lacking post-quantum key exchange. `allow`, not
    // `expect`: the rustls versions the lower bound admits do not deprecate it.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .expect("server TLS config");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    return;
                };
                let Ok(mut plain) = tokio::net::TcpStream::connect(backend).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    (url, cert_der, task)
}

/// How many captured lines come from `krate` (event or span target `krate` or `krate::…`).
/// The fmt layer writes `TIME LEVEL spans: target: message`; the target follows the level or
/// `: `.
fn lines_from(output: &str, krate: &str) -> usize {
    let module = format!("{krate}::");
    let exact = format!("{krate}: ");
    let after_word = |text: &str| -> String {
        let text = text.trim_start();
        text.split_once(' ')
            .map_or("", |(_, rest)| rest)
            .trim_start()
            .to_owned()
    };
    output
        .lines()
        .filter(|line| {
            // The time, then the level.
            let rest = after_word(&after_word(line));
            let rest = rest.as_str();
            std::iter::once(rest)
                .chain(rest.match_indices(": ").map(|(at, _)| &rest[at + 2..]))
                .any(|tail| tail.starts_with(&module) || tail.starts_with(&exact))
        })
        .count()
}

/// A client of `transport` for `url`, no retries (so each fault surfaces as it is).
fn client(url: &str, transport: impl HttpTransport + 'static) -> Client {
    Client::builder()
        .server_url(url)
        .organization(ORG)
        .secret_key(SECRET_KEY)
        .retry_policy(RetryPolicy::none())
        .transport(transport)
        .build()
        .expect("client")
}

/// The browser-and-backend flow with every kind of secret, over `transport`; returns the
/// secrets the server generated.
async fn flow(
    emulator: &Emulator,
    url: &str,
    transport: impl HttpTransport + 'static,
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
        .reset_password_tokens()
        .create(NewResetPasswordToken::new(username))
        .await
        .unwrap()
        .token;
    client.reset_password_tokens().get(&reset).await.unwrap();
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
        RequestMatcher::operation(OperationId::GetAuthenticationTokenVerification),
        Fault::DropBeforeProcessing,
    );
    let dropped = client
        .authentication_tokens()
        .verify(DROPPED_TOKEN)
        .await
        .unwrap_err();
    assert!(matches!(dropped, Error::Transport { .. }), "{dropped:?}");
    checker.error(&format!("{name} dropped connection"), &dropped);

    emulator.inject(
        RequestMatcher::operation(OperationId::PostAuthenticationTokenExchange),
        Fault::DropBeforeProcessing,
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
    let capture = LogCapture::new();
    // Process-wide (the transports log on other threads), with the `log` bridge: `try_init`
    // installs tracing-log's `LogTracer` too.
    capture
        .subscriber()
        .try_init()
        .expect("the only subscriber of this test binary");
    let mut checker = Checker::new();

    // --- Values that hold secrets.
    checker.debug("Secret", &Secret::new(OTHER_SECRET));
    checker.debug("SecretKey", &SecretKey::new(SECRET_KEY));
    checker.debug("PublishableKey", &PublishableKey::new(PUBLISHABLE_KEY));
    checker.debug("AuthToken", &AuthToken::new(TOKEN));
    checker.debug("Jwt", &Jwt::new(JWT));
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
    let token: ListedToken =
        serde_json::from_value(json!({"username": "ada", "token": TOKEN, "customerId": "cus_1"}))
            .unwrap();
    assert_eq!(token.token.as_ref().unwrap().expose(), TOKEN);
    checker.debug("ListedToken", &token);
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
        .organization(ORG)
        .auth(Auth::publishable_key(PUBLISHABLE_KEY));
    checker.debug("ClientBuilder", &builder);
    let reqwest_client = builder.build().unwrap();
    checker.debug("Client", &reqwest_client);
    let hyper_client = rebilly_auth_hyper::client_builder()
        .organization(ORG)
        .secret_key(SECRET_KEY)
        .build()
        .unwrap();
    checker.debug("Client", &hyper_client);
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
    // Not `fake.client()`: its key is a fixed `sk_test`, and this one must be a known secret.
    let fake_client = Client::builder()
        .organization(ORG)
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
    fake.respond_raw(conflict);
    let api = fake_client
        .authentication_tokens()
        .logout(TOKEN)
        .await
        .unwrap_err();
    assert_eq!(api.status().map(|s| s.as_u16()), Some(409), "{api:?}");
    checker.error("ApiError with Location", &api);

    fake.respond(201, &json!({"username": 42, "token": DECODE_TOKEN}));
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
    fake.respond(201, &json!({"username": "ada", "token": TOKEN}))
        .respond(200, &json!({"username": "ada"}))
        .respond(201, &json!({"token": JWT}));
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
        .reset_password_tokens()
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
        .add_organization(ORG, SECRET_KEY, Some(PUBLISHABLE_KEY))
        .build();
    let server = emulator.serve_on_loopback().await.unwrap();
    let url = server.url();
    for generated in flow(
        &emulator,
        &url,
        ReqwestTransport::new().unwrap(),
        "ada-reqwest",
    )
    .await
    {
        checker.add_secret(generated);
    }
    for generated in flow(&emulator, &url, HyperTransport::new().unwrap(), "ada-hyper").await {
        checker.add_secret(generated);
    }
    // The same flow in HTTPS (rustls logs only during a handshake), trusting only the front's
    // self-signed certificate.
    let (https_url, cert_der, front) = tls_front(server.addr()).await;
    let reqwest_tls = ReqwestTransport::builder()
        .tls_config(rebilly_auth_reqwest::tls_config_with_roots([cert_der.clone()]).unwrap())
        .build()
        .unwrap();
    for generated in flow(&emulator, &https_url, reqwest_tls, "ada-reqwest-tls").await {
        checker.add_secret(generated);
    }
    let hyper_tls = HyperTransport::builder()
        .tls_config(rebilly_auth_hyper::tls_config_with_roots([cert_der]).unwrap())
        .build()
        .unwrap();
    for generated in flow(&emulator, &https_url, hyper_tls, "ada-hyper-tls").await {
        checker.add_secret(generated);
    }
    front.abort();
    transport_errors(
        &mut checker,
        "reqwest",
        ReqwestTransport::new().unwrap(),
        &emulator,
        &url,
    )
    .await;
    transport_errors(
        &mut checker,
        "hyper",
        HyperTransport::new().unwrap(),
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
    // The transports' own logs are in the capture: reqwest and rustls log through `log` (the
    // `tracing-log` bridge that `try_init` installs), hyper-util through `tracing`. Without
    // them, "no secret in the output" would hold vacuously.
    println!("captured {} lines of TRACE output", output.lines().count());
    for krate in ["reqwest", "hyper_util", "hyper", "rustls", "rustls::client"] {
        println!("lines from `{krate}`: {}", lines_from(&output, krate));
    }
    for krate in ["reqwest", "hyper_util", "rustls", "rustls::client"] {
        assert!(
            lines_from(&output, krate) > 0,
            "the capture holds no line from `{krate}`: is the `log` bridge (tracing-log) or \
             the HTTPS leg broken?"
        );
    }
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
