//! Privacy: no token byte in Redis's traffic (`MONITOR` during a journey), and a
//! password-bearing URL never in `Debug`, errors or logs.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use rebilly_auth_redis::RedisStore;
use rebilly_auth_testing::LogCapture;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitor_sees_no_token() {
    if !redis_available() {
        return;
    }
    let server = RedisServer::start();
    let capture_file = server.dir.0.join("monitor.txt");
    let mut monitor = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &server.port.to_string(), "monitor"])
        .stdout(Stdio::from(std::fs::File::create(&capture_file).unwrap()))
        .spawn()
        .unwrap();
    until("MONITOR is on", || {
        server.cli(&["CLIENT", "LIST"]).contains("cmd=monitor")
    })
    .await;

    let world = World::new().await;
    let (a, _sa) = redis_node(&world, &server.url()).await;
    let (b, sb) = redis_node(&world, &server.url()).await;
    let token = world.login().await;
    let other = world.login().await;
    a.authenticate(token.expose()).await.unwrap();
    b.authenticate(token.expose()).await.unwrap();
    b.authenticate(other.expose()).await.unwrap();
    a.logout(token.expose()).await.unwrap();
    until("the bus delivered", || sb.metrics().bus_messages >= 1).await;
    assert!(b.authenticate(token.expose()).await.is_err());
    let bogus = "bogus-token-never-valid-0123456789";
    assert!(a.authenticate(bogus).await.is_err());
    // A marker through MONITOR, so everything before it was written out.
    server.cli(&["ECHO", "end-of-journey"]);
    until("MONITOR caught up", || {
        std::fs::read_to_string(&capture_file).is_ok_and(|t| t.contains("end-of-journey"))
    })
    .await;
    let _ = monitor.kill();
    let _ = monitor.wait();
    let traffic = std::fs::read_to_string(&capture_file).unwrap();
    assert!(
        traffic.contains("rebilly-auth:{"),
        "the capture holds the store's traffic"
    );
    assert!(traffic.contains("EVALSHA") || traffic.contains("EVAL"));
    for secret in [token.expose(), other.expose(), bogus] {
        assert!(!traffic.contains(secret), "a token reached Redis");
    }
}

#[tokio::test]
async fn password_never_in_debug_or_logs() {
    if !redis_available() {
        return;
    }
    let password = "pw-Zq81-never-printed";
    let server = RedisServer::start_with(&["--requirepass", password]);
    let capture = LogCapture::new();
    let _guard = capture.set_default();
    let url = format!("redis://:{password}@127.0.0.1:{}", server.port);
    let builder = RedisStore::builder(&url).digest_key(DIGEST_KEY);
    let builder_debug = format!("{builder:?}");
    let store = builder.build().await.unwrap();
    assert!(store.metrics().connected, "the password was used");
    let world = World::new().await;
    let auth = node(&world, &store, world.emulator.clone());
    let token = world.login().await;
    auth.authenticate(token.expose()).await.unwrap();
    auth.logout(token.expose()).await.unwrap();

    // A wrong password: the store starts degraded, and says why without the URL.
    let wrong = format!("redis://:{password}-wrong@127.0.0.1:{}", server.port);
    let bad = RedisStore::builder(&wrong)
        .digest_key(DIGEST_KEY)
        .command_timeout(Duration::from_millis(200))
        .build()
        .await
        .unwrap();
    assert!(!bad.metrics().connected);
    let unusable = RedisStore::builder(format!("redis://:{password}@[::bad"))
        .digest_key(DIGEST_KEY)
        .build()
        .await
        .unwrap_err();
    let printed = [
        builder_debug,
        format!("{store:?}"),
        format!("{bad:?}"),
        format!("{auth:?}"),
        format!("{unusable} {unusable:?}"),
        format!("{:?}", auth.metrics()),
    ];
    for text in &printed {
        assert!(!text.contains(password), "leaked in: {text}");
    }
    assert!(printed[0].contains("[REDACTED]"));
    assert!(
        capture.text().contains("rebilly-auth-redis"),
        "the capture holds the store's logs"
    );
    capture.assert_free_of(&[password, token.expose()]);
}
