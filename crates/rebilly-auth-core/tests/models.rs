//! Serde round trips of the spec's examples, and tolerance of what real servers send.

use rebilly_auth_core::models::AuthenticationOptions;
use rebilly_auth_core::models::Credential;
use rebilly_auth_core::models::CustomerJwt;
use rebilly_auth_core::models::ListedToken;
use rebilly_auth_core::models::ProblemDetails;
use rebilly_auth_core::models::ResetPasswordToken;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// Decodes `value`, encodes the result, and expects `value` back.
fn round_trip<T: DeserializeOwned + Serialize>(value: Value) -> T {
    let decoded: T = serde_json::from_value(value.clone()).unwrap();
    assert_eq!(serde_json::to_value(&decoded).unwrap(), value);
    decoded
}

#[test]
fn spec_examples_round_trip() {
    round_trip::<Credential>(json!({
        "id": "cus_crd_0YV9Y706QGCB39FQD380G1ZHZH",
        "username": "ada",
        "customerId": "cus_0YV7DDSDD1C8DA64KHH2W33CPF",
        "expiredTime": null,
        "_links": [{"href": "https://api.rebilly.com/example", "rel": "self"}]
    }));
    round_trip::<ListedToken>(json!({
        "username": "ada",
        "customerId": "cus_0YV7DDSDD1C8DA64KHH2W33CPF",
        "token": "tok",
        "otpRequired": true,
        "credentialId": "4f6cf35x-2c4y-483z-a0a9-158621f77a21",
        "expiredTime": "2026-11-28T10:00:00Z"
    }));
    round_trip::<CustomerJwt>(json!({
        "id": "jwt_0YV7DEJX80CDRAKVTV478ZNJDR",
        "type": "customer",
        "token": "eyJ.eyJ.sig",
        "customerId": "cus_0YV7DDSDD1C8DA64KHH2W33CPF",
        "acl": [{"scope": {"organizationId": ["organizationId-id-1"]}, "permissions": ["PostFile", "StorefrontGetAccount"]}],
        "customClaims": {"documents": ["identity-proof", "address-proof"], "redirectUrl": "https://mywebsite.com"}
    }));
    round_trip::<ResetPasswordToken>(json!({
        "token": "rst_1", "username": "ada", "credentialId": "cus_crd_1", "expiredTime": null
    }));
    round_trip::<AuthenticationOptions>(json!({
        "passwordPattern": "/^[0-9]+$/", "credentialTtl": 1, "authTokenTtl": 2, "resetTokenTtl": 3, "otpRequired": false
    }));
    let problem = round_trip::<ProblemDetails>(json!({
        "type": "about:blank", "title": "Validation error", "status": 422, "detail": "Invalid data sent.",
        "instance": "/x", "invalidFields": [
            {"field": "field1", "message": "field1 is invalid"},
            {"field": "subObject.field2", "message": "field2 is invalid"}
        ],
        "traceId": "abc"
    }));
    assert_eq!(problem.invalid_fields.len(), 2);
    assert_eq!(problem.extra["traceId"], "abc");
}

#[test]
fn responses_tolerate_missing_null_and_unknown_fields() {
    let token: ListedToken =
        serde_json::from_str(r#"{"expiredTime":null,"_links":null,"new":1}"#).unwrap();
    assert_eq!(token.username, "");
    assert_eq!(token.expired_time, None);
    let credential: Credential = serde_json::from_str("{}").unwrap();
    assert_eq!(credential.id, "");
    let jwt: CustomerJwt =
        serde_json::from_str(r#"{"token":"eyJ","expiredTime":"2026-11-28T10:00:00.123456+02:00"}"#)
            .unwrap();
    assert!(jwt.expired_time.is_some());
    assert!(
        serde_json::from_str::<CustomerJwt>(r#"{"token":"eyJ","expiredTime":"yesterday"}"#)
            .is_err()
    );
    // What the calls exist to return is required (a deliberate deviation from the spec).
    assert!(serde_json::from_str::<CustomerJwt>("{}").is_err());
    assert!(serde_json::from_str::<ResetPasswordToken>(r#"{"username":"ada"}"#).is_err());
}

#[test]
fn responses_never_serialize_write_only_fields() {
    let token = ListedToken::default();
    let text = serde_json::to_string(&token).unwrap();
    for field in ["password", "mode", "oneTimePassword", "invalidate"] {
        assert!(!text.contains(field));
    }
}

#[test]
fn users_can_build_responses_for_their_own_tests() {
    let mut token = ListedToken::default();
    token.username = "ada".into();
    token.token = Some("tok".into());
    assert_eq!(token.token.unwrap().expose(), "tok");
}
