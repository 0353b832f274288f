//! The recording fake: scripting, recording, assertions, redaction.

use bytes::Bytes;
use http::Method;
use rebilly_auth_core::models::{Exchange, IssuedToken, Login, NewCredential};
use rebilly_auth_core::{HttpTransport, OperationId, TransportError};
use rebilly_auth_testing::RecordingTransport;
use rebilly_auth_testing::recording::{empty_response, json_response, problem_response};
use serde_json::json;

/// The error and its sources, joined.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    std::iter::successors(Some(error), |e| e.source())
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}

#[tokio::test]
async fn queue_then_closure_then_unscripted() {
    let fake = RecordingTransport::new();
    let c = fake.client();
    fake.respond(201, &IssuedToken::new("tok", "ada"))
        .respond_raw(empty_response(204));
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
        .assert_path("/organizations/org_test/authentication-tokens")
        .assert_query(None)
        .assert_header("reb-apikey", "sk_test")
        .assert_header("content-type", "application/json")
        .assert_json_body(&json!({"mode": "password", "username": "ada", "password": "hunter2"}))
        .assert_json_contains(&json!({"username": "ada"}));
    assert_eq!(
        requests[1].operation(),
        Some(OperationId::DeleteAuthenticationToken)
    );
    requests[1]
        .assert_method(Method::DELETE)
        .assert_path("/organizations/org_test/authentication-tokens/tok");

    // A closure of the request answers once the queue is empty.
    fake.respond_with(|request| {
        let limit = request
            .query_param("limit")
            .unwrap_or_else(|| "none".into());
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
async fn query_params_are_decoded() {
    let fake = RecordingTransport::new();
    fake.respond_raw(empty_response(204));
    let uri = "https://x/organizations/org/credentials?username=ada%40example.com&note=a+b%2Bc&flag&limit=7&limit=8&bad=%FF";
    fake.send(http::Request::get(uri).body(Bytes::new()).unwrap())
        .await
        .unwrap();
    let request = fake.last_request().unwrap();
    assert_eq!(
        request.query_param("username").as_deref(),
        Some("ada@example.com")
    );
    assert_eq!(request.query_param("note").as_deref(), Some("a b+c"));
    assert_eq!(request.query_param("flag").as_deref(), Some(""));
    assert_eq!(request.query_param("limit").as_deref(), Some("7"));
    assert_eq!(request.query_param("bad").as_deref(), Some("\u{FFFD}"));
    assert_eq!(request.query_param("missing"), None);
    request
        .assert_query_param("username", "ada@example.com")
        .assert_query(Some(
            "username=ada%40example.com&note=a+b%2Bc&flag&limit=7&limit=8&bad=%FF",
        ));
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
    let c = fake.client();
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
    fake.respond_error(TransportError::connect("refused"));
    let c = fake.client();
    let _ = c
        .credentials()
        .create(NewCredential::new("ada", "hunter2", "cus_1"))
        .await;
    fake.respond_raw(problem_response(404, "nope"));
    let _ = c.authentication_tokens().verify("tok_secret_value").await;
    let printed = format!("{fake:?}");
    for secret in ["sk_test", "hunter2", "tok_secret_value"] {
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
    fake.respond(201, &json!({"id": "c", "username": "x", "customerId": "c"}));
    let c = fake.client();
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
    fake.respond_raw(empty_response(204));
    let c = fake.client();
    c.credentials().delete("c").await.unwrap();
    fake.last_request()
        .unwrap()
        .assert_header("reb-apikey", "other");
}
