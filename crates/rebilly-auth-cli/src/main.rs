//! # rebilly-auth-cli
//!
//! `rebilly-auth`, a command-line tool for Rebilly's Customer Authentication API, built on the
//! SDK's blocking client (`rebilly_auth_core::blocking::BlockingClient` over
//! `rebilly-auth-ureq`): no async runtime on the client's path.
//!
//! ```sh
//! rebilly-auth --emulator import-credentials crates/rebilly-auth-cli/examples/credentials.csv
//! REBILLY_API_URL=https://api-sandbox.rebilly.com REBILLY_ORGANIZATION_ID=my-org \
//!     REBILLY_SECRET_KEY=sk_sandbox_… rebilly-auth tokens list --username ada@example.com
//! ```
//!
//! - `import-credentials FILE`: CSV or JSON Lines, each row written with
//!   `PUT /credentials/{id}` (an upsert: a rerun never duplicates). Paced by the rate-limit
//!   headers, a progress bar on a terminal, rejected rows to `FILE.rejects.csv`, done rows to a
//!   journal beside the file keyed by API URL and organization; Ctrl-C finishes the row in
//!   flight, and the same command resumes.
//! - `verify TOKEN`, `logout TOKEN`, `tokens list [--username U]`, `revoke-all --username U`.
//!
//! Every command needs an explicit target: `--emulator`, or `REBILLY_API_URL`,
//! `REBILLY_ORGANIZATION_ID` and `REBILLY_SECRET_KEY`. See the README and `--help`.
//!
//! ## Features
//!
#![doc = document_features::document_features!()]
#![forbid(unsafe_code)]

mod args;
mod commands;
mod connect;
#[cfg(feature = "emulator")]
mod embedded;
mod import;
mod input;
mod interrupt;
mod journal;
mod pacing;
mod progress;
mod rejects;
mod report;
mod target;
mod usage;

fn main() -> std::process::ExitCode {
    commands::main()
}
