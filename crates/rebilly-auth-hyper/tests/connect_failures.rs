//! How `HyperTransport` classifies connect failures and what its `connect_timeout` bounds,
//! through the conformance suite's connect checks (the other shipped transport runs the same).

use std::time::Duration;

use rebilly_auth_hyper::{HyperTransport, HyperTransportBuilder};
use rebilly_auth_testing::conformance::CheckOutcome;
use rebilly_auth_testing::conformance::connect::{
    check_connect_timeout_covers_the_handshake, check_stalled_handshake_without_connect_timeout,
    check_unresolvable_name, run_isolated,
};

fn builder() -> HyperTransportBuilder {
    HyperTransport::builder()
}

#[track_caller]
fn passes(outcome: CheckOutcome) {
    if let Err(reason) = outcome {
        panic!("{reason}");
    }
}

#[test]
fn an_unresolvable_name_is_dns_and_never_left() {
    let transport = builder().connect_timeout(None).build().unwrap();
    passes(run_isolated(async {
        check_unresolvable_name(&transport).await
    }));
}

#[test]
fn connect_timeout_covers_the_tls_handshake_as_a_timeout_never_sent() {
    let limit = Duration::from_millis(300);
    let transport = builder().connect_timeout(limit).build().unwrap();
    passes(run_isolated(async {
        check_connect_timeout_covers_the_handshake(&transport, limit).await
    }));
}

#[test]
fn without_connect_timeout_a_stalled_handshake_waits_for_the_request_timeout() {
    let transport = builder()
        .connect_timeout(None)
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    passes(run_isolated(async {
        check_stalled_handshake_without_connect_timeout(&transport).await
    }));
}
