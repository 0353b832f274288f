//! Who is calling, and what they may do.

use http::{HeaderMap, StatusCode};
use serde_json::Value;
use time::OffsetDateTime;

use super::jwt;
use super::state::Organization;
use rebilly_auth_core::OperationId;

/// The authenticated caller of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Caller {
    /// `REB-APIKEY: <secret key>`: everything.
    SecretKey,
    /// `Authorization: <publishable key>`: login (password mode), verify, logout, exchange.
    PublishableKey,
    /// `Authorization: Bearer <jwt>`: a customer, on its own tokens and credentials; with the
    /// operations its `acl` lists, when the exchange gave one.
    Customer {
        customer_id: String,
        permissions: Option<std::collections::BTreeSet<String>>,
    },
}

/// Authenticates a request against `org`; `Err` carries the 401's detail.
pub(crate) fn authenticate(
    org: &Organization,
    headers: &HeaderMap,
    now: OffsetDateTime,
) -> Result<Caller, &'static str> {
    if let Some(value) = headers.get("reb-apikey") {
        let key = value.to_str().unwrap_or("").trim();
        return if !key.is_empty() && key == org.secret_key {
            Ok(Caller::SecretKey)
        } else {
            Err("the API key is not valid for this organization")
        };
    }
    let Some(value) = headers.get(http::header::AUTHORIZATION) else {
        return Err("no credentials were sent (REB-APIKEY or Authorization)");
    };
    let value = value.to_str().unwrap_or("").trim();
    let bearer = value
        .split_once(char::is_whitespace)
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, rest)| rest.trim());
    match bearer {
        Some(token) => {
            let claims = jwt::verify(&org.jwt_key, token)
                .map_err(|_| "the JWT is not valid for this organization")?;
            let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
            if exp <= now.unix_timestamp() {
                return Err("the JWT has expired");
            }
            let session = claims
                .get("jti")
                .and_then(Value::as_str)
                .and_then(|id| org.sessions.get(id))
                .filter(|session| session.expired_time > now)
                .ok_or("the JWT is not valid for this organization")?;
            Ok(Caller::Customer {
                customer_id: session.customer_id.clone(),
                permissions: session.permissions.clone(),
            })
        }
        None => match &org.publishable_key {
            Some(key) if !value.is_empty() && value == key => Ok(Caller::PublishableKey),
            _ => Err("the API key is not valid for this organization"),
        },
    }
}

/// Whether `caller` may call `operation`; `Err` carries the refusal's status (403, or 401
/// where the spec lists no 403 for the operation) and detail.
pub(crate) fn permit(
    caller: &Caller,
    operation: OperationId,
) -> Result<(), (StatusCode, &'static str)> {
    use OperationId as Op;
    let allowed = match caller {
        Caller::SecretKey => true,
        Caller::PublishableKey => matches!(
            operation,
            Op::PostAuthenticationToken
                | Op::GetAuthenticationTokenVerification
                | Op::DeleteAuthenticationToken
                | Op::PostAuthenticationTokenExchange
        ),
        Caller::Customer {
            permissions: Some(permissions),
            ..
        } => permissions.contains("*") || permissions.contains(operation.name()),
        Caller::Customer {
            permissions: None, ..
        } => matches!(
            operation,
            Op::GetAuthenticationTokenCollection
                | Op::PostAuthenticationToken
                | Op::GetAuthenticationTokenVerification
                | Op::DeleteAuthenticationToken
                | Op::PostAuthenticationTokenExchange
                | Op::GetCredentialCollection
                | Op::GetCredential
        ),
    };
    if allowed {
        return Ok(());
    }
    let detail = match caller {
        Caller::PublishableKey => {
            "a publishable key may only log in, verify, log out and exchange tokens"
        }
        Caller::Customer {
            permissions: Some(_),
            ..
        } => "the JWT's acl does not allow this operation",
        _ => "a customer JWT may not call this operation",
    };
    // DELETE /credentials/{id} lists no 403 in the spec.
    if operation == Op::DeleteCredential {
        Err((StatusCode::UNAUTHORIZED, detail))
    } else {
        Err((StatusCode::FORBIDDEN, detail))
    }
}
