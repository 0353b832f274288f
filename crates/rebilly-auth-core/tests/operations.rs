//! Every operation: the request as it goes on the wire, and the decoded answer for success and
//! for each status the spec documents.

mod common;

use common::{Fake, SECRET_KEY, client};
use rebilly_auth_core::models::AuthenticationOptions;
use rebilly_auth_core::models::LinkRel;
use rebilly_auth_core::models::Login;
use rebilly_auth_core::models::NewCredential;
use rebilly_auth_core::models::NewResetPasswordToken;
use rebilly_auth_core::models::{AclEntry, AclScope, Exchange, SessionType};
use rebilly_auth_core::{Auth, Deletion, Error, Upserted};
use serde_json::json;
use time::macros::datetime;

const TOKEN: &str = "tok_9f1c0a7e5b";
const PROBLEM_401: &str = r#"{"type":"about:blank","title":"Unauthorized","status":401,"detail":"Invalid credentials used."}"#;
const PROBLEM_403: &str = r#"{"title":"Forbidden","status":403,"detail":"Access forbidden."}"#;
const PROBLEM_404: &str = r#"{"title":"Not Found","status":404,"detail":"Resource not found."}"#;
const PROBLEM_409: &str = r#"{"title":"Conflict","status":409,"detail":"Token in use."}"#;
const PROBLEM_422: &str = r#"{"title":"Validation error","status":422,"detail":"Invalid data sent.","invalidFields":[{"field":"username","message":"username is taken"}]}"#;
const PROBLEM_429: &str = r#"{"type":"about:blank","title":"Rate Limit Exceeded","status":429}"#;

const TOKEN_BODY: &str = r#"{
    "username": "ada@example.com",
    "customerId": "cus_0YV7DDSDD1C8DA64KHH2W33CPF",
    "token": "tok_9f1c0a7e5b",
    "otpRequired": false,
    "credentialId": "cus_crd_0YV9Y706QGCB39FQD380G1ZHZH",
    "expiredTime": "2026-12-01T10:00:00Z",
    "_links": [{"rel": "self", "href": "https://api.test/organizations/org_1/authentication-tokens/tok_9f1c0a7e5b"}],
    "someFutureField": {"x": 1}
}"#;

const CREDENTIAL_BODY: &str = r#"{
    "id": "cus_crd_0YV9Y706QGCB39FQD380G1ZHZH",
    "username": "ada@example.com",
    "customerId": "cus_0YV7DDSDD1C8DA64KHH2W33CPF",
    "expiredTime": null,
    "_links": [{"rel": "self", "href": "https://api.test/organizations/org_1/credentials/cus_crd_0YV9Y706QGCB39FQD380G1ZHZH"}, {"rel": "customer", "href": "https://api.test/organizations/org_1/customers/cus_0YV7DDSDD1C8DA64KHH2W33CPF"}]
}"#;

const RESET_BODY: &str = r#"{
    "token": "rst_5Ab9",
    "username": "ada@example.com",
    "credentialId": "cus_crd_0YV9Y706QGCB39FQD380G1ZHZH",
    "expiredTime": "2026-12-01T10:00:00+00:00",
    "_links": [{"rel": "self", "href": "https://api.test/organizations/org_1/password-tokens/rst_5Ab9"}]
}"#;

fn url(path: &str) -> String {
    format!("https://api.test/organizations/org_1{path}")
}

fn assert_common_headers(request: &common::RecordedRequest, with_body: bool) {
    assert_eq!(request.header("accept"), Some("application/json"));
    assert_eq!(request.header("reb-apikey"), Some(SECRET_KEY));
    assert!(
        request
            .header("user-agent")
            .unwrap()
            .starts_with("rebilly-auth-rust/")
    );
    assert_eq!(request.header("authorization"), None);
    assert_eq!(
        request.header("organization-id"),
        None,
        "the deprecated header is never sent"
    );
    assert_eq!(
        request.header("content-type"),
        with_body.then_some("application/json")
    );
}

async fn expect_api_error<F, T>(
    fake: &std::sync::Arc<Fake>,
    status: u16,
    body: &str,
    call: F,
) -> Error
where
    F: std::future::Future<Output = Result<T, Error>>,
    T: std::fmt::Debug,
{
    fake.reply(status, body);
    let error = call.await.expect_err("an error status must fail the call");
    assert_eq!(error.status().map(|s| s.as_u16()), Some(status), "{error}");
    let problem = error
        .as_api()
        .unwrap()
        .problem
        .as_ref()
        .expect("problem body decoded");
    assert_eq!(problem.status, Some(status));
    error
}

#[tokio::test]
async fn get_authentication_option() {
    let fake = Fake::new();
    let client = client(&fake);
    fake.reply(
        200,
        r#"{"passwordPattern":"/^.{8,}$/","credentialTtl":3600,"authTokenTtl":600,"resetTokenTtl":900,"otpRequired":true,"_links":[{"rel":"self","href":"x"}]}"#,
    );
    let options = client.authentication_options().get().await.unwrap();
    let sent = fake.last();
    assert_eq!(
        (sent.method.as_str(), sent.uri.as_str()),
        ("GET", url("/authentication-options").as_str())
    );
    assert_common_headers(&sent, false);
    assert_eq!(sent.body, None);
    assert_eq!(options.password_pattern.as_deref(), Some("/^.{8,}$/"));
    assert_eq!(options.credential_ttl, Some(3600));
    assert_eq!(options.auth_token_ttl, Some(600));
    assert_eq!(options.reset_token_ttl, Some(900));
    assert_eq!(options.otp_required, Some(true));
    assert_eq!(options.links[0].rel, Some(LinkRel::SelfLink));

    // The 2022 spec's one-element array is accepted too; a null pattern is no pattern.
    fake.reply(200, r#"[{"passwordPattern":null,"otpRequired":false}]"#);
    let options = client.authentication_options().get().await.unwrap();
    assert_eq!(options.password_pattern, None);
    assert_eq!(options.otp_required, Some(false));
    // Two objects are not one options object.
    fake.reply(200, r#"[{},{}]"#);
    let error = client.authentication_options().get().await.unwrap_err();
    assert!(matches!(error, Error::Decode(_)), "{error}");

    expect_api_error(
        &fake,
        401,
        PROBLEM_401,
        client.authentication_options().get().send(),
    )
    .await;
    expect_api_error(
        &fake,
        403,
        PROBLEM_403,
        client.authentication_options().get().send(),
    )
    .await;
}

#[tokio::test]
async fn put_authentication_option() {
    let fake = Fake::new();
    let client = client(&fake);
    fake.reply_with(
        200,
        &[
            ("X-RateLimit-Limit", "3000"),
            ("X-RateLimit-Remaining", "2999"),
        ],
        r#"{"passwordPattern":"/^[0-9]+$/","authTokenTtl":60}"#,
    );
    let options = AuthenticationOptions::default()
        .password_pattern("/^[0-9]+$/")
        .auth_token_ttl(60);
    let answer = client
        .authentication_options()
        .update(options)
        .send_with_meta()
        .await
        .unwrap();
    let sent = fake.last();
    assert_eq!(
        (sent.method.as_str(), sent.uri.as_str()),
        ("PUT", url("/authentication-options").as_str())
    );
    assert_common_headers(&sent, true);
    assert_eq!(
        sent.body,
        Some(json!({"passwordPattern": "/^[0-9]+$/", "authTokenTtl": 60}))
    );
    assert_eq!(answer.value.auth_token_ttl, Some(60));
    assert_eq!(answer.meta.status, 200);
    assert_eq!(answer.meta.rate_limit.limit, Some(3000));
    assert_eq!(answer.meta.rate_limit.remaining, Some(2999));

    let update = || {
        client
            .authentication_options()
            .update(AuthenticationOptions::default())
            .send()
    };
    let error = expect_api_error(&fake, 422, PROBLEM_422, update()).await;
    assert_eq!(error.invalid_fields()[0].field.as_deref(), Some("username"));
    expect_api_error(&fake, 401, PROBLEM_401, update()).await;
    expect_api_error(&fake, 403, PROBLEM_403, update()).await;
    let error = expect_api_error(&fake, 429, PROBLEM_429, update()).await;
    assert!(error.is_rate_limited());
}

#[tokio::test]
async fn get_authentication_token_collection() {
    let fake = Fake::new();
    let client = client(&fake);
    fake.reply_with(
        200,
        &[
            ("Pagination-Total", "7"),
            ("pagination-limit", "2"),
            ("PAGINATION-OFFSET", "4"),
        ],
        &format!("[{TOKEN_BODY},{TOKEN_BODY}]"),
    );
    let page = client
        .authentication_tokens()
        .list()
        .limit(2)
        .offset(4)
        .await
        .unwrap();
    let sent = fake.last();
    assert_eq!(sent.method, "GET");
    assert_eq!(sent.uri, url("/authentication-tokens?limit=2&offset=4"));
    assert_common_headers(&sent, false);
    assert_eq!(page.items.len(), 2);
    assert_eq!(
        (page.total, page.limit, page.offset),
        (Some(7), Some(2), Some(4))
    );
    assert_eq!(page.items[0].username, "ada@example.com");

    // Missing or malformed pagination headers do not fail the call.
    fake.reply_with(200, &[("Pagination-Total", "lots")], "[]");
    let page = client.authentication_tokens().list().await.unwrap();
    assert_eq!(fake.last().uri, url("/authentication-tokens"));
    assert_eq!((page.items.len(), page.total, page.limit), (0, None, None));

    expect_api_error(
        &fake,
        401,
        PROBLEM_401,
        client.authentication_tokens().list().send(),
    )
    .await;
    expect_api_error(
        &fake,
        403,
        PROBLEM_403,
        client.authentication_tokens().list().send(),
    )
    .await;
}

#[tokio::test]
async fn post_authentication_token() {
    let fake = Fake::new();
    let client = client(&fake);
    fake.reply_with(
        201,
        &[(
            "Location",
            "https://api.test/organizations/org_1/authentication-tokens/tok_9f1c0a7e5b",
        )],
        TOKEN_BODY,
    );
    let login = Login::password("ada@example.com", "correct horse")
        .otp_required(false)
        .expired_time(datetime!(2026-12-01 10:00 UTC));
    let answer = client
        .authentication_tokens()
        .login(login)
        .send_with_meta()
        .await
        .unwrap();
    let sent = fake.last();
    assert_eq!(
        (sent.method.as_str(), sent.uri.as_str()),
        ("POST", url("/authentication-tokens").as_str())
    );
    assert_common_headers(&sent, true);
    assert_eq!(
        sent.body,
        Some(json!({
            "mode": "password",
            "username": "ada@example.com",
            "password": "correct horse",
            "otpRequired": false,
            "expiredTime": "2026-12-01T10:00:00Z"
        }))
    );
    let token = answer.value;
    assert_eq!(answer.meta.status, 201);
    assert!(
        answer
            .meta
            .location()
            .unwrap()
            .ends_with("/authentication-tokens/tok_9f1c0a7e5b")
    );
    assert_eq!(token.token.expose(), TOKEN);
    assert_eq!(
        token.customer_id.as_ref().unwrap(),
        "cus_0YV7DDSDD1C8DA64KHH2W33CPF"
    );
    assert_eq!(
        token.credential_id.as_ref().unwrap(),
        "cus_crd_0YV9Y706QGCB39FQD380G1ZHZH"
    );
    assert_eq!(token.expired_time, Some(datetime!(2026-12-01 10:00 UTC)));
    assert_eq!(token.otp_required, Some(false));

    // Passwordless, with a per-call publishable key: no REB-APIKEY then.
    fake.reply(
        201,
        r#"{"username":"ada@example.com","token":"t2","expiredTime":null}"#,
    );
    let token = client
        .authentication_tokens()
        .login(Login::passwordless("cus_1"))
        .auth(Auth::publishable_key("pk_test_1"))
        .await
        .unwrap();
    let sent = fake.last();
    assert_eq!(
        sent.body,
        Some(json!({"mode": "passwordless", "customerId": "cus_1"}))
    );
    assert_eq!(sent.header("authorization"), Some("pk_test_1"));
    assert_eq!(sent.header("reb-apikey"), None);
    assert_eq!(token.expired_time, None);

    let login = || {
        client
            .authentication_tokens()
            .login(Login::password("a", "b"))
            .send()
    };
    expect_api_error(&fake, 401, PROBLEM_401, login()).await;
    expect_api_error(&fake, 403, PROBLEM_403, login()).await;
    expect_api_error(&fake, 422, PROBLEM_422, login()).await;
    expect_api_error(&fake, 429, PROBLEM_429, login()).await;
}

#[tokio::test]
async fn get_authentication_token_verification() {
    let fake = Fake::new();
    let client = client(&fake);
    fake.reply(200, TOKEN_BODY);
    let token = client
        .authentication_tokens()
        .verify(TOKEN)
        .await
        .unwrap()
        .expect("valid");
    let sent = fake.last();
    assert_eq!(
        (sent.method.as_str(), sent.uri.as_str()),
        ("GET", url("/authentication-tokens/tok_9f1c0a7e5b").as_str())
    );
    assert_common_headers(&sent, false);
    assert_eq!(token.username, "ada@example.com");

    // A token that is no longer valid is `None`, not an error.
    fake.reply(404, PROBLEM_404);
    assert_eq!(
        client.authentication_tokens().verify(TOKEN).await.unwrap(),
        None
    );

    // With a customer JWT instead of the key.
    fake.reply(200, TOKEN_BODY);
    client
        .authentication_tokens()
        .verify(TOKEN)
        .auth(Auth::jwt("h.p.s"))
        .await
        .unwrap();
    assert_eq!(fake.last().header("authorization"), Some("Bearer h.p.s"));

    expect_api_error(
        &fake,
        401,
        PROBLEM_401,
        client.authentication_tokens().verify(TOKEN).send(),
    )
    .await;
    expect_api_error(
        &fake,
        403,
        PROBLEM_403,
        client.authentication_tokens().verify(TOKEN).send(),
    )
    .await;
}

#[tokio::test]
async fn delete_authentication_token() {
    let fake = Fake::new();
    let client = client(&fake);
    fake.reply(204, "");
    assert_eq!(
        client.authentication_tokens().logout(TOKEN).await.unwrap(),
        Deletion::Deleted
    );
    let sent = fake.last();
    assert_eq!(
        (sent.method.as_str(), sent.uri.as_str()),
        (
            "DELETE",
            url("/authentication-tokens/tok_9f1c0a7e5b").as_str()
        )
    );
    assert_common_headers(&sent, false);

    let error = expect_api_error(
        &fake,
        404,
        PROBLEM_404,
        client.authentication_tokens().logout(TOKEN).send(),
    )
    .await;
    assert!(error.is_not_found());
    expect_api_error(
        &fake,
        401,
        PROBLEM_401,
        client.authentication_tokens().logout(TOKEN).send(),
    )
    .await;
    expect_api_error(
        &fake,
        429,
        PROBLEM_429,
        client.authentication_tokens().logout(TOKEN).send(),
    )
    .await;
}

#[tokio::test]
async fn post_authentication_token_exchange() {
    let fake = Fake::new();
    let client = client(&fake);
    fake.reply(
        201,
        r#"{"id":"jwt_0YV7DEJX80CDRAKVTV478ZNJDR","type":"customer","token":"eyJ.eyJ.sig","customerId":"cus_1",
            "acl":[{"scope":{"organizationId":["org_1"]},"permissions":["*"]}],
            "customClaims":{"redirectUrl":"https://mywebsite.com"},
            "createdTime":"2026-11-28T10:00:00Z","updatedTime":"2026-11-28T10:00:00Z","expiredTime":"2026-11-28T11:00:00Z",
            "_links":[{"rel":"customer","href":"https://api.test/organizations/org_1/customers/cus_1"}]}"#,
    );
    let exchange = Exchange::new()
        .keep_token()
        .one_time_password("123456")
        .acl_entry(AclEntry::new(
            AclScope::default().organization_ids(["org_1"]),
            ["*"],
        ))
        .custom_claim("redirectUrl", json!("https://mywebsite.com"))
        .expired_time(datetime!(2026-11-28 11:00 UTC));
    let jwt = client
        .authentication_tokens()
        .exchange(TOKEN, exchange)
        .await
        .unwrap();
    let sent = fake.last();
    assert_eq!(
        (sent.method.as_str(), sent.uri.as_str()),
        (
            "POST",
            url("/authentication-tokens/tok_9f1c0a7e5b/exchange").as_str()
        )
    );
    assert_common_headers(&sent, true);
    assert_eq!(
        sent.body,
        Some(json!({
            "invalidate": false,
            "oneTimePassword": "123456",
            "acl": [{"scope": {"organizationId": ["org_1"]}, "permissions": ["*"]}],
            "customClaims": {"redirectUrl": "https://mywebsite.com"},
            "expiredTime": "2026-11-28T11:00:00Z"
        }))
    );
    assert_eq!(jwt.id.as_ref().unwrap(), "jwt_0YV7DEJX80CDRAKVTV478ZNJDR");
    assert_eq!(jwt.session_type, Some(SessionType::Customer));
    assert_eq!(jwt.token.expose(), "eyJ.eyJ.sig");
    assert_eq!(jwt.acl.as_ref().unwrap()[0].permissions, vec!["*"]);
    assert_eq!(jwt.expired_time, Some(datetime!(2026-11-28 11:00 UTC)));
    assert_eq!(jwt.links[0].rel, Some(LinkRel::Customer));

    // The default exchange sends an empty object: the server invalidates the token.
    fake.reply(201, r#"{"type":"sessionKindFromTheFuture","token":"eyJ"}"#);
    let jwt = client
        .authentication_tokens()
        .exchange(TOKEN, Exchange::new())
        .await
        .unwrap();
    assert_eq!(fake.last().body, Some(json!({})));
    assert_eq!(
        jwt.session_type,
        Some(SessionType::Other("sessionKindFromTheFuture".into()))
    );

    // A malformed one-time password is refused before sending.
    let before = fake.count();
    let error = client
        .authentication_tokens()
        .exchange(TOKEN, Exchange::new().one_time_password("12a456"))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidInput(_)), "{error}");
    assert_eq!(fake.count(), before);

    let exchange = || {
        client
            .authentication_tokens()
            .exchange(TOKEN, Exchange::new())
            .send()
    };
    expect_api_error(&fake, 401, PROBLEM_401, exchange()).await;
    expect_api_error(&fake, 403, PROBLEM_403, exchange()).await;
    expect_api_error(&fake, 404, PROBLEM_404, exchange()).await;
    expect_api_error(&fake, 429, PROBLEM_429, exchange()).await;
}

#[tokio::test]
async fn get_credential_collection() {
    let fake = Fake::new();
    let client = client(&fake);
    fake.reply_with(
        200,
        &[("Pagination-Total", "1")],
        &format!("[{CREDENTIAL_BODY}]"),
    );
    let page = client.credentials().list().limit(1000).await.unwrap();
    let sent = fake.last();
    assert_eq!(
        (sent.method.as_str(), sent.uri.as_str()),
        ("GET", url("/credentials?limit=1000").as_str())
    );
    assert_common_headers(&sent, false);
    assert_eq!(page.items[0].id, "cus_crd_0YV9Y706QGCB39FQD380G1ZHZH");
    assert_eq!(page.total, Some(1));

    expect_api_error(&fake, 401, PROBLEM_401, client.credentials().list().send()).await;
    expect_api_error(&fake, 403, PROBLEM_403, client.credentials().list().send()).await;
}

#[tokio::test]
async fn post_credential() {
    let fake = Fake::new();
    let client = client(&fake);
    fake.reply_with(
        201,
        &[(
            "Location",
            "https://api.test/organizations/org_1/credentials/cus_crd_0YV9Y706QGCB39FQD380G1ZHZH",
        )],
        CREDENTIAL_BODY,
    );
    let credential = NewCredential::new(
        "ada@example.com",
        "correct horse",
        "cus_0YV7DDSDD1C8DA64KHH2W33CPF",
    )
    .expired_time(datetime!(2027-01-01 00:00 UTC));
    let answer = client
        .credentials()
        .create(credential)
        .send_with_meta()
        .await
        .unwrap();
    let sent = fake.last();
    assert_eq!(
        (sent.method.as_str(), sent.uri.as_str()),
        ("POST", url("/credentials").as_str())
    );
    assert_common_headers(&sent, true);
    assert_eq!(
        sent.body,
        Some(json!({
            "username": "ada@example.com",
            "password": "correct horse",
            "customerId": "cus_0YV7DDSDD1C8DA64KHH2W33CPF",
            "expiredTime": "2027-01-01T00:00:00Z"
        }))
    );
    assert_eq!(answer.meta.status, 201);
    assert!(answer.meta.location().is_some());
    assert_eq!(answer.value.username, "ada@example.com");
    assert_eq!(answer.value.expired_time, None);
    assert_eq!(answer.value.links.len(), 2);

    let create = || {
        client
            .credentials()
            .create(NewCredential::new("a", "b", "c"))
            .send()
    };
    let error = expect_api_error(&fake, 422, PROBLEM_422, create()).await;
    assert_eq!(
        error.invalid_fields()[0].message.as_deref(),
        Some("username is taken")
    );
    expect_api_error(&fake, 401, PROBLEM_401, create()).await;
    expect_api_error(&fake, 403, PROBLEM_403, create()).await;
    expect_api_error(&fake, 429, PROBLEM_429, create()).await;
}

#[tokio::test]
async fn get_credential() {
    let fake = Fake::new();
    let client = client(&fake);
    fake.reply(200, CREDENTIAL_BODY);
    let credential = client
        .credentials()
        .get("cus_crd_0YV9Y706QGCB39FQD380G1ZHZH")
        .await
        .unwrap();
    let sent = fake.last();
    assert_eq!(
        (sent.method.as_str(), sent.uri.as_str()),
        (
            "GET",
            url("/credentials/cus_crd_0YV9Y706QGCB39FQD380G1ZHZH").as_str()
        )
    );
    assert_common_headers(&sent, false);
    assert_eq!(credential.customer_id, "cus_0YV7DDSDD1C8DA64KHH2W33CPF");

    let error = expect_api_error(
        &fake,
        404,
        PROBLEM_404,
        client.credentials().get("cus_crd_x").send(),
    )
    .await;
    assert!(error.is_not_found());
    expect_api_error(
        &fake,
        401,
        PROBLEM_401,
        client.credentials().get("x").send(),
    )
    .await;
    expect_api_error(
        &fake,
        403,
        PROBLEM_403,
        client.credentials().get("x").send(),
    )
    .await;
}

#[tokio::test]
async fn put_credential() {
    let fake = Fake::new();
    let client = client(&fake);
    let new = || NewCredential::new("ada@example.com", "pw", "cus_1");
    fake.reply(201, CREDENTIAL_BODY).reply(200, CREDENTIAL_BODY);
    let created = client
        .credentials()
        .upsert("cus_crd_1", new())
        .await
        .unwrap();
    let sent = fake.last();
    assert_eq!(
        (sent.method.as_str(), sent.uri.as_str()),
        ("PUT", url("/credentials/cus_crd_1").as_str())
    );
    assert_common_headers(&sent, true);
    assert_eq!(
        sent.body,
        Some(json!({"username": "ada@example.com", "password": "pw", "customerId": "cus_1"}))
    );
    assert!(matches!(created, Upserted::Created(_)));
    let updated = client
        .credentials()
        .upsert("cus_crd_1", new())
        .await
        .unwrap();
    assert!(matches!(updated, Upserted::Updated(_)));
    assert_eq!(updated.into_inner().username, "ada@example.com");

    let upsert = || client.credentials().upsert("cus_crd_1", new()).send();
    expect_api_error(&fake, 401, PROBLEM_401, upsert()).await;
    expect_api_error(&fake, 403, PROBLEM_403, upsert()).await;
    expect_api_error(&fake, 404, PROBLEM_404, upsert()).await;
    expect_api_error(&fake, 422, PROBLEM_422, upsert()).await;
    expect_api_error(&fake, 429, PROBLEM_429, upsert()).await;
}

#[tokio::test]
async fn delete_credential() {
    let fake = Fake::new();
    let client = client(&fake);
    fake.reply(204, "");
    assert_eq!(
        client.credentials().delete("cus_crd_1").await.unwrap(),
        Deletion::Deleted
    );
    let sent = fake.last();
    assert_eq!(
        (sent.method.as_str(), sent.uri.as_str()),
        ("DELETE", url("/credentials/cus_crd_1").as_str())
    );
    assert_common_headers(&sent, false);

    expect_api_error(
        &fake,
        404,
        PROBLEM_404,
        client.credentials().delete("cus_crd_1").send(),
    )
    .await;
    expect_api_error(
        &fake,
        401,
        PROBLEM_401,
        client.credentials().delete("cus_crd_1").send(),
    )
    .await;
    expect_api_error(
        &fake,
        429,
        PROBLEM_429,
        client.credentials().delete("cus_crd_1").send(),
    )
    .await;
}

#[tokio::test]
async fn get_password_token_collection() {
    let fake = Fake::new();
    let client = client(&fake);
    fake.reply_with(
        200,
        &[
            ("Pagination-Total", "1"),
            ("Pagination-Limit", "100"),
            ("Pagination-Offset", "0"),
        ],
        &format!("[{RESET_BODY}]"),
    );
    let page = client
        .reset_password_tokens()
        .list()
        .offset(0)
        .await
        .unwrap();
    let sent = fake.last();
    assert_eq!(
        (sent.method.as_str(), sent.uri.as_str()),
        ("GET", url("/password-tokens?offset=0").as_str())
    );
    assert_common_headers(&sent, false);
    assert_eq!(page.items[0].token.expose(), "rst_5Ab9");
    assert_eq!(
        (page.total, page.limit, page.offset),
        (Some(1), Some(100), Some(0))
    );

    expect_api_error(
        &fake,
        401,
        PROBLEM_401,
        client.reset_password_tokens().list().send(),
    )
    .await;
    expect_api_error(
        &fake,
        403,
        PROBLEM_403,
        client.reset_password_tokens().list().send(),
    )
    .await;
}

#[tokio::test]
async fn post_password_token() {
    let fake = Fake::new();
    let client = client(&fake);
    fake.reply_with(
        201,
        &[(
            "Location",
            "https://api.test/organizations/org_1/password-tokens/rst_5Ab9",
        )],
        RESET_BODY,
    );
    let reset = client
        .reset_password_tokens()
        .create(
            NewResetPasswordToken::new("ada@example.com")
                .expired_time(datetime!(2026-12-01 10:00 UTC)),
        )
        .await
        .unwrap();
    let sent = fake.last();
    assert_eq!(
        (sent.method.as_str(), sent.uri.as_str()),
        ("POST", url("/password-tokens").as_str())
    );
    assert_common_headers(&sent, true);
    assert_eq!(
        sent.body,
        Some(json!({"username": "ada@example.com", "expiredTime": "2026-12-01T10:00:00Z"}))
    );
    assert_eq!(reset.token.expose(), "rst_5Ab9");
    assert_eq!(
        reset.credential_id.as_ref().unwrap(),
        "cus_crd_0YV9Y706QGCB39FQD380G1ZHZH"
    );
    assert_eq!(reset.expired_time, Some(datetime!(2026-12-01 10:00 UTC)));

    let create = || {
        client
            .reset_password_tokens()
            .create(NewResetPasswordToken::new("a"))
            .send()
    };
    expect_api_error(&fake, 401, PROBLEM_401, create()).await;
    expect_api_error(&fake, 403, PROBLEM_403, create()).await;
    expect_api_error(&fake, 422, PROBLEM_422, create()).await;
    expect_api_error(&fake, 429, PROBLEM_429, create()).await;
}

#[tokio::test]
async fn get_password_token() {
    let fake = Fake::new();
    let client = client(&fake);
    fake.reply(200, RESET_BODY);
    let reset = client
        .reset_password_tokens()
        .get("rst_5Ab9")
        .await
        .unwrap();
    let sent = fake.last();
    assert_eq!(
        (sent.method.as_str(), sent.uri.as_str()),
        ("GET", url("/password-tokens/rst_5Ab9").as_str())
    );
    assert_common_headers(&sent, false);
    assert_eq!(reset.username, "ada@example.com");

    expect_api_error(
        &fake,
        404,
        PROBLEM_404,
        client.reset_password_tokens().get("rst_5Ab9").send(),
    )
    .await;
    expect_api_error(
        &fake,
        401,
        PROBLEM_401,
        client.reset_password_tokens().get("rst_5Ab9").send(),
    )
    .await;
    expect_api_error(
        &fake,
        403,
        PROBLEM_403,
        client.reset_password_tokens().get("rst_5Ab9").send(),
    )
    .await;
}

#[tokio::test]
async fn delete_password_token() {
    let fake = Fake::new();
    let client = client(&fake);
    fake.reply(204, "");
    assert_eq!(
        client
            .reset_password_tokens()
            .delete("rst_5Ab9")
            .await
            .unwrap(),
        Deletion::Deleted
    );
    let sent = fake.last();
    assert_eq!(
        (sent.method.as_str(), sent.uri.as_str()),
        ("DELETE", url("/password-tokens/rst_5Ab9").as_str())
    );
    assert_common_headers(&sent, false);

    let delete = || client.reset_password_tokens().delete("rst_5Ab9").send();
    expect_api_error(&fake, 401, PROBLEM_401, delete()).await;
    expect_api_error(&fake, 403, PROBLEM_403, delete()).await;
    expect_api_error(&fake, 404, PROBLEM_404, delete()).await;
    expect_api_error(&fake, 409, PROBLEM_409, delete()).await;
    expect_api_error(&fake, 429, PROBLEM_429, delete()).await;
}
