//! The spans of one call retried once (503, then 200), caught by an in-memory collector: one
//! `rebilly_auth.call` span, and one OpenTelemetry `client` span per attempt with the HTTP
//! client conventions' fields, the second a resend. No field holds a secret or a real path.

mod common;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use common::{Fake, SECRET_KEY, retrying_client};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

/// A span as the collector saw it: its name and every field recorded on it, as text.
#[derive(Debug, Clone)]
struct CollectedSpan {
    name: &'static str,
    parent: Option<u64>,
    fields: BTreeMap<String, String>,
}

/// Keeps every span in memory, by id.
#[derive(Clone, Default)]
struct Collector(Arc<Mutex<BTreeMap<u64, CollectedSpan>>>);

struct FieldsVisitor<'a>(&'a mut BTreeMap<String, String>);

impl Visit for FieldsVisitor<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S> Layer<S> for Collector
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        attrs.record(&mut FieldsVisitor(&mut fields));
        let parent = ctx
            .span(id)
            .and_then(|s| s.parent())
            .map(|p| p.id().into_u64());
        self.0.lock().unwrap().insert(
            id.into_u64(),
            CollectedSpan {
                name: attrs.metadata().name(),
                parent,
                fields,
            },
        );
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _ctx: Context<'_, S>) {
        if let Some(span) = self.0.lock().unwrap().get_mut(&id.into_u64()) {
            values.record(&mut FieldsVisitor(&mut span.fields));
        }
    }
}

#[test]
fn a_call_retried_once_has_one_call_span_and_two_client_spans() {
    let collector = Collector::default();
    let subscriber = tracing_subscriber::registry().with(collector.clone());
    let fake = Fake::new();
    tracing::subscriber::with_default(subscriber, || {
        common::block_on(async {
            let client = retrying_client(&fake);
            fake.reply(503, r#"{"status":503}"#);
            fake.reply(200, r#"{"username":"ada","token":"TOKEN_SECRET_9"}"#);
            client
                .authentication_tokens()
                .verify("TOKEN_SECRET_9")
                .await
                .unwrap();
        });
    });
    let spans: Vec<(u64, CollectedSpan)> =
        collector.0.lock().unwrap().clone().into_iter().collect();
    let calls: Vec<_> = spans
        .iter()
        .filter(|(_, s)| s.name == "rebilly_auth.call")
        .collect();
    assert_eq!(calls.len(), 1, "{spans:#?}");
    let (call_id, call) = calls[0];
    let field = |span: &CollectedSpan, name: &str| span.fields.get(name).cloned();
    assert_eq!(field(call, "otel.kind").as_deref(), Some("internal"));
    assert_eq!(
        field(call, "operation").as_deref(),
        Some("GetAuthenticationTokenVerification")
    );
    assert_eq!(field(call, "organization").as_deref(), Some("org_1"));
    assert_eq!(field(call, "attempts").as_deref(), Some("2"));

    let attempts: Vec<&CollectedSpan> = spans
        .iter()
        .map(|(_, s)| s)
        .filter(|s| s.name == "rebilly_auth.attempt")
        .collect();
    assert_eq!(attempts.len(), 2, "{spans:#?}");
    let template = "/organizations/{organizationId}/authentication-tokens/{token}";
    for attempt in &attempts {
        assert_eq!(
            attempt.parent,
            Some(*call_id),
            "an attempt is a child of its call"
        );
        assert_eq!(field(attempt, "otel.kind").as_deref(), Some("client"));
        assert_eq!(field(attempt, "otel.name"), Some(format!("GET {template}")));
        assert_eq!(
            field(attempt, "http.request.method").as_deref(),
            Some("GET")
        );
        assert_eq!(field(attempt, "url.template").as_deref(), Some(template));
        assert_eq!(
            field(attempt, "server.address").as_deref(),
            Some("api.test")
        );
        assert_eq!(field(attempt, "server.port").as_deref(), Some("443"));
    }
    let (first, second) = (attempts[0], attempts[1]);
    assert_eq!(
        field(first, "http.response.status_code").as_deref(),
        Some("503")
    );
    assert_eq!(field(first, "error.type").as_deref(), Some("503"));
    assert_eq!(field(first, "http.request.resend_count"), None);
    assert_eq!(
        field(second, "http.response.status_code").as_deref(),
        Some("200")
    );
    assert_eq!(field(second, "error.type"), None);
    assert_eq!(
        field(second, "http.request.resend_count").as_deref(),
        Some("1")
    );

    for (_, span) in &spans {
        for value in span.fields.values() {
            for secret in [SECRET_KEY, "TOKEN_SECRET_9"] {
                assert!(!value.contains(secret), "{secret} in {span:?}");
            }
            assert!(
                !value.contains("/authentication-tokens/T"),
                "a real path in {span:?}"
            );
        }
    }
}
