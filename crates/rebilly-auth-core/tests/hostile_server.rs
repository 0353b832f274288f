//! A hostile or broken server can neither crash a caller nor make an answer read as a success
//! it is not. Each scenario drives the public API (`Client` → transport → retries → decode).

mod common;
#[path = "common/every_operation.rs"]
mod every_operation;

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use common::{Fake, block_on, client, retrying_client};
use every_operation::{ASKED_TOKEN, Answer, call_every_operation};
use proptest::prelude::*;
use rebilly_auth_core::Error;
use rebilly_auth_core::models::Exchange;
use rebilly_auth_core::models::Login;
use rebilly_auth_core::models::NewResetPasswordToken;

const CREDENTIAL: &str = r#"{"id":"cus_crd_1","username":"ada","customerId":"cus_1"}"#;

#[test]
fn an_unrepresentable_reset_time_on_a_success_leaves_it_unset() {
    let fake = Fake::new();
    let client = retrying_client(&fake);
    fake.reply_with(
        200,
        &[("X-RateLimit-Retry-After", "9223372036854775808")],
        CREDENTIAL,
    );
    let answer = block_on(client.credentials().get("cus_crd_1").send_with_meta()).unwrap();
    assert_eq!(answer.value.username, "ada");
    assert_eq!(answer.meta.rate_limit.resets_at, None);
}

#[test]
fn an_unrepresentable_wait_ends_a_429_at_once_without_a_retry_time() {
    for (name, value) in [
        ("Retry-After", "18446744073709551615"),
        ("X-RateLimit-Retry-After", "18446744073709551615"),
        ("X-RateLimit-Retry-After", "9223372036854775808"),
    ] {
        let fake = Fake::new();
        let client = retrying_client(&fake);
        fake.reply_with(429, &[(name, value)], "")
            .reply(200, CREDENTIAL);
        let error = block_on(client.credentials().get("cus_crd_1")).unwrap_err();
        assert!(error.is_rate_limited(), "{name}: {error}");
        assert_eq!(error.retry_at(), None, "{name}");
        assert_eq!(fake.count(), 1, "{name}: not retried");
    }
    // A 503 likewise.
    let fake = Fake::new();
    let client = retrying_client(&fake);
    fake.reply_with(503, &[("Retry-After", "18446744073709551615")], "");
    let error = block_on(client.credentials().get("cus_crd_1")).unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(fake.count(), 1);
}

#[test]
fn verify_fails_closed() {
    let fake = Fake::new();
    let client = client(&fake);
    let verify = || block_on(client.authentication_tokens().verify(ASKED_TOKEN));

    // The genuine answer, with and without the token echoed.
    fake.reply(
        200,
        &format!(r#"{{"username":"ada","token":"{ASKED_TOKEN}"}}"#),
    );
    assert_eq!(verify().unwrap().unwrap().username, "ada");
    fake.reply(200, r#"{"username":"ada","customerId":"cus_1"}"#);
    assert_eq!(verify().unwrap().unwrap().customer_id.unwrap(), "cus_1");
    fake.reply(404, "");
    assert!(verify().unwrap().is_none());

    // A gateway's `200 {}`, an array, and a token object without a username.
    for body in [
        "{}",
        "[]",
        r#"{"token":"tok_asked_SECRET"}"#,
        r#"{"username":null}"#,
    ] {
        fake.reply(200, body);
        let error = verify().unwrap_err();
        assert!(matches!(error, Error::Decode(_)), "{body}: {error}");
    }
    fake.reply(200, "{}");
    let error = verify().unwrap_err();
    assert!(error.to_string().contains("username"), "{error}");

    // An answer describing another token: named, without either value.
    fake.reply(200, r#"{"username":"mallory","token":"tok_OTHER_SECRET"}"#);
    let error = verify().unwrap_err();
    let shown = format!("{error} {error:?}");
    assert!(shown.contains("another token"), "{shown}");
    assert!(
        !shown.contains(ASKED_TOKEN) && !shown.contains("tok_OTHER_SECRET"),
        "{shown}"
    );
}

#[test]
fn calls_that_exist_to_return_a_token_fail_without_one() {
    let fake = Fake::new();
    let client = client(&fake);
    for body in [
        "{}",
        r#"{"username":"ada"}"#,
        r#"{"token":""}"#,
        r#"{"token":null}"#,
    ] {
        fake.reply(201, body);
        let login = block_on(
            client
                .authentication_tokens()
                .login(Login::password("ada", "pw")),
        );
        assert!(matches!(login, Err(Error::Decode(_))), "login {body}");
        fake.reply(201, body);
        let exchange = block_on(
            client
                .authentication_tokens()
                .exchange(ASKED_TOKEN, Exchange::new()),
        );
        assert!(matches!(exchange, Err(Error::Decode(_))), "exchange {body}");
        fake.reply(201, body);
        let reset = block_on(
            client
                .reset_password_tokens()
                .create(NewResetPasswordToken::new("ada")),
        );
        assert!(matches!(reset, Err(Error::Decode(_))), "reset {body}");
    }
    fake.reply(201, "{}");
    let error = block_on(
        client
            .authentication_tokens()
            .login(Login::password("ada", "pw")),
    )
    .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("missing required field at .token"),
        "{error}"
    );
}

#[test]
fn untrusted_token_values_are_refused_before_sending() {
    let fake = Fake::new();
    let client = client(&fake);
    let long = "t".repeat(1025);
    let bad = [
        "",
        ".",
        "..",
        "tok en",
        "tok\ten",
        "tok\u{0}",
        "tok\u{1f}",
        "tok\u{7f}",
        "\r\n",
        &long,
    ];
    for token in bad {
        let tokens = client.authentication_tokens();
        for error in [
            block_on(tokens.verify(token)).unwrap_err(),
            block_on(tokens.logout(token)).unwrap_err(),
            block_on(tokens.exchange(token, Exchange::new())).unwrap_err(),
        ] {
            assert!(
                matches!(error, Error::InvalidInput(_)),
                "{token:?}: {error}"
            );
        }
    }
    assert_eq!(fake.count(), 0, "nothing was sent");
    // No allowlist: anything else is percent-encoded into one segment.
    fake.reply(404, "");
    let odd = format!("{}/?#é", "t".repeat(1000));
    assert!(
        block_on(client.authentication_tokens().verify(odd))
            .unwrap()
            .is_none()
    );
    assert_eq!(fake.count(), 1);
}

#[test]
fn problem_details_and_raw_bodies_never_print_the_path_or_body() {
    let fake = Fake::new();
    let client = client(&fake);
    fake.reply(
        403,
        &format!(
            r#"{{"title":"Forbidden","instance":"/authentication-tokens/{ASKED_TOKEN}","echo":"{ASKED_TOKEN}"}}"#
        ),
    );
    let error = block_on(client.authentication_tokens().verify(ASKED_TOKEN)).unwrap_err();
    let shown = format!("{error} {error:?} {:?}", error.as_api().unwrap().problem);
    assert!(shown.contains("Forbidden"), "{shown}");
    assert!(!shown.contains(ASKED_TOKEN), "{shown}");
}

/// A header value a hostile server might send for a time or a count.
fn header_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        any::<u64>().prop_map(|n| n.to_string().into_bytes()),
        Just(u64::MAX.to_string().into_bytes()),
        Just(b"9223372036854775808".to_vec()),
        any::<i64>().prop_map(|n| n.to_string().into_bytes()),
        (0u64..4_000_000_000).prop_map(|epoch| {
            httpdate::fmt_http_date(SystemTime::UNIX_EPOCH + Duration::from_secs(epoch))
                .into_bytes()
        }),
        Just(b"Fri, 31 Dec 9999 23:59:59 GMT".to_vec()),
        Just(b"Thu, 01 Jan 1970 00:00:00 GMT".to_vec()),
        Just("\u{e9}\u{e9}".as_bytes().to_vec()),
        proptest::collection::vec(0x20u8..=0xff, 0..24),
    ]
}

fn headers() -> impl Strategy<Value = Vec<(String, Vec<u8>)>> {
    let name = prop_oneof![
        Just("retry-after"),
        Just("x-ratelimit-retry-after"),
        Just("x-ratelimit-limit"),
        Just("x-ratelimit-remaining"),
        Just("pagination-total"),
        Just("pagination-limit"),
        Just("pagination-offset"),
        Just("content-type"),
        Just("location"),
    ];
    proptest::collection::vec((name.prop_map(str::to_owned), header_value()), 0..6)
}

/// Bodies: JSON of plausible and implausible shapes, truncated, nested, huge, or noise.
fn body() -> impl Strategy<Value = Bytes> {
    let token = prop_oneof![
        Just(serde_json::Value::Null),
        Just(serde_json::json!(ASKED_TOKEN)),
        Just(serde_json::json!("tok_other")),
        Just(serde_json::json!("")),
        Just(serde_json::json!(7)),
    ];
    let username = prop_oneof![
        Just(None),
        Just(Some(serde_json::json!("ada"))),
        Just(Some(serde_json::json!(null))),
        Just(Some(serde_json::json!(["ada"]))),
    ];
    let object = (token, username, any::<bool>()).prop_map(|(token, username, with_token)| {
        let mut map = serde_json::Map::new();
        if with_token {
            map.insert("token".into(), token);
        }
        if let Some(username) = username {
            map.insert("username".into(), username);
        }
        map.insert(
            "expiredTime".into(),
            serde_json::json!("2026-12-01T00:00:00Z"),
        );
        map.insert("id".into(), serde_json::json!("cus_crd_1"));
        map.insert("customerId".into(), serde_json::json!("cus_1"));
        serde_json::Value::Object(map)
    });
    prop_oneof![
        Just(Bytes::new()),
        object.clone().prop_map(|o| Bytes::from(o.to_string())),
        object
            .clone()
            .prop_map(|o| Bytes::from(serde_json::json!([o, o]).to_string())),
        (object, 0usize..40).prop_map(|(o, cut)| {
            let text = o.to_string();
            Bytes::from(text[..cut.min(text.len())].to_owned())
        }),
        (1usize..5000).prop_map(|depth| Bytes::from("[".repeat(depth) + &"]".repeat(depth))),
        (1usize..5000).prop_map(|depth| Bytes::from(r#"{"a":"#.repeat(depth))),
        Just(Bytes::from(format!("[{}]", vec!["{}"; 50_000].join(",")))),
        Just(Bytes::from_static(
            br#"{"username":1,"token":[],"expiredTime":false}"#
        )),
        proptest::collection::vec(any::<u8>(), 0..256).prop_map(Bytes::from),
    ]
}

fn answer() -> impl Strategy<Value = Answer> {
    let status = prop_oneof![
        Just(200u16),
        Just(201),
        Just(204),
        Just(404),
        Just(429),
        Just(502),
        Just(503),
        Just(504),
        100u16..1000,
    ];
    (status, headers(), body()).prop_map(|(status, headers, body)| Answer {
        status,
        headers,
        body,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever a server answers over up to three attempts, none of the 16 calls panics, and
    /// each ends as the fail-closed rules allow (checked in `every_operation`).
    #[test]
    fn no_answer_crashes_or_fools_any_operation(answers in proptest::collection::vec(answer(), 0..4)) {
        block_on(call_every_operation(answers));
    }
}
