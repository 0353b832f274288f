//! [`Client`] and its [`ClientBuilder`]: where requests are addressed, authenticated, timed
//! out and retried.

use crate::routes::OperationId;
use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use http::{HeaderName, HeaderValue, StatusCode};

static REB_APIKEY: HeaderName = HeaderName::from_static("reb-apikey");
use tracing::Instrument;

use crate::auth::{Auth, OrganizationId};
use crate::encode;
use crate::error::{BuildError, Error, InvalidInput, TimeoutScope};
use crate::response::{self, RawResponse, ResponseMeta, ServerWait};
use crate::retry::{RetryClass, RetryPolicy, is_gateway_status};
use crate::runtime::{Clock, Sleep, SleepFuture, SystemClock};
use crate::transport::{BodyLimit, HttpTransport, TransportError, TransportErrorKind};

/// Where the API is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Environment {
    /// `https://api-sandbox.rebilly.com`.
    #[default]
    Sandbox,
    /// `https://api.rebilly.com`.
    Live,
    /// Another server root, such as the emulator's `http://127.0.0.1:PORT`.
    Custom(String),
}

impl Environment {
    /// The server URL, with no trailing slash.
    pub fn server_url(&self) -> &str {
        match self {
            Environment::Sandbox => "https://api-sandbox.rebilly.com",
            Environment::Live => "https://api.rebilly.com",
            Environment::Custom(root) => root.trim_end_matches('/'),
        }
    }
}

/// The client of the Customer Authentication API. Cheap to clone (one `Arc`), `Send + Sync`.
///
/// ```
/// use rebilly_auth_core::{transport_fn, Auth, Client, Environment};
///
/// let transport = transport_fn(|_request| async { unreachable!("nothing is sent here") });
/// let client = Client::builder()
///     .environment(Environment::Sandbox)
///     .organization("my-org")
///     .auth(Auth::secret_key("sk_sandbox_xxx"))
///     .transport(transport)
///     .build()
///     .unwrap();
/// assert!(!format!("{client:?}").contains("sk_sandbox_xxx"));
/// ```
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Arc<dyn HttpTransport>,
    root: String,
    /// The root, parsed once: every request URI is built from these parts.
    scheme: http::uri::Scheme,
    authority: http::uri::Authority,
    base_path: String,
    organization: OrganizationId,
    /// `organization`, percent-encoded once.
    organization_segment: String,
    /// Accept, User-Agent and the default auth header: cloned into every request.
    base_headers: http::HeaderMap,
    auth_kind: &'static str,
    retry: RetryPolicy,
    attempt_timeout: Duration,
    call_timeout: Duration,
    body_limit: usize,
    sleep: Arc<dyn Sleep>,
    clock: Arc<dyn Clock>,
}

impl Clone for Client {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("Client")
            .field("root", &inner.root)
            .field("organization", &inner.organization)
            .field("auth", &inner.auth_kind)
            .field("retry", &inner.retry)
            .field("attempt_timeout", &inner.attempt_timeout)
            .field("call_timeout", &inner.call_timeout)
            .field("body_limit", &inner.body_limit)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A builder; give it at least an organization id and a transport.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }
}

/// One call, ready to address and send: what an operation produces.
#[derive(Debug)]
pub(crate) struct PreparedCall {
    pub(crate) operation: OperationId,
    pub(crate) path: std::borrow::Cow<'static, str>,
    pub(crate) query: Option<String>,
    pub(crate) body: Option<Bytes>,
    pub(crate) class: RetryClass,
    pub(crate) organization: Option<OrganizationId>,
    pub(crate) auth: Option<Auth>,
}

/// Everything an attempt needs that does not change between attempts.
struct Addressed {
    uri: http::Uri,
    headers: http::HeaderMap,
}

impl Client {
    /// The organization requests go to unless a call overrides it.
    pub fn organization(&self) -> &OrganizationId {
        &self.inner.organization
    }

    /// The server URL, such as `https://api-sandbox.rebilly.com`.
    pub fn server_url(&self) -> &str {
        &self.inner.root
    }

    /// The transport.
    pub fn transport(&self) -> &Arc<dyn HttpTransport> {
        &self.inner.transport
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    fn address(&self, call: &PreparedCall) -> Result<Addressed, Error> {
        let inner = &*self.inner;
        let organization_segment;
        let organization = match &call.organization {
            Some(organization) => {
                encode::check_segment("organization id", organization.as_str())?;
                let mut segment = String::new();
                encode::push_segment(&mut segment, organization.as_str());
                organization_segment = segment;
                &organization_segment
            }
            None => &inner.organization_segment,
        };
        let query_len = call.query.as_ref().map_or(0, |q| q.len() + 1);
        let mut path = String::with_capacity(
            inner.base_path.len() + 14 + organization.len() + call.path.len() + query_len,
        );
        path.push_str(&inner.base_path);
        path.push_str("/organizations");
        path.push_str(organization);
        path.push_str(&call.path);
        if let Some(query) = &call.query {
            path.push('?');
            path.push_str(query);
        }
        let mut parts = http::uri::Parts::default();
        parts.scheme = Some(inner.scheme.clone());
        parts.authority = Some(inner.authority.clone());
        parts.path_and_query = Some(
            http::uri::PathAndQuery::from_maybe_shared(path)
                .map_err(|_| InvalidInput::new("request URL", "could not be built"))?,
        );
        let uri = http::Uri::from_parts(parts)
            .map_err(|_| InvalidInput::new("request URL", "could not be built"))?;
        let mut headers = inner.base_headers.clone();
        if let Some(auth) = &call.auth {
            // A per-call credential replaces the client's: never send both.
            let (name, value) = auth.header()?;
            headers.remove(AUTHORIZATION);
            headers.remove(&REB_APIKEY);
            headers.insert(name, value);
        }
        if call.body.is_some() {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        Ok(Addressed { uri, headers })
    }

    fn http_request(&self, call: &PreparedCall, addressed: Addressed) -> http::Request<Bytes> {
        let mut request = http::Request::new(call.body.clone().unwrap_or_default());
        *request.method_mut() = call.operation.method();
        *request.uri_mut() = addressed.uri;
        *request.headers_mut() = addressed.headers;
        if self.inner.body_limit != BodyLimit::DEFAULT.0 {
            request
                .extensions_mut()
                .insert(BodyLimit(self.inner.body_limit));
        }
        request
    }

    /// The `http::Request` the call's first attempt sends: for tests and debugging, no I/O.
    pub(crate) fn build_request(&self, call: &PreparedCall) -> Result<http::Request<Bytes>, Error> {
        let addressed = self.address(call)?;
        Ok(self.http_request(call, addressed))
    }
}

impl Client {
    /// Sends `call`, retrying per the policy within the deadlines, inside one
    /// `rebilly_auth.call` span.
    pub(crate) async fn execute(&self, call: PreparedCall) -> Result<RawResponse, Error> {
        let organization = call
            .organization
            .as_ref()
            .unwrap_or(&self.inner.organization);
        let span = tracing::info_span!(
            "rebilly_auth.call",
            operation = call.operation.name(),
            route = call.operation.path_template(),
            organization = organization.as_str(),
            status = tracing::field::Empty,
            attempts = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
        );
        let start = Instant::now();
        let result = self
            .execute_attempts(&call, start)
            .instrument(span.clone())
            .await;
        span.record("duration_ms", start.elapsed().as_millis() as u64);
        match &result {
            Ok(raw) => {
                span.record("status", raw.meta.status.as_u16());
                span.record("attempts", raw.meta.attempts);
            }
            Err(error) => {
                let answered = match error {
                    Error::ExchangeOutcomeUnknown { source, .. } => source.status(),
                    _ => error.status(),
                };
                if let Some(status) = answered {
                    span.record("status", status.as_u16());
                }
            }
        }
        result
    }

    async fn execute_attempts(
        &self,
        call: &PreparedCall,
        start: Instant,
    ) -> Result<RawResponse, Error> {
        let inner = &*self.inner;
        let mut retried_after_ambiguity = false;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let remaining = if attempt == 1 {
                inner.call_timeout
            } else {
                inner.call_timeout.saturating_sub(start.elapsed())
            };
            let limit = inner.attempt_timeout.min(remaining);
            let scope = if limit < inner.attempt_timeout {
                TimeoutScope::Call
            } else {
                TimeoutScope::Attempt
            };
            // Addressed anew per attempt: cheaper than cloning for the usual single attempt.
            let request = self.http_request(call, self.address(call)?);
            let failure = match race(inner.transport.send(request), &*inner.sleep, limit).await {
                Some(Ok(response)) => {
                    let (parts, body) = response.into_parts();
                    // The clock is read only for the answers that may carry a wait.
                    let server_wait = match parts.status {
                        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
                            response::server_wait(&parts.headers, inner.clock.now())
                        }
                        _ => ServerWait::Absent,
                    };
                    let raw = RawResponse {
                        meta: ResponseMeta::new(parts.status, parts.headers, attempt),
                        body,
                        retried_after_ambiguity,
                        retry_at: server_wait.retry_at(),
                    };
                    if call.class == RetryClass::SpendsToken && is_gateway_status(raw.meta.status) {
                        return Err(Error::ExchangeOutcomeUnknown {
                            operation: call.operation,
                            source: Box::new(raw.api_error(call.operation)),
                        });
                    }
                    if attempt >= inner.retry.attempts()
                        || !call.class.retries_status(raw.meta.status)
                    {
                        return Ok(raw);
                    }
                    let wait = match server_wait {
                        ServerWait::At { wait: given, .. } => {
                            if given > inner.retry.server_wait_cap() {
                                return Ok(raw);
                            }
                            inner.retry.server_wait(given, attempt)
                        }
                        // A wait too far to represent is over any cap.
                        ServerWait::Unrepresentable => return Ok(raw),
                        ServerWait::Absent => inner.retry.backoff(attempt),
                    };
                    if wait >= inner.call_timeout.saturating_sub(start.elapsed()) {
                        return Ok(raw);
                    }
                    // A 5xx from a gateway may follow a request the API did execute.
                    if raw.meta.status != StatusCode::TOO_MANY_REQUESTS {
                        retried_after_ambiguity = true;
                    }
                    tracing::debug!(
                        attempt,
                        status = raw.meta.status.as_u16(),
                        wait_ms = wait.as_millis() as u64,
                        "retrying"
                    );
                    inner.sleep.sleep(wait).await;
                    continue;
                }
                Some(Err(error)) => Failure::Transport(error),
                None => Failure::Timeout(scope, limit),
            };
            let reached = failure.may_have_reached_server();
            let may_retry =
                scope == TimeoutScope::Attempt || !matches!(failure, Failure::Timeout(..));
            if may_retry
                && attempt < inner.retry.attempts()
                && (!reached || call.class.retries_ambiguous())
            {
                let wait = inner.retry.backoff(attempt);
                if wait < inner.call_timeout.saturating_sub(start.elapsed()) {
                    retried_after_ambiguity |= reached;
                    tracing::debug!(attempt, failure = %failure.kind(), wait_ms = wait.as_millis() as u64, "retrying");
                    inner.sleep.sleep(wait).await;
                    continue;
                }
            }
            return Err(failure.into_error(call, reached));
        }
    }
}

/// Runs `send` until it completes (`Some`) or `limit` passes (`None`). The timer is only
/// created if `send` is not ready on its first poll: an in-process transport answering at once
/// never pays for one.
async fn race<F: Future>(send: F, sleep: &dyn Sleep, limit: Duration) -> Option<F::Output> {
    let mut send = pin!(send);
    let mut timer: Option<SleepFuture> = None;
    poll_fn(|cx| {
        if let Poll::Ready(output) = send.as_mut().poll(cx) {
            return Poll::Ready(Some(output));
        }
        let timer = timer.get_or_insert_with(|| sleep.sleep(limit));
        timer.as_mut().poll(cx).map(|()| None)
    })
    .await
}

/// Why an attempt got no response.
enum Failure {
    Transport(TransportError),
    Timeout(TimeoutScope, Duration),
}

impl Failure {
    fn may_have_reached_server(&self) -> bool {
        match self {
            Failure::Transport(error) => error.may_have_reached_server(),
            Failure::Timeout(..) => true,
        }
    }

    fn kind(&self) -> TransportErrorKind {
        match self {
            Failure::Transport(error) => error.kind(),
            Failure::Timeout(..) => TransportErrorKind::Timeout,
        }
    }

    fn into_error(self, call: &PreparedCall, reached: bool) -> Error {
        let operation = call.operation;
        let error = match self {
            Failure::Transport(source) => Error::Transport { operation, source },
            Failure::Timeout(scope, after) => Error::Timeout {
                operation,
                scope,
                after,
            },
        };
        if call.class == RetryClass::SpendsToken && reached {
            Error::ExchangeOutcomeUnknown {
                operation,
                source: Box::new(error),
            }
        } else {
            error
        }
    }
}

/// Builds a [`Client`]: give it at least an organization and a transport.
#[must_use]
pub struct ClientBuilder {
    transport: Option<Result<Arc<dyn HttpTransport>, Box<dyn std::error::Error + Send + Sync>>>,
    environment: Environment,
    organization: Option<OrganizationId>,
    auth: Option<Auth>,
    user_agent: Option<String>,
    retry: RetryPolicy,
    attempt_timeout: Duration,
    call_timeout: Duration,
    body_limit: usize,
    sleep: Option<Arc<dyn Sleep>>,
    clock: Arc<dyn Clock>,
    allow_insecure_http: bool,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            transport: None,
            environment: Environment::default(),
            organization: None,
            auth: None,
            user_agent: None,
            retry: RetryPolicy::default(),
            attempt_timeout: Duration::from_secs(30),
            call_timeout: Duration::from_secs(60),
            body_limit: BodyLimit::DEFAULT.0,
            sleep: None,
            clock: Arc::new(SystemClock),
            allow_insecure_http: false,
        }
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("environment", &self.environment)
            .field("organization", &self.organization)
            .field("auth", &self.auth)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// The transport requests go through (required): a transport crate's, a fake, the
    /// emulator, a mock, or your own. The client shares it (`Arc`), so clones are cheap.
    pub fn transport(mut self, transport: impl HttpTransport + 'static) -> Self {
        self.transport = Some(Ok(Arc::new(transport)));
        self
    }

    /// A transport whose construction may have failed (such as a TLS setup): its error is
    /// reported by [`build`](Self::build), as [`BuildError::Transport`].
    pub fn try_transport<T, E>(mut self, transport: Result<T, E>) -> Self
    where
        T: HttpTransport + 'static,
        E: std::error::Error + Send + Sync + 'static,
    {
        self.transport = Some(match transport {
            Ok(transport) => Ok(Arc::new(transport)),
            Err(error) => Err(Box::new(error)),
        });
        self
    }

    /// Sandbox (the default), Live, or a custom server root.
    pub fn environment(mut self, environment: Environment) -> Self {
        self.environment = environment;
        self
    }

    /// A custom server root, such as `http://127.0.0.1:8080`.
    pub fn server_url(self, root: impl Into<String>) -> Self {
        self.environment(Environment::Custom(root.into()))
    }

    /// The organization requests go to (required).
    pub fn organization(mut self, organization: impl Into<OrganizationId>) -> Self {
        self.organization = Some(organization.into());
        self
    }

    /// The credential every request carries unless a call overrides it.
    pub fn auth(mut self, auth: impl Into<Auth>) -> Self {
        self.auth = Some(auth.into());
        self
    }

    /// Shorthand for `auth(Auth::secret_key(key))`.
    pub fn secret_key(self, key: impl Into<crate::auth::SecretKey>) -> Self {
        self.auth(Auth::SecretKey(key.into()))
    }

    /// The `User-Agent` (default `rebilly-auth-rust/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// The retry policy (on by default; [`RetryPolicy::none`] turns it off).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The longest one attempt may take (default 30 s).
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = timeout;
        self
    }

    /// The longest a whole call may take, retries included (default 60 s).
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout;
        self
    }

    /// The largest response body accepted (default 4 MiB).
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// How to wait (default: tokio's timer). Tests inject a fake to control time.
    pub fn sleep(mut self, sleep: Arc<dyn Sleep>) -> Self {
        self.sleep = Some(sleep);
        self
    }

    /// How to read the wall clock (default: the system clock), for `X-RateLimit-Retry-After`.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Allows `http://` server roots that are not loopback (refused by default: the API key
    /// would travel in clear text).
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }
}

impl ClientBuilder {
    /// Checks the configuration and builds the client.
    pub fn build(self) -> Result<Client, BuildError> {
        let organization = self
            .organization
            .ok_or_else(|| BuildError::Invalid("an organization id is required"))?;
        encode::check_segment("organization id", organization.as_str())?;
        let root = self.environment.server_url().to_owned();
        let parsed_root = check_root(&root, self.allow_insecure_http)?;
        let mut root_parts = parsed_root.into_parts();
        let (Some(scheme), Some(authority)) =
            (root_parts.scheme.take(), root_parts.authority.take())
        else {
            return Err(BuildError::Invalid(
                "the server root needs a scheme and a host",
            ));
        };
        let base_path = root_parts
            .path_and_query
            .map(|p| p.path().trim_end_matches('/').to_owned())
            .unwrap_or_default();
        let (auth, auth_kind) = match &self.auth {
            Some(auth) => (Some(auth.header()?), auth.kind()),
            None => (None, "none"),
        };
        let user_agent = self
            .user_agent
            .unwrap_or_else(|| concat!("rebilly-auth-rust/", env!("CARGO_PKG_VERSION")).to_owned());
        encode::check_header_text("user agent", &user_agent)?;
        let user_agent = HeaderValue::try_from(user_agent)
            .map_err(|_| InvalidInput::new("user agent", "is not a valid header value"))?;
        let sleep = match self.sleep {
            Some(sleep) => sleep,
            None => default_sleep()?,
        };
        if self.attempt_timeout.is_zero() || self.call_timeout.is_zero() {
            return Err(BuildError::Invalid("timeouts must be greater than zero"));
        }
        let mut base_headers = http::HeaderMap::with_capacity(4);
        base_headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        base_headers.insert(USER_AGENT, user_agent);
        if let Some((name, value)) = auth {
            base_headers.insert(name, value);
        }
        let mut organization_segment = String::new();
        encode::push_segment(&mut organization_segment, organization.as_str());
        let transport = self
            .transport
            .ok_or(BuildError::Invalid("a transport is required"))?
            .map_err(BuildError::Transport)?;
        Ok(Client {
            inner: Arc::new(Inner {
                transport,
                root,
                scheme,
                authority,
                base_path,
                organization,
                organization_segment,
                base_headers,
                auth_kind,
                retry: self.retry,
                attempt_timeout: self.attempt_timeout,
                call_timeout: self.call_timeout,
                body_limit: self.body_limit,
                sleep,
                clock: self.clock,
            }),
        })
    }
}

#[cfg(feature = "tokio")]
fn default_sleep() -> Result<Arc<dyn Sleep>, BuildError> {
    Ok(Arc::new(crate::runtime::TokioSleep))
}

#[cfg(not(feature = "tokio"))]
fn default_sleep() -> Result<Arc<dyn Sleep>, BuildError> {
    Err(BuildError::Invalid(
        "without the `tokio` feature, give the builder a `Sleep` for timeouts and backoff",
    ))
}

/// Accepts `https://host[:port]` roots, and `http://` ones on loopback (or when allowed).
fn check_root(root: &str, allow_insecure_http: bool) -> Result<http::Uri, BuildError> {
    let uri: http::Uri = root
        .parse()
        .map_err(|_| BuildError::Invalid("the server root is not a valid URL"))?;
    let host = uri
        .host()
        .ok_or_else(|| BuildError::Invalid("the server root has no host"))?;
    if uri.query().is_some() {
        return Err(BuildError::Invalid("the server root must not have a query"));
    }
    match uri.scheme_str() {
        Some("https") => Ok(uri),
        Some("http") if allow_insecure_http || is_loopback(host) => Ok(uri),
        Some("http") => Err(BuildError::Invalid(
            "http:// is refused for non-loopback hosts: the API key would travel in clear text \
             (use https, or allow_insecure_http(true))",
        )),
        _ => Err(BuildError::Invalid(
            "the server root must start with https:// or http://",
        )),
    }
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots() {
        assert!(check_root("https://api.rebilly.com", false).is_ok());
        assert!(check_root("http://127.0.0.1:8080", false).is_ok());
        assert!(check_root("http://[::1]:8080", false).is_ok());
        assert!(check_root("http://localhost:1", false).is_ok());
        assert!(check_root("http://example.com", false).is_err());
        assert!(check_root("http://example.com", true).is_ok());
        assert!(check_root("ftp://example.com", false).is_err());
        assert!(check_root("not a url", false).is_err());
    }
}
