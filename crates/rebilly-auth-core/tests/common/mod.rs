//! A scripted fake transport and a fake clock for core's tests.
#![allow(dead_code, unreachable_pub)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;
use rebilly_auth_core::{
    Client, Clock, HttpTransport, RetryPolicy, Sleep, SleepFuture, TransportError,
};

pub const SECRET_KEY: &str = "sk_test_TOPSECRET_KEY";
pub const ROOT: &str = "https://api.test";

pub type Reply = Result<http::Response<Bytes>, TransportError>;

/// Answers from a queue and records every request.
#[derive(Default)]
pub struct Fake {
    replies: Mutex<VecDeque<Box<dyn FnOnce() -> Reply + Send>>>,
    pub requests: Mutex<Vec<http::Request<Bytes>>>,
    pub hang: std::sync::atomic::AtomicBool,
}

impl Fake {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub fn reply(&self, status: u16, body: &str) -> &Self {
        self.reply_with(status, &[], body)
    }

    pub fn reply_with(&self, status: u16, headers: &[(&str, &str)], body: &str) -> &Self {
        let mut builder = http::Response::builder().status(status);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        if !body.is_empty() {
            builder = builder.header("content-type", "application/json");
        }
        let response = builder.body(Bytes::from(body.to_owned())).unwrap();
        self.replies
            .lock()
            .unwrap()
            .push_back(Box::new(move || Ok(response)));
        self
    }

    pub fn fail(&self, make: fn() -> TransportError) -> &Self {
        self.replies
            .lock()
            .unwrap()
            .push_back(Box::new(move || Err(make())));
        self
    }

    pub fn count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }

    pub fn last(&self) -> RecordedRequest {
        let requests = self.requests.lock().unwrap();
        let r = requests.last().expect("no request was sent");
        RecordedRequest {
            method: r.method().to_string(),
            uri: r.uri().to_string(),
            headers: r.headers().clone(),
            body: if r.body().is_empty() {
                None
            } else {
                Some(serde_json::from_slice(r.body()).expect("request body is JSON"))
            },
        }
    }
}

pub struct RecordedRequest {
    pub method: String,
    pub uri: String,
    pub headers: http::HeaderMap,
    pub body: Option<serde_json::Value>,
}

impl RecordedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

#[async_trait]
impl HttpTransport for Fake {
    async fn send(&self, request: http::Request<Bytes>) -> Reply {
        self.requests.lock().unwrap().push(request);
        if self.hang.load(std::sync::atomic::Ordering::SeqCst) {
            return std::future::pending().await;
        }
        let reply = self.replies.lock().unwrap().pop_front();
        match reply {
            Some(reply) => reply(),
            None => Err(TransportError::other("unscripted request")),
        }
    }
}

/// A sleep that returns at once and remembers what it was asked; waits of at least
/// `hang_from` never end (to leave a race to the other side).
#[derive(Debug, Default)]
pub struct FakeSleep {
    pub waits: Mutex<Vec<Duration>>,
}

impl Sleep for FakeSleep {
    fn sleep(&self, duration: Duration) -> SleepFuture {
        self.waits.lock().unwrap().push(duration);
        Box::pin(async {
            // Let a ready transport future win the race.
            tokio::task::yield_now().await;
        })
    }
}

/// A sleep that never completes: timeouts never fire.
#[derive(Debug, Default)]
pub struct NeverSleep {
    pub waits: Mutex<Vec<Duration>>,
}

impl Sleep for NeverSleep {
    fn sleep(&self, duration: Duration) -> SleepFuture {
        self.waits.lock().unwrap().push(duration);
        Box::pin(std::future::pending())
    }
}

#[derive(Debug)]
pub struct FixedClock(pub SystemTime);

impl Clock for FixedClock {
    fn now(&self) -> SystemTime {
        self.0
    }
}

/// A client on `fake` with the default retry policy (3 attempts), `sleep` to wait with, and a
/// clock fixed at 1,700,000,000 s after the epoch.
pub fn retrying_client(fake: &Arc<Fake>, sleep: Arc<FakeSleep>) -> Client {
    Client::builder()
        .server_url(ROOT)
        .organization("org_1")
        .secret_key(SECRET_KEY)
        .retry_policy(RetryPolicy::default().max_attempts(3))
        .sleep(sleep)
        .clock(Arc::new(FixedClock(
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        )))
        .transport(fake.clone())
        .build()
        .unwrap()
}

/// A client on `fake` with no retries and no timeouts firing.
pub fn client(fake: &Arc<Fake>) -> Client {
    Client::builder()
        .server_url(ROOT)
        .organization("org_1")
        .secret_key(SECRET_KEY)
        .retry_policy(RetryPolicy::none())
        .sleep(Arc::new(NeverSleep::default()))
        .transport(fake.clone())
        .build()
        .unwrap()
}

pub fn block_on<F: std::future::IntoFuture>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f.into_future())
}
