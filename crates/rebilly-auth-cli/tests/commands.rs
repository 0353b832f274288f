//! The command line end to end: `--help`, the missing target, and verify / logout /
//! tokens list / revoke-all against the emulator binary (happy paths and failures, readable
//! output, exit statuses), plus `--emulator`.

mod common;

use std::io::Write;
use std::process::Stdio;

use common::{Emulator, cli_without_target, run, scratch, write_csv};

#[test]
fn help_describes_every_command_and_flag() {
    let (code, stdout, _) = run(cli_without_target().arg("--help"));
    assert_eq!(code, Some(0));
    for needle in [
        "import-credentials FILE",
        "--format csv|jsonl",
        "verify TOKEN",
        "logout TOKEN",
        "tokens list",
        "--username USER",
        "revoke-all --username USER",
        "--emulator",
        "REBILLY_API_URL",
        "REBILLY_ORGANIZATION_ID",
        "REBILLY_SECRET_KEY",
        "EXIT STATUS",
        "--version",
    ] {
        assert!(stdout.contains(needle), "--help lacks {needle}:\n{stdout}");
    }
    let (code, stdout, _) = run(cli_without_target().arg("-V"));
    assert_eq!(code, Some(0));
    assert!(stdout.starts_with("rebilly-auth "));
}

#[cfg(unix)]
#[test]
fn non_utf8_arguments_are_a_usage_error_not_a_panic() {
    use std::os::unix::ffi::OsStrExt;
    let bad = std::ffi::OsStr::from_bytes(b"tok\xff");
    for args in [vec![bad], vec![std::ffi::OsStr::new("verify"), bad]] {
        let (code, _, stderr) = run(cli_without_target().args(args));
        assert_eq!(code, Some(2), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn a_command_without_a_target_fails_with_a_clear_message() {
    for args in [
        &["verify", "tok_x"][..],
        &["tokens", "list"],
        &["import-credentials", "nothing.csv"],
    ] {
        let (code, stdout, stderr) = run(cli_without_target().args(args));
        assert_eq!(code, Some(2), "{args:?}");
        assert!(stdout.is_empty());
        assert!(
            stderr.contains("no target: give --emulator, or set REBILLY_API_URL"),
            "{stderr}"
        );
    }
    let (code, _, stderr) = run(cli_without_target().args(["frobnicate"]));
    assert_eq!(code, Some(2));
    assert!(stderr.contains("unknown command frobnicate"), "{stderr}");
}

#[test]
fn token_commands_print_readable_answers_and_fail_with_a_non_zero_status() {
    let emulator = Emulator::start(&[]);
    let dir = scratch("commands");
    let input = dir.join("credentials.csv");
    let passwords = write_csv(&input, 2, 5);
    let (code, _, stderr) = run(emulator.cli().arg("import-credentials").arg(&input));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains(&format!("target: {} (organization org)", emulator.url())),
        "write commands print their target first: {stderr}"
    );
    let first = emulator.login("user0@example.com", &passwords[0]);
    let second = emulator.login("user0@example.com", &passwords[0]);
    let other = emulator.login("user1@example.com", &passwords[1]);

    let (code, stdout, _) = run(emulator.cli().args(["verify", &first]));
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout.starts_with("valid\nusername:      user0@example.com\n"),
        "{stdout}"
    );
    assert!(stdout.contains("credential id: cred-0"), "{stdout}");
    let expires = stdout.lines().find(|l| l.starts_with("expires:")).unwrap();
    assert!(
        expires.ends_with('Z') && expires.contains('T'),
        "RFC 3339: {expires}"
    );
    assert!(
        !stdout.contains("Some(") && !stdout.contains('{'),
        "{stdout}"
    );

    // The token from standard input.
    let mut child = emulator
        .cli()
        .args(["verify", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{other}").unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stdout).contains("user1@example.com"));

    let (code, stdout, _) =
        run(emulator
            .cli()
            .args(["tokens", "list", "--username", "user0@example.com"]));
    assert_eq!(code, Some(0));
    assert!(stdout.starts_with("USERNAME"), "{stdout}");
    assert_eq!(stdout.matches("user0@example.com").count(), 2, "{stdout}");
    assert!(!stdout.contains("user1@example.com") && stdout.ends_with("2 token(s)\n"));

    let (code, stdout, stderr) = run(emulator.cli().args(["logout", &first]));
    assert_eq!(code, Some(0));
    assert_eq!(stdout, "logged out\n");
    assert!(stderr.contains("target: "), "{stderr}");
    let (code, stdout, _) = run(emulator.cli().args(["verify", &first]));
    assert_eq!(code, Some(3), "not valid: {stdout}");
    assert!(stdout.starts_with("not valid"));
    let (code, _, stderr) = run(emulator.cli().args(["logout", &first]));
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("logout failed: the token is not valid"),
        "{stderr}"
    );
    assert!(stderr.contains("404"), "{stderr}");

    let (code, stdout, _) =
        run(emulator
            .cli()
            .args(["revoke-all", "--username", "user0@example.com"]));
    assert_eq!(code, Some(0), "{stdout}");
    assert_eq!(stdout, "revoked 1 token(s) of user0@example.com\n");
    let (_, stdout, _) = run(emulator.cli().args(["verify", &second]));
    assert!(stdout.starts_with("not valid"));
    let (_, stdout, _) = run(emulator.cli().args(["tokens", "list"]));
    assert!(
        stdout.contains("user1@example.com") && stdout.ends_with("1 token(s)\n"),
        "{stdout}"
    );

    // A wrong key: the API's 401, with its message.
    let (code, _, stderr) = run(emulator
        .cli()
        .env("REBILLY_SECRET_KEY", "sk_wrong")
        .args(["tokens", "list"]));
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("listing the tokens failed") && stderr.contains("401"),
        "{stderr}"
    );
}

#[test]
fn a_server_that_cannot_be_reached_fails_with_the_cause_chain() {
    // A port nothing listens on (bound, then closed).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (code, _, stderr) = run(cli_without_target()
        .env("REBILLY_API_URL", format!("http://127.0.0.1:{port}"))
        .env("REBILLY_ORGANIZATION_ID", "org")
        .env("REBILLY_SECRET_KEY", "sk")
        .args(["verify", "tok_x"]));
    assert_eq!(code, Some(1));
    assert!(stderr.starts_with("verify failed: "), "{stderr}");
    assert!(stderr.contains("\n  caused by: "), "{stderr}");
}

#[cfg(feature = "emulator")]
#[test]
fn the_embedded_emulator_runs_every_command() {
    let dir = scratch("embedded");
    let sample = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/credentials.csv");
    let input = dir.join("credentials.csv");
    std::fs::copy(sample, &input).unwrap();
    let (code, stdout, stderr) = run(cli_without_target()
        .args(["--emulator", "import-credentials"])
        .arg(&input));
    assert_eq!(
        code,
        Some(3),
        "the sample has two bad rows: {stdout}\n{stderr}"
    );
    assert!(stdout.contains("written:  3 "), "{stdout}");
    assert!(
        stderr.contains("target: the embedded emulator at http://127.0.0.1:"),
        "{stderr}"
    );
    for args in [
        &["--emulator", "tokens", "list"][..],
        &["--emulator", "revoke-all", "--username", "ada@example.com"],
    ] {
        let (code, _, stderr) = run(cli_without_target().args(args));
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
    }
    let (code, _, _) = run(cli_without_target().args(["--emulator", "verify", "tok_unknown"]));
    assert_eq!(code, Some(3));
}
