//! Pacing: 50 rows against an emulator allowing 20 writes per 10 emulated minutes finish with
//! no row rejected. The test advances the emulator's clock each time the import says it
//! waits; the import's waits are capped by its hidden test setting, so it sends the row again
//! soon rather than sleeping ten real minutes.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::Stdio;

use common::{Emulator, scratch, write_csv};

#[test]
fn fifty_rows_at_a_rate_limit_of_twenty_finish_with_no_row_rejected() {
    let emulator = Emulator::start(&["--rate-limit", "20"]);
    let dir = scratch("pacing");
    let input = dir.join("credentials.csv");
    write_csv(&input, 50, 11);
    let mut child = emulator
        .cli()
        .arg("import-credentials")
        .arg(&input)
        .env("REBILLY_AUTH_CLI_PAUSE_CAP_MS", "20")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let mut stderr = String::new();
    let mut waits_seen = 0;
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        if line.starts_with("rate limit: waiting until") {
            waits_seen += 1;
            emulator.advance_clock(601);
        }
        stderr.push_str(&line);
        stderr.push('\n');
    }
    let status = child.wait().unwrap();
    let stdout = out.join().unwrap();
    assert_eq!(status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("written:  50 "), "{stdout}");
    assert!(stdout.contains("rejected: 0"), "{stdout}");
    assert!(!input.with_file_name("credentials.csv.rejects.csv").exists());
    assert_eq!(emulator.credential_count(), 50);
    // 50 rows in windows of 20: at least two waits.
    assert!(waits_seen >= 2, "{stderr}");
    let (puts, limited) = emulator.puts();
    assert_eq!(puts - limited, 50, "each row written once");
}
