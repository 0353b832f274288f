//! [`LogCapture`]: captures every `tracing` event and span of a piece of code, at TRACE level,
//! as text, and asserts that no secret appears in it. Run it over your own application's
//! logs too: a token in a log line is a session anyone with log access can use.
//!
//! ```
//! use rebilly_auth_testing::LogCapture;
//!
//! let capture = LogCapture::new();
//! capture.run(|| {
//!     tracing::info!(user = "ada", "logged in");
//! });
//! assert!(capture.text().contains("logged in"));
//! capture.assert_free_of(&["tok_secret_1", "s3cret-password"]);
//! ```

use std::fmt;
use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard};

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::FmtSpan;

/// Captured log output: every event and span (opened, entered, closed, with fields) of the
/// code run under [`run`](Self::run) or [`set_default`](Self::set_default), as plain text.
/// `log` records (rustls, reqwest's dependencies) are captured too when the application has
/// bridged them into `tracing` (tracing-log). Clones share the buffer.
#[derive(Clone, Default)]
pub struct LogCapture {
    buffer: Arc<Mutex<Vec<u8>>>,
}

impl fmt::Debug for LogCapture {
    // Never the text: it is what is being checked for secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogCapture")
            .field("bytes", &lock(&self.buffer).len())
            .finish()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl LogCapture {
    /// An empty capture.
    pub fn new() -> Self {
        Self::default()
    }

    /// A subscriber writing into this capture: TRACE level, every span event, no colours.
    /// Install it however the test needs (`with_default`, `set_global_default`, a layer).
    pub fn subscriber(&self) -> impl tracing::Subscriber + Send + Sync + 'static {
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_span_events(FmtSpan::FULL)
            .with_ansi(false)
            .with_writer(self.clone())
            .finish()
    }

    /// Runs `f` with this capture as the thread's subscriber, and returns its result. An
    /// async test builds its runtime inside `f` (a current-thread runtime keeps every task on
    /// this thread).
    pub fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        tracing::subscriber::with_default(self.subscriber(), f)
    }

    /// Makes this capture the thread's subscriber until the guard drops.
    pub fn set_default(&self) -> tracing::subscriber::DefaultGuard {
        tracing::subscriber::set_default(self.subscriber())
    }

    /// Everything captured so far, as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&lock(&self.buffer)).into_owned()
    }

    /// The secrets of `secrets` (empty ones ignored) found in the captured text, each with
    /// the byte offset of its first occurrence: empty when none leaked.
    pub fn leaks<'s>(&self, secrets: &[&'s str]) -> Vec<(&'s str, usize)> {
        let text = self.text();
        secrets
            .iter()
            .filter(|secret| !secret.is_empty())
            .filter_map(|&secret| text.find(secret).map(|at| (secret, at)))
            .collect()
    }

    /// Panics when any of `secrets` appears in the captured text. The message names the
    /// secret's position in the list and where it was found, never the secret, and shows the
    /// captured text with every secret masked, so a failing CI log leaks nothing either.
    #[track_caller]
    pub fn assert_free_of(&self, secrets: &[&str]) {
        let leaks = self.leaks(secrets);
        if leaks.is_empty() {
            return;
        }
        let mut masked = self.text();
        for secret in secrets.iter().filter(|s| !s.is_empty()) {
            masked = masked.replace(secret, "<SECRET>");
        }
        let found: Vec<String> = leaks
            .iter()
            .map(|(secret, at)| {
                let index = secrets.iter().position(|s| s == secret).unwrap_or(0);
                format!("secret #{index} at byte {at}")
            })
            .collect();
        panic!(
            "secrets leaked into the logs ({}); the logs, masked:\n{masked}",
            found.join(", ")
        );
    }
}

impl Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        lock(&self.buffer).extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LogCapture {
    type Writer = LogCapture;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leaked_secret_fails_and_the_message_masks_it() {
        let capture = LogCapture::new();
        capture.run(|| {
            let span = tracing::info_span!("call", token = "tok_LEAK");
            let _entered = span.enter();
            tracing::debug!("inside");
        });
        assert_eq!(capture.leaks(&["tok_LEAK", "absent", ""]).len(), 1);
        let panic = std::panic::catch_unwind(|| capture.assert_free_of(&["absent", "tok_LEAK"]))
            .expect_err("a leak must fail the assertion");
        let message = panic.downcast_ref::<String>().expect("a formatted message");
        assert!(message.contains("secret #1"), "{message}");
        assert!(message.contains("<SECRET>"), "{message}");
        assert!(
            !message.contains("tok_LEAK"),
            "the message itself leaks: {message}"
        );
    }

    #[test]
    fn clean_logs_pass() {
        let capture = LogCapture::new();
        let guard = capture.set_default();
        tracing::trace!(user = "ada", "fine");
        drop(guard);
        tracing::info!("not captured: after the guard");
        capture.assert_free_of(&["tok_1"]);
        assert!(capture.text().contains("fine"));
        assert!(!capture.text().contains("not captured"));
    }
}
