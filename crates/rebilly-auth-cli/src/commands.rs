//! The commands: reads the command line and the target, builds the blocking client, runs the
//! command, and turns the outcome into the exit status.

mod import_credentials;
mod tokens;

use std::error::Error as StdError;
use std::process::ExitCode;

use crate::args::{Command, parse_args};
use crate::report::error_text;
use crate::target::Target;
use crate::usage::USAGE;

/// The command failed.
pub(crate) const EXIT_FAILURE: u8 = 1;
/// The command line is wrong, or names no target.
pub(crate) const EXIT_USAGE: u8 = 2;
/// Done, but not everything: rows rejected, or a token not valid.
pub(crate) const EXIT_INCOMPLETE: u8 = 3;
/// Interrupted (Ctrl-C): 128 + SIGINT, as shells report it.
pub(crate) const EXIT_INTERRUPTED: u8 = 130;

/// Prints `what` failed: `error`, with its causes (exit status 1).
pub(crate) fn fail(what: &str, error: &(dyn StdError + 'static)) -> ExitCode {
    eprintln!("{what}: {}", error_text(error));
    ExitCode::from(EXIT_FAILURE)
}

/// What a command that writes prints before it writes.
fn announce(target: &Target) {
    eprintln!("target: {target}");
}

/// Runs the tool with the process's arguments and environment.
pub(crate) fn main() -> ExitCode {
    let invocation = match parse_args(std::env::args_os().skip(1)) {
        Ok(invocation) => invocation,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    match invocation.command {
        Command::Help => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Command::Version => {
            println!("rebilly-auth {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
    let target = match crate::target::resolve(invocation.emulator, |name| std::env::var_os(name)) {
        Ok(target) => target,
        Err(message) => {
            eprintln!("{message}\n(see rebilly-auth --help)");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    if target.embedded {
        eprintln!(
            "note: the embedded emulator at {} starts empty, and its state ends with this command",
            target.url
        );
    }
    let client = match crate::connect::client(&target) {
        Ok(client) => client,
        Err(error) => return fail("cannot set up the client", &error),
    };
    match invocation.command {
        Command::Help | Command::Version => ExitCode::SUCCESS,
        Command::Import { file, format } => import_credentials::run(&target, client, &file, format),
        Command::Verify(token) => match tokens::read_token(token) {
            Ok(token) => tokens::verify(&client, token),
            Err(message) => usage_failure(&message),
        },
        Command::Logout(token) => match tokens::read_token(token) {
            Ok(token) => {
                announce(&target);
                tokens::logout(&client, token)
            }
            Err(message) => usage_failure(&message),
        },
        Command::TokensList { username } => tokens::tokens_list(&client, username.as_deref()),
        Command::RevokeAll { username } => {
            announce(&target);
            tokens::revoke_all(&client, &username)
        }
    }
}

fn usage_failure(message: &str) -> ExitCode {
    eprintln!("{message}");
    ExitCode::from(EXIT_USAGE)
}
