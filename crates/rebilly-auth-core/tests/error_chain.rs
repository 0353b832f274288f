//! Every error reads once: each `Display` describes its own layer, and the cause is reached
//! through `source()`. Rendered as anyhow's `{:#}` does (each level joined by ": "), no
//! level repeats another.

mod common;

use std::error::Error as StdError;
use std::sync::Arc;
use std::time::Duration;

use common::{Fake, block_on, client};
use rebilly_auth_core::models::Exchange;
use rebilly_auth_core::{BuildError, Client, Error, RetryPolicy, TransportError};

/// The chain as `{:#}` shows it, and each level's own text.
fn chain(error: &(dyn StdError + 'static)) -> (String, Vec<String>) {
    let mut levels = vec![error.to_string()];
    let mut current = error.source();
    while let Some(source) = current {
        levels.push(source.to_string());
        current = source.source();
    }
    (levels.join(": "), levels)
}

fn assert_reads_once(label: &str, error: &(dyn StdError + 'static)) {
    let (rendered, levels) = chain(error);
    for (i, a) in levels.iter().enumerate() {
        assert!(!a.is_empty(), "{label}: an empty level in {rendered:?}");
        for b in &levels[i + 1..] {
            assert!(
                !a.contains(b.as_str()) && !b.contains(a.as_str()),
                "{label}: {a:?} and {b:?} repeat each other in {rendered:?}"
            );
        }
    }
}

fn call_errors() -> Vec<(&'static str, Error)> {
    let fake = Fake::new();
    let client = client(&fake);
    let mut errors = Vec::new();
    fake.fail(|| {
        TransportError::connect(std::io::Error::other("connection refused (os error 111)"))
    });
    errors.push((
        "Transport",
        block_on(client.credentials().get("cus_crd_1")).unwrap_err(),
    ));
    fake.reply(422, r#"{"title":"Invalid","detail":"bad","invalidFields":[{"field":"username","message":"taken"}]}"#);
    errors.push((
        "Api",
        block_on(client.credentials().get("cus_crd_1")).unwrap_err(),
    ));
    fake.reply(200, "{");
    errors.push((
        "Decode",
        block_on(client.credentials().get("cus_crd_1")).unwrap_err(),
    ));
    errors.push((
        "InvalidInput",
        block_on(client.credentials().get("a/b")).unwrap_err(),
    ));
    fake.fail(|| TransportError::io("connection reset"));
    errors.push((
        "ExchangeOutcomeUnknown (transport)",
        block_on(
            client
                .authentication_tokens()
                .exchange("tok", Exchange::new()),
        )
        .unwrap_err(),
    ));
    fake.reply(502, "<html>Bad Gateway</html>");
    errors.push((
        "ExchangeOutcomeUnknown (gateway)",
        block_on(
            client
                .authentication_tokens()
                .exchange("tok", Exchange::new()),
        )
        .unwrap_err(),
    ));
    // A call that never answers, against a deadline that fires at once.
    let hanging = Fake::new();
    hanging
        .hang
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let timed = Client::builder()
        .server_url(common::ROOT)
        .organization("org_1")
        .secret_key(common::SECRET_KEY)
        .retry_policy(RetryPolicy::none())
        .attempt_timeout(Duration::from_millis(1))
        .transport(hanging)
        .build()
        .unwrap();
    let timeout = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async { timed.credentials().get("cus_crd_1").await })
        .unwrap_err();
    assert!(timeout.is_timeout());
    errors.push(("Timeout", timeout));
    fake.fail(|| TransportError::timeout("no response head within 30 s"));
    let transport_timeout = block_on(client.credentials().get("cus_crd_1")).unwrap_err();
    assert!(
        transport_timeout.is_timeout(),
        "the transport's own timeout counts"
    );
    errors.push(("Transport (timeout)", transport_timeout));
    errors
}

#[test]
fn every_call_error_reads_once() {
    let errors = call_errors();
    assert_eq!(errors.len(), 8);
    for (label, error) in &errors {
        assert_reads_once(label, error);
    }
    let (rendered, _) = chain(&errors[0].1);
    assert_eq!(
        rendered,
        "GetCredential: the transport got no response: connection failed: connection refused (os error 111)"
    );
}

#[test]
fn build_errors_are_their_own_type_and_read_once() {
    let missing: BuildError = Client::builder()
        .transport(Fake::new())
        .build()
        .unwrap_err();
    assert_reads_once("missing organization", &missing);
    let bad_key: BuildError = Client::builder()
        .organization("org")
        .secret_key("sk\r\nInjected: 1")
        .transport(Fake::new())
        .build()
        .unwrap_err();
    assert!(matches!(bad_key, BuildError::InvalidValue(_)));
    assert_reads_once("bad key", &bad_key);
    let failed: BuildError = Client::builder()
        .organization("org")
        .try_transport(Err::<Arc<Fake>, _>(std::io::Error::other("no TLS roots")))
        .sleep(Arc::new(common::test_time().1))
        .build()
        .unwrap_err();
    assert!(matches!(failed, BuildError::Transport(_)));
    assert_reads_once("transport setup", &failed);
}
