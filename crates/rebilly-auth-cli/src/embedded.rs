//! `--emulator` (feature `emulator`): an emulator served on loopback by a thread of its own,
//! with its own current-thread tokio runtime. The client calls it over HTTP like any server,
//! from the main thread, which runs no runtime: the client's path stays runtime-free, and the
//! server never waits for the thread a blocking call holds.

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use rebilly_auth_emulator::Emulator;

/// The embedded emulator's organization.
pub(crate) const ORGANIZATION: &str = "cli-org";

/// The embedded emulator's secret key (a local, throw-away emulator's).
pub(crate) const SECRET_KEY: &str = "sk_cli_embedded";

/// Starts the emulator; returns its URL. The server lives until the process ends.
pub(crate) fn start() -> Result<String, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the embedded emulator's runtime: {e}"))?;
    let (sender, receiver) = mpsc::channel();
    thread::Builder::new()
        .name("embedded-emulator".into())
        .spawn(move || {
            runtime.block_on(async move {
                let emulator = Emulator::builder()
                    .add_organization(ORGANIZATION, SECRET_KEY, None)
                    .build();
                match emulator.serve_on_loopback().await {
                    Ok(server) => {
                        let _ = sender.send(Ok(server.url()));
                        // Serve until the process ends.
                        std::future::pending::<()>().await;
                        drop(server);
                    }
                    Err(error) => {
                        let _ = sender.send(Err(format!(
                            "the embedded emulator cannot listen on loopback: {error}"
                        )));
                    }
                }
            });
        })
        .map_err(|e| format!("cannot start the embedded emulator's thread: {e}"))?;
    receiver
        .recv_timeout(Duration::from_secs(30))
        .map_err(|_| "the embedded emulator did not start".to_owned())?
}
