//! `/password-tokens` and `/password-tokens/{id}` (addressed by the token's `token` value).

use http::StatusCode;
use serde_json::{Value, json};

use super::{Ctx, Fields, Reply, after_ttl, parse_object, rfc3339_opt};
use crate::state::{Kind, ResetTokenRecord, random_token};

fn token_json(ctx: &Ctx<'_>, t: &ResetTokenRecord) -> Value {
    json!({
        "token": t.token,
        "username": t.username,
        "credentialId": t.credential_id,
        "expiredTime": rfc3339_opt(t.expired_time),
        "_links": [{"rel": "self", "href": ctx.url(&format!("/password-tokens/{}", t.token))}],
    })
}

/// Pending tokens only (not expired, not spent by a password change).
pub(super) fn list(ctx: &mut Ctx<'_>) -> Reply {
    let now = ctx.now;
    let mut all: Vec<&ResetTokenRecord> = ctx
        .org
        .reset_tokens
        .values()
        .filter(|t| ctx.org.reset_token_is_pending(t, now))
        .collect();
    all.sort_by_key(|t| std::cmp::Reverse(t.seq));
    ctx.page(&all, |t| token_json(ctx, t))
}

/// 201; 422 if the username has no credential.
pub(super) fn create(ctx: &mut Ctx<'_>) -> Reply {
    let map = match parse_object(ctx.body, false) {
        Ok(map) => map,
        Err(field) => return Reply::invalid(&[field]),
    };
    let mut fields = Fields::default();
    let username = fields.string(&map, "username", true);
    let expired_time = super::tokens::requested_expiry(ctx, &mut fields, &map);
    let credential = username
        .as_deref()
        .and_then(|u| ctx.org.credential_by_username(u))
        .cloned();
    if username.is_some() && credential.is_none() {
        fields.error("username", "no credential has this username");
    }
    let Some(credential) = credential.filter(|_| fields.errors.is_empty()) else {
        return Reply::invalid(&fields.errors);
    };
    if let Err(full) = ctx.make_room(Kind::ResetPasswordToken) {
        return *full;
    }
    let seq = ctx.next_seq();
    let record = ResetTokenRecord {
        seq,
        token: random_token(ctx.rng),
        username: credential.username.clone(),
        credential_id: credential.id.clone(),
        expired_time: expired_time
            .unwrap_or_else(|| after_ttl(ctx.now, ctx.org.options.reset_token_ttl)),
        password_version: credential.password_version,
        spent_at: None,
    };
    ctx.org.schedule_purge(record.purge_at());
    let body = token_json(ctx, &record);
    let location = ctx.url(&format!("/password-tokens/{}", record.token));
    ctx.org.reset_tokens.insert(record.token.clone(), record);
    Reply::json(StatusCode::CREATED, &body).with_header("location", &location)
}

/// 200 for a pending token; 404 for an unknown, expired or spent one.
pub(super) fn get(ctx: &mut Ctx<'_>) -> Reply {
    let id = ctx.param.unwrap_or_default();
    match ctx.org.reset_tokens.get(id) {
        Some(t) if ctx.org.reset_token_is_pending(t, ctx.now) => {
            Reply::json(StatusCode::OK, &token_json(ctx, t))
        }
        _ => Reply::not_found("reset password token"),
    }
}

/// 204 for a pending token; 409 for one that is no longer pending (expired, or spent because
/// its credential's password changed since it was issued); 404 for an unknown one.
pub(super) fn delete(ctx: &mut Ctx<'_>) -> Reply {
    let id = ctx.param.unwrap_or_default().to_owned();
    let Some(token) = ctx.org.reset_tokens.get(&id) else {
        return Reply::not_found("reset password token");
    };
    if !ctx.org.reset_token_is_pending(token, ctx.now) {
        return Reply::problem(
            StatusCode::CONFLICT,
            "the reset password token is no longer pending (expired or already used)",
        );
    }
    ctx.org.reset_tokens.remove(&id);
    Reply::no_content()
}
