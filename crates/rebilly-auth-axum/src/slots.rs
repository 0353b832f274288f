//! Verify slots: the cap on upstream verifies in flight, split so that a flood of bogus
//! tokens can starve neither known sessions nor fresh logins (the design is in the crate
//! docs, "Verify slots").

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The `Retry-After` of a request that got no slot.
pub(crate) const OVERLOAD_RETRY_AFTER: Duration = Duration::from_secs(1);

/// How many requests may wait per slot of a pool: past that, a 503 at once.
pub(crate) const WAITERS_PER_SLOT: usize = 8;

/// Who asks for a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// A token the layer has seen valid (a stale valid answer is cached): it re-verifies.
    Known,
    /// Any other token: a fresh login, or a bogus one.
    Fresh,
}

/// Why no slot was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NoSlot {
    /// The pool's wait queue is full: refused at once.
    QueueFull,
    /// Waited the verify deadline in the queue.
    Deadline,
}

/// One FIFO pool of slots with a bounded wait queue.
#[derive(Debug)]
struct Pool {
    semaphore: Arc<Semaphore>,
    waiting: AtomicUsize,
    max_waiting: usize,
}

impl Pool {
    fn new(slots: usize) -> Self {
        Self {
            semaphore: Arc::new(Semaphore::new(slots)),
            waiting: AtomicUsize::new(0),
            max_waiting: slots * WAITERS_PER_SLOT,
        }
    }

    fn try_now(&self) -> Option<OwnedSemaphorePermit> {
        Arc::clone(&self.semaphore).try_acquire_owned().ok()
    }

    /// A place in the wait queue, if it has room.
    fn join(&self) -> Option<Waiter<'_>> {
        let ahead = self.waiting.fetch_add(1, Ordering::AcqRel);
        let waiter = Waiter(&self.waiting);
        (ahead < self.max_waiting).then_some(waiter)
    }

    /// The next slot, in FIFO order (no deadline: the caller's).
    async fn next(&self) -> OwnedSemaphorePermit {
        match Arc::clone(&self.semaphore).acquire_owned().await {
            Ok(permit) => permit,
            // The semaphore is never closed.
            Err(_) => std::future::pending().await,
        }
    }
}

/// Leaves the wait queue's count on drop (a slot given, a deadline, a request abandoned).
struct Waiter<'a>(&'a AtomicUsize);

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The verify slots: `total` in all, a quarter (rounded down) reserved for known sessions.
#[derive(Debug)]
pub(crate) struct Slots {
    general: Pool,
    reserved: Option<Pool>,
}

/// A slot, given back on drop.
#[derive(Debug)]
pub(crate) struct Slot {
    _permit: OwnedSemaphorePermit,
}

impl Slots {
    pub(crate) fn new(total: usize) -> Self {
        let total = total.max(1);
        let reserved = total / 4;
        Self {
            general: Pool::new(total - reserved),
            reserved: (reserved > 0).then(|| Pool::new(reserved)),
        }
    }

    /// A slot for `class`, waiting at most `deadline` (tokio's clock). A fresh token waits
    /// in the general queue. A known session takes a free slot of either pool at once, else
    /// waits in **both** queues and takes whichever slot comes first: the reserved share is
    /// its own, and it keeps its FIFO place among fresh tokens too.
    pub(crate) async fn acquire(&self, class: Class, deadline: Duration) -> Result<Slot, NoSlot> {
        let pools: &[&Pool] = match (class, &self.reserved) {
            (Class::Known, Some(reserved)) => &[reserved, &self.general],
            _ => &[&self.general],
        };
        // Never jumps a queue: a released permit goes to the first waiter, not here.
        if let Some(permit) = pools.iter().find_map(|pool| pool.try_now()) {
            return Ok(Slot { _permit: permit });
        }
        let queued: Vec<(&Pool, Waiter<'_>)> = pools
            .iter()
            .filter_map(|pool| pool.join().map(|waiter| (*pool, waiter)))
            .collect();
        if queued.is_empty() {
            return Err(NoSlot::QueueFull);
        }
        let first =
            futures_util::future::select_all(queued.iter().map(|(pool, _)| Box::pin(pool.next())));
        match tokio::time::timeout(deadline, first).await {
            Ok((permit, _, _)) => Ok(Slot { _permit: permit }),
            Err(_) => Err(NoSlot::Deadline),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_quarter_is_reserved_and_the_queue_is_bounded() {
        let slots = Slots::new(4); // 3 general, 1 reserved
        let second = Duration::from_secs(1);
        let held: Vec<Slot> =
            futures_util::future::join_all((0..3).map(|_| slots.acquire(Class::Fresh, second)))
                .await
                .into_iter()
                .map(Result::unwrap)
                .collect();
        // The general pool is taken: fresh tokens wait (and time out); a known one does not.
        assert_eq!(
            slots.acquire(Class::Fresh, second).await.unwrap_err(),
            NoSlot::Deadline
        );
        let known = slots.acquire(Class::Known, second).await.unwrap();
        drop((held, known));
        let one = Slots::new(1); // nothing reserved: both classes share the one slot
        let _slot = one.acquire(Class::Known, second).await.unwrap();
        let waiters: Vec<_> = (0..WAITERS_PER_SLOT + 1)
            .map(|_| one.acquire(Class::Fresh, second))
            .collect();
        let results = futures_util::future::join_all(waiters).await;
        let full = results
            .iter()
            .filter(|r| matches!(r, Err(NoSlot::QueueFull)))
            .count();
        assert_eq!(full, 1, "one past the queue's bound is refused at once");
    }
}
