//! The binary as a separate process, driven over loopback with a plain HTTP/1.1 client (no
//! SDK types): an OTP journey through the control API, faults, reset, snapshot/restore,
//! the control API's security rules, CORS preflights, `HEAD`, `--help`, SIGTERM.

mod common;

use std::process::{Command, Stdio};

use common::{Emulator, ORG, time_of};
use serde_json::json;

const SK: (&str, &str) = ("REB-APIKEY", "sk_bin");

fn start() -> Emulator {
    Emulator::start_with_org("sk_bin", &["--publishable-key", "pk_bin", "--seed", "7"])
}

#[test]
fn an_otp_journey_faults_reset_and_snapshots_over_http() {
    let mut emu = start();
    let create = emu.create_credential(
        SK,
        r#"{"username":"ada@example.com","password":"pw","customerId":"cus_ada"}"#,
    );
    assert_eq!(create.status, 201, "{create:?}");

    // 1. otpRequired.
    let options = emu.send(
        "PUT",
        &format!("{ORG}/authentication-options"),
        &[SK],
        Some(r#"{"otpRequired": true}"#),
    );
    assert_eq!(options.status, 200, "{options:?}");
    // 2. login → 201 with otpRequired: true.
    let login = emu.login(SK, r#"{"username":"ada@example.com","password":"pw"}"#);
    assert_eq!(login.status, 201, "{login:?}");
    let login = login.json();
    assert_eq!(login["otpRequired"], json!(true));
    let token = login["token"].as_str().unwrap().to_owned();
    // 3. the OTP from the outbox.
    let outbox = emu.control(
        "GET",
        "/outbox?organization=org&username=ada%40example.com",
        None,
    );
    assert_eq!(outbox.status, 200, "{outbox:?}");
    assert!(!outbox.has_cors_headers());
    let outbox = outbox.json();
    let otp = outbox[0]["oneTimePassword"].as_str().unwrap().to_owned();
    assert_eq!(otp.len(), 6);
    assert_eq!(outbox[0]["username"], "ada@example.com");
    let exchange = |otp: &str| {
        let body = json!({"oneTimePassword": otp, "invalidate": false}).to_string();
        let path = format!("{ORG}/authentication-tokens/{token}/exchange");
        emu.send("POST", &path, &[SK], Some(&body))
    };
    // A wrong OTP is refused, and the token stays usable.
    let wrong = if otp == "000000" { "111111" } else { "000000" };
    let refused = exchange(wrong);
    assert_eq!(refused.status, 401, "{refused:?}");
    // 4. exchange with it, invalidate: false → 201 with a JWT.
    let exchanged = exchange(&otp);
    assert_eq!(exchanged.status, 201, "{exchanged:?}");
    assert_eq!(
        exchanged.json()["token"]
            .as_str()
            .unwrap()
            .split('.')
            .count(),
        3
    );
    // 5. verify → 200 (and HEAD answers like GET, without a body).
    let verify = format!("{ORG}/authentication-tokens/{token}");
    assert_eq!(emu.send("GET", &verify, &[SK], None).status, 200);
    let head = emu.send("HEAD", &verify, &[SK], None);
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_ne!(head.header("content-length"), Some("0"));
    // 6. past the token's expiredTime → verify 404.
    let clock = emu.control("GET", "/clock", None).json();
    let seconds = (time_of(&login["expiredTime"]) - time_of(&clock["now"])).whole_seconds() + 1;
    let moved = emu.control(
        "POST",
        "/clock/advance",
        Some(&json!({ "seconds": seconds }).to_string()),
    );
    assert_eq!(moved.status, 200, "{moved:?}");
    assert_eq!(emu.send("GET", &verify, &[SK], None).status, 404);
    // Checked arithmetic: u64::MAX seconds is a 422 and the clock does not move.
    let before = emu.control("GET", "/clock", None).json()["now"].clone();
    let overflow = emu.control(
        "POST",
        "/clock/advance",
        Some(&format!("{{\"seconds\": {}}}", u64::MAX)),
    );
    assert_eq!(overflow.status, 422, "{overflow:?}");
    assert_eq!(overflow.json()["invalidFields"][0]["field"], "seconds");
    assert_eq!(emu.control("GET", "/clock", None).json()["now"], before);

    // The journal names route templates, never the token.
    let journal = emu.control("GET", "/journal", None);
    assert_eq!(journal.status, 200);
    assert!(!journal.body.contains(&token), "{}", journal.body);
    assert!(
        journal
            .body
            .contains("/organizations/{organizationId}/authentication-tokens/{token}"),
        "{}",
        journal.body
    );
    let newest = &journal.json()[0];
    assert_eq!(newest["operation"], "GetAuthenticationTokenVerification");
    assert_eq!(newest["status"], 404);

    // A fault injected over HTTP, once.
    let fault = emu.control(
        "POST",
        "/faults",
        Some(r#"{"operation": "GetAuthenticationOption", "method": "GET", "fault": {"kind": "status", "status": 503}, "times": 1}"#),
    );
    assert_eq!(fault.status, 201, "{fault:?}");
    assert_eq!(
        emu.control("GET", "/faults", None).json()[0]["remaining"],
        1
    );
    let options = format!("{ORG}/authentication-options");
    assert_eq!(emu.send("GET", &options, &[SK], None).status, 503);
    assert_eq!(emu.send("GET", &options, &[SK], None).status, 200);
    let bad = emu.control(
        "POST",
        "/faults",
        Some(r#"{"operation": "Nope", "fault": {"kind": "status", "status": 99}}"#),
    );
    assert_eq!(bad.status, 422, "{bad:?}");

    // Snapshot, reset, restore.
    let saved = emu.control("GET", "/state", None);
    assert_eq!(saved.status, 200);
    let credentials = format!("{ORG}/credentials");
    let count = |emu: &Emulator| {
        emu.send("GET", &credentials, &[SK], None)
            .json()
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(count(&emu), 1);
    assert_eq!(emu.control("POST", "/reset", None).status, 204);
    assert_eq!(count(&emu), 0);
    assert_eq!(emu.control("GET", "/outbox", None).json(), json!([]));
    let restored = emu.control("PUT", "/state", Some(&saved.body));
    assert_eq!(restored.status, 204, "{restored:?}");
    assert_eq!(count(&emu), 1);
    assert_eq!(emu.control("GET", "/clock", None).json()["now"], before);
    let again = emu.login(SK, r#"{"username":"ada@example.com","password":"pw"}"#);
    assert_eq!(
        again.status, 201,
        "the restored credential logs in: {again:?}"
    );
    let broken = emu.control("PUT", "/state", Some(r#"{"version": 1}"#));
    assert_eq!(broken.status, 422);

    // SIGTERM stops it cleanly.
    assert!(emu.terminate().success());
}

#[test]
fn the_control_api_is_not_a_hole() {
    let emu = start();
    // A non-loopback Host is refused (DNS rebinding).
    for host in ["evil.example", "evil.example:80", "127.0.0.1.evil.example"] {
        let answer = emu.send("GET", "/__emulator/outbox", &[("Host", host)], None);
        assert_eq!(answer.status, 403, "{host}: {answer:?}");
        assert!(!answer.body.contains("oneTimePassword"));
    }
    let localhost = format!("localhost:{}", emu.addr.port());
    let answer = emu.send("GET", "/__emulator/health", &[("Host", &localhost)], None);
    assert_eq!(answer.status, 200, "{answer:?}");
    // A control POST without the header (a plain form POST) is refused.
    let answer = emu.send(
        "POST",
        "/__emulator/reset",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        None,
    );
    assert_eq!(answer.status, 403, "{answer:?}");
    let answer = emu.send(
        "POST",
        "/__emulator/clock/advance",
        &[],
        Some(r#"{"seconds": 60}"#),
    );
    assert_eq!(answer.status, 403, "{answer:?}");
    // A cross-origin preflight to a control path gets no CORS headers.
    let answer = emu.send(
        "OPTIONS",
        "/__emulator/reset",
        &[
            ("Origin", "http://evil.example"),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "x-emulator-control"),
        ],
        None,
    );
    assert!(!answer.has_cors_headers(), "{answer:?}");
    assert!(answer.status >= 400, "{answer:?}");
    let answer = emu.send(
        "GET",
        "/__emulator/state",
        &[("Origin", "http://evil.example")],
        None,
    );
    assert_eq!(answer.status, 200);
    assert!(!answer.has_cors_headers(), "{answer:?}");
}

#[test]
fn a_non_loopback_bind_without_a_token_is_refused_at_start() {
    let output = Command::new(env!("CARGO_BIN_EXE_rebilly-auth-emulator"))
        .args(["--host", "0.0.0.0", "--port", "0"])
        .env_remove("REBILLY_EMULATOR_CONTROL_TOKEN")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty(), "it never listened");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--control-token"), "{stderr}");
}

#[test]
fn the_control_token_guards_every_control_request() {
    let emu = Emulator::start(&["--port", "0", "--control-token", "s3cret-control-token"]);
    assert_eq!(emu.control("GET", "/health", None).status, 401);
    let health_with = |token: &str| {
        emu.send(
            "GET",
            "/__emulator/health",
            &[("X-Emulator-Token", token)],
            None,
        )
        .status
    };
    assert_eq!(health_with("wrong"), 401);
    assert_eq!(health_with("s3cret-control-token"), 200);
    // The token in a header stands for X-Emulator-Control on writes.
    let answer = emu.send(
        "POST",
        "/__emulator/reset",
        &[("Authorization", "Bearer s3cret-control-token")],
        None,
    );
    assert_eq!(answer.status, 204, "{answer:?}");
    // The inbox page takes it once and keeps it in an HttpOnly, SameSite=Strict cookie.
    let answer = emu.send("GET", "/__emulator/?token=s3cret-control-token", &[], None);
    assert_eq!(answer.status, 303, "{answer:?}");
    let cookie = answer.header("set-cookie").unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap();
    let page = emu.send("GET", "/__emulator/", &[("Cookie", pair)], None);
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<html"));
    // The cookie alone does not make a write deliberate.
    let answer = emu.send("POST", "/__emulator/reset", &[("Cookie", pair)], None);
    assert_eq!(answer.status, 403, "{answer:?}");
}

#[test]
fn browsers_preflight_and_log_in_with_a_publishable_key() {
    let emu = Emulator::start_with_org(
        "sk_bin",
        &[
            "--publishable-key",
            "pk_bin",
            "--cors-origin",
            "http://localhost:5173",
        ],
    );
    let create = emu.create_credential(
        SK,
        r#"{"username":"ada","password":"pw","customerId":"cus_ada"}"#,
    );
    assert_eq!(create.status, 201);
    let login = format!("{ORG}/authentication-tokens");
    let preflight = emu.send(
        "OPTIONS",
        &login,
        &[
            ("Origin", "http://localhost:5173"),
            ("Access-Control-Request-Method", "POST"),
            (
                "Access-Control-Request-Headers",
                "authorization, content-type",
            ),
        ],
        None,
    );
    assert_eq!(preflight.status, 204, "{preflight:?}");
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some("http://localhost:5173")
    );
    let allowed = preflight.header("access-control-allow-headers").unwrap();
    assert!(allowed.contains("Authorization") && allowed.contains("Content-Type"));
    assert!(!allowed.to_ascii_lowercase().contains("reb-apikey"));
    assert!(
        preflight
            .header("access-control-allow-methods")
            .unwrap()
            .contains("POST")
    );
    assert!(preflight.header("vary").unwrap().contains("Origin"));
    assert!(
        preflight
            .header("access-control-allow-credentials")
            .is_none()
    );
    // The cross-origin login itself.
    let login_from = |origin: &str| {
        let headers = [("Origin", origin), ("Authorization", "pk_bin")];
        emu.send(
            "POST",
            &login,
            &headers,
            Some(r#"{"username":"ada","password":"pw"}"#),
        )
    };
    let answer = login_from("http://localhost:5173");
    assert_eq!(answer.status, 201, "{answer:?}");
    assert_eq!(
        answer.header("access-control-allow-origin"),
        Some("http://localhost:5173")
    );
    assert_eq!(answer.header("vary"), Some("Origin"));
    assert!(
        answer
            .header("access-control-expose-headers")
            .unwrap()
            .contains("Location")
    );
    // Another origin is never named.
    let other = emu.send(
        "OPTIONS",
        &login,
        &[
            ("Origin", "http://evil.example"),
            ("Access-Control-Request-Method", "POST"),
        ],
        None,
    );
    assert_eq!(other.status, 204);
    assert!(other.header("access-control-allow-origin").is_none());
    let answer = login_from("http://evil.example");
    assert!(answer.header("access-control-allow-origin").is_none());
}

#[test]
fn help_documents_every_flag() {
    let output = Command::new(env!("CARGO_BIN_EXE_rebilly-auth-emulator"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for flag in [
        "--control-token",
        "--cors-origin",
        "--state",
        "--seed",
        "--pagination",
    ] {
        assert!(help.contains(flag), "{flag}");
    }
    let output = Command::new(env!("CARGO_BIN_EXE_rebilly-auth-emulator"))
        .arg("--nope")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn state_file_and_seed_at_start() {
    let first = start();
    first.create_credential(
        SK,
        r#"{"username":"bob","password":"pw","customerId":"cus_bob"}"#,
    );
    let saved = first.control("GET", "/state", None).body;
    drop(first);
    let dir = std::env::temp_dir().join(format!("rebilly-emulator-state-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("state.json");
    std::fs::write(&file, saved).unwrap();
    let emu = Emulator::start(&["--port", "0", "--state", file.to_str().unwrap()]);
    let listed = emu.send("GET", &format!("{ORG}/credentials"), &[SK], None);
    assert_eq!(listed.status, 200, "{listed:?}");
    assert_eq!(listed.json()[0]["username"], "bob");
    // Reset returns to the loaded state.
    emu.create_credential(
        SK,
        r#"{"username":"eve","password":"pw","customerId":"cus_eve"}"#,
    );
    assert_eq!(emu.control("POST", "/reset", None).status, 204);
    let listed = emu
        .send("GET", &format!("{ORG}/credentials"), &[SK], None)
        .json();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let _ = std::fs::remove_dir_all(&dir);

    // The same seed and start time give the same ids and tokens.
    let ids: Vec<String> = (0..2)
        .map(|_| {
            let emu = Emulator::start_with_org(
                "sk_bin",
                &["--seed", "99", "--start-time", "2030-01-01T00:00:00Z"],
            );
            let created = emu.create_credential(
                SK,
                r#"{"username":"ada","password":"pw","customerId":"cus_ada"}"#,
            );
            let login = emu.login(SK, r#"{"username":"ada","password":"pw"}"#);
            format!(
                "{} {}",
                created.json()["id"].as_str().unwrap(),
                login.json()["token"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(ids[0], ids[1]);
}
