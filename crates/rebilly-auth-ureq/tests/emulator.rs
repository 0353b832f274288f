//! The blocking client over `UreqTransport` against the emulator binary, in plain `#[test]`s
//! (no async runtime anywhere): the 16 operations, a retried 503, and an exchange whose
//! response is lost, which is never resent.

mod common;

use common::Emulator;
use rebilly_auth_ureq::Error;
use rebilly_auth_ureq::auth_core::{Deletion, Upserted};
use rebilly_auth_ureq::models::{
    AuthenticationOptions, Exchange, Login, NewCredential, NewResetPasswordToken,
};
use serde_json::json;

#[test]
fn the_sixteen_operations() {
    let emulator = Emulator::start(&[]);
    let client = emulator.client();
    let credentials = client.credentials();
    let tokens = client.authentication_tokens();
    let resets = client.reset_password_tokens();

    // 1, 2: the options.
    let options = client.authentication_options().get().send().unwrap();
    let updated = client
        .authentication_options()
        .update(
            AuthenticationOptions::default()
                .otp_required(false)
                .credential_ttl(3600),
        )
        .send()
        .unwrap();
    assert_eq!(
        updated.credential_ttl,
        Some(3600),
        "{options:?} → {updated:?}"
    );

    // 3–7: credentials.
    let ada = NewCredential::new("ada@example.com", "correct horse", "cus_ada");
    let created = credentials.create(ada).send().unwrap();
    assert_eq!(
        credentials.get(&created.id).send().unwrap().username,
        "ada@example.com"
    );
    let bob = || NewCredential::new("bob@example.com", "battery staple", "cus_bob");
    let put = credentials.upsert("crd_bob", bob()).send().unwrap();
    assert!(matches!(put, Upserted::Created(_)), "{put:?}");
    let again = credentials
        .upsert("crd_bob", bob())
        .send_with_meta()
        .unwrap();
    assert!(
        matches!(again.value, Upserted::Updated(_)),
        "{:?}",
        again.value
    );
    assert_eq!(again.meta.attempts, 1);
    let listed: Vec<String> = credentials
        .list()
        .limit(1)
        .items()
        .map(|c| c.map(|c| c.username))
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");

    // 8–12: tokens.
    let login = tokens.login(Login::password("ada@example.com", "correct horse"));
    let token = login.send().unwrap().token;
    let verified = tokens.verify(token.clone()).send().unwrap();
    assert_eq!(verified.unwrap().username, "ada@example.com");
    let page = tokens.list().send().unwrap();
    assert_eq!(page.items.len(), 1);
    let jwt = tokens
        .exchange(token.clone(), Exchange::new().keep_token())
        .send()
        .unwrap();
    assert_eq!(jwt.token.expose().split('.').count(), 3);
    assert_eq!(
        tokens.logout(token.clone()).send().unwrap(),
        Deletion::Deleted
    );
    assert!(tokens.verify(token).send().unwrap().is_none());

    // 13–16: reset-password tokens.
    let reset = resets
        .create(NewResetPasswordToken::new("ada@example.com"))
        .send()
        .unwrap();
    assert_eq!(
        resets.get(reset.token.clone()).send().unwrap().username,
        "ada@example.com"
    );
    assert_eq!(resets.list().items().count(), 1);
    assert_eq!(
        resets.delete(reset.token).send().unwrap(),
        Deletion::Deleted
    );

    assert_eq!(
        credentials.delete("crd_bob").send().unwrap(),
        Deletion::Deleted
    );
    let gone = credentials.get("crd_bob").send().unwrap_err();
    assert!(gone.is_not_found(), "{gone:?}");
}

#[test]
fn a_503_once_on_a_get_gives_two_attempts() {
    let emulator = Emulator::start(&[]);
    let client = emulator.client();
    emulator.fault(
        "GetAuthenticationOption",
        json!({"kind": "status", "status": 503}),
        1,
    );
    let answer = client
        .authentication_options()
        .get()
        .send_with_meta()
        .unwrap();
    assert_eq!(answer.meta.attempts, 2);
    assert_eq!(answer.meta.status, 200);
    assert_eq!(emulator.journalled("GetAuthenticationOption"), 2);
}

#[test]
fn an_exchange_whose_response_is_lost_is_never_resent() {
    let emulator = Emulator::start(&[]);
    let client = emulator.client();
    client
        .credentials()
        .upsert("crd_ada", NewCredential::new("ada", "pw", "cus_ada"))
        .send()
        .unwrap();
    let token = client
        .authentication_tokens()
        .login(Login::password("ada", "pw"))
        .send()
        .unwrap()
        .token;
    emulator.fault(
        "PostAuthenticationTokenExchange",
        json!({"kind": "dropAfterProcessing"}),
        1,
    );
    let error = client
        .authentication_tokens()
        .exchange(token, Exchange::new())
        .send()
        .unwrap_err();
    assert!(
        matches!(error, Error::ExchangeOutcomeUnknown { .. }),
        "{error:?}"
    );
    assert_eq!(error.status(), None);
    assert_eq!(emulator.journalled("PostAuthenticationTokenExchange"), 1);
}
