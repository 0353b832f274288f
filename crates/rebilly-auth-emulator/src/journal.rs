//! The request journal: a ring buffer of the latest requests, and per-operation counters
//! kept apart from it (never evicted).

use super::*;

/// One request the emulator saw.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoggedRequest {
    /// The method.
    pub method: Method,
    /// The operation, if the method and path named one of the API's.
    pub operation: Option<OperationId>,
    /// The route template the path matched, if any (also set for a method the route does not
    /// serve, which has no operation).
    pub route: Option<&'static str>,
    /// The organization of the path (or the `Organization-Id` header).
    pub organization: Option<String>,
    /// The injected fault, if any.
    pub fault: Option<Fault>,
    /// Whether the emulator ran the operation against its state.
    pub executed: bool,
    /// The status sent, if a response head was sent.
    pub status: Option<u16>,
    /// When it arrived, on the emulator's clock.
    pub time: OffsetDateTime,
}

/// Per-operation counts, kept apart from the journal and never evicted.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Counts {
    pub(super) seen: usize,
    pub(super) executed: usize,
}

/// The request journal (a ring buffer of the latest requests) and the per-operation counters.
#[derive(Debug)]
pub(super) struct Journal {
    pub(super) entries: VecDeque<LoggedRequest>,
    capacity: usize,
    pub(super) counts: HashMap<OperationId, Counts>,
}

impl Journal {
    pub(super) fn new(capacity: usize) -> Self {
        Self {
            entries: VecDeque::with_capacity(capacity.min(1024)),
            capacity,
            counts: HashMap::new(),
        }
    }

    pub(super) fn record(&mut self, entry: LoggedRequest) {
        // Only the API's 16 operations are counted, so invented methods or paths cannot grow
        // the map.
        if let Some(operation) = entry.operation {
            let counts = self.counts.entry(operation).or_default();
            counts.seen = counts.seen.saturating_add(1);
            if entry.executed {
                counts.executed = counts.executed.saturating_add(1);
            }
        }
        if self.capacity == 0 {
            return;
        }
        while self.entries.len() >= self.capacity {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
    }

    pub(super) fn counts(&self, operation: OperationId) -> Counts {
        self.counts.get(&operation).copied().unwrap_or_default()
    }
}
