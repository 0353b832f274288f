//! [`RecordingTransport`]: the recording fake. Script answers (a FIFO queue, or a closure of
//! the request), let the client send, then assert on what it sent. Every way to script an
//! answer starts with `respond`: [`respond`](RecordingTransport::respond) (a status and a
//! model), [`respond_raw`](RecordingTransport::respond_raw) (a whole response),
//! [`respond_error`](RecordingTransport::respond_error) (a transport failure) and
//! [`respond_with`](RecordingTransport::respond_with) (a closure, once the queue is empty).
//!
//! ```
//! use rebilly_auth_core::models::Credential;
//! use rebilly_auth_testing::recording::{RecordingTransport, empty_response};
//! use serde_json::json;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let fake = RecordingTransport::new();
//! // A typed model, or any `Serialize` (such as `json!`) for hand-written wire JSON.
//! fake.respond(200, &json!({"id": "cus_crd_1", "username": "ada", "customerId": "cus_1"}));
//! fake.respond_raw(empty_response(204));
//! let client = fake.client();
//!
//! let credential: Credential = client.credentials().get("cus_crd_1").await.unwrap();
//! assert_eq!(credential.username, "ada");
//! client.credentials().delete("cus_crd_1").await.unwrap();
//! fake.assert_all_used();
//!
//! let request = fake.requests().remove(0);
//! request
//!     .assert_method(http::Method::GET)
//!     .assert_path("/organizations/org_test/credentials/cus_crd_1")
//!     .assert_header("reb-apikey", "sk_test");
//! // Secrets never print:
//! assert!(!format!("{request:?}").contains("sk_test"));
//! # });
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use bytes::Bytes;
use http::StatusCode;
use rebilly_auth_core::test_util::{ManualClock, instant_time_and_sleep};
use rebilly_auth_core::{Client, HttpTransport, RetryPolicy, TransportError};
use serde_json::Value;

mod request;

pub use request::RecordedRequest;

/// A closure that answers a request.
type Responder =
    Arc<dyn Fn(&RecordedRequest) -> Result<http::Response<Bytes>, TransportError> + Send + Sync>;

/// Builds a JSON response with `Content-Type: application/json`.
///
/// # Panics
/// If `status` is not a valid status code (100..=999).
pub fn json_response(status: u16, value: &Value) -> http::Response<Bytes> {
    http::Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Bytes::from(value.to_string()))
        .expect("a valid status code")
}

/// Builds a response with no body (e.g. a 204).
///
/// # Panics
/// If `status` is not a valid status code (100..=999).
pub fn empty_response(status: u16) -> http::Response<Bytes> {
    http::Response::builder()
        .status(status)
        .body(Bytes::new())
        .expect("a valid status code")
}

/// Builds an RFC 7807 problem response (`application/problem+json`).
pub fn problem_response(status: u16, detail: &str) -> http::Response<Bytes> {
    let title = StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error");
    let mut response = json_response(
        status,
        &serde_json::json!({"type": "about:blank", "title": title, "status": status, "detail": detail}),
    );
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/problem+json"),
    );
    response
}

/// A scripted answer: a response, or a transport failure.
enum Scripted {
    Response(http::Response<Bytes>),
    Error(TransportError),
}

#[derive(Default)]
struct State {
    queue: VecDeque<Scripted>,
    responder: Option<Responder>,
    requests: Vec<RecordedRequest>,
}

/// The recording fake transport. Cloning shares the script and the record (an `Arc`), so keep a
/// clone to assert after the client took ownership of the other.
///
/// Each request is answered by the next queued response, else by the closure set with
/// [`RecordingTransport::respond_with`], else with a [`TransportError`] naming the method and
/// the (redacted) path.
#[derive(Clone, Default)]
pub struct RecordingTransport {
    state: Arc<Mutex<State>>,
}

impl fmt::Debug for RecordingTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("RecordingTransport")
            .field("queued", &state.queue.len())
            .field("has_responder", &state.responder.is_some())
            .field("requests", &state.requests)
            .finish()
    }
}

impl RecordingTransport {
    /// A transport with nothing scripted.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a whole response (see [`json_response`], [`empty_response`],
    /// [`problem_response`]) for the next unanswered request.
    pub fn respond_raw(&self, response: http::Response<Bytes>) -> &Self {
        self.lock().queue.push_back(Scripted::Response(response));
        self
    }

    /// Queues a JSON response whose body is `model`: one of the SDK's response models (such
    /// as `TokenVerification` or `Credential`) or any `Serialize` type, `serde_json::json!`
    /// included for hand-written wire JSON.
    ///
    /// ```
    /// use rebilly_auth_core::models::TokenVerification;
    /// use rebilly_auth_testing::RecordingTransport;
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let fake = RecordingTransport::new();
    /// fake.respond(200, &TokenVerification::new("ada"));
    /// let client = fake.client();
    /// let verified = client.authentication_tokens().verify("tok_1").await?;
    /// assert_eq!(verified.map(|v| v.username).as_deref(), Some("ada"));
    /// # Ok::<_, Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn respond<M: serde::Serialize>(&self, status: u16, model: &M) -> &Self {
        match serde_json::to_value(model) {
            Ok(value) => self.respond_raw(json_response(status, &value)),
            Err(error) => self.respond_error(TransportError::other(format!(
                "the scripted model could not be serialized: {error}"
            ))),
        }
    }

    /// A client over this transport for unit tests, in one line: organization `org_test`,
    /// secret key `sk_test`, no retries (so an unscripted request fails once and is never
    /// retried), core's [`InstantSleep`](rebilly_auth_core::test_util::InstantSleep) (waits end
    /// at once and move the clock) and a [`ManualClock`] reading 2026-01-01T00:00:00Z. Keep
    /// `self` (a clone) to script answers and read requests.
    ///
    /// ```
    /// use rebilly_auth_testing::RecordingTransport;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let fake = RecordingTransport::new();
    /// let client = fake.client();
    /// // No retries: an unscripted request fails once.
    /// assert!(client.authentication_options().get().await.is_err());
    /// assert_eq!(fake.request_count(), 1);
    /// fake.last_request().unwrap()
    ///     .assert_path("/organizations/org_test/authentication-options")
    ///     .assert_header("reb-apikey", "sk_test");
    /// # });
    /// ```
    pub fn client(&self) -> Client {
        self.client_with_clock().0
    }

    /// [`client`](Self::client), and its clock to move by hand (the instant sleep moves it
    /// too).
    ///
    /// ```
    /// use std::time::Duration;
    /// use rebilly_auth_core::Clock;
    /// use rebilly_auth_testing::{ManualClock, RecordingTransport};
    ///
    /// let fake = RecordingTransport::new();
    /// let (_client, clock) = fake.client_with_clock();
    /// assert_eq!(clock.now(), ManualClock::default_start());
    /// clock.advance(Duration::from_secs(60));
    /// assert_eq!(clock.now(), ManualClock::default_start() + Duration::from_secs(60));
    /// ```
    pub fn client_with_clock(&self) -> (Client, ManualClock) {
        let (clock, sleep) = instant_time_and_sleep(ManualClock::default_start());
        let client = Client::builder()
            .organization("org_test")
            .secret_key("sk_test")
            .retry_policy(RetryPolicy::none())
            .sleep(Arc::new(sleep))
            .clock(Arc::new(clock.clone()))
            .transport(self.clone())
            .build();
        match client {
            Ok(client) => (client, clock),
            // The settings above are all valid: this cannot happen.
            Err(error) => unreachable!("the test client's fixed settings are valid: {error}"),
        }
    }

    /// Queues a transport failure.
    pub fn respond_error(&self, error: TransportError) -> &Self {
        self.lock().queue.push_back(Scripted::Error(error));
        self
    }

    /// Answers requests with `responder` once the queue is empty.
    pub fn respond_with<F>(&self, responder: F) -> &Self
    where
        F: Fn(&RecordedRequest) -> Result<http::Response<Bytes>, TransportError>
            + Send
            + Sync
            + 'static,
    {
        self.lock().responder = Some(Arc::new(responder));
        self
    }

    /// A copy of every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.clone()
    }

    /// The most recent request.
    pub fn last_request(&self) -> Option<RecordedRequest> {
        self.lock().requests.last().cloned()
    }

    /// How many requests were received.
    pub fn request_count(&self) -> usize {
        self.lock().requests.len()
    }

    /// How many queued responses are still unused.
    pub fn remaining(&self) -> usize {
        self.lock().queue.len()
    }

    /// Asserts every queued response was used.
    #[track_caller]
    pub fn assert_all_used(&self) {
        let left = self.remaining();
        assert_eq!(left, 0, "{left} scripted response(s) were never requested");
    }

    /// Forgets the recorded requests (the script stays).
    pub fn clear_requests(&self) {
        self.lock().requests.clear();
    }
}

#[async_trait]
impl HttpTransport for RecordingTransport {
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        let (parts, body) = request.into_parts();
        let recorded = RecordedRequest {
            method: parts.method,
            uri: parts.uri,
            headers: parts.headers,
            body,
        };
        let (scripted, responder) = {
            let mut state = self.lock();
            state.requests.push(recorded.clone());
            (state.queue.pop_front(), state.responder.clone())
        };
        match (scripted, responder) {
            (Some(Scripted::Response(response)), _) => Ok(response),
            (Some(Scripted::Error(error)), _) => Err(error),
            (None, Some(responder)) => responder(&recorded),
            (None, None) => Err(TransportError::other(format!(
                "unscripted request: {}",
                recorded.what()
            ))),
        }
    }
}
