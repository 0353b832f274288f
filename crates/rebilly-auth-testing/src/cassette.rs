//! Record/replay: [`Recorder`] wraps any transport and writes each exchange to a JSON
//! [`Cassette`] with secrets redacted; [`Replayer`] serves a cassette back.
//!
//! Redacted: `REB-APIKEY`, `Authorization` and cookie headers; `password`, `oneTimePassword`,
//! `token` (and similar) members anywhere in a body; JWT-looking strings; token values in paths,
//! `Location` and `_links[].href`. Replay matches method, redacted path, query and redacted
//! body, so a client that replays with different secrets still matches.
//!
//! ```
//! use rebilly_auth_core::Client;
//! use rebilly_auth_testing::cassette::{Recorder, Replayer};
//! use rebilly_auth_testing::emulator::Emulator;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! // Record once (against the emulator here; against the sandbox in real life).
//! let recorder = Recorder::new(Emulator::builder().add_organization("org", "sk_live_secret", None).build());
//! let client = Client::builder().organization("org").secret_key("sk_live_secret")
//!     .transport(recorder.clone()).build().unwrap();
//! client.authentication_options().get().await.unwrap();
//! let json = recorder.cassette().to_json();
//! assert!(!json.contains("sk_live_secret"));
//!
//! // Replay in CI.
//! let replayer = Replayer::new(serde_json::from_str(&json).unwrap());
//! let client = Client::builder().organization("org").secret_key("another_key")
//!     .transport(replayer.clone()).build().unwrap();
//! assert_eq!(client.authentication_options().get().await.unwrap().auth_token_ttl, Some(3600));
//! replayer.assert_all_used();
//! # });
//! ```

use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use bytes::Bytes;
use rebilly_auth_core::{HttpTransport, TransportError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::redact::{redact_body, redact_header, redact_headers, redact_json, redact_path};

/// A recorded request, redacted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CassetteRequest {
    /// The method.
    pub method: String,
    /// The path, token segments redacted.
    pub path: String,
    /// The query string, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// The headers, `(lower-case name, redacted value)`.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// The body: JSON (redacted), or a string for a non-JSON body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

/// A recorded response, redacted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CassetteResponse {
    /// The status code.
    pub status: u16,
    /// The headers, `(lower-case name, redacted value)`.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// The body: JSON (redacted), or a string for a non-JSON body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

/// One request and its response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Interaction {
    /// The request.
    pub request: CassetteRequest,
    /// The response.
    pub response: CassetteResponse,
}

/// A list of interactions, serialized as JSON.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Cassette {
    /// The interactions, in recording order.
    pub interactions: Vec<Interaction>,
}

impl Cassette {
    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a cassette always serializes")
    }

    /// Writes the cassette to `path`.
    pub fn save(&self, path: impl AsRef<Path>) -> std::io::Result<()> {
        std::fs::write(path, self.to_json())
    }

    /// Reads a cassette from `path`, in today's redaction (see [`Replayer::new`]).
    pub fn load(path: impl AsRef<Path>) -> std::io::Result<Self> {
        let text = std::fs::read_to_string(path)?;
        let cassette: Self = serde_json::from_str(&text)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        Ok(cassette.normalized())
    }

    /// The cassette redacted again with today's rules, which only ever redact more. Older
    /// versions wrote `{token}` after `password-tokens/` where core's route table (and this
    /// version) writes `{id}`: such paths, `Location` headers and `_links` become today's.
    fn normalized(mut self) -> Self {
        fn headers(headers: &mut [(String, String)]) {
            for (name, value) in headers {
                *value = redact_header(name, value);
            }
        }
        for interaction in &mut self.interactions {
            let request = &mut interaction.request;
            request.path = redact_path(&request.path);
            headers(&mut request.headers);
            request.body.iter_mut().for_each(redact_json);
            let response = &mut interaction.response;
            headers(&mut response.headers);
            response.body.iter_mut().for_each(redact_json);
        }
        self
    }
}

fn request_of(request: &http::Request<Bytes>) -> CassetteRequest {
    CassetteRequest {
        method: request.method().as_str().to_owned(),
        path: redact_path(request.uri().path()),
        query: request.uri().query().map(str::to_owned),
        headers: redact_headers(request.headers()),
        body: redact_body(request.body()),
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Wraps a transport and records each exchange that got a response. Clones share the
/// cassette.
#[derive(Clone)]
pub struct Recorder<T> {
    inner: T,
    cassette: Arc<Mutex<Cassette>>,
}

impl<T> fmt::Debug for Recorder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recorder")
            .field("interactions", &lock(&self.cassette).interactions.len())
            .finish_non_exhaustive()
    }
}

impl<T: HttpTransport> Recorder<T> {
    /// Records what goes through `inner`.
    pub fn new(inner: T) -> Self {
        Self {
            inner,
            cassette: Arc::default(),
        }
    }

    /// A copy of what was recorded so far.
    pub fn cassette(&self) -> Cassette {
        lock(&self.cassette).clone()
    }

    /// Writes what was recorded so far to `path`.
    pub fn save(&self, path: impl AsRef<Path>) -> std::io::Result<()> {
        self.cassette().save(path)
    }
}

#[async_trait]
impl<T: HttpTransport> HttpTransport for Recorder<T> {
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        let recorded = request_of(&request);
        let response = self.inner.send(request).await?;
        let interaction = Interaction {
            request: recorded,
            response: CassetteResponse {
                status: response.status().as_u16(),
                headers: redact_headers(response.headers()),
                body: redact_body(response.body()),
            },
        };
        lock(&self.cassette).interactions.push(interaction);
        Ok(response)
    }
}

/// Serves a cassette: each request is answered by the first unused interaction with the same
/// method, redacted path, query and redacted body; anything else fails with a message showing
/// how the request differs from the nearest candidate. Clones share progress.
#[derive(Clone)]
pub struct Replayer {
    cassette: Arc<Cassette>,
    used: Arc<Mutex<Vec<bool>>>,
}

impl fmt::Debug for Replayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Replayer")
            .field("interactions", &self.cassette.interactions.len())
            .field("unused", &self.unused())
            .finish()
    }
}

impl Replayer {
    /// Replays `cassette`. A cassette recorded by an older version is first redacted with
    /// today's rules, so that it keeps matching (`/password-tokens/{token}` is read as
    /// `/password-tokens/{id}`, core's template).
    pub fn new(cassette: Cassette) -> Self {
        let cassette = cassette.normalized();
        let used = vec![false; cassette.interactions.len()];
        Self {
            cassette: Arc::new(cassette),
            used: Arc::new(Mutex::new(used)),
        }
    }

    /// Replays the cassette stored at `path`.
    pub fn load(path: impl AsRef<Path>) -> std::io::Result<Self> {
        Cassette::load(path).map(Self::new)
    }

    /// How many interactions were not replayed yet.
    pub fn unused(&self) -> usize {
        lock(&self.used).iter().filter(|u| !**u).count()
    }

    /// Asserts every interaction was replayed.
    #[track_caller]
    pub fn assert_all_used(&self) {
        let unused = self.unused();
        assert_eq!(
            unused, 0,
            "{unused} cassette interaction(s) were never replayed"
        );
    }
}

/// The differing fields between a request and a recorded one.
fn differences(actual: &CassetteRequest, recorded: &CassetteRequest) -> Vec<String> {
    let mut out = Vec::new();
    if actual.method != recorded.method {
        out.push(format!(
            "  method: recorded {} / got {}",
            recorded.method, actual.method
        ));
    }
    if actual.path != recorded.path {
        out.push(format!(
            "  path:   recorded {} / got {}",
            recorded.path, actual.path
        ));
    }
    if actual.query != recorded.query {
        out.push(format!(
            "  query:  recorded {:?} / got {:?}",
            recorded.query, actual.query
        ));
    }
    if actual.body != recorded.body {
        let show = |b: &Option<Value>| b.as_ref().map_or("(none)".into(), Value::to_string);
        out.push(format!(
            "  body:   recorded {}\n          got      {}",
            show(&recorded.body),
            show(&actual.body)
        ));
    }
    out
}

fn rebuild(response: &CassetteResponse) -> Result<http::Response<Bytes>, TransportError> {
    let mut builder = http::Response::builder().status(response.status);
    let mut json = false;
    for (name, value) in &response.headers {
        if name.eq_ignore_ascii_case("content-length")
            || name.eq_ignore_ascii_case("transfer-encoding")
        {
            continue;
        }
        json |= name.eq_ignore_ascii_case("content-type") && value.contains("json");
        builder = builder.header(name.as_str(), value.as_str());
    }
    let body = match &response.body {
        None => Bytes::new(),
        Some(Value::String(text)) if !json => Bytes::from(text.clone()),
        Some(value) => Bytes::from(value.to_string()),
    };
    builder
        .body(body)
        .map_err(|e| TransportError::other(format!("the cassette holds an invalid response: {e}")))
}

#[async_trait]
impl HttpTransport for Replayer {
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        let actual = request_of(&request);
        let mut used = lock(&self.used);
        let mut nearest: Option<(usize, Vec<String>)> = None;
        for (index, interaction) in self.cassette.interactions.iter().enumerate() {
            if used[index] {
                continue;
            }
            let diff = differences(&actual, &interaction.request);
            if diff.is_empty() {
                used[index] = true;
                return rebuild(&interaction.response);
            }
            if nearest.as_ref().is_none_or(|(_, d)| diff.len() < d.len()) {
                nearest = Some((index, diff));
            }
        }
        let message = match nearest {
            Some((index, diff)) => format!(
                "no cassette interaction matches {} {}; nearest unused is #{index}:\n{}",
                actual.method,
                actual.path,
                diff.join("\n")
            ),
            None => format!(
                "no cassette interaction matches {} {}: every interaction was already replayed",
                actual.method, actual.path
            ),
        };
        Err(TransportError::other(message).with_may_have_reached_server(false))
    }
}
