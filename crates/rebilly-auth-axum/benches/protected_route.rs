//! A protected route with a warm cache against the same route unprotected, over loopback HTTP,
//! measured side by side in one run at concurrency 1, 16 and 64.
//!
//! ```sh
//! cargo bench -p rebilly-auth-axum --bench protected_route
//! ```
//!
//! An axum server on 127.0.0.1 (its own one-worker tokio runtime) serves `GET /open` (no layer)
//! and `GET /protected` (behind `RebillyAuth::layer`, the token verified once against the
//! in-process emulator before measuring, then answered from the cache). A hyper-util client on
//! a second one-worker runtime sends the same request (same `Authorization` header) to both:
//! per run, `REBILLY_BENCH_REQUESTS` requests (default 20,000) spread over 1, 16 or 64 tasks.
//! The two contenders alternate within each of `REBILLY_BENCH_ROUNDS` rounds (default 9, order
//! swapped every round); the table gives medians, and the ratio is the median of the per-round
//! protected/open throughput ratios (goal ≥ 0.90).
//!
//! Callgrind mode: `REBILLY_BENCH_SOLO=open|protected REBILLY_BENCH_CALLS=N` sends N sequential
//! requests to one route and exits, so that
//! `valgrind --tool=callgrind` on the bench binary counts instructions per request (client and
//! server together); subtract a run with N = 0 for the fixed cost.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rebilly_auth_axum::{AuthenticatedCustomer, RebillyAuth};
use rebilly_auth_core::models::{Login, NewCredential};
use rebilly_auth_core::{Auth, Client};
use rebilly_auth_testing::emulator::Emulator;

type Http = HttpClient<HttpConnector, Empty<Bytes>>;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Target {
    http: Http,
    open: http::Uri,
    protected: http::Uri,
    authorization: String,
}

impl Target {
    async fn get(&self, uri: &http::Uri) {
        let request = http::Request::get(uri.clone())
            .header("authorization", &self.authorization)
            .body(Empty::new())
            .unwrap();
        let response = self.http.request(request).await.unwrap();
        assert_eq!(response.status(), 200);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&body[..], b"ada");
    }

    /// Requests per second for `requests` requests over `concurrency` tasks.
    async fn run(self: &Arc<Self>, protected: bool, requests: usize, concurrency: usize) -> f64 {
        let start = Instant::now();
        let tasks: Vec<_> = (0..concurrency)
            .map(|task| {
                let target = Arc::clone(self);
                let share = requests / concurrency + usize::from(task < requests % concurrency);
                tokio::spawn(async move {
                    let uri = if protected {
                        &target.protected
                    } else {
                        &target.open
                    };
                    for _ in 0..share {
                        target.get(uri).await;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        requests as f64 / start.elapsed().as_secs_f64()
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `cargo bench` passes `--bench`; a libtest-style filter run (`cargo test --benches`)
    // passes nothing: then do a tiny run only.
    let benching = std::env::args().any(|a| a == "--bench");
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;

    // The emulator, a customer and a token.
    let (auth, token, addr) = server_rt.block_on(async {
        let emulator = Emulator::builder()
            .add_organization("org", "sk_bench", Some("pk_bench"))
            .build();
        let admin = Client::builder()
            .organization("org")
            .secret_key("sk_bench")
            .transport(emulator.clone())
            .build()?;
        admin
            .credentials()
            .create(NewCredential::new("ada", "pw", "cus_ada"))
            .await?;
        let token = admin
            .authentication_tokens()
            .login(Login::password("ada", "pw"))
            .await?
            .token;
        let client = Client::builder()
            .organization("org")
            .auth(Auth::publishable_key("pk_bench"))
            .transport(emulator)
            .build()?;
        let auth = RebillyAuth::builder(client)
            .max_staleness(Duration::from_secs(3600))
            .build()?;
        let app = Router::new()
            .route(
                "/protected",
                get(
                    |customer: AuthenticatedCustomer| async move { customer.username().to_owned() },
                )
                .layer(auth.layer()),
            )
            .route("/open", get(|| async { "ada".to_owned() }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok::<_, Box<dyn std::error::Error>>((auth, token, addr))
    })?;

    let target = client_rt.block_on(async {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let http = HttpClient::builder(TokioExecutor::new())
            .pool_max_idle_per_host(128)
            .build(connector);
        Arc::new(Target {
            http,
            open: format!("http://{addr}/open").parse().unwrap(),
            protected: format!("http://{addr}/protected").parse().unwrap(),
            authorization: format!("Bearer {}", token.expose()),
        })
    });

    if let Ok(solo) = std::env::var("REBILLY_BENCH_SOLO") {
        let calls = env("REBILLY_BENCH_CALLS", 2000);
        client_rt.block_on(async {
            // Warm: the connection and (for the protected route) the cache.
            target.get(&target.protected).await;
            let uri = if solo == "protected" {
                &target.protected
            } else {
                &target.open
            };
            for _ in 0..calls {
                target.get(uri).await;
            }
        });
        return Ok(());
    }

    let rounds = if benching {
        env("REBILLY_BENCH_ROUNDS", 9)
    } else {
        1
    };
    let requests = if benching {
        env("REBILLY_BENCH_REQUESTS", 20000)
    } else {
        64
    };
    client_rt.block_on(async {
        // Warm the pool (64 connections) and the cache.
        target.run(true, 256, 64).await;
        target.run(false, 256, 64).await;
    });

    println!(
        "protected route (warm cache) vs the same route unprotected, loopback HTTP/1.1, \
         {rounds} interleaved rounds of {requests} requests"
    );
    println!("| concurrency | open req/s | protected req/s | ratio (median) | ratio min..max |");
    println!("|---:|---:|---:|---:|---|");
    let mut worst = f64::INFINITY;
    for concurrency in [1, 16, 64] {
        let (mut open, mut protected, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..rounds {
            let (o, p) = client_rt.block_on(async {
                if round % 2 == 0 {
                    let o = target.run(false, requests, concurrency).await;
                    (o, target.run(true, requests, concurrency).await)
                } else {
                    let p = target.run(true, requests, concurrency).await;
                    (target.run(false, requests, concurrency).await, p)
                }
            });
            open.push(o);
            protected.push(p);
            ratios.push(p / o);
        }
        let lo = ratios.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = ratios.iter().copied().fold(0.0, f64::max);
        let ratio = median(ratios);
        worst = worst.min(ratio);
        println!(
            "| {concurrency} | {:.0} | {:.0} | {ratio:.3} | {lo:.3}..{hi:.3} |",
            median(open),
            median(protected),
        );
    }
    let metrics = auth.metrics();
    println!(
        "upstream verifies during the whole run: {} (cache hits: {}); lowest median ratio {worst:.3} (goal >= 0.90)",
        metrics.upstream_verifies, metrics.cache_hits
    );
    Ok(())
}
