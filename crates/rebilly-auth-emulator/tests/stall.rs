//! Issue 23, items 3 to 5: no input stalls the emulator. Password patterns cannot make a check
//! quadratic past a small cap, no check runs under the state lock, request bodies have a read
//! deadline, snapshots are checked like live writes, and the overview is bounded.

mod support;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::Method;
use rebilly_auth_emulator::Emulator;
use rebilly_auth_emulator::{ControlApi, ServeOptions, Snapshot, SnapshotError};
use serde_json::{Value, json};
use support::*;

/// The lookahead pattern of the issue: each start position scans to the end, so the check is
/// quadratic in the password's length.
const LOOKAHEAD: &str = "(?=[a-z]*[0-9])";

fn control_emulator() -> Emulator {
    Emulator::builder()
        .add_organization(ORG, SK, Some(PK))
        .control_api(ControlApi::new())
        .build()
}

async fn set_pattern(emu: &Emulator, pattern: &str) {
    let r = raw_secret(
        emu,
        Method::PUT,
        "/authentication-options",
        Some(json!({"passwordPattern": pattern})),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

fn create_body(username: &str, password: &str) -> Value {
    json!({"username": username, "password": password, "customerId": "cus_1"})
}

/// Runs `work` on its own thread and waits at most `bound` for it: a check that never ends
/// fails the test instead of hanging it.
fn within<T: Send + 'static>(bound: Duration, work: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(work());
    });
    rx.recv_timeout(bound)
        .unwrap_or_else(|_| panic!("not answered within {bound:?}"))
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

/// A control request in process (loopback host; `X-Emulator-Control: 1` on writes).
async fn control(emu: &Emulator, method: Method, path: &str, body: Option<Vec<u8>>) -> Raw {
    let mut builder = http::Request::builder()
        .method(method.clone())
        .uri(format!("http://127.0.0.1/__emulator{path}"))
        .header("host", "127.0.0.1");
    if method != Method::GET {
        builder = builder.header("x-emulator-control", "1");
    }
    let request = builder.body(Bytes::from(body.unwrap_or_default())).unwrap();
    answer(emu, request).await
}

fn invalid_fields(body: &Value) -> Vec<String> {
    body["invalidFields"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|f| f["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A 300,000-character password against the lookahead pattern (within the 1 MiB body limit):
/// answered at once with a 422 naming `password`. Before the fix the check ran for minutes,
/// under the state lock.
#[test]
fn a_huge_password_is_refused_at_once() {
    let emu = emulator();
    let answer = within(Duration::from_secs(10), move || {
        block_on(async move {
            set_pattern(&emu, LOOKAHEAD).await;
            let password = "a".repeat(300_000);
            raw_secret(
                &emu,
                Method::POST,
                "/credentials",
                Some(create_body("ada", &password)),
            )
            .await
        })
    });
    assert_eq!(answer.status, 422, "{:?}", answer.body);
    assert_eq!(invalid_fields(&answer.json()), ["password"]);
}

/// While a long check runs, the emulator keeps answering: health and verify do not wait for it.
#[test]
fn other_requests_are_answered_while_a_password_is_checked() {
    let emu = control_emulator();
    let answers = within(Duration::from_secs(20), move || {
        block_on(async move {
            set_pattern(&emu, "/^(?=.*(?=.*(?=[a-z]*[0-9])))/").await;
            let slow = {
                let emu = emu.clone();
                tokio::spawn(async move {
                    let password = "a".repeat(300_000);
                    raw_secret(
                        &emu,
                        Method::POST,
                        "/credentials",
                        Some(create_body("ada", &password)),
                    )
                    .await
                    .status
                })
            };
            tokio::time::sleep(Duration::from_millis(20)).await;
            let started = Instant::now();
            let health = control(&emu, Method::GET, "/health", None).await;
            let health_took = started.elapsed();
            (health.status, health_took, slow.await.unwrap())
        })
    });
    assert_eq!(answers.0, 200);
    assert!(
        answers.1 < Duration::from_secs(2),
        "health took {:?}",
        answers.1
    );
    assert_eq!(answers.2, 422);
}

fn saved_state_with_two_credentials() -> Value {
    let emu = emulator();
    block_on(async {
        for name in ["ada", "bob"] {
            let r = raw_secret(
                &emu,
                Method::POST,
                "/credentials",
                Some(create_body(name, "pw")),
            )
            .await;
            assert_eq!(r.status, 201);
            let r = raw_secret(
                &emu,
                Method::POST,
                "/authentication-tokens",
                Some(json!({"username": name, "password": "pw"})),
            )
            .await;
            assert_eq!(r.status, 201);
        }
    });
    serde_json::from_slice(&emu.snapshot().to_json()).unwrap()
}

fn org_of(state: &mut Value) -> &mut Value {
    state["organizations"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|o| o["id"] == ORG)
        .unwrap()
}

/// Tampered snapshots: a record under two keys, two credentials sharing a username, two
/// authentication tokens sharing a value. Each is refused, from Rust and over the control API.
#[test]
fn snapshots_with_duplicates_are_refused() {
    let saved = saved_state_with_two_credentials();
    let mut cases = Vec::new();
    // Two map entries claiming one credential id.
    let mut state = saved.clone();
    let org = org_of(&mut state);
    let credentials = org["credentials"].as_object_mut().unwrap();
    let (_, first) = credentials.iter().next().unwrap();
    let copy = first.clone();
    credentials.insert("another-key".into(), copy);
    cases.push(("duplicate id", state));
    // Two credentials sharing a username.
    let mut state = saved.clone();
    let org = org_of(&mut state);
    let credentials = org["credentials"].as_object_mut().unwrap();
    let names: Vec<String> = credentials.keys().cloned().collect();
    let username = credentials[&names[0]]["username"].clone();
    credentials[&names[1]]["username"] = username;
    cases.push(("duplicate username", state));
    // Two authentication tokens sharing a value.
    let mut state = saved.clone();
    let org = org_of(&mut state);
    let tokens = org["authTokens"].as_object_mut().unwrap();
    let keys: Vec<String> = tokens.keys().cloned().collect();
    let value = tokens[&keys[0]]["token"].clone();
    tokens[&keys[1]]["token"] = value;
    cases.push(("duplicate token", state));

    for (what, state) in cases {
        let bytes = serde_json::to_vec(&state).unwrap();
        assert!(
            matches!(Snapshot::from_json(&bytes), Err(SnapshotError::Invalid(_))),
            "{what}: {:?}",
            Snapshot::from_json(&bytes).map(|_| ())
        );
        let emu = control_emulator();
        let answer = block_on(control(&emu, Method::PUT, "/state", Some(bytes)));
        assert_eq!(answer.status, 422, "{what}");
        assert_eq!(emu.stored_records(ORG).unwrap().credentials, 0, "{what}");
    }
}

/// The overview the inbox page polls returns a bounded number of records per kind.
#[test]
fn the_overview_is_bounded() {
    let emu = Emulator::builder()
        .add_organization(ORG, SK, Some(PK))
        .control_api(ControlApi::new())
        .rate_limit(100_000)
        .build();
    let overview = block_on(async {
        for i in 0..1_200 {
            let r = raw_secret(
                &emu,
                Method::POST,
                "/credentials",
                Some(create_body(&format!("user-{i}"), "pw")),
            )
            .await;
            assert_eq!(r.status, 201);
        }
        control(&emu, Method::GET, "/overview", None).await.json()
    });
    let shown = overview["organizations"][0]["credentials"]
        .as_array()
        .unwrap()
        .len();
    assert!(shown <= 1_000, "the overview listed {shown} credentials");
    assert!(shown > 0);
}

/// Opens a connection that sends a request head declaring a 100 kB body, then trickles one
/// byte of it every 50 ms until the server closes; returns whether the server answered 408.
async fn trickle(addr: std::net::SocketAddr) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(mut stream) = tokio::net::TcpStream::connect(addr).await else {
        return false;
    };
    let head = format!(
        "POST /organizations/{ORG}/credentials HTTP/1.1\r\nHost: 127.0.0.1\r\nREB-APIKEY: {SK}\r\n\
         Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{{"
    );
    if stream.write_all(head.as_bytes()).await.is_err() {
        return false;
    }
    let (mut read, mut write) = stream.into_split();
    let writer = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(50)).await;
            if write.write_all(b" ").await.is_err() {
                break;
            }
        }
    });
    let mut answer = Vec::new();
    let _ = read.read_to_end(&mut answer).await;
    writer.abort();
    answer.starts_with(b"HTTP/1.1 408")
}

/// More clients than connection slots trickle their bodies; each is cut off at the body-read
/// deadline (408), its slot freed, and a legitimate request still gets its answer.
#[test]
fn trickled_bodies_are_cut_off_and_free_their_slots() {
    let emu = emulator();
    let outcome = within(Duration::from_secs(30), move || {
        block_on(async move {
            let server = emu
                .serve_on_loopback_with(
                    ServeOptions::new()
                        .max_connections(2)
                        .body_read_timeout(Duration::from_millis(300)),
                )
                .await
                .unwrap();
            let addr = server.addr();
            let trickles: Vec<_> = (0..4).map(|_| tokio::spawn(trickle(addr))).collect();
            tokio::time::sleep(Duration::from_millis(100)).await;
            let request = format!(
                "GET /organizations/{ORG}/authentication-options HTTP/1.1\r\nHost: 127.0.0.1\r\n\
                 REB-APIKEY: {SK}\r\nConnection: close\r\n\r\n"
            );
            let started = Instant::now();
            let legit =
                tokio::time::timeout(Duration::from_secs(10), exchange(addr, &request)).await;
            let took = started.elapsed();
            let mut cut = 0;
            for trickle in trickles {
                cut += usize::from(trickle.await.unwrap());
            }
            server.shutdown().await;
            (legit.map(|answer| split(&answer).0), took, cut)
        })
    });
    assert_eq!(outcome.0, Ok(200), "answered after {:?}", outcome.1);
    assert_eq!(outcome.2, 4, "every trickling client got 408");
}

/// The lookahead pattern at the cap: a password of MAX_PASSWORD_LENGTH characters is checked
/// at once (refused or accepted by the pattern), one character more gets its own 422.
#[test]
fn the_lookahead_pattern_at_the_length_cap() {
    use rebilly_auth_emulator::MAX_PASSWORD_LENGTH;
    let emu = emulator();
    let (timings, statuses) = within(Duration::from_secs(10), move || {
        block_on(async move {
            set_pattern(&emu, LOOKAHEAD).await;
            let mut timings = Vec::new();
            let mut statuses = Vec::new();
            let cases = [
                ("refused", "a".repeat(MAX_PASSWORD_LENGTH)),
                (
                    "accepted",
                    format!("{}1", "a".repeat(MAX_PASSWORD_LENGTH - 1)),
                ),
                ("over", "a".repeat(MAX_PASSWORD_LENGTH + 1)),
            ];
            for (name, password) in cases {
                let started = Instant::now();
                let r = raw_secret(
                    &emu,
                    Method::POST,
                    "/credentials",
                    Some(create_body(name, &password)),
                )
                .await;
                timings.push(started.elapsed());
                statuses.push((r.status.as_u16(), r.json()));
            }
            (timings, statuses)
        })
    });
    eprintln!("lookahead at the cap: {timings:?}");
    assert_eq!(statuses[0].0, 422);
    assert_eq!(invalid_fields(&statuses[0].1), ["password"]);
    assert_eq!(statuses[1].0, 201, "{:?}", statuses[1].1);
    assert_eq!(statuses[2].0, 422);
    assert!(
        statuses[2].1["invalidFields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("at most"),
        "{:?}",
        statuses[2].1
    );
}

/// A restore applies the caps of live writes: a snapshot with more credentials than the
/// emulator's cap is refused (typed error, 422 over the control API), and nothing changes.
#[test]
fn restores_apply_the_record_caps() {
    let saved = saved_state_with_two_credentials();
    let snapshot = Snapshot::from_json(&serde_json::to_vec(&saved).unwrap()).unwrap();
    let emu = Emulator::builder()
        .add_organization(ORG, SK, Some(PK))
        .control_api(ControlApi::new())
        .max_records_per_kind(1)
        .build();
    assert!(matches!(
        emu.restore(&snapshot),
        Err(SnapshotError::Invalid(_))
    ));
    assert_eq!(emu.stored_records(ORG).unwrap().credentials, 0);
    let answer = block_on(control(
        &emu,
        Method::PUT,
        "/state",
        Some(serde_json::to_vec(&saved).unwrap()),
    ));
    assert_eq!(answer.status, 422);
    assert!(
        Emulator::builder()
            .max_records_per_kind(1)
            .state(snapshot.clone())
            .try_build()
            .is_err()
    );
    let roomy = Emulator::builder()
        .max_records_per_kind(2)
        .state(snapshot)
        .try_build();
    assert_eq!(roomy.unwrap().stored_records(ORG).unwrap().credentials, 2);
}
