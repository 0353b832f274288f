//! `GET /__emulator/overview`, polled by the inbox page every second: a bounded view.
//!
//! At most [`OVERVIEW_LIMIT`] records of each kind (organizations, customers, credentials,
//! authentication tokens, sent one-time passwords) are copied under the state lock, in time
//! linear in that limit whatever the state holds; sorting and serialising happen after the
//! lock is released. When an organization holds more, the overview shows some of them (newest
//! first among those shown; for the outbox, the newest) and the true counts
//! (`credentialCount`, `tokenCount`, `customerCount`).

use serde_json::{Value, json};
use time::OffsetDateTime;

use super::journal_entry;
use crate::handlers::{Reply, rfc3339};
use crate::state::{AuthTokenRecord, CredentialRecord, Organization, SentOtp};
use crate::{Emulator, lock};
use http::StatusCode;

/// The most records of each kind the overview returns (across organizations).
pub const OVERVIEW_LIMIT: usize = 200;

/// How many journal entries the overview shows.
const JOURNAL_ENTRIES: usize = 50;

/// One organization, copied under the lock.
struct OrgCopy {
    id: String,
    secret_key: String,
    publishable_key: Option<String>,
    otp_required: bool,
    customers: Vec<String>,
    customer_count: usize,
    credentials: Vec<CredentialRecord>,
    credential_count: usize,
    tokens: Vec<AuthTokenRecord>,
    token_count: usize,
    outbox: Vec<SentOtp>,
}

/// What is left of each kind's budget.
struct Budget {
    customers: usize,
    credentials: usize,
    tokens: usize,
    outbox: usize,
}

fn take_some<'a, T: Clone + 'a>(items: impl Iterator<Item = &'a T>, budget: &mut usize) -> Vec<T> {
    let copied: Vec<T> = items.take(*budget).cloned().collect();
    *budget -= copied.len();
    copied
}

fn copy(org: &Organization, budget: &mut Budget) -> OrgCopy {
    OrgCopy {
        id: org.id.clone(),
        secret_key: org.secret_key.clone(),
        publishable_key: org.publishable_key.clone(),
        otp_required: org.options.otp_required,
        customers: take_some(org.customers.iter(), &mut budget.customers),
        customer_count: org.customers.len(),
        credentials: take_some(org.credentials.values(), &mut budget.credentials),
        credential_count: org.credentials.len(),
        tokens: take_some(org.auth_tokens.values(), &mut budget.tokens),
        token_count: org.auth_tokens.len(),
        // The outbox is in sending order: the newest are at its end.
        outbox: take_some(org.outbox.iter().rev(), &mut budget.outbox),
    }
}

fn org_json(org: &OrgCopy, now: OffsetDateTime) -> Value {
    let mut credentials: Vec<&CredentialRecord> = org.credentials.iter().collect();
    credentials.sort_by_key(|c| std::cmp::Reverse(c.seq));
    let mut tokens: Vec<&AuthTokenRecord> =
        org.tokens.iter().filter(|t| t.is_active(now)).collect();
    tokens.sort_by_key(|t| std::cmp::Reverse(t.seq));
    json!({
        "id": org.id,
        "secretKey": org.secret_key,
        "publishableKey": org.publishable_key,
        "customers": org.customers,
        "customerCount": org.customer_count,
        "options": {"otpRequired": org.otp_required},
        "credentialCount": org.credential_count,
        "tokenCount": org.token_count,
        "credentials": credentials.iter().map(|c| json!({
            "id": c.id,
            "username": c.username,
            "customerId": c.customer_id,
            "expiredTime": c.expired_time.map(rfc3339),
        })).collect::<Vec<_>>(),
        "tokens": tokens.iter().map(|t| json!({
            // A prefix identifies the token on the page; the value stays out of it.
            "token": format!("{}…", t.token.chars().take(8).collect::<String>()),
            "username": t.username,
            "customerId": t.customer_id,
            "otpRequired": t.otp_required,
            "expiredTime": t.expired_time.map(rfc3339),
        })).collect::<Vec<_>>(),
    })
}

/// What the inbox page shows: organizations and their credentials, live tokens with their
/// expiry, the outbox, the latest journal entries, the clock; bounded (see the module).
pub(super) fn overview(emulator: &Emulator) -> Reply {
    let now = emulator.clock().now();
    let mut budget = Budget {
        customers: OVERVIEW_LIMIT,
        credentials: OVERVIEW_LIMIT,
        tokens: OVERVIEW_LIMIT,
        outbox: OVERVIEW_LIMIT,
    };
    let organizations: Vec<OrgCopy> = {
        let state = lock(&emulator.shared.state);
        state
            .organizations
            .values()
            .take(OVERVIEW_LIMIT)
            .map(|org| copy(org, &mut budget))
            .collect()
    };
    let journal: Vec<Value> = lock(&emulator.shared.journal)
        .entries
        .iter()
        .rev()
        .take(JOURNAL_ENTRIES)
        .map(journal_entry)
        .collect();
    // Serialised after the locks are released.
    let mut sent: Vec<(&str, &SentOtp)> = organizations
        .iter()
        .flat_map(|org| org.outbox.iter().map(|s| (org.id.as_str(), s)))
        .collect();
    sent.sort_by_key(|(_, s)| std::cmp::Reverse(s.seq));
    let outbox: Vec<Value> = sent
        .iter()
        .map(|(organization, s)| {
            json!({
                "organization": organization,
                "username": s.username,
                "customerId": s.customer_id,
                "oneTimePassword": s.one_time_password,
                "sentTime": rfc3339(s.sent_time),
            })
        })
        .collect();
    Reply::json(
        StatusCode::OK,
        &json!({
            "now": rfc3339(now),
            "limit": OVERVIEW_LIMIT,
            "organizations": organizations.iter().map(|org| org_json(org, now)).collect::<Vec<_>>(),
            "outbox": outbox,
            "journal": journal,
        }),
    )
}
