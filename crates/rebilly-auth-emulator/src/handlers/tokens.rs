//! `/authentication-tokens`: login, list, verify, logout, exchange.

use http::StatusCode;
use serde_json::{Map, Value, json};

use super::{Ctx, Fields, Reply, after_ttl, parse_object, rfc3339, rfc3339_opt};
use crate::auth::Caller;
use crate::behaviours::{NullExpiredTime, WrongPassword};
use crate::clock::expiry_after;
use crate::jwt;
use crate::state::{
    AuthTokenRecord, Kind, SentOtp, Session, one_time_password, random_token, ulid,
};

fn token_json(ctx: &Ctx<'_>, t: &AuthTokenRecord) -> Value {
    json!({
        "username": t.username,
        "customerId": t.customer_id,
        "token": t.token,
        "otpRequired": t.otp_required,
        "credentialId": t.credential_id,
        "expiredTime": rfc3339_opt(t.expired_time),
        "_links": [{"rel": "self", "href": ctx.url(&format!("/authentication-tokens/{}", t.token))}],
    })
}

pub(super) fn list(ctx: &mut Ctx<'_>) -> Reply {
    let own = ctx.own_customer().map(str::to_owned);
    let now = ctx.now;
    let mut all: Vec<&AuthTokenRecord> = ctx
        .org
        .auth_tokens
        .values()
        .filter(|t| t.is_active(now))
        .filter(|t| own.as_deref().is_none_or(|own| own == t.customer_id))
        .collect();
    all.sort_by_key(|t| std::cmp::Reverse(t.seq));
    ctx.page(&all, |t| token_json(ctx, t))
}

fn unauthorized() -> Reply {
    Reply::problem(StatusCode::UNAUTHORIZED, "invalid credentials were used")
}

/// A wrong username or password, as the [`WrongPassword`] behaviour answers it.
fn wrong_password(ctx: &Ctx<'_>) -> Reply {
    match ctx.behaviours.wrong_password {
        WrongPassword::UnprocessableEntity => {
            Reply::invalid(&[("password".into(), "invalid credentials were used".into())])
        }
        _ => unauthorized(),
    }
}

/// An `expiredTime` member of a login or reset-password token create, as the
/// [`NullExpiredTime`] behaviour reads `null`: `None` means the default lifetime.
pub(super) fn requested_expiry(
    ctx: &Ctx<'_>,
    fields: &mut Fields,
    map: &Map<String, Value>,
) -> Option<Option<time::OffsetDateTime>> {
    let expired_time = fields.timestamp(map, "expiredTime");
    let expired_time = fields.future("expiredTime", expired_time, ctx.now);
    match (expired_time, ctx.behaviours.null_expired_time) {
        (Some(None), NullExpiredTime::NeverExpires) => Some(None),
        (Some(None), NullExpiredTime::Reject) => {
            fields.error("expiredTime", "must be a date-time (null is refused)");
            None
        }
        (Some(None), _) => None,
        (other, _) => other,
    }
}

/// Logs in. `mode` absent means `password`. Password mode: an unknown username, a wrong
/// password or an expired credential answer 401. Passwordless mode needs the secret key (403
/// otherwise) and picks the customer's earliest-created unexpired credential (422 if none).
/// OTP is required when the request or the organization asks for it.
pub(super) fn login(ctx: &mut Ctx<'_>) -> Reply {
    let map = match parse_object(ctx.body, false) {
        Ok(map) => map,
        Err(field) => return Reply::invalid(&[field]),
    };
    let mut fields = Fields::default();
    let mode = match map.get("mode") {
        None | Some(Value::Null) => "password",
        Some(Value::String(m)) if m == "password" || m == "passwordless" => m.as_str(),
        Some(_) => {
            fields.error("mode", "must be `password` or `passwordless`");
            "password"
        }
    };
    let expired_time = requested_expiry(ctx, &mut fields, &map);
    let otp_requested = fields.boolean(&map, "otpRequired");
    let now = ctx.now;
    let credential = if mode == "passwordless" {
        let customer_id = fields.string(&map, "customerId", true);
        if !fields.errors.is_empty() {
            return Reply::invalid(&fields.errors);
        }
        if ctx.caller != Caller::SecretKey {
            return Reply::problem(
                StatusCode::FORBIDDEN,
                "passwordless login needs the secret API key",
            );
        }
        let customer_id = customer_id.unwrap_or_default();
        if !ctx.org.knows_customer(&customer_id) {
            return Reply::invalid(&[("customerId".into(), "no such customer".into())]);
        }
        let found = ctx
            .org
            .credentials
            .values()
            .filter(|c| c.customer_id == customer_id && !c.is_expired(now))
            .min_by_key(|c| c.seq);
        match found {
            Some(c) => c.clone(),
            None => {
                return Reply::invalid(&[(
                    "customerId".into(),
                    "no active credential belongs to this customer".into(),
                )]);
            }
        }
    } else {
        let username = fields.string(&map, "username", true);
        let password = fields.string(&map, "password", true);
        if !fields.errors.is_empty() {
            return Reply::invalid(&fields.errors);
        }
        let (username, password) = (username.unwrap_or_default(), password.unwrap_or_default());
        match ctx.org.credential_by_username(&username) {
            Some(c) if c.password_matches(&password) && !c.is_expired(now) => c.clone(),
            _ => return wrong_password(ctx),
        }
    };
    if !fields.errors.is_empty() {
        return Reply::invalid(&fields.errors);
    }
    if ctx
        .own_customer()
        .is_some_and(|own| own != credential.customer_id)
    {
        return unauthorized();
    }
    if let Err(full) = ctx.make_room(Kind::AuthenticationToken) {
        return *full;
    }
    let otp_required = otp_requested.unwrap_or(false) || ctx.org.options.otp_required;
    let otp = otp_required.then(|| one_time_password(ctx.rng));
    let seq = ctx.next_seq();
    if let Some(otp) = &otp {
        ctx.org.send_otp(SentOtp {
            username: credential.username.clone(),
            customer_id: credential.customer_id.clone(),
            one_time_password: otp.clone(),
            sent_time: now,
            seq,
        });
    }
    let record = AuthTokenRecord {
        seq,
        token: random_token(ctx.rng),
        credential_id: credential.id.clone(),
        username: credential.username.clone(),
        customer_id: credential.customer_id.clone(),
        otp_required,
        otp,
        expired_time: expired_time
            .unwrap_or_else(|| after_ttl(now, ctx.org.options.auth_token_ttl)),
    };
    let body = token_json(ctx, &record);
    let location = ctx.url(&format!("/authentication-tokens/{}", record.token));
    ctx.org.schedule_purge(record.expired_time);
    ctx.org.auth_tokens.insert(record.token.clone(), record);
    Reply::json(StatusCode::CREATED, &body).with_header("location", &location)
}

/// The active token of the path, visible to the caller (a customer JWT sees only its own).
fn active_token(ctx: &Ctx<'_>) -> Option<AuthTokenRecord> {
    let token = ctx.org.auth_tokens.get(ctx.param?)?;
    if !token.is_active(ctx.now) {
        return None;
    }
    match ctx.own_customer() {
        Some(own) if own != token.customer_id => None,
        _ => Some(token.clone()),
    }
}

/// 200 for an active token; 404 for an unknown, expired, logged-out or exchanged one.
pub(super) fn verify(ctx: &mut Ctx<'_>) -> Reply {
    match active_token(ctx) {
        Some(token) => Reply::json(StatusCode::OK, &token_json(ctx, &token)),
        None => Reply::not_found("authentication token"),
    }
}

/// 204, or 404 if the token is unknown, expired, or already gone.
pub(super) fn logout(ctx: &mut Ctx<'_>) -> Reply {
    match active_token(ctx) {
        Some(token) => {
            ctx.org.auth_tokens.remove(&token.token);
            Reply::no_content()
        }
        None => Reply::not_found("authentication token"),
    }
}

/// Exchanges an active token for a JWT. A token issued with `otpRequired` needs the 6-digit
/// `oneTimePassword` that was "sent" (401 if missing or wrong; the token stays usable). An
/// unusable body answers 403 with `invalidFields` (the spec lists no 422 here).
pub(super) fn exchange(ctx: &mut Ctx<'_>) -> Reply {
    let Some(token) = active_token(ctx) else {
        return Reply::not_found("authentication token");
    };
    let map = match parse_object(ctx.body, true) {
        Ok(map) => map,
        Err(field) => return Reply::invalid_with(StatusCode::FORBIDDEN, &[field]),
    };
    let mut fields = Fields::default();
    let invalidate = fields.boolean(&map, "invalidate").unwrap_or(true);
    let otp = fields.string(&map, "oneTimePassword", false);
    let expired_time = fields.timestamp(&map, "expiredTime");
    let expired_time = fields.future("expiredTime", expired_time, ctx.now);
    let mut permissions = None;
    let acl = match map.get("acl") {
        None | Some(Value::Null) => Value::Array(Vec::new()),
        Some(Value::Array(entries))
            if entries.iter().all(|e| {
                e.get("scope").is_some_and(Value::is_object)
                    && e.get("permissions")
                        .and_then(Value::as_array)
                        .is_some_and(|p| p.iter().all(Value::is_string))
            }) =>
        {
            // An explicit `acl` is honoured: only the operations it lists (by operationId,
            // `*` for all) are allowed to the JWT.
            permissions = Some(
                entries
                    .iter()
                    .filter_map(|e| e.get("permissions").and_then(Value::as_array))
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
            );
            Value::Array(entries.clone())
        }
        Some(_) => {
            fields.error("acl", "must be an array of {scope, permissions}");
            Value::Null
        }
    };
    let custom_claims = match map.get("customClaims") {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(Value::Object(claims)) => Value::Object(claims.clone()),
        Some(_) => {
            fields.error("customClaims", "must be an object");
            Value::Null
        }
    };
    if !fields.errors.is_empty() {
        return Reply::invalid_with(StatusCode::FORBIDDEN, &fields.errors);
    }
    if token.otp_required && (otp.is_none() || otp != token.otp) {
        return Reply::problem(
            StatusCode::UNAUTHORIZED,
            "invalid credentials were used: a valid one-time password is required",
        );
    }
    if let Err(full) = ctx.make_room(Kind::Session) {
        return *full;
    }
    let now = ctx.now;
    let expires = expired_time
        .flatten()
        .unwrap_or_else(|| expiry_after(now, time::Duration::hours(1)));
    let id = ulid("jwt_", now, ctx.rng);
    let mut claims = Map::new();
    claims.insert("jti".into(), json!(id));
    claims.insert("iss".into(), json!("rebilly-auth-emulator"));
    claims.insert("sub".into(), json!(token.customer_id));
    claims.insert("customerId".into(), json!(token.customer_id));
    claims.insert("organizationId".into(), json!(ctx.org.id));
    claims.insert("type".into(), json!("customer"));
    claims.insert("iat".into(), json!(now.unix_timestamp()));
    claims.insert("exp".into(), json!(expires.unix_timestamp()));
    claims.insert("acl".into(), acl.clone());
    claims.insert("customClaims".into(), custom_claims.clone());
    let signed = jwt::sign(&ctx.org.jwt_key, &claims);
    ctx.org.schedule_purge(Some(expires));
    ctx.org.sessions.insert(
        id.clone(),
        Session {
            customer_id: token.customer_id.clone(),
            expired_time: expires,
            permissions,
        },
    );
    if invalidate {
        ctx.org.auth_tokens.remove(&token.token);
    }
    let customer = ctx.url(&format!("/customers/{}", token.customer_id));
    let body = json!({
        "id": id,
        "type": "customer",
        "token": signed,
        "customerId": token.customer_id,
        "acl": acl,
        "customClaims": custom_claims,
        "createdTime": rfc3339(now),
        "updatedTime": rfc3339(now),
        "expiredTime": rfc3339(expires),
        "_links": [{"rel": "customer", "href": customer}],
    });
    Reply::json(StatusCode::CREATED, &body).with_header("location", &customer)
}
