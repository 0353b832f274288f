//! The fleet simulation of BENCHMARKS.md ("Fleet (Redis)"), in one process on loopback: 8
//! nodes (each a `RebillyAuth` layer with its own `RedisStore`: its own connections and bus
//! subscriber), one `redis-server` this bench starts on a free port in a temporary
//! directory, the emulator upstream in-process, and a mixed background load of about 2,000
//! requests/s while measuring.
//!
//! ```sh
//! cargo bench -p rebilly-auth-redis --bench fleet
//! ```
//!
//! - **propagation:** 1,000 logouts, each through one node (round robin) of a token warm on
//!   all 8; the time from `logout()` returning until every other node refuses it (p50, p99,
//!   max; goal p99 ≤ 50 ms, max ≤ 250 ms);
//! - **upstream verifies:** 1,000 distinct fresh tokens, each requested once on each of the 8
//!   nodes at the same moment (well within one 30 s staleness window): upstream verifies with
//!   the shared store, and with per-node in-memory caches only (goal ≤ 1,050 against ~8,000).
//!
//! Knobs: `REBILLY_FLEET_LOGOUTS` (1000), `REBILLY_FLEET_TOKENS` (1000),
//! `REBILLY_FLEET_RATE` (background requests/s, 2000; one in 50 with a fresh token, except
//! while upstream verifies are counted).
//!
//! **Solo mode, for callgrind** (the hot path): `REBILLY_FLEET_SOLO=<contender>
//! REBILLY_FLEET_CALLS=N` makes N warm requests with one contender and exits; per request =
//! (instructions at N − instructions at 0) / N, as `scripts/instructions.sh` does:
//!
//! - `memory`, `redis`: a request through the layer's tower service (an axum `Router` with
//!   `RebillyAuth::layer`, driven by `oneshot`, no socket), with the in-memory cache or the
//!   Redis store;
//! - `memory-call`, `redis-call`: `RebillyAuth::authenticate` alone (the layer's own cost,
//!   where the store's share is largest).

#[path = "../tests/common/mod.rs"]
#[allow(missing_docs)]
mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use common::{DIGEST_KEY, RedisServer, World};
use rebilly_auth_axum::{AuthenticatedCustomer, RebillyAuth};
use rebilly_auth_core::OperationId;
use rebilly_auth_redis::RedisStore;
use tower::ServiceExt;

const NODES: usize = 8;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn verifies(world: &World) -> usize {
    world
        .emulator
        .executed(OperationId::GetAuthenticationTokenVerification)
}

async fn redis_store(url: &str, ping_interval: Duration) -> RedisStore {
    RedisStore::builder(url)
        .digest_key(DIGEST_KEY)
        .ping_interval(ping_interval)
        // Generous on the shared 2-core machine: a missed deadline would run a node
        // degraded, which these figures are not about (the tests cover it).
        .command_timeout(Duration::from_secs(1))
        .build()
        .await
        .expect("store")
}

fn memory_layer(world: &World) -> RebillyAuth {
    RebillyAuth::builder(world.client(world.emulator.clone()))
        .build()
        .expect("layer")
}

fn redis_layer(world: &World, store: &RedisStore) -> RebillyAuth {
    store
        .apply(RebillyAuth::builder(world.client(world.emulator.clone())))
        .build()
        .expect("layer")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000.0
}

/// About `rate` requests/s over `nodes`: mostly warm tokens, one fresh token in 50.
async fn background_load(
    world: Arc<World>,
    nodes: Arc<Vec<RebillyAuth>>,
    rate: usize,
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
    fresh_allowed: Arc<AtomicBool>,
) {
    let mut warm = Vec::new();
    for _ in 0..100 {
        warm.push(world.login().await);
    }
    let per_tick = rate.div_ceil(1_000).max(1);
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut n = 0usize;
    let started = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        tick.tick().await;
        // Keep to the rate whatever the ticks skipped.
        let due = (started.elapsed().as_secs_f64() * rate as f64) as u64;
        while sent.load(Ordering::Relaxed) < due {
            for _ in 0..per_tick {
                n += 1;
                if n % 50 == 0 && fresh_allowed.load(Ordering::Relaxed) {
                    let fresh = world.login().await;
                    let slot = n % warm.len();
                    warm[slot] = fresh;
                }
                let token = warm[n % warm.len()].expose().to_owned();
                let node = nodes[n % nodes.len()].clone();
                tokio::spawn(async move {
                    let _ = node.authenticate(&token).await;
                });
                sent.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Propagation: `logouts` logouts; per logout, the time from `logout()` returning until
/// every other node refuses the token.
async fn propagation(world: &World, nodes: &[RebillyAuth], logouts: usize) -> Vec<Duration> {
    let mut times = Vec::with_capacity(logouts);
    for n in 0..logouts {
        let token = world.login().await;
        for auth in nodes {
            auth.authenticate(token.expose())
                .await
                .expect("warm before the logout");
        }
        let through = n % nodes.len();
        nodes[through].logout(token.expose()).await.expect("logout");
        let returned = Instant::now();
        let mut waiting: Vec<usize> = (0..nodes.len()).filter(|&i| i != through).collect();
        while !waiting.is_empty() {
            let mut still = Vec::with_capacity(waiting.len());
            for i in waiting {
                if nodes[i].authenticate(token.expose()).await.is_ok() {
                    still.push(i);
                }
            }
            waiting = still;
            if !waiting.is_empty() {
                tokio::task::yield_now().await;
            }
            assert!(
                returned.elapsed() < Duration::from_secs(60),
                "a logout never propagated"
            );
        }
        times.push(returned.elapsed());
    }
    times
}

/// Upstream verifies for `tokens` fresh tokens, each requested on every node at once (ten
/// tokens at a time).
async fn upstream_verifies(world: &World, nodes: &Arc<Vec<RebillyAuth>>, tokens: usize) -> usize {
    let mut fresh = Vec::with_capacity(tokens);
    for _ in 0..tokens {
        fresh.push(world.login().await);
    }
    let before = verifies(world);
    for batch in fresh.chunks(10) {
        let mut requests = Vec::new();
        for token in batch {
            for i in 0..nodes.len() {
                let nodes = Arc::clone(nodes);
                let raw = token.expose().to_owned();
                requests.push(tokio::spawn(async move {
                    nodes[i].authenticate(&raw).await.is_ok()
                }));
            }
        }
        for request in requests {
            assert!(request.await.expect("request"), "a fresh token refused");
        }
    }
    verifies(world) - before
}

async fn fleet() {
    let logouts = env_usize("REBILLY_FLEET_LOGOUTS", 1_000);
    let tokens = env_usize("REBILLY_FLEET_TOKENS", 1_000);
    let rate = env_usize("REBILLY_FLEET_RATE", 2_000);
    let server = RedisServer::start();
    let world = Arc::new(World::new().await);
    let mut stores = Vec::new();
    let mut nodes = Vec::new();
    for _ in 0..NODES {
        let store = redis_store(&server.url(), Duration::from_millis(500)).await;
        nodes.push(redis_layer(&world, &store));
        stores.push(store);
    }
    let nodes = Arc::new(nodes);
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let fresh_allowed = Arc::new(AtomicBool::new(true));
    let load = tokio::spawn(background_load(
        Arc::clone(&world),
        Arc::clone(&nodes),
        rate,
        Arc::clone(&stop),
        Arc::clone(&sent),
        Arc::clone(&fresh_allowed),
    ));
    tokio::time::sleep(Duration::from_millis(500)).await;

    let started = Instant::now();
    let sent_before = sent.load(Ordering::Relaxed);
    let mut times = propagation(&world, &nodes, logouts).await;
    let propagation_secs = started.elapsed().as_secs_f64();
    let load_rate = (sent.load(Ordering::Relaxed) - sent_before) as f64 / propagation_secs;
    times.sort();

    // The load's own fresh tokens would be counted too: it sends warm ones only meanwhile.
    fresh_allowed.store(false, Ordering::Relaxed);
    let started = Instant::now();
    let sent_before = sent.load(Ordering::Relaxed);
    let shared = upstream_verifies(&world, &nodes, tokens).await;
    let verify_rate =
        (sent.load(Ordering::Relaxed) - sent_before) as f64 / started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    load.await.expect("load");

    let memory: Arc<Vec<RebillyAuth>> =
        Arc::new((0..NODES).map(|_| memory_layer(&world)).collect());
    let per_node = upstream_verifies(&world, &memory, tokens).await;

    let (p50, p99, max) = (
        percentile(&times, 0.50),
        percentile(&times, 0.99),
        *times.last().expect("a logout"),
    );
    let verdict = |ok: bool| if ok { "ok" } else { "MISSED" };
    let degraded = stores.iter().filter(|s| s.metrics().degraded).count();
    let errors: u64 = stores.iter().map(|s| s.metrics().store_errors).sum();
    let reconnects: u64 = stores.iter().map(|s| s.metrics().reconnects).sum();
    println!(
        "fleet: {NODES} nodes, one redis-server, the emulator upstream, loopback, one process"
    );
    println!(
        "background load: {load_rate:.0} req/s during propagation, {verify_rate:.0} req/s during \
         the verify count (target {rate})"
    );
    println!();
    println!("| measure | figure | goal | verdict |");
    println!("|---|---:|---:|---|");
    println!(
        "| propagation p50 ({logouts} logouts) | {:.2} ms | | |",
        ms(p50)
    );
    println!(
        "| propagation p99 | {:.2} ms | ≤ 50 ms | {} |",
        ms(p99),
        verdict(p99 <= Duration::from_millis(50))
    );
    println!(
        "| propagation max | {:.2} ms | ≤ 250 ms | {} |",
        ms(max),
        verdict(max <= Duration::from_millis(250))
    );
    println!(
        "| upstream verifies, {tokens} tokens × {NODES} nodes, shared store | {shared} | ≤ {} | {} |",
        tokens + tokens / 20,
        verdict(shared * 20 <= tokens * 21)
    );
    println!(
        "| upstream verifies, per-node caches only | {per_node} | (~{}) | |",
        tokens * NODES
    );
    println!();
    println!(
        "store state at the end: {degraded} of {NODES} degraded, {errors} store errors, \
         {reconnects} bus reconnects"
    );
}

/// The solo mode: `calls` warm requests with one contender.
async fn solo(who: &str, calls: usize) {
    let world = World::new().await;
    let token = world.login().await;
    // Started in every mode, so the fixed cost is alike (and subtracted anyway).
    let server = RedisServer::start();
    let (auth, _store) = if who.starts_with("redis") {
        // No bus ping during the measured loop (its cost follows wall time, not calls).
        let store = redis_store(&server.url(), Duration::from_secs(3_600)).await;
        (redis_layer(&world, &store), Some(store))
    } else {
        (memory_layer(&world), None)
    };
    auth.authenticate(token.expose()).await.expect("warm");
    let header = format!("Bearer {}", token.expose());
    if who.ends_with("-call") {
        for _ in 0..calls {
            let customer = auth.authenticate(token.expose()).await.expect("warm hit");
            std::hint::black_box(customer);
        }
    } else {
        let app = Router::new()
            .route(
                "/me",
                get(
                    |customer: AuthenticatedCustomer| async move { customer.username().to_owned() },
                ),
            )
            .layer(auth.layer());
        let request = || {
            http::Request::get("/me")
                .header(http::header::AUTHORIZATION, header.as_str())
                .body(axum::body::Body::empty())
                .expect("request")
        };
        // One request before measuring (lazy initialisations).
        let warm = app.clone().oneshot(request()).await.expect("response");
        assert_eq!(warm.status(), http::StatusCode::OK);
        for _ in 0..calls {
            let response = app.clone().oneshot(request()).await.expect("response");
            std::hint::black_box(response);
        }
    }
    let metrics = auth.metrics();
    assert_eq!(
        metrics.upstream_verifies, 1,
        "every measured request was warm"
    );
    eprintln!(
        "{who}: {calls} warm requests, {} cache hits",
        metrics.cache_hits
    );
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is read from the command line.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    match std::env::var("REBILLY_FLEET_SOLO") {
        Ok(who) => {
            let calls = env_usize("REBILLY_FLEET_CALLS", 2_000);
            runtime.block_on(solo(&who, calls));
        }
        Err(_) => runtime.block_on(fleet()),
    }
}
