//! End to end: every one of the 16 operations over both shipped transports (reqwest and hyper,
//! default configuration) against the emulator served on loopback HTTP, plus a per-call
//! organization and a per-call publishable key.
//!
//! Each scenario is written once, generic over the transport, and instantiated for both.

use rebilly_auth_core::OperationId;
use rebilly_auth_core::models::AuthenticationOptions;
use rebilly_auth_core::models::Exchange;
use rebilly_auth_core::models::Login;
use rebilly_auth_core::models::NewCredential;
use rebilly_auth_core::models::NewResetPasswordToken;
use rebilly_auth_core::{Auth, Client, Deletion, HttpTransport, Upserted};
use rebilly_auth_hyper::HyperTransport;
use rebilly_auth_reqwest::ReqwestTransport;
use rebilly_auth_testing::emulator::{Behaviours, Emulator, ServerHandle};

const ORG_A: &str = "org-a";
const SK_A: &str = "sk_e2e_org_a";
const PK_A: &str = "pk_e2e_org_a";
const ORG_B: &str = "org-b";
const SK_B: &str = "sk_e2e_org_b";

async fn start() -> (Emulator, ServerHandle) {
    start_with(Behaviours::default()).await
}

/// The emulator under `behaviours` (where the live API's answer is uncertain), on loopback.
async fn start_with(behaviours: Behaviours) -> (Emulator, ServerHandle) {
    let emulator = Emulator::builder()
        .add_organization(ORG_A, SK_A, Some(PK_A))
        .add_organization(ORG_B, SK_B, None)
        .behaviours(behaviours)
        .build();
    let server = emulator.serve_on_loopback().await.expect("serve");
    (emulator, server)
}

fn client(transport: impl HttpTransport + 'static, server: &ServerHandle) -> Client {
    Client::builder()
        .server_url(server.url())
        .organization(ORG_A)
        .secret_key(SK_A)
        .transport(transport)
        .build()
        .expect("client")
}

/// All 16 operations, each asserted on what it returned and, where it changed state, on what a
/// later read sees.
async fn all_operations(transport: impl HttpTransport + 'static) {
    all_operations_under(transport, Behaviours::default()).await;
}

/// [`all_operations`] against an emulator answering as `behaviours` says.
async fn all_operations_under(transport: impl HttpTransport + 'static, behaviours: Behaviours) {
    let (emulator, server) = start_with(behaviours).await;
    let client = client(transport, &server);

    // 1. get_authentication_option: the emulator's defaults.
    let options = client.authentication_options().get().await.unwrap();
    assert_eq!(options.auth_token_ttl, Some(3600));
    assert_eq!(options.otp_required, Some(false));

    // 2. put_authentication_option: a change that a later get sees.
    let updated = client
        .authentication_options()
        .update(AuthenticationOptions::default().reset_token_ttl(120))
        .await
        .unwrap();
    assert_eq!(updated.reset_token_ttl, Some(120));
    let reread = client.authentication_options().get().await.unwrap();
    assert_eq!(reread.reset_token_ttl, Some(120));
    assert_eq!(reread.auth_token_ttl, Some(3600), "members left out stay");

    // 3. post_credential.
    let credential = client
        .credentials()
        .create(NewCredential::new(
            "ada@example.com",
            "first passw0rd",
            "cus_ada",
        ))
        .await
        .unwrap();
    assert!(
        credential.id.as_str().starts_with("cus_crd_"),
        "{credential:?}"
    );
    assert_eq!(credential.username, "ada@example.com");
    assert_eq!(credential.customer_id.as_str(), "cus_ada");

    // 4. get_credential_collection.
    let page = client.credentials().list().limit(10).await.unwrap();
    assert_eq!(page.total, Some(1));
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].id, credential.id);

    // 5. get_credential.
    let fetched = client
        .credentials()
        .get(credential.id.clone())
        .await
        .unwrap();
    assert_eq!(fetched.username, "ada@example.com");

    // 6. put_credential: replaces an existing one (200), creates a new id (201).
    let replaced = client
        .credentials()
        .upsert(
            credential.id.clone(),
            NewCredential::new("ada@example.com", "second passw0rd", "cus_ada"),
        )
        .await
        .unwrap();
    assert!(matches!(replaced, Upserted::Updated(_)), "{replaced:?}");
    let created = client
        .credentials()
        .upsert(
            "grace-credential",
            NewCredential::new("grace@example.com", "grace passw0rd", "cus_grace"),
        )
        .await
        .unwrap();
    assert!(created.is_created(), "{created:?}");
    assert_eq!(created.into_inner().id.as_str(), "grace-credential");

    // 7. post_authentication_token: the new password works, the old one no longer does.
    let old = client
        .authentication_tokens()
        .login(Login::password("ada@example.com", "first passw0rd"))
        .await
        .unwrap_err();
    // 401 or 422, as the live API may answer: is_login_refused covers both.
    assert!(old.is_login_refused(), "{old:?}");
    let login = client
        .authentication_tokens()
        .login(Login::password("ada@example.com", "second passw0rd"))
        .await
        .unwrap();
    assert_eq!(login.username, "ada@example.com");
    assert_eq!(login.customer_id.as_ref().unwrap().as_str(), "cus_ada");
    let token = login.token;
    assert_eq!(token.expose().len(), 40);

    // 8. get_authentication_token_collection.
    let tokens = client.authentication_tokens().list().await.unwrap();
    assert_eq!(tokens.items.len(), 1);
    assert_eq!(tokens.items[0].username, "ada@example.com");

    // 9. get_authentication_token_verification.
    let verified = client
        .authentication_tokens()
        .verify(&token)
        .await
        .unwrap()
        .expect("a fresh token verifies");
    assert_eq!(verified.username, "ada@example.com");

    // 10. post_authentication_token_exchange, keeping the token; the JWT is real and signed.
    let jwt = client
        .authentication_tokens()
        .exchange(&token, Exchange::new().keep_token())
        .await
        .unwrap();
    assert_eq!(jwt.customer_id.as_ref().unwrap().as_str(), "cus_ada");
    let jwt_value = jwt.token;
    let claims = rebilly_auth_testing::emulator::jwt::verify(
        &emulator.jwt_signing_key(ORG_A).unwrap(),
        jwt_value.expose(),
    )
    .expect("the JWT verifies with the organization's key");
    assert_eq!(claims["customerId"], "cus_ada");
    assert!(
        client
            .authentication_tokens()
            .verify(&token)
            .await
            .unwrap()
            .is_some(),
        "keep_token keeps it"
    );

    // 11. delete_authentication_token: logout ends the token.
    let logout = client.authentication_tokens().logout(&token).await.unwrap();
    assert_eq!(logout, Deletion::Deleted);
    assert!(
        client
            .authentication_tokens()
            .verify(&token)
            .await
            .unwrap()
            .is_none()
    );

    // An exchange that spends its token (the default).
    let second = client
        .authentication_tokens()
        .login(Login::password("ada@example.com", "second passw0rd"))
        .await
        .unwrap()
        .token;
    let spent = client
        .authentication_tokens()
        .exchange(&second, Exchange::new())
        .await
        .unwrap();
    assert!(!spent.token.expose().is_empty());
    assert!(
        client
            .authentication_tokens()
            .verify(&second)
            .await
            .unwrap()
            .is_none(),
        "an invalidating exchange spends the token"
    );

    // 12. post_password_token.
    let reset = client
        .reset_password_tokens()
        .create(NewResetPasswordToken::new("ada@example.com"))
        .await
        .unwrap();
    assert_eq!(reset.username, "ada@example.com");
    assert_eq!(reset.credential_id.as_ref(), Some(&credential.id));
    let reset_token = reset.token;

    // 13. get_password_token_collection.
    let resets = client.reset_password_tokens().list().await.unwrap();
    assert_eq!(resets.items.len(), 1);
    assert_eq!(resets.items[0].username, "ada@example.com");

    // 14. get_password_token.
    let got = client
        .reset_password_tokens()
        .get(&reset_token)
        .await
        .unwrap();
    assert_eq!(got.username, "ada@example.com");

    // 15. delete_password_token.
    let deleted = client
        .reset_password_tokens()
        .delete(&reset_token)
        .await
        .unwrap();
    assert_eq!(deleted, Deletion::Deleted);
    let gone = client
        .reset_password_tokens()
        .get(&reset_token)
        .await
        .unwrap_err();
    assert!(gone.is_not_found(), "{gone:?}");

    // 16. delete_credential.
    let deleted = client
        .credentials()
        .delete(credential.id.clone())
        .await
        .unwrap();
    assert_eq!(deleted, Deletion::Deleted);
    let gone = client
        .credentials()
        .get(credential.id.clone())
        .await
        .unwrap_err();
    assert!(gone.is_not_found(), "{gone:?}");
    let page = client.credentials().list().await.unwrap();
    assert_eq!(page.total, Some(1), "only grace's credential is left");

    // Every operation crossed the socket exactly as often as called: no retries happened.
    assert_eq!(emulator.executed(OperationId::PostCredential), 1);
    assert_eq!(emulator.executed(OperationId::PutCredential), 2);
    assert_eq!(
        emulator.executed(OperationId::PostAuthenticationTokenExchange),
        2
    );
    server.shutdown().await;
}

/// One client, two organizations: a per-call organization (and its key) addresses the other
/// organization, and nothing leaks between them.
async fn per_call_organization(transport: impl HttpTransport + 'static) {
    let (emulator, server) = start().await;
    let client = client(transport, &server);

    let in_b = client
        .credentials()
        .create(NewCredential::new(
            "bob@example.com",
            "bob passw0rd",
            "cus_bob",
        ))
        .organization(ORG_B)
        .auth(Auth::secret_key(SK_B))
        .await
        .unwrap();
    client
        .credentials()
        .create(NewCredential::new(
            "ann@example.com",
            "ann passw0rd",
            "cus_ann",
        ))
        .await
        .unwrap();

    let a = client.credentials().list().await.unwrap();
    let b = client
        .credentials()
        .list()
        .organization(ORG_B)
        .auth(Auth::secret_key(SK_B))
        .await
        .unwrap();
    assert_eq!(a.items.len(), 1);
    assert_eq!(a.items[0].username, "ann@example.com");
    assert_eq!(b.items.len(), 1);
    assert_eq!(b.items[0].username, "bob@example.com");

    // The other organization's credential is not found through the default organization...
    let missing = client.credentials().get(in_b.id.clone()).await.unwrap_err();
    assert!(missing.is_not_found(), "{missing:?}");
    // ...and org A's key does not open org B.
    let denied = client
        .credentials()
        .get(in_b.id.clone())
        .organization(ORG_B)
        .await
        .unwrap_err();
    assert!(denied.is_unauthorized(), "{denied:?}");

    // Log in in org B with the per-call organization; the emulator logged which org it was.
    let token = client
        .authentication_tokens()
        .login(Login::password("bob@example.com", "bob passw0rd"))
        .organization(ORG_B)
        .auth(Auth::secret_key(SK_B))
        .await
        .unwrap();
    assert_eq!(token.customer_id.unwrap().as_str(), "cus_bob");
    let orgs: Vec<Option<String>> = emulator
        .request_log()
        .iter()
        .filter(|r| r.operation == Some(OperationId::PostAuthenticationToken))
        .map(|r| r.organization.clone())
        .collect();
    assert_eq!(orgs, vec![Some(ORG_B.to_owned())]);
    server.shutdown().await;
}

/// A per-call publishable key: a browser-side login and verify work with it; what it may not
/// do is refused (403), and the secret key was not sent along.
async fn per_call_publishable_key(transport: impl HttpTransport + 'static) {
    let (_emulator, server) = start().await;
    let client = client(transport, &server);
    client
        .credentials()
        .create(NewCredential::new(
            "pat@example.com",
            "pat passw0rd",
            "cus_pat",
        ))
        .await
        .unwrap();
    let publishable = Auth::publishable_key(PK_A);

    let token = client
        .authentication_tokens()
        .login(Login::password("pat@example.com", "pat passw0rd"))
        .auth(publishable.clone())
        .await
        .unwrap()
        .token;
    let verified = client
        .authentication_tokens()
        .verify(&token)
        .auth(publishable.clone())
        .await
        .unwrap();
    assert_eq!(verified.unwrap().username, "pat@example.com");

    // A publishable key may not list credentials: had the secret key been sent too, this
    // would have succeeded.
    let forbidden = client
        .credentials()
        .list()
        .auth(publishable.clone())
        .await
        .unwrap_err();
    assert_eq!(forbidden.status().map(|s| s.as_u16()), Some(403));

    // A wrong publishable key is a 401.
    let wrong = client
        .authentication_tokens()
        .verify(&token)
        .auth(Auth::publishable_key("pk_wrong"))
        .await
        .unwrap_err();
    assert!(wrong.is_unauthorized(), "{wrong:?}");

    let logout = client
        .authentication_tokens()
        .logout(&token)
        .auth(publishable)
        .await
        .unwrap();
    assert_eq!(logout, Deletion::Deleted);
    server.shutdown().await;
}

fn reqwest() -> ReqwestTransport {
    ReqwestTransport::new().unwrap()
}

fn hyper() -> HyperTransport {
    HyperTransport::new().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_operations_over_reqwest() {
    all_operations(reqwest()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_operations_over_hyper() {
    all_operations(hyper()).await;
}

/// The same journey under every non-default behaviour switch: the SDK survives each plausible
/// answer of the live API.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_operations_under_every_behaviour_over_reqwest() {
    for behaviours in Behaviours::each_non_default() {
        all_operations_under(reqwest(), behaviours).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_operations_under_every_behaviour_over_hyper() {
    for behaviours in Behaviours::each_non_default() {
        all_operations_under(hyper(), behaviours).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_call_organization_over_reqwest() {
    per_call_organization(reqwest()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_call_organization_over_hyper() {
    per_call_organization(hyper()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_call_publishable_key_over_reqwest() {
    per_call_publishable_key(reqwest()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_call_publishable_key_over_hyper() {
    per_call_publishable_key(hyper()).await;
}
