//! `GET`/`PUT /authentication-options`: a per-organization singleton.

use http::StatusCode;
use serde_json::{Value, json};

use super::{Ctx, Fields, Reply, parse_object};
use crate::MAX_TTL_SECONDS;
use crate::behaviours::OptionsUpdate;
use crate::state::compile_password_pattern;

fn body(ctx: &Ctx<'_>) -> Value {
    let options = &ctx.org.options;
    json!({
        "passwordPattern": options.password_pattern,
        "credentialTtl": options.credential_ttl,
        "authTokenTtl": options.auth_token_ttl,
        "resetTokenTtl": options.reset_token_ttl,
        "otpRequired": options.otp_required,
        "_links": [{"rel": "self", "href": ctx.url("/authentication-options")}],
    })
}

pub(super) fn get(ctx: &mut Ctx<'_>) -> Reply {
    Reply::json(StatusCode::OK, &body(ctx))
}

/// Merges (the default [`OptionsUpdate`] behaviour): members present replace the current
/// value, `null` restores the default, absent members stay. With `replace`, absent members
/// return to their default too.
pub(super) fn put(ctx: &mut Ctx<'_>) -> Reply {
    let map = match parse_object(ctx.body, false) {
        Ok(map) => map,
        Err(field) => return Reply::invalid(&[field]),
    };
    let mut fields = Fields::default();
    let defaults = crate::state::Options::default();
    let mut next = match ctx.behaviours.options_update {
        OptionsUpdate::Replace => crate::state::Options::default(),
        _ => ctx.org.options.clone(),
    };
    match map.get("passwordPattern") {
        None => {}
        Some(Value::Null) => {
            next.password_pattern = None;
            next.compiled = None;
        }
        Some(Value::String(pattern)) => match compile_password_pattern(pattern) {
            Ok(regex) => {
                next.password_pattern = Some(pattern.clone());
                next.compiled = Some(regex);
            }
            Err(message) => fields.error("passwordPattern", message),
        },
        Some(_) => fields.error("passwordPattern", "must be a string or null"),
    }
    for (name, slot, default) in [
        (
            "credentialTtl",
            &mut next.credential_ttl,
            defaults.credential_ttl,
        ),
        (
            "authTokenTtl",
            &mut next.auth_token_ttl,
            defaults.auth_token_ttl,
        ),
        (
            "resetTokenTtl",
            &mut next.reset_token_ttl,
            defaults.reset_token_ttl,
        ),
    ] {
        match map.get(name) {
            None => {}
            Some(Value::Null) => *slot = default,
            Some(value) => match value.as_i64() {
                Some(seconds) if (0..=MAX_TTL_SECONDS).contains(&seconds) => *slot = seconds,
                _ => fields.error(
                    name,
                    format!(
                        "must be an integer number of seconds from 0 to {MAX_TTL_SECONDS} (100 years)"
                    ),
                ),
            },
        }
    }
    if map.contains_key("otpRequired") {
        next.otp_required = fields
            .boolean(&map, "otpRequired")
            .unwrap_or(defaults.otp_required);
    }
    if !fields.errors.is_empty() {
        return Reply::invalid(&fields.errors);
    }
    ctx.org.options = next;
    Reply::json(StatusCode::OK, &body(ctx))
}
