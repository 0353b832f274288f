//! The control API in process (the binary's own tests drive it over HTTP): its security rules,
//! every endpoint, the inbox page, and the API's `HEAD` and `OPTIONS`.

mod support;

use std::time::Duration;

use bytes::Bytes;
use http::{Method, StatusCode};
use rebilly_auth_core::models::NewCredential;
use rebilly_auth_core::{Client, HttpTransport};
use rebilly_auth_emulator::Emulator;
use rebilly_auth_emulator::{ControlApi, Fault, Snapshot};
use serde_json::{Value, json};
use support::*;

fn controlled() -> Emulator {
    Emulator::builder()
        .add_organization(ORG, SK, Some(PK))
        .control_api(ControlApi::new())
        .seed(1)
        .build()
}

/// [`controlled`], with a credential for `ada`, and the client that made it.
async fn controlled_with_ada() -> (Emulator, Client) {
    let emu = controlled();
    let c = emu.client(ORG);
    c.credentials()
        .create(NewCredential::new("ada", "pw", "cus_ada"))
        .await
        .unwrap();
    (emu, c)
}

async fn control(
    emu: &Emulator,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> Raw {
    let mut builder = http::Request::builder()
        .method(method)
        .uri(format!("/__emulator{path}"));
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let request = builder
        .body(body.map_or_else(Bytes::new, |b| Bytes::from(b.to_string())))
        .unwrap();
    answer(emu, request).await
}

const LOCAL: (&str, &str) = ("host", "127.0.0.1:8080");
const DELIBERATE: (&str, &str) = ("x-emulator-control", "1");

async fn get(emu: &Emulator, path: &str) -> Raw {
    control(emu, Method::GET, path, &[LOCAL], None).await
}

async fn write(emu: &Emulator, method: Method, path: &str, body: Option<Value>) -> Raw {
    control(emu, method, path, &[LOCAL, DELIBERATE], body).await
}

#[tokio::test]
async fn off_unless_asked_for() {
    let emu = emulator();
    let r = get(&emu, "/health").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn host_header_and_deliberate_writes() {
    let emu = controlled();
    assert_eq!(
        control(&emu, Method::GET, "/health", &[], None)
            .await
            .status,
        403,
        "no Host at all"
    );
    assert_eq!(
        control(
            &emu,
            Method::GET,
            "/health",
            &[("host", "attacker.example")],
            None
        )
        .await
        .status,
        403
    );
    let r = get(&emu, "/health").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["organizations"], json!([ORG]));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    // An absolute URI must name a loopback authority too.
    let request = http::Request::get("http://evil.example/__emulator/health")
        .header("host", "127.0.0.1")
        .body(Bytes::new())
        .unwrap();
    assert_eq!(emu.send(request).await.unwrap().status(), 403);
    // Writes need X-Emulator-Control: 1.
    assert_eq!(
        control(&emu, Method::POST, "/reset", &[LOCAL], None)
            .await
            .status,
        403
    );
    assert_eq!(
        control(
            &emu,
            Method::POST,
            "/reset",
            &[LOCAL, ("x-emulator-control", "yes")],
            None
        )
        .await
        .status,
        403
    );
    assert_eq!(write(&emu, Method::POST, "/reset", None).await.status, 204);
    assert_eq!(get(&emu, "/nope").await.status, 404);
    assert_eq!(write(&emu, Method::PATCH, "/clock", None).await.status, 405);
}

#[tokio::test]
async fn a_token_guards_everything_and_non_loopback_serving_needs_one() {
    let emu = Emulator::builder()
        .add_organization(ORG, SK, None)
        .control_api(ControlApi::new().token("tok-123"))
        .build();
    assert_eq!(get(&emu, "/health").await.status, 401);
    let r = control(
        &emu,
        Method::GET,
        "/health",
        &[("x-emulator-token", "tok-123")],
        None,
    )
    .await;
    assert_eq!(r.status, 200, "the token also stands for a loopback Host");
    let r = control(&emu, Method::GET, "/?token=tok-123", &[LOCAL], None).await;
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/__emulator/"));
    assert_eq!(
        r.header("set-cookie"),
        Some("rebilly_emulator_control=tok-123; HttpOnly; SameSite=Strict; Path=/__emulator")
    );
    assert!(!format!("{:?}", ControlApi::new().token("tok-123")).contains("tok-123"));

    let open = controlled();
    let error = open.serve("0.0.0.0:0".parse().unwrap()).await.unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    let server = open.serve_on_loopback().await.unwrap();
    server.shutdown().await;
}

#[tokio::test]
async fn outbox_clock_journal_and_overview() {
    let (emu, c) = controlled_with_ada().await;
    let mut tokens = Vec::new();
    for _ in 0..2 {
        let issued = c
            .authentication_tokens()
            .login(rebilly_auth_core::models::Login::password("ada", "pw").otp_required(true))
            .await
            .unwrap();
        tokens.push(issued.token.expose().to_owned());
    }
    let outbox = get(&emu, "/outbox?organization=org-1&username=ada")
        .await
        .json();
    assert_eq!(outbox.as_array().unwrap().len(), 2);
    assert_eq!(
        outbox[0]["oneTimePassword"].as_str(),
        emu.last_otp(ORG, "ada").as_deref(),
        "newest first"
    );
    assert_eq!(get(&emu, "/outbox?username=bob").await.json(), json!([]));
    let sent = emu.outbox(Some(ORG), None);
    assert_eq!(sent.len(), 2);
    assert!(!format!("{sent:?}").contains(sent[0].one_time_password()));

    // The clock: read, advance, set; a refused advance moves nothing.
    let advance = |body| write(&emu, Method::POST, "/clock/advance", Some(body));
    let before = get(&emu, "/clock").await.json();
    let r = advance(json!({"seconds": 60})).await;
    assert_eq!(
        r.json()["unixTime"],
        before["unixTime"].as_i64().unwrap() + 60
    );
    for bad in [
        json!({"seconds": -1}),
        json!({"seconds": 1.5}),
        json!({"seconds": "60"}),
        json!({}),
    ] {
        let r = advance(bad).await;
        assert_eq!(r.status, 422);
    }
    let r = advance(json!({"seconds": u64::MAX})).await;
    assert_eq!(r.status, 422);
    let r = write(
        &emu,
        Method::PUT,
        "/clock",
        Some(json!({"now": "9999-12-31T23:59:00Z"})),
    )
    .await;
    assert_eq!(r.status, 200);
    let r = advance(json!({"seconds": 59})).await;
    assert_eq!(r.json()["now"], "9999-12-31T23:59:59Z");
    let r = advance(json!({"seconds": 1})).await;
    assert_eq!(r.status, 422);
    let r = write(&emu, Method::PUT, "/clock", Some(json!({"now": "soon"}))).await;
    assert_eq!(r.status, 422);
    let r = write(&emu, Method::POST, "/clock/advance", None).await;
    assert_eq!(r.status, 422);
    let r = control(
        &emu,
        Method::POST,
        "/clock/advance",
        &[LOCAL, DELIBERATE],
        None,
    )
    .await;
    assert_eq!(r.status, 422);

    // The journal: templates only, newest first, a limit.
    let journal = get(&emu, "/journal?limit=2").await;
    let text = String::from_utf8_lossy(&journal.body).into_owned();
    for token in &tokens {
        assert!(!text.contains(token.as_str()));
    }
    let entries = journal.json();
    assert_eq!(entries.as_array().unwrap().len(), 2);
    assert_eq!(entries[0]["operation"], "PostAuthenticationToken");
    assert_eq!(
        entries[0]["route"],
        "/organizations/{organizationId}/authentication-tokens"
    );
    assert_eq!(entries[0]["status"], 201);
    assert_eq!(get(&emu, "/journal?limit=x").await.status, 422);
    assert_eq!(
        write(&emu, Method::DELETE, "/journal", None).await.status,
        204
    );
    assert_eq!(get(&emu, "/journal").await.json(), json!([]));

    // The overview shows live tokens by a prefix, never whole.
    let overview = get(&emu, "/overview").await;
    let text = String::from_utf8_lossy(&overview.body).into_owned();
    for token in &tokens {
        assert!(!text.contains(token.as_str()));
    }
    let overview = overview.json();
    assert_eq!(overview["organizations"][0]["secretKey"], SK);
    assert_eq!(overview["outbox"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn faults_over_the_control_api() {
    let emu = controlled();
    for fault in [
        Fault::Status(StatusCode::BAD_GATEWAY),
        Fault::StatusAfterProcessing(StatusCode::SERVICE_UNAVAILABLE),
        Fault::RateLimited {
            retry_after: Duration::from_secs(30),
        },
        Fault::Delay(Duration::from_millis(5)),
        Fault::DropBeforeProcessing,
        Fault::DropAfterProcessing,
        Fault::TruncatedBody,
        Fault::MalformedJson,
        Fault::WrongContentType,
        Fault::EmptyBody,
        Fault::OversizedBody(4096),
    ] {
        assert_eq!(Fault::from_json(&fault.to_json()), Ok(fault.clone()));
        let r = write(
            &emu,
            Method::POST,
            "/faults",
            Some(json!({"operation": "GetCredentialCollection", "fault": fault.to_json(), "times": 2})),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.json());
    }
    let listed = get(&emu, "/faults").await.json();
    assert_eq!(listed.as_array().unwrap().len(), 11);
    assert_eq!(listed[0]["operation"], "GetCredentialCollection");
    assert_eq!(listed[0]["remaining"], 2);
    assert_eq!(emu.pending_faults(), 22);
    // It takes effect: the first rule answers 502 for the list.
    let r = raw_secret(&emu, Method::GET, "/credentials", None).await;
    assert_eq!(r.status, 502);
    assert_eq!(
        write(&emu, Method::DELETE, "/faults", None).await.status,
        204
    );
    assert_eq!(emu.pending_faults(), 0);
    // By method only.
    let r = write(
        &emu,
        Method::POST,
        "/faults",
        Some(json!({"method": "delete", "fault": {"kind": "status", "status": 500}})),
    )
    .await;
    assert_eq!(r.json()["method"], "DELETE");
    // Out of range or unknown: 422 naming the member.
    for (body, field) in [
        (
            json!({"fault": {"kind": "status", "status": 100}}),
            "fault.status",
        ),
        (
            json!({"fault": {"kind": "status", "status": 70000}}),
            "fault.status",
        ),
        (
            json!({"fault": {"kind": "delay", "milliseconds": 3_600_001}}),
            "fault.milliseconds",
        ),
        (
            json!({"fault": {"kind": "oversizedBody", "bytes": u64::MAX}}),
            "fault.bytes",
        ),
        (
            json!({"fault": {"kind": "rateLimited", "retryAfterSeconds": u64::MAX}}),
            "fault.retryAfterSeconds",
        ),
        (json!({"fault": {"kind": "teleport"}}), "fault.kind"),
        (json!({"fault": {}}), "fault.kind"),
        (json!({}), "fault"),
        (
            json!({"operation": "Nope", "fault": {"kind": "emptyBody"}}),
            "operation",
        ),
        (
            json!({"method": "GE T", "fault": {"kind": "emptyBody"}}),
            "method",
        ),
        (json!({"times": 0, "fault": {"kind": "emptyBody"}}), "times"),
    ] {
        let r = write(&emu, Method::POST, "/faults", Some(body.clone())).await;
        assert_eq!(r.status, 422, "{body}");
        assert_eq!(r.json()["invalidFields"][0]["field"], field, "{body}");
    }
    let r = control(&emu, Method::POST, "/faults", &[LOCAL, DELIBERATE], None).await;
    assert_eq!(r.status, 422);
}

#[tokio::test]
async fn state_reset_behaviours_and_customers() {
    let (emu, _) = controlled_with_ada().await;
    let saved = get(&emu, "/state").await;
    assert_eq!(saved.status, 200);
    let snapshot = Snapshot::from_json(&saved.body).unwrap();
    assert!(!format!("{snapshot:?}").contains(SK));
    assert_eq!(snapshot.organizations(), [ORG]);
    assert_eq!(write(&emu, Method::POST, "/reset", None).await.status, 204);
    assert_eq!(emu.stored_records(ORG).unwrap().credentials, 0);
    let r = write(
        &emu,
        Method::PUT,
        "/state",
        Some(serde_json::from_slice(&saved.body).unwrap()),
    )
    .await;
    assert_eq!(r.status, 204);
    assert_eq!(emu.stored_records(ORG).unwrap().credentials, 1);
    for bad in [json!({"version": 1}), json!([1]), json!({"version": 7})] {
        let r = write(&emu, Method::PUT, "/state", Some(bad)).await;
        assert_eq!(r.status, 422);
        assert_eq!(r.json()["invalidFields"][0]["field"], "state");
    }
    let mut tampered: Value = serde_json::from_slice(&saved.body).unwrap();
    tampered["organizations"][0]["options"]["passwordPattern"] = json!("/(/");
    let r = write(&emu, Method::PUT, "/state", Some(tampered)).await;
    assert_eq!(r.status, 422);
    assert_eq!(emu.stored_records(ORG).unwrap().credentials, 1, "unchanged");

    // Behaviours: PUT changes what it names.
    let r = get(&emu, "/behaviours").await.json();
    assert_eq!(r["pagination"], "clamp");
    let r = write(
        &emu,
        Method::PUT,
        "/behaviours",
        Some(json!({"pagination": "reject"})),
    )
    .await;
    assert_eq!(r.json()["pagination"], "reject");
    assert_eq!(r.json()["wrongPassword"], "unauthorized");
    let list = raw_secret(&emu, Method::GET, "/credentials?limit=5000", None).await;
    assert_eq!(list.status, 422);
    for bad in [
        json!({"pagination": "sometimes"}),
        json!({"teleport": true}),
    ] {
        let r = write(&emu, Method::PUT, "/behaviours", Some(bad)).await;
        assert_eq!(r.status, 422);
    }
    // Reset restores the behaviours too.
    assert_eq!(write(&emu, Method::POST, "/reset", None).await.status, 204);
    assert_eq!(get(&emu, "/behaviours").await.json()["pagination"], "clamp");

    // Customers.
    let r = write(
        &emu,
        Method::POST,
        "/customers",
        Some(json!({"organization": ORG, "customerId": "cus_1"})),
    )
    .await;
    assert_eq!(r.status, 201);
    assert_eq!(
        get(&emu, "/customers").await.json()[0]["customers"],
        json!(["cus_1"])
    );
    let r = write(
        &emu,
        Method::POST,
        "/customers",
        Some(json!({"organization": "nope", "customerId": "cus_1"})),
    )
    .await;
    assert_eq!(r.status, 422);
    assert_eq!(emu.customers(ORG), ["cus_1"]);
}

#[tokio::test]
async fn the_inbox_page() {
    let emu = controlled();
    let page = get(&emu, "/").await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
    let html = String::from_utf8_lossy(&page.body);
    assert!(html.contains("/__emulator/inbox.js"));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing fetched from the network"
    );
    let script = get(&emu, "/inbox.js").await;
    assert_eq!(script.status, 200);
    assert!(String::from_utf8_lossy(&script.body).contains("/__emulator/clock/advance"));
    assert_eq!(get(&emu, "").await.status, 200);
}

#[tokio::test]
async fn head_and_options_on_the_api() {
    let emu = Emulator::builder()
        .add_organization(ORG, SK, Some(PK))
        .cors_origin("http://localhost:3000")
        .build();
    let get = raw_secret(&emu, Method::GET, "/authentication-options", None).await;
    let head = raw_secret(&emu, Method::HEAD, "/authentication-options", None).await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(
        head.header("content-length"),
        Some(get.body.len().to_string().as_str())
    );
    // HEAD on a route without GET is 405, like other methods.
    let exchange = "/authentication-tokens/t/exchange";
    let head = raw_secret(&emu, Method::HEAD, exchange, None).await;
    assert_eq!(head.status, 405);
    // A preflight needs no credential; a plain OPTIONS lists the methods.
    let options = raw(
        &emu,
        Method::OPTIONS,
        &path("/credentials/c1"),
        As::Nobody,
        None,
    )
    .await;
    assert_eq!(options.status, 204);
    assert_eq!(
        options.header("allow"),
        Some("GET, PUT, DELETE, HEAD, OPTIONS")
    );
    assert!(options.header("access-control-allow-origin").is_none());
    // CORS answers name the allowed origin only; errors carry it too.
    let request = http::Request::get(path("/credentials"))
        .header("origin", "http://localhost:3000")
        .body(Bytes::new())
        .unwrap();
    let response = emu.send(request).await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "http://localhost:3000"
    );
    assert!(
        response
            .headers()
            .get("access-control-allow-credentials")
            .is_none()
    );
    // The journal records the preflight by its template.
    let log = emu.request_log();
    assert!(
        log.iter()
            .any(|e| e.method == Method::OPTIONS && e.route == Some("/credentials/{id}"))
    );
}
