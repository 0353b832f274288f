//! No password and no token value in anything the tool writes: standard output and error of
//! an import (with rows rejected by the tool and by the API, and a resumed run), of the token
//! commands, and the journal and rejects files. The text goes through the testing crate's
//! `LogCapture`, whose assertion masks the secrets in its failure message.

mod common;

use common::{Emulator, password, run, scratch, write_csv};
use rebilly_auth_testing::LogCapture;

#[test]
fn no_password_or_token_reaches_the_output_or_the_files() {
    let emulator = Emulator::start(&[]);
    let dir = scratch("leaks");
    let input = dir.join("credentials.csv");
    let mut passwords = write_csv(&input, 20, 3);
    // Rows the tool rejects (bad expiry) and the API rejects (a username taken), each with a
    // password that must not be echoed.
    let mut text = std::fs::read_to_string(&input).unwrap();
    let bad = [password(99, 1), password(99, 2), password(99, 3)];
    text.push_str(&format!(
        "bad-1,late@example.com,{},cus_x,{}\n",
        bad[0], bad[0]
    ));
    text.push_str(&format!("bad-2,user0@example.com,{},cus_y,\n", bad[1]));
    text.push_str(&format!("bad-3,short@example.com,\"{}\n", bad[2]));
    std::fs::write(&input, text).unwrap();
    passwords.extend(bad);

    let capture = LogCapture::new();
    let record = |what: &str, text: &str| {
        capture.run(|| tracing::info!(target: "rebilly_auth_cli", "{what}:\n{text}"));
    };
    for attempt in ["first", "rerun"] {
        let (code, stdout, stderr) = run(emulator.cli().arg("import-credentials").arg(&input));
        assert_eq!(code, Some(3), "{attempt}");
        record(attempt, &format!("{stdout}\n{stderr}"));
    }
    let token = emulator.login("user1@example.com", &passwords[1]);
    for args in [
        &["verify", token.as_str()][..],
        &["tokens", "list"],
        &["tokens", "list", "--username", "user1@example.com"],
        &["revoke-all", "--username", "user1@example.com"],
        &["logout", token.as_str()],
        &["verify", token.as_str()],
    ] {
        let (_, stdout, stderr) = run(emulator.cli().args(args));
        record(args[0], &format!("{stdout}\n{stderr}"));
    }
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path == input {
            continue;
        }
        files += 1;
        record(
            &path.display().to_string(),
            &std::fs::read_to_string(&path).unwrap(),
        );
    }
    assert_eq!(files, 2, "the journal and the rejects file");
    let text = capture.text();
    assert!(text.contains("bad-1") && text.contains("bad-2") && text.contains("valid"));
    let mut secrets: Vec<&str> = passwords.iter().map(String::as_str).collect();
    secrets.push(&token);
    secrets.push(common::SECRET_KEY);
    capture.assert_free_of(&secrets);
}
