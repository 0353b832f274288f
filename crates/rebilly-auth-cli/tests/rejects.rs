//! Malformed rows (CSV and JSON Lines) and a row the API refuses go to the rejects file with
//! their line and id, and the run goes on with the rows after them.

mod common;

use common::{Emulator, run, scratch};

#[test]
fn malformed_csv_rows_go_to_the_rejects_file_and_the_run_goes_on() {
    let emulator = Emulator::start(&[]);
    let dir = scratch("rejects-csv");
    let input = dir.join("in.csv");
    std::fs::write(
        &input,
        "id,username,password,customer id,expiry\n\
         c1,ada@example.com,Pw-one-1,cus_1,\n\
         c2,bob@example.com,Pw-two-2\n\
         c3,cy@example.com,Pw-three-3,cus_3,not a date\n\
         c4,ada@example.com,Pw-four-4,cus_4,\n\
         c5,dee@example.com,Pw-five-5,cus_5,2031-02-03T04:05:06Z\n\
         bad id!,eve@example.com,Pw-six-6,cus_6,\n",
    )
    .unwrap();
    let (code, stdout, stderr) = run(emulator.cli().arg("import-credentials").arg(&input));
    assert_eq!(code, Some(3), "{stdout}\n{stderr}");
    assert!(stdout.contains("written:  2 "), "{stdout}");
    assert!(stdout.contains("rejected: 4"), "{stdout}");
    assert_eq!(emulator.credential_count(), 2);
    let rejects = std::fs::read_to_string(dir.join("in.csv.rejects.csv")).unwrap();
    let lines: Vec<&str> = rejects.lines().collect();
    assert_eq!(lines[0], "line,id,reason");
    assert!(lines[1].starts_with("3,c2,"), "{rejects}");
    assert!(lines[2].starts_with("4,c3,the expiry"), "{rejects}");
    // The API refused a second credential with the same username.
    assert!(
        lines[3].starts_with("5,c4,PutCredential: the server answered"),
        "{rejects}"
    );
    // The SDK refused the id before sending anything.
    assert!(
        lines[4].starts_with("7,bad id!,\"invalid credential id: may hold only"),
        "{rejects}"
    );
    assert_eq!(lines.len(), 5, "{rejects}");
    assert!(stderr.contains("fix the rejected rows"), "{stderr}");
}

#[test]
fn a_malformed_json_line_goes_to_the_rejects_file_and_the_run_goes_on() {
    let emulator = Emulator::start(&[]);
    let dir = scratch("rejects-jsonl");
    let input = dir.join("in.jsonl");
    std::fs::write(
        &input,
        concat!(
            "{\"id\":\"j1\",\"username\":\"ada@example.com\",\"password\":\"Pw-j1-1\",\"customerId\":\"cus_1\"}\n",
            "{\"id\":\"j2\",\"username\":\"bob@example.com\",\"password\":\"Pw-j2-2\"\n",
            "{\"id\":\"j3\",\"username\":\"cy@example.com\",\"password\":\"Pw-j3-3\",\"customerId\":\"cus_3\",\"expiredTime\":\"2031-01-01T00:00:00Z\"}\n",
        ),
    )
    .unwrap();
    let (code, stdout, stderr) = run(emulator.cli().arg("import-credentials").arg(&input));
    assert_eq!(code, Some(3), "{stdout}\n{stderr}");
    assert_eq!(emulator.credential_count(), 2);
    let rejects = std::fs::read_to_string(dir.join("in.jsonl.rejects.csv")).unwrap();
    assert!(rejects.contains("\n2,,not valid JSON"), "{rejects}");
}
