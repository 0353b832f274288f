//! Ctrl-C: the first SIGINT (or SIGTERM) sets a flag that the import reads between rows, so
//! the row in flight finishes and is journalled; a second one ends the process at once (exit
//! status 130; the journal is already flushed up to the last row done).

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether the user asked to stop. Clones share the flag.
#[derive(Debug, Clone, Default)]
pub(crate) struct Interrupt(Arc<AtomicBool>);

impl Interrupt {
    /// A flag no signal sets.
    #[cfg(test)]
    pub(crate) fn never() -> Self {
        Self::default()
    }

    /// A flag set by SIGINT and SIGTERM; a second signal exits with status 130.
    pub(crate) fn install() -> io::Result<Self> {
        let flag = Arc::new(AtomicBool::new(false));
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            // Registered first, so it sees the flag as the earlier signal left it.
            signal_hook::flag::register_conditional_shutdown(signal, 130, Arc::clone(&flag))?;
            signal_hook::flag::register(signal, Arc::clone(&flag))?;
        }
        Ok(Self(flag))
    }

    /// Whether a stop was asked for.
    pub(crate) fn is_set(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Asks for a stop (tests).
    #[cfg(test)]
    pub(crate) fn set(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
}
