//! [`EmulatorClock`]: the emulator's notion of "now", which tests set and advance.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use rebilly_auth_core::Clock;
use rebilly_auth_core::test_util::ManualClock;
use time::OffsetDateTime;

/// The emulator's clock. It never moves by itself: it starts at the time the emulator was built
/// (whole seconds, UTC) or the time given to the builder, and moves only when a test calls
/// [`advance`](Self::advance) or [`set`](Self::set). Cloning shares it.
///
/// It is core's [`ManualClock`] underneath ([`manual_clock`](Self::manual_clock)) and a core
/// [`Clock`] itself, so a client or a layer reads the very time the emulator keeps (see
/// [`Emulator::client`](crate::Emulator::client)).
///
/// ```
/// use std::time::Duration;
/// use rebilly_auth_emulator::Emulator;
///
/// let emulator = Emulator::builder().add_organization("org", "sk", None).build();
/// let before = emulator.clock().now();
/// emulator.clock().advance(Duration::from_secs(3600));
/// assert_eq!(emulator.clock().now() - before, time::Duration::hours(1));
///
/// // A core `Clock` reading the same time:
/// use rebilly_auth_core::Clock;
/// let system_time: std::time::SystemTime = emulator.clock().now().into();
/// assert_eq!(Clock::now(emulator.clock()), system_time);
/// ```
#[derive(Clone)]
pub struct EmulatorClock {
    manual: ManualClock,
    /// Held across the read and the write of an advance, so that two advances both count.
    advancing: Arc<Mutex<()>>,
}

impl fmt::Debug for EmulatorClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("EmulatorClock").field(&self.now()).finish()
    }
}

impl EmulatorClock {
    pub(crate) fn starting_at(at: OffsetDateTime) -> Self {
        Self {
            manual: ManualClock::new(at.into()),
            advancing: Arc::default(),
        }
    }

    /// The current emulated time. Should the core clock underneath have been moved past the
    /// end of year 9999 (an instant sleep told to wait for ages), it reads the end of 9999.
    pub fn now(&self) -> OffsetDateTime {
        from_system_time(self.manual.now())
    }

    /// Sets the emulated time.
    pub fn set(&self, at: OffsetDateTime) {
        self.manual.set(at.into());
    }

    /// Moves the emulated time forward. It saturates at the latest time `time` can represent
    /// (the end of year 9999) instead of overflowing, however large `by` is.
    pub fn advance(&self, by: Duration) {
        let _advancing = self.advancing.lock().unwrap_or_else(|e| e.into_inner());
        self.set(saturating_add_std(self.now(), by));
    }

    /// Core's manual clock underneath: moving it moves this clock. Give it to
    /// [`InstantSleep::new`](rebilly_auth_core::test_util::InstantSleep::new) so that a
    /// client's waits move the emulated time.
    pub fn manual_clock(&self) -> &ManualClock {
        &self.manual
    }
}

impl Clock for EmulatorClock {
    fn now(&self) -> SystemTime {
        self.manual.now()
    }
}

/// `at` as an `OffsetDateTime` (UTC), saturating at the ends of the range `time` represents.
fn from_system_time(at: SystemTime) -> OffsetDateTime {
    let nanos = match at.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(after) => i128::try_from(after.as_nanos()).unwrap_or(i128::MAX),
        Err(before) => i128::try_from(before.duration().as_nanos()).map_or(i128::MIN, |n| -n),
    };
    OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or(if nanos < 0 {
        time::PrimitiveDateTime::MIN.assume_utc()
    } else {
        MAX_INSTANT
    })
}

impl EmulatorClock {
    /// Moves the emulated time forward by `by`, unless that would pass the end of year 9999
    /// (the latest time written as RFC 3339): then it stays and `None` is returned. The
    /// control API's clock advance uses it (422 instead of saturating).
    pub fn try_advance(&self, by: Duration) -> Option<OffsetDateTime> {
        let by = time::Duration::try_from(by).ok()?;
        let _advancing = self.advancing.lock().unwrap_or_else(|e| e.into_inner());
        let next = self.now().checked_add(by).filter(|next| *next <= LATEST)?;
        self.set(next);
        Some(next)
    }
}

/// The latest instant the emulator writes as a timestamp (RFC 3339 has four-digit years).
/// Expiry times computed from request-supplied lifetimes saturate here.
pub(crate) const LATEST: OffsetDateTime = match time::Date::MAX.with_hms(23, 59, 59) {
    Ok(latest) => latest.assume_utc(),
    Err(_) => panic!("23:59:59 is a valid time"),
};

/// The latest instant `time` represents (without its `large-dates` feature, the last
/// nanosecond of year 9999).
const MAX_INSTANT: OffsetDateTime = time::PrimitiveDateTime::MAX.assume_utc();

/// `at + by`, saturating at the ends of the representable range.
pub(crate) fn saturating_add(at: OffsetDateTime, by: time::Duration) -> OffsetDateTime {
    at.checked_add(by).unwrap_or(if by.is_negative() {
        time::PrimitiveDateTime::MIN.assume_utc()
    } else {
        MAX_INSTANT
    })
}

/// `at + by` for a `std` duration (which may exceed `time::Duration`), saturating.
pub(crate) fn saturating_add_std(at: OffsetDateTime, by: Duration) -> OffsetDateTime {
    match time::Duration::try_from(by) {
        Ok(by) => saturating_add(at, by),
        Err(_) => MAX_INSTANT,
    }
}

/// The expiry `by` after `now`, saturating at [`LATEST`] (or at `now`, if the clock was set
/// past it), so that it can always be written as RFC 3339.
pub(crate) fn expiry_after(now: OffsetDateTime, by: time::Duration) -> OffsetDateTime {
    saturating_add(now, by).min(LATEST.max(now))
}

/// Now, in whole seconds.
pub(crate) fn system_now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(0).unwrap_or(now)
}
