//! The connections to Redis: one command connection (a connection manager for standalone
//! Redis, a cluster connection for Redis Cluster) and the bus's pub/sub connection, every
//! call under the store's deadline.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig, PubSub};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{Client, Cmd, FromRedisValue, RedisError, ScriptInvocation, TlsCertificates};

/// Why a Redis call failed: an error, or no answer within the deadline.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CallError {
    #[error("redis refused or failed the call")]
    Redis(#[source] RedisError),
    #[error("redis did not answer within the store's deadline")]
    Deadline,
    #[error("some hash slots of the cluster have no master")]
    Uncovered,
}

/// Where the store connects: clients made from the URLs, never printed.
// One per store, made once: the variants' sizes (which differ by redis-rs release) do not
// matter, and boxing one would only move the warning to the other on the next release.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
pub(crate) enum Target {
    Standalone(Client),
    Cluster {
        cluster: ClusterClient,
        /// One client per seed node, for the bus (pub/sub reaches the whole cluster from any
        /// node).
        nodes: Vec<Client>,
    },
}

/// A command connection (cheap to clone: both kinds multiplex).
#[derive(Clone)]
pub(crate) enum Conn {
    Standalone(ConnectionManager),
    Cluster(ClusterConnection),
}

impl Target {
    /// Clients for `urls` (one: standalone; several: cluster seeds).
    pub(crate) fn new(
        urls: &[String],
        cluster: bool,
        root_pem: Option<&[u8]>,
        deadline: Duration,
    ) -> Result<Self, RedisError> {
        let certs = || TlsCertificates {
            client_tls: None,
            root_cert: root_pem.map(<[u8]>::to_vec),
        };
        let client = |url: &String| match root_pem {
            Some(_) => Client::build_with_tls(url.as_str(), certs()),
            None => Client::open(url.as_str()),
        };
        if !cluster {
            return Ok(Self::Standalone(client(&urls[0])?));
        }
        let mut builder = ClusterClient::builder(urls.iter().map(String::as_str))
            .connection_timeout(deadline)
            .response_timeout(deadline)
            .retries(1);
        if root_pem.is_some() {
            builder = builder.certs(certs());
        }
        let nodes = urls.iter().map(client).collect::<Result<Vec<_>, _>>()?;
        Ok(Self::Cluster {
            cluster: builder.build()?,
            nodes,
        })
    }

    /// A command connection, within `deadline`.
    pub(crate) async fn connect(&self, deadline: Duration) -> Result<Conn, CallError> {
        let connect = async {
            match self {
                Self::Standalone(client) => {
                    let config = ConnectionManagerConfig::new()
                        .set_connection_timeout(Some(deadline))
                        .set_response_timeout(Some(deadline))
                        .set_number_of_retries(1)
                        .set_max_delay(Duration::from_millis(500));
                    client
                        .get_connection_manager_with_config(config)
                        .await
                        .map(Conn::Standalone)
                }
                Self::Cluster { cluster, .. } => {
                    cluster.get_async_connection().await.map(Conn::Cluster)
                }
            }
        };
        within(deadline, connect).await
    }

    /// A pub/sub connection to the `attempt`-th node (round robin over a cluster's seeds).
    pub(crate) async fn pubsub(
        &self,
        attempt: usize,
        deadline: Duration,
    ) -> Result<PubSub, CallError> {
        let client = match self {
            Self::Standalone(client) => client,
            Self::Cluster { nodes, .. } => &nodes[attempt % nodes.len()],
        };
        within(deadline, client.get_async_pubsub()).await
    }
}

/// `call` within `deadline`.
pub(crate) async fn within<T>(
    deadline: Duration,
    call: impl Future<Output = Result<T, RedisError>>,
) -> Result<T, CallError> {
    match tokio::time::timeout(deadline, call).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(CallError::Redis(error)),
        Err(_) => Err(CallError::Deadline),
    }
}

impl Conn {
    /// A Redis Cluster connection.
    pub(crate) fn is_cluster(&self) -> bool {
        matches!(self, Self::Cluster(_))
    }

    /// Runs `cmd` within `deadline`.
    pub(crate) async fn query<T: FromRedisValue>(
        &self,
        cmd: &Cmd,
        deadline: Duration,
    ) -> Result<T, CallError> {
        match self {
            Self::Standalone(conn) => {
                let mut conn = conn.clone();
                within(deadline, cmd.query_async(&mut conn)).await
            }
            Self::Cluster(conn) => {
                let mut conn = conn.clone();
                within(deadline, cmd.query_async(&mut conn)).await
            }
        }
    }

    /// Runs a script within `deadline`.
    pub(crate) async fn invoke<T: FromRedisValue>(
        &self,
        script: &ScriptInvocation<'_>,
        deadline: Duration,
    ) -> Result<T, CallError> {
        match self {
            Self::Standalone(conn) => {
                let mut conn = conn.clone();
                within(deadline, script.invoke_async(&mut conn)).await
            }
            Self::Cluster(conn) => {
                let mut conn = conn.clone();
                within(deadline, script.invoke_async(&mut conn)).await
            }
        }
    }
}
