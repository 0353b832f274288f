//! The revocation bus and the store's health: one task per store that keeps the command
//! connection and the pub/sub subscription, applies revocations from other processes, and
//! drops every local answer whenever the subscription is lost or made again (pub/sub is
//! at-most-once: what was published during a gap is never delivered).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use futures_util::StreamExt;
use redis::aio::PubSubSink;

use crate::backend::within;
use crate::codec;
use crate::store::{Shared, inc};

/// Makes the command connection if there is none, else checks a degraded one with `PING`.
/// Marks the store up when Redis answered.
pub(crate) async fn connect_commands(shared: &Shared) {
    let existing = shared
        .conn
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let conn = match existing {
        Some(conn) => conn,
        None => match shared.target.connect(shared.command_timeout).await {
            Ok(conn) => {
                *shared.conn.write().unwrap_or_else(|e| e.into_inner()) = Some(conn.clone());
                check_eviction_policy(&conn, shared).await;
                conn
            }
            Err(error) => {
                shared.ever_down.store(true, Ordering::SeqCst);
                if shared.store_up.swap(false, Ordering::SeqCst) {
                    tracing::warn!(error = %error, "rebilly-auth-redis: cannot connect");
                }
                return;
            }
        },
    };
    let up = shared.store_up.load(Ordering::SeqCst);
    // Standalone: a connected store is checked by its own calls. A cluster is checked on
    // every tick: one master down takes a third of the keys, which this process's calls
    // may not touch, while the bus (on another node) stays up.
    if up && !conn.is_cluster() {
        return;
    }
    match conn.healthy(&shared.prefix, shared.command_timeout).await {
        Ok(()) => {
            if !shared.store_up.swap(true, Ordering::SeqCst) {
                shared.came_up();
                tracing::info!("rebilly-auth-redis: Redis answers");
                replay(shared).await;
            }
        }
        Err(error) => {
            shared.ever_down.store(true, Ordering::SeqCst);
            if up {
                shared.failed("HEALTH", &error);
            }
        }
    }
}

/// Warns unless Redis evicts only by TTL (`noeviction`): any other policy may drop a live
/// tombstone under memory pressure.
async fn check_eviction_policy(conn: &crate::backend::Conn, shared: &Shared) {
    let cmd = redis::cmd("CONFIG")
        .arg("GET")
        .arg("maxmemory-policy")
        .clone();
    match conn
        .query::<Vec<String>>(&cmd, shared.command_timeout)
        .await
    {
        Ok(pair) if pair.get(1).is_some_and(|p| p == "noeviction") => {}
        Ok(pair) => tracing::warn!(
            policy = pair.get(1).map_or("unknown", String::as_str),
            "rebilly-auth-redis: Redis's maxmemory-policy is not noeviction: under memory \
             pressure it may evict a live logout tombstone, letting a logged-out token back \
             in. Set maxmemory-policy noeviction (or give the store its own instance)"
        ),
        Err(_) => tracing::warn!(
            "rebilly-auth-redis: could not check Redis's maxmemory-policy (CONFIG GET \
             refused, as on many managed services): make sure it is noeviction"
        ),
    }
}

/// Writes the revocations made while Redis was unreachable.
async fn replay(shared: &Shared) {
    let pending = shared.take_pending();
    if pending.is_empty() {
        return;
    }
    let now = shared.clock.now();
    let mut left = Vec::new();
    for (key, until) in pending {
        if until > now && !shared.revoke_shared(key, until, now).await {
            left.push((key, until));
        }
    }
    for (key, until) in left {
        shared.defer(key, until);
    }
}

/// The bus was subscribed (`true`) or lost (`false`): either way no local answer from
/// before is trusted any more.
fn bus_changed(shared: &Shared, up: bool) {
    shared.bus_up.store(up, Ordering::SeqCst);
    shared.epoch.fetch_add(1, Ordering::SeqCst);
    shared.local.clear_answers();
}

/// Applies one revocation from the bus.
async fn apply(shared: &Shared, payload: &str) {
    use rebilly_auth_axum::VerifyCache;
    inc(&shared.counters.bus_messages);
    let Some((key, until)) = codec::parse_bus_message(payload) else {
        return;
    };
    let now = shared.clock.now();
    if shared.local.revoke(key, until, now).await.is_err() {
        // The local tombstone store is full: the answer is dropped all the same, and the
        // tombstone in Redis refuses the token on its next request.
        tracing::warn!("rebilly-auth-redis: the local tombstone store is full");
    }
}

/// Any answer will do: a subscribed RESP2 connection answers `PING` with an array
/// (`pong`, `""`), not the status `PONG` (read as a `String`, every ping failed, and the bus
/// was dropped and made again on every tick).
async fn ping(sink: &mut PubSubSink, shared: &Shared) -> bool {
    within(shared.command_timeout, sink.ping::<redis::Value>())
        .await
        .is_ok()
}

/// The task: subscribe, listen, notice a loss (end of stream or an unanswered `PING`),
/// subscribe again.
pub(crate) async fn run(shared: Arc<Shared>, ready: tokio::sync::oneshot::Sender<()>) {
    let mut ready = Some(ready);
    let mut attempt = 0usize;
    let mut subscribed_before = false;
    loop {
        connect_commands(&shared).await;
        if let Ok(pubsub) = shared.target.pubsub(attempt, shared.command_timeout).await {
            let (mut sink, mut stream) = pubsub.split();
            if within(shared.command_timeout, sink.subscribe(&shared.channel))
                .await
                .is_ok()
            {
                bus_changed(&shared, true);
                if subscribed_before {
                    inc(&shared.counters.reconnects);
                    tracing::info!("rebilly-auth-redis: the revocation bus is back");
                }
                subscribed_before = true;
                if let Some(ready) = ready.take() {
                    let _ = ready.send(());
                }
                replay(&shared).await;
                let mut tick = tokio::time::interval(shared.ping_interval);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                tick.tick().await;
                loop {
                    tokio::select! {
                        message = stream.next() => match message {
                            Some(message) => {
                                if let Ok(payload) = message.get_payload::<String>() {
                                    apply(&shared, &payload).await;
                                }
                            }
                            None => break,
                        },
                        _ = tick.tick() => {
                            if !ping(&mut sink, &shared).await {
                                break;
                            }
                            connect_commands(&shared).await;
                        }
                    }
                }
                bus_changed(&shared, false);
                tracing::warn!(
                    "rebilly-auth-redis: the revocation bus was lost; local answers are \
                     dropped and live at most the degraded bound until it is back"
                );
            }
        }
        attempt = attempt.wrapping_add(1);
        tokio::time::sleep(shared.reconnect_delay).await;
    }
}
