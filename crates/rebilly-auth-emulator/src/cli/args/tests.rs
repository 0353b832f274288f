//! The command line's tests: every flag, the organization groups, the environment's token,
//! refusals, non-UTF-8 arguments.

use super::*;
use rebilly_auth_emulator::{NullExpiredTime, WrongPassword};

fn parse(args: &[&str]) -> Result<Command, UsageError> {
    parse_args(args, None)
}

fn run_args(args: &[&str]) -> Args {
    match parse(args).unwrap() {
        Command::Run(args) => *args,
        other => panic!("{other:?}"),
    }
}

#[test]
fn two_organization_groups_get_their_own_keys() {
    let args = run_args(&[
        "--org",
        "a",
        "--secret-key=sk_a",
        "--customer",
        "c1",
        "--customer",
        "c2",
        "--organization",
        "b",
        "--publishable-key",
        "pk_b",
        "--secret-key",
        "sk_b",
    ]);
    let [a, b] = &args.organizations[..] else {
        panic!("{:?}", args.organizations)
    };
    assert_eq!(
        (
            a.id.as_str(),
            a.secret_key.as_deref(),
            a.publishable_key.as_deref()
        ),
        ("a", Some("sk_a"), None)
    );
    assert_eq!(a.customers, ["c1", "c2"]);
    assert_eq!(
        (
            b.id.as_str(),
            b.secret_key.as_deref(),
            b.publishable_key.as_deref()
        ),
        ("b", Some("sk_b"), Some("pk_b"))
    );
    assert!(b.customers.is_empty());
    let shown = format!("{args:?}");
    assert!(
        !shown.contains("sk_a") && !shown.contains("pk_b"),
        "{shown}"
    );
}

#[test]
fn defaults_and_every_flag() {
    let args = run_args(&[]);
    assert_eq!(args.organizations.len(), 1);
    let org = &args.organizations[0];
    assert_eq!(
        (
            org.id.as_str(),
            org.secret_key.as_deref(),
            org.publishable_key.as_deref()
        ),
        ("test-org", Some("sk_test"), Some("pk_test"))
    );
    assert_eq!((args.host, args.port), (IpAddr::from([127, 0, 0, 1]), 0));
    assert!(!args.quiet);
    assert!(run_args(&["--state", "s.json"]).organizations.is_empty());
    assert!(run_args(&["-q"]).quiet);

    let args = run_args(&[
        "--host=::1",
        "--port",
        "8080",
        "--max-request-body",
        "2048",
        "--body-timeout",
        "1.5",
        "--rate-limit=7",
        "--state",
        "s.json",
        "--seed",
        "42",
        "--start-time",
        "2030-01-02T03:04:05Z",
        "--control-token",
        "t0k",
        "--no-control",
        "--cors-origin",
        "http://localhost:3000/",
        "--cors-origin",
        "https://app.example:8443",
        "--wrong-password",
        "unprocessable-entity",
        "--error-content-type",
        "problem-json",
        "--options-update",
        "replace",
        "--pagination",
        "reject",
        "--null-expired-time",
        "never-expires",
        "--quiet",
    ]);
    assert_eq!(args.host, "::1".parse::<IpAddr>().unwrap());
    assert_eq!(args.port, 8080);
    assert_eq!(args.max_request_body, Some(2048));
    assert_eq!(args.body_timeout, Some(Duration::from_millis(1500)));
    assert_eq!(args.rate_limit, Some(7));
    assert_eq!(args.state.as_deref(), Some("s.json"));
    assert_eq!(args.seed, Some(42));
    assert_eq!(
        args.start_time,
        OffsetDateTime::parse("2030-01-02T03:04:05Z", &Rfc3339).ok()
    );
    assert_eq!(args.control_token.as_deref(), Some("t0k"));
    assert!(args.no_control);
    assert_eq!(
        args.cors_origins,
        ["http://localhost:3000", "https://app.example:8443"]
    );
    let expected = Behaviours::default()
        .wrong_password(WrongPassword::UnprocessableEntity)
        .error_content_type("problem-json".parse().unwrap())
        .options_update("replace".parse().unwrap())
        .pagination("reject".parse().unwrap())
        .null_expired_time(NullExpiredTime::NeverExpires);
    assert_eq!(args.behaviours, expected);
    assert!(args.quiet);
    assert!(!format!("{args:?}").contains("t0k"));
}

#[test]
fn help_and_version() {
    assert_eq!(parse(&["--help"]), Ok(Command::Help));
    assert_eq!(parse(&["-h"]), Ok(Command::Help));
    assert_eq!(parse(&["--port", "1", "-V"]), Ok(Command::Version));
    assert_eq!(parse(&["--version"]), Ok(Command::Version));
}

#[test]
fn control_token_from_the_environment() {
    let env = |token: &str| Some(OsString::from(token));
    let args = |argv: &[&str], token| match parse_args(argv, token).unwrap() {
        Command::Run(args) => args.control_token,
        other => panic!("{other:?}"),
    };
    assert_eq!(args(&[], env("from-env")).as_deref(), Some("from-env"));
    // The flag wins; an empty variable is no token.
    assert_eq!(
        args(&["--control-token", "flag"], env("from-env")).as_deref(),
        Some("flag")
    );
    assert_eq!(args(&[], env("")), None);
    let error = parse_args(["--port", "0"], env("a;b")).unwrap_err();
    assert!(error.to_string().contains(CONTROL_TOKEN_ENV), "{error}");
    // A non-loopback bind needs a token (or no control API); the environment's counts.
    assert!(parse_args(["--host", "0.0.0.0"], env("from-env")).is_ok());
}

#[test]
fn refusals() {
    let refused = |args: &[&str], says: &str| {
        let error = parse(args).unwrap_err().to_string();
        assert!(error.contains(says), "{args:?}: {error}");
        assert!(error.contains("--help"), "{error}");
    };
    refused(&["--port", "70000"], "--port");
    refused(&["--port"], "--port needs a value");
    refused(&["--secret-key", "sk"], "must follow --organization");
    refused(&["--organization", "a"], "has no --secret-key");
    refused(&["--bogus"], "unknown argument --bogus");
    refused(&["stray"], "stray");
    refused(&["-x"], "-x");
    refused(&["--no-control=yes"], "no-control");
    refused(&["--cors-origin", "*"], "--cors-origin");
    refused(&["--cors-origin", "http://a.example/path"], "--cors-origin");
    refused(&["--pagination", "sometimes"], "--pagination");
    refused(&["--control-token", "a;b"], "--control-token");
    refused(&["--start-time", "yesterday"], "--start-time");
    refused(&["--body-timeout", "0"], "--body-timeout");
    refused(&["--body-timeout", "86401"], "--body-timeout");
    refused(&["--seed", "-1"], "--seed");
    refused(&["--rate-limit", "x"], "--rate-limit");
    refused(&["--max-request-body", "1k"], "--max-request-body");
    refused(&["--host", "localhost"], "--host");
    refused(&["--host", "0.0.0.0"], "--control-token");
    assert!(parse(&["--host", "0.0.0.0", "--control-token", "t0k"]).is_ok());
    assert!(parse(&["--host", "0.0.0.0", "--no-control"]).is_ok());
}

#[cfg(unix)]
#[test]
fn non_utf8_arguments_are_refused_without_a_panic() {
    use std::os::unix::ffi::OsStringExt;
    let bad = OsString::from_vec(vec![b'o', 0xff, b'g']);
    let mut flag = b"--".to_vec();
    flag.extend([0xff, 0xfe]);
    for argv in [
        vec![OsString::from("--organization"), bad.clone()],
        vec![OsString::from_vec(flag)],
        vec![bad.clone()],
    ] {
        assert!(parse_args(argv.clone(), None).is_err(), "{argv:?}");
    }
    assert!(parse_args(Vec::<OsString>::new(), Some(bad)).is_err());
}

#[test]
fn usage_names_every_flag() {
    for flag in [
        "--host",
        "--port",
        "--organization",
        "--secret-key",
        "--publishable-key",
        "--customer",
        "--state",
        "--seed",
        "--start-time",
        "--control-token",
        "--no-control",
        "--cors-origin",
        "--rate-limit",
        "--max-request-body",
        "--body-timeout",
        "--wrong-password",
        "--error-content-type",
        "--options-update",
        "--pagination",
        "--null-expired-time",
        "--help",
        "--version",
        "--quiet",
        "RUST_LOG",
        CONTROL_TOKEN_ENV,
    ] {
        assert!(USAGE.contains(flag), "{flag}");
    }
}
