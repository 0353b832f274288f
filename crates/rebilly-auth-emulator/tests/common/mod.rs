//! Helpers of the binary's tests: start it as a child process, and a plain HTTP/1.1 client
//! over loopback TCP (no SDK types, as a tester in another language would).
#![allow(dead_code, unreachable_pub, missing_docs)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Where the API's paths of organization `org` start.
pub const ORG: &str = "/organizations/org";

/// An RFC 3339 date-time of an answer, such as `expiredTime`.
pub fn time_of(value: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(value.as_str().unwrap(), &Rfc3339).unwrap()
}

/// The binary, running; killed when dropped. Its standard error (the request lines) is
/// kept, and printed when the test panics.
pub struct Emulator {
    pub child: Child,
    pub addr: SocketAddr,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "the binary's standard error:\n{}",
                self.stderr_lines().join("\n")
            );
        }
    }
}

impl Emulator {
    /// Starts the binary with `args` and waits (at most 60 s) for its `listening on` line.
    /// `RUST_LOG` is removed from its environment.
    pub fn start(args: &[&str]) -> Emulator {
        Emulator::start_with_env(args, &[])
    }

    /// [`Emulator::start`], with `env` added to the binary's environment.
    pub fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Emulator {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rebilly-auth-emulator"))
            .args(args)
            .env_remove("REBILLY_EMULATOR_CONTROL_TOKEN")
            .env_remove("RUST_LOG")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&stderr);
        let pipe = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                kept.lock().unwrap_or_else(|e| e.into_inner()).push(line);
            }
        });
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let first = lines.next().and_then(Result::ok);
            let _ = tx.send(first);
            // Keep draining so that the child never blocks on a full pipe.
            for _ in lines {}
        });
        let first = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the binary prints its address")
            .expect("a first line");
        let url = first.strip_prefix("listening on http://").expect(&first);
        let addr: SocketAddr = url.parse().unwrap();
        Emulator {
            child,
            addr,
            stderr,
        }
    }

    /// The lines of standard error so far.
    pub fn stderr_lines(&self) -> Vec<String> {
        self.stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Waits (at most 10 s) until standard error holds at least `count` lines, and returns
    /// them (fewer if they never come): a reader thread collects them from the pipe.
    pub fn wait_for_stderr_lines(&self, count: usize) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let lines = self.stderr_lines();
            if lines.len() >= count || Instant::now() >= deadline {
                return lines;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts the binary with organization `org` and its `secret_key`, then `more` arguments.
    pub fn start_with_org(secret_key: &str, more: &[&str]) -> Emulator {
        let mut args = vec![
            "--port",
            "0",
            "--organization",
            "org",
            "--secret-key",
            secret_key,
        ];
        args.extend_from_slice(more);
        Emulator::start(&args)
    }

    /// `127.0.0.1:PORT`, as a `Host` header names it.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.addr.port())
    }

    /// Sends one request (`Host` is the loopback address unless `headers` gives one).
    pub fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Answer {
        let mut request = format!("{method} {path} HTTP/1.1\r\n");
        if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
            request.push_str(&format!("Host: {}\r\n", self.host()));
        }
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        if let Some(body) = body {
            request.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        request.push_str("Connection: close\r\n\r\n");
        request.push_str(body.unwrap_or(""));
        let mut stream = TcpStream::connect(self.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw);
        Answer::parse(&raw)
    }

    /// `POST {ORG}/credentials` with `body`, authenticated by the `key` header.
    pub fn create_credential(&self, key: (&str, &str), body: &str) -> Answer {
        self.send("POST", &format!("{ORG}/credentials"), &[key], Some(body))
    }

    /// A login, `POST {ORG}/authentication-tokens` with `body`, authenticated by the `key`
    /// header.
    pub fn login(&self, key: (&str, &str), body: &str) -> Answer {
        let path = format!("{ORG}/authentication-tokens");
        self.send("POST", &path, &[key], Some(body))
    }

    /// A control request (`X-Emulator-Control: 1` on writes).
    pub fn control(&self, method: &str, path: &str, body: Option<&str>) -> Answer {
        let headers: &[(&str, &str)] = if method == "GET" {
            &[]
        } else {
            &[("X-Emulator-Control", "1")]
        };
        self.send(method, &format!("/__emulator{path}"), headers, body)
    }

    /// Sends SIGTERM and waits at most `bound` for the exit status (`None`: still running).
    pub fn terminate_within(&mut self, bound: Duration) -> Option<ExitStatus> {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let deadline = Instant::now() + bound;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Sends SIGTERM and waits (at most 30 s) for the exit status.
    pub fn terminate(&mut self) -> ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the binary did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// An HTTP/1.1 answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    /// Lower-cased names.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    fn parse(raw: &[u8]) -> Answer {
        let text = String::from_utf8_lossy(raw).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        Answer {
            status,
            headers,
            body: body.to_owned(),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn has_cors_headers(&self) -> bool {
        self.headers
            .iter()
            .any(|(n, _)| n.starts_with("access-control-"))
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("{} is not JSON ({e}): {}", self.status, self.body))
    }
}
