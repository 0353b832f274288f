//! Redis Cluster: six redis-servers (three masters, one replica each, a 1 s
//! `cluster-node-timeout`) and four app nodes on it. Trials run while one master is killed
//! (`SIGKILL`): its slots refuse commands until its replica takes over, and the nodes run
//! degraded. Hard bars, all counts:
//!
//! - while it fails over, **no request is accepted later than the degraded bound (1 s)
//!   after a logout returned**, on any node;
//! - for trials that start after the failover completed, **0 acceptances** once the logout
//!   reached every node, one upstream verify per token (the others read the shared store),
//!   and every node's counters say connected, not degraded.
//!
//! The killed master is not the first seed, to which every node's bus subscribes: the bus
//! stays up while a third of the keys cannot be written, the case a node only notices
//! through its cluster health check.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::*;
use rebilly_auth_axum::RebillyAuth;
use rebilly_auth_core::OperationId;
use rebilly_auth_redis::RedisStore;

const NODES: usize = 4;
const NODE_TIMEOUT_MS: u64 = 1_000;
/// The store's documented degraded bound (`RedisStoreBuilder::degraded_bound`'s default).
const BOUND: Duration = Duration::from_secs(1);
/// How long past the bound each other node is still asked, to catch late acceptances.
const WATCH_PAST_BOUND: Duration = Duration::from_millis(400);
const TRIALS_AFTER: usize = 30;

#[derive(Default)]
struct Tally {
    trials: AtomicUsize,
    /// Acceptances by another node of a request sent later than the bound after the logout
    /// returned: the hard bar (0).
    late: AtomicUsize,
    /// Acceptances after the logout returned, within the bound (allowed while degraded).
    within_bound: AtomicUsize,
    /// The latest acceptance after a logout returned, in ms.
    worst_ms: AtomicUsize,
}

/// One trial: a fresh token cached on every node, logged out through one, and every other
/// node asked every 10 ms until past the bound.
async fn trial(world: Arc<World>, nodes: Arc<Vec<RebillyAuth>>, n: usize, tally: Arc<Tally>) {
    let token = world.login().await;
    for auth in nodes.iter() {
        let _ = auth.authenticate(token.expose()).await;
    }
    let through = n % NODES;
    nodes[through]
        .logout(token.expose())
        .await
        .expect("logout returns, degraded or not");
    let returned = Instant::now();
    tally.trials.fetch_add(1, Ordering::Relaxed);
    let watch = (0..NODES).filter(|&i| i != through).map(|i| {
        let nodes = Arc::clone(&nodes);
        let tally = Arc::clone(&tally);
        let raw = token.expose().to_owned();
        async move {
            while returned.elapsed() < BOUND + WATCH_PAST_BOUND {
                let sent = returned.elapsed();
                if nodes[i].authenticate(&raw).await.is_ok() {
                    if sent > BOUND {
                        tally.late.fetch_add(1, Ordering::Relaxed);
                    } else {
                        tally.within_bound.fetch_add(1, Ordering::Relaxed);
                    }
                    tally
                        .worst_ms
                        .fetch_max(sent.as_millis() as usize, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    });
    futures_util::future::join_all(watch).await;
}

fn all_connected(stores: &[RedisStore]) -> bool {
    stores.iter().all(|s| {
        let m = s.metrics();
        m.connected && !m.degraded
    })
}

fn bus_messages(stores: &[RedisStore]) -> Vec<u64> {
    stores.iter().map(|s| s.metrics().bus_messages).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn master_killed_mid_run() {
    if !redis_available() {
        return;
    }
    let started = Instant::now();
    let cluster = tokio::task::spawn_blocking(|| Cluster::start(NODE_TIMEOUT_MS))
        .await
        .unwrap();
    let killed = *cluster
        .masters()
        .iter()
        .find(|&&i| i != 0)
        .expect("a master besides the first seed");
    let replica = cluster.replica_of(killed);
    let world = Arc::new(World::new().await);
    let mut stores = Vec::new();
    let mut nodes = Vec::new();
    for _ in 0..NODES {
        let store = RedisStore::cluster_builder(cluster.urls())
            .digest_key(DIGEST_KEY)
            .command_timeout(Duration::from_millis(500))
            .ping_interval(Duration::from_millis(200))
            .build()
            .await
            .unwrap();
        nodes.push(node(&world, &store, world.emulator.clone()));
        stores.push(store);
    }
    until("every node connected to the cluster", || {
        all_connected(&stores)
    })
    .await;
    let nodes = Arc::new(nodes);

    // Trials every 50 ms, from before the kill until well after the failover completed.
    let tally = Arc::new(Tally::default());
    let stop = Arc::new(AtomicBool::new(false));
    let spawner = {
        let (world, nodes, tally, stop) = (
            Arc::clone(&world),
            Arc::clone(&nodes),
            Arc::clone(&tally),
            Arc::clone(&stop),
        );
        tokio::spawn(async move {
            let mut running = Vec::new();
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                let args = (
                    Arc::clone(&world),
                    Arc::clone(&nodes),
                    n,
                    Arc::clone(&tally),
                );
                running.push(tokio::spawn(trial(args.0, args.1, args.2, args.3)));
                n += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            for task in running {
                task.await.unwrap();
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let errors_before: u64 = stores.iter().map(|s| s.metrics().store_errors).sum();
    cluster.servers[killed].signal("KILL");
    let killed_at = Instant::now();
    let trials_at_kill = tally.trials.load(Ordering::Relaxed);
    let alive: Vec<usize> = (0..6).filter(|&i| i != killed).collect();
    let cluster = Arc::new(cluster);
    {
        let cluster = Arc::clone(&cluster);
        tokio::task::spawn_blocking(move || {
            // Promoted (after the node timeout and an election), then ok everywhere.
            cluster.wait_master(replica);
            cluster.wait_ok(&alive);
        })
        .await
        .unwrap();
    }
    let promoted = killed_at.elapsed();
    until("every node connected again", || all_connected(&stores)).await;
    let failed_over = killed_at.elapsed();
    let trials_during = tally.trials.load(Ordering::Relaxed) - trials_at_kill;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    stop.store(true, Ordering::SeqCst);
    spawner.await.unwrap();
    let errors_during: u64 =
        stores.iter().map(|s| s.metrics().store_errors).sum::<u64>() - errors_before;
    println!(
        "failover: replica promoted after {} ms, every node connected again after {} ms; \
         {} trials in all, {} \
         during the failover; acceptances after a logout returned: {} within the bound, {} \
         later (latest {} ms); store errors during: {errors_during}",
        promoted.as_millis(),
        failed_over.as_millis(),
        tally.trials.load(Ordering::Relaxed),
        trials_during,
        tally.within_bound.load(Ordering::Relaxed),
        tally.late.load(Ordering::Relaxed),
        tally.worst_ms.load(Ordering::Relaxed),
    );
    assert!(trials_during > 0, "trials ran during the failover");
    assert!(errors_during > 0, "the nodes saw the master fail");
    assert_eq!(
        tally.late.load(Ordering::Relaxed),
        0,
        "acceptances later than the degraded bound after a logout returned"
    );

    // After the failover: the replays of logouts made while degraded are on the bus by now;
    // wait until no more arrive, then trial by trial.
    let mut seen = bus_messages(&stores);
    loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let now = bus_messages(&stores);
        if now == seen {
            break;
        }
        seen = now;
    }
    let hits_before: u64 = stores.iter().map(|s| s.metrics().shared_hits).sum();
    let verifies_before = world
        .emulator
        .executed(OperationId::GetAuthenticationTokenVerification);
    let mut accepted = 0;
    for n in 0..TRIALS_AFTER {
        let token = world.login().await;
        for auth in nodes.iter() {
            auth.authenticate(token.expose())
                .await
                .expect("valid before the logout");
        }
        let before = bus_messages(&stores);
        nodes[n % NODES].logout(token.expose()).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while !bus_messages(&stores)
            .iter()
            .zip(&before)
            .all(|(now, then)| now > then)
        {
            assert!(
                Instant::now() < deadline,
                "trial {n}: the logout did not reach every node: before {before:?}, now {:?}, {:?}",
                bus_messages(&stores),
                stores.iter().map(|s| s.metrics()).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        for auth in nodes.iter() {
            if auth.authenticate(token.expose()).await.is_ok() {
                accepted += 1;
            }
        }
    }
    let verifies = world
        .emulator
        .executed(OperationId::GetAuthenticationTokenVerification)
        - verifies_before;
    let hits = stores.iter().map(|s| s.metrics().shared_hits).sum::<u64>() - hits_before;
    println!(
        "after the failover: {TRIALS_AFTER} trials, {accepted} acceptances after logout, \
         {verifies} upstream verifies, {hits} shared hits; whole test {} ms",
        started.elapsed().as_millis()
    );
    assert_eq!(
        accepted, 0,
        "acceptances after the logout reached every node"
    );
    assert_eq!(verifies, TRIALS_AFTER, "one upstream verify per token");
    assert!(
        hits >= ((NODES - 1) * TRIALS_AFTER) as u64,
        "the other nodes read the shared store"
    );
    assert!(all_connected(&stores), "connected, not degraded");
}
