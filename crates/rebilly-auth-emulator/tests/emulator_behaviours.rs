//! Issue #16: each switchable behaviour under each setting, the SDK's journey under every
//! non-default setting, and the fidelity fixes (an explicit JWT `acl`, seeded customers,
//! lists newest first).

mod support;

use http::Method;
use rebilly_auth_core::models::AuthenticationOptions;
use rebilly_auth_core::models::Exchange;
use rebilly_auth_core::models::Login;
use rebilly_auth_core::models::NewCredential;
use rebilly_auth_core::models::NewResetPasswordToken;
use rebilly_auth_emulator::Emulator;
use rebilly_auth_emulator::{
    Behaviours, ErrorContentType, NullExpiredTime, OptionsUpdate, Pagination, WrongPassword,
};
use serde_json::json;
use support::*;

fn with(behaviours: Behaviours) -> Emulator {
    Emulator::builder()
        .add_organization(ORG, SK, Some(PK))
        .behaviours(behaviours)
        .build()
}

async fn credential(emu: &Emulator, username: &str, customer: &str) -> Raw {
    let body = json!({"username": username, "password": "pw", "customerId": customer});
    raw_secret(emu, Method::POST, "/credentials", Some(body)).await
}

async fn login(emu: &Emulator, body: serde_json::Value) -> Raw {
    raw_secret(emu, Method::POST, "/authentication-tokens", Some(body)).await
}

#[tokio::test]
async fn wrong_password_is_401_or_422() {
    for (setting, status) in [
        (WrongPassword::Unauthorized, 401),
        (WrongPassword::UnprocessableEntity, 422),
    ] {
        let emu = with(Behaviours::default().wrong_password(setting));
        assert_eq!(credential(&emu, "ada", "cus_ada").await.status, 201);
        let r = login(&emu, json!({"username": "ada", "password": "nope"})).await;
        assert_eq!(r.status, status, "{setting:?}");
        if status == 422 {
            assert_eq!(r.json()["invalidFields"][0]["field"], "password");
        }
        // An unknown username answers the same (no hint which one was wrong).
        let r = login(&emu, json!({"username": "bob", "password": "pw"})).await;
        assert_eq!(r.status, status, "{setting:?}");
    }
}

#[tokio::test]
async fn errors_are_json_or_problem_json() {
    for (setting, content_type) in [
        (ErrorContentType::Json, "application/json"),
        (ErrorContentType::ProblemJson, "application/problem+json"),
    ] {
        let emu = with(Behaviours::default().error_content_type(setting));
        let r = raw_secret(&emu, Method::GET, "/credentials/nope", None).await;
        assert_eq!(r.status, 404);
        assert_eq!(r.header("content-type"), Some(content_type));
        assert_eq!(r.json()["status"], 404);
        // Successes stay application/json.
        let r = credential(&emu, "ada", "cus_ada").await;
        assert_eq!(r.header("content-type"), Some("application/json"));
    }
}

#[tokio::test]
async fn options_update_merges_or_replaces() {
    for (setting, ttl_after) in [(OptionsUpdate::Merge, 60), (OptionsUpdate::Replace, 3600)] {
        let emu = with(Behaviours::default().options_update(setting));
        let put = |body| raw_secret(&emu, Method::PUT, "/authentication-options", Some(body));
        assert_eq!(put(json!({"authTokenTtl": 60})).await.status, 200);
        let r = put(json!({"otpRequired": true})).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.json()["otpRequired"], true);
        assert_eq!(r.json()["authTokenTtl"], ttl_after, "{setting:?}");
    }
}

#[tokio::test]
async fn out_of_range_pagination_is_clamped_or_refused() {
    for (setting, status) in [(Pagination::Clamp, 200), (Pagination::Reject, 422)] {
        let emu = with(Behaviours::default().pagination(setting));
        for query in ["limit=5000", "offset=-1", "limit=abc", "limit=%35000"] {
            let r = raw_secret(&emu, Method::GET, &format!("/credentials?{query}"), None).await;
            assert_eq!(r.status, status, "{setting:?} {query}");
        }
        let r = raw_secret(&emu, Method::GET, "/credentials?limit=1000&offset=0", None).await;
        assert_eq!(r.status, 200);
        // Decoded before it is read: `%31%30` is 10.
        let r = raw_secret(&emu, Method::GET, "/credentials?limit=%31%30", None).await;
        assert_eq!(r.header("pagination-limit"), Some("10"), "{setting:?}");
    }
}

#[tokio::test]
async fn null_expired_time_means_default_lifetime_422_or_never() {
    for setting in [
        NullExpiredTime::DefaultLifetime,
        NullExpiredTime::Reject,
        NullExpiredTime::NeverExpires,
    ] {
        let emu = with(Behaviours::default().null_expired_time(setting));
        assert_eq!(credential(&emu, "ada", "cus_ada").await.status, 201);
        let token = login(
            &emu,
            json!({"username": "ada", "password": "pw", "expiredTime": null}),
        )
        .await;
        let body = json!({"username": "ada", "expiredTime": null});
        let reset = raw_secret(&emu, Method::POST, "/password-tokens", Some(body)).await;
        for r in [&token, &reset] {
            match setting {
                NullExpiredTime::DefaultLifetime => {
                    assert_eq!(r.status, 201);
                    assert!(r.json()["expiredTime"].is_string(), "{}", r.json());
                }
                NullExpiredTime::Reject => {
                    assert_eq!(r.status, 422);
                    assert_eq!(r.json()["invalidFields"][0]["field"], "expiredTime");
                }
                _ => {
                    assert_eq!(r.status, 201);
                    assert!(r.json()["expiredTime"].is_null(), "{}", r.json());
                }
            }
        }
    }
}

/// The SDK's journey through every operation; every non-default setting must pass it.
async fn journey(emu: &Emulator) {
    let client = emu.client(ORG);
    let options = client.authentication_options().get().await.unwrap();
    let updated = client
        .authentication_options()
        .update(AuthenticationOptions::default().auth_token_ttl(1800))
        .await
        .unwrap();
    assert_eq!(updated.auth_token_ttl, Some(1800));
    assert_eq!(updated.otp_required, options.otp_required);
    let created = client
        .credentials()
        .create(NewCredential::new("ada", "pw", "cus_ada"))
        .await
        .unwrap();
    client
        .credentials()
        .create(NewCredential::new("bob", "pw", "cus_bob"))
        .await
        .unwrap();
    let page = client.credentials().list().limit(1).await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.total, Some(2));
    client.credentials().get(created.id.clone()).await.unwrap();
    let auth_tokens = client.authentication_tokens();
    let wrong = auth_tokens
        .login(Login::password("ada", "wrong"))
        .await
        .unwrap_err();
    assert!(
        wrong.status().is_some_and(|s| s == 401 || s == 422),
        "{wrong:?}"
    );
    let issued = auth_tokens
        .login(Login::password("ada", "pw"))
        .await
        .unwrap();
    assert!(auth_tokens.verify(&issued.token).await.unwrap().is_some());
    let tokens = auth_tokens.list().await.unwrap();
    assert_eq!(tokens.items.len(), 1);
    let jwt = auth_tokens
        .exchange(&issued.token, Exchange::new())
        .await
        .unwrap();
    assert!(!jwt.token.expose().is_empty());
    assert!(auth_tokens.verify(&issued.token).await.unwrap().is_none());
    let reset = client
        .reset_password_tokens()
        .create(NewResetPasswordToken::new("ada"))
        .await
        .unwrap();
    client
        .reset_password_tokens()
        .get(&reset.token)
        .await
        .unwrap();
    client.reset_password_tokens().list().await.unwrap();
    client
        .reset_password_tokens()
        .delete(&reset.token)
        .await
        .unwrap();
    let missing = client.credentials().get("nope").await.unwrap_err();
    assert!(missing.is_not_found(), "{missing:?}");
    let again = auth_tokens
        .login(Login::password("bob", "pw"))
        .await
        .unwrap();
    auth_tokens.logout(&again.token).await.unwrap();
    client.credentials().delete(created.id).await.unwrap();
}

#[tokio::test]
async fn the_sdk_journey_passes_under_every_setting() {
    journey(&with(Behaviours::default())).await;
    for behaviours in Behaviours::each_non_default() {
        journey(&with(behaviours)).await;
    }
}

#[tokio::test]
async fn an_explicit_acl_is_honoured() {
    let emu = with(Behaviours::default());
    assert_eq!(credential(&emu, "ada", "cus_ada").await.status, 201);
    let jwt_with = |acl: Option<serde_json::Value>| {
        let emu = emu.clone();
        async move {
            let token = login(&emu, json!({"username": "ada", "password": "pw"})).await;
            let token = token.json()["token"].as_str().unwrap().to_owned();
            let mut body = json!({});
            if let Some(acl) = acl {
                body["acl"] = acl;
            }
            let exchange = format!("/authentication-tokens/{token}/exchange");
            let r = raw_secret(&emu, Method::POST, &exchange, Some(body)).await;
            assert_eq!(r.status, 201, "{}", r.json());
            r.json()["token"].as_str().unwrap().to_owned()
        }
    };
    let call = |jwt: String, route: &'static str| {
        let emu = emu.clone();
        async move {
            raw(&emu, Method::GET, &path(route), As::Bearer(&jwt), None)
                .await
                .status
        }
    };
    // No acl: today's customer permissions (own credentials and tokens, not the options).
    let default = jwt_with(None).await;
    assert_eq!(call(default.clone(), "/credentials").await, 200);
    assert_eq!(call(default, "/authentication-options").await, 403);
    // Only what it lists, by operationId.
    let listed = jwt_with(Some(json!([{
        "scope": {"organizationId": [ORG]},
        "permissions": ["GetAuthenticationTokenCollection"],
    }])))
    .await;
    assert_eq!(call(listed.clone(), "/authentication-tokens").await, 200);
    assert_eq!(call(listed, "/credentials").await, 403);
    // `*`: every operation.
    let all = jwt_with(Some(json!([{"scope": {}, "permissions": ["*"]}]))).await;
    assert_eq!(call(all.clone(), "/authentication-options").await, 200);
    assert_eq!(call(all, "/credentials").await, 200);
    // An empty acl allows nothing.
    let none = jwt_with(Some(json!([]))).await;
    assert_eq!(call(none, "/authentication-tokens").await, 403);
}

#[tokio::test]
async fn seeded_customers_refuse_unknown_ones() {
    // None seeded: any customerId.
    let emu = with(Behaviours::default());
    assert_eq!(credential(&emu, "ada", "cus_anything").await.status, 201);
    // Some seeded: others are 422 with invalidFields.
    let emu = Emulator::builder()
        .add_organization(ORG, SK, Some(PK))
        .add_customer(ORG, "cus_ada")
        .build();
    assert_eq!(emu.customers(ORG), ["cus_ada"]);
    assert_eq!(credential(&emu, "ada", "cus_ada").await.status, 201);
    let r = credential(&emu, "bob", "cus_bob").await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["invalidFields"][0]["field"], "customerId");
    let body = json!({"username": "bob", "password": "pw", "customerId": "cus_bob"});
    let r = raw_secret(&emu, Method::PUT, "/credentials/c-1", Some(body)).await;
    assert_eq!(r.status, 422);
    let r = login(
        &emu,
        json!({"mode": "passwordless", "customerId": "cus_bob"}),
    )
    .await;
    assert_eq!(r.status, 422);
    assert!(emu.add_customer(ORG, "cus_bob"));
    assert!(!emu.add_customer("no-such-org", "cus_bob"));
    assert_eq!(credential(&emu, "bob", "cus_bob").await.status, 201);
}

#[tokio::test]
async fn lists_come_newest_first() {
    let emu = with(Behaviours::default());
    for name in ["first", "second", "third"] {
        assert_eq!(
            credential(&emu, name, &format!("cus_{name}")).await.status,
            201
        );
        assert_eq!(
            login(&emu, json!({"username": name, "password": "pw"}))
                .await
                .status,
            201
        );
        let body = json!({"username": name});
        let r = raw_secret(&emu, Method::POST, "/password-tokens", Some(body)).await;
        assert_eq!(r.status, 201);
    }
    for route in ["/credentials", "/authentication-tokens", "/password-tokens"] {
        let r = raw_secret(&emu, Method::GET, route, None).await;
        let names: Vec<String> = r
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item["username"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(names, ["third", "second", "first"], "{route}");
    }
}
