//! [`Client`] and its [`ClientBuilder`]: where requests are addressed, authenticated, timed
//! out and retried.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderName, HeaderValue};

use crate::auth::{Auth, OrganizationId};
use crate::encode;
use crate::error::{Error, InvalidInput};
use crate::retry::{RetryClass, RetryPolicy};
use crate::routes::OperationId;
use crate::runtime::{Clock, Sleep};
use crate::transport::{BodyLimit, HttpTransport};

static REB_APIKEY: HeaderName = HeaderName::from_static("reb-apikey");

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
    /// The host and port spans record (`server.address`, `server.port`).
    server_port: u16,
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
    /// Whether each attempt's request carries its [`AttemptTimeout`](crate::AttemptTimeout):
    /// only for a blocking transport, which cannot be cancelled by dropping its future.
    attempt_timeout_in_request: bool,
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
    /// This call's retry policy, if it overrides the client's.
    pub(crate) retry: Option<RetryPolicy>,
    /// This call's deadline, if it overrides the client's.
    pub(crate) call_timeout: Option<Duration>,
    /// This call's per-attempt limit, if it overrides the client's.
    pub(crate) attempt_timeout: Option<Duration>,
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

mod builder;
mod execute;

pub use builder::ClientBuilder;
