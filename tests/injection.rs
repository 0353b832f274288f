//! Injection: property tests that user input cannot change where a request goes or what it
//! carries, and that the emulator's request handling never panics.
//!
//! - Authentication-token values and organization ids holding `/`, `..`, `?`, `#`, `%`,
//!   spaces, control characters or non-ASCII text stay inside their one path segment, which
//!   percent-decodes back to the input, and never add a query: checked on the recorded request
//!   (many cases), and over real sockets with both transports against the emulator, whose
//!   router must see the intended route and organization.
//! - Credential ids and reset-password tokens (the spec's `resourceId`: at most 50 of
//!   `[A-Za-z0-9@~._-]`, and not the dot segments `.` or `..`) are sent as one segment when
//!   valid and rejected before sending otherwise.
//! - Header values (keys, JWTs, the user agent) with CR, LF or control bytes are rejected
//!   before sending: nothing reaches the transport.
//! - The emulator, driven as an `HttpTransport` with arbitrary methods, paths, headers and
//!   bodies (JSON with the API's member names and wild values, or raw bytes), never panics and
//!   answers either JSON or an empty body.

use std::sync::Arc;

use bytes::Bytes;
use http::Method;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use rebilly_auth_core::OperationId;
use rebilly_auth_core::models::Exchange;
use rebilly_auth_core::models::Login;
use rebilly_auth_core::models::NewCredential;
use rebilly_auth_core::{Auth, Client, Error, HttpTransport, RetryPolicy};
use rebilly_auth_hyper::HyperTransport;
use rebilly_auth_reqwest::ReqwestTransport;
use rebilly_auth_testing::emulator::Emulator;
use rebilly_auth_testing::{RecordingTransport, json_response};
use serde_json::{Value, json};

const ORG: &str = "org";
const KEY: &str = "sk_injection";
const PK: &str = "pk_injection";

/// Text rich in what could escape a path segment.
fn hostile_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("/".to_owned()),
        Just("..".to_owned()),
        Just(".".to_owned()),
        Just("?".to_owned()),
        Just("#".to_owned()),
        Just("%".to_owned()),
        Just("%2F".to_owned()),
        Just("%2e%2e".to_owned()),
        Just(" ".to_owned()),
        Just("&limit=1".to_owned()),
        Just("\\".to_owned()),
        Just("é".to_owned()),
        Just("日本".to_owned()),
        Just("\u{1F600}".to_owned()),
        Just("\r\n".to_owned()),
        Just("\0".to_owned()),
        "[a-zA-Z0-9_~-]{1,4}",
        any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 1..8)
        .prop_map(|pieces| pieces.concat())
        .prop_filter("`.` and `..` are refused as segments", |s| {
            s != "." && s != ".."
        })
}

/// Hostile text as a token value the SDK sends: the bytes it refuses before sending (below
/// 0x21, 0x7F; `tests/hostile_server.rs` in core checks the refusal) are left out.
fn hostile_token() -> impl Strategy<Value = String> {
    hostile_text()
        .prop_map(|s| {
            s.chars()
                .filter(|c| *c > ' ' && *c != '\u{7f}')
                .collect::<String>()
        })
        .prop_filter("a token the SDK sends", |s| {
            !s.is_empty() && s != "." && s != ".."
        })
}

fn percent_decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Whether a sent segment holds only unreserved characters and `%XX` escapes.
fn is_encoded_segment(segment: &str) -> bool {
    let bytes = segment.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                if !bytes
                    .get(i + 1..i + 3)
                    .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
                {
                    return false;
                }
                i += 3;
            }
            b if b.is_ascii_alphanumeric() || b"-._~".contains(&b) => i += 1,
            _ => return false,
        }
    }
    !segment.is_empty()
}

fn recording_client(fake: &RecordingTransport, organization: &str) -> Client {
    fake.respond_with(|_| Ok(json_response(404, &json!({"title": "Not Found"}))));
    Client::builder()
        .organization(organization)
        .secret_key(KEY)
        .retry_policy(RetryPolicy::none())
        .transport(fake.clone())
        .build()
        .expect("client")
}

/// `cases` cases; failures are reported, not persisted (no regression files in the tree).
fn config(cases: u32) -> Config {
    Config {
        failure_persistence: None,
        ..Config::with_cases(cases)
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Checks that `path` is `/organizations/{org}{rest}` with `rest` made of `expected` segments,
/// where `None` is the hostile one that must decode back to `value`.
fn assert_segments(
    path: &str,
    query: Option<&str>,
    organization: &str,
    expected: &[Option<&str>],
    value: &str,
) -> Result<(), TestCaseError> {
    prop_assert_eq!(query, None, "no query was added");
    let segments: Vec<&str> = path.split('/').collect();
    prop_assert_eq!(segments.len(), 3 + expected.len(), "segments of {}", path);
    prop_assert_eq!(segments[0], "");
    prop_assert_eq!(segments[1], "organizations");
    prop_assert!(is_encoded_segment(segments[2]), "{}", path);
    let decoded = percent_decode(segments[2]);
    prop_assert_eq!(decoded.as_deref(), Some(organization), "{}", path);
    for (sent, want) in segments[3..].iter().zip(expected) {
        match want {
            Some(literal) => prop_assert_eq!(sent, literal, "{}", path),
            None => {
                prop_assert!(is_encoded_segment(sent), "{}", path);
                let decoded = percent_decode(sent);
                prop_assert_eq!(decoded.as_deref(), Some(value), "{}", path);
            }
        }
    }
    Ok(())
}

#[test]
fn tokens_and_organizations_stay_in_their_segment_recorded() {
    let rt = runtime();
    let mut runner = TestRunner::new(config(256));
    runner
        .run(
            &(hostile_token(), hostile_text()),
            |(token, organization)| {
                rt.block_on(async {
                    // A client whose own organization is hostile.
                    let fake = RecordingTransport::new();
                    let client = recording_client(&fake, &organization);
                    let tokens = client.authentication_tokens();
                    let found = tokens.verify(token.as_str()).await.unwrap();
                    prop_assert!(found.is_none());
                    let _ = tokens.logout(token.as_str()).await;
                    let _ = tokens
                        .exchange(token.as_str(), Exchange::new().keep_token())
                        .await;
                    // A per-call hostile organization over a plain client.
                    let _ = client
                        .credentials()
                        .list()
                        .limit(5)
                        .organization(token.as_str())
                        .await;
                    let requests = fake.requests();
                    prop_assert_eq!(requests.len(), 4);
                    let t = Some("authentication-tokens");
                    let shapes: [&[Option<&str>]; 3] =
                        [&[t, None], &[t, None], &[t, None, Some("exchange")]];
                    for (request, shape) in requests.iter().zip(shapes) {
                        assert_segments(
                            request.uri.path(),
                            request.uri.query(),
                            &organization,
                            shape,
                            &token,
                        )?;
                    }
                    let list = &requests[3];
                    prop_assert_eq!(list.uri.query(), Some("limit=5"));
                    assert_segments(list.uri.path(), None, &token, &[Some("credentials")], "")?;
                    Ok(())
                })
            },
        )
        .unwrap();
}

#[test]
fn resource_ids_are_one_segment_or_refused() {
    let rt = runtime();
    let id = prop_oneof![hostile_text(), "[a-zA-Z0-9@~._-]{1,60}"];
    TestRunner::new(config(256))
        .run(&id, |id| {
            rt.block_on(async {
                let fake = RecordingTransport::new();
                let client = recording_client(&fake, ORG);
                // The spec's `resourceId` pattern, minus the dot segments `.` and `..`, which
                // the pattern allows but a URL path would resolve away.
                let valid = id.len() <= 50
                    && id != "."
                    && id != ".."
                    && id
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"@~-._".contains(&b));
                let get = client.credentials().get(id.as_str()).await;
                let put = client
                    .credentials()
                    .upsert(id.as_str(), NewCredential::new("u", "p", "c"))
                    .await;
                let delete = client.credentials().delete(id.as_str()).await;
                let reset_get = client.reset_password_tokens().get(id.as_str()).await;
                let reset_delete = client.reset_password_tokens().delete(id.as_str()).await;
                if valid {
                    let requests = fake.requests();
                    prop_assert_eq!(requests.len(), 5);
                    for (i, request) in requests.iter().enumerate() {
                        let resource = if i < 3 {
                            "credentials"
                        } else {
                            "password-tokens"
                        };
                        assert_segments(
                            request.uri.path(),
                            request.uri.query(),
                            ORG,
                            &[Some(resource), None],
                            &id,
                        )?;
                    }
                } else {
                    let errors = [
                        get.err(),
                        put.err(),
                        delete.err(),
                        reset_get.err(),
                        reset_delete.err(),
                    ];
                    for result in errors {
                        prop_assert!(matches!(result, Some(Error::InvalidInput(_))));
                    }
                    prop_assert_eq!(fake.request_count(), 0, "nothing was sent");
                }
                Ok(())
            })
        })
        .unwrap();
}

/// A string with at least one byte no header value may hold.
fn header_breaking_text() -> impl Strategy<Value = String> {
    let bad = prop_oneof![
        Just('\r'),
        Just('\n'),
        Just('\0'),
        Just('\t'),
        Just('\u{7f}'),
        (0u8..0x20).prop_map(char::from),
    ];
    ("[ -~]{0,12}", bad, "[ -~]{0,12}").prop_map(|(a, bad, b)| format!("{a}{bad}{b}"))
}

#[test]
fn header_values_with_control_bytes_are_refused_before_sending() {
    let rt = runtime();
    TestRunner::new(config(256))
        .run(&header_breaking_text(), |value| {
            rt.block_on(async {
                let fake = RecordingTransport::new();
                let client = recording_client(&fake, ORG);
                for auth in [
                    Auth::secret_key(value.as_str()),
                    Auth::publishable_key(value.as_str()),
                    Auth::jwt(value.as_str()),
                ] {
                    let result = client
                        .authentication_tokens()
                        .login(Login::password("ada", "pw"))
                        .auth(auth.clone())
                        .await;
                    prop_assert!(
                        matches!(result, Err(Error::InvalidInput(_))),
                        "{:?}",
                        result
                    );
                    let built = Client::builder()
                        .organization(ORG)
                        .auth(auth)
                        .transport(fake.clone())
                        .build();
                    prop_assert!(built.is_err());
                }
                let built = Client::builder()
                    .organization(ORG)
                    .secret_key(KEY)
                    .user_agent(value.as_str())
                    .transport(fake.clone())
                    .build();
                prop_assert!(built.is_err(), "a user agent with control bytes");
                prop_assert_eq!(fake.request_count(), 0, "nothing was sent");
                Ok(())
            })
        })
        .unwrap();
}

/// Over real sockets: the emulator's router sees the intended route and organization for
/// hostile tokens and organizations, over `transport`.
fn over_sockets<T: HttpTransport + 'static>(make: impl Fn() -> T) {
    let rt = runtime();
    let emulator = Emulator::builder()
        .add_organization(ORG, KEY, Some(PK))
        .build();
    let server = rt.block_on(emulator.serve_on_loopback()).unwrap();
    let client = Arc::new(
        Client::builder()
            .server_url(server.url())
            .organization(ORG)
            .secret_key(KEY)
            .retry_policy(RetryPolicy::none())
            .transport(rt.block_on(async { make() }))
            .build()
            .unwrap(),
    );
    TestRunner::new(config(48))
        .run(
            &(hostile_token(), hostile_text()),
            |(token, organization)| {
                rt.block_on(async {
                    emulator.clear_request_log();
                    let tokens = client.authentication_tokens();
                    let verified = tokens.verify(token.as_str()).await;
                    prop_assert!(matches!(verified, Ok(None)), "{:?}", verified);
                    let exchanged = tokens
                        .exchange(token.as_str(), Exchange::new().keep_token())
                        .await
                        .unwrap_err();
                    prop_assert!(exchanged.is_not_found(), "{:?}", exchanged);
                    // An unknown (hostile) organization: 401, routed as that organization.
                    let other = client
                        .credentials()
                        .list()
                        .organization(organization.as_str())
                        .await
                        .unwrap_err();
                    prop_assert!(other.is_unauthorized(), "{:?}", other);
                    let log = emulator.request_log();
                    let seen: Vec<(Option<OperationId>, Option<String>)> = log
                        .into_iter()
                        .map(|r| (r.operation, r.organization))
                        .collect();
                    let org = Some(ORG.to_owned());
                    prop_assert_eq!(
                        seen,
                        vec![
                            (
                                Some(OperationId::GetAuthenticationTokenVerification),
                                org.clone()
                            ),
                            (Some(OperationId::PostAuthenticationTokenExchange), org),
                            (
                                Some(OperationId::GetCredentialCollection),
                                Some(organization.clone())
                            ),
                        ]
                    );
                    Ok(())
                })
            },
        )
        .unwrap();
    rt.block_on(server.shutdown());
}

#[test]
fn tokens_and_organizations_stay_in_their_segment_over_reqwest() {
    over_sockets(|| ReqwestTransport::new().unwrap());
}

#[test]
fn tokens_and_organizations_stay_in_their_segment_over_hyper() {
    over_sockets(|| HyperTransport::new().unwrap());
}

// ---- The emulator never panics.

/// A JSON value: scalars of every kind, and shallow arrays and objects of them.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
        Just(Value::from("2030-01-01T00:00:00Z")),
        Just(Value::from("1970-01-01T00:00:00+00:00")),
        Just(Value::from("/(?=a)b(/gimsuy")),
        Just(Value::from("password")),
        Just(Value::from("passwordless")),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::vec((member(), inner), 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A member name of the API's request bodies, or anything.
fn member() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "username",
            "password",
            "customerId",
            "mode",
            "otpRequired",
            "expiredTime",
            "invalidate",
            "oneTimePassword",
            "acl",
            "scope",
            "permissions",
            "organizationId",
            "customClaims",
            "passwordPattern",
            "credentialTtl",
            "authTokenTtl",
            "resetTokenTtl",
        ])
        .prop_map(str::to_owned),
        ".{0,8}",
    ]
}

fn body() -> impl Strategy<Value = Bytes> {
    prop_oneof![
        3 => prop::collection::vec((member(), json_value()), 0..8).prop_map(|members| {
            let object: serde_json::Map<String, Value> = members.into_iter().collect();
            Bytes::from(serde_json::to_vec(&object).unwrap())
        }),
        1 => json_value().prop_map(|v| Bytes::from(serde_json::to_vec(&v).unwrap())),
        1 => prop::collection::vec(any::<u8>(), 0..64).prop_map(Bytes::from),
        1 => Just(Bytes::new()),
    ]
}

/// A path: mostly the API's routes with real, arbitrary or hostile parameters, sometimes noise.
fn path() -> impl Strategy<Value = String> {
    let param = prop_oneof![
        3 => Just("{TOKEN}".to_owned()),
        3 => Just("{CREDENTIAL}".to_owned()),
        3 => Just("{RESET}".to_owned()),
        1 => "[a-zA-Z0-9%._~-]{0,12}",
        1 => hostile_text().prop_map(|s| {
            s.bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect()
        }),
    ];
    let org = prop_oneof![
        4 => Just("org".to_owned()),
        1 => "[a-z%0-9]{0,6}",
    ];
    let tail = prop_oneof![
        Just(String::new()),
        Just("/".to_owned()),
        Just("/exchange".to_owned()),
        Just("?limit=2&offset=1".to_owned()),
        "\\?[a-z=&%0-9]{0,16}",
    ];
    let route = prop_oneof![
        8 => prop::sample::select(vec![
            "authentication-options",
            "authentication-tokens",
            "credentials",
            "password-tokens",
        ]),
        1 => prop::sample::select(vec!["nope", ""]),
    ];
    prop_oneof![
        6 => (org, route, prop::option::of(param), tail).prop_map(|(org, route, param, tail)| {
            let mut path = format!("/organizations/{org}/{route}");
            if let Some(param) = param {
                path.push('/');
                path.push_str(&param);
            }
            path.push_str(&tail);
            path
        }),
        1 => "/[a-zA-Z0-9/%._~?=&-]{0,40}",
    ]
}

fn header() -> impl Strategy<Value = (String, String)> {
    let name = prop_oneof![
        Just("reb-apikey".to_owned()),
        Just("authorization".to_owned()),
        Just("content-type".to_owned()),
        Just("organization-id".to_owned()),
        Just("host".to_owned()),
        Just("content-length".to_owned()),
        "[a-z-]{1,12}",
    ];
    let value = prop_oneof![
        Just(KEY.to_owned()),
        Just(PK.to_owned()),
        Just("Bearer {JWT}".to_owned()),
        Just("bearer x.y.z".to_owned()),
        Just("application/json".to_owned()),
        Just("org".to_owned()),
        "[ -~]{0,24}",
    ];
    (name, value)
}

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        4 => prop::sample::select(vec![
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::PATCH,
            Method::HEAD,
            Method::OPTIONS,
        ]),
        1 => "[A-Z]{1,8}".prop_map(|m| Method::from_bytes(m.as_bytes()).unwrap()),
    ]
}

/// The credential of a request: mostly a valid one, so that requests reach the handlers.
fn credential() -> impl Strategy<Value = Option<(String, String)>> {
    prop_oneof![
        4 => Just(Some(("reb-apikey".to_owned(), KEY.to_owned()))),
        1 => Just(Some(("authorization".to_owned(), PK.to_owned()))),
        1 => Just(Some(("authorization".to_owned(), "Bearer {JWT}".to_owned()))),
        1 => Just(None),
    ]
}

type ArbitraryRequest = (
    Method,
    String,
    Option<(String, String)>,
    Vec<(String, String)>,
    Bytes,
);

fn request() -> impl Strategy<Value = ArbitraryRequest> {
    (
        method(),
        path(),
        credential(),
        prop::collection::vec(header(), 0..3),
        body(),
    )
}

#[test]
fn the_emulator_never_panics() {
    let rt = runtime();
    // Which statuses the arbitrary requests met: evidence that they reach the handlers.
    let statuses = std::sync::Mutex::new(std::collections::BTreeMap::<u16, usize>::new());
    TestRunner::new(config(512))
        .run(&prop::collection::vec(request(), 1..6), |requests| {
            rt.block_on(async {
                // An organization with a credential, a live token, a JWT and a reset token,
                // so that arbitrary requests reach deep into the handlers.
                let emulator = Emulator::builder()
                    .add_organization(ORG, KEY, Some(PK))
                    .build();
                let client = Client::builder()
                    .organization(ORG)
                    .secret_key(KEY)
                    .transport(emulator.clone())
                    .build()
                    .unwrap();
                let credential = client
                    .credentials()
                    .create(NewCredential::new("ada", "pw", "cus_ada"))
                    .await
                    .unwrap();
                let token = client
                    .authentication_tokens()
                    .login(Login::password("ada", "pw"))
                    .await
                    .unwrap()
                    .token;
                let jwt = client
                    .authentication_tokens()
                    .exchange(&token, Exchange::new().keep_token())
                    .await
                    .unwrap()
                    .token;
                let reset = client
                    .reset_password_tokens()
                    .create(rebilly_auth_core::models::NewResetPasswordToken::new("ada"))
                    .await
                    .unwrap()
                    .token;
                let fill = |s: &str| {
                    s.replace("{TOKEN}", token.expose())
                        .replace("{CREDENTIAL}", credential.id.as_str())
                        .replace("{RESET}", reset.expose())
                        .replace("{JWT}", jwt.expose())
                };
                for (method, path, auth, headers, body) in requests {
                    let Ok(uri) = http::Uri::try_from(fill(&path)) else {
                        continue;
                    };
                    let mut builder = http::Request::builder().method(method).uri(uri);
                    for (name, value) in auth.iter().chain(&headers) {
                        builder = builder.header(name.as_str(), fill(value));
                    }
                    let Ok(request) = builder.body(body) else {
                        continue;
                    };
                    let response = emulator
                        .send(request)
                        .await
                        .map_err(|e| TestCaseError::fail(format!("no fault was injected: {e}")))?;
                    *statuses
                        .lock()
                        .unwrap()
                        .entry(response.status().as_u16())
                        .or_default() += 1;
                    let body = response.body();
                    prop_assert!(
                        body.is_empty() || serde_json::from_slice::<Value>(body).is_ok(),
                        "every answer is JSON or empty: {} {:?}",
                        response.status(),
                        String::from_utf8_lossy(body)
                    );
                }
                Ok(())
            })
        })
        .unwrap();
    let statuses = statuses.into_inner().unwrap();
    println!("statuses of arbitrary requests: {statuses:?}");
    for status in [200, 401, 404, 405] {
        assert!(statuses.contains_key(&status), "{status}: {statuses:?}");
    }
    assert!(
        statuses
            .keys()
            .any(|s| [201, 204, 403, 409, 422].contains(s)),
        "arbitrary bodies reach the handlers: {statuses:?}"
    );
}
