//! Time, injected: a [`Sleep`] to wait with and a [`Clock`] to read the wall time.
//!
//! Core races every attempt and every call against a `Sleep`, and converts
//! `X-RateLimit-Retry-After` epochs to waits with a `Clock`. Tests replace both to exercise
//! timeouts and retries without real waiting.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, SystemTime};

/// A boxed, sendable future: what [`Sleep::sleep`] returns.
pub type SleepFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Waits for a duration. The default is [`TokioSleep`] (feature `tokio`, on by default).
pub trait Sleep: Send + Sync + fmt::Debug {
    /// A future that completes after `duration`.
    fn sleep(&self, duration: Duration) -> SleepFuture;
}

/// Reads the wall clock. The default is [`SystemClock`].
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// [`Sleep`] on tokio's timer.
#[cfg(feature = "tokio")]
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioSleep;

#[cfg(feature = "tokio")]
impl Sleep for TokioSleep {
    fn sleep(&self, duration: Duration) -> SleepFuture {
        // Lazy: the timer is created on first poll, so an attempt whose transport answers at
        // once never touches the timer wheel.
        Box::pin(async move { tokio::time::sleep(duration).await })
    }
}

/// [`Clock`] reading [`SystemTime::now`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}
