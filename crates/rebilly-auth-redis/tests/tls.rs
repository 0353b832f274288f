//! The journey over `rediss://`, against a `redis-server --tls-port` with certificates made
//! by rcgen: `build()` ensures rustls' process-default provider first, and never panics.

mod common;

use common::*;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rebilly_auth_redis::RedisStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_over_rediss() {
    if !redis_available() {
        return;
    }
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_params =
        CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();

    let dir = TempDir::new("tls");
    let write = |name: &str, text: String| {
        let path = dir.0.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let ca_file = write("ca.pem", ca.pem());
    let cert_file = write("server.pem", leaf.pem());
    let key_file = write("server.key", leaf_key.serialize_pem());
    let tls_port = free_port();
    let mut server = RedisServer::start_on(
        0,
        &[
            "--tls-port",
            &tls_port.to_string(),
            "--tls-cert-file",
            &cert_file,
            "--tls-key-file",
            &key_file,
            "--tls-ca-cert-file",
            &ca_file,
            "--tls-auth-clients",
            "no",
        ],
        false,
    );
    server.port = tls_port;
    server.wait_ready();

    let url = format!("rediss://127.0.0.1:{tls_port}");
    let world = World::new().await;
    let mut nodes = Vec::new();
    for _ in 0..2 {
        let store = RedisStore::builder(url.as_str())
            .digest_key(DIGEST_KEY)
            .tls_root_certificate_pem(ca.pem())
            .build()
            .await
            .unwrap();
        assert!(store.metrics().connected, "connected over TLS");
        nodes.push((node(&world, &store, world.emulator.clone()), store));
    }
    assert!(rustls::crypto::CryptoProvider::get_default().is_some());
    let token = world.login().await;
    for (auth, _) in &nodes {
        auth.authenticate(token.expose()).await.unwrap();
    }
    nodes[0].0.logout(token.expose()).await.unwrap();
    until("the bus delivered over TLS", || {
        nodes[1].1.metrics().bus_messages >= 1
    })
    .await;
    assert!(nodes[1].0.authenticate(token.expose()).await.is_err());
    assert_eq!(
        nodes
            .iter()
            .map(|(a, _)| a.metrics().upstream_verifies)
            .sum::<u64>(),
        1
    );
}
