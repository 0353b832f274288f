//! The shared request handler of both faces (in-process transport and HTTP server): faults,
//! the control API, CORS, authentication, rate limits, then the operation.

use super::state::{MAX_PASSWORD_LENGTH, PasswordCheck, PasswordVerdict, check_password};
use super::*;

/// The longest password whose pattern check runs inline rather than on the blocking pool.
const INLINE_PASSWORD_CHECK: usize = 64;

impl Emulator {
    /// Records a request the HTTP face refused before the handler saw it (e.g. 413).
    pub(crate) fn record_refused(&self, parts: &http::request::Parts, status: StatusCode) {
        if control::is_control_path(parts.uri.path()) {
            return;
        }
        let parsed = routes::parse(&parts.method, parts.uri.path());
        let entry = LoggedRequest {
            method: parts.method.clone(),
            operation: parsed.as_ref().and_then(|p| p.operation),
            route: parsed.as_ref().map(|p| p.template),
            organization: parsed.and_then(|p| p.organization),
            fault: None,
            executed: false,
            status: Some(status.as_u16()),
            time: self.shared.clock.now(),
        };
        lock(&self.shared.journal).record(entry);
    }

    /// The shared request handler of both faces: the control API under `/__emulator/`, then
    /// the API's 16 routes (with `OPTIONS` preflights, `HEAD`, and CORS headers for allowed
    /// origins).
    pub(crate) async fn process(&self, request: http::Request<Bytes>) -> Outcome {
        if control::is_control_path(request.uri().path()) {
            return Outcome::Reply(control::handle(self, &request));
        }
        let (mut parts, body) = request.into_parts();
        let method = parts.method.clone();
        let behaviours = lock(&self.shared.state).behaviours;
        let origin = cors::allowed_origin(&self.shared.cors_origins, &parts.headers);
        let cors_on = !self.shared.cors_origins.is_empty();
        let mut parsed = routes::parse(&method, parts.uri.path());
        if let Some(route) = parsed.as_ref().filter(|_| method == Method::OPTIONS) {
            // Preflights are answered before authentication: browsers send no credentials.
            let reply = cors::preflight(route.template, origin.as_ref());
            lock(&self.shared.journal).record(LoggedRequest {
                method,
                operation: None,
                route: Some(route.template),
                organization: route.organization.clone(),
                fault: None,
                executed: false,
                status: Some(reply.status.as_u16()),
                time: self.shared.clock.now(),
            });
            return Outcome::Reply(reply);
        }
        if method == Method::HEAD {
            if let Some(route) = &mut parsed {
                if let Some(get) = OperationId::from_route(&Method::GET, route.template) {
                    // HEAD is answered like GET; each face drops the body.
                    route.operation = Some(get);
                    parts.method = Method::GET;
                }
            }
        }
        let operation = parsed.as_ref().and_then(|p| p.operation);
        let mut fault = faults::take(&mut lock(&self.shared.faults), &method, operation);
        let mut entry = LoggedRequest {
            method: method.clone(),
            operation,
            route: parsed.as_ref().map(|p| p.template),
            organization: None,
            fault: fault.clone(),
            executed: false,
            status: None,
            time: self.shared.clock.now(),
        };
        if let Some(Fault::Delay(by)) = fault {
            tokio::time::sleep(by).await;
            fault = None;
        }
        let organization_of_path = parsed.as_ref().and_then(|p| p.organization.clone());
        let mut outcome = match &fault {
            Some(Fault::Status(status)) => Outcome::Reply(Reply::problem(
                *status,
                "injected by the emulator's fault injection",
            )),
            Some(Fault::RateLimited { retry_after }) => {
                let at = clock::saturating_add_std(self.shared.clock.now(), *retry_after);
                let seconds = retry_after.as_secs_f64().ceil() as u64;
                Outcome::Reply(
                    Reply::problem(
                        StatusCode::TOO_MANY_REQUESTS,
                        "A request cannot be executed because the user has sent too many requests within a certain period of time",
                    )
                    .with_header("retry-after", &seconds.to_string())
                    .with_header("x-ratelimit-retry-after", &at.unix_timestamp().to_string()),
                )
            }
            Some(Fault::DropBeforeProcessing) => Outcome::Drop,
            _ => {
                let (reply, organization, executed) =
                    self.execute_checked(&parts, parsed, &body).await;
                entry.organization = organization;
                entry.executed = executed;
                apply_fault(fault.as_ref(), reply)
            }
        };
        if entry.organization.is_none() {
            entry.organization = organization_of_path;
        }
        if let Outcome::Reply(reply) | Outcome::Truncated(reply) = &mut outcome {
            handlers::apply_error_content_type(reply, behaviours);
            if cors_on {
                cors::decorate(reply, origin.as_ref());
            }
        }
        entry.status = match &outcome {
            Outcome::Reply(reply) | Outcome::Truncated(reply) => Some(reply.status.as_u16()),
            Outcome::Drop => None,
        };
        lock(&self.shared.journal).record(entry);
        outcome
    }

    /// Checks the password of a credential write first, outside the state lock and off the
    /// runtime's workers, then runs [`execute`](Self::execute) with the verdict. Should the
    /// organization's `passwordPattern` change during the check, the verdict no longer counts
    /// and the password is checked again against the new pattern (at most
    /// [`PASSWORD_CHECK_ATTEMPTS`] times, then 409): a password is only ever accepted by the
    /// pattern in force when the credential is written.
    async fn execute_checked(
        &self,
        parts: &http::request::Parts,
        parsed: Option<routes::Parsed>,
        body: &[u8],
    ) -> (Reply, Option<String>, bool) {
        for _ in 0..PASSWORD_CHECK_ATTEMPTS {
            let check = self
                .check_password_first(parts, parsed.as_ref(), body)
                .await;
            // A bug must not take the connection (or the caller's thread) down with it: a
            // panic becomes a 500 problem (the panic hook still reports it).
            let done = std::panic::catch_unwind(AssertUnwindSafe(|| {
                self.execute(parts, parsed.clone(), body, check.as_ref())
            }));
            match done {
                Ok(Some(done)) => return done,
                Ok(None) => continue,
                Err(_) => {
                    return (
                        Reply::problem(
                            StatusCode::INTERNAL_SERVER_ERROR,
                            "the emulator failed on this request (a bug in the emulator)",
                        ),
                        None,
                        true,
                    );
                }
            }
        }
        (
            Reply::problem(
                StatusCode::CONFLICT,
                "the organization's passwordPattern kept changing while the password was checked; send the request again",
            ),
            parsed.and_then(|p| p.organization),
            false,
        )
    }

    /// The password check of `POST`/`PUT /credentials`, before the state lock is taken: the
    /// pattern is copied out under the lock, the check runs without it (on tokio's blocking
    /// pool when there is a runtime, so that it never occupies a worker). `None` for other
    /// operations and for bodies without a password string (the handler refuses those).
    async fn check_password_first(
        &self,
        parts: &http::request::Parts,
        parsed: Option<&routes::Parsed>,
        body: &[u8],
    ) -> Option<PasswordCheck> {
        let parsed = parsed?;
        if !matches!(
            parsed.operation?,
            OperationId::PostCredential | OperationId::PutCredential
        ) {
            return None;
        }
        let mut map = handlers::parse_object(body, false).ok()?;
        let serde_json::Value::String(password) = map.remove("password")? else {
            return None;
        };
        let organization = organization_of(parts, parsed)?;
        let pattern = lock(&self.shared.state)
            .organizations
            .get(&organization)?
            .options
            .compiled
            .clone();
        // A short password is checked at once (cheap whatever the pattern, and an in-process
        // answer ready on the first poll, as a client with an instant sleep needs); a longer
        // one on tokio's blocking pool, so that no check holds up this task's thread.
        let length = password.chars().count();
        let verdict = match (&pattern, tokio::runtime::Handle::try_current()) {
            (Some(_), Ok(runtime))
                if (INLINE_PASSWORD_CHECK + 1..=MAX_PASSWORD_LENGTH).contains(&length) =>
            {
                let checked = pattern.clone();
                runtime
                    .spawn_blocking(move || check_password(checked.as_ref(), &password))
                    .await
                    .unwrap_or(PasswordVerdict::TooComplex)
            }
            _ => check_password(pattern.as_ref(), &password),
        };
        Some(PasswordCheck { pattern, verdict })
    }

    /// Authenticates, rate-limits and runs the operation; returns the reply, the
    /// organization, and whether the state handler ran. `None` when `check` was made against
    /// a `passwordPattern` that is no longer in force (nothing was changed).
    fn execute(
        &self,
        parts: &http::request::Parts,
        parsed: Option<routes::Parsed>,
        body: &[u8],
        check: Option<&PasswordCheck>,
    ) -> Option<(Reply, Option<String>, bool)> {
        let Some(parsed) = parsed else {
            return Some((
                Reply::problem(StatusCode::NOT_FOUND, "no such route"),
                None,
                false,
            ));
        };
        let organization = organization_of(parts, &parsed);
        let Some(organization) = organization else {
            return Some((
                Reply::problem(
                    StatusCode::NOT_FOUND,
                    "the path must start with /organizations/{organizationId}",
                ),
                None,
                false,
            ));
        };
        let now = self.shared.clock.now();
        let base = base_url(parts);
        let mut guard = lock(&self.shared.state);
        let State {
            organizations,
            seq,
            rng,
            behaviours,
        } = &mut *guard;
        let Some(org) = organizations.get_mut(&organization) else {
            return Some((
                Reply::problem(StatusCode::UNAUTHORIZED, "invalid credentials were used"),
                Some(organization),
                false,
            ));
        };
        let caller = match auth::authenticate(org, &parts.headers, now) {
            Ok(caller) => caller,
            Err(detail) => {
                return Some((
                    Reply::problem(StatusCode::UNAUTHORIZED, detail),
                    Some(organization),
                    false,
                ));
            }
        };
        let Some(operation) = parsed.operation else {
            return Some((
                handlers::method_not_allowed(parsed.template),
                Some(organization),
                false,
            ));
        };
        if check.is_some_and(|check| !check.still_applies(org.options.compiled.as_ref())) {
            // The pattern changed while the password was checked: check again.
            return None;
        }
        if let Err((status, detail)) = auth::permit(&caller, operation) {
            return Some((Reply::problem(status, detail), Some(organization), false));
        }
        let limited = parts.method != Method::GET;
        if limited {
            if now >= clock::saturating_add(org.rate_window_start, RATE_WINDOW) {
                org.rate_window_start = now;
                org.rate_used = 0;
            }
            if org.rate_used >= self.shared.rate_limit {
                let reset = clock::saturating_add(org.rate_window_start, RATE_WINDOW);
                let reply = Reply::problem(
                    StatusCode::TOO_MANY_REQUESTS,
                    "A request cannot be executed because the user has sent too many requests within a certain period of time",
                )
                .with_header("x-ratelimit-retry-after", &reset.unix_timestamp().to_string())
                .with_header("retry-after", &(reset - now).whole_seconds().max(1).to_string());
                return Some((reply, Some(organization), false));
            }
            org.rate_used = org.rate_used.saturating_add(1);
            // Writes purge what expired: memory stays bounded however long the emulator runs.
            org.purge_due(now);
        }
        let mut ctx = Ctx {
            operation,
            param: parsed.param.as_deref(),
            query: parts.uri.query(),
            body,
            org,
            caller,
            now,
            base: &base,
            seq,
            rng,
            behaviours: *behaviours,
            max_records: self.shared.max_records,
            password_check: check,
        };
        let mut reply = handlers::dispatch(&mut ctx);
        if limited && reply.status.is_success() {
            let remaining = self.shared.rate_limit.saturating_sub(ctx.org.rate_used);
            reply = reply
                .with_header("x-ratelimit-limit", &self.shared.rate_limit.to_string())
                .with_header("x-ratelimit-remaining", &remaining.to_string());
        }
        Some((reply, Some(organization), true))
    }
}

/// How many times a credential write checks its password when the `passwordPattern` keeps
/// changing under it.
const PASSWORD_CHECK_ATTEMPTS: usize = 3;

/// The organization a request addresses: its path's, else its `Organization-Id` header's.
fn organization_of(parts: &http::request::Parts, parsed: &routes::Parsed) -> Option<String> {
    parsed.organization.clone().or_else(|| {
        parts
            .headers
            .get("organization-id")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_owned())
    })
}

/// `scheme://authority` of the request (absolute URI, else `Host`, else `http://localhost`).
fn base_url(parts: &http::request::Parts) -> String {
    if let (Some(scheme), Some(authority)) = (parts.uri.scheme_str(), parts.uri.authority()) {
        return format!("{scheme}://{authority}");
    }
    match parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
    {
        Some(host) if !host.is_empty() => format!("http://{host}"),
        _ => "http://localhost".into(),
    }
}

/// Applies a fault that acts after execution.
fn apply_fault(fault: Option<&Fault>, mut reply: Reply) -> Outcome {
    match fault {
        None | Some(Fault::Delay(_)) => Outcome::Reply(reply),
        Some(Fault::StatusAfterProcessing(status)) => Outcome::Reply(Reply::problem(
            *status,
            "injected by the emulator's fault injection (after processing)",
        )),
        Some(Fault::DropAfterProcessing) => Outcome::Drop,
        Some(Fault::TruncatedBody) => Outcome::Truncated(reply),
        Some(Fault::MalformedJson) => {
            reply.body = Bytes::from_static(b"{\"username\": \"ada\", \"token\": ");
            Outcome::Reply(reply)
        }
        Some(Fault::WrongContentType) => {
            reply.headers.insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            reply.body = Bytes::from_static(b"<html><body><h1>502 Bad Gateway</h1></body></html>");
            Outcome::Reply(reply)
        }
        Some(Fault::EmptyBody) => {
            reply.status = StatusCode::OK;
            reply.body = Bytes::new();
            Outcome::Reply(reply)
        }
        Some(Fault::OversizedBody(size)) => {
            let size = *size;
            let mut body = Vec::with_capacity(size);
            if reply.body.first() == Some(&b'{') && size > reply.body.len() + 16 {
                // `{"padding":"xxx…", <original members>}` keeps it valid JSON.
                body.extend_from_slice(b"{\"padding\":\"");
                let pad = size - reply.body.len() - 13;
                body.resize(body.len() + pad, b'x');
                body.extend_from_slice(b"\",");
                body.extend_from_slice(&reply.body[1..]);
            } else {
                body.extend_from_slice(&reply.body);
                body.resize(size.max(body.len()), b' ');
            }
            reply.body = Bytes::from(body);
            Outcome::Reply(reply)
        }
        Some(Fault::Status(_) | Fault::RateLimited { .. } | Fault::DropBeforeProcessing) => {
            Outcome::Reply(reply)
        }
    }
}

pub(crate) fn into_response(reply: Reply) -> http::Response<Bytes> {
    let mut response = http::Response::new(reply.body);
    *response.status_mut() = reply.status;
    *response.headers_mut() = reply.headers;
    response
}

#[async_trait]
impl HttpTransport for Emulator {
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        let limit = BodyLimit::of(&request);
        let head = request.method() == Method::HEAD;
        match self.process(request).await {
            Outcome::Reply(mut reply) => {
                if head {
                    // Like an HTTP server: the GET answer's length, no body.
                    let length = reply.body.len().to_string();
                    reply.body = Bytes::new();
                    reply = reply.with_header("content-length", &length);
                }
                if reply.body.len() > limit {
                    return Err(TransportError::body_too_large(limit));
                }
                Ok(into_response(reply))
            }
            Outcome::Drop => Err(TransportError::io(
                "the emulator closed the connection before the response head",
            )),
            Outcome::Truncated(_) => Err(TransportError::body(
                "the emulator closed the connection in the middle of the body",
            )),
        }
    }
}
