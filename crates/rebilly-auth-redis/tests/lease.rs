//! Fleet-wide single flight, in counts:
//!
//! - eight nodes receiving the same fresh token at once cause about one upstream verify
//!   (at most 2 per token, over 20 tokens), the others take the answer from the shared store;
//! - a lost lease (its holder's upstream hangs and it never writes) does not stall the
//!   others past the layer's verify deadline, even with a lease ten times longer: they wait
//!   at most half the deadline, then verify themselves. 0 requests stalled.

mod common;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use common::*;
use rebilly_auth_axum::RebillyAuth;
use rebilly_auth_core::{HttpTransport, OperationId, TransportError};
use rebilly_auth_redis::RedisStore;
use rebilly_auth_testing::emulator::Emulator;

const NODES: usize = 8;
const TOKENS: usize = 20;
const VERIFY_TIMEOUT: Duration = Duration::from_secs(2);

fn verifies(world: &World) -> usize {
    world
        .emulator
        .executed(OperationId::GetAuthenticationTokenVerification)
}

/// A transport whose verifies never answer (every other request goes to the emulator).
#[derive(Clone)]
struct Hanging(Emulator);

#[async_trait]
impl HttpTransport for Hanging {
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<http::Response<Bytes>, TransportError> {
        if request.method() == http::Method::GET
            && request.uri().path().contains("/authentication-tokens/")
        {
            std::future::pending::<()>().await;
        }
        self.0.send(request).await
    }
}

async fn fleet_store(url: &str, lease: Duration) -> RedisStore {
    RedisStore::builder(url)
        .digest_key(DIGEST_KEY)
        .command_timeout(Duration::from_secs(1))
        .lease(lease)
        .build()
        .await
        .unwrap()
}

fn layer(
    world: &World,
    store: &RedisStore,
    transport: impl HttpTransport + 'static,
) -> RebillyAuth {
    store
        .apply(RebillyAuth::builder(world.client(transport)))
        .verify_timeout(VERIFY_TIMEOUT)
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_verify_for_eight_nodes() {
    if !redis_available() {
        return;
    }
    let server = RedisServer::start();
    let world = World::new().await;
    let mut nodes = Vec::new();
    let mut stores = Vec::new();
    for _ in 0..NODES {
        let store = fleet_store(&server.url(), Duration::from_millis(500)).await;
        nodes.push(layer(&world, &store, world.emulator.clone()));
        stores.push(store);
    }
    let nodes = Arc::new(nodes);
    let mut per_token = Vec::new();
    for _ in 0..TOKENS {
        let token = world.login().await;
        let before = verifies(&world);
        let barrier = Arc::new(tokio::sync::Barrier::new(NODES));
        let requests: Vec<_> = (0..NODES)
            .map(|i| {
                let (nodes, barrier) = (Arc::clone(&nodes), Arc::clone(&barrier));
                let raw = token.expose().to_owned();
                tokio::spawn(async move {
                    barrier.wait().await;
                    nodes[i].authenticate(&raw).await.is_ok()
                })
            })
            .collect();
        for request in requests {
            assert!(request.await.unwrap(), "every node accepts the fresh token");
        }
        per_token.push(verifies(&world) - before);
    }
    let waits: u64 = stores.iter().map(|s| s.metrics().lease_waits).sum();
    let hits: u64 = stores.iter().map(|s| s.metrics().shared_hits).sum();
    println!(
        "upstream verifies per token (8 nodes at once): {per_token:?}; lease waits {waits}, \
         shared hits {hits}"
    );
    assert!(
        per_token.iter().all(|&n| (1..=2).contains(&n)),
        "at most 2 upstream verifies of 8 per token: {per_token:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_lease_does_not_stall() {
    if !redis_available() {
        return;
    }
    let server = RedisServer::start();
    let world = World::new().await;
    // A lease far longer than the verify deadline: waiters must not wait it out.
    let lease = VERIFY_TIMEOUT * 10;
    let holder_store = fleet_store(&server.url(), lease).await;
    let holder = layer(&world, &holder_store, Hanging(world.emulator.clone()));
    let mut nodes = Vec::new();
    let mut stores = Vec::new();
    for _ in 1..NODES {
        let store = fleet_store(&server.url(), lease).await;
        nodes.push(layer(&world, &store, world.emulator.clone()));
        stores.push(store);
    }
    let token = world.login().await;
    let raw = token.expose().to_owned();
    let held = tokio::spawn(async move { holder.authenticate(&raw).await });
    until("the hanging node holds the lease", || {
        holder_store.metrics().lease_wins == 1
    })
    .await;

    let before = verifies(&world);
    let requests: Vec<_> = nodes
        .iter()
        .map(|auth| {
            let (auth, raw) = (auth.clone(), token.expose().to_owned());
            tokio::spawn(async move {
                tokio::time::timeout(VERIFY_TIMEOUT, auth.authenticate(&raw)).await
            })
        })
        .collect();
    let (mut stalled, mut accepted) = (0, 0);
    for request in requests {
        match request.await.unwrap() {
            Err(_elapsed) => stalled += 1,
            Ok(result) => accepted += usize::from(result.is_ok()),
        }
    }
    let waits: u64 = stores.iter().map(|s| s.metrics().lease_waits).sum();
    let verified = verifies(&world) - before;
    println!(
        "lost lease: {stalled} stalled past the verify deadline, {accepted} accepted, {waits} \
         lease waits, {verified} upstream verifies by the waiters"
    );
    assert_eq!(stalled, 0, "requests stalled past the verify deadline");
    assert_eq!(accepted, NODES - 1);
    assert!(waits >= 1, "the others waited on the lease first");
    assert!(verified >= 1, "the waiters verified themselves");
    // The holder's own verify hangs: it gets the layer's 503 at its deadline, no later.
    let held = tokio::time::timeout(VERIFY_TIMEOUT * 2, held).await;
    assert!(matches!(held, Ok(Ok(Err(_)))), "the holder's request ends");
}
