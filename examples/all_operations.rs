//! Calls each of the 16 operations exactly once and prints `OK <operation>` or
//! `ERR <operation>: <error>`; exits non-zero on any `ERR`.
//!
//! ```sh
//! cargo run --example all_operations
//! ```
//!
//! It uses only what the server returned (no emulator ids or state), so it runs against any
//! server that follows the spec: the embedded emulator by default, or the one named by
//! `REBILLY_API_URL` (with `REBILLY_ORGANIZATION_ID`, `REBILLY_SECRET_KEY`, optionally
//! `REBILLY_PUBLISHABLE_KEY` and `REBILLY_CUSTOMER_ID`). It writes back the options it read and
//! deletes what it created.

mod support;

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    support::init_logging();
    let setup = match support::setup().await {
        Ok(setup) => setup,
        Err(error) => {
            eprintln!("setup failed: {}", support::describe(&*error));
            return ExitCode::FAILURE;
        }
    };
    eprintln!("all_operations against {}", setup.target);
    let report = support::operations::all_operations(&setup).await;
    if let Some((_, server)) = setup.emulator {
        server.shutdown().await;
    }
    if report.failures == 0 {
        ExitCode::SUCCESS
    } else {
        eprintln!("{} failed", support::counted(report.failures, "operation"));
        ExitCode::FAILURE
    }
}
