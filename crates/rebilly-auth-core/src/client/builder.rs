//! [`ClientBuilder`]: a client's configuration, checked once at `build()`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderValue;
use http::header::{ACCEPT, USER_AGENT};

use super::{Client, Environment, Inner};
use crate::auth::{Auth, OrganizationId};
use crate::encode;
use crate::error::{BuildError, InvalidInput};
use crate::retry::RetryPolicy;
use crate::runtime::{Clock, Sleep, SystemClock};
use crate::transport::{BodyLimit, HttpTransport};

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
    attempt_timeout_in_request: bool,
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
            attempt_timeout_in_request: false,
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

    /// Puts each attempt's [`AttemptTimeout`](crate::AttemptTimeout) in its request: what a
    /// transport that cannot be cancelled (the blocking client's) needs.
    #[cfg(feature = "blocking")]
    pub(crate) fn attempt_timeout_in_request(mut self) -> Self {
        self.attempt_timeout_in_request = true;
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
        let server_port = authority
            .port_u16()
            .unwrap_or(if scheme == http::uri::Scheme::HTTPS {
                443
            } else {
                80
            });
        Ok(Client {
            inner: Arc::new(Inner {
                transport,
                root,
                scheme,
                authority,
                server_port,
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
                attempt_timeout_in_request: self.attempt_timeout_in_request,
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
