//! The transport conformance suite against `HyperTransport` (loopback only).

use rebilly_auth_hyper::{HyperTransport, tls_config_with_roots};
use rebilly_auth_testing::conformance::{ConformanceEnv, run_all};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hyper_transport_passes_the_conformance_suite() {
    let report = run_all(|env: &ConformanceEnv| {
        HyperTransport::builder()
            .tls_config(tls_config_with_roots([env.ca_cert_der.clone()]).unwrap())
            .build()
            .unwrap()
    })
    .await;
    println!("{report}");
    report.assert_all_passed();
}
