//! In-process cost of the SDK: building each operation's request and decoding its response
//! through a no-op transport, in ns and heap allocations per call, next to a bare `serde_json`
//! decode of the same body. Run: `cargo bench -p rebilly-auth-core --bench in_process`.
//!
//! The closing table prints the verify round trip / bare decode ratio, from medians of
//! interleaved rounds measured side by side in this one run (goal: at most 1.5).

use std::alloc::System;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::Criterion;
use rebilly_auth_core::models::Exchange;
use rebilly_auth_core::models::NewCredential;
use rebilly_auth_core::models::{Login, TokenVerification};
use rebilly_auth_core::{Client, HttpTransport, TransportError, transport_fn};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const TOKEN: &[u8] = br#"{"username":"ada@example.com","customerId":"cus_0YV7DDSDD1C8DA64KHH2W33CPF","token":"tok_01HZX3","otpRequired":false,"credentialId":"cus_crd_0YV9Y706QGCB39FQD380G1ZHZH","expiredTime":"2026-12-01T10:00:00Z","_links":[{"rel":"self","href":"https://api-sandbox.rebilly.com/organizations/org/authentication-tokens/tok_01HZX3"}]}"#;
const CREDENTIAL: &[u8] = br#"{"id":"cus_crd_0YV9Y706QGCB39FQD380G1ZHZH","username":"ada@example.com","customerId":"cus_0YV7DDSDD1C8DA64KHH2W33CPF","expiredTime":null,"_links":[{"rel":"self","href":"https://api-sandbox.rebilly.com/organizations/org/credentials/cus_crd_0YV9Y706QGCB39FQD380G1ZHZH"}]}"#;
const JWT: &[u8] = br#"{"id":"jwt_0YV7DEJX80CDRAKVTV478ZNJDR","type":"customer","token":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig","customerId":"cus_0YV7DDSDD1C8DA64KHH2W33CPF","expiredTime":"2026-12-01T10:00:00Z"}"#;

fn answer(status: u16, body: &'static [u8]) -> http::Response<Bytes> {
    let mut response = http::Response::new(Bytes::from_static(body));
    *response.status_mut() = http::StatusCode::from_u16(status).unwrap();
    response
}

/// A transport that answers at once with a canned body chosen by method and path.
fn no_op_transport() -> impl HttpTransport + 'static {
    transport_fn(|request: http::Request<Bytes>| async move {
        let path = request.uri().path();
        Ok::<_, TransportError>(match (request.method().as_str(), path) {
            ("DELETE", _) => answer(204, b""),
            (_, p) if p.ends_with("/exchange") => answer(201, JWT),
            ("POST", p) if p.ends_with("/authentication-tokens") => answer(201, TOKEN),
            (_, p) if p.contains("/authentication-tokens") => answer(200, TOKEN),
            ("POST", _) => answer(201, CREDENTIAL),
            _ => answer(200, CREDENTIAL),
        })
    })
}

fn client() -> Client {
    client_on(no_op_transport())
}

fn client_on(transport: impl HttpTransport + 'static) -> Client {
    Client::builder()
        .organization("org_0YV7DDSDD1C8DA64KHH2W33CPF")
        .secret_key("sk_sandbox_0123456789abcdef")
        .transport(transport)
        .build()
        .unwrap()
}

/// The verify round trip's transport: answers the token at once, looking at nothing.
fn verify_client() -> Client {
    client_on(transport_fn(|_request: http::Request<Bytes>| async {
        Ok::<_, TransportError>(answer(200, TOKEN))
    }))
}

async fn verify(client: &Client) -> TokenVerification {
    client
        .authentication_tokens()
        .verify("tok_01HZX3")
        .await
        .unwrap()
        .unwrap()
}

fn bare_decode() -> TokenVerification {
    serde_json::from_slice(black_box(TOKEN)).unwrap()
}

fn criterion_benches(
    c: &mut Criterion,
    rt: &tokio::runtime::Runtime,
    client: &Client,
    verify_client: &Client,
) {
    let mut group = c.benchmark_group("in_process");
    group.bench_function("bare serde_json decode (token)", |b| b.iter(bare_decode));
    group.bench_function("verify (build + decode)", |b| {
        b.to_async(rt).iter(|| verify(verify_client))
    });
    group.bench_function("login", |b| {
        b.to_async(rt).iter(|| async {
            client
                .authentication_tokens()
                .login(Login::password("ada@example.com", "pw"))
                .await
                .unwrap()
        })
    });
    group.bench_function("exchange", |b| {
        b.to_async(rt).iter(|| async {
            client
                .authentication_tokens()
                .exchange("tok_01HZX3", Exchange::new())
                .await
                .unwrap()
        })
    });
    group.bench_function("logout", |b| {
        b.to_async(rt).iter(|| async {
            client
                .authentication_tokens()
                .logout("tok_01HZX3")
                .await
                .unwrap()
        })
    });
    group.bench_function("credential get", |b| {
        b.to_async(rt).iter(|| async {
            client
                .credentials()
                .get("cus_crd_0YV9Y706QGCB39FQD380G1ZHZH")
                .await
                .unwrap()
        })
    });
    group.bench_function("credential create", |b| {
        b.to_async(rt).iter(|| async {
            client
                .credentials()
                .create(NewCredential::new("ada@example.com", "pw", "cus_1"))
                .await
                .unwrap()
        })
    });
    group.finish();
}

/// Allocations per call of `f`, averaged over `n` calls.
fn allocations_per_call(n: u64, mut f: impl FnMut()) -> (f64, f64) {
    let region = Region::new(GLOBAL);
    for _ in 0..n {
        f();
    }
    let stats = region.change();
    (
        stats.allocations as f64 / n as f64,
        stats.bytes_allocated as f64 / n as f64,
    )
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(|a, b| a.total_cmp(b));
    samples[samples.len() / 2]
}

/// `REBILLY_BENCH_LOOP=sdk|bare|build REBILLY_BENCH_CALLS=N`: run one loop and exit, for
/// instruction counts under `valgrind --tool=callgrind` (deterministic on a noisy machine).
fn instruction_loop(rt: &tokio::runtime::Runtime, client: &Client) -> bool {
    let Ok(mode) = std::env::var("REBILLY_BENCH_LOOP") else {
        return false;
    };
    let calls: u32 = std::env::var("REBILLY_BENCH_CALLS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000);
    rt.block_on(async {
        for _ in 0..calls {
            match mode.as_str() {
                "sdk" => drop(black_box(verify(client).await)),
                "build" => drop(black_box(
                    client
                        .authentication_tokens()
                        .verify("tok_01HZX3")
                        .to_http_request()
                        .unwrap(),
                )),
                _ => drop(black_box(bare_decode())),
            }
        }
    });
    true
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = client();
    let verify_client = verify_client();
    if instruction_loop(&rt, &verify_client) {
        return;
    }

    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .configure_from_args();
    criterion_benches(&mut criterion, &rt, &client, &verify_client);

    // Side by side: interleaved rounds, medians.
    const CALLS: u32 = 20_000;
    const ROUNDS: usize = 7;
    let (mut sdk, mut bare) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let start = Instant::now();
        for _ in 0..CALLS {
            black_box(bare_decode());
        }
        bare.push(start.elapsed().as_nanos() as f64 / f64::from(CALLS));
        let start = Instant::now();
        rt.block_on(async {
            for _ in 0..CALLS {
                black_box(verify(&verify_client).await);
            }
        });
        sdk.push(start.elapsed().as_nanos() as f64 / f64::from(CALLS));
    }
    let (sdk, bare) = (median(sdk), median(bare));
    let (sdk_allocs, sdk_bytes) = allocations_per_call(2_000, || {
        drop(black_box(rt.block_on(verify(&verify_client))))
    });
    let (bare_allocs, bare_bytes) = allocations_per_call(2_000, || drop(black_box(bare_decode())));
    let client_size = {
        let region = Region::new(GLOBAL);
        let extra = self::client();
        let bytes = region.change().bytes_allocated;
        drop(extra);
        bytes
    };
    let _ = Arc::new(());
    println!();
    println!(
        "| measure (median of {ROUNDS} interleaved rounds) | ns/call | allocs/call | bytes/call |"
    );
    println!("|---|---:|---:|---:|");
    println!(
        "| bare serde_json decode of a token | {bare:.0} | {bare_allocs:.1} | {bare_bytes:.0} |"
    );
    println!(
        "| SDK verify round trip (build + no-op transport + decode) | {sdk:.0} | {sdk_allocs:.1} | {sdk_bytes:.0} |"
    );
    println!();
    println!(
        "verify / bare decode ratio: {:.2} (goal <= 1.50)",
        sdk / bare
    );
    println!("heap bytes held by one idle Client: {client_size}");
}
