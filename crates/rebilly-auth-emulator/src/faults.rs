//! Fault injection: make the next N requests matching an operation (or a method) misbehave.

use std::time::Duration;

use http::{Method, StatusCode};

use rebilly_auth_core::OperationId;

/// A misbehaviour for one request. Faults are exempt from the spec: they imitate gateways,
/// proxies and networks, not the API.
///
/// Some faults act *before* the emulator touches its state (the request is not executed), the
/// others *after* it did (the request was executed and only the answer is lost or garbled), so
/// that retry tests can tell "never reached the server" from "server executed it but the
/// response was lost".
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Not executed: answer `status` with a problem body.
    Status(StatusCode),
    /// Executed, then the answer is replaced by `status` with a problem body (a gateway error
    /// after the API did its work).
    StatusAfterProcessing(StatusCode),
    /// Not executed: 429 with a problem body, `Retry-After: <seconds>` and
    /// `X-RateLimit-Retry-After: <emulator now + seconds, epoch seconds>`.
    RateLimited {
        /// How long the client should wait.
        retry_after: Duration,
    },
    /// Wait (tokio's timer), then answer normally.
    Delay(Duration),
    /// Not executed: the connection closes before the response head (in-process:
    /// `TransportError::io`).
    DropBeforeProcessing,
    /// Executed, then the connection closes before the response head (in-process:
    /// `TransportError::io`).
    DropAfterProcessing,
    /// Executed; the head is sent, then the connection closes mid-body (in-process:
    /// `TransportError::body`).
    TruncatedBody,
    /// Executed; the body is replaced by malformed JSON (the status and headers stay).
    MalformedJson,
    /// Executed; the `Content-Type` becomes `text/html` and the body an HTML page.
    WrongContentType,
    /// Executed; the answer becomes a 200 with an empty body.
    EmptyBody,
    /// Executed; the body is padded to `n` bytes (still valid JSON where it was JSON). In
    /// process, a body over the request's `BodyLimit` fails with `TransportError::body_too_large`.
    OversizedBody(usize),
}

/// A [`Fault`] and how many matching requests it hits, for [`Emulator::inject`]: a bare
/// `Fault` hits the next one, [`Fault::times`] says how many.
///
/// [`Emulator::inject`]: crate::Emulator::inject
///
/// ```
/// use rebilly_auth_emulator::{Fault, Injection};
///
/// assert_eq!(Injection::from(Fault::EmptyBody).count(), 1);
/// assert_eq!(Fault::EmptyBody.times(3).count(), 3);
/// assert_eq!(Fault::EmptyBody.times(3).fault(), &Fault::EmptyBody);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Injection {
    pub(crate) fault: Fault,
    pub(crate) times: usize,
}

impl Injection {
    /// The fault.
    pub fn fault(&self) -> &Fault {
        &self.fault
    }

    /// How many matching requests it hits.
    pub fn count(&self) -> usize {
        self.times
    }
}

impl From<Fault> for Injection {
    /// The fault, for the next matching request only.
    fn from(fault: Fault) -> Self {
        Self { fault, times: 1 }
    }
}

/// The longest [`Fault::Delay`] the control API takes.
pub const MAX_CONTROL_DELAY: Duration = Duration::from_secs(3600);

/// The longest [`Fault::RateLimited`] wait the control API takes (ten years).
pub const MAX_CONTROL_RETRY_AFTER: Duration = Duration::from_secs(10 * 366 * 24 * 3600);

/// The largest [`Fault::OversizedBody`] the control API takes (64 MiB).
pub const MAX_CONTROL_OVERSIZED_BODY: usize = 64 * 1024 * 1024;

impl Fault {
    /// This fault for the next `n` matching requests (0: none).
    pub fn times(self, n: usize) -> Injection {
        Injection {
            fault: self,
            times: n,
        }
    }

    /// Its name in the control API's JSON (`{"kind": "…"}`), such as `status` or
    /// `dropAfterProcessing`.
    pub fn kind(&self) -> &'static str {
        match self {
            Fault::Status(_) => "status",
            Fault::StatusAfterProcessing(_) => "statusAfterProcessing",
            Fault::RateLimited { .. } => "rateLimited",
            Fault::Delay(_) => "delay",
            Fault::DropBeforeProcessing => "dropBeforeProcessing",
            Fault::DropAfterProcessing => "dropAfterProcessing",
            Fault::TruncatedBody => "truncatedBody",
            Fault::MalformedJson => "malformedJson",
            Fault::WrongContentType => "wrongContentType",
            Fault::EmptyBody => "emptyBody",
            Fault::OversizedBody(_) => "oversizedBody",
        }
    }

    /// The control API's JSON form: `{"kind": "status", "status": 502}`,
    /// `{"kind": "rateLimited", "retryAfterSeconds": 30}`, `{"kind": "delay", "milliseconds":
    /// 250}`, `{"kind": "oversizedBody", "bytes": 2000000}`, or `{"kind": K}` for the others.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Fault::Status(status) | Fault::StatusAfterProcessing(status) => {
                json!({"kind": self.kind(), "status": status.as_u16()})
            }
            Fault::RateLimited { retry_after } => {
                json!({"kind": self.kind(), "retryAfterSeconds": retry_after.as_secs()})
            }
            Fault::Delay(by) => {
                json!({"kind": self.kind(), "milliseconds": u64::try_from(by.as_millis()).unwrap_or(u64::MAX)})
            }
            Fault::OversizedBody(bytes) => json!({"kind": self.kind(), "bytes": bytes}),
            _ => json!({"kind": self.kind()}),
        }
    }

    /// Reads the [`to_json`](Self::to_json) form, checking every number: a status from 200
    /// to 599, a delay up to [`MAX_CONTROL_DELAY`], a wait up to
    /// [`MAX_CONTROL_RETRY_AFTER`], a body up to [`MAX_CONTROL_OVERSIZED_BODY`]. `Err` names
    /// the member and what is wrong.
    pub fn from_json(value: &serde_json::Value) -> Result<Fault, (String, String)> {
        fn err<T>(field: &str, message: &str) -> Result<T, (String, String)> {
            Err((field.to_owned(), message.to_owned()))
        }
        let Some(kind) = value.get("kind").and_then(serde_json::Value::as_str) else {
            return err("fault.kind", "is required: a string naming the fault");
        };
        let number = |name: &str| value.get(name).and_then(serde_json::Value::as_u64);
        let status = || match number("status").and_then(|s| u16::try_from(s).ok()) {
            Some(s @ 200..=599) => StatusCode::from_u16(s)
                .map_err(|_| ("fault.status".to_owned(), "is not a status".to_owned())),
            _ => err("fault.status", "must be an integer from 200 to 599"),
        };
        Ok(match kind {
            "status" => Fault::Status(status()?),
            "statusAfterProcessing" => Fault::StatusAfterProcessing(status()?),
            "rateLimited" => match number("retryAfterSeconds").map(Duration::from_secs) {
                Some(by) if by <= MAX_CONTROL_RETRY_AFTER => Fault::RateLimited { retry_after: by },
                _ => {
                    return err(
                        "fault.retryAfterSeconds",
                        "must be an integer number of seconds, at most ten years",
                    );
                }
            },
            "delay" => match number("milliseconds").map(Duration::from_millis) {
                Some(by) if by <= MAX_CONTROL_DELAY => Fault::Delay(by),
                _ => {
                    return err(
                        "fault.milliseconds",
                        "must be an integer number of milliseconds, at most an hour",
                    );
                }
            },
            "oversizedBody" => match number("bytes").and_then(|b| usize::try_from(b).ok()) {
                Some(bytes) if bytes <= MAX_CONTROL_OVERSIZED_BODY => Fault::OversizedBody(bytes),
                _ => {
                    return err(
                        "fault.bytes",
                        "must be an integer number of bytes, at most 64 MiB",
                    );
                }
            },
            "dropBeforeProcessing" => Fault::DropBeforeProcessing,
            "dropAfterProcessing" => Fault::DropAfterProcessing,
            "truncatedBody" => Fault::TruncatedBody,
            "malformedJson" => Fault::MalformedJson,
            "wrongContentType" => Fault::WrongContentType,
            "emptyBody" => Fault::EmptyBody,
            _ => {
                return err(
                    "fault.kind",
                    "must be one of status, statusAfterProcessing, rateLimited, delay, \
                 dropBeforeProcessing, dropAfterProcessing, truncatedBody, malformedJson, \
                 wrongContentType, emptyBody, oversizedBody",
                );
            }
        })
    }

    /// Whether the emulator executes the request before the fault takes effect.
    pub fn executes(&self) -> bool {
        !matches!(
            self,
            Fault::Status(_) | Fault::RateLimited { .. } | Fault::DropBeforeProcessing
        )
    }
}

/// Which requests a fault applies to: every request, one operation, or every request with
/// one method.
///
/// ```
/// use rebilly_auth_core::OperationId;
/// use rebilly_auth_emulator::RequestMatcher;
///
/// let login = RequestMatcher::operation(OperationId::PostAuthenticationToken);
/// let writes = RequestMatcher::any().method(http::Method::POST);
/// assert_eq!(login.matched_operation(), Some(OperationId::PostAuthenticationToken));
/// assert_eq!(writes.matched_method(), Some(&http::Method::POST));
/// assert_eq!((writes.matched_operation(), RequestMatcher::any().matched_method()), (None, None));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestMatcher {
    method: Option<Method>,
    operation: Option<OperationId>,
}

impl RequestMatcher {
    /// Matches every request.
    pub fn any() -> Self {
        Self::default()
    }

    /// Matches the requests of one operation.
    pub fn operation(operation: OperationId) -> Self {
        Self {
            method: None,
            operation: Some(operation),
        }
    }

    /// Only requests with `method` (whatever their route, unknown ones included).
    pub fn method(mut self, method: Method) -> Self {
        self.method = Some(method);
        self
    }

    /// The operation it matches, if it matches one only.
    pub fn matched_operation(&self) -> Option<OperationId> {
        self.operation
    }

    /// The method it matches, if it matches one only.
    pub fn matched_method(&self) -> Option<&Method> {
        self.method.as_ref()
    }

    pub(crate) fn matches(&self, method: &Method, operation: Option<OperationId>) -> bool {
        self.method.as_ref().is_none_or(|m| m == method)
            && self.operation.is_none_or(|op| Some(op) == operation)
    }
}

#[derive(Debug)]
pub(crate) struct FaultRule {
    pub(crate) matcher: RequestMatcher,
    pub(crate) fault: Fault,
    pub(crate) remaining: usize,
}

/// Takes the fault for a request, if a rule matches (first injected first).
pub(crate) fn take(
    rules: &mut Vec<FaultRule>,
    method: &Method,
    operation: Option<OperationId>,
) -> Option<Fault> {
    let index = rules
        .iter()
        .position(|rule| rule.remaining > 0 && rule.matcher.matches(method, operation))?;
    let rule = &mut rules[index];
    rule.remaining -= 1;
    let fault = rule.fault.clone();
    if rule.remaining == 0 {
        rules.remove(index);
    }
    Some(fault)
}
