//! What the SDK costs over raw HTTP, measured over loopback in one process.
//!
//! 1. **SDK vs raw.** A hyper 1 server on `127.0.0.1` (its own one-thread tokio runtime) answers
//!    every request with a canned `ListedToken` body (200, ~300 bytes). The SDK's
//!    `client.authentication_tokens().verify(token)` over `ReqwestTransport` runs against raw
//!    reqwest doing the same GET (same URL, same headers — copied from the SDK's own request —
//!    same `serde_json` decode into core's `ListedToken`), and over `HyperTransport`
//!    against hyper-util's legacy client doing the same. Concurrency 1, 16 and 64; a fixed number
//!    of requests per run; SDK and raw runs interleaved (their order alternating) in every round;
//!    the table shows medians over the rounds and the SDK/raw throughput ratio (median of the
//!    per-round ratios; goal >= 0.95).
//! 2. **Emulator.** Requests/s the `rebilly-auth-testing` emulator serves over loopback at
//!    concurrency 64, mixed workload (login, verify, exchange with `keep_token`, list), through
//!    `HyperTransport`.
//! 3. **Memory.** Heap bytes held by an idle `Client` (counting allocator), and the process's
//!    peak RSS (`VmHWM`) after the 64-way runs.
//!
//! Run: `cargo bench -p rebilly-auth-examples --bench transport_overhead`.
//! Environment: `REBILLY_BENCH_ROUNDS` (default 9), `REBILLY_BENCH_REQUESTS` (per run, default
//! 3000), `REBILLY_BENCH_ONLY=overhead|emulator|memory` (one part, e.g. under `perf record`).

use std::alloc::System;
use std::convert::Infallible;
use std::future::{Future, IntoFuture};
use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client as LegacyClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use rebilly_auth_core::models::Exchange;
use rebilly_auth_core::models::NewCredential;
use rebilly_auth_core::models::{ListedToken, Login};
use rebilly_auth_core::{Client, HttpTransport, Sleep, SleepFuture};
use rebilly_auth_hyper::HyperTransport;
use rebilly_auth_reqwest::{ReqwestTransport, reqwest};
use rebilly_auth_testing::emulator::Emulator;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use tokio::runtime::Runtime;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const ORG: &str = "org_0YV7DDSDD1C8DA64KHH2W33CPF";
const KEY: &str = "sk_sandbox_0123456789abcdef";
const TOKEN_VALUE: &str = "tok_01HZX3";
const TOKEN: &[u8] = br#"{"username":"ada@example.com","customerId":"cus_0YV7DDSDD1C8DA64KHH2W33CPF","token":"tok_01HZX3","otpRequired":false,"credentialId":"cus_crd_0YV9Y706QGCB39FQD380G1ZHZH","expiredTime":"2026-12-01T10:00:00Z","_links":[{"rel":"self","href":"https://api-sandbox.rebilly.com/organizations/org/authentication-tokens/tok_01HZX3"}]}"#;
const CONCURRENCY: [usize; 3] = [1, 16, 64];

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A one-worker runtime of its own for the server side.
fn server_runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("loopback-server")
        .enable_all()
        .build()
        .unwrap()
}

/// A hyper 1 HTTP/1.1 server on 127.0.0.1 answering every request with the canned token.
fn canned_server(rt: &Runtime) -> SocketAddr {
    let listener = rt
        .block_on(tokio::net::TcpListener::bind(("127.0.0.1", 0)))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    rt.spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let service = service_fn(|_request: http::Request<hyper::body::Incoming>| async {
                    let mut response = http::Response::new(Full::new(Bytes::from_static(TOKEN)));
                    response.headers_mut().insert(
                        http::header::CONTENT_TYPE,
                        http::HeaderValue::from_static("application/json"),
                    );
                    Ok::<_, Infallible>(response)
                });
                let _ = http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

fn sdk_client(root: &str, transport: impl HttpTransport + 'static) -> Client {
    Client::builder()
        .server_url(root)
        .organization(ORG)
        .secret_key(KEY)
        .transport(transport)
        .build()
        .unwrap()
}

fn reqwest_transport() -> ReqwestTransport {
    ReqwestTransport::builder().no_proxy().build().unwrap()
}

type RawHyper = LegacyClient<HttpConnector, Full<Bytes>>;

/// hyper-util's legacy client as a user would build it for plain HTTP: TCP_NODELAY, tokio
/// executor and timer, default pool.
fn raw_hyper() -> RawHyper {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    LegacyClient::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .build(connector)
}

/// A [`Sleep`] whose future never completes: no timeout, and no timer entry per call.
///
/// The workspace's one private `Sleep` fake, on purpose: this diagnostic measures the SDK
/// over a real loopback socket without any timer, so its deadlines must never fire. Core's
/// `test_util::InstantSleep` ends every wait at once (a deadline would beat the network),
/// and `TokioSleep` registers the timer this measurement leaves out.
#[derive(Debug)]
struct NeverSleep;

impl Sleep for NeverSleep {
    fn sleep(&self, _: Duration) -> SleepFuture {
        Box::pin(std::future::pending())
    }
}

/// One measured run: wall time and every request's latency.
struct Run {
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Run {
    fn per_second(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }
}

/// `total` calls of `call()` spread over `concurrency` tasks, each one call at a time.
async fn run<F, Fut>(concurrency: usize, total: usize, call: F) -> Run
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let per_task = total / concurrency;
    let start = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let call = call.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(per_task);
                for _ in 0..per_task {
                    let began = Instant::now();
                    call().await;
                    latencies.push(began.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(total);
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    Run {
        elapsed: start.elapsed(),
        latencies,
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

fn micros(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

#[derive(Default)]
struct Side {
    per_second: Vec<f64>,
    latencies: Vec<Duration>,
}

impl Side {
    fn add(&mut self, run: Run) {
        self.per_second.push(run.per_second());
        self.latencies.extend(run.latencies);
    }

    fn summary(&mut self) -> (f64, Duration, Duration) {
        self.latencies.sort();
        (
            median(self.per_second.clone()),
            percentile(&self.latencies, 0.50),
            percentile(&self.latencies, 0.99),
        )
    }
}

/// The four contenders, each a cheap-to-clone handle.
#[derive(Clone)]
struct Contenders {
    sdk_reqwest: Client,
    raw_reqwest: reqwest::Client,
    sdk_hyper: Client,
    sdk_hyper_no_timer: Client,
    raw_hyper: RawHyper,
    /// `http://127.0.0.1:PORT/organizations/ORG/authentication-tokens/`: raw calls append the
    /// token and parse the URL per call, as a client with a different token per call would.
    prefix: String,
    headers: http::HeaderMap,
}

fn decode(status: http::StatusCode, body: &[u8]) -> ListedToken {
    assert_eq!(status, http::StatusCode::OK);
    serde_json::from_slice(body).unwrap()
}

async fn sdk_verify(client: &Client) {
    let token = client
        .authentication_tokens()
        .verify(TOKEN_VALUE)
        .await
        .unwrap()
        .unwrap();
    black_box(token);
}

async fn raw_reqwest_verify(c: &Contenders) {
    let response = c
        .raw_reqwest
        .get(format!("{}{TOKEN_VALUE}", c.prefix))
        .headers(c.headers.clone())
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body = response.bytes().await.unwrap();
    black_box(decode(status, &body));
}

async fn raw_hyper_verify(c: &Contenders) {
    let mut request = http::Request::new(Full::new(Bytes::new()));
    *request.uri_mut() = format!("{}{TOKEN_VALUE}", c.prefix).parse().unwrap();
    *request.headers_mut() = c.headers.clone();
    let response = c.raw_hyper.request(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    black_box(decode(status, &body));
}

/// The shipped transport alone, without core: the raw call's request handed to
/// `HttpTransport::send`, the same decode.
async fn transport_verify(c: &Contenders, transport: &impl HttpTransport) {
    let mut request = http::Request::new(Bytes::new());
    *request.uri_mut() = format!("{}{TOKEN_VALUE}", c.prefix).parse().unwrap();
    *request.headers_mut() = c.headers.clone();
    let response = transport.send(request).await.unwrap();
    black_box(decode(response.status(), response.body()));
}

#[derive(Clone, Copy, PartialEq)]
enum Who {
    SdkReqwest,
    RawReqwest,
    SdkHyper,
    SdkHyperNoTimer,
    RawHyper,
    TransportReqwest,
    TransportHyper,
}

async fn measure(c: &Contenders, who: Who, concurrency: usize, total: usize) -> Run {
    let c = c.clone();
    run(concurrency, total, move || {
        let c = c.clone();
        async move {
            match who {
                Who::SdkReqwest => sdk_verify(&c.sdk_reqwest).await,
                Who::RawReqwest => raw_reqwest_verify(&c).await,
                Who::SdkHyper => sdk_verify(&c.sdk_hyper).await,
                Who::SdkHyperNoTimer => sdk_verify(&c.sdk_hyper_no_timer).await,
                Who::RawHyper => raw_hyper_verify(&c).await,
                Who::TransportReqwest => transport_verify(&c, c.sdk_reqwest.transport()).await,
                Who::TransportHyper => transport_verify(&c, c.sdk_hyper.transport()).await,
            }
        }
    })
    .await
}

fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The canned server and the four contenders pointed at it, each connection pool warm.
fn contenders(client_rt: &Runtime, server_rt: &Runtime) -> Contenders {
    let addr = canned_server(server_rt);
    let root = format!("http://{addr}");
    let sdk_reqwest = sdk_client(&root, reqwest_transport());
    let sdk_hyper = sdk_client(&root, HyperTransport::new().unwrap());
    // Diagnostic: the SDK with a `Sleep` that never fires, so no call registers a timer.
    let sdk_hyper_no_timer = Client::builder()
        .server_url(&root)
        .organization(ORG)
        .secret_key(KEY)
        .sleep(Arc::new(NeverSleep))
        .transport(HyperTransport::new().unwrap())
        .build()
        .unwrap();
    // The raw requests carry exactly the headers the SDK sends.
    let template = sdk_reqwest
        .authentication_tokens()
        .verify(TOKEN_VALUE)
        .to_http_request()
        .unwrap();
    let contenders = Contenders {
        sdk_reqwest,
        // The same reqwest configuration as the SDK's transport, its own pool.
        raw_reqwest: reqwest_transport().client().clone(),
        sdk_hyper,
        sdk_hyper_no_timer,
        raw_hyper: raw_hyper(),
        prefix: template
            .uri()
            .to_string()
            .strip_suffix(TOKEN_VALUE)
            .unwrap()
            .to_owned(),
        headers: template.headers().clone(),
    };
    client_rt.block_on(async {
        // Every pool holds its 64 connections before the first measured run.
        for who in [
            Who::SdkReqwest,
            Who::RawReqwest,
            Who::SdkHyper,
            Who::RawHyper,
            Who::TransportReqwest,
            Who::TransportHyper,
        ] {
            measure(&contenders, who, 64, 640).await;
            measure(&contenders, who, 1, 200).await;
        }
    });
    contenders
}

/// `REBILLY_BENCH_SOLO=sdk-reqwest|raw-reqwest|sdk-hyper|sdk-hyper-no-timer|raw-hyper|
/// transport-reqwest|transport-hyper REBILLY_BENCH_CALLS=N`: N
/// sequential calls of one contender after the warm-up, then exit; for `valgrind
/// --tool=callgrind` or `perf record` (run with N=0 too and subtract the fixed cost).
fn solo(client_rt: &Runtime, server_rt: &Runtime) -> bool {
    let who = match std::env::var("REBILLY_BENCH_SOLO").as_deref() {
        Ok("sdk-reqwest") => Who::SdkReqwest,
        Ok("raw-reqwest") => Who::RawReqwest,
        Ok("sdk-hyper") => Who::SdkHyper,
        Ok("sdk-hyper-no-timer") => Who::SdkHyperNoTimer,
        Ok("raw-hyper") => Who::RawHyper,
        Ok("transport-reqwest") => Who::TransportReqwest,
        Ok("transport-hyper") => Who::TransportHyper,
        _ => return false,
    };
    let calls = env_or("REBILLY_BENCH_CALLS", 1000);
    let contenders = contenders(client_rt, server_rt);
    if calls > 0 {
        client_rt.block_on(measure(&contenders, who, 1, calls));
    }
    true
}

fn overhead(client_rt: &Runtime, server_rt: &Runtime) {
    let rounds = env_or("REBILLY_BENCH_ROUNDS", 9);
    let total = env_or("REBILLY_BENCH_REQUESTS", 3000);
    let contenders = contenders(client_rt, server_rt);
    let pairs = [
        ("reqwest", Who::SdkReqwest, Who::RawReqwest),
        ("hyper", Who::SdkHyper, Who::RawHyper),
        (
            "hyper, SDK without timer (diagnostic)",
            Who::SdkHyperNoTimer,
            Who::RawHyper,
        ),
        (
            "reqwest, ReqwestTransport without core (diagnostic)",
            Who::TransportReqwest,
            Who::RawReqwest,
        ),
        (
            "hyper, HyperTransport without core (diagnostic)",
            Who::TransportHyper,
            Who::RawHyper,
        ),
    ];
    let mut sides: Vec<[Side; 2]> = Vec::new();
    let mut ratios: Vec<Vec<f64>> = Vec::new();
    for _ in 0..pairs.len() * CONCURRENCY.len() {
        sides.push(Default::default());
        ratios.push(Vec::new());
    }
    client_rt.block_on(async {
        for round in 0..rounds {
            for (p, &(_, sdk, raw)) in pairs.iter().enumerate() {
                for (k, &concurrency) in CONCURRENCY.iter().enumerate() {
                    let slot = p * CONCURRENCY.len() + k;
                    let order = if round % 2 == 0 {
                        [sdk, raw]
                    } else {
                        [raw, sdk]
                    };
                    let mut per_second = [0.0; 2];
                    for who in order {
                        let result = measure(&contenders, who, concurrency, total).await;
                        let side = usize::from(who != sdk);
                        per_second[side] = result.per_second();
                        sides[slot][side].add(result);
                    }
                    ratios[slot].push(per_second[0] / per_second[1]);
                }
            }
        }
    });
    println!();
    println!(
        "SDK verify vs raw GET + decode, canned loopback server; {total} requests per run, medians of {rounds} interleaved rounds"
    );
    println!();
    println!(
        "| transport | concurrency | SDK req/s | raw req/s | SDK p50 | raw p50 | SDK p99 | raw p99 | SDK/raw (goal >= 0.95) |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (p, &(name, _, _)) in pairs.iter().enumerate() {
        for (k, &concurrency) in CONCURRENCY.iter().enumerate() {
            let slot = p * CONCURRENCY.len() + k;
            let (sdk_rps, sdk_p50, sdk_p99) = sides[slot][0].summary();
            let (raw_rps, raw_p50, raw_p99) = sides[slot][1].summary();
            let ratio = median(ratios[slot].clone());
            let verdict = if ratio >= 0.95 { "ok" } else { "MISSED" };
            println!(
                "| {name} | {concurrency} | {sdk_rps:.0} | {raw_rps:.0} | {} | {} | {} | {} | {ratio:.3} {verdict} |",
                micros(sdk_p50),
                micros(raw_p50),
                micros(sdk_p99),
                micros(raw_p99),
            );
        }
    }
    if let Some(kib) = vm_hwm_kib() {
        println!();
        println!(
            "peak RSS (VmHWM) after the 64-way runs: {:.1} MiB",
            kib as f64 / 1024.0
        );
    }
}

/// Requests/s of the emulator over loopback: 64 workers, each cycling login, verify, exchange
/// (keep_token) and list (limit 10) with its own credential, through `HyperTransport`. A second,
/// fresh emulator runs the same cycle with the list replaced by a second verify: the list's
/// share of the cost.
fn emulator(client_rt: &Runtime, server_rt: &Runtime) {
    let rounds = env_or("REBILLY_BENCH_EMULATOR_ROUNDS", 3);
    let total = env_or("REBILLY_BENCH_EMULATOR_REQUESTS", 2048);
    println!();
    println!(
        "Emulator over loopback (HyperTransport), concurrency {WORKERS}; {total} requests per run, {rounds} runs after one warm-up run"
    );
    println!();
    println!(
        "| workload | req/s (median) | req/s per run | p50 | p99 | p50 login | p50 verify | p50 exchange | p50 4th call |"
    );
    println!("|---|---:|---|---:|---:|---:|---:|---:|---:|");
    for with_list in [true, false] {
        let emulator = Emulator::builder()
            .add_organization(ORG, KEY, None)
            .rate_limit(u64::MAX / 2)
            .build();
        let server = server_rt.block_on(emulator.serve_on_loopback()).unwrap();
        let client = sdk_client(&server.url(), HyperTransport::new().unwrap());
        let mut side = Side::default();
        let mut per_op: [Vec<Duration>; 4] = Default::default();
        client_rt.block_on(async {
            for worker in 0..WORKERS {
                client
                    .credentials()
                    .create(NewCredential::new(
                        format!("user{worker}@example.com"),
                        "correct horse",
                        format!("cus_{worker}"),
                    ))
                    .await
                    .unwrap();
            }
            for round in 0..=rounds {
                let result = mixed_run(&client, total, with_list).await;
                // Round 0 warms up.
                if round > 0 {
                    for (i, latency) in result.latencies.iter().enumerate() {
                        per_op[i % 4].push(*latency);
                    }
                    side.add(result);
                }
            }
        });
        let series: Vec<String> = side.per_second.iter().map(|r| format!("{r:.0}")).collect();
        let (per_second, p50, p99) = side.summary();
        let op_p50: Vec<String> = per_op
            .iter_mut()
            .map(|v| {
                v.sort();
                micros(percentile(v, 0.5))
            })
            .collect();
        let name = if with_list {
            "login / verify / exchange(keep_token) / list(limit 10)"
        } else {
            "login / verify / exchange(keep_token) / verify (no list)"
        };
        println!(
            "| {name} | {per_second:.0} | {} | {} | {} | {} |",
            series.join(", "),
            micros(p50),
            micros(p99),
            op_p50.join(" | "),
        );
        drop(server);
    }
}

const WORKERS: usize = 64;

/// `total` requests over [`WORKERS`] tasks; each task cycles login, verify, exchange
/// (keep_token) and list (limit 10; a second verify without `with_list`) with its own
/// credential, timing every request. Latencies are in call order, four per cycle.
async fn mixed_run(client: &Client, total: usize, with_list: bool) -> Run {
    let cycles = total / WORKERS / 4;
    let start = Instant::now();
    let tasks: Vec<_> = (0..WORKERS)
        .map(|worker| {
            let client = client.clone();
            tokio::spawn(async move {
                let tokens = client.authentication_tokens();
                let username = format!("user{worker}@example.com");
                let mut latencies = Vec::with_capacity(cycles * 4);
                for _ in 0..cycles {
                    let began = Instant::now();
                    let login = tokens
                        .login(Login::password(username.as_str(), "correct horse"))
                        .await
                        .unwrap();
                    latencies.push(began.elapsed());
                    let token = login.token;
                    let began = Instant::now();
                    assert!(tokens.verify(token.clone()).await.unwrap().is_some());
                    latencies.push(began.elapsed());
                    let began = Instant::now();
                    black_box(
                        tokens
                            .exchange(token.clone(), Exchange::new().keep_token())
                            .await
                            .unwrap(),
                    );
                    latencies.push(began.elapsed());
                    let began = Instant::now();
                    if with_list {
                        black_box(tokens.list().limit(10).await.unwrap());
                    } else {
                        assert!(tokens.verify(token).await.unwrap().is_some());
                    }
                    latencies.push(began.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(total);
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    Run {
        elapsed: start.elapsed(),
        latencies,
    }
}

fn memory() {
    let transport = reqwest_transport();
    let hyper = HyperTransport::new().unwrap();
    let held = |f: &mut dyn FnMut() -> Box<dyn std::any::Any>| {
        let region = Region::new(GLOBAL);
        let value = f();
        let stats = region.change();
        drop(value);
        stats.bytes_allocated as i64 - stats.bytes_deallocated as i64
    };
    let root = "http://127.0.0.1:8080";
    // First builds initialize lazies (platform verifier, statics); measure the second.
    let _ = sdk_client(root, reqwest_transport());
    let _ = sdk_client(root, HyperTransport::new().unwrap());
    let base = sdk_client(root, transport.clone());
    let rows: [(&str, i64); 5] = [
        (
            "Client over an existing ReqwestTransport (clone of its handle)",
            held(&mut || Box::new(sdk_client(root, transport.clone()))),
        ),
        (
            "Client over an existing HyperTransport (clone of its handle)",
            held(&mut || Box::new(sdk_client(root, hyper.clone()))),
        ),
        ("Client::clone", held(&mut || Box::new(base.clone()))),
        (
            "Client with a new ReqwestTransport",
            held(&mut || Box::new(sdk_client(root, reqwest_transport()))),
        ),
        (
            "Client with a new HyperTransport",
            held(&mut || Box::new(sdk_client(root, HyperTransport::new().unwrap()))),
        ),
    ];
    println!();
    println!("| idle value | heap bytes held |");
    println!("|---|---:|");
    for (name, bytes) in rows {
        println!("| {name} | {bytes} |");
    }
    // The futures boxed per call (never polled, so nothing is sent): `IntoFuture` of a verify,
    // and each transport's `async_trait` future.
    let request = || {
        base.authentication_tokens()
            .verify(TOKEN_VALUE)
            .to_http_request()
            .unwrap()
    };
    let verify = base
        .authentication_tokens()
        .verify(TOKEN_VALUE)
        .into_future();
    let reqwest_send = transport.send(request());
    let hyper_send = hyper.send(request());
    println!();
    println!("| future boxed per call | bytes |");
    println!("|---|---:|");
    println!(
        "| `verify(..).into_future()` (core) | {} |",
        std::mem::size_of_val(&*verify)
    );
    println!(
        "| `ReqwestTransport::send` | {} |",
        std::mem::size_of_val(&*reqwest_send)
    );
    println!(
        "| `HyperTransport::send` | {} |",
        std::mem::size_of_val(&*hyper_send)
    );
}

fn main() {
    // `cargo bench` passes `--bench`; no other arguments are understood.
    let only = std::env::var("REBILLY_BENCH_ONLY").unwrap_or_default();
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("bench-client")
        .enable_all()
        .build()
        .unwrap();
    let server_rt = server_runtime();
    if solo(&client_rt, &server_rt) {
        return;
    }
    if only.is_empty() || only == "overhead" {
        overhead(&client_rt, &server_rt);
    }
    if only.is_empty() || only == "emulator" {
        emulator(&client_rt, &server_rt);
    }
    if only.is_empty() || only == "memory" {
        memory();
    }
}
