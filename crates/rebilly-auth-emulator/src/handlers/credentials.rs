//! `/credentials` and `/credentials/{id}`.

use http::StatusCode;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::{Ctx, Fields, Reply, after_ttl, parse_object, rfc3339_opt};
use crate::state::{CredentialRecord, Kind, check_password, hash_password, ulid};

pub(crate) fn credential_json(ctx: &Ctx<'_>, c: &CredentialRecord) -> Value {
    json!({
        "id": c.id,
        "username": c.username,
        "customerId": c.customer_id,
        "expiredTime": rfc3339_opt(c.expired_time),
        "_links": [
            {"rel": "self", "href": ctx.url(&format!("/credentials/{}", c.id))},
            {"rel": "customer", "href": ctx.url(&format!("/customers/{}", c.customer_id))},
        ],
    })
}

/// A resource id as the spec allows it: at most 50 characters of `[@~\-.\w]`.
pub(crate) fn valid_resource_id(id: &str) -> bool {
    !id.is_empty()
        && id.chars().count() <= 50
        && id
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '@' | '~' | '-' | '.' | '_'))
}

struct Input {
    username: String,
    password: String,
    customer_id: String,
    expired_time: Option<Option<OffsetDateTime>>,
}

/// Reads and checks a credential body; `except` is the id being replaced (for uniqueness).
fn read(ctx: &Ctx<'_>, except: Option<&str>) -> Result<Input, Box<Reply>> {
    let map = parse_object(ctx.body, false).map_err(|field| Box::new(Reply::invalid(&[field])))?;
    let mut fields = Fields::default();
    let username = fields.string(&map, "username", true);
    let password = fields.string(&map, "password", true);
    let customer_id = fields.string(&map, "customerId", true);
    let expired_time = fields.timestamp(&map, "expiredTime");
    if customer_id.as_ref().is_some_and(|c| c.chars().count() > 50) {
        fields.error("customerId", "must be at most 50 characters");
    } else if customer_id
        .as_ref()
        .is_some_and(|c| !ctx.org.knows_customer(c))
    {
        fields.error("customerId", "no such customer");
    }
    if let Some(username) = &username {
        let taken = ctx
            .org
            .credentials
            .values()
            .any(|c| &c.username == username && Some(c.id.as_str()) != except);
        if taken {
            fields.error("username", "is already taken in this organization");
        }
    }
    if let Some(password) = &password {
        let pattern = ctx.org.options.compiled.as_ref();
        // The check ran before the state lock was taken (see `Emulator::process`), against the
        // pattern still in force. Only a caller that skipped it checks here (bounded by
        // MAX_PASSWORD_LENGTH and the backtracking limit).
        let verdict = match ctx.password_check {
            Some(check) if check.still_applies(pattern) => check.verdict,
            _ => check_password(pattern, password),
        };
        if let Some(message) = verdict.refusal() {
            fields.error("password", message);
        }
    }
    match (username, password, customer_id) {
        (Some(username), Some(password), Some(customer_id)) if fields.errors.is_empty() => {
            Ok(Input {
                username,
                password,
                customer_id,
                expired_time,
            })
        }
        _ => Err(Box::new(Reply::invalid(&fields.errors))),
    }
}

fn insert(ctx: &mut Ctx<'_>, id: String, input: Input) -> Reply {
    if let Err(full) = ctx.make_room(Kind::Credential) {
        return *full;
    }
    let salt = ctx.rng.u64(..);
    let seq = ctx.next_seq();
    let expired_time = input
        .expired_time
        .unwrap_or_else(|| after_ttl(ctx.now, ctx.org.options.credential_ttl));
    let record = CredentialRecord {
        seq,
        id: id.clone(),
        username: input.username,
        password_hash: hash_password(salt, &input.password),
        salt,
        customer_id: input.customer_id,
        expired_time,
        password_version: 0,
    };
    let body = credential_json(ctx, &record);
    ctx.org.credentials.insert(id.clone(), record);
    Reply::json(StatusCode::CREATED, &body)
        .with_header("location", &ctx.url(&format!("/credentials/{id}")))
}

pub(super) fn list(ctx: &mut Ctx<'_>) -> Reply {
    let own = ctx.own_customer().map(str::to_owned);
    let mut all: Vec<&CredentialRecord> = ctx
        .org
        .credentials
        .values()
        .filter(|c| own.as_deref().is_none_or(|own| own == c.customer_id))
        .collect();
    all.sort_by_key(|c| std::cmp::Reverse(c.seq));
    ctx.page(&all, |c| credential_json(ctx, c))
}

pub(super) fn create(ctx: &mut Ctx<'_>) -> Reply {
    let input = match read(ctx, None) {
        Ok(input) => input,
        Err(reply) => return *reply,
    };
    let id = ulid("cus_crd_", ctx.now, ctx.rng);
    insert(ctx, id, input)
}

fn find<'a>(ctx: &'a Ctx<'_>) -> Option<&'a CredentialRecord> {
    let id = ctx.param?;
    let found = ctx.org.credentials.get(id)?;
    match ctx.own_customer() {
        Some(own) if own != found.customer_id => None,
        _ => Some(found),
    }
}

pub(super) fn get(ctx: &mut Ctx<'_>) -> Reply {
    match find(ctx) {
        Some(c) => Reply::json(StatusCode::OK, &credential_json(ctx, c)),
        None => Reply::not_found("credential"),
    }
}

/// 201 when created, 200 when replaced. A replaced password spends the credential's pending
/// reset-password tokens.
pub(super) fn upsert(ctx: &mut Ctx<'_>) -> Reply {
    let id = ctx.param.unwrap_or_default().to_owned();
    if !valid_resource_id(&id) {
        return Reply::invalid(&[(
            "id".into(),
            "must be at most 50 characters of letters, digits and @~-._".into(),
        )]);
    }
    let input = match read(ctx, Some(&id)) {
        Ok(input) => input,
        Err(reply) => return *reply,
    };
    let salt = ctx.rng.u64(..);
    let Some(existing) = ctx.org.credentials.get_mut(&id) else {
        return insert(ctx, id, input);
    };
    let changed_password = !existing.password_matches(&input.password);
    if changed_password {
        existing.salt = salt;
        existing.password_hash = hash_password(existing.salt, &input.password);
        existing.password_version = existing.password_version.wrapping_add(1);
    }
    let old_username = std::mem::replace(&mut existing.username, input.username);
    existing.customer_id = input.customer_id;
    if let Some(expired_time) = input.expired_time {
        existing.expired_time = expired_time;
    }
    let record = existing.clone();
    if changed_password {
        ctx.org.spend_reset_tokens(&id, ctx.now);
    }
    if old_username != record.username {
        // The one-time password "sent" to the old username goes with it (bounded memory).
        ctx.org.forget_otps(&old_username);
    }
    Reply::json(StatusCode::OK, &credential_json(ctx, &record))
}

/// Deleting a credential also ends its authentication tokens and reset-password tokens.
pub(super) fn delete(ctx: &mut Ctx<'_>) -> Reply {
    let id = ctx.param.unwrap_or_default().to_owned();
    let Some(removed) = ctx.org.credentials.remove(&id) else {
        return Reply::not_found("credential");
    };
    ctx.org.forget_otps(&removed.username);
    ctx.org.auth_tokens.retain(|_, t| t.credential_id != id);
    ctx.org.reset_tokens.retain(|_, t| t.credential_id != id);
    Reply::no_content()
}
