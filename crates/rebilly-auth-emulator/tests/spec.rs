//! Every un-faulted response the emulator sends is one the latest spec lists for the
//! operation, with a body valid per its schema and no write-only member.
//!
//! Reads `../shared/spec/customer-auth.latest.openapi.yaml` relative to the workspace root (the
//! spec is not copied into the repository), or the file `REBILLY_AUTH_SPEC` names. If it is
//! missing the test is skipped with a message, unless `REBILLY_AUTH_REQUIRE_SPEC=1`: a clone
//! checked out without the spec beside it must not turn CI red.

mod support;

use std::path::PathBuf;
use std::time::Duration;

use http::Method;
use rebilly_auth_emulator::Emulator;
use serde_json::{Value, json};
use support::*;

fn load_spec() -> Option<Value> {
    let path = std::env::var_os("REBILLY_AUTH_SPEC")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../../shared/spec/customer-auth.latest.openapi.yaml")
        });
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(serde_norway::from_str(&text).expect("the spec is valid YAML")),
        Err(error) => {
            if std::env::var("REBILLY_AUTH_REQUIRE_SPEC").as_deref() == Ok("1") {
                panic!("the spec file {} is missing: {error}", path.display());
            }
            eprintln!(
                "skipping: the spec file {} is missing ({error})",
                path.display()
            );
            None
        }
    }
}

/// Follows `$ref`s inside the document.
fn resolve<'a>(spec: &'a Value, mut node: &'a Value) -> &'a Value {
    while let Some(reference) = node.get("$ref").and_then(Value::as_str) {
        let pointer = reference.trim_start_matches('#');
        node = spec
            .pointer(pointer)
            .unwrap_or_else(|| panic!("dangling $ref {reference}"));
    }
    node
}

fn type_ok(ty: &str, value: &Value) -> bool {
    match ty {
        "null" => value.is_null(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => true,
    }
}

/// Checks `value` against `schema` (types, required, properties, items, enum, maxLength,
/// date-time format, allOf/oneOf, writeOnly members absent); pushes errors.
fn validate(spec: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    let schema = resolve(spec, schema);
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for part in all {
            validate(spec, part, value, at, errors);
        }
    }
    if let Some(one) = schema.get("oneOf").and_then(Value::as_array) {
        let passing = one
            .iter()
            .filter(|part| {
                let mut e = Vec::new();
                validate(spec, part, value, at, &mut e);
                e.is_empty()
            })
            .count();
        if passing == 0 {
            errors.push(format!("{at}: matches none of oneOf"));
        }
    }
    match schema.get("type") {
        Some(Value::String(ty)) if !type_ok(ty, value) => {
            errors.push(format!("{at}: expected {ty}, got {value}"));
            return;
        }
        Some(Value::Array(types))
            if !types
                .iter()
                .filter_map(Value::as_str)
                .any(|t| type_ok(t, value)) =>
        {
            errors.push(format!("{at}: expected one of {types:?}, got {value}"));
            return;
        }
        _ => {}
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !value.is_null()
        && !allowed.contains(value)
    {
        errors.push(format!("{at}: {value} not in {allowed:?}"));
    }
    if let Value::String(text) = value {
        if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
            && text.chars().count() as u64 > max
        {
            errors.push(format!("{at}: longer than {max}"));
        }
        if schema.get("format").and_then(Value::as_str) == Some("date-time")
            && time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                .is_err()
        {
            errors.push(format!("{at}: {text} is not a date-time"));
        }
    }
    if let Value::Object(map) = value {
        for name in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = name.as_str().unwrap();
            // A required write-only member is required in requests only.
            let write_only = schema
                .get("properties")
                .and_then(|p| p.get(name))
                .map(|p| resolve(spec, p))
                .and_then(|p| p.get("writeOnly"))
                == Some(&Value::Bool(true));
            if !map.contains_key(name) && !write_only {
                errors.push(format!("{at}: missing required {name}"));
            }
        }
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            for (name, member) in map {
                if let Some(property) = properties.get(name) {
                    let property_schema = resolve(spec, property);
                    if property_schema.get("writeOnly") == Some(&Value::Bool(true)) {
                        errors.push(format!("{at}.{name}: write-only member in a response"));
                    }
                    validate(spec, property, member, &format!("{at}.{name}"), errors);
                }
            }
        }
    }
    if let (Value::Array(items), Some(item_schema)) = (value, schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            validate(spec, item_schema, item, &format!("{at}[{i}]"), errors);
        }
    }
}

fn has_write_only_member(value: &Value) -> Option<String> {
    match value {
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            if ["password", "oneTimePassword", "invalidate", "mode"].contains(&k.as_str()) {
                Some(k.clone())
            } else {
                has_write_only_member(v)
            }
        }),
        Value::Array(items) => items.iter().find_map(has_write_only_member),
        _ => None,
    }
}

struct Check<'a> {
    spec: &'a Value,
    emu: &'a Emulator,
    checked: usize,
    statuses: std::collections::BTreeSet<(String, String, u16)>,
}

impl Check<'_> {
    async fn call(
        &mut self,
        method: Method,
        template: &str,
        concrete: &str,
        who: As<'_>,
        body: Option<Value>,
    ) -> Raw {
        let r = raw(self.emu, method.clone(), &path(concrete), who, body).await;
        let m = method.as_str().to_ascii_lowercase();
        let operation = self
            .spec
            .pointer(&format!(
                "/paths/{}/{m}",
                template.replace('~', "~0").replace('/', "~1")
            ))
            .unwrap_or_else(|| panic!("the spec has no {method} {template}"));
        let status = r.status.as_u16().to_string();
        let response = operation["responses"].get(&status).unwrap_or_else(|| {
            panic!("{method} {template} answered {status}, which the spec does not list")
        });
        let response = resolve(self.spec, response);
        match response.pointer("/content/application~1json/schema") {
            Some(schema) => {
                let mut errors = Vec::new();
                validate(self.spec, schema, &r.json(), "$", &mut errors);
                assert!(
                    errors.is_empty(),
                    "{method} {template} {status}: {errors:#?}\nbody: {}",
                    r.json()
                );
                assert!(
                    r.header("content-type")
                        .unwrap()
                        .starts_with("application/json")
                );
                if let Some(member) = has_write_only_member(&r.json()) {
                    panic!(
                        "{method} {template} {status}: write-only member {member} in the response"
                    );
                }
            }
            None => assert!(
                r.body.is_empty(),
                "{method} {template} {status} should have no body"
            ),
        }
        if let Some(headers) = response.get("headers").and_then(Value::as_object) {
            for name in headers.keys() {
                let expected = name.as_str();
                // Location is "may"; the rate-limit and pagination headers are always sent.
                assert!(
                    r.header(expected).is_some(),
                    "{method} {template} {status}: missing header {expected}"
                );
            }
        }
        self.checked += 1;
        self.statuses
            .insert((method.to_string(), template.to_owned(), r.status.as_u16()));
        r
    }
}

#[tokio::test]
async fn every_response_is_one_the_spec_lists() {
    let Some(spec) = load_spec() else { return };
    let emu = Emulator::builder()
        .add_organization(ORG, SK, Some(PK))
        .rate_limit(1000)
        .build();
    let mut c = Check {
        spec: &spec,
        emu: &emu,
        checked: 0,
        statuses: Default::default(),
    };
    let sk = As::Secret(SK);
    let pk = As::Publishable(PK);

    // Options.
    c.call(
        Method::GET,
        "/authentication-options",
        "/authentication-options",
        sk,
        None,
    )
    .await;
    c.call(
        Method::GET,
        "/authentication-options",
        "/authentication-options",
        As::Nobody,
        None,
    )
    .await;
    c.call(
        Method::GET,
        "/authentication-options",
        "/authentication-options",
        pk,
        None,
    )
    .await;
    c.call(
        Method::PUT,
        "/authentication-options",
        "/authentication-options",
        sk,
        Some(json!({"passwordPattern": "/^.{2,}$/", "resetTokenTtl": 600})),
    )
    .await;
    c.call(
        Method::PUT,
        "/authentication-options",
        "/authentication-options",
        sk,
        Some(json!({"authTokenTtl": "x"})),
    )
    .await;

    // Credentials.
    let created = c
        .call(
            Method::POST,
            "/credentials",
            "/credentials",
            sk,
            Some(json!({"username": "ada", "password": "pw", "customerId": "cus_ada"})),
        )
        .await
        .json();
    let id = created["id"].as_str().unwrap().to_owned();
    c.call(
        Method::POST,
        "/credentials",
        "/credentials",
        sk,
        Some(json!({"username": "ada", "password": "pw", "customerId": "cus_ada"})),
    )
    .await;
    c.call(
        Method::POST,
        "/credentials",
        "/credentials",
        pk,
        Some(json!({})),
    )
    .await;
    c.call(
        Method::GET,
        "/credentials",
        "/credentials?limit=1",
        sk,
        None,
    )
    .await;
    c.call(
        Method::GET,
        "/credentials/{id}",
        &format!("/credentials/{id}"),
        sk,
        None,
    )
    .await;
    c.call(
        Method::GET,
        "/credentials/{id}",
        "/credentials/nope",
        sk,
        None,
    )
    .await;
    c.call(
        Method::PUT,
        "/credentials/{id}",
        "/credentials/c-1",
        sk,
        Some(json!({"username": "bob", "password": "pw", "customerId": "cus_bob"})),
    )
    .await;
    c.call(Method::PUT, "/credentials/{id}", "/credentials/c-1", sk, Some(json!({"username": "bob", "password": "pw2", "customerId": "cus_bob", "expiredTime": null}))).await;
    c.call(
        Method::PUT,
        "/credentials/{id}",
        "/credentials/c-1",
        sk,
        Some(json!({"username": "ada", "password": "pw2", "customerId": "cus_bob"})),
    )
    .await;

    // Tokens.
    let login = c
        .call(
            Method::POST,
            "/authentication-tokens",
            "/authentication-tokens",
            pk,
            Some(json!({"username": "ada", "password": "pw", "otpRequired": true})),
        )
        .await
        .json();
    let token = login["token"].as_str().unwrap().to_owned();
    c.call(
        Method::POST,
        "/authentication-tokens",
        "/authentication-tokens",
        sk,
        Some(json!({"username": "ada", "password": "bad"})),
    )
    .await;
    c.call(
        Method::POST,
        "/authentication-tokens",
        "/authentication-tokens",
        sk,
        Some(json!({"mode": "passwordless"})),
    )
    .await;
    c.call(
        Method::POST,
        "/authentication-tokens",
        "/authentication-tokens",
        pk,
        Some(json!({"mode": "passwordless", "customerId": "cus_ada"})),
    )
    .await;
    c.call(
        Method::POST,
        "/authentication-tokens",
        "/authentication-tokens",
        sk,
        Some(json!({"mode": "passwordless", "customerId": "cus_bob"})),
    )
    .await;
    c.call(
        Method::GET,
        "/authentication-tokens",
        "/authentication-tokens",
        sk,
        None,
    )
    .await;
    c.call(
        Method::GET,
        "/authentication-tokens/{token}",
        &format!("/authentication-tokens/{token}"),
        pk,
        None,
    )
    .await;
    c.call(
        Method::GET,
        "/authentication-tokens/{token}",
        "/authentication-tokens/nope",
        sk,
        None,
    )
    .await;
    let exchange = format!("/authentication-tokens/{token}/exchange");
    c.call(
        Method::POST,
        "/authentication-tokens/{token}/exchange",
        &exchange,
        pk,
        Some(json!({})),
    )
    .await;
    c.call(
        Method::POST,
        "/authentication-tokens/{token}/exchange",
        &exchange,
        pk,
        Some(json!({"invalidate": "yes"})),
    )
    .await;
    let otp = emu.last_otp(ORG, "ada").unwrap();
    let jwt = c
        .call(Method::POST, "/authentication-tokens/{token}/exchange", &exchange, pk, Some(json!({"oneTimePassword": otp, "invalidate": false, "customClaims": {"a": 1}, "acl": [{"scope": {"organizationId": [ORG]}, "permissions": ["*"]}]})))
        .await
        .json();
    let jwt = jwt["token"].as_str().unwrap().to_owned();
    c.call(
        Method::GET,
        "/credentials",
        "/credentials",
        As::Bearer(&jwt),
        None,
    )
    .await;
    c.call(
        Method::GET,
        "/password-tokens",
        "/password-tokens",
        As::Bearer(&jwt),
        None,
    )
    .await;
    c.call(
        Method::DELETE,
        "/authentication-tokens/{token}",
        &format!("/authentication-tokens/{token}"),
        As::Bearer(&jwt),
        None,
    )
    .await;
    c.call(
        Method::DELETE,
        "/authentication-tokens/{token}",
        &format!("/authentication-tokens/{token}"),
        sk,
        None,
    )
    .await;
    c.call(
        Method::POST,
        "/authentication-tokens/{token}/exchange",
        &exchange,
        sk,
        Some(json!({})),
    )
    .await;

    // Reset-password tokens.
    let reset = c
        .call(
            Method::POST,
            "/password-tokens",
            "/password-tokens",
            sk,
            Some(json!({"username": "ada"})),
        )
        .await
        .json();
    let reset = reset["token"].as_str().unwrap().to_owned();
    c.call(
        Method::POST,
        "/password-tokens",
        "/password-tokens",
        sk,
        Some(json!({"username": "nobody"})),
    )
    .await;
    c.call(
        Method::GET,
        "/password-tokens",
        "/password-tokens",
        sk,
        None,
    )
    .await;
    c.call(
        Method::GET,
        "/password-tokens/{id}",
        &format!("/password-tokens/{reset}"),
        sk,
        None,
    )
    .await;
    c.call(
        Method::DELETE,
        "/password-tokens/{id}",
        &format!("/password-tokens/{reset}"),
        sk,
        None,
    )
    .await;
    c.call(
        Method::DELETE,
        "/password-tokens/{id}",
        &format!("/password-tokens/{reset}"),
        sk,
        None,
    )
    .await;
    let reset = c
        .call(
            Method::POST,
            "/password-tokens",
            "/password-tokens",
            sk,
            Some(json!({"username": "ada"})),
        )
        .await
        .json();
    emu.clock().advance(Duration::from_secs(601));
    c.call(
        Method::DELETE,
        "/password-tokens/{id}",
        &format!("/password-tokens/{}", reset["token"].as_str().unwrap()),
        sk,
        None,
    )
    .await;
    c.call(
        Method::GET,
        "/password-tokens/{id}",
        "/password-tokens/nope",
        pk,
        None,
    )
    .await;

    // Deletes.
    c.call(
        Method::DELETE,
        "/credentials/{id}",
        &format!("/credentials/{id}"),
        pk,
        None,
    )
    .await;
    c.call(
        Method::DELETE,
        "/credentials/{id}",
        &format!("/credentials/{id}"),
        sk,
        None,
    )
    .await;
    c.call(
        Method::DELETE,
        "/credentials/{id}",
        &format!("/credentials/{id}"),
        sk,
        None,
    )
    .await;

    // A real 429.
    let limited = Emulator::builder()
        .add_organization(ORG, SK, None)
        .rate_limit(0)
        .build();
    let mut l = Check {
        spec: &spec,
        emu: &limited,
        checked: 0,
        statuses: Default::default(),
    };
    l.call(
        Method::POST,
        "/credentials",
        "/credentials",
        sk,
        Some(json!({})),
    )
    .await;

    // Every operation was exercised, with its success and failure statuses.
    let operations: std::collections::BTreeSet<(String, String)> = c
        .statuses
        .iter()
        .map(|(m, t, _)| (m.clone(), t.clone()))
        .collect();
    assert_eq!(operations.len(), 16, "{operations:?}");
    for expected in [401, 403, 404, 409, 422] {
        assert!(
            c.statuses.iter().any(|(_, _, s)| *s == expected),
            "no {expected} was checked"
        );
    }
    assert!(c.checked > 40);
}

#[test]
fn the_validator_can_fail() {
    let Some(spec) = load_spec() else { return };
    let schema = json!({"$ref": "#/components/schemas/CustomerCredential"});
    let mut errors = Vec::new();
    validate(
        &spec,
        &schema,
        &json!({"username": 5, "customerId": "c", "expiredTime": "yesterday", "password": "x"}),
        "$",
        &mut errors,
    );
    let text = errors.join("\n");
    assert!(
        text.contains("missing required password") || text.contains("write-only"),
        "{text}"
    );
    assert!(text.contains("$.username: expected string"), "{text}");
    assert!(text.contains("is not a date-time"), "{text}");
}
