//! Redis stopped (`SIGSTOP`), then killed: valid tokens still pass through direct verify,
//! revoked ones are refused, and nothing gets 503 merely because Redis is down.

mod common;

use std::time::Duration;

use common::*;
use rebilly_auth_axum::{RebillyAuth, Rejection};
use rebilly_auth_core::models::AuthToken;
use rebilly_auth_redis::RedisStore;

async fn check(
    nodes: &[RebillyAuth],
    valid: &[&AuthToken],
    revoked: &[&AuthToken],
) -> (usize, usize) {
    let (mut wrong, mut unavailable) = (0, 0);
    for auth in nodes {
        for token in valid {
            match auth.authenticate(token.expose()).await {
                Ok(_) => {}
                Err(Rejection::Unavailable { .. } | Rejection::Overloaded { .. }) => {
                    unavailable += 1
                }
                Err(_) => wrong += 1,
            }
        }
        for token in revoked {
            if auth.authenticate(token.expose()).await.is_ok() {
                wrong += 1;
            }
        }
    }
    (wrong, unavailable)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopped_then_killed() {
    if !redis_available() {
        return;
    }
    let server = RedisServer::start();
    let world = World::new().await;
    let mut nodes = Vec::new();
    let mut stores = Vec::new();
    for _ in 0..2 {
        let store = RedisStore::builder(server.url())
            .digest_key(DIGEST_KEY)
            .command_timeout(Duration::from_millis(100))
            .ping_interval(Duration::from_millis(100))
            .build()
            .await
            .unwrap();
        nodes.push(node(&world, &store, world.emulator.clone()));
        stores.push(store);
    }
    let valid = world.login().await;
    let revoked = world.login().await;
    for auth in &nodes {
        auth.authenticate(valid.expose()).await.unwrap();
        auth.authenticate(revoked.expose()).await.unwrap();
    }
    nodes[0].logout(revoked.expose()).await.unwrap();
    until("the bus delivered the logout", || {
        stores[1].metrics().bus_messages >= 1
    })
    .await;
    assert_eq!(check(&nodes, &[&valid], &[&revoked]).await, (0, 0));

    // Stopped: calls pass their deadline, the bus's PING goes unanswered.
    server.signal("STOP");
    let fresh = world.login().await;
    let during = world.login().await;
    for auth in &nodes {
        auth.authenticate(during.expose()).await.unwrap();
    }
    nodes[0].logout(during.expose()).await.unwrap(); // refused on node 0 at once
    for store in &stores {
        until("degraded", || store.metrics().degraded).await;
    }
    // Node 0 refuses `during` at once; node 1 (which cached it while degraded, for at most
    // the degraded bound) refuses it once that bound has passed and Rebilly says 404.
    assert_eq!(
        check(&nodes[..1], &[&valid, &fresh], &[&revoked, &during]).await,
        (0, 0),
        "stopped, node 0: (wrong answers, 503s)"
    );
    assert_eq!(
        check(&nodes[1..], &[&valid, &fresh], &[&revoked]).await,
        (0, 0),
        "stopped, node 1: (wrong answers, 503s)"
    );
    tokio::time::sleep(Duration::from_millis(1_100)).await; // the degraded bound (1 s)
    assert_eq!(
        check(&nodes, &[&valid, &fresh], &[&revoked, &during]).await,
        (0, 0),
        "stopped, past the degraded bound: (wrong answers, 503s)"
    );

    // Killed.
    server.signal("KILL");
    let fresh2 = world.login().await;
    assert_eq!(
        check(&nodes, &[&valid, &fresh, &fresh2], &[&revoked, &during]).await,
        (0, 0),
        "killed: (wrong answers, 503s)"
    );
    let metrics = nodes[0].metrics();
    assert!(metrics.store.unwrap().degraded);
    assert!(metrics.store.unwrap().store_errors > 0);
    assert_eq!(metrics.upstream_unavailable, 0);
}
