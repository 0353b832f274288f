//! The emulator binary as a child process, and a blocking client over `UreqTransport` to it.
//!
//! The binary is `$REBILLY_AUTH_EMULATOR_BIN` if set, else `rebilly-auth-emulator` in this
//! test's target directory, built with `cargo build -p rebilly-auth-emulator` when missing.
#![allow(dead_code, unreachable_pub, missing_docs)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use rebilly_auth_ureq::{BlockingClient, UreqTransport};
use serde_json::Value;

pub const ORG: &str = "org";
pub const SECRET_KEY: &str = "sk_blocking";

/// The emulator binary: from the environment, or next to this test's `deps` directory.
fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("REBILLY_AUTH_EMULATOR_BIN") {
        return path.into();
    }
    let exe = std::env::current_exe().expect("the test's path");
    // target/<profile>/deps/<test> → target/<profile>/rebilly-auth-emulator
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir");
    let path = profile_dir.join(format!(
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

/// The binary, running; killed when dropped.
pub struct Emulator {
    child: Child,
    pub addr: SocketAddr,
    control: ureq::Agent,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Emulator {
    /// Starts the binary with organization `org` / `sk_blocking` and `more` arguments, and
    /// waits (at most 60 s) for its `listening on` line.
    pub fn start(more: &[&str]) -> Emulator {
        let mut child = Command::new(binary())
            .args([
                "--port",
                "0",
                "--organization",
                ORG,
                "--secret-key",
                SECRET_KEY,
            ])
            .args(["--seed", "7"])
            .args(more)
            .env_remove("REBILLY_EMULATOR_CONTROL_TOKEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the emulator binary starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = tx.send(lines.next().and_then(Result::ok));
            for _ in lines {}
        });
        let first = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the binary prints its address")
            .expect("a first line");
        let addr = first
            .strip_prefix("listening on http://")
            .expect(&first)
            .parse()
            .unwrap();
        let control = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .build()
            .new_agent();
        Emulator {
            child,
            addr,
            control,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A blocking client over a default `UreqTransport` (no proxy) to this emulator.
    pub fn client(&self) -> BlockingClient {
        BlockingClient::builder()
            .server_url(self.url())
            .organization(ORG)
            .secret_key(SECRET_KEY)
            .transport(UreqTransport::builder().no_proxy().build().unwrap())
            .build()
            .unwrap()
    }

    /// A control request; its status and JSON body.
    pub fn control(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}/__emulator{path}", self.url());
        let request = http::Request::builder()
            .method(method)
            .uri(url)
            .header("X-Emulator-Control", "1")
            .header("Content-Type", "application/json");
        let response = match body {
            Some(body) => self.control.run(request.body(body.to_string()).unwrap()),
            None => self.control.run(request.body(()).unwrap()),
        };
        let mut response = response.expect("the control API answers");
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Injects a fault `times` times on `operation`.
    pub fn fault(&self, operation: &str, fault: Value, times: u64) {
        let body = serde_json::json!({"operation": operation, "fault": fault, "times": times});
        let (status, answer) = self.control("POST", "/faults", Some(body));
        assert!((200..300).contains(&status), "{status} {answer}");
    }

    /// How many requests of `operation` the emulator's journal holds.
    pub fn journalled(&self, operation: &str) -> usize {
        let (status, journal) = self.control("GET", "/journal", None);
        assert_eq!(status, 200, "{journal}");
        journal
            .as_array()
            .expect("a journal array")
            .iter()
            .filter(|entry| entry["operation"] == operation)
            .count()
    }
}
