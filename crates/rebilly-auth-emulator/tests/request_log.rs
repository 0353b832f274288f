//! The binary's request log on standard error: one line per request with the method, the
//! route template (never the path as sent), the status and the duration; no secret in it;
//! `--quiet` and `RUST_LOG` turn it off.

mod common;

use std::time::Duration;

use common::{Emulator, ORG};
use serde_json::json;

const TARGET: &str = " rebilly_auth_emulator::request: ";

/// One request line, split: method, route, status, duration.
#[derive(Debug, PartialEq, Eq)]
struct Line {
    method: String,
    route: String,
    status: String,
    duration: String,
}

/// The request lines of standard error, parsed (other lines are skipped).
fn request_lines(lines: &[String]) -> Vec<Line> {
    lines
        .iter()
        .filter_map(|line| {
            let (_, rest) = line.split_once(TARGET)?;
            let fields: Vec<&str> = rest.split(' ').collect();
            let [method, route, status, duration] = fields[..] else {
                panic!("not `METHOD ROUTE STATUS DURATION`: {line}");
            };
            Some(Line {
                method: method.into(),
                route: route.into(),
                status: status.into(),
                duration: duration.into(),
            })
        })
        .collect()
}

/// Creates a credential, logs in, verifies the token, exchanges it for a JWT, lists tokens
/// with that JWT, logs out, and asks an unrouted path holding the token; returns the token
/// and the JWT. Seven requests.
fn journey(emu: &Emulator, secret_key: &str, password: &str) -> (String, String) {
    let sk = ("REB-APIKEY", secret_key);
    let body =
        json!({"username": "ada@example.com", "password": password, "customerId": "cus_ada"});
    let created = emu.create_credential(sk, &body.to_string());
    assert_eq!(created.status, 201, "{created:?}");
    let login = json!({"username": "ada@example.com", "password": password});
    let login = emu.login(sk, &login.to_string());
    assert_eq!(login.status, 201, "{login:?}");
    let token = login.json()["token"].as_str().unwrap().to_owned();
    let verify = format!("{ORG}/authentication-tokens/{token}");
    assert_eq!(emu.send("GET", &verify, &[sk], None).status, 200);
    let exchange = emu.send(
        "POST",
        &format!("{verify}/exchange"),
        &[sk],
        Some(r#"{"invalidate": false}"#),
    );
    assert_eq!(exchange.status, 201, "{exchange:?}");
    let jwt = exchange.json()["token"].as_str().unwrap().to_owned();
    let bearer = format!("Bearer {jwt}");
    let listed = emu.send(
        "GET",
        &format!("{ORG}/authentication-tokens"),
        &[("Authorization", &bearer)],
        None,
    );
    assert_eq!(listed.status, 200, "{listed:?}");
    assert_eq!(emu.send("DELETE", &verify, &[sk], None).status, 204);
    let unrouted = format!("{ORG}/no-such-route/{token}");
    assert_eq!(emu.send("GET", &unrouted, &[sk], None).status, 404);
    (token, jwt)
}

#[test]
fn every_request_is_one_line_with_method_route_template_and_status() {
    let emu = Emulator::start_with_org("sk_log", &[]);
    journey(&emu, "sk_log", "pw-log");
    assert_eq!(emu.control("GET", "/clock", None).status, 200);
    assert_eq!(emu.control("GET", "/nope", None).status, 404);
    let lines = request_lines(&emu.wait_for_stderr_lines(9));
    let shown: Vec<(&str, &str, &str)> = lines
        .iter()
        .map(|l| (l.method.as_str(), l.route.as_str(), l.status.as_str()))
        .collect();
    let tokens = "/organizations/{organizationId}/authentication-tokens";
    let one = format!("{tokens}/{{token}}");
    let exchange = format!("{one}/exchange");
    assert_eq!(
        shown,
        [
            ("POST", "/organizations/{organizationId}/credentials", "201"),
            ("POST", tokens, "201"),
            ("GET", one.as_str(), "200"),
            ("POST", exchange.as_str(), "201"),
            ("GET", tokens, "200"),
            ("DELETE", one.as_str(), "204"),
            ("GET", "<unrouted>", "404"),
            ("GET", "/__emulator/clock", "200"),
            ("GET", "<unrouted>", "404"),
        ]
    );
    for line in &lines {
        let millis = line.duration.strip_suffix("ms").expect(&line.duration);
        assert!(millis.parse::<f64>().is_ok(), "{line:?}");
    }
}

#[test]
fn no_secret_appears_in_the_request_lines() {
    let control_token = "ctl-token-0123456789";
    let secret_key = "sk_live_leakcheck_0123";
    let password = "Pa55word-leakcheck";
    let emu = Emulator::start_with_org(
        secret_key,
        &[
            "--publishable-key",
            "pk_live_leakcheck_0123",
            "--control-token",
            control_token,
        ],
    );
    let (token, jwt) = journey(&emu, secret_key, password);
    // Control requests: the token in a header, in the inbox page's query, in the cookie; a
    // query with a username; an unknown control path.
    let header = [("X-Emulator-Token", control_token)];
    let outbox = emu.send(
        "GET",
        "/__emulator/outbox?username=ada%40example.com",
        &header,
        None,
    );
    assert_eq!(outbox.status, 200, "{outbox:?}");
    let page = emu.send(
        "GET",
        &format!("/__emulator/?token={control_token}"),
        &[],
        None,
    );
    assert_eq!(page.status, 303, "{page:?}");
    let cookie = format!("rebilly_emulator_control={control_token}");
    let inbox = emu.send("GET", "/__emulator/", &[("Cookie", &cookie)], None);
    assert_eq!(inbox.status, 200);
    let unknown = emu.send(
        "GET",
        &format!("/__emulator/{control_token}"),
        &header,
        None,
    );
    assert_eq!(unknown.status, 404);
    let refused = emu.send("GET", "/__emulator/health", &[], None);
    assert_eq!(refused.status, 401);
    let lines = emu.wait_for_stderr_lines(12);
    assert_eq!(request_lines(&lines).len(), 12, "{lines:#?}");
    let text = lines.join("\n");
    for secret in [
        control_token,
        secret_key,
        "pk_live_leakcheck_0123",
        password,
        &token,
        &jwt,
        "ada",
        "username",
        "token=",
    ] {
        assert!(!text.contains(secret), "{secret} leaked into:\n{text}");
    }
}

#[test]
fn quiet_and_rust_log_turn_the_lines_off() {
    for (args, env) in [
        (&["--quiet"][..], &[][..]),
        (
            &["-q"][..],
            &[("RUST_LOG", "rebilly_auth_emulator::request=info")][..],
        ),
        (&[][..], &[("RUST_LOG", "off")][..]),
    ] {
        let mut all = vec!["--organization", "org", "--secret-key", "sk_quiet"];
        all.extend_from_slice(args);
        let emu = Emulator::start_with_env(&all, env);
        journey(&emu, "sk_quiet", "pw-quiet");
        assert_eq!(emu.control("GET", "/health", None).status, 200);
        std::thread::sleep(Duration::from_millis(300));
        let lines = emu.stderr_lines();
        assert!(lines.is_empty(), "{args:?} {env:?}: {lines:#?}");
    }
    // RUST_LOG can also widen it: the lines are there at its level.
    let emu = Emulator::start_with_env(&[], &[("RUST_LOG", "rebilly_auth_emulator=debug")]);
    assert_eq!(emu.control("GET", "/health", None).status, 200);
    let lines = request_lines(&emu.wait_for_stderr_lines(1));
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0].route, "/__emulator/health");
}
