//! Time for tests (feature `test-util`): a [`ManualClock`] that moves only when told, and an
//! [`InstantSleep`] that ends at once and moves that clock by what it was asked to wait, so
//! retries, `Retry-After` waits and deadlines run in no real time and stay observable.
//!
//! ```
//! use std::time::Duration;
//! use rebilly_auth_core::test_util::{ManualClock, instant_time_and_sleep};
//! use rebilly_auth_core::{Clock, Sleep};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let (clock, sleep) = instant_time_and_sleep(ManualClock::default_start());
//! let before = clock.now();
//! sleep.sleep(Duration::from_secs(30)).await; // returns at once…
//! assert_eq!(clock.now(), before + Duration::from_secs(30)); // …and time moved on
//! assert_eq!(sleep.waits(), [Duration::from_secs(30)]);
//! # });
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use crate::runtime::{Clock, Sleep, SleepFuture};

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// A wall clock that moves only when told ([`advance`](Self::advance), [`set`](Self::set), or
/// an [`InstantSleep`] made with it). Clones share the time.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<SystemTime>>);

impl ManualClock {
    /// 2026-01-01T00:00:00Z: where [`Default`] starts.
    pub fn default_start() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600)
    }

    /// A clock reading `start`.
    pub fn new(start: SystemTime) -> Self {
        Self(Arc::new(Mutex::new(start)))
    }

    /// Moves the clock forward by `by`; a move past the largest time it can hold leaves it
    /// where it is.
    pub fn advance(&self, by: Duration) {
        let mut now = lock(&self.0);
        if let Some(later) = now.checked_add(by) {
            *now = later;
        }
    }

    /// Sets the clock to `to` (backwards too, to test a clock that jumps).
    pub fn set(&self, to: SystemTime) {
        *lock(&self.0) = to;
    }
}

impl Default for ManualClock {
    /// A clock reading [`ManualClock::default_start()`].
    fn default() -> Self {
        Self::new(Self::default_start())
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *lock(&self.0)
    }
}

/// A [`Sleep`] that ends at once (after yielding once, so a transport that is already
/// answering wins a race against a deadline) and advances its [`ManualClock`] by the wait. It
/// remembers every wait it was asked for. Clones share both.
#[derive(Debug, Clone)]
pub struct InstantSleep {
    clock: ManualClock,
    waits: Arc<Mutex<Vec<Duration>>>,
}

impl InstantSleep {
    /// A sleep that advances `clock`.
    pub fn new(clock: ManualClock) -> Self {
        Self {
            clock,
            waits: Arc::default(),
        }
    }

    /// Every wait asked for so far, in order.
    pub fn waits(&self) -> Vec<Duration> {
        lock(&self.waits).clone()
    }

    /// The sum of the waits asked for so far.
    pub fn total_waited(&self) -> Duration {
        lock(&self.waits).iter().sum()
    }
}

impl Sleep for InstantSleep {
    fn sleep(&self, duration: Duration) -> SleepFuture {
        lock(&self.waits).push(duration);
        self.clock.advance(duration);
        Box::pin(YieldOnce(false))
    }
}

/// Pending once (waking itself), then ready: lets every other ready future run first.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

/// A manual clock reading `start` and an instant sleep that advances it: the pair a test
/// client takes (`.clock(Arc::new(clock)).sleep(Arc::new(sleep))`), as smithy's
/// `instant_time_and_sleep`.
pub fn instant_time_and_sleep(start: SystemTime) -> (ManualClock, InstantSleep) {
    let clock = ManualClock::new(start);
    let sleep = InstantSleep::new(clock.clone());
    (clock, sleep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_saturates_and_set_goes_anywhere() {
        let clock = ManualClock::default();
        assert_eq!(clock.now(), ManualClock::default_start());
        clock.advance(Duration::MAX);
        assert_eq!(
            clock.now(),
            ManualClock::default_start(),
            "an overflow leaves it where it was"
        );
        clock.set(SystemTime::UNIX_EPOCH);
        assert_eq!(clock.now(), SystemTime::UNIX_EPOCH);
    }

    #[test]
    fn clones_share_the_time() {
        let (clock, sleep) = instant_time_and_sleep(SystemTime::UNIX_EPOCH);
        let other = clock.clone();
        drop(sleep.sleep(Duration::from_secs(5)));
        assert_eq!(other.now(), SystemTime::UNIX_EPOCH + Duration::from_secs(5));
        assert_eq!(sleep.clone().total_waited(), Duration::from_secs(5));
    }
}
