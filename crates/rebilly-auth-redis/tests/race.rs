//! The race: node B's verify is answered by Rebilly *before* node A's logout, but the answer
//! reaches B only after the logout returned. 1,000 trials, 0 acceptances with the Redis
//! store; the same staging with per-node caches only accepts every time.

mod common;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use common::*;
use rebilly_auth_axum::RebillyAuth;
use rebilly_auth_core::{HttpTransport, TransportError};
use rebilly_auth_testing::emulator::Emulator;
use tokio::sync::oneshot;

type Gate = (oneshot::Sender<()>, oneshot::Receiver<()>);

/// Holds back the answer of the next verify: signals once the emulator answered it, and
/// returns it only when released.
#[derive(Clone)]
struct Holding {
    inner: Emulator,
    gate: Arc<Mutex<Option<Gate>>>,
}

#[async_trait]
impl HttpTransport for Holding {
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        let verify = request.method() == http::Method::GET
            && request.uri().path().contains("/authentication-tokens/");
        let gate = if verify {
            self.gate.lock().unwrap().take()
        } else {
            None
        };
        let response = self.inner.send(request).await;
        if let Some((answered, release)) = gate {
            let _ = answered.send(());
            let _ = release.await;
        }
        response
    }
}

const TRIALS: usize = 1_000;

/// Runs the trials: B's verify held, A logs out, B's answer released. Returns how many of
/// B's requests were accepted after A's logout returned.
async fn run(
    world: &World,
    a: &RebillyAuth,
    b: &RebillyAuth,
    gate: &Arc<Mutex<Option<Gate>>>,
) -> usize {
    let mut accepted = 0;
    for _ in 0..TRIALS {
        let token = world.login().await;
        let (answered_tx, answered_rx) = oneshot::channel();
        let (release_tx, release_rx) = oneshot::channel();
        *gate.lock().unwrap() = Some((answered_tx, release_rx));
        let node_b = b.clone();
        let raw = token.expose().to_owned();
        let pending = tokio::spawn(async move { node_b.authenticate(&raw).await });
        answered_rx.await.expect("B's verify was answered");
        a.logout(token.expose()).await.expect("logout");
        release_tx.send(()).unwrap();
        if pending.await.unwrap().is_ok() {
            accepted += 1;
        }
    }
    accepted
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_acceptance_after_logout_returned() {
    if !redis_available() {
        return;
    }
    let server = RedisServer::start();
    let world = World::new().await;
    let gate = Arc::new(Mutex::new(None));
    let holding = Holding {
        inner: world.emulator.clone(),
        gate: Arc::clone(&gate),
    };

    // Per-node caches only: B keeps and serves the answer it got before the logout.
    let a = RebillyAuth::builder(world.client(world.emulator.clone()))
        .build()
        .unwrap();
    let b = RebillyAuth::builder(world.client(holding.clone()))
        .build()
        .unwrap();
    let per_node = run(&world, &a, &b, &gate).await;
    assert_eq!(per_node, TRIALS, "per-node caches accept every staged race");

    // The Redis store: the tombstone's check-and-set refuses B's late answer.
    let store_a = store(&server.url()).await;
    let store_b = store(&server.url()).await;
    let a = node(&world, &store_a, world.emulator.clone());
    let b = node(&world, &store_b, holding);
    let shared = run(&world, &a, &b, &gate).await;
    assert_eq!(shared, 0, "accepted after logout returned");
    let metrics = b.metrics();
    assert_eq!(metrics.revoked_in_flight, TRIALS as u64);
    // Every trial's late answer was refused by the shared tombstone: the store was in use.
    println!("per-node caches: {per_node}/{TRIALS} accepted; redis store: {shared}/{TRIALS}");
}
