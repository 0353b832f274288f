//! The recording fake: scripting, recording, assertions, redaction.

mod common;

use common::chain;

use bytes::Bytes;
use http::Method;
use rebilly_auth_core::models::credential::NewCredential;
use rebilly_auth_core::models::jwt::Exchange;
use rebilly_auth_core::models::token::Login;
use rebilly_auth_core::{Client, HttpTransport, OperationId, RetryPolicy, TransportError};
use rebilly_auth_testing::RecordingTransport;
use rebilly_auth_testing::recording::{empty_response, json_response, problem_response};
use serde_json::json;

fn client(transport: &RecordingTransport) -> Client {
    Client::builder()
        .organization("org")
        .secret_key("sk_secret_value")
        .retry_policy(RetryPolicy::none())
        .transport(transport.clone())
        .build()
        .unwrap()
}

#[tokio::test]
async fn queue_then_closure_then_unscripted() {
    let fake = RecordingTransport::new();
    let c = client(&fake);
    fake.push_json(
        201,
        &json!({"username": "ada", "token": "tok", "customerId": "cus_1", "expiredTime": null}),
    )
    .push(empty_response(204));
    let token = c
        .authentication_tokens()
        .login(Login::password("ada", "hunter2"))
        .await
        .unwrap();
    assert_eq!(token.username, "ada");
    c.authentication_tokens().logout("tok").await.unwrap();
    fake.assert_all_used();

    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    requests[0]
        .assert_operation(OperationId::PostAuthenticationToken)
        .assert_method(Method::POST)
        .assert_path("/organizations/org/authentication-tokens")
        .assert_query(None)
        .assert_header("reb-apikey", "sk_secret_value")
        .assert_header("content-type", "application/json")
        .assert_json_body(&json!({"mode": "password", "username": "ada", "password": "hunter2"}))
        .assert_json_contains(&json!({"username": "ada"}));
    assert_eq!(
        requests[1].operation(),
        Some(OperationId::DeleteAuthenticationToken)
    );
    requests[1]
        .assert_method(Method::DELETE)
        .assert_path("/organizations/org/authentication-tokens/tok");

    // A closure of the request answers once the queue is empty.
    fake.respond_with(|request| {
        let limit = request.query_param("limit").unwrap_or("none").to_owned();
        Ok(json_response(200, &json!([])).map(|_| Bytes::from("[]"))).map(
            |mut r: http::Response<Bytes>| {
                r.headers_mut()
                    .insert("pagination-limit", limit.parse().unwrap());
                r
            },
        )
    });
    let page = c.credentials().list().limit(7).send().await.unwrap();
    assert_eq!(page.limit, Some(7));
    fake.last_request()
        .unwrap()
        .assert_query_param("limit", "7");
}

#[tokio::test]
async fn unscripted_request_names_method_and_route_but_no_token() {
    let fake = RecordingTransport::new();
    let error = fake
        .send(
            http::Request::post(
                "https://x/organizations/org/authentication-tokens/s3cr3t-token/exchange",
            )
            .body(Bytes::new())
            .unwrap(),
        )
        .await
        .unwrap_err();
    let message = chain(&error);
    assert!(
        message.contains(
            "PostAuthenticationTokenExchange (POST /organizations/org/authentication-tokens/{token}/exchange)"
        ),
        "{message}"
    );
    assert!(!message.contains("s3cr3t-token"));
    // Through the client too.
    let c = client(&fake);
    let err = c
        .authentication_tokens()
        .exchange("s3cr3t-token", Exchange::new())
        .await
        .unwrap_err();
    assert!(!format!("{err} {err:?}").contains("s3cr3t-token"));
}

#[tokio::test]
async fn debug_redacts_secrets() {
    let fake = RecordingTransport::new();
    fake.push_error(TransportError::connect("refused"));
    let c = client(&fake);
    let _ = c
        .credentials()
        .create(NewCredential::new("ada", "hunter2", "cus_1"))
        .await;
    fake.push(problem_response(404, "nope"));
    let _ = c.authentication_tokens().verify("tok_secret_value").await;
    let printed = format!("{fake:?}");
    for secret in ["sk_secret_value", "hunter2", "tok_secret_value"] {
        assert!(!printed.contains(secret), "{secret} leaked: {printed}");
    }
    assert!(printed.contains("[REDACTED]"));
    assert!(printed.contains("ada"));
    // The body is still there for assertions.
    fake.requests()[0].assert_json_contains(&json!({"password": "hunter2"}));
}

#[tokio::test]
#[should_panic(expected = "does not contain the expected value at `.username`")]
async fn json_contains_reports_the_path() {
    let fake = RecordingTransport::new();
    fake.push_json(201, &json!({"id": "c", "username": "x", "customerId": "c"}));
    let c = client(&fake);
    c.credentials()
        .create(NewCredential::new("ada", "pw", "cus_1"))
        .await
        .unwrap();
    fake.last_request()
        .unwrap()
        .assert_json_contains(&json!({"username": "bob"}));
}

#[tokio::test]
#[should_panic(expected = "values redacted")]
async fn secret_header_mismatch_hides_values() {
    let fake = RecordingTransport::new();
    fake.push(empty_response(204));
    let c = client(&fake);
    c.credentials().delete("c").await.unwrap();
    fake.last_request()
        .unwrap()
        .assert_header("reb-apikey", "other");
}
