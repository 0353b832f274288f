//! Sending a call: attempts raced against their deadlines, retried as
//! [`retry::decide`](crate::retry) says, each inside its own span.

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::task::Poll;
use std::time::{Duration, SystemTime};

use http::StatusCode;
use tracing::Instrument;

use super::{Client, PreparedCall};
use crate::decode::RawResponse;
use crate::error::{Error, TimeoutScope};
use crate::response::ResponseMeta;
use crate::retry::{self, AttemptEnd, Decision, ServerWait, decide, full_jitter};
use crate::runtime::{Sleep, SleepFuture};
use crate::transport::{AttemptTimeout, TransportError, TransportErrorKind};

impl Client {
    /// Sends `call`, retrying per the policy within the deadlines, inside one
    /// `rebilly_auth.call` span (OpenTelemetry kind `internal`) with one `client` span per
    /// attempt.
    pub(crate) async fn execute(&self, call: PreparedCall) -> Result<RawResponse, Error> {
        let organization = call
            .organization
            .as_ref()
            .unwrap_or(&self.inner.organization);
        let span = tracing::info_span!(
            "rebilly_auth.call",
            otel.kind = "internal",
            operation = call.operation.name(),
            organization = organization.as_str(),
            route = call.operation.path_template(),
            status = tracing::field::Empty,
            attempts = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
        );
        let start = self.inner.clock.now();
        let result = self
            .execute_attempts(&call, start)
            .instrument(span.clone())
            .await;
        span.record("duration_ms", self.elapsed_since(start).as_millis() as u64);
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

    /// Time since `start` on the injected clock (zero if the clock went back).
    fn elapsed_since(&self, start: SystemTime) -> Duration {
        self.inner
            .clock
            .now()
            .duration_since(start)
            .unwrap_or_default()
    }

    /// The attempt loop: send, classify, let [`decide`] choose, sleep, repeat.
    async fn execute_attempts(
        &self,
        call: &PreparedCall,
        start: SystemTime,
    ) -> Result<RawResponse, Error> {
        let inner = &*self.inner;
        // Per-call overrides (`Request::retry_policy`, `call_timeout`, `attempt_timeout`) win.
        let retry = call.retry.as_ref().unwrap_or(&inner.retry);
        let call_timeout = call.call_timeout.unwrap_or(inner.call_timeout);
        let attempt_timeout = call.attempt_timeout.unwrap_or(inner.attempt_timeout);
        let time_left = || call_timeout.saturating_sub(self.elapsed_since(start));
        let mut retried_after_ambiguity = false;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            // The first attempt has the whole budget: no clock read.
            let remaining = if attempt == 1 {
                call_timeout
            } else {
                time_left()
            };
            let limit = attempt_timeout.min(remaining);
            let scope = if limit < attempt_timeout {
                TimeoutScope::Call
            } else {
                TimeoutScope::Attempt
            };
            let span = self.attempt_span(call, attempt);
            // Addressed anew per attempt: cheaper than cloning for the usual single attempt.
            let mut request = self.http_request(call, self.address(call)?);
            if inner.attempt_timeout_in_request {
                // A blocking transport cannot be raced (see `AttemptTimeout`): it applies the
                // limit itself, and its timeout is read as the race's timer below.
                request.extensions_mut().insert(AttemptTimeout(limit));
            }
            let sent = race(
                inner.transport.send(request).instrument(span.clone()),
                &*inner.sleep,
                limit,
            )
            .await;
            let sent = match sent {
                // The blocking transport's own reading of the limit it was given: the same
                // outcome as the race's timer (a connect-stage timeout, never sent, stays as is).
                Some(Err(error))
                    if inner.attempt_timeout_in_request
                        && error.kind() == TransportErrorKind::Timeout
                        && error.may_have_reached_server() =>
                {
                    None
                }
                sent => sent,
            };
            let (end, outcome) = match sent {
                Some(Ok(response)) => {
                    let (parts, body) = response.into_parts();
                    span.record("http.response.status_code", parts.status.as_u16());
                    if parts.status.as_u16() >= 400 {
                        span.record("error.type", parts.status.as_str());
                        span.record("otel.status_code", "ERROR");
                    }
                    // The clock is read only for the answers that may carry a wait.
                    let server_wait = match parts.status {
                        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
                            retry::server_wait(&parts.headers, inner.clock.now())
                        }
                        _ => ServerWait::Absent,
                    };
                    let end = AttemptEnd::Answered {
                        status: parts.status,
                        server_wait,
                    };
                    let raw = RawResponse {
                        meta: ResponseMeta::new(parts.status, parts.headers, attempt),
                        body,
                        retried_after_ambiguity,
                        retry_at: server_wait.retry_at(),
                    };
                    (end, Ok(raw))
                }
                Some(Err(error)) => {
                    span.record("error.type", error_type(error.kind()));
                    span.record("otel.status_code", "ERROR");
                    let reached = error.may_have_reached_server();
                    (
                        AttemptEnd::NoAnswer { reached },
                        Err(Failure::Transport(error)),
                    )
                }
                None => {
                    span.record("error.type", error_type(TransportErrorKind::Timeout));
                    span.record("otel.status_code", "ERROR");
                    let end = match scope {
                        TimeoutScope::Call => AttemptEnd::CallTimedOut,
                        _ => AttemptEnd::NoAnswer { reached: true },
                    };
                    (end, Err(Failure::Timeout(scope, limit)))
                }
            };
            match decide(retry, call.class, end, attempt, time_left, full_jitter) {
                Decision::Retry { wait, ambiguous } => {
                    retried_after_ambiguity |= ambiguous;
                    tracing::debug!(attempt, wait_ms = wait.as_millis() as u64, "retrying");
                    inner.sleep.sleep(wait).await;
                }
                Decision::Return => {
                    return outcome.map_err(|failure| failure.into_error(call.operation));
                }
                Decision::ReturnOutcomeUnknown => {
                    let source = match outcome {
                        Ok(raw) => raw.api_error(call.operation),
                        Err(failure) => failure.into_error(call.operation),
                    };
                    return Err(Error::ExchangeOutcomeUnknown {
                        operation: call.operation,
                        source: Box::new(source),
                    });
                }
            }
        }
    }

    /// The span of one attempt, by OpenTelemetry's HTTP-client conventions. It records the
    /// route template, never the real path (which may hold a token).
    fn attempt_span(&self, call: &PreparedCall, attempt: u32) -> tracing::Span {
        let inner = &*self.inner;
        let operation = call.operation;
        let span = tracing::info_span!(
            "rebilly_auth.attempt",
            otel.kind = "client",
            otel.name = tracing::field::Empty,
            http.request.method = operation.method().as_str(),
            url.template = operation.url_template(),
            server.address = inner.authority.host(),
            server.port = inner.server_port,
            http.request.resend_count = tracing::field::Empty,
            http.response.status_code = tracing::field::Empty,
            error.type = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            url.full = tracing::field::Empty,
        );
        if !span.is_disabled() {
            span.record(
                "otel.name",
                format!("{} {}", operation.method(), operation.url_template()),
            );
            span.record(
                "url.full",
                redacted_url(
                    inner.scheme.as_str(),
                    inner.authority.as_str(),
                    &inner.base_path,
                    operation.url_template(),
                    call.query.as_deref(),
                ),
            );
            if attempt > 1 {
                span.record("http.request.resend_count", attempt - 1);
            }
        }
        span
    }
}

/// The attempt's URL for spans (`url.full`), with every path parameter (the organization, a
/// token, an id) and every query value written as `REDACTED`: the template's placeholders
/// are never filled, and the query keeps only its names.
fn redacted_url(
    scheme: &str,
    authority: &str,
    base_path: &str,
    url_template: &str,
    query: Option<&str>,
) -> String {
    let mut url = format!("{scheme}://{authority}{base_path}");
    let mut rest = url_template;
    while let Some(open) = rest.find('{') {
        url.push_str(&rest[..open]);
        url.push_str("REDACTED");
        rest = rest[open..]
            .find('}')
            .map_or("", |close| &rest[open + close + 1..]);
    }
    url.push_str(rest);
    if let Some(query) = query.filter(|q| !q.is_empty()) {
        url.push('?');
        for (i, (name, _)) in form_urlencoded::parse(query.as_bytes()).enumerate() {
            if i > 0 {
                url.push('&');
            }
            url.extend(form_urlencoded::byte_serialize(name.as_bytes()));
            url.push_str("=REDACTED");
        }
    }
    url
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
    fn into_error(self, operation: crate::routes::OperationId) -> Error {
        match self {
            Failure::Transport(source) => Error::Transport { operation, source },
            Failure::Timeout(scope, after) => Error::Timeout {
                operation,
                scope,
                after,
            },
        }
    }
}

/// OpenTelemetry's `error.type` of a failure without an answer: a short, low-cardinality id.
fn error_type(kind: TransportErrorKind) -> &'static str {
    match kind {
        TransportErrorKind::Dns => "dns",
        TransportErrorKind::Connect => "connect",
        TransportErrorKind::TlsHandshake => "tls_handshake",
        TransportErrorKind::Timeout => "timeout",
        TransportErrorKind::Io => "io",
        TransportErrorKind::Body => "body",
        TransportErrorKind::BodyTooLarge => "body_too_large",
        _ => "_OTHER",
    }
}

#[cfg(test)]
mod tests {
    use super::redacted_url;

    #[test]
    fn url_full_keeps_no_parameter_value() {
        let url = redacted_url(
            "https",
            "api.example:8443",
            "/base",
            "/organizations/{organizationId}/authentication-tokens/{token}/exchange",
            Some("limit=10&offset=20"),
        );
        assert_eq!(
            url,
            "https://api.example:8443/base/organizations/REDACTED/authentication-tokens/REDACTED/exchange?limit=REDACTED&offset=REDACTED"
        );
        assert_eq!(
            redacted_url(
                "http",
                "127.0.0.1:1",
                "",
                "/organizations/{organizationId}/credentials",
                None
            ),
            "http://127.0.0.1:1/organizations/REDACTED/credentials"
        );
    }
}
