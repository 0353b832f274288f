//! The control API's endpoints, one function each; [`route`](super) picks one after the
//! security checks.

use super::*;

pub(super) fn page(content: &'static str, content_type: &'static str) -> Reply {
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    Reply {
        status: StatusCode::OK,
        headers,
        body: Bytes::from_static(content.as_bytes()),
    }
    .with_header(
        "content-security-policy",
        "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; \
         base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    )
    .with_header("x-frame-options", "DENY")
    .with_header("referrer-policy", "no-referrer")
}

pub(super) fn health(emulator: &Emulator) -> Reply {
    let organizations: Vec<String> = lock(&emulator.shared.state)
        .organizations
        .keys()
        .cloned()
        .collect();
    Reply::json(
        StatusCode::OK,
        &json!({
            "status": "ok",
            "now": rfc3339(emulator.clock().now()),
            "organizations": organizations,
        }),
    )
}

pub(super) fn clock(emulator: &Emulator) -> Reply {
    let now = emulator.clock().now();
    Reply::json(
        StatusCode::OK,
        &json!({"now": rfc3339(now), "unixTime": now.unix_timestamp()}),
    )
}

pub(super) fn advance(emulator: &Emulator, body: &[u8]) -> Reply {
    let map = match object(body) {
        Ok(map) => map,
        Err(reply) => return *reply,
    };
    let Some(seconds) = map.get("seconds").and_then(Value::as_u64) else {
        return invalid(
            "seconds",
            "must be an integer number of seconds from 0 to 18446744073709551615",
        );
    };
    match emulator.clock().try_advance(Duration::from_secs(seconds)) {
        Some(_) => clock(emulator),
        None => invalid(
            "seconds",
            "would move the clock past 9999-12-31T23:59:59Z (the clock did not move)",
        ),
    }
}

pub(super) fn set_clock(emulator: &Emulator, body: &[u8]) -> Reply {
    let map = match object(body) {
        Ok(map) => map,
        Err(reply) => return *reply,
    };
    let at = map.get("now").and_then(Value::as_str).and_then(|s| {
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
    });
    match at {
        Some(at) => {
            emulator.clock().set(at);
            clock(emulator)
        }
        None => invalid("now", "must be an RFC 3339 date-time"),
    }
}

pub(super) fn outbox(emulator: &Emulator, query: Option<&str>) -> Reply {
    let organization = query_param(query, "organization");
    let username = query_param(query, "username");
    let sent: Vec<Value> = emulator
        .outbox(organization.as_deref(), username.as_deref())
        .into_iter()
        .map(|s| {
            json!({
                "organization": s.organization,
                "username": s.username,
                "customerId": s.customer_id,
                "oneTimePassword": s.one_time_password(),
                "sentTime": rfc3339(s.sent_time),
            })
        })
        .collect();
    Reply::json(StatusCode::OK, &Value::Array(sent))
}

pub(super) fn list_faults(emulator: &Emulator) -> Reply {
    let rules: Vec<Value> = lock(&emulator.shared.faults)
        .iter()
        .map(|rule| {
            json!({
                "operation": rule.matcher.matched_operation().map(OperationId::name),
                "method": rule.matcher.matched_method().map(Method::as_str),
                "fault": rule.fault.to_json(),
                "remaining": rule.remaining,
            })
        })
        .collect();
    Reply::json(StatusCode::OK, &Value::Array(rules))
}

pub(super) fn add_fault(emulator: &Emulator, body: &[u8]) -> Reply {
    let map = match object(body) {
        Ok(map) => map,
        Err(reply) => return *reply,
    };
    let mut errors = Vec::new();
    let mut matcher = RequestMatcher::any();
    match map.get("operation") {
        None | Some(Value::Null) => {}
        Some(Value::String(name)) => match OperationId::from_name(name) {
            Some(op) => matcher = RequestMatcher::operation(op),
            None => errors.push((
                "operation".to_owned(),
                "is not one of the API's operationIds (such as PostAuthenticationToken)".to_owned(),
            )),
        },
        Some(_) => errors.push(("operation".to_owned(), "must be a string".to_owned())),
    }
    match map.get("method") {
        None | Some(Value::Null) => {}
        Some(Value::String(name))
            if (1..=32).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphabetic()) =>
        {
            match Method::from_bytes(name.to_ascii_uppercase().as_bytes()) {
                Ok(method) => matcher = matcher.method(method),
                Err(_) => errors.push(("method".to_owned(), "is not an HTTP method".to_owned())),
            }
        }
        Some(_) => errors.push((
            "method".to_owned(),
            "must be an HTTP method name (letters only)".to_owned(),
        )),
    }
    let times = match map.get("times") {
        None | Some(Value::Null) => Some(1),
        Some(value) => value
            .as_u64()
            .filter(|n| (1..=1_000_000).contains(n))
            .and_then(|n| usize::try_from(n).ok()),
    };
    if times.is_none() {
        errors.push((
            "times".to_owned(),
            "must be an integer from 1 to 1000000".to_owned(),
        ));
    }
    let fault = match map.get("fault") {
        Some(value) => match Fault::from_json(value) {
            Ok(fault) => Some(fault),
            Err(error) => {
                errors.push(error);
                None
            }
        },
        None => {
            errors.push(("fault".to_owned(), "is required".to_owned()));
            None
        }
    };
    let (Some(fault), Some(times), true) = (fault, times, errors.is_empty()) else {
        return Reply::invalid(&errors);
    };
    let mut rules = lock(&emulator.shared.faults);
    if rules.len() >= MAX_FAULT_RULES {
        return invalid(
            "fault",
            format!("{MAX_FAULT_RULES} fault rules are pending already; clear some first"),
        );
    }
    let answer = json!({
        "operation": matcher.matched_operation().map(OperationId::name),
        "method": matcher.matched_method().map(Method::as_str),
        "fault": fault.to_json(),
        "remaining": times,
    });
    rules.push(FaultRule {
        matcher,
        fault,
        remaining: times,
    });
    Reply::json(StatusCode::CREATED, &answer)
}

/// One journal entry as JSON: the route template, never the real path.
pub(crate) fn journal_entry(entry: &LoggedRequest) -> Value {
    json!({
        "time": rfc3339(entry.time),
        "method": entry.method.as_str(),
        "operation": entry.operation.map(OperationId::name),
        "route": entry.route.map(|r| format!("/organizations/{{organizationId}}{r}")),
        "organization": entry.organization,
        "status": entry.status,
        "executed": entry.executed,
        "fault": entry.fault.as_ref().map(Fault::kind),
    })
}

pub(super) fn journal(emulator: &Emulator, query: Option<&str>) -> Reply {
    let limit = match query_param(query, "limit") {
        None => usize::MAX,
        Some(text) => match text.trim().parse::<usize>() {
            Ok(limit) => limit,
            Err(_) => return invalid("limit", "must be a non-negative integer"),
        },
    };
    let entries: Vec<Value> = lock(&emulator.shared.journal)
        .entries
        .iter()
        .rev()
        .take(limit)
        .map(journal_entry)
        .collect();
    Reply::json(StatusCode::OK, &Value::Array(entries))
}

pub(super) fn behaviours(emulator: &Emulator) -> Reply {
    Reply::json(
        StatusCode::OK,
        &serde_json::to_value(emulator.behaviours()).unwrap_or(Value::Null),
    )
}

pub(super) fn set_behaviours(emulator: &Emulator, body: &[u8]) -> Reply {
    let changes = match object(body) {
        Ok(map) => map,
        Err(reply) => return *reply,
    };
    let mut current = match serde_json::to_value(emulator.behaviours()) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    let mut errors = Vec::new();
    for (name, value) in changes {
        if !current.contains_key(&name) {
            errors.push((name, "is not a behaviour".to_owned()));
            continue;
        }
        let mut probe = current.clone();
        probe.insert(name.clone(), value);
        if serde_json::from_value::<Behaviours>(Value::Object(probe.clone())).is_err() {
            errors.push((name, "is not one of its settings".to_owned()));
        } else {
            current = probe;
        }
    }
    if !errors.is_empty() {
        return Reply::invalid(&errors);
    }
    match serde_json::from_value::<Behaviours>(Value::Object(current)) {
        Ok(next) => {
            emulator.set_behaviours(next);
            behaviours(emulator)
        }
        Err(_) => invalid("body", "is not a set of behaviours"),
    }
}

pub(super) fn customers(emulator: &Emulator, query: Option<&str>) -> Reply {
    let organization = query_param(query, "organization");
    let state = lock(&emulator.shared.state);
    let list: Vec<Value> = state
        .organizations
        .values()
        .filter(|org| organization.as_deref().is_none_or(|o| o == org.id))
        .map(|org| json!({"organization": org.id, "customers": org.customers}))
        .collect();
    Reply::json(StatusCode::OK, &Value::Array(list))
}

pub(super) fn add_customer(emulator: &Emulator, body: &[u8]) -> Reply {
    let map = match object(body) {
        Ok(map) => map,
        Err(reply) => return *reply,
    };
    let organization = map.get("organization").and_then(Value::as_str);
    let customer = map
        .get("customerId")
        .and_then(Value::as_str)
        .filter(|c| crate::handlers::valid_resource_id(c));
    let (Some(organization), Some(customer)) = (organization, customer) else {
        return Reply::invalid(&[
            (
                "organization".to_owned(),
                "must name an organization".to_owned(),
            ),
            (
                "customerId".to_owned(),
                "must be at most 50 characters of letters, digits and @~-._".to_owned(),
            ),
        ]);
    };
    let mut state = lock(&emulator.shared.state);
    let Some(org) = state.organizations.get_mut(organization) else {
        return invalid("organization", "no such organization");
    };
    if org.customers.len() >= MAX_CUSTOMERS && !org.customers.contains(customer) {
        return invalid(
            "customerId",
            format!("the organization already has {MAX_CUSTOMERS} customers"),
        );
    }
    org.customers.insert(customer.to_owned());
    Reply::json(
        StatusCode::CREATED,
        &json!({"organization": organization, "customerId": customer}),
    )
}
