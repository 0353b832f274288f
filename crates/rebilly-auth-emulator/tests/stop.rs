//! Issue 23, item 3: SIGTERM stops the binary within a bound whatever it is doing, and a
//! trickled request body is cut off at `--body-timeout`.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;

const SK: (&str, &str) = ("REB-APIKEY", "sk_test");

/// A request head declaring a 100 kB body, then one byte every 50 ms until the server closes.
fn trickle(addr: std::net::SocketAddr) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        let head = format!(
            "POST {ORG}/credentials HTTP/1.1\r\nHost: 127.0.0.1\r\nREB-APIKEY: sk_test\r\n\
             Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{{"
        );
        stream.write_all(head.as_bytes()).unwrap();
        let mut reader = stream.try_clone().unwrap();
        std::thread::spawn(move || {
            while stream.write_all(b" ").is_ok() {
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        reader
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut answer = Vec::new();
        let _ = reader.read_to_end(&mut answer);
        answer
    })
}

#[test]
fn a_trickled_body_is_cut_off_at_the_body_timeout() {
    let emu = Emulator::start_with_org("sk_test", &["--body-timeout", "0.5"]);
    let started = Instant::now();
    let answer = trickle(emu.addr).join().unwrap();
    assert!(
        answer.starts_with(b"HTTP/1.1 408"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    let bad = Command::new(env!("CARGO_BIN_EXE_rebilly-auth-emulator"))
        .args(["--body-timeout", "-1"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

/// The worst requests at once (a hostile pattern with a password at the cap and one far over
/// it, a trickled body), then SIGTERM: the binary exits well within 10 s. Before the fix a long
/// password against a lookahead pattern held the state lock and both runtime workers, and
/// SIGTERM went unanswered for 30 s and more.
#[test]
fn sigterm_stops_the_binary_whatever_it_is_doing() {
    let mut emu = Emulator::start_with_org("sk_test", &[]);
    let options = emu.send(
        "PUT",
        &format!("{ORG}/authentication-options"),
        &[SK],
        Some(r#"{"passwordPattern": "/^(?=.*(?=.*(?=[a-z]*[0-9])))/"}"#),
    );
    assert_eq!(options.status, 200, "{options:?}");
    let addr = emu.addr;
    let _trickling = trickle(addr);
    for length in [256, 300_000, 256, 300_000] {
        let host = emu.host();
        std::thread::spawn(move || {
            let body = format!(
                r#"{{"username":"u{length}","password":"{}","customerId":"cus_1"}}"#,
                "a".repeat(length)
            );
            let request = format!(
                "POST {ORG}/credentials HTTP/1.1\r\nHost: {host}\r\nREB-APIKEY: sk_test\r\n\
                 Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            if let Ok(mut stream) = TcpStream::connect(addr) {
                let _ = stream.write_all(request.as_bytes());
                let mut sink = Vec::new();
                let _ = stream.read_to_end(&mut sink);
            }
        });
    }
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    let status = emu.terminate_within(Duration::from_secs(10));
    assert!(status.is_some(), "still running 10 s after SIGTERM");
    eprintln!("stopped {:?} after SIGTERM", started.elapsed());
}
