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

impl Fault {
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
/// use rebilly_auth_testing::emulator::RequestMatcher;
///
/// let login = RequestMatcher::operation(OperationId::PostAuthenticationToken);
/// let writes = RequestMatcher::any().method(http::Method::POST);
/// # let _ = (login, writes);
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
