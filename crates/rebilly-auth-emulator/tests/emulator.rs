//! The emulator, in process, through core's client and through raw requests: every operation
//! and every behaviour the spec leaves open.

mod support;

use std::collections::HashSet;
use std::time::Duration;

use http::{Method, StatusCode};
use rebilly_auth_core::OperationId;
use rebilly_auth_core::models::AuthenticationOptions;
use rebilly_auth_core::models::Exchange;
use rebilly_auth_core::models::Login;
use rebilly_auth_core::models::NewCredential;
use rebilly_auth_core::models::NewResetPasswordToken;
use rebilly_auth_core::{Auth, Deletion, Upserted};
use rebilly_auth_emulator::jwt;
use serde_json::json;
use support::*;

#[tokio::test]
async fn all_sixteen_operations_through_the_client() {
    let emu = emulator();
    let client = emu.client(ORG);

    // Options: GET, PUT.
    let options = client.authentication_options().get().await.unwrap();
    assert_eq!(options.auth_token_ttl, Some(3600));
    let updated = client
        .authentication_options()
        .update(AuthenticationOptions::default().auth_token_ttl(600))
        .await
        .unwrap();
    assert_eq!(updated.auth_token_ttl, Some(600));

    // Credentials: POST, GET, PUT (create + update), list, DELETE.
    let created = client
        .credentials()
        .create(NewCredential::new("ada", "pw-1", "cus_ada"))
        .await
        .unwrap();
    assert!(created.id.as_str().starts_with("cus_crd_"));
    let got = client.credentials().get(created.id.clone()).await.unwrap();
    assert_eq!(got.username, "ada");
    let upserted = client
        .credentials()
        .upsert("my-own-id", NewCredential::new("bob", "pw-2", "cus_bob"))
        .await
        .unwrap();
    assert!(matches!(upserted, Upserted::Created(_)));
    let upserted = client
        .credentials()
        .upsert("my-own-id", NewCredential::new("bobby", "pw-2", "cus_bob"))
        .await
        .unwrap();
    assert!(matches!(upserted, Upserted::Updated(ref c) if c.username == "bobby"));
    let page = client.credentials().list().send().await.unwrap();
    assert_eq!(page.items.len(), 2);
    assert_eq!(page.total, Some(2));

    // Tokens: login, list, verify, exchange, logout.
    let token = client
        .authentication_tokens()
        .login(Login::password("ada", "pw-1"))
        .await
        .unwrap();
    let value = token.token.clone();
    let expires = token.expired_time.unwrap();
    assert_eq!(expires - emu.clock().now(), time::Duration::seconds(600));
    let page = client.authentication_tokens().list().send().await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert!(
        client
            .authentication_tokens()
            .verify(value.clone())
            .await
            .unwrap()
            .is_some()
    );
    let jwt = client
        .authentication_tokens()
        .exchange(value.clone(), Exchange::new().keep_token())
        .await
        .unwrap();
    assert!(jwt.id.as_ref().unwrap().as_str().starts_with("jwt_"));
    assert_eq!(jwt.customer_id.as_ref().unwrap().as_str(), "cus_ada");
    assert_eq!(
        client
            .authentication_tokens()
            .logout(value.clone())
            .await
            .unwrap(),
        Deletion::Deleted
    );
    assert!(
        client
            .authentication_tokens()
            .verify(value)
            .await
            .unwrap()
            .is_none()
    );

    // Password tokens: POST, list, GET, DELETE.
    let reset = client
        .reset_password_tokens()
        .create(NewResetPasswordToken::new("ada"))
        .await
        .unwrap();
    let reset_value = reset.token.clone();
    assert_eq!(reset.credential_id.as_ref(), Some(&created.id));
    assert_eq!(
        client
            .reset_password_tokens()
            .list()
            .send()
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    let fetched = client
        .reset_password_tokens()
        .get(reset_value.clone())
        .await
        .unwrap();
    assert_eq!(fetched.username, "ada");
    client
        .reset_password_tokens()
        .delete(reset_value.clone())
        .await
        .unwrap();
    let gone = client
        .reset_password_tokens()
        .get(reset_value)
        .await
        .unwrap_err();
    assert!(gone.is_not_found());

    client
        .credentials()
        .delete(created.id.clone())
        .await
        .unwrap();
    let gone = client.credentials().get(created.id).await.unwrap_err();
    assert_eq!(gone.status(), Some(StatusCode::NOT_FOUND));
}

#[tokio::test]
async fn authentication_rules() {
    let emu = emulator();
    let c = emu.client(ORG);
    c.credentials()
        .create(NewCredential::new("ada", "pw", "cus_ada"))
        .await
        .unwrap();
    let creds = path("/credentials");

    // No key, wrong key, another organization's key: 401.
    for who in [
        As::Nobody,
        As::Secret("nope"),
        As::Secret("sk_test_2"),
        As::Publishable("nope"),
    ] {
        let r = raw(&emu, Method::GET, &creds, who, None).await;
        assert_eq!(r.status, 401);
        assert_eq!(r.json()["status"], 401);
    }
    // Unknown organization: 401.
    let r = raw(
        &emu,
        Method::GET,
        "/organizations/nope/credentials",
        As::Secret(SK),
        None,
    )
    .await;
    assert_eq!(r.status, 401);
    // The publishable key: 403 where the spec lists 403, else 401.
    assert_eq!(
        raw(&emu, Method::GET, &creds, As::Publishable(PK), None)
            .await
            .status,
        403
    );
    assert_eq!(
        raw(
            &emu,
            Method::GET,
            &path("/authentication-options"),
            As::Publishable(PK),
            None
        )
        .await
        .status,
        403
    );
    assert_eq!(
        raw(
            &emu,
            Method::DELETE,
            &path("/credentials/x"),
            As::Publishable(PK),
            None
        )
        .await
        .status,
        401
    );
    // ... but it logs in, verifies, exchanges and logs out.
    let pk = c.clone();
    let login = pk
        .authentication_tokens()
        .login(Login::password("ada", "pw"))
        .auth(Auth::publishable_key(PK))
        .await
        .unwrap();
    let token = login.token;
    assert!(
        pk.authentication_tokens()
            .verify(token.clone())
            .auth(Auth::publishable_key(PK))
            .await
            .unwrap()
            .is_some()
    );
    pk.authentication_tokens()
        .logout(token)
        .auth(Auth::publishable_key(PK))
        .await
        .unwrap();
    // Passwordless needs the secret key: 403 with the publishable key.
    let r = raw(
        &emu,
        Method::POST,
        &path("/authentication-tokens"),
        As::Publishable(PK),
        Some(json!({"mode": "passwordless", "customerId": "cus_ada"})),
    )
    .await;
    assert_eq!(r.status, 403);
    // Bearer scheme is case-insensitive; a forged JWT is 401.
    let r = raw(
        &emu,
        Method::GET,
        &creds,
        As::Bearer("eyJhbGciOiJIUzI1NiJ9.e30.c2ln"),
        None,
    )
    .await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn customer_jwt_sees_only_its_own_customer() {
    let emu = emulator();
    let c = emu.client(ORG);
    let ada = c
        .credentials()
        .create(NewCredential::new("ada", "pw", "cus_ada"))
        .await
        .unwrap();
    let bob = c
        .credentials()
        .create(NewCredential::new("bob", "pw", "cus_bob"))
        .await
        .unwrap();
    let t = c
        .authentication_tokens()
        .login(Login::password("ada", "pw"))
        .await
        .unwrap();
    let jwt = c
        .authentication_tokens()
        .exchange(t.token, Exchange::new())
        .await
        .unwrap();
    let jwt = jwt.token.expose().to_owned();
    let who = As::Bearer(&jwt);

    let r = raw(&emu, Method::GET, &path("/credentials"), who, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json().as_array().unwrap().len(), 1);
    let r = raw(
        &emu,
        Method::GET,
        &path(&format!("/credentials/{}", ada.id)),
        who,
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    let r = raw(
        &emu,
        Method::GET,
        &path(&format!("/credentials/{}", bob.id)),
        who,
        None,
    )
    .await;
    assert_eq!(r.status, 404);
    // Writes and admin resources are refused.
    let r = raw(
        &emu,
        Method::POST,
        &path("/credentials"),
        who,
        Some(json!({})),
    )
    .await;
    assert_eq!(r.status, 403);
    let r = raw(&emu, Method::GET, &path("/password-tokens"), who, None).await;
    assert_eq!(r.status, 403);
    let r = raw(
        &emu,
        Method::DELETE,
        &path(&format!("/credentials/{}", ada.id)),
        who,
        None,
    )
    .await;
    assert_eq!(r.status, 401);
    // Another customer's token is invisible (404).
    let bobs = c
        .authentication_tokens()
        .login(Login::password("bob", "pw"))
        .await
        .unwrap();
    let r = raw(
        &emu,
        Method::GET,
        &path(&format!("/authentication-tokens/{}", bobs.token.expose())),
        who,
        None,
    )
    .await;
    assert_eq!(r.status, 404);
    // The JWT expires after an hour of emulated time.
    emu.clock().advance(Duration::from_secs(3601));
    let r = raw(&emu, Method::GET, &path("/credentials"), who, None).await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn login_open_behaviours() {
    let emu = emulator();
    let c = emu.client(ORG);
    c.credentials()
        .create(NewCredential::new("ada", "pw", "cus_ada"))
        .await
        .unwrap();
    let tokens = path("/authentication-tokens");
    // Wrong password, unknown username: 401.
    for body in [
        json!({"mode": "password", "username": "ada", "password": "nope"}),
        json!({"username": "nobody", "password": "pw"}),
    ] {
        let r = raw(&emu, Method::POST, &tokens, As::Secret(SK), Some(body)).await;
        assert_eq!(r.status, 401);
    }
    // No mode means password.
    let r = raw(
        &emu,
        Method::POST,
        &tokens,
        As::Secret(SK),
        Some(json!({"username": "ada", "password": "pw"})),
    )
    .await;
    assert_eq!(r.status, 201);
    assert!(
        r.header("location")
            .unwrap()
            .contains("/authentication-tokens/")
    );
    assert_eq!(r.header("x-ratelimit-limit"), Some("3000"));
    assert_eq!(
        r.header("x-ratelimit-remaining"),
        Some("2996"),
        "4 non-GET requests so far"
    );
    // Missing fields: 422 with invalidFields.
    let r = raw(
        &emu,
        Method::POST,
        &tokens,
        As::Secret(SK),
        Some(json!({"username": "ada"})),
    )
    .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["invalidFields"][0]["field"], "password");
    // Passwordless: no credential → 422; several → the earliest created.
    let r = raw(
        &emu,
        Method::POST,
        &tokens,
        As::Secret(SK),
        Some(json!({"mode": "passwordless", "customerId": "cus_nobody"})),
    )
    .await;
    assert_eq!(r.status, 422);
    c.credentials()
        .create(NewCredential::new("ada2", "pw", "cus_ada"))
        .await
        .unwrap();
    let t = c
        .authentication_tokens()
        .login(Login::passwordless("cus_ada"))
        .await
        .unwrap();
    assert_eq!(t.username, "ada");
    // Expired credential: 401.
    let r = raw(
        &emu,
        Method::POST,
        &path("/credentials"),
        As::Secret(SK),
        Some(json!({"username": "old", "password": "pw", "customerId": "cus_old",
                    "expiredTime": time::OffsetDateTime::from_unix_timestamp(emu.clock().now().unix_timestamp() + 10).unwrap().format(&time::format_description::well_known::Rfc3339).unwrap()})),
    )
    .await;
    assert_eq!(r.status, 201);
    emu.clock().advance(Duration::from_secs(11));
    let err = c
        .authentication_tokens()
        .login(Login::password("old", "pw"))
        .await
        .unwrap_err();
    assert!(err.is_unauthorized());
}

#[tokio::test]
async fn tokens_expire_and_are_spent() {
    let emu = emulator();
    let c = emu.client(ORG);
    c.credentials()
        .create(NewCredential::new("ada", "pw", "cus_ada"))
        .await
        .unwrap();
    let tokens = c.authentication_tokens();
    // Expired by the clock (authTokenTtl default 3600 s).
    let t = tokens
        .login(Login::password("ada", "pw"))
        .await
        .unwrap()
        .token;
    emu.clock().advance(Duration::from_secs(3599));
    assert!(tokens.verify(t.clone()).await.unwrap().is_some());
    emu.clock().advance(Duration::from_secs(1));
    assert!(tokens.verify(t.clone()).await.unwrap().is_none());
    assert!(tokens.logout(t.clone()).await.unwrap_err().is_not_found());
    assert!(
        tokens
            .exchange(t, Exchange::new())
            .await
            .unwrap_err()
            .is_not_found()
    );
    // Exchanged (invalidate default true): spent.
    let t = tokens
        .login(Login::password("ada", "pw"))
        .await
        .unwrap()
        .token;
    tokens.exchange(t.clone(), Exchange::new()).await.unwrap();
    assert!(tokens.verify(t).await.unwrap().is_none());
    // invalidate: false keeps it.
    let t = tokens
        .login(Login::password("ada", "pw"))
        .await
        .unwrap()
        .token;
    tokens
        .exchange(t.clone(), Exchange::new().keep_token())
        .await
        .unwrap();
    assert!(tokens.verify(t.clone()).await.unwrap().is_some());
    // Logged out: 404 on verify and on a second logout.
    tokens.logout(t.clone()).await.unwrap();
    assert!(tokens.verify(t.clone()).await.unwrap().is_none());
    assert!(tokens.logout(t).await.unwrap_err().is_not_found());
    // Unknown: 404.
    assert!(tokens.verify("nope").await.unwrap().is_none());
}

#[tokio::test]
async fn jwt_is_signed_and_expires_in_an_hour_unless_told() {
    let emu = emulator();
    let c = emu.client(ORG);
    c.credentials()
        .create(NewCredential::new("ada", "pw", "cus_ada"))
        .await
        .unwrap();
    let t = c
        .authentication_tokens()
        .login(Login::password("ada", "pw"))
        .await
        .unwrap();
    let jwt = c
        .authentication_tokens()
        .exchange(t.token, Exchange::new().custom_claim("k", json!("v")))
        .await
        .unwrap();
    let now = emu.clock().now();
    assert_eq!(jwt.expired_time.unwrap() - now, time::Duration::hours(1));
    assert_eq!(jwt.created_time, Some(now));
    let key = emu.jwt_signing_key(ORG).unwrap();
    let claims = jwt::verify(&key, jwt.token.expose()).unwrap();
    assert_eq!(claims["customerId"], "cus_ada");
    assert_eq!(claims["exp"], now.unix_timestamp() + 3600);
    assert_eq!(claims["customClaims"]["k"], "v");
    assert!(jwt::verify(b"wrong", jwt.token.expose()).is_err());

    let t = c
        .authentication_tokens()
        .login(Login::password("ada", "pw"))
        .await
        .unwrap();
    let at = now + time::Duration::minutes(5);
    let jwt = c
        .authentication_tokens()
        .exchange(t.token, Exchange::new().expired_time(at))
        .await
        .unwrap();
    assert_eq!(jwt.expired_time, Some(at));
}

#[tokio::test]
async fn one_time_passwords() {
    let emu = emulator();
    let c = emu.client(ORG);
    c.credentials()
        .create(NewCredential::new("ada", "pw", "cus_ada"))
        .await
        .unwrap();
    let tokens = c.authentication_tokens();
    // The request asks for OTP.
    let t = tokens
        .login(Login::password("ada", "pw").otp_required(true))
        .await
        .unwrap();
    assert_eq!(t.otp_required, Some(true));
    let value = t.token;
    let otp = emu.last_otp(ORG, "ada").expect("an OTP was sent");
    assert_eq!(otp.len(), 6);
    assert!(otp.bytes().all(|b| b.is_ascii_digit()));
    // Missing or wrong: 401, and the token stays usable.
    let err = tokens
        .exchange(value.clone(), Exchange::new())
        .await
        .unwrap_err();
    assert!(err.is_unauthorized());
    let wrong = if otp == "000000" { "111111" } else { "000000" };
    let err = tokens
        .exchange(value.clone(), Exchange::new().one_time_password(wrong))
        .await
        .unwrap_err();
    assert!(err.is_unauthorized());
    tokens
        .exchange(value, Exchange::new().one_time_password(otp))
        .await
        .unwrap();
    // The organization's otpRequired wins over a request that does not ask (either one asking
    // is enough).
    c.authentication_options()
        .update(AuthenticationOptions::default().otp_required(true))
        .await
        .unwrap();
    let t = tokens
        .login(Login::password("ada", "pw").otp_required(false))
        .await
        .unwrap();
    assert_eq!(t.otp_required, Some(true));
}

#[tokio::test]
async fn credentials_open_behaviours() {
    let emu = emulator();
    let c = emu.client(ORG);
    c.credentials()
        .create(NewCredential::new("ada", "pw", "cus_ada"))
        .await
        .unwrap();
    // Duplicate username: 422 naming the field; another organization may reuse it.
    let err = c
        .credentials()
        .create(NewCredential::new("ada", "pw", "cus_other"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::UNPROCESSABLE_ENTITY));
    assert_eq!(err.invalid_fields()[0].field.as_deref(), Some("username"));
    c.credentials()
        .create(NewCredential::new("ada", "pw", "cus_ada"))
        .organization("org-2")
        .auth(Auth::secret_key("sk_test_2"))
        .await
        .unwrap();
    // Password pattern (JS literal with lookahead).
    c.authentication_options()
        .update(AuthenticationOptions::default().password_pattern("/^(?=.*\\d)(?=.*[A-Z]).{8,}$/"))
        .await
        .unwrap();
    let err = c
        .credentials()
        .create(NewCredential::new("weak", "password", "cus_w"))
        .await
        .unwrap_err();
    assert_eq!(err.invalid_fields()[0].field.as_deref(), Some("password"));
    c.credentials()
        .create(NewCredential::new("strong", "Passw0rdX", "cus_s"))
        .await
        .unwrap();
    // An unsupported pattern is refused on PUT options.
    let r = raw(
        &emu,
        Method::PUT,
        &path("/authentication-options"),
        As::Secret(SK),
        Some(json!({"passwordPattern": "/x/y"})),
    )
    .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["invalidFields"][0]["field"], "passwordPattern");
    // Invalid body: 422 listing every field.
    let r = raw(
        &emu,
        Method::POST,
        &path("/credentials"),
        As::Secret(SK),
        Some(json!({"username": 5})),
    )
    .await;
    assert_eq!(r.status, 422);
    let fields: HashSet<String> = r.json()["invalidFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        fields,
        HashSet::from(["username".into(), "password".into(), "customerId".into()])
    );
    // 404 is a problem document.
    let r = raw(
        &emu,
        Method::GET,
        &path("/credentials/nope"),
        As::Secret(SK),
        None,
    )
    .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["status"], 404);
    assert_eq!(r.json()["title"], "Not Found");
    // credentialTtl feeds the default expiredTime.
    c.authentication_options()
        .update(AuthenticationOptions::default().credential_ttl(60))
        .await
        .unwrap();
    let cred = c
        .credentials()
        .create(NewCredential::new("ttl", "Passw0rdX", "cus_t"))
        .await
        .unwrap();
    assert_eq!(
        cred.expired_time,
        Some(emu.clock().now() + time::Duration::seconds(60))
    );
}

#[tokio::test]
async fn reset_tokens_and_409() {
    let emu = emulator();
    let c = emu.client(ORG);
    let cred = c
        .credentials()
        .create(NewCredential::new("ada", "pw", "cus_ada"))
        .await
        .unwrap();
    let tokens = c.reset_password_tokens();
    // Unknown username: 422.
    let err = tokens
        .create(NewResetPasswordToken::new("nobody"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::UNPROCESSABLE_ENTITY));
    // resetTokenTtl feeds the default expiry.
    let t = tokens
        .create(NewResetPasswordToken::new("ada"))
        .await
        .unwrap();
    assert_eq!(
        t.expired_time,
        Some(emu.clock().now() + time::Duration::hours(1))
    );
    // Spent by a password change: GET 404, DELETE 409.
    c.credentials()
        .upsert(
            cred.id.clone(),
            NewCredential::new("ada", "new-pw", "cus_ada"),
        )
        .await
        .unwrap();
    let value = t.token;
    assert!(tokens.get(value.clone()).await.unwrap_err().is_not_found());
    let err = tokens.delete(value).await.unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::CONFLICT));
    // Expired: 409 too.
    let t = tokens
        .create(NewResetPasswordToken::new("ada"))
        .await
        .unwrap();
    emu.clock().advance(Duration::from_secs(3600));
    let err = tokens.delete(t.token).await.unwrap_err();
    assert_eq!(err.status(), Some(StatusCode::CONFLICT));
    // Unknown: 404.
    assert!(tokens.delete("nope").await.unwrap_err().is_not_found());
    // Listing shows pending tokens only.
    tokens
        .create(NewResetPasswordToken::new("ada"))
        .await
        .unwrap();
    assert_eq!(tokens.list().send().await.unwrap().items.len(), 1);
    // Deleting the credential removes its tokens.
    c.credentials().delete(cred.id).await.unwrap();
    assert_eq!(tokens.list().send().await.unwrap().items.len(), 0);
}

#[tokio::test]
async fn pagination_headers_and_clamping() {
    let emu = emulator();
    let c = emu.client(ORG);
    for i in 0..5 {
        c.credentials()
            .create(NewCredential::new(
                format!("u{i}"),
                "pw",
                format!("cus_{i}"),
            ))
            .await
            .unwrap();
    }
    let page = c
        .credentials()
        .list()
        .limit(2)
        .offset(1)
        .send()
        .await
        .unwrap();
    assert_eq!(page.items.len(), 2);
    // Newest first.
    assert_eq!(page.items[0].username, "u3");
    assert_eq!(page.items[1].username, "u2");
    assert_eq!(
        (page.total, page.limit, page.offset),
        (Some(5), Some(2), Some(1))
    );
    // Out of range: clamped; unparsable: default.
    let r = raw(
        &emu,
        Method::GET,
        &path("/credentials?limit=5000&offset=-3"),
        As::Secret(SK),
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("pagination-limit"), Some("1000"));
    assert_eq!(r.header("pagination-offset"), Some("0"));
    let r = raw(
        &emu,
        Method::GET,
        &path("/credentials?limit=abc"),
        As::Secret(SK),
        None,
    )
    .await;
    assert_eq!(r.header("pagination-limit"), Some("100"));
    assert_eq!(r.header("pagination-total"), Some("5"));
    // The query is decoded as a form is: `%33` is `3`, `+` a space (trimmed).
    let r = raw(
        &emu,
        Method::GET,
        &path("/credentials?limit=%33&offset=+1+"),
        As::Secret(SK),
        None,
    )
    .await;
    assert_eq!(r.header("pagination-limit"), Some("3"));
    assert_eq!(r.header("pagination-offset"), Some("1"));
    // GETs carry no rate-limit headers.
    assert!(r.header("x-ratelimit-limit").is_none());
}

#[tokio::test]
async fn real_rate_limit() {
    let emu = rebilly_auth_emulator::Emulator::builder()
        .add_organization(ORG, SK, None)
        .rate_limit(2)
        .build();
    let body = json!({"username": "ada", "password": "pw"});
    for expected in [422, 422, 429] {
        let r = raw(
            &emu,
            Method::POST,
            &path("/authentication-tokens"),
            As::Secret(SK),
            Some(json!({})),
        )
        .await;
        assert_eq!(r.status, expected);
        if expected == 429 {
            let reset: i64 = r
                .header("x-ratelimit-retry-after")
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(reset, emu.clock().now().unix_timestamp() + 600);
        }
    }
    emu.clock().advance(Duration::from_secs(600));
    let r = raw(
        &emu,
        Method::POST,
        &path("/authentication-tokens"),
        As::Secret(SK),
        Some(body),
    )
    .await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn liberal_paths_and_unknown_routes() {
    let emu = emulator();
    let r = raw(
        &emu,
        Method::GET,
        &format!("/organizations/{ORG}/credentials/"),
        As::Secret(SK),
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    let r = raw(
        &emu,
        Method::GET,
        &format!("/organizations/{ORG}/nothing"),
        As::Secret(SK),
        None,
    )
    .await;
    assert_eq!(r.status, 404);
    let r = raw(
        &emu,
        Method::PATCH,
        &path("/credentials"),
        As::Secret(SK),
        None,
    )
    .await;
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET, POST, HEAD, OPTIONS"));
    // The deprecated Organization-Id header still works when the path omits the organization.
    let request = http::Request::get("/credentials")
        .header("organization-id", ORG)
        .header("reb-apikey", SK)
        .body(bytes::Bytes::new())
        .unwrap();
    let response = rebilly_auth_core::HttpTransport::send(&emu, request)
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_clients_lose_and_duplicate_nothing() {
    let emu = emulator();
    let mut tasks = Vec::new();
    for i in 0..32 {
        let c = emu.client(ORG);
        tasks.push(tokio::spawn(async move {
            let cred = c
                .credentials()
                .create(NewCredential::new(
                    format!("user{i}"),
                    "pw",
                    format!("cus_{i}"),
                ))
                .await
                .unwrap();
            let t = c
                .authentication_tokens()
                .login(Login::password(format!("user{i}"), "pw"))
                .await
                .unwrap();
            // Everyone races for the same username too: exactly one wins.
            let race = c
                .credentials()
                .create(NewCredential::new("contested", "pw", "cus_x"))
                .await;
            (cred.id, t.token, race.is_ok())
        }));
    }
    let mut ids = HashSet::new();
    let mut tokens = HashSet::new();
    let mut winners = 0;
    for task in tasks {
        let (id, token, won) = task.await.unwrap();
        ids.insert(id);
        tokens.insert(token.expose().to_owned());
        winners += usize::from(won);
    }
    assert_eq!(ids.len(), 32);
    assert_eq!(tokens.len(), 32);
    assert_eq!(winners, 1);
    let c = emu.client(ORG);
    assert_eq!(c.credentials().list().send().await.unwrap().total, Some(33));
    assert_eq!(
        c.authentication_tokens().list().send().await.unwrap().total,
        Some(32)
    );
    assert_eq!(emu.executed(OperationId::PostCredential), 64);
    assert_eq!(emu.executed(OperationId::PostAuthenticationToken), 32);
}
