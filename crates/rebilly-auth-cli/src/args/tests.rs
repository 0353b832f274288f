//! The command line's tests: each command, flags anywhere, refusals, non-UTF-8 arguments.

use super::*;

fn parse(args: &[&str]) -> Result<Invocation, UsageError> {
    parse_args(args)
}

#[test]
fn each_command_parses() {
    let import = parse(&["--emulator", "import-credentials", "a.csv"]).unwrap();
    assert!(import.emulator);
    assert_eq!(
        import.command,
        Command::Import {
            file: "a.csv".into(),
            format: None
        }
    );
    let import = parse(&["import-credentials", "a.txt", "--format", "jsonl"]).unwrap();
    assert!(!import.emulator);
    assert_eq!(
        import.command,
        Command::Import {
            file: "a.txt".into(),
            format: Some(Format::JsonLines)
        }
    );
    assert_eq!(
        parse(&["verify", "tok_1"]).unwrap().command,
        Command::Verify(TokenArg::Given(Secret::new("tok_1")))
    );
    assert_eq!(
        parse(&["logout", "-"]).unwrap().command,
        Command::Logout(TokenArg::Stdin)
    );
    assert_eq!(
        parse(&["tokens", "list", "--username", "ada"])
            .unwrap()
            .command,
        Command::TokensList {
            username: Some("ada".into())
        }
    );
    assert_eq!(
        parse(&["tokens", "list"]).unwrap().command,
        Command::TokensList { username: None }
    );
    assert_eq!(
        parse(&["revoke-all", "--username=ada", "--emulator"])
            .unwrap()
            .command,
        Command::RevokeAll {
            username: "ada".into()
        }
    );
    assert_eq!(parse(&["help"]).unwrap().command, Command::Help);
    assert_eq!(parse(&["verify", "-h"]).unwrap().command, Command::Help);
    assert_eq!(parse(&["-V"]).unwrap().command, Command::Version);
}

#[test]
fn wrong_command_lines_are_usage_errors() {
    for args in [
        &[][..],
        &["frobnicate"],
        &["import-credentials"],
        &["import-credentials", "a", "b"],
        &["import-credentials", "a.csv", "--format", "xml"],
        &["verify"],
        &["verify", ""],
        &["tokens"],
        &["tokens", "delete"],
        &["revoke-all"],
        &["revoke-all", "--username", ""],
        &["verify", "t", "--format", "csv"],
        &["verify", "t", "--username", "ada"],
        &["--bogus", "verify", "t"],
        &["-x"],
    ] {
        assert!(parse(args).is_err(), "{args:?}");
    }
}

#[test]
fn a_usage_error_never_echoes_a_token() {
    let error = parse(&["verify", "tok_SECRET_1", "tok_SECRET_2"]).unwrap_err();
    assert!(!error.to_string().contains("tok_SECRET"), "{error}");
    let debug = format!("{:?}", parse(&["verify", "tok_SECRET_3"]).unwrap());
    assert!(!debug.contains("tok_SECRET"), "{debug}");
}

#[cfg(unix)]
#[test]
fn non_utf8_arguments_are_refused_or_taken_as_paths_without_a_panic() {
    use std::os::unix::ffi::OsStringExt;
    let bad = OsString::from_vec(vec![0x66, 0x6f, 0xff]);
    assert!(parse_args([OsString::from("verify"), bad.clone()]).is_err());
    assert!(parse_args([bad.clone()]).is_err());
    assert!(parse_args([OsString::from("--username"), bad.clone()]).is_err());
    assert!(parse_args([OsString::from("--format"), bad.clone()]).is_err());
    let path = parse_args([OsString::from("import-credentials"), bad.clone()]).unwrap();
    assert_eq!(
        path.command,
        Command::Import {
            file: PathBuf::from(bad),
            format: None
        }
    );
}
