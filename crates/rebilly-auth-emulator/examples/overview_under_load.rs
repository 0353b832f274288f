//! Issue 23, item 5: how long a verify waits while the inbox page's overview of the largest
//! capped state is built. Run with
//! `cargo run --release -p rebilly-auth-testing --example overview_under_load`
//! (`ORGS=n` organizations, default 10, each at the per-kind cap of 10,000 credentials and
//! 10,000 authentication tokens, with a full outbox of 1,000).

use std::time::{Duration, Instant};

use bytes::Bytes;
use rebilly_auth_core::HttpTransport;
use rebilly_auth_emulator::{ControlApi, DEFAULT_MAX_RECORDS_PER_KIND, Emulator, Snapshot};
use serde_json::{Value, json};

fn request(path: &str, key: Option<&str>) -> http::Request<Bytes> {
    let mut builder = http::Request::builder()
        .uri(format!("http://127.0.0.1{path}"))
        .header("host", "127.0.0.1");
    if let Some(key) = key {
        builder = builder.header("REB-APIKEY", key);
    }
    builder.body(Bytes::new()).unwrap()
}

/// One organization at the caps, from a small real state copied up.
fn largest_state(orgs: usize) -> (Snapshot, String) {
    let seed = Emulator::builder()
        .add_organization("org-0", "sk", None)
        .build();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = rebilly_auth_core::Client::builder()
        .organization("org-0")
        .secret_key("sk")
        .transport(seed.clone())
        .build()
        .unwrap();
    rt.block_on(async {
        use rebilly_auth_core::models::{Login, NewCredential};
        client
            .credentials()
            .create(NewCredential::new("u", "pw", "cus_1"))
            .await
            .unwrap();
        client
            .authentication_tokens()
            .login(Login::password("u", "pw"))
            .await
            .unwrap();
    });
    let mut state: Value = serde_json::from_slice(&seed.snapshot().to_json()).unwrap();
    let template = state["organizations"][0].clone();
    let credential = template["credentials"]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap()
        .clone();
    let token = template["authTokens"]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap()
        .clone();
    let mut organizations = Vec::new();
    let mut verify_token = String::new();
    let mut seq = 10u64;
    for o in 0..orgs {
        let mut org = template.clone();
        org["id"] = json!(format!("org-{o}"));
        let mut credentials = serde_json::Map::new();
        let mut tokens = serde_json::Map::new();
        for i in 0..DEFAULT_MAX_RECORDS_PER_KIND {
            seq += 1;
            let id = format!("cus_crd_{o}_{i}");
            let mut c = credential.clone();
            c["id"] = json!(id);
            c["username"] = json!(format!("user-{i}"));
            c["seq"] = json!(seq);
            let mut t = token.clone();
            let value = format!("{o:08x}{i:032x}");
            t["token"] = json!(value);
            t["credentialId"] = json!(id);
            t["username"] = json!(format!("user-{i}"));
            t["seq"] = json!(seq);
            if o == 0 && i == 0 {
                verify_token = value.clone();
            }
            credentials.insert(id, c);
            tokens.insert(value, t);
        }
        org["credentials"] = Value::Object(credentials);
        org["authTokens"] = Value::Object(tokens);
        let outbox: Vec<Value> = (0..1000)
            .map(|i| {
                json!({"username": format!("user-{i}"), "customerId": "cus_1",
                "oneTimePassword": "123456", "sentTime": "2026-01-01T00:00:00Z", "seq": i})
            })
            .collect();
        org["outbox"] = Value::Array(outbox);
        organizations.push(org);
    }
    state["organizations"] = Value::Array(organizations);
    state["seq"] = json!(seq + 1);
    let snapshot = Snapshot::from_json(&serde_json::to_vec(&state).unwrap()).unwrap();
    (snapshot, verify_token)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p) as usize]
}

fn main() {
    let orgs: usize = std::env::var("ORGS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let (snapshot, token) = largest_state(orgs);
    let emulator = Emulator::builder()
        .control_api(ControlApi::new())
        .state(snapshot)
        .build();
    let verify_path = format!("/organizations/org-0/authentication-tokens/{token}");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let verify = |emulator: Emulator, path: String| async move {
            let started = Instant::now();
            let answer = emulator.send(request(&path, Some("sk"))).await.unwrap();
            assert_eq!(answer.status(), 200);
            started.elapsed()
        };
        // The overview alone.
        let mut overview_times = Vec::new();
        let mut size = 0;
        for _ in 0..50 {
            let started = Instant::now();
            let answer = emulator.send(request("/__emulator/overview", None)).await.unwrap();
            overview_times.push(started.elapsed());
            size = answer.body().len();
        }
        overview_times.sort();
        // Verifies alone.
        let mut alone = Vec::new();
        for _ in 0..2000 {
            alone.push(verify(emulator.clone(), verify_path.clone()).await);
        }
        alone.sort();
        // Verifies while another task builds overviews back to back.
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        // The overviews run back to back on a thread of their own, so that every verify
        // below races one for the state lock.
        let poller = {
            let emulator = emulator.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
                let mut n = 0u32;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let _ = rt.block_on(emulator.send(request("/__emulator/overview", None)));
                    n += 1;
                }
                n
            })
        };
        let mut during = Vec::new();
        for _ in 0..2000 {
            let emulator = emulator.clone();
            let path = verify_path.clone();
            during.push(tokio::spawn(verify(emulator, path)).await.unwrap());
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let overviews = poller.join().unwrap();
        during.sort();
        println!(
            "state: {orgs} organizations x ({} credentials + {} tokens + 1000 sent OTPs)",
            DEFAULT_MAX_RECORDS_PER_KIND, DEFAULT_MAX_RECORDS_PER_KIND
        );
        println!(
            "overview alone: median {:?}, p99 {:?}, max {:?} ({size} bytes)",
            percentile(&overview_times, 0.5),
            percentile(&overview_times, 0.99),
            overview_times.last().unwrap()
        );
        println!(
            "verify alone:           median {:?}, p99 {:?}, max {:?}",
            percentile(&alone, 0.5),
            percentile(&alone, 0.99),
            alone.last().unwrap()
        );
        println!(
            "verify during overview: median {:?}, p99 {:?}, max {:?} ({overviews} overviews built meanwhile)",
            percentile(&during, 0.5),
            percentile(&during, 0.99),
            during.last().unwrap()
        );
        println!(
            "ratio during/alone: median {:.2}, p99 {:.2}",
            percentile(&during, 0.5).as_secs_f64() / percentile(&alone, 0.5).as_secs_f64(),
            percentile(&during, 0.99).as_secs_f64() / percentile(&alone, 0.99).as_secs_f64()
        );
    });
}
