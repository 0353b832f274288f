//! [`Error`]: everything a call can fail with, and its parts.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use time::OffsetDateTime;

use crate::models::{InvalidField, ProblemDetails};
use crate::response::ResponseMeta;
use crate::routes::OperationId;
use crate::transport::{TransportError, TransportErrorKind};

/// The result of every call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything a call can fail with.
///
/// ```
/// # use rebilly_auth_core::Error;
/// fn explain(error: &Error) -> &'static str {
///     if error.is_not_found() {
///         "no such thing"
///     } else if error.is_rate_limited() {
///         "slow down"
///     } else if !error.invalid_fields().is_empty() {
///         "fix the form"
///     } else {
///         "something else"
///     }
/// }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The transport could not get a response.
    #[error("{operation}: the transport got no response")]
    Transport {
        /// The operation that failed, such as `GetCredential`.
        operation: OperationId,
        /// What the transport reported.
        #[source]
        source: TransportError,
    },
    /// The server answered with a status the operation does not expect (4xx, 5xx, 3xx).
    #[error(transparent)]
    Api(Box<ApiError>),
    /// The server answered with a success status but a body the SDK could not decode.
    #[error(transparent)]
    Decode(Box<DecodeError>),
    /// The input was rejected before anything was sent.
    #[error(transparent)]
    InvalidInput(#[from] InvalidInput),
    /// A deadline passed.
    #[error("{operation}: timed out after {after:?} ({scope})")]
    Timeout {
        /// The operation that timed out.
        operation: OperationId,
        /// Which deadline passed.
        scope: TimeoutScope,
        /// The deadline's length.
        after: Duration,
    },
    /// An exchange that invalidates its authentication token failed in a way that leaves its
    /// outcome unknown: its response was lost (a dropped connection, a cut or oversized body,
    /// a timeout) or a gateway answered 502, 503 or 504 in its place. It was not retried: if the
    /// API did execute it, the token is spent and a replay would answer 404. Log the customer in
    /// again. [`Error::status`] is `None` here, so code retrying on a 5xx does not replay it.
    #[error(
        "{operation}: the exchange may have succeeded and spent the authentication token, but its \
         response was lost; it was not replayed: log in again"
    )]
    ExchangeOutcomeUnknown {
        /// The operation (`PostAuthenticationTokenExchange`).
        operation: OperationId,
        /// What the one attempt got: [`Error::Transport`], [`Error::Timeout`], or
        /// [`Error::Api`] with a gateway status.
        #[source]
        source: Box<Error>,
    },
    /// A listing would need an `offset` past what the API serves (1000).
    #[error(
        "{operation}: the listing continues past offset {offset}, beyond the API's maximum of {max}"
    )]
    OffsetLimitReached {
        /// The listing operation.
        operation: OperationId,
        /// The offset the next page would need.
        offset: u64,
        /// The API's maximum offset.
        max: u64,
    },
}

impl Error {
    /// The HTTP status of an API or decode error.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api(api) => Some(api.status),
            Error::Decode(decode) => Some(decode.status),
            _ => None,
        }
    }

    /// The API error, if the server answered with an error status.
    pub fn as_api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(api) => Some(api),
            _ => None,
        }
    }

    /// Whether the server answered 404.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(StatusCode::NOT_FOUND)
    }

    /// Whether the server answered 401.
    pub fn is_unauthorized(&self) -> bool {
        self.status() == Some(StatusCode::UNAUTHORIZED)
    }

    /// Whether a login was refused for its credentials (an unknown username or a wrong
    /// password). The spec does not pin the status down: the API may answer 401, or 422 naming
    /// `username` or `password` among its invalid fields. Both count, so code written against
    /// one keeps working against the other; `is_unauthorized()` alone would miss the 422.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use rebilly_auth_core::models::Login;
    /// use rebilly_auth_core::{Client, transport_fn};
    ///
    /// // A server that answers a wrong password with 422, as the live API may.
    /// let server = transport_fn(|_request| async {
    ///     let body = r#"{"status":422,"invalidFields":[{"field":"password","message":"wrong"}]}"#;
    ///     Ok(http::Response::builder().status(422).body(Bytes::from(body)).unwrap())
    /// });
    /// let client = Client::builder().organization("org").secret_key("sk").transport(server).build()?;
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let refused = client.authentication_tokens().login(Login::password("ada", "wrong")).await;
    /// assert!(refused.unwrap_err().is_login_refused());
    /// # });
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_login_refused(&self) -> bool {
        let Error::Api(api) = self else {
            return false;
        };
        api.operation == OperationId::PostAuthenticationToken
            && match api.status {
                StatusCode::UNAUTHORIZED => true,
                StatusCode::UNPROCESSABLE_ENTITY => api
                    .invalid_fields()
                    .iter()
                    .any(|field| matches!(field.field.as_deref(), Some("username" | "password"))),
                _ => false,
            }
    }

    /// Whether the server answered 429.
    pub fn is_rate_limited(&self) -> bool {
        self.status() == Some(StatusCode::TOO_MANY_REQUESTS)
    }

    /// Whether a deadline passed: the client's (per attempt or per call) or the transport's
    /// own, also when it left an exchange's outcome unknown.
    pub fn is_timeout(&self) -> bool {
        match self {
            Error::Timeout { .. } => true,
            Error::Transport { source, .. } => source.kind() == TransportErrorKind::Timeout,
            Error::ExchangeOutcomeUnknown { source, .. } => source.is_timeout(),
            _ => false,
        }
    }

    /// The fields a 422 named as invalid (empty otherwise).
    pub fn invalid_fields(&self) -> &[InvalidField] {
        match self {
            Error::Api(api) => api.invalid_fields(),
            _ => &[],
        }
    }

    /// When a rate-limited call may be retried, from `Retry-After` or `X-RateLimit-Retry-After`
    /// (UTC; print it with `time`'s RFC 3339 format).
    pub fn retry_at(&self) -> Option<OffsetDateTime> {
        self.as_api().and_then(|api| api.retry_at)
    }
}

/// An answer with a status the operation does not expect.
#[derive(Clone)]
#[non_exhaustive]
pub struct ApiError {
    /// The operation, such as `PostCredential`.
    pub operation: OperationId,
    /// The HTTP status.
    pub status: StatusCode,
    /// The RFC 7807 problem body, when the server sent one.
    pub problem: Option<ProblemDetails>,
    /// When the call may be retried (429 and 503 answers), from `Retry-After` (seconds or an
    /// HTTP date) or `X-RateLimit-Retry-After` (epoch seconds), in UTC.
    pub retry_at: Option<OffsetDateTime>,
    /// The response's status, headers and rate-limit figures.
    pub meta: ResponseMeta,
}

impl ApiError {
    /// The fields a 422 named as invalid (empty otherwise).
    pub fn invalid_fields(&self) -> &[InvalidField] {
        self.problem
            .as_ref()
            .map(|p| p.invalid_fields.as_slice())
            .unwrap_or(&[])
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiError")
            .field("operation", &self.operation)
            .field("status", &self.status)
            .field("problem", &self.problem)
            .field("retry_at", &self.retry_at)
            .field("meta", &self.meta)
            .finish()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: the server answered {}", self.operation, self.status)?;
        if let Some(problem) = &self.problem {
            if let Some(title) = &problem.title {
                write!(f, ": {title}")?;
            }
            if let Some(detail) = &problem.detail {
                write!(f, " ({detail})")?;
            }
            for field in &problem.invalid_fields {
                write!(
                    f,
                    "; {}: {}",
                    field.field.as_deref().unwrap_or("?"),
                    field.message.as_deref().unwrap_or("invalid")
                )?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// A success status with a body that could not be decoded.
///
/// Its `Debug` and `Display` never show the body: a misdecoded login body holds a token. Read
/// it through [`DecodeError::body`] when you know it is safe.
#[derive(Clone)]
#[non_exhaustive]
pub struct DecodeError {
    /// The operation.
    pub operation: OperationId,
    /// The HTTP status.
    pub status: StatusCode,
    /// The response's `Content-Type`, if any.
    pub content_type: Option<String>,
    /// The body's length in bytes.
    pub body_len: usize,
    /// Where decoding failed: a JSON path such as `.[3].expiredTime`, or `.` for the top.
    pub path: String,
    /// The line of the body where decoding failed (1-based; 0 if unknown).
    pub line: usize,
    /// The column of that line (1-based; 0 if unknown).
    pub column: usize,
    /// What kind of problem serde met (syntax, data, eof, io), with no value from the body.
    pub category: &'static str,
    body: Bytes,
}

impl DecodeError {
    pub(crate) fn new(
        operation: OperationId,
        status: StatusCode,
        content_type: Option<String>,
        body: Bytes,
        path: String,
        error: &serde_json::Error,
    ) -> Self {
        use serde_json::error::Category;
        let mut path = path;
        let category = match error.classify() {
            Category::Io => "io",
            Category::Syntax => "invalid JSON",
            Category::Data => match missing_field(error) {
                // serde's message names the field (our name, never a value from the body).
                Some(field) => {
                    path = if path == "." {
                        format!(".{field}")
                    } else {
                        format!("{path}.{field}")
                    };
                    "missing required field"
                }
                None => "unexpected JSON shape",
            },
            Category::Eof => "truncated JSON",
        };
        Self {
            operation,
            status,
            content_type,
            body_len: body.len(),
            path,
            line: error.line(),
            column: error.column(),
            category,
            body,
        }
    }

    /// A body that decoded but does not answer the call: `category` says how (such as
    /// "the answer describes another token"), `path` where. Never holds a value from the body.
    pub(crate) fn mismatch(
        operation: OperationId,
        status: StatusCode,
        content_type: Option<String>,
        body: Bytes,
        path: &str,
        category: &'static str,
    ) -> Self {
        Self {
            operation,
            status,
            content_type,
            body_len: body.len(),
            path: path.to_owned(),
            line: 0,
            column: 0,
            category,
            body,
        }
    }

    /// The raw body. It may hold secrets (a token): never log it unfiltered.
    pub fn body(&self) -> &Bytes {
        &self.body
    }
}

impl fmt::Debug for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecodeError")
            .field("operation", &self.operation)
            .field("status", &self.status)
            .field("content_type", &self.content_type)
            .field("body_len", &self.body_len)
            .field("path", &self.path)
            .field("line", &self.line)
            .field("column", &self.column)
            .field("category", &self.category)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: could not decode the {} response ({} bytes, content type {}): {} at {}",
            self.operation,
            self.status,
            self.body_len,
            self.content_type.as_deref().unwrap_or("none"),
            self.category,
            self.path,
        )?;
        if self.line > 0 {
            write!(f, " (line {}, column {})", self.line, self.column)?;
        }
        Ok(())
    }
}

impl std::error::Error for DecodeError {}

/// The field serde's "missing field `name`" message names, if that is the error.
fn missing_field(error: &serde_json::Error) -> Option<String> {
    let message = error.to_string();
    let rest = message.strip_prefix("missing field `")?;
    let field = &rest[..rest.find('`')?];
    // Field names are ours (camelCase identifiers); anything else is not trusted as one.
    field
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        .then(|| field.to_owned())
}

/// Input rejected before anything was sent. It never repeats the offending value, which may be
/// a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what}: {reason}")]
#[non_exhaustive]
pub struct InvalidInput {
    /// What was invalid, such as `credential id` or `limit`.
    pub what: &'static str,
    /// Why.
    pub reason: String,
}

impl InvalidInput {
    pub(crate) fn new(what: &'static str, reason: impl Into<String>) -> Self {
        Self {
            what,
            reason: reason.into(),
        }
    }
}

/// A client that could not be built: a configuration error, found by
/// [`ClientBuilder::build`](crate::ClientBuilder::build) before any call. Separate from the
/// per-call [`Error`], so code handling call failures never meets it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A required setting is missing or a setting is out of range.
    #[error("invalid client configuration: {0}")]
    Invalid(&'static str),
    /// A value (organization, credential, user agent) cannot be sent.
    #[error("invalid client configuration")]
    InvalidValue(#[source] InvalidInput),
    /// The transport could not be set up (such as its TLS configuration).
    #[error("the transport could not be set up")]
    Transport(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<InvalidInput> for BuildError {
    fn from(value: InvalidInput) -> Self {
        BuildError::InvalidValue(value)
    }
}

/// Which deadline passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutScope {
    /// One attempt took longer than the per-attempt timeout.
    Attempt,
    /// The whole call, retries included, took longer than the call timeout.
    Call,
}

impl fmt::Display for TimeoutScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Attempt => "per-attempt timeout",
            Self::Call => "whole-call timeout",
        })
    }
}
