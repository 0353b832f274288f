//! The blocking client called from inside `#[tokio::test]`, both flavours, against a server
//! outside the test's runtime (the emulator binary, its own process): no panic, no deadlock.
//! It blocks the test's thread for the call, as any blocking I/O does.

mod common;

use std::time::Duration;

use common::Emulator;
use rebilly_auth_ureq::models::{Login, NewCredential};

fn journey(emulator: &Emulator) {
    let client = emulator.client();
    client
        .credentials()
        .upsert("crd_ada", NewCredential::new("ada", "pw", "cus_ada"))
        .call_timeout(Duration::from_secs(10))
        .send()
        .unwrap();
    let token = client
        .authentication_tokens()
        .login(Login::password("ada", "pw"))
        .send()
        .unwrap()
        .token;
    assert!(
        client
            .authentication_tokens()
            .verify(token)
            .send()
            .unwrap()
            .is_some()
    );
    assert_eq!(client.authentication_tokens().list().items().count(), 1);
}

#[tokio::test(flavor = "current_thread")]
async fn inside_a_current_thread_runtime() {
    let emulator = Emulator::start(&[]);
    journey(&emulator);
    // The runtime still runs its tasks afterwards.
    assert_eq!(tokio::spawn(async { 7 }).await.unwrap(), 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inside_a_multi_thread_runtime() {
    let emulator = Emulator::start(&[]);
    journey(&emulator);
    assert_eq!(tokio::spawn(async { 7 }).await.unwrap(), 7);
}
