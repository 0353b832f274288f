//! How the examples talk to a person: logs only when `RUST_LOG` asks for them, errors with
//! their whole cause chain, counts with the right plural.

use std::error::Error as StdError;
use std::process::ExitCode;

use rebilly_auth_core::error_chain;
use tracing_subscriber::EnvFilter;

/// Installs a subscriber on stderr filtered by `RUST_LOG` (for example
/// `RUST_LOG=rebilly_auth=debug`). Unset, nothing is shown.
pub(crate) fn init_logging() {
    init_logging_or("off");
}

/// [`init_logging`], with `default` as the filter when `RUST_LOG` is unset.
pub(crate) fn init_logging_or(default: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    // Only fails when a subscriber is already installed (the example's tests run twice).
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// `error` and each of its causes, joined by ": ", as a person reads them
/// ("error sending request: client error (Connect): … Connection refused").
pub(crate) fn describe(error: &(dyn StdError + 'static)) -> String {
    let mut text = String::new();
    for (i, cause) in error_chain(error).enumerate() {
        let message = cause.to_string();
        // Some causes repeat their source's message; say each thing once.
        if text.ends_with(&message) {
            continue;
        }
        if i > 0 {
            text.push_str(": ");
        }
        text.push_str(&message);
    }
    text
}

/// The process's exit code for `result`, printing an error (with its causes) on stderr.
pub(crate) fn exit_code(result: Result<(), Box<dyn StdError>>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", describe(&*error));
            ExitCode::FAILURE
        }
    }
}

/// An outcome the example did not expect, described without Debug syntax.
pub(crate) fn unexpected<T>(outcome: Result<T, rebilly_auth_core::Error>) -> String {
    match outcome {
        Ok(_) => "unexpected: the call succeeded".to_owned(),
        Err(error) => format!("unexpected error: {}", describe(&error)),
    }
}

/// `count` and `noun`, plural when `count` is not 1 ("1 token", "3 tokens").
pub(crate) fn counted(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}
