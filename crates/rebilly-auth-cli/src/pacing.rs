//! Pacing by the rate-limit headers: after a write that left no request in the window
//! (`X-RateLimit-Remaining: 0`) the next one waits for the reset the server gave
//! (`X-RateLimit-Retry-After`); after a 429 the row waits until the time the answer names
//! (`Retry-After` or `X-RateLimit-Retry-After`; a doubling backoff from 1 s to 60 s when it
//! names none) and is sent again. The import never rejects a row for a 429.
//!
//! The wait goes through [`Pause`], so tests inject their own; the real one sleeps in short
//! slices and returns early on Ctrl-C.

use std::time::Duration;

use rebilly_auth_core::RateLimit;
use time::OffsetDateTime;

use crate::interrupt::Interrupt;

/// Waits.
pub(crate) trait Pause {
    /// Waits for `wait`, or less if the wait is cut short (Ctrl-C).
    fn pause(&self, wait: Duration);
}

/// The real wait: `thread::sleep` in slices of at most 100 ms, ending early once `interrupt`
/// is set. `cap` shortens every wait (the tests' hidden `REBILLY_AUTH_CLI_PAUSE_CAP_MS`, for an
/// emulator whose clock they advance: the row is then sent again and waits again if the
/// window has not reset).
#[derive(Debug, Clone)]
pub(crate) struct SleepPause {
    /// Stops the wait early.
    pub(crate) interrupt: Interrupt,
    /// The longest single wait.
    pub(crate) cap: Option<Duration>,
}

impl Pause for SleepPause {
    fn pause(&self, wait: Duration) {
        let wait = self.cap.map_or(wait, |cap| wait.min(cap));
        let deadline = std::time::Instant::now() + wait;
        loop {
            let now = std::time::Instant::now();
            if now >= deadline || self.interrupt.is_set() {
                return;
            }
            std::thread::sleep((deadline - now).min(Duration::from_millis(100)));
        }
    }
}

/// The longest wait without a server-given time.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// The pacing state of one import.
pub(crate) struct Pacer {
    pause: Box<dyn Pause>,
    now: Box<dyn Fn() -> OffsetDateTime>,
    /// No write before this time.
    hold_until: Option<OffsetDateTime>,
    /// The next wait when a 429 names no time.
    backoff: Duration,
    /// How many waits so far.
    waits: u64,
}

impl Pacer {
    /// A pacer waiting through `pause`, reading the time from `now`.
    pub(crate) fn new(pause: Box<dyn Pause>, now: Box<dyn Fn() -> OffsetDateTime>) -> Self {
        Self {
            pause,
            now,
            hold_until: None,
            backoff: Duration::from_secs(1),
            waits: 0,
        }
    }

    /// A pacer over the system clock and `pause`.
    pub(crate) fn with_pause(pause: Box<dyn Pause>) -> Self {
        Self::new(pause, Box::new(OffsetDateTime::now_utc))
    }

    /// After a successful write: holds the next one until the reset when none is left.
    pub(crate) fn after_success(&mut self, rate_limit: &RateLimit) {
        self.backoff = Duration::from_secs(1);
        self.hold_until = match (rate_limit.remaining, rate_limit.resets_at) {
            (Some(0), Some(at)) => Some(at),
            _ => None,
        };
    }

    /// After a 429 whose answer named `retry_at` (or nothing).
    pub(crate) fn after_rate_limited(&mut self, retry_at: Option<OffsetDateTime>) {
        let until = match retry_at {
            Some(at) => at,
            None => {
                let wait = self.backoff;
                self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
                (self.now)() + wait
            }
        };
        self.hold_until = Some(until);
    }

    /// How long the next write must wait, and until when (`None`: it may go now).
    pub(crate) fn next_wait(&self) -> Option<(Duration, OffsetDateTime)> {
        let until = self.hold_until?;
        let left = until - (self.now)();
        let left = Duration::try_from(left).ok().filter(|d| !d.is_zero())?;
        Some((left, until))
    }

    /// Waits out [`next_wait`](Self::next_wait), if any.
    pub(crate) fn wait(&mut self, wait: Duration) {
        self.waits += 1;
        self.pause.pause(wait);
        self.hold_until = None;
    }

    /// How many times the import waited.
    pub(crate) fn waits(&self) -> u64 {
        self.waits
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use super::*;

    /// Records the waits; the clock moves by each.
    struct FakePause(Rc<RefCell<Vec<Duration>>>);

    impl Pause for FakePause {
        fn pause(&self, wait: Duration) {
            self.0.borrow_mut().push(wait);
        }
    }

    fn pacer() -> (Pacer, Rc<RefCell<Vec<Duration>>>) {
        let waits = Rc::new(RefCell::new(Vec::new()));
        let start = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let pacer = Pacer::new(
            Box::new(FakePause(Rc::clone(&waits))),
            Box::new(move || start),
        );
        (pacer, waits)
    }

    fn rate_limit(remaining: u64, resets_in: Option<i64>) -> RateLimit {
        let mut rate_limit = RateLimit::default();
        rate_limit.limit = Some(20);
        rate_limit.remaining = Some(remaining);
        rate_limit.resets_at =
            resets_in.map(|s| OffsetDateTime::from_unix_timestamp(1_800_000_000 + s).unwrap());
        rate_limit
    }

    #[test]
    fn no_wait_while_requests_remain() {
        let (mut pacer, _) = pacer();
        pacer.after_success(&rate_limit(5, Some(600)));
        assert_eq!(pacer.next_wait(), None);
    }

    #[test]
    fn an_empty_window_holds_the_next_write_until_the_reset() {
        let (mut pacer, waits) = pacer();
        pacer.after_success(&rate_limit(0, Some(600)));
        let (wait, _) = pacer.next_wait().unwrap();
        assert_eq!(wait, Duration::from_secs(600));
        pacer.wait(wait);
        assert_eq!(*waits.borrow(), [Duration::from_secs(600)]);
        assert_eq!(pacer.next_wait(), None);
        assert_eq!(pacer.waits(), 1);
    }

    #[test]
    fn a_429_waits_for_its_time_or_backs_off() {
        let (mut pacer, _) = pacer();
        let at = OffsetDateTime::from_unix_timestamp(1_800_000_030).unwrap();
        pacer.after_rate_limited(Some(at));
        assert_eq!(pacer.next_wait(), Some((Duration::from_secs(30), at)));
        let mut seen = Vec::new();
        for _ in 0..8 {
            pacer.after_rate_limited(None);
            seen.push(pacer.next_wait().unwrap().0.as_secs());
        }
        assert_eq!(seen, [1, 2, 4, 8, 16, 32, 60, 60]);
        pacer.after_success(&rate_limit(3, None));
        pacer.after_rate_limited(None);
        assert_eq!(pacer.next_wait().unwrap().0.as_secs(), 1);
    }

    #[test]
    fn a_past_reset_means_no_wait() {
        let (mut pacer, _) = pacer();
        pacer.after_success(&rate_limit(0, Some(-5)));
        assert_eq!(pacer.next_wait(), None);
    }

    #[test]
    fn the_real_pause_ends_early_on_ctrl_c() {
        let interrupt = Interrupt::never();
        interrupt.set();
        let pause = SleepPause {
            interrupt,
            cap: None,
        };
        let started = std::time::Instant::now();
        pause.pause(Duration::from_secs(30));
        assert!(started.elapsed() < Duration::from_secs(1));
    }
}
