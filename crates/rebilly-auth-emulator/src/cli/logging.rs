//! The binary's log on standard error: the library's request events (one line per request,
//! target [`REQUEST_LOG_TARGET`]) through a `tracing-subscriber` fmt subscriber, filtered by
//! `RUST_LOG`. Standard output keeps only the address lines that scripts read.

use rebilly_auth_emulator::server::REQUEST_LOG_TARGET;
use tracing_subscriber::EnvFilter;

/// The environment variable read for the filter.
pub(crate) const FILTER_ENV: &str = "RUST_LOG";

/// The filter without `RUST_LOG` (or with an empty one): the request lines.
const DEFAULT_FILTER: &str = "rebilly_auth_emulator::request=info";

/// The filter of `rust_log` (the value of [`FILTER_ENV`]), with the request lines off when
/// `quiet`. A value that does not parse gives the default filter and a warning for standard
/// error.
pub(crate) fn filter(rust_log: Option<&str>, quiet: bool) -> (EnvFilter, Option<String>) {
    let (mut filter, warning) = match rust_log.map(str::trim).filter(|v| !v.is_empty()) {
        None => (EnvFilter::new(DEFAULT_FILTER), None),
        Some(value) => match EnvFilter::builder().parse(value) {
            Ok(filter) => (filter, None),
            Err(error) => (
                EnvFilter::new(DEFAULT_FILTER),
                Some(format!("{FILTER_ENV}: {error}; using {DEFAULT_FILTER}")),
            ),
        },
    };
    if quiet {
        // Same target as a RUST_LOG directive for it: this one replaces it.
        if let Ok(off) = format!("{REQUEST_LOG_TARGET}=off").parse() {
            filter = filter.add_directive(off);
        }
    }
    (filter, warning)
}

/// Installs the process's subscriber: plain text (no colours) on standard error, filtered
/// by `RUST_LOG` and `quiet` (see [`filter`]).
pub(crate) fn install(quiet: bool) {
    let rust_log = std::env::var(FILTER_ENV).ok();
    let (filter, warning) = filter(rust_log.as_deref(), quiet);
    if let Some(warning) = warning {
        eprintln!("{warning}");
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::io::stderr)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    /// Appends to a shared buffer.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Whether a request event shows under the filter of `rust_log` and `quiet`.
    fn shows(rust_log: Option<&str>, quiet: bool) -> bool {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(filter(rust_log, quiet).0)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(target: REQUEST_LOG_TARGET, "GET <unrouted> 404 0.1ms");
        });
        !buffer.0.lock().unwrap().is_empty()
    }

    #[test]
    fn quiet_wins_and_a_bad_filter_falls_back() {
        assert!(shows(None, false));
        assert!(shows(Some("  "), false));
        assert!(shows(Some("rebilly_auth_emulator=debug"), false));
        assert!(!shows(None, true));
        assert!(!shows(Some("off"), false));
        assert!(!shows(Some("warn"), false));
        assert!(!shows(Some("rebilly_auth_emulator::request=info"), true));
        let (_, warning) = filter(Some("rebilly_auth_emulator=notalevel"), false);
        assert!(warning.is_some_and(|w| w.contains(FILTER_ENV)));
        assert!(shows(Some("rebilly_auth_emulator=notalevel"), false));
    }
}
