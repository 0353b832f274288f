//! A scripted fake transport, and clients on it with core's test time, for core's tests.
#![allow(dead_code, unreachable_pub)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;
use rebilly_auth_core::test_util::{InstantSleep, ManualClock, instant_time_and_sleep};
use rebilly_auth_core::{Client, HttpTransport, RetryPolicy, TransportError};

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

/// The tests' time: core's manual clock at 1,700,000,000 s after the epoch
/// (2023-11-14T22:13:20Z) and an instant sleep that advances it and remembers each wait.
pub fn test_time() -> (ManualClock, InstantSleep) {
    instant_time_and_sleep(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000))
}

/// A client on `fake` with the default retry policy (3 attempts), waiting with `sleep` and
/// reading `clock`.
pub fn retrying_client_with(fake: &Arc<Fake>, clock: &ManualClock, sleep: &InstantSleep) -> Client {
    Client::builder()
        .server_url(ROOT)
        .organization("org_1")
        .secret_key(SECRET_KEY)
        .retry_policy(RetryPolicy::default().max_attempts(3))
        .sleep(Arc::new(sleep.clone()))
        .clock(Arc::new(clock.clone()))
        .transport(fake.clone())
        .build()
        .unwrap()
}

/// [`retrying_client_with`] whose sleeps end at once but leave its clock where it is
/// (they advance a clock of their own): deadlines that race (the attempt's and the call's)
/// then do not eat into each other, and the client's clock stays at [`test_time`]'s start.
pub fn retrying_client(fake: &Arc<Fake>) -> Client {
    let (clock, _) = test_time();
    let (_, sleep) = test_time();
    retrying_client_with(fake, &clock, &sleep)
}

/// A client on `fake` with no retries and instant sleeps (a deadline fires only once the
/// transport is pending: the fake answers at once unless told to hang).
pub fn client(fake: &Arc<Fake>) -> Client {
    let (clock, sleep) = test_time();
    Client::builder()
        .server_url(ROOT)
        .organization("org_1")
        .secret_key(SECRET_KEY)
        .retry_policy(RetryPolicy::none())
        .sleep(Arc::new(sleep))
        .clock(Arc::new(clock))
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
