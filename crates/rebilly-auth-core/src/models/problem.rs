//! RFC 7807 problem details, as Rebilly sends with every error.

use serde::{Deserialize, Serialize};

/// An RFC 7807 problem body. Every member is optional; unknown members are kept in `extra`.
///
/// Its `Debug` shows whether `instance` is set and how many unknown members there are, never
/// their values: they can hold the request path, and a path can hold a token.
#[derive(Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ProblemDetails {
    /// A URI naming the problem type (`about:blank` when absent).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub problem_type: Option<String>,
    /// A short summary of the problem type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The HTTP status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// An explanation of this occurrence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// A URI naming this occurrence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// The invalid fields of a 422.
    #[serde(
        rename = "invalidFields",
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub invalid_fields: Vec<InvalidField>,
    /// Members beyond those above.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl std::fmt::Debug for ProblemDetails {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProblemDetails")
            .field("problem_type", &self.problem_type)
            .field("title", &self.title)
            .field("status", &self.status)
            .field("detail", &self.detail)
            .field("instance", &super::Present(self.instance.is_some()))
            .field("invalid_fields", &self.invalid_fields)
            .field("extra_members", &self.extra.len())
            .finish()
    }
}

impl ProblemDetails {
    /// A problem with a status, title and detail.
    pub fn new(status: u16, title: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            status: Some(status),
            title: Some(title.into()),
            detail: Some(detail.into()),
            ..Self::default()
        }
    }
}

/// One field a 422 named as invalid.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InvalidField {
    /// The field's name, dotted for nested fields (`subObject.field2`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// What is wrong with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl InvalidField {
    /// An invalid field.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: Some(field.into()),
            message: Some(message.into()),
        }
    }
}

fn null_as_empty<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<InvalidField>, D::Error> {
    Ok(Option::<Vec<InvalidField>>::deserialize(deserializer)?.unwrap_or_default())
}
