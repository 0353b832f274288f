//! The import loop over a fake writer: journal, rejects, duplicates, 429 waits, a fatal
//! error, Ctrl-C, masking.

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use rebilly_auth_core::Secret;

use super::*;
use crate::journal::{TargetKey, path_for};
use crate::pacing::Pause;

/// Answers from a script, keyed by row id (default: created), and records each call.
#[derive(Default)]
struct FakeWriter {
    script: HashMap<String, Vec<Result<Written, WriteError>>>,
    calls: Vec<String>,
    interrupt_after: Option<(usize, Interrupt)>,
}

impl Writer for FakeWriter {
    fn put(&mut self, row: &Row) -> Result<Written, WriteError> {
        self.calls.push(row.id.clone());
        if let Some((after, interrupt)) = &self.interrupt_after {
            if self.calls.len() == *after {
                interrupt.set();
            }
        }
        match self.script.get_mut(&row.id) {
            Some(answers) if !answers.is_empty() => answers.remove(0),
            _ => Ok(Written {
                created: Some(true),
                rate_limit: RateLimit::default(),
            }),
        }
    }
}

struct NoPause(Rc<RefCell<Vec<Duration>>>);

impl Pause for NoPause {
    fn pause(&self, wait: Duration) {
        self.0.borrow_mut().push(wait);
    }
}

fn row(line: u64, id: &str) -> Record {
    Record::Row(Row {
        line,
        id: id.into(),
        username: format!("user-{id}"),
        password: Secret::new(format!("pw-SECRET-{id}")),
        customer_id: "cus_1".into(),
        expiry: None,
    })
}

struct Fixture {
    input: PathBuf,
    key: TargetKey,
    waits: Rc<RefCell<Vec<Duration>>>,
}

impl Fixture {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "rebilly-auth-cli-import-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Fixture {
            input: dir.join("in.csv"),
            key: TargetKey::new("http://127.0.0.1:9", "org"),
            waits: Rc::default(),
        }
    }

    fn run(
        &self,
        records: Vec<Record>,
        writer: &mut FakeWriter,
        interrupt: &Interrupt,
    ) -> (Summary, End, Journal) {
        let mut journal = Journal::open(&path_for(&self.input, &self.key), &self.key).unwrap();
        let mut rejects = Rejects::new(crate::input::beside(&self.input, ".rejects.csv")).unwrap();
        let start = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let mut pacer = Pacer::new(
            Box::new(NoPause(Rc::clone(&self.waits))),
            Box::new(move || start),
        );
        let mut progress = Progress::lines(records.len() as u64);
        let (summary, end) = import(
            records,
            writer,
            Parts {
                journal: Some(&mut journal),
                rejects: &mut rejects,
                pacer: &mut pacer,
                progress: &mut progress,
                interrupt,
            },
        )
        .unwrap();
        (summary, end, journal)
    }

    fn rejects_text(&self) -> String {
        std::fs::read_to_string(crate::input::beside(&self.input, ".rejects.csv"))
            .unwrap_or_default()
    }
}

#[test]
fn rows_are_written_journalled_and_skipped_on_a_rerun() {
    let fixture = Fixture::new("rerun");
    let records = || vec![row(2, "c1"), row(3, "c2"), row(4, "c3")];
    let mut writer = FakeWriter::default();
    let (summary, end, journal) = fixture.run(records(), &mut writer, &Interrupt::never());
    assert_eq!(end, End::Finished);
    assert_eq!((summary.written, summary.created), (3, 3));
    assert_eq!(journal.len(), 3);
    let mut writer = FakeWriter::default();
    let (summary, _, _) = fixture.run(records(), &mut writer, &Interrupt::never());
    assert_eq!((summary.written, summary.skipped), (0, 3));
    assert!(writer.calls.is_empty());
}

#[test]
fn bad_rows_duplicates_and_refused_rows_go_to_the_rejects_file_and_the_run_goes_on() {
    let fixture = Fixture::new("rejects");
    let records = vec![
        row(2, "c1"),
        Record::Rejected(crate::input::Rejected {
            line: 3,
            id: "c2".into(),
            reason: "missing password".into(),
        }),
        row(4, "c3"),
        row(5, "c1"),
        row(6, "c4"),
    ];
    let mut writer = FakeWriter::default();
    writer.script.insert(
        "c3".into(),
        vec![Err(WriteError::Row(
            "422: password pw-SECRET-c3 does not match".into(),
        ))],
    );
    let (summary, end, journal) = fixture.run(records, &mut writer, &Interrupt::never());
    assert_eq!(end, End::Finished);
    assert_eq!((summary.written, summary.rejected), (2, 3));
    assert!(journal.contains("c4") && !journal.contains("c3"));
    let text = fixture.rejects_text();
    assert!(text.contains("3,c2,missing password"), "{text}");
    assert!(
        text.contains("4,c3,422: password [REDACTED] does not match"),
        "{text}"
    );
    assert!(
        text.contains("5,c1,duplicate id (first on line 2)"),
        "{text}"
    );
    assert!(!text.contains("SECRET"), "{text}");
}

#[test]
fn a_429_waits_and_sends_the_row_again_never_rejecting_it() {
    let fixture = Fixture::new("ratelimit");
    let at = OffsetDateTime::from_unix_timestamp(1_800_000_600).unwrap();
    let mut writer = FakeWriter::default();
    writer.script.insert(
        "c2".into(),
        vec![
            Err(WriteError::RateLimited(Some(at))),
            Err(WriteError::RateLimited(None)),
        ],
    );
    let (summary, end, journal) = fixture.run(
        vec![row(2, "c1"), row(3, "c2")],
        &mut writer,
        &Interrupt::never(),
    );
    assert_eq!(end, End::Finished);
    assert_eq!(
        (summary.written, summary.rejected, summary.waits),
        (2, 0, 2)
    );
    assert_eq!(writer.calls, ["c1", "c2", "c2", "c2"]);
    assert_eq!(
        *fixture.waits.borrow(),
        [Duration::from_secs(600), Duration::from_secs(1)]
    );
    assert_eq!(journal.len(), 2);
}

#[test]
fn a_fatal_error_stops_before_journalling_the_row() {
    let fixture = Fixture::new("fatal");
    let mut writer = FakeWriter::default();
    writer.script.insert(
        "c2".into(),
        vec![Err(WriteError::Fatal("401 for pw-SECRET-c2".into()))],
    );
    let (summary, end, journal) = fixture.run(
        vec![row(2, "c1"), row(3, "c2"), row(4, "c3")],
        &mut writer,
        &Interrupt::never(),
    );
    assert_eq!(
        end,
        End::Failed {
            line: 3,
            message: "401 for [REDACTED]".into()
        }
    );
    assert_eq!(summary.written, 1);
    assert!(!journal.contains("c2"));
    assert_eq!(writer.calls, ["c1", "c2"]);
}

#[test]
fn ctrl_c_finishes_the_row_in_flight_and_a_rerun_sends_each_other_row_once() {
    let fixture = Fixture::new("interrupt");
    let records = || {
        (0..10)
            .map(|i| row(i + 2, &format!("c{i}")))
            .collect::<Vec<_>>()
    };
    let interrupt = Interrupt::never();
    let mut writer = FakeWriter {
        interrupt_after: Some((4, interrupt.clone())),
        ..FakeWriter::default()
    };
    let (summary, end, journal) = fixture.run(records(), &mut writer, &interrupt);
    assert_eq!(end, End::Interrupted { next_line: 6 });
    assert_eq!(summary.written, 4);
    assert_eq!(journal.len(), 4);
    let first: Vec<String> = writer.calls.clone();
    let mut writer = FakeWriter::default();
    let (summary, end, _) = fixture.run(records(), &mut writer, &Interrupt::never());
    assert_eq!(end, End::Finished);
    assert_eq!((summary.written, summary.skipped), (6, 4));
    assert!(writer.calls.iter().all(|id| !first.contains(id)));
}
