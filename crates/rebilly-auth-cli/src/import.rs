//! The import loop: each row of the file, in order, written through a [`Writer`] unless the
//! journal holds it; rejected rows to the rejects file; waits by the [`Pacer`]; a stop between
//! rows on Ctrl-C. Passwords reach nothing but the writer: every message about a row is masked
//! with its password before it is shown or written.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::io;

use rebilly_auth_core::RateLimit;
use time::OffsetDateTime;

use crate::input::{Record, Row};
use crate::interrupt::Interrupt;
use crate::journal::Journal;
use crate::pacing::Pacer;
use crate::progress::Progress;
use crate::rejects::{Rejects, mask};
use crate::report::rfc3339;

/// What one successful write reported.
#[derive(Debug, Clone, Default)]
pub(crate) struct Written {
    /// `Some(true)` created, `Some(false)` replaced, `None` unknown (after a retry).
    pub(crate) created: Option<bool>,
    /// The answer's rate-limit figures.
    pub(crate) rate_limit: RateLimit,
}

/// Why a write failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WriteError {
    /// 429: wait until the time given (if any) and send the row again.
    RateLimited(Option<OffsetDateTime>),
    /// The API refused this row (400, 409, 422, …): reject it and go on.
    Row(String),
    /// Nothing more can be written (a wrong key, the server unreachable or failing): stop.
    Fatal(String),
}

/// Writes one row (`PUT /credentials/{id}`).
pub(crate) trait Writer {
    /// Writes `row`.
    fn put(&mut self, row: &Row) -> Result<Written, WriteError>;
}

/// What the import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Summary {
    /// Rows written by this run.
    pub(crate) written: u64,
    /// Of those, known created.
    pub(crate) created: u64,
    /// Of those, known replaced.
    pub(crate) updated: u64,
    /// Rows skipped: the journal holds them.
    pub(crate) skipped: u64,
    /// Rows rejected.
    pub(crate) rejected: u64,
    /// Waits for the rate limit.
    pub(crate) waits: u64,
}

/// How the import ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum End {
    /// Every row was handled.
    Finished,
    /// Ctrl-C: stopped before the row of `next_line`, every row before it handled.
    Interrupted {
        /// The first row not handled.
        next_line: u64,
    },
    /// A fatal error at the row of `line` (not written).
    Failed {
        /// The row.
        line: u64,
        /// The error, masked.
        message: String,
    },
}

/// What the loop writes to and reads from besides the rows and the writer.
pub(crate) struct Parts<'a> {
    /// The journal (`None`: nothing to resume, as with the embedded emulator).
    pub(crate) journal: Option<&'a mut Journal>,
    /// The rejects file.
    pub(crate) rejects: &'a mut Rejects,
    /// The pacing.
    pub(crate) pacer: &'a mut Pacer,
    /// The progress display.
    pub(crate) progress: &'a mut Progress,
    /// Ctrl-C.
    pub(crate) interrupt: &'a Interrupt,
}

/// Imports `records` through `writer`. `Err` when the journal or the rejects file cannot be
/// written (the import stops: a row written but not journalled would be sent again).
pub(crate) fn import(
    records: Vec<Record>,
    writer: &mut dyn Writer,
    mut parts: Parts<'_>,
) -> io::Result<(Summary, End)> {
    let mut summary = Summary::default();
    let mut first_line: HashMap<String, u64> = HashMap::new();
    let mut end = End::Finished;
    for record in records {
        let line = match &record {
            Record::Row(row) => row.line,
            Record::Rejected(rejected) => rejected.line,
        };
        if parts.interrupt.is_set() {
            end = End::Interrupted { next_line: line };
            break;
        }
        match record {
            Record::Rejected(rejected) => {
                reject(&mut parts, line, &rejected.id, &rejected.reason)?;
            }
            Record::Row(row) => {
                if let Some(stop) =
                    row_step(&row, writer, &mut parts, &mut summary, &mut first_line)?
                {
                    end = stop;
                    break;
                }
            }
        }
        parts.progress.advance();
    }
    summary.rejected = parts.rejects.count();
    summary.waits = parts.pacer.waits();
    parts.progress.finish();
    Ok((summary, end))
}

/// Handles one valid row; `Some` ends the import.
fn row_step(
    row: &Row,
    writer: &mut dyn Writer,
    parts: &mut Parts<'_>,
    summary: &mut Summary,
    first_line: &mut HashMap<String, u64>,
) -> io::Result<Option<End>> {
    match first_line.entry(row.id.clone()) {
        Entry::Occupied(first) => {
            let reason = format!("duplicate id (first on line {})", first.get());
            reject(parts, row.line, &row.id, &reason)?;
            return Ok(None);
        }
        Entry::Vacant(slot) => {
            slot.insert(row.line);
        }
    }
    if parts.journal.as_ref().is_some_and(|j| j.contains(&row.id)) {
        summary.skipped += 1;
        return Ok(None);
    }
    loop {
        if let Some((wait, until)) = parts.pacer.next_wait() {
            parts.progress.note(&format!(
                "rate limit: waiting until {} ({} s)",
                rfc3339(until),
                wait.as_secs().max(1)
            ));
            parts.pacer.wait(wait);
            if parts.interrupt.is_set() {
                return Ok(Some(End::Interrupted {
                    next_line: row.line,
                }));
            }
        }
        match writer.put(row) {
            Ok(written) => {
                if let Some(journal) = parts.journal.as_deref_mut() {
                    journal.record(&row.id)?;
                }
                summary.written += 1;
                match written.created {
                    Some(true) => summary.created += 1,
                    Some(false) => summary.updated += 1,
                    None => {}
                }
                parts.pacer.after_success(&written.rate_limit);
                return Ok(None);
            }
            Err(WriteError::RateLimited(retry_at)) => parts.pacer.after_rate_limited(retry_at),
            Err(WriteError::Row(reason)) => {
                let reason = mask(&reason, row.password.expose());
                reject(parts, row.line, &row.id, &reason)?;
                return Ok(None);
            }
            Err(WriteError::Fatal(message)) => {
                return Ok(Some(End::Failed {
                    line: row.line,
                    message: mask(&message, row.password.expose()),
                }));
            }
        }
    }
}

/// Writes a rejected row and says so.
fn reject(parts: &mut Parts<'_>, line: u64, id: &str, reason: &str) -> io::Result<()> {
    parts.rejects.write(line, id, reason)?;
    parts
        .progress
        .note(&format!("line {line}: rejected ({reason})"));
    Ok(())
}

#[cfg(test)]
mod tests;
