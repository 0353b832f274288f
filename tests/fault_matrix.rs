//! The fault matrix: every injected fault × every retry class, over both shipped transports
//! (reqwest and hyper) against the emulator served on loopback HTTP.
//!
//! Each cell gets its own emulator, server and transport, sets up what the call needs, injects
//! one fault for the call's operation, makes the call, and checks
//! - the outcome: success (after a retry where one is safe) or the right typed error, and
//! - how many times the emulator *executed* the request against its state: a POST, and an
//!   exchange that spends its token, are never executed twice.
//!
//! The expected outcome of each cell is derived from the retry rules (`expected` below), not
//! copied from a run. `cargo test --test fault_matrix -- --nocapture` prints the matrix as the
//! markdown table that RELIABILITY.md quotes.
//!
//! Time: real sockets and real (tiny) backoffs, never tokio's paused clock. The per-attempt
//! timeout is 1 s, generous enough that a loaded 2-core machine does not trip it by accident;
//! the delay fault waits 2.5 s. Cells run a dozen at a time.

use std::fmt;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::StreamExt;
use http::StatusCode;
use rebilly_auth_core::OperationId;
use rebilly_auth_core::models::Exchange;
use rebilly_auth_core::models::Login;
use rebilly_auth_core::models::NewCredential;
use rebilly_auth_core::{
    Client, Deletion, Error, HttpTransport, RetryPolicy, TransportError, Upserted,
};
use rebilly_auth_hyper::HyperTransport;
use rebilly_auth_reqwest::ReqwestTransport;
use rebilly_auth_testing::emulator::{Emulator, Fault, RequestMatcher};

const ORG: &str = "org";
const KEY: &str = "sk_fault_matrix";
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(1);
const DELAY: Duration = Duration::from_millis(2500);
const BODY_LIMIT: usize = 16 * 1024;
const OVERSIZED: usize = 64 * 1024;
const CONCURRENCY: usize = 12;

/// The faults of the matrix (rows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Row {
    /// `Fault::Status` (`after == false`: not executed) or `Fault::StatusAfterProcessing`.
    Status {
        code: u16,
        after: bool,
    },
    /// 429 with `Retry-After: 1` (and `X-RateLimit-Retry-After`, which `Retry-After` beats).
    RetryAfter,
    /// 429 with only `X-RateLimit-Retry-After` (epoch seconds): `Retry-After` is stripped on
    /// the client side by [`StripRetryAfter`].
    XRateLimitRetryAfter,
    /// 429 asking for 60 s, past the policy's `max_server_wait` of 3 s.
    RateLimitPastCap,
    /// The answer comes after the per-attempt timeout.
    Delay,
    DropBeforeProcessing,
    DropAfterProcessing,
    TruncatedBody,
    MalformedJson,
    WrongContentType,
    EmptyBody,
    OversizedBody,
}

impl Row {
    const ALL: [Row; 19] = [
        Row::Status {
            code: 500,
            after: false,
        },
        Row::Status {
            code: 500,
            after: true,
        },
        Row::Status {
            code: 502,
            after: false,
        },
        Row::Status {
            code: 502,
            after: true,
        },
        Row::Status {
            code: 503,
            after: false,
        },
        Row::Status {
            code: 503,
            after: true,
        },
        Row::Status {
            code: 504,
            after: false,
        },
        Row::Status {
            code: 504,
            after: true,
        },
        Row::RetryAfter,
        Row::XRateLimitRetryAfter,
        Row::RateLimitPastCap,
        Row::Delay,
        Row::DropBeforeProcessing,
        Row::DropAfterProcessing,
        Row::TruncatedBody,
        Row::MalformedJson,
        Row::WrongContentType,
        Row::EmptyBody,
        Row::OversizedBody,
    ];

    fn fault(self) -> Fault {
        match self {
            Row::Status { code, after } => {
                let status = StatusCode::from_u16(code).unwrap();
                if after {
                    Fault::StatusAfterProcessing(status)
                } else {
                    Fault::Status(status)
                }
            }
            Row::RetryAfter | Row::XRateLimitRetryAfter => Fault::RateLimited {
                retry_after: Duration::from_secs(1),
            },
            Row::RateLimitPastCap => Fault::RateLimited {
                retry_after: Duration::from_secs(60),
            },
            Row::Delay => Fault::Delay(DELAY),
            Row::DropBeforeProcessing => Fault::DropBeforeProcessing,
            Row::DropAfterProcessing => Fault::DropAfterProcessing,
            Row::TruncatedBody => Fault::TruncatedBody,
            Row::MalformedJson => Fault::MalformedJson,
            Row::WrongContentType => Fault::WrongContentType,
            Row::EmptyBody => Fault::EmptyBody,
            Row::OversizedBody => Fault::OversizedBody(OVERSIZED),
        }
    }
}

impl fmt::Display for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Row::Status { code, after: false } => write!(f, "{code} (not executed)"),
            Row::Status { code, after: true } => write!(f, "{code} after processing"),
            Row::RetryAfter => f.write_str("429 `Retry-After: 1`"),
            Row::XRateLimitRetryAfter => f.write_str("429 `X-RateLimit-Retry-After` only"),
            Row::RateLimitPastCap => f.write_str("429 `Retry-After: 60` (past the 3 s cap)"),
            Row::Delay => f.write_str("delay 2.5 s > attempt timeout 1 s"),
            Row::DropBeforeProcessing => f.write_str("drop before processing"),
            Row::DropAfterProcessing => f.write_str("drop after processing"),
            Row::TruncatedBody => f.write_str("truncated body"),
            Row::MalformedJson => f.write_str("invalid JSON"),
            Row::WrongContentType => f.write_str("wrong content type (HTML)"),
            Row::EmptyBody => f.write_str("empty body on 200"),
            Row::OversizedBody => f.write_str("body 64 KiB > limit 16 KiB"),
        }
    }
}

/// The retry classes (columns), each with the operation that stands for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// `GET /credentials/{id}`.
    Get,
    /// `PUT /credentials/{id}` of an existing credential.
    Put,
    /// `DELETE /credentials/{id}`.
    Delete,
    /// `POST /credentials`.
    Post,
    /// `POST /authentication-tokens/{token}/exchange` that spends its token.
    Exchange,
}

impl Class {
    const ALL: [Class; 5] = [
        Class::Get,
        Class::Put,
        Class::Delete,
        Class::Post,
        Class::Exchange,
    ];

    fn operation(self) -> OperationId {
        match self {
            Class::Get => OperationId::GetCredential,
            Class::Put => OperationId::PutCredential,
            Class::Delete => OperationId::DeleteCredential,
            Class::Post => OperationId::PostCredential,
            Class::Exchange => OperationId::PostAuthenticationTokenExchange,
        }
    }

    fn title(self) -> &'static str {
        match self {
            Class::Get => "GET (get credential)",
            Class::Put => "PUT (upsert credential)",
            Class::Delete => "DELETE (delete credential)",
            Class::Post => "POST (create credential)",
            Class::Exchange => "POST exchange (spends token)",
        }
    }

    fn idempotent(self) -> bool {
        matches!(self, Class::Get | Class::Put | Class::Delete)
    }
}

/// What one cell observed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cell {
    outcome: String,
    /// Requests the emulator saw for the call's operation (faulted ones included).
    sent: usize,
    /// Requests the emulator executed against its state.
    executed: usize,
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} · sent {}, executed {}",
            self.outcome, self.sent, self.executed
        )
    }
}

/// The outcome the retry rules promise for a fault and class.
fn expected(row: Row, class: Class) -> Cell {
    let cell = |outcome: &str, sent: usize, executed: usize| Cell {
        outcome: outcome.to_owned(),
        sent,
        executed,
    };
    // The success of a retried idempotent call: a PUT retried after an ambiguous failure
    // cannot tell created from updated; a DELETE whose first attempt deleted answers 404 on the
    // retry, which counts as presumed deleted.
    let retried = |first_executed: bool| match class {
        Class::Get => "ok",
        Class::Put => "ok: CreatedOrUpdated",
        Class::Delete if first_executed => "ok: PresumedDeleted",
        Class::Delete => "ok: Deleted",
        Class::Post | Class::Exchange => unreachable!(),
    };
    let plain_ok = match class {
        Class::Put => "ok: Updated",
        Class::Delete => "ok: Deleted",
        _ => "ok",
    };
    let executes = |after: bool| usize::from(after);
    match row {
        // 500 is never retried: the API failed, not a gateway.
        Row::Status { code: 500, after } => cell("Api 500", 1, executes(after)),
        // 502-504: idempotent calls retry; POSTs surface the status.
        Row::Status { after, .. } if class.idempotent() => {
            cell(retried(after), 2, 1 + executes(after))
        }
        // A gateway status does not say whether the API ran the exchange.
        Row::Status { code, after } if class == Class::Exchange => cell(
            &format!("ExchangeOutcomeUnknown (Api {code})"),
            1,
            executes(after),
        ),
        Row::Status { code, after } => cell(&format!("Api {code}"), 1, executes(after)),
        // 429: the server refused the request, so every class waits and retries.
        Row::RetryAfter | Row::XRateLimitRetryAfter => cell(plain_ok, 2, 1),
        // A wait past the cap returns the 429 at once, with the time to retry at.
        Row::RateLimitPastCap => cell("Api 429 with retry_at", 1, 0),
        // The delayed attempt is abandoned after 1 s: the client closes its connection, and
        // the emulator's server (hyper) drops the handler still sleeping, so that attempt is
        // neither logged nor executed. Idempotent calls retry at once; POSTs time out, and an
        // exchange's outcome is unknown. (A real server may well execute an abandoned request:
        // the client cannot tell, hence `CreatedOrUpdated` and `ExchangeOutcomeUnknown`.)
        Row::Delay => match class {
            Class::Get | Class::Put | Class::Delete => cell(retried(false), 1, 1),
            Class::Post => cell("Timeout Attempt", 0, 0),
            Class::Exchange => cell("ExchangeOutcomeUnknown (Timeout)", 0, 0),
        },
        Row::DropBeforeProcessing => match class {
            Class::Get | Class::Put | Class::Delete => cell(retried(false), 2, 1),
            Class::Post => cell("Transport Io", 1, 0),
            Class::Exchange => cell("ExchangeOutcomeUnknown (Io)", 1, 0),
        },
        Row::DropAfterProcessing => match class {
            Class::Get | Class::Put | Class::Delete => cell(retried(true), 2, 2),
            Class::Post => cell("Transport Io", 1, 1),
            Class::Exchange => cell("ExchangeOutcomeUnknown (Io)", 1, 1),
        },
        // A 204 has no body to cut or pad: the delete succeeds at once.
        Row::TruncatedBody | Row::OversizedBody if class == Class::Delete => {
            cell("ok: Deleted", 1, 1)
        }
        Row::TruncatedBody | Row::OversizedBody => {
            let kind = if row == Row::TruncatedBody {
                "Body"
            } else {
                "BodyTooLarge"
            };
            match class {
                Class::Post => cell(&format!("Transport {kind}"), 1, 1),
                Class::Exchange => cell(&format!("ExchangeOutcomeUnknown ({kind})"), 1, 1),
                _ => cell(retried(true), 2, 2),
            }
        }
        // A garbled body of a success is a decode error (not retried: the server answered);
        // a delete reads only the status.
        Row::MalformedJson | Row::WrongContentType | Row::EmptyBody => match class {
            Class::Delete => cell("ok: Deleted", 1, 1),
            _ => {
                let category = match row {
                    Row::WrongContentType => "invalid JSON",
                    _ => "truncated JSON",
                };
                cell(&format!("Decode ({category})"), 1, 1)
            }
        },
    }
}

/// Strips `Retry-After` from responses, so that the client sees a server that sends only
/// `X-RateLimit-Retry-After`.
struct StripRetryAfter<T>(T);

#[async_trait]
impl<T: HttpTransport> HttpTransport for StripRetryAfter<T> {
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        let mut response = self.0.send(request).await?;
        if response
            .headers_mut()
            .remove(http::header::RETRY_AFTER)
            .is_some()
        {
            assert!(
                response.headers().contains_key("x-ratelimit-retry-after"),
                "the emulator's 429 carries X-RateLimit-Retry-After"
            );
        }
        Ok(response)
    }
}

fn describe<T>(result: &Result<T, Error>, ok: impl Fn(&T) -> String) -> String {
    match result {
        Ok(value) => ok(value),
        Err(Error::Api(api)) if api.retry_at.is_some() => {
            format!("Api {} with retry_at", api.status.as_u16())
        }
        Err(Error::Api(api)) => format!("Api {}", api.status.as_u16()),
        Err(Error::Decode(decode)) => format!("Decode ({})", decode.category),
        Err(Error::Transport { source, .. }) => format!("Transport {:?}", source.kind()),
        Err(Error::Timeout { scope, .. }) => format!("Timeout {scope:?}"),
        Err(Error::ExchangeOutcomeUnknown { source, .. }) => match &**source {
            Error::Transport { source, .. } => {
                format!("ExchangeOutcomeUnknown ({:?})", source.kind())
            }
            Error::Timeout { .. } => "ExchangeOutcomeUnknown (Timeout)".to_owned(),
            Error::Api(api) => format!("ExchangeOutcomeUnknown (Api {})", api.status.as_u16()),
            other => format!("unexpected: {other}"),
        },
        Err(other) => format!("unexpected: {other}"),
    }
}

/// Runs one cell with `transport`.
async fn run_cell<T: HttpTransport + 'static>(transport: T, row: Row, class: Class) -> Cell {
    let emulator = Emulator::builder().add_organization(ORG, KEY, None).build();
    let server = emulator.serve_on_loopback().await.expect("serve");
    let client = Client::builder()
        .server_url(server.url())
        .organization(ORG)
        .secret_key(KEY)
        .retry_policy(
            RetryPolicy::default()
                .initial_backoff(Duration::from_millis(1))
                .max_backoff(Duration::from_millis(5))
                .max_server_wait(Duration::from_secs(3)),
        )
        .attempt_timeout(ATTEMPT_TIMEOUT)
        .call_timeout(Duration::from_secs(20))
        .body_limit(BODY_LIMIT)
        .transport(transport)
        .build()
        .expect("client");

    // Set up what the call needs, before the fault is armed.
    let new = || NewCredential::new("ada@example.com", "passw0rd!", "cus_ada");
    let existing = if class == Class::Post {
        None
    } else {
        Some(client.credentials().create(new()).await.expect("setup"))
    };
    let token = if class == Class::Exchange {
        let login = client
            .authentication_tokens()
            .login(Login::password("ada@example.com", "passw0rd!"))
            .await
            .expect("setup login");
        Some(login.token)
    } else {
        None
    };
    let id = existing.as_ref().map(|c| c.id.clone());
    let operation = class.operation();
    emulator.inject(RequestMatcher::operation(operation), row.fault());

    let started = Instant::now();
    let outcome = match class {
        Class::Get => {
            let result = client.credentials().get(id.unwrap()).await;
            describe(&result, |c| {
                assert_eq!(c.username, "ada@example.com");
                "ok".into()
            })
        }
        Class::Put => {
            let result = client.credentials().upsert(id.unwrap(), new()).await;
            describe(&result, |u| match u {
                Upserted::Created(_) => "ok: Created".into(),
                Upserted::Updated(_) => "ok: Updated".into(),
                Upserted::CreatedOrUpdated(_) => "ok: CreatedOrUpdated".into(),
                _ => "ok: ?".into(),
            })
        }
        Class::Delete => {
            let result = client.credentials().delete(id.clone().unwrap()).await;
            describe(&result, |d| match d {
                Deletion::Deleted => "ok: Deleted".into(),
                Deletion::PresumedDeleted => "ok: PresumedDeleted".into(),
                _ => "ok: ?".into(),
            })
        }
        Class::Post => {
            let result = client.credentials().create(new()).await;
            describe(&result, |c| {
                assert_eq!(c.username, "ada@example.com");
                "ok".into()
            })
        }
        Class::Exchange => {
            let result = client
                .authentication_tokens()
                .exchange(token.clone().unwrap(), Exchange::new())
                .await;
            describe(&result, |jwt| {
                assert!(!jwt.token.expose().is_empty());
                "ok".into()
            })
        }
    };

    // Had the server gone on with the abandoned delayed request, it would have finished
    // within the delay: wait that long (plus a margin) before counting.
    if row == Row::Delay {
        tokio::time::sleep_until((started + DELAY + Duration::from_millis(500)).into()).await;
    }
    assert_eq!(
        emulator.pending_faults(),
        0,
        "{row} × {class:?}: fault unused"
    );
    let cell = Cell {
        outcome,
        sent: emulator.requests_seen(operation),
        executed: emulator.executed(operation),
    };

    // What the state says agrees with the count.
    let credentials = client.credentials().list().await.expect("list").items;
    match class {
        Class::Post => assert_eq!(credentials.len(), cell.executed, "{row} × POST"),
        Class::Delete if cell.executed > 0 => {
            assert!(credentials.is_empty(), "{row} × DELETE: deleted")
        }
        _ => {}
    }
    if class == Class::Exchange && cell.executed > 0 {
        let spent = client
            .authentication_tokens()
            .verify(token.unwrap())
            .await
            .expect("verify");
        assert!(spent.is_none(), "{row} × exchange: the token is spent");
    }
    server.shutdown().await;
    cell
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    Reqwest,
    Hyper,
}

async fn cell_over(transport: Transport, row: Row, class: Class) -> Cell {
    match (transport, row) {
        (Transport::Reqwest, Row::XRateLimitRetryAfter) => {
            run_cell(
                StripRetryAfter(ReqwestTransport::new().unwrap()),
                row,
                class,
            )
            .await
        }
        (Transport::Reqwest, _) => run_cell(ReqwestTransport::new().unwrap(), row, class).await,
        (Transport::Hyper, Row::XRateLimitRetryAfter) => {
            run_cell(StripRetryAfter(HyperTransport::new().unwrap()), row, class).await
        }
        (Transport::Hyper, _) => run_cell(HyperTransport::new().unwrap(), row, class).await,
    }
}

fn table(results: &[(Row, Class, Cell)]) -> String {
    let mut out = String::from("| fault |");
    for class in Class::ALL {
        out.push_str(&format!(" {} |", class.title()));
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(Class::ALL.len()));
    out.push('\n');
    for row in Row::ALL {
        out.push_str(&format!("| {row} |"));
        for class in Class::ALL {
            let cell = results
                .iter()
                .find(|(r, c, _)| *r == row && *c == class)
                .map(|(_, _, cell)| cell.to_string())
                .unwrap_or_default();
            out.push_str(&format!(" {cell} |"));
        }
        out.push('\n');
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fault_matrix_over_both_transports() {
    let started = Instant::now();
    let cells: Vec<(Transport, Row, Class)> = [Transport::Reqwest, Transport::Hyper]
        .into_iter()
        .flat_map(|t| {
            Row::ALL
                .into_iter()
                .flat_map(move |r| Class::ALL.into_iter().map(move |c| (t, r, c)))
        })
        .collect();
    // Slow cells (rate-limit waits, delays) first, so they overlap with the quick ones.
    let mut cells = cells;
    cells.sort_by_key(|(_, row, _)| {
        !matches!(
            row,
            Row::Delay | Row::RetryAfter | Row::XRateLimitRetryAfter
        )
    });
    let results: Vec<(Transport, Row, Class, Cell)> = futures_util::stream::iter(cells)
        .map(|(t, r, c)| async move {
            let cell = tokio::spawn(cell_over(t, r, c))
                .await
                .unwrap_or_else(|e| panic!("{t:?} {r} × {c:?} panicked: {e}"));
            (t, r, c, cell)
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;

    let mut failures = Vec::new();
    for (transport, row, class, cell) in &results {
        let want = expected(*row, *class);
        if *cell != want {
            failures.push(format!(
                "{transport:?} | {row} × {class:?}: got `{cell}`, expected `{want}`"
            ));
        }
        // The promise: a non-idempotent request is never executed twice.
        if !class.idempotent() {
            assert!(
                cell.executed <= 1,
                "{transport:?} {row} × {class:?}: {cell}"
            );
        }
    }
    let of = |transport: Transport| {
        let mut cells: Vec<(Row, Class, Cell)> = results
            .iter()
            .filter(|(t, ..)| *t == transport)
            .map(|(_, r, c, cell)| (*r, *c, cell.clone()))
            .collect();
        cells.sort_by_key(|(r, c, _)| (format!("{r}"), *c as u8));
        cells
    };
    let (reqwest, hyper) = (of(Transport::Reqwest), of(Transport::Hyper));
    if reqwest == hyper {
        println!(
            "\nFault matrix (reqwest and hyper alike; \"sent\": requests the emulator saw for the \
             call's route, \"executed\": those it ran against its state):\n\n{}",
            table(&reqwest)
        );
    } else {
        println!("\n### reqwest\n\n{}", table(&reqwest));
        println!("\n### hyper\n\n{}", table(&hyper));
    }
    println!(
        "{} cells in {:.1} s",
        results.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
