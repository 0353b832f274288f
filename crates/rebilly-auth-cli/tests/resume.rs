//! SIGINT in the middle of a 5,000-row import, at a seeded random row, then the same command
//! again: exactly 5,000 credentials, and no row the journal holds was sent again (the PUTs in
//! the emulator's request journal are counted).
#![cfg(unix)]

mod common;

use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{Emulator, journal_ids, journals, run, scratch, write_csv};

const ROWS: usize = 5000;

/// The seed of the row the test stops at: `REBILLY_AUTH_CLI_TEST_SEED`, else a fixed one.
fn seed() -> u64 {
    std::env::var("REBILLY_AUTH_CLI_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(27)
}

#[test]
fn an_import_interrupted_at_a_random_row_resumes_with_no_row_lost_or_sent_twice() {
    let emulator = Emulator::start(&["--rate-limit", "1000000"]);
    let dir = scratch("resume");
    let input = dir.join("credentials.csv");
    write_csv(&input, ROWS, 7);
    let seed = seed();
    let stop_at = fastrand::Rng::with_seed(seed).usize(200..ROWS - 500);

    let mut child = emulator
        .cli()
        .arg("import-credentials")
        .arg(&input)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let done = journals(&input).first().map_or(0, |j| journal_ids(j).len());
        if done >= stop_at {
            let status = std::process::Command::new("kill")
                .args(["-INT", &child.id().to_string()])
                .status()
                .unwrap();
            assert!(status.success());
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the import ended before row {stop_at} (seed {seed})"
        );
        assert!(Instant::now() < deadline, "no progress (seed {seed})");
        std::thread::sleep(Duration::from_millis(2));
    }
    let status = child.wait().unwrap();
    let (stdout, stderr) = (out.join().unwrap(), err.join().unwrap());
    assert_eq!(status.code(), Some(130), "seed {seed}\n{stdout}\n{stderr}");
    assert!(
        stderr.contains("Run the same command again to resume"),
        "{stderr}"
    );

    let [journal] = &journals(&input)[..] else {
        panic!("one journal beside the input")
    };
    let first_run = journal_ids(journal);
    let (puts_first, _) = emulator.puts();
    // The row in flight at the signal finished and was journalled: every PUT sent is there.
    assert_eq!(
        puts_first,
        first_run.len(),
        "seed {seed}: PUTs sent vs rows journalled"
    );
    assert!(
        first_run.len() >= stop_at && first_run.len() < ROWS,
        "seed {seed}"
    );

    let (code, stdout, stderr) = run(emulator.cli().arg("import-credentials").arg(&input));
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!(
            "skipped:  {} (already in the journal)",
            first_run.len()
        )),
        "{stdout}"
    );
    let (puts_total, _) = emulator.puts();
    assert_eq!(
        puts_total - puts_first,
        ROWS - first_run.len(),
        "seed {seed}: the resumed run sent exactly the rows not journalled"
    );
    assert_eq!(emulator.credential_count(), ROWS as u64, "seed {seed}");
    let all = journal_ids(journal);
    assert_eq!(all.len(), ROWS);
    let unique: std::collections::HashSet<&String> = all.iter().collect();
    assert_eq!(unique.len(), ROWS, "no id journalled twice");
    assert_eq!(&all[..first_run.len()], &first_run[..]);
}
