//! [`EmulatorClock`]: the emulator's notion of "now", which tests set and advance.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use time::OffsetDateTime;

/// The emulator's clock. It never moves by itself: it starts at the time the emulator was built
/// (whole seconds, UTC) or the time given to the builder, and moves only when a test calls
/// [`advance`](Self::advance) or [`set`](Self::set). Cloning shares it.
///
/// ```
/// use std::time::Duration;
/// use rebilly_auth_testing::emulator::Emulator;
///
/// let emulator = Emulator::builder().organization("org", "sk", None).build();
/// let before = emulator.clock().now();
/// emulator.clock().advance(Duration::from_secs(3600));
/// assert_eq!(emulator.clock().now() - before, time::Duration::hours(1));
/// ```
#[derive(Clone)]
pub struct EmulatorClock {
    now: Arc<Mutex<OffsetDateTime>>,
}

impl fmt::Debug for EmulatorClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("EmulatorClock").field(&self.now()).finish()
    }
}

impl EmulatorClock {
    pub(crate) fn starting_at(at: OffsetDateTime) -> Self {
        Self {
            now: Arc::new(Mutex::new(at)),
        }
    }

    /// The current emulated time.
    pub fn now(&self) -> OffsetDateTime {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets the emulated time.
    pub fn set(&self, at: OffsetDateTime) {
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }

    /// Moves the emulated time forward.
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *now += by;
    }
}

/// Now, in whole seconds.
pub(crate) fn system_now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(0).unwrap_or(now)
}
