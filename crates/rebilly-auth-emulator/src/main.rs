//! The `rebilly-auth-emulator` binary: see the crate documentation or `--help`.

fn main() -> std::process::ExitCode {
    rebilly_auth_emulator::run(std::env::args().skip(1))
}
