//! mockall on `BlockingTransport` (core's `mock` feature): a unit test of code that uses the
//! blocking client, with the retry rules of the real one.

use bytes::Bytes;
use rebilly_auth_ureq::BlockingClient;
use rebilly_auth_ureq::auth_core::blocking::MockBlockingTransport;
use rebilly_auth_ureq::auth_core::{RetryPolicy, TransportError};

#[test]
fn a_mocked_transport_sees_the_retry_of_a_reset_get() {
    let mut transport = MockBlockingTransport::new();
    let mut seq = mockall::Sequence::new();
    transport
        .expect_send()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_| Err(TransportError::io("connection reset")));
    transport
        .expect_send()
        .withf(|request| request.uri().path() == "/organizations/org/credentials/crd_1")
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_| {
            let body = r#"{"id":"crd_1","username":"ada","customerId":"cus_1"}"#;
            Ok(http::Response::new(Bytes::from(body)))
        });
    let client = BlockingClient::builder()
        .organization("org")
        .secret_key("sk_test")
        .retry_policy(RetryPolicy::default().initial_backoff(std::time::Duration::from_millis(1)))
        .transport(transport)
        .build()
        .unwrap();
    let credential = client.credentials().get("crd_1").send_with_meta().unwrap();
    assert_eq!(credential.value.username, "ada");
    assert_eq!(credential.meta.attempts, 2);
}
