//! What the tests share: redis-server processes on free loopback ports in temporary
//! directories (never 6379, never a shared instance), an emulator, and fleets of layers.
#![allow(dead_code, unreachable_pub)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rebilly_auth_axum::RebillyAuth;
use rebilly_auth_core::HttpTransport;
use rebilly_auth_core::models::{AuthToken, Login, NewCredential};
use rebilly_auth_core::{Auth, Client};
use rebilly_auth_redis::RedisStore;
use rebilly_auth_testing::emulator::Emulator;

pub const ORG: &str = "org";
pub const SECRET_KEY: &str = "sk_test_redis";
pub const PUBLISHABLE_KEY: &str = "pk_test_redis";
pub const DIGEST_KEY: [u8; 32] = [42; 32];

/// Whether redis-server is installed. Outside CI a missing one skips the test (with a
/// message); under CI (`CI=true`) it fails it.
pub fn redis_available() -> bool {
    let found = Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var("CI").is_err(),
            "redis-server is not installed, and CI is set: install it (apt-get install -y redis-server)"
        );
        eprintln!("SKIPPED: redis-server is not installed (apt-get install -y redis-server)");
    }
    found
}

/// A free loopback port (never 6379).
pub fn free_port() -> u16 {
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if port != 6379 && port < 55_000 {
            return port;
        }
    }
}

/// A temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "rebilly-auth-redis-{tag}-{}-{n}",
            std::process::id()
        ));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One redis-server, killed on drop.
pub struct RedisServer {
    pub port: u16,
    pub child: Child,
    pub dir: TempDir,
}

impl RedisServer {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// A server on a free port with `extra` arguments (`--port` is set here unless `extra`
    /// sets a TLS port and `--port 0`).
    pub fn start_with(extra: &[&str]) -> Self {
        let port = free_port();
        Self::start_on(port, extra, true)
    }

    pub fn start_on(port: u16, extra: &[&str], wait: bool) -> Self {
        let dir = TempDir::new("server");
        let mut command = Command::new("redis-server");
        command
            .args(["--port", &port.to_string()])
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--dir", dir.0.to_str().unwrap()])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = command.spawn().expect("redis-server starts");
        let server = Self { port, child, dir };
        if wait {
            server.wait_ready();
        }
        server
    }

    pub fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// `redis-cli` against this server.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(args)
            .output()
            .expect("redis-cli runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free loopback port whose cluster bus port (`port + 10000`) is free too.
pub fn free_cluster_port() -> u16 {
    loop {
        let port = free_port();
        if TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
}

/// A Redis Cluster of six redis-servers (three masters, one replica each), joined with
/// `redis-cli --cluster create --cluster-replicas 1`; every server is killed on drop.
pub struct Cluster {
    pub servers: Vec<RedisServer>,
}

impl Cluster {
    /// Six servers with a `node_timeout_ms` cluster-node-timeout, joined, and every one
    /// reporting `cluster_state:ok`.
    pub fn start(node_timeout_ms: u64) -> Self {
        let timeout = node_timeout_ms.to_string();
        let extra = [
            "--cluster-enabled",
            "yes",
            "--cluster-node-timeout",
            timeout.as_str(),
            // A replica always stands for election, however long its master was silent.
            "--cluster-replica-validity-factor",
            "0",
        ];
        let servers: Vec<RedisServer> = (0..6)
            .map(|_| RedisServer::start_on(free_cluster_port(), &extra, true))
            .collect();
        let addresses: Vec<String> = servers
            .iter()
            .map(|s| format!("127.0.0.1:{}", s.port))
            .collect();
        let out = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&addresses)
            .args(["--cluster-replicas", "1", "--cluster-yes"])
            .output()
            .expect("redis-cli runs");
        assert!(
            out.status.success(),
            "redis-cli --cluster create failed: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let cluster = Self { servers };
        cluster.wait_ok(&(0..6).collect::<Vec<_>>());
        cluster
    }

    /// Waits (up to 30 s) until every server of `alive` says `cluster_state:ok`.
    pub fn wait_ok(&self, alive: &[usize]) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !alive.iter().all(|&i| self.state_ok(i)) {
            assert!(Instant::now() < deadline, "the cluster did not become ok");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Server `i` says `cluster_state:ok`.
    pub fn state_ok(&self, i: usize) -> bool {
        self.servers[i]
            .cli(&["CLUSTER", "INFO"])
            .contains("cluster_state:ok")
    }

    /// The indices of the servers whose role is master.
    pub fn masters(&self) -> Vec<usize> {
        (0..self.servers.len())
            .filter(|&i| self.servers[i].cli(&["ROLE"]).starts_with("master"))
            .collect()
    }

    /// The index of the replica of master `master`.
    pub fn replica_of(&self, master: usize) -> usize {
        let port = self.servers[master].port.to_string();
        (0..self.servers.len())
            .find(|&i| {
                let role = self.servers[i].cli(&["ROLE"]);
                let mut lines = role.lines();
                lines.next() == Some("slave") && lines.nth(1) == Some(port.as_str())
            })
            .expect("every master has a replica")
    }

    /// Waits (up to 30 s) until server `i` is a master.
    pub fn wait_master(&self, i: usize) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.servers[i].cli(&["ROLE"]).starts_with("master") {
            assert!(Instant::now() < deadline, "the replica was not promoted");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn urls(&self) -> Vec<String> {
        self.servers.iter().map(RedisServer::url).collect()
    }
}

/// The emulator with `users` customers (`user0`, `user1`, …).
pub struct World {
    pub emulator: Emulator,
    pub admin: Client,
}

impl World {
    pub async fn new() -> Self {
        let emulator = Emulator::builder()
            .add_organization(ORG, SECRET_KEY, Some(PUBLISHABLE_KEY))
            .rate_limit(u64::MAX / 4)
            .max_records_per_kind(1_000_000)
            .build();
        let admin = Client::builder()
            .organization(ORG)
            .secret_key(SECRET_KEY)
            .transport(emulator.clone())
            .build()
            .unwrap();
        admin
            .credentials()
            .create(NewCredential::new("ada", "pw-of-the-test", "cus_ada"))
            .await
            .unwrap();
        Self { emulator, admin }
    }

    pub async fn login(&self) -> AuthToken {
        self.admin
            .authentication_tokens()
            .login(Login::password("ada", "pw-of-the-test"))
            .await
            .unwrap()
            .token
    }

    /// The layer's client over `transport`.
    pub fn client(&self, transport: impl HttpTransport + 'static) -> Client {
        Client::builder()
            .organization(ORG)
            .auth(Auth::publishable_key(PUBLISHABLE_KEY))
            .transport(transport)
            .build()
            .unwrap()
    }
}

/// A store on `url` with the tests' digest key.
pub async fn store(url: &str) -> RedisStore {
    RedisStore::builder(url)
        .digest_key(DIGEST_KEY)
        // Generous on a loaded 2-core CI machine: a missed deadline would make the node run
        // degraded, which these count-based tests are not about.
        .command_timeout(std::time::Duration::from_secs(2))
        .build()
        .await
        .unwrap()
}

/// A layer on `store` over `transport`.
pub fn node(
    world: &World,
    store: &RedisStore,
    transport: impl HttpTransport + 'static,
) -> RebillyAuth {
    store
        .apply(RebillyAuth::builder(world.client(transport)))
        .build()
        .unwrap()
}

/// A node with its own store on `url`, over the emulator.
pub async fn redis_node(world: &World, url: &str) -> (RebillyAuth, RedisStore) {
    let store = store(url).await;
    (node(world, &store, world.emulator.clone()), store)
}

/// Waits (counting, not timing: up to 10 s of polling) until `condition` holds.
pub async fn until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(Instant::now() < deadline, "waited too long for: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

pub type Shared<T> = Arc<T>;
