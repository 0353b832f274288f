//! A stateful property test: sequences of hostile `passwordPattern`s and long passwords sent
//! to one emulator through its public face (in-process HTTP handling). Every request is
//! answered quickly with an expected status, a refused password is refused with a 422 naming
//! `password` (or `passwordPattern`), and the state agrees with the answers.

mod support;

use std::time::{Duration, Instant};

use http::Method;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use rebilly_auth_emulator::MAX_PASSWORD_LENGTH;
use serde_json::json;
use support::*;

#[derive(Debug, Clone)]
enum Step {
    Pattern(String),
    Create(String),
}

fn pattern() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("(?=[a-z]*[0-9])".to_owned()),
        Just("/^(?=.*(?=.*(?=[a-z]*[0-9])))/".to_owned()),
        Just("(a|a)*(?=b)".to_owned()),
        Just("(?=([a-z]*)\\1[0-9])".to_owned()),
        Just("/^(?=.*[A-Z])(?=.*\\d).{8,}$/".to_owned()),
        Just("((a+)+)+$".to_owned()),
        // Nested lookaheads of random depth around a random class.
        (1usize..6, "[a-z0-9]{1,3}").prop_map(|(depth, class)| format!(
            "{}[{class}]*[0-9]{}",
            "(?=.*".repeat(depth),
            ")".repeat(depth)
        )),
        "[a-z()*+?|\\[\\]=.]{0,40}",
    ]
}

fn password() -> impl Strategy<Value = String> {
    let cap = MAX_PASSWORD_LENGTH;
    prop_oneof![
        (0..=cap + 8, "[a-z0-9]").prop_map(|(n, c)| c.repeat(n)),
        (cap - 2..=cap + 2).prop_map(|n| "a".repeat(n)),
        (cap - 2..=cap + 2).prop_map(|n| "é".repeat(n)),
        (1_000usize..200_000).prop_map(|n| "a".repeat(n)),
        "[ -~]{1,40}",
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        1 => pattern().prop_map(Step::Pattern),
        3 => password().prop_map(Step::Create),
    ]
}

#[test]
fn hostile_patterns_and_long_passwords() {
    let mut runner = TestRunner::new(Config {
        cases: 24,
        failure_persistence: None,
        ..Config::default()
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runner
        .run(&prop::collection::vec(step(), 1..12), |steps| {
            runtime.block_on(async {
                let emu = emulator();
                let mut created = 0usize;
                for (i, step) in steps.iter().enumerate() {
                    let started = Instant::now();
                    let (status, body) = match step {
                        Step::Pattern(p) => {
                            let r = raw_secret(
                                &emu,
                                Method::PUT,
                                "/authentication-options",
                                Some(json!({"passwordPattern": p})),
                            )
                            .await;
                            (r.status.as_u16(), r.json())
                        }
                        Step::Create(password) => {
                            let r = raw_secret(
                                &emu,
                                Method::POST,
                                "/credentials",
                                Some(json!({
                                    "username": format!("user-{i}"),
                                    "password": password,
                                    "customerId": "cus_1",
                                })),
                            )
                            .await;
                            (r.status.as_u16(), r.json())
                        }
                    };
                    let took = started.elapsed();
                    prop_assert!(took < Duration::from_secs(2), "{step:?} took {took:?}");
                    match (step, status) {
                        (Step::Pattern(_), 200) => {}
                        (Step::Pattern(_), 422) => {
                            prop_assert_eq!(&body["invalidFields"][0]["field"], "passwordPattern");
                        }
                        (Step::Create(password), 201) => {
                            prop_assert!(password.chars().count() <= MAX_PASSWORD_LENGTH);
                            created += 1;
                        }
                        (Step::Create(password), 422) => {
                            prop_assert_eq!(&body["invalidFields"][0]["field"], "password");
                            if password.chars().count() > MAX_PASSWORD_LENGTH {
                                let message = body["invalidFields"][0]["message"]
                                    .as_str()
                                    .unwrap_or_default();
                                prop_assert!(message.contains("at most"), "{message}");
                            }
                        }
                        (step, status) => {
                            return Err(TestCaseError::fail(format!(
                                "{step:?} answered {status}: {body}"
                            )));
                        }
                    }
                }
                prop_assert_eq!(emu.stored_records(ORG).unwrap().credentials, created);
                Ok(())
            })
        })
        .unwrap();
}
