//! What the CLI's tests share: the emulator binary as a child process (its control API read
//! over a few lines of plain HTTP), the `rebilly-auth` binary pointed at it, scratch
//! directories and generated input files.
//!
//! The emulator binary is `$REBILLY_AUTH_EMULATOR_BIN` if set, else `rebilly-auth-emulator`
//! beside the `rebilly-auth` binary, built with `cargo build -p rebilly-auth-emulator` when
//! missing (`cargo test --workspace` builds it anyway).
#![allow(dead_code, unreachable_pub, missing_docs)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

pub const ORG: &str = "org";
pub const SECRET_KEY: &str = "sk_cli_tests";

/// The `rebilly-auth` binary under test.
pub const CLI: &str = env!("CARGO_BIN_EXE_rebilly-auth");

/// The emulator binary.
fn emulator_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("REBILLY_AUTH_EMULATOR_BIN") {
        return path.into();
    }
    let path = Path::new(CLI)
        .parent()
        .expect("the binary's directory")
        .join(format!(
            "rebilly-auth-emulator{}",
            std::env::consts::EXE_SUFFIX
        ));
    if !path.exists() {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args([
                "build",
                "-p",
                "rebilly-auth-emulator",
                "--bin",
                "rebilly-auth-emulator",
            ])
            .status()
            .expect("cargo runs");
        assert!(
            status.success(),
            "cargo build -p rebilly-auth-emulator failed"
        );
    }
    path
}

/// The emulator binary, running; killed when dropped.
pub struct Emulator {
    child: Child,
    pub addr: SocketAddr,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Emulator {
    /// Starts the binary with organization [`ORG`] / [`SECRET_KEY`] and `more` arguments.
    pub fn start(more: &[&str]) -> Emulator {
        let mut child = Command::new(emulator_binary())
            .args([
                "--port",
                "0",
                "--organization",
                ORG,
                "--secret-key",
                SECRET_KEY,
            ])
            .args(more)
            .env_remove("REBILLY_EMULATOR_CONTROL_TOKEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the emulator starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = tx.send(lines.next().and_then(Result::ok));
            for _ in lines {}
        });
        let first = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the emulator prints its address")
            .expect("a first line");
        let addr = first
            .strip_prefix("listening on http://")
            .expect(&first)
            .parse()
            .unwrap();
        Emulator { child, addr }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// One HTTP/1.1 request; the status and the body.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> (u16, String) {
        let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.addr);
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        let body = body.unwrap_or("");
        request.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ));
        let mut stream = TcpStream::connect(self.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw);
        let text = String::from_utf8_lossy(&raw).into_owned();
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let body = if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            dechunk(body)
        } else {
            body.to_owned()
        };
        (status, body)
    }

    /// A control API GET, as JSON.
    pub fn control(&self, path: &str) -> Value {
        let (status, body) = self.request("GET", &format!("/__emulator{path}"), &[], None);
        assert_eq!(status, 200, "{path}: {body}");
        serde_json::from_str(&body).unwrap()
    }

    /// Moves the emulator's clock forward.
    pub fn advance_clock(&self, seconds: u64) {
        let (status, body) = self.request(
            "POST",
            "/__emulator/clock/advance",
            &[("X-Emulator-Control", "1")],
            Some(&format!("{{\"seconds\": {seconds}}}")),
        );
        assert_eq!(status, 200, "{body}");
    }

    /// The `PUT /credentials/{id}` requests in the request journal: (all, answered 429).
    pub fn puts(&self) -> (usize, usize) {
        let journal = self.control("/journal");
        let puts: Vec<&Value> = journal
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["operation"] == "PutCredential")
            .collect();
        let limited = puts.iter().filter(|e| e["status"] == 429).count();
        (puts.len(), limited)
    }

    /// How many credentials the organization holds.
    pub fn credential_count(&self) -> u64 {
        let overview = self.control("/overview");
        overview["organizations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["id"] == ORG)
            .expect("the organization")["credentialCount"]
            .as_u64()
            .unwrap()
    }

    /// Logs `username` in (raw HTTP): the token's value.
    pub fn login(&self, username: &str, password: &str) -> String {
        let body =
            serde_json::json!({"mode": "password", "username": username, "password": password});
        let (status, answer) = self.request(
            "POST",
            &format!("/organizations/{ORG}/authentication-tokens"),
            &[("REB-APIKEY", SECRET_KEY)],
            Some(&body.to_string()),
        );
        assert_eq!(status, 201, "{answer}");
        let answer: Value = serde_json::from_str(&answer).unwrap();
        answer["token"].as_str().unwrap().to_owned()
    }

    /// The `rebilly-auth` command pointed at this emulator.
    pub fn cli(&self) -> Command {
        let mut command = Command::new(CLI);
        command
            .env("REBILLY_API_URL", self.url())
            .env("REBILLY_ORGANIZATION_ID", ORG)
            .env("REBILLY_SECRET_KEY", SECRET_KEY)
            .stdin(Stdio::null());
        command
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// The `rebilly-auth` command with no target in its environment.
pub fn cli_without_target() -> Command {
    let mut command = Command::new(CLI);
    command
        .env_remove("REBILLY_API_URL")
        .env_remove("REBILLY_ORGANIZATION_ID")
        .env_remove("REBILLY_SECRET_KEY")
        .stdin(Stdio::null());
    command
}

/// A fresh scratch directory for test `name`.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rebilly-auth-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The password of generated row `i` (seeded, so a leak check knows every one).
pub fn password(seed: u64, i: usize) -> String {
    let mut rng = fastrand::Rng::with_seed(seed.wrapping_add(i as u64));
    let tail: String = (0..12).map(|_| rng.alphanumeric()).collect();
    format!("Pw-{i}-{tail}")
}

/// Writes a CSV of `rows` generated credentials; returns the passwords.
pub fn write_csv(path: &Path, rows: usize, seed: u64) -> Vec<String> {
    let mut text = String::from("id,username,password,customer id,expiry\n");
    let mut passwords = Vec::with_capacity(rows);
    for i in 0..rows {
        let password = password(seed, i);
        text.push_str(&format!(
            "cred-{i},user{i}@example.com,{password},cus_{i},\n"
        ));
        passwords.push(password);
    }
    std::fs::write(path, text).unwrap();
    passwords
}

/// The journal files beside `input`.
pub fn journals(input: &Path) -> Vec<PathBuf> {
    let name = input.file_name().unwrap().to_str().unwrap().to_owned();
    let mut found: Vec<PathBuf> = std::fs::read_dir(input.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let file = p.file_name().unwrap().to_str().unwrap();
            file.starts_with(&name) && file.ends_with(".journal")
        })
        .collect();
    found.sort();
    found
}

/// The ids in a journal (header lines left out).
pub fn journal_ids(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// Runs `command` to its end: status, stdout, stderr.
pub fn run(command: &mut Command) -> (Option<i32>, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().expect("the binary runs");
    (
        status.code(),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}
