//! The `rebilly_auth.call` span: its fields, and that no secret reaches a log at any level.

mod common;

use common::{Fake, SECRET_KEY, client, retrying_client};
use rebilly_auth_core::TransportError;
use rebilly_auth_core::models::Exchange;
use rebilly_auth_core::models::Login;
use rebilly_auth_testing::LogCapture;

#[test]
fn spans_carry_the_route_template_and_no_secret_at_trace_level() {
    let capture = LogCapture::new();
    capture.run(|| {
        common::block_on(async {
            let fake = Fake::new();
            let client = client(&fake);
            fake.reply(201, r#"{"username":"ada","token":"TOKEN_SECRET_1"}"#);
            client
                .authentication_tokens()
                .login(Login::password("ada", "PASSWORD_SECRET"))
                .await
                .unwrap();
            fake.reply(404, r#"{"status":404}"#);
            client
                .authentication_tokens()
                .verify("TOKEN_SECRET_1")
                .await
                .unwrap();
            fake.fail(|| TransportError::io("reset"));
            let _ = client
                .authentication_tokens()
                .exchange(
                    "TOKEN_SECRET_1",
                    Exchange::new().one_time_password("123456"),
                )
                .await;
            fake.reply(200, r#"{"token":"RESET_SECRET","username":"ada"}"#);
            client
                .reset_password_tokens()
                .get("RESET_SECRET")
                .await
                .unwrap();
            // A retried call: one attempt span per attempt, the second a resend.
            let retrying = retrying_client(&fake);
            fake.reply(503, r#"{"status":503}"#);
            fake.reply(200, r#"{"username":"ada"}"#);
            retrying
                .authentication_tokens()
                .verify("TOKEN_SECRET_2")
                .await
                .unwrap();
        });
    });
    let text = capture.text();
    assert!(text.contains("rebilly_auth.call"), "{text}");
    assert!(
        text.contains("operation=\"GetAuthenticationTokenVerification\""),
        "{text}"
    );
    assert!(
        text.contains("route=\"/authentication-tokens/{token}\""),
        "{text}"
    );
    assert!(text.contains("organization=\"org_1\""), "{text}");
    assert!(text.contains("status=404"), "{text}");
    assert!(text.contains("attempts=1"), "{text}");
    assert!(text.contains("duration_ms="), "{text}");
    assert!(text.contains("otel.kind=\"internal\""), "{text}");
    // One `client` span per attempt, by OpenTelemetry's HTTP-client conventions.
    let verify_template = "/organizations/{organizationId}/authentication-tokens/{token}";
    for field in [
        "rebilly_auth.attempt".to_owned(),
        "otel.kind=\"client\"".to_owned(),
        format!("otel.name=\"GET {verify_template}\""),
        "http.request.method=\"GET\"".to_owned(),
        format!("url.template=\"{verify_template}\""),
        "server.address=\"api.test\"".to_owned(),
        "server.port=443".to_owned(),
        "http.response.status_code=404".to_owned(),
        "error.type=\"404\"".to_owned(),
        "error.type=\"io\"".to_owned(),
        "http.response.status_code=503".to_owned(),
        "http.request.resend_count=1".to_owned(),
        "http.response.status_code=200".to_owned(),
    ] {
        assert!(text.contains(&field), "{field} missing:\n{text}");
    }
    capture.assert_free_of(&[
        SECRET_KEY,
        "TOKEN_SECRET_1",
        "PASSWORD_SECRET",
        "123456",
        "RESET_SECRET",
        "TOKEN_SECRET_2",
    ]);
}
