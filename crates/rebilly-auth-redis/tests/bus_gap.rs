//! The bus gap: every node caches the tokens, the subscribers are killed (`CLIENT KILL TYPE
//! pubsub`), the tokens are logged out during the gap (their messages reach nobody); after
//! the nodes subscribe again, 0 acceptances on any node.

mod common;

use std::time::Duration;

use common::*;
use rebilly_auth_redis::RedisStore;

const TOKENS: usize = 50;
const NODES: usize = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_acceptance_after_a_gap() {
    if !redis_available() {
        return;
    }
    let server = RedisServer::start();
    let world = World::new().await;
    let mut nodes = Vec::new();
    for _ in 0..NODES {
        // A long pause before subscribing again, so the logouts surely fall in the gap.
        let store = RedisStore::builder(server.url())
            .digest_key(DIGEST_KEY)
            .reconnect_delay(Duration::from_secs(1))
            .command_timeout(Duration::from_secs(2))
            .build()
            .await
            .unwrap();
        nodes.push((node(&world, &store, world.emulator.clone()), store));
    }
    let mut tokens = Vec::new();
    for _ in 0..TOKENS {
        let token = world.login().await;
        for (auth, _) in &nodes {
            auth.authenticate(token.expose())
                .await
                .expect("valid before");
        }
        tokens.push(token);
    }
    let before: Vec<u64> = nodes.iter().map(|(_, s)| s.metrics().reconnects).collect();
    // The bus held while the tokens were cached (its PING answered: no spurious loss).
    assert_eq!(before, vec![0; NODES], "bus reconnects before the gap");

    let killed = server.cli(&["CLIENT", "KILL", "TYPE", "pubsub"]);
    assert_eq!(
        killed.trim(),
        NODES.to_string(),
        "one subscriber per node killed"
    );
    for token in &tokens {
        nodes[0].0.logout(token.expose()).await.expect("logout");
    }
    let during: Vec<u64> = nodes.iter().map(|(_, s)| s.metrics().reconnects).collect();
    assert_eq!(during, before, "the logouts were made during the gap");

    for (i, (_, store)) in nodes.iter().enumerate() {
        until("the bus is back", || {
            store.metrics().reconnects > before[i] && store.metrics().connected
        })
        .await;
    }
    let mut accepted = 0;
    for token in &tokens {
        for (auth, _) in &nodes {
            if auth.authenticate(token.expose()).await.is_ok() {
                accepted += 1;
            }
        }
    }
    assert_eq!(accepted, 0, "acceptances after the gap");
}
