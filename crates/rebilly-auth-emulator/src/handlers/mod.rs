//! The 16 operations, one submodule per resource.

mod credentials;
mod options;
mod password_tokens;
mod tokens;

pub(crate) use credentials::valid_resource_id;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::auth::Caller;
use super::behaviours::{Behaviours, ErrorContentType, Pagination};
use super::clock::expiry_after;
use super::state::{Kind, Organization, PasswordCheck};
use rebilly_auth_core::OperationId;

/// An answer of the API (before any fault).
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Reply {
    pub(crate) fn json(status: StatusCode, value: &Value) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        Self {
            status,
            headers,
            body: Bytes::from(value.to_string()),
        }
    }

    pub(crate) fn no_content() -> Self {
        Self {
            status: StatusCode::NO_CONTENT,
            headers: HeaderMap::new(),
            body: Bytes::new(),
        }
    }

    /// An RFC 7807 problem (served as `application/json`, as the spec lists).
    pub(crate) fn problem(status: StatusCode, detail: &str) -> Self {
        Self::problem_with(status, detail, Map::new())
    }

    pub(crate) fn problem_with(
        status: StatusCode,
        detail: &str,
        extra: Map<String, Value>,
    ) -> Self {
        let title = match status.as_u16() {
            422 => "Validation error",
            _ => status.canonical_reason().unwrap_or("Error"),
        };
        let mut body = Map::new();
        body.insert("type".into(), json!("about:blank"));
        body.insert("title".into(), json!(title));
        body.insert("status".into(), json!(status.as_u16()));
        body.insert("detail".into(), json!(detail));
        body.extend(extra);
        Self::json(status, &Value::Object(body))
    }

    pub(crate) fn not_found(what: &str) -> Self {
        Self::problem(StatusCode::NOT_FOUND, &format!("{what} not found"))
    }

    /// A 422 (or `status`) with `invalidFields`.
    pub(crate) fn invalid_with(status: StatusCode, fields: &[(String, String)]) -> Self {
        let list: Vec<Value> = fields
            .iter()
            .map(|(field, message)| json!({"field": field, "message": message}))
            .collect();
        let mut extra = Map::new();
        extra.insert("invalidFields".into(), Value::Array(list));
        Self::problem_with(status, "the request has invalid fields", extra)
    }

    pub(crate) fn invalid(fields: &[(String, String)]) -> Self {
        Self::invalid_with(StatusCode::UNPROCESSABLE_ENTITY, fields)
    }

    pub(crate) fn with_header(mut self, name: &'static str, value: &str) -> Self {
        if let Ok(value) = HeaderValue::try_from(value) {
            self.headers.insert(name, value);
        }
        self
    }
}

/// Everything a handler needs.
pub(crate) struct Ctx<'a> {
    pub(crate) operation: OperationId,
    pub(crate) param: Option<&'a str>,
    pub(crate) query: Option<&'a str>,
    pub(crate) body: &'a [u8],
    pub(crate) org: &'a mut Organization,
    pub(crate) caller: Caller,
    pub(crate) now: OffsetDateTime,
    /// `scheme://authority` for `Location` and `_links`.
    pub(crate) base: &'a str,
    pub(crate) seq: &'a mut u64,
    /// Makes ids, tokens and one-time passwords (seeded: reproducible).
    pub(crate) rng: &'a mut fastrand::Rng,
    /// The switchable behaviours in force.
    pub(crate) behaviours: Behaviours,
    /// The cap on stored records per kind in this organization.
    pub(crate) max_records: usize,
    /// The password check made before the state lock was taken (credential writes only).
    pub(crate) password_check: Option<&'a PasswordCheck>,
}

impl Ctx<'_> {
    pub(crate) fn next_seq(&mut self) -> u64 {
        *self.seq = self.seq.saturating_add(1);
        *self.seq
    }

    /// The absolute URL of `path` (which starts after the organization).
    pub(crate) fn url(&self, path: &str) -> String {
        let mut org = String::new();
        for byte in self.org.id.bytes() {
            if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
                org.push(byte as char);
            } else {
                org.push_str(&format!("%{byte:02X}"));
            }
        }
        format!("{}/organizations/{org}{path}", self.base)
    }

    /// Makes room for one more record of `kind`: `Err` with a 429 problem when the organization
    /// already stores the cap (after purging what had expired).
    pub(crate) fn make_room(&mut self, kind: Kind) -> Result<(), Box<Reply>> {
        if self.org.make_room(kind, self.now, self.max_records) {
            return Ok(());
        }
        Err(Box::new(Reply::problem(
            StatusCode::TOO_MANY_REQUESTS,
            &format!(
                "the organization already stores the emulator's maximum of {} {}; delete some first",
                self.max_records,
                kind.plural()
            ),
        )))
    }

    /// The customer a JWT caller acts for.
    pub(crate) fn own_customer(&self) -> Option<&str> {
        match &self.caller {
            Caller::Customer { customer_id, .. } => Some(customer_id),
            _ => None,
        }
    }

    /// `limit` and `offset` of a list, as the [`Pagination`] behaviour reads them.
    pub(crate) fn pagination(&self) -> Result<(usize, usize), Box<Reply>> {
        match self.behaviours.pagination {
            Pagination::Reject => {
                strict_pagination(self.query).map_err(|fields| Box::new(Reply::invalid(&fields)))
            }
            _ => Ok(pagination(self.query)),
        }
    }

    /// A list page with the `Pagination-*` headers (see [`page`]).
    pub(crate) fn page<T>(&self, records: &[&T], render: impl Fn(&T) -> Value) -> Reply {
        match self.pagination() {
            Ok((limit, offset)) => page(records, limit, offset, render),
            Err(reply) => *reply,
        }
    }
}

/// Sets the `Content-Type` of a problem answer as the [`ErrorContentType`] behaviour says.
pub(crate) fn apply_error_content_type(reply: &mut Reply, behaviours: Behaviours) {
    if behaviours.error_content_type == ErrorContentType::ProblemJson
        && reply.status.as_u16() >= 400
        && !reply.body.is_empty()
        && reply.headers.get(http::header::CONTENT_TYPE)
            == Some(&HeaderValue::from_static("application/json"))
    {
        reply.headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
    }
}

/// Runs the operation.
pub(crate) fn dispatch(ctx: &mut Ctx<'_>) -> Reply {
    use OperationId as Op;
    match ctx.operation {
        Op::GetAuthenticationOption => options::get(ctx),
        Op::PutAuthenticationOption => options::put(ctx),
        Op::GetAuthenticationTokenCollection => tokens::list(ctx),
        Op::PostAuthenticationToken => tokens::login(ctx),
        Op::GetAuthenticationTokenVerification => tokens::verify(ctx),
        Op::DeleteAuthenticationToken => tokens::logout(ctx),
        Op::PostAuthenticationTokenExchange => tokens::exchange(ctx),
        Op::GetCredentialCollection => credentials::list(ctx),
        Op::PostCredential => credentials::create(ctx),
        Op::GetCredential => credentials::get(ctx),
        Op::PutCredential => credentials::upsert(ctx),
        Op::DeleteCredential => credentials::delete(ctx),
        Op::GetPasswordTokenCollection => password_tokens::list(ctx),
        Op::PostPasswordToken => password_tokens::create(ctx),
        Op::GetPasswordToken => password_tokens::get(ctx),
        Op::DeletePasswordToken => password_tokens::delete(ctx),
        // A later operation of core's list that the emulator does not serve yet.
        other => method_not_allowed(other.path_template()),
    }
}

/// 405 naming the methods `template` serves.
pub(crate) fn method_not_allowed(template: &str) -> Reply {
    let allowed = super::routes::allowed_methods(template);
    Reply::problem(
        StatusCode::METHOD_NOT_ALLOWED,
        &format!("{template} serves {allowed}"),
    )
    .with_header("allow", &allowed)
}

// ---- helpers shared by the handlers ----

/// Formats a timestamp as RFC 3339.
pub(crate) fn rfc3339(at: OffsetDateTime) -> Value {
    at.format(&Rfc3339)
        .map(Value::String)
        .unwrap_or(Value::Null)
}

pub(crate) fn rfc3339_opt(at: Option<OffsetDateTime>) -> Value {
    at.map_or(Value::Null, rfc3339)
}

/// A request body's JSON object: `Err` with the invalid-field list entry.
pub(crate) fn parse_object(
    body: &[u8],
    empty_is_object: bool,
) -> Result<Map<String, Value>, (String, String)> {
    if body.iter().all(u8::is_ascii_whitespace) && empty_is_object {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(("body".into(), "must be a JSON object".into())),
        Err(e) => Err(("body".into(), format!("is not valid JSON: {e}"))),
    }
}

/// Collects field errors while reading a body.
#[derive(Default)]
pub(crate) struct Fields {
    pub(crate) errors: Vec<(String, String)>,
}

impl Fields {
    pub(crate) fn error(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push((field.into(), message.into()));
    }

    /// A string member; `required` ones must be present and non-empty.
    pub(crate) fn string(
        &mut self,
        map: &Map<String, Value>,
        name: &str,
        required: bool,
    ) -> Option<String> {
        match map.get(name) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::String(_)) if required => {
                self.error(name, "must not be empty");
                None
            }
            None | Some(Value::Null) if required => {
                self.error(name, "is required");
                None
            }
            None | Some(Value::Null) | Some(Value::String(_)) => None,
            Some(_) => {
                self.error(name, "must be a string");
                None
            }
        }
    }

    /// A timestamp member: `None` absent, `Some(None)` null.
    pub(crate) fn timestamp(
        &mut self,
        map: &Map<String, Value>,
        name: &str,
    ) -> Option<Option<OffsetDateTime>> {
        match map.get(name) {
            None => None,
            Some(Value::Null) => Some(None),
            Some(Value::String(s)) => match OffsetDateTime::parse(s, &Rfc3339) {
                Ok(at) => Some(Some(at)),
                Err(_) => {
                    self.error(name, "must be an RFC 3339 date-time");
                    None
                }
            },
            Some(_) => {
                self.error(name, "must be an RFC 3339 date-time string");
                None
            }
        }
    }

    /// A boolean member (`null` counts as absent).
    pub(crate) fn boolean(&mut self, map: &Map<String, Value>, name: &str) -> Option<bool> {
        match map.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                self.error(name, "must be a boolean");
                None
            }
        }
    }

    /// A timestamp that must lie in the future.
    pub(crate) fn future(
        &mut self,
        name: &str,
        at: Option<Option<OffsetDateTime>>,
        now: OffsetDateTime,
    ) -> Option<Option<OffsetDateTime>> {
        match at {
            Some(Some(at)) if at <= now => {
                self.error(name, "must be in the future");
                None
            }
            other => other,
        }
    }
}

/// `limit` and `offset` of a list, refusing (with the invalid fields) any that is not an
/// integer in 0..=1000.
pub(crate) fn strict_pagination(
    query: Option<&str>,
) -> Result<(usize, usize), Vec<(String, String)>> {
    let mut limit = 100usize;
    let mut offset = 0usize;
    let mut errors = Vec::new();
    for (key, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        let slot = match &*key {
            "limit" => &mut limit,
            "offset" => &mut offset,
            _ => continue,
        };
        match value.trim().parse::<usize>() {
            Ok(v) if v <= 1000 => *slot = v,
            _ => errors.push((
                key.into_owned(),
                "must be an integer from 0 to 1000".to_owned(),
            )),
        }
    }
    if errors.is_empty() {
        Ok((limit, offset))
    } else {
        Err(errors)
    }
}

/// `limit` and `offset` of a list: out-of-range values clamp into 0..=1000, unparsable ones
/// fall back to the defaults (100 and 0).
pub(crate) fn pagination(query: Option<&str>) -> (usize, usize) {
    let mut limit = 100usize;
    let mut offset = 0usize;
    for (key, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        let parsed = value
            .trim()
            .parse::<i128>()
            .ok()
            .map(|v| v.clamp(0, 1000) as usize);
        match (&*key, parsed) {
            ("limit", Some(v)) => limit = v,
            ("offset", Some(v)) => offset = v,
            _ => {}
        }
    }
    (limit, offset)
}

/// A list page with the `Pagination-*` headers. Only the records on the page are rendered:
/// rendering every record first made lists the emulator's bottleneck under load.
pub(crate) fn page<T>(
    records: &[&T],
    limit: usize,
    offset: usize,
    render: impl Fn(&T) -> Value,
) -> Reply {
    let total = records.len();
    let items: Vec<Value> = records
        .iter()
        .skip(offset)
        .take(limit)
        .map(|record| render(record))
        .collect();
    Reply::json(StatusCode::OK, &Value::Array(items))
        .with_header("pagination-total", &total.to_string())
        .with_header("pagination-limit", &limit.to_string())
        .with_header("pagination-offset", &offset.to_string())
}

/// `now + seconds` (saturating at the end of year 9999), or `None` for a TTL of 0 (never
/// expires). Never panics, whatever `seconds` is: the options are checked against
/// [`MAX_TTL_SECONDS`](crate::MAX_TTL_SECONDS) when written, and the clock may have
/// been moved anywhere since.
pub(crate) fn after_ttl(now: OffsetDateTime, seconds: i64) -> Option<OffsetDateTime> {
    (seconds > 0).then(|| expiry_after(now, time::Duration::seconds(seconds)))
}
