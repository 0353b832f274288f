//! `import-credentials FILE`: reads the file, opens the journal and the rejects file beside
//! it, installs the Ctrl-C flag, runs the import loop, and reports how it ended and how to
//! resume.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use rebilly_auth_core::blocking::BlockingClient;

use super::{EXIT_FAILURE, EXIT_INCOMPLETE, EXIT_INTERRUPTED, announce};
use crate::connect::CredentialWriter;
use crate::import::{End, Parts, Summary, import};
use crate::input::{self, Format};
use crate::interrupt::Interrupt;
use crate::journal::{self, Journal, TargetKey};
use crate::pacing::{Pacer, SleepPause};
use crate::progress::Progress;
use crate::rejects::Rejects;
use crate::target::Target;

/// A hidden setting for tests: the longest single rate-limit wait, in milliseconds. With an
/// emulator whose clock a test advances, the import then sends the row again soon instead of
/// sleeping through ten real minutes.
const PAUSE_CAP_ENV: &str = "REBILLY_AUTH_CLI_PAUSE_CAP_MS";

fn failed(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("{message}");
    ExitCode::from(EXIT_FAILURE)
}

/// Runs the import of `file` against `target`.
pub(super) fn run(
    target: &Target,
    client: BlockingClient,
    file: &Path,
    format: Option<Format>,
) -> ExitCode {
    let records = match input::format_of(file, format).and_then(|f| input::read(file, f)) {
        Ok(records) => records,
        Err(error) => return failed(error),
    };
    announce(target);
    let interrupt = match Interrupt::install() {
        Ok(interrupt) => interrupt,
        Err(error) => return failed(format_args!("cannot watch for Ctrl-C: {error}")),
    };
    // The embedded emulator's state ends with the process: there is nothing to resume.
    let mut journal = if target.embedded {
        None
    } else {
        let key = TargetKey::new(&target.url, &target.organization);
        match Journal::open(&journal::path_for(file, &key), &key) {
            Ok(journal) => Some(journal),
            Err(error) => return failed(format_args!("cannot open the journal: {error}")),
        }
    };
    if let Some(journal) = journal.as_ref().filter(|j| j.len() > 0) {
        eprintln!(
            "resuming: {} row(s) already done in {} are skipped",
            journal.len(),
            journal.path().display()
        );
    }
    let mut rejects = match Rejects::new(input::beside(file, ".rejects.csv")) {
        Ok(rejects) => rejects,
        Err(error) => return failed(format_args!("cannot replace the rejects file: {error}")),
    };
    let cap = std::env::var(PAUSE_CAP_ENV)
        .ok()
        .and_then(|ms| ms.parse().ok())
        .map(Duration::from_millis);
    let mut pacer = Pacer::with_pause(Box::new(SleepPause {
        interrupt: interrupt.clone(),
        cap,
    }));
    let mut progress = Progress::new(records.len() as u64);
    let started = Instant::now();
    let outcome = import(
        records,
        &mut CredentialWriter { client },
        Parts {
            journal: journal.as_mut(),
            rejects: &mut rejects,
            pacer: &mut pacer,
            progress: &mut progress,
            interrupt: &interrupt,
        },
    );
    let (summary, end) = match outcome {
        Ok(done) => done,
        Err(error) => {
            return failed(format_args!(
                "stopped: cannot write the journal or the rejects file: {error}"
            ));
        }
    };
    print_summary(&summary, started.elapsed(), &rejects);
    let journal_path = journal.as_ref().map(|j| j.path().display().to_string());
    match end {
        End::Finished if summary.rejected > 0 => {
            eprintln!(
                "fix the rejected rows in {} and run the same command again: rows done are skipped",
                file.display()
            );
            ExitCode::from(EXIT_INCOMPLETE)
        }
        End::Finished => ExitCode::SUCCESS,
        End::Interrupted { next_line } => {
            match journal_path {
                Some(path) => eprintln!(
                    "interrupted before line {next_line}: every row before it is done, and \
                     journalled in {path}.\nRun the same command again to resume: the rows in \
                     the journal are skipped and never sent again."
                ),
                None => eprintln!(
                    "interrupted before line {next_line}; the embedded emulator's state ends \
                     with this process, so there is nothing to resume"
                ),
            }
            ExitCode::from(EXIT_INTERRUPTED)
        }
        End::Failed { line, message } => {
            eprintln!("stopped at line {line}: {message}");
            if let Some(path) = journal_path {
                eprintln!(
                    "rows done are journalled in {path}; fix the cause and run the same command \
                     again to resume"
                );
            }
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// The run's figures, on standard output.
fn print_summary(summary: &Summary, elapsed: Duration, rejects: &Rejects) {
    let seconds = elapsed.as_secs_f64();
    let rate = if seconds > 0.0 {
        summary.written as f64 / seconds
    } else {
        0.0
    };
    println!(
        "written:  {} ({} created, {} replaced)",
        summary.written, summary.created, summary.updated
    );
    println!("skipped:  {} (already in the journal)", summary.skipped);
    if summary.rejected > 0 {
        println!(
            "rejected: {} (see {})",
            summary.rejected,
            rejects.path().display()
        );
    } else {
        println!("rejected: 0");
    }
    println!("rate-limit waits: {}", summary.waits);
    println!("elapsed:  {seconds:.2} s ({rate:.0} rows/s written)");
}
