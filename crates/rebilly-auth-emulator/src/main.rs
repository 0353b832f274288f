//! The `rebilly-auth-emulator` binary (feature `cli`): see the README or `--help`.

#![forbid(unsafe_code)]

mod cli;

fn main() -> std::process::ExitCode {
    cli::run()
}
