//! The import's input: a CSV or JSON Lines file of credentials, read into [`Record`]s, each a
//! valid [`Row`] or a [`Rejected`] line with its reason. A reason never holds a field's value
//! (a malformed password would otherwise reach the rejects file).

mod delimited;
mod json_lines;

use std::fmt;
use std::path::{Path, PathBuf};

use rebilly_auth_core::Secret;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The format of an input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// Comma-separated values with a header line.
    Csv,
    /// One JSON object per line.
    JsonLines,
}

impl Format {
    /// The format `--format` names: `csv`, or `jsonl` (also `json-lines`, `ndjson`).
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "csv" => Some(Format::Csv),
            "jsonl" | "json-lines" | "jsonlines" | "ndjson" => Some(Format::JsonLines),
            _ => None,
        }
    }

    /// The format of `path`'s extension, if it names one.
    pub(crate) fn from_path(path: &Path) -> Option<Self> {
        let extension = path.extension()?.to_str()?;
        Self::from_name(extension)
    }
}

/// A valid row: what one `PUT /credentials/{id}` writes. Its `Debug` hides the password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Row {
    /// The line the row starts on (1 is the first line of the file).
    pub(crate) line: u64,
    /// The credential's id.
    pub(crate) id: String,
    /// The username.
    pub(crate) username: String,
    /// The password.
    pub(crate) password: Secret,
    /// The customer.
    pub(crate) customer_id: String,
    /// The optional expiry.
    pub(crate) expiry: Option<OffsetDateTime>,
}

/// A row that cannot be sent: its line, its id when one could be read, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rejected {
    /// The line the row starts on.
    pub(crate) line: u64,
    /// The id, or empty.
    pub(crate) id: String,
    /// Why, without any field's value.
    pub(crate) reason: String,
}

/// One row of the file, valid or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Record {
    /// A row to send.
    Row(Row),
    /// A row to write to the rejects file.
    Rejected(Rejected),
}

/// A file that cannot be read at all (nothing is sent).
#[derive(Debug)]
pub(crate) struct InputError(pub(crate) String);

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InputError {}

/// The columns (CSV) or keys (JSON Lines) the import knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    Id,
    Username,
    Password,
    CustomerId,
    Expiry,
}

impl Field {
    /// The field a column or key names: case, spaces, `_` and `-` ignored (`customer id`,
    /// `customerId` and `customer_id` are one). `None` for a column the import ignores.
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        let folded: String = name
            .chars()
            .filter(|c| !matches!(c, ' ' | '_' | '-'))
            .flat_map(char::to_lowercase)
            .collect();
        match folded.as_str() {
            "id" | "credentialid" => Some(Field::Id),
            "username" => Some(Field::Username),
            "password" => Some(Field::Password),
            "customerid" => Some(Field::CustomerId),
            "expiredtime" | "expiry" | "expires" | "expiresat" => Some(Field::Expiry),
            _ => None,
        }
    }

    /// The field's name in messages.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Field::Id => "id",
            Field::Username => "username",
            Field::Password => "password",
            Field::CustomerId => "customer id",
            Field::Expiry => "expiry",
        }
    }
}

/// The fields of one row as read, before they are checked.
#[derive(Default)]
pub(crate) struct Fields {
    pub(crate) id: Option<String>,
    pub(crate) username: Option<String>,
    pub(crate) password: Option<Secret>,
    pub(crate) customer_id: Option<String>,
    pub(crate) expiry: Option<String>,
}

impl Fields {
    /// Stores `value` as `field`.
    pub(crate) fn set(&mut self, field: Field, value: String) {
        match field {
            Field::Id => self.id = Some(value),
            Field::Username => self.username = Some(value),
            Field::Password => self.password = Some(Secret::new(value)),
            Field::CustomerId => self.customer_id = Some(value),
            Field::Expiry => self.expiry = Some(value),
        }
    }

    /// The checked row of `line`, or why it is rejected.
    pub(crate) fn check(self, line: u64) -> Record {
        let id = self.id.as_deref().map(str::trim).unwrap_or("").to_owned();
        let reject = |reason: String| {
            Record::Rejected(Rejected {
                line,
                id: printable(&id),
                reason,
            })
        };
        if id.is_empty() {
            return reject("missing id".into());
        }
        if id.chars().any(char::is_control) {
            return reject("the id holds control characters".into());
        }
        let username = self.username.as_deref().map(str::trim).unwrap_or("");
        if username.is_empty() {
            return reject("missing username".into());
        }
        let password = match self.password {
            Some(password) if !password.is_empty() => password,
            _ => return reject("missing password".into()),
        };
        let customer_id = self.customer_id.as_deref().map(str::trim).unwrap_or("");
        if customer_id.is_empty() {
            return reject("missing customer id".into());
        }
        let expiry = match self.expiry.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => match OffsetDateTime::parse(text, &Rfc3339) {
                Ok(at) => Some(at),
                Err(_) => return reject("the expiry is not an RFC 3339 date-time".into()),
            },
        };
        Record::Row(Row {
            line,
            id,
            username: username.to_owned(),
            password,
            customer_id: customer_id.to_owned(),
            expiry,
        })
    }
}

/// `id` with control characters replaced, for the rejects file and the terminal.
fn printable(id: &str) -> String {
    id.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .take(256)
        .collect()
}

/// The format of `path`: `format` if given, else its extension's.
pub(crate) fn format_of(path: &Path, format: Option<Format>) -> Result<Format, InputError> {
    format.or_else(|| Format::from_path(path)).ok_or_else(|| {
        InputError(format!(
            "{}: cannot tell the format from the extension; give --format csv or --format jsonl",
            path.display()
        ))
    })
}

/// Reads every row of `path`.
pub(crate) fn read(path: &Path, format: Format) -> Result<Vec<Record>, InputError> {
    let bytes = std::fs::read(path)
        .map_err(|e| InputError(format!("cannot read {}: {e}", path.display())))?;
    match format {
        Format::Csv => delimited::read(&bytes),
        Format::JsonLines => Ok(json_lines::read(&bytes)),
    }
    .map_err(|InputError(message)| InputError(format!("{}: {message}", path.display())))
}

/// Where a file beside `input` goes: `input`'s name plus `suffix`.
pub(crate) fn beside(input: &Path, suffix: &str) -> PathBuf {
    let mut name = input.file_name().unwrap_or_default().to_owned();
    name.push(suffix);
    input.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_fold_case_spaces_and_separators() {
        for name in ["customer id", "customerId", "CUSTOMER_ID", "customer-id"] {
            assert_eq!(Field::from_name(name), Some(Field::CustomerId), "{name}");
        }
        assert_eq!(Field::from_name("expiredTime"), Some(Field::Expiry));
        assert_eq!(Field::from_name("notes"), None);
    }

    #[test]
    fn formats_come_from_the_flag_or_the_extension() {
        assert_eq!(format_of(Path::new("a.CSV"), None).unwrap(), Format::Csv);
        assert_eq!(
            format_of(Path::new("a.ndjson"), None).unwrap(),
            Format::JsonLines
        );
        assert_eq!(
            format_of(Path::new("a.txt"), Some(Format::Csv)).unwrap(),
            Format::Csv
        );
        assert!(format_of(Path::new("a.txt"), None).is_err());
    }

    #[test]
    fn a_bad_row_is_rejected_with_a_reason_that_holds_no_value() {
        let mut fields = Fields::default();
        fields.set(Field::Id, "c1".into());
        fields.set(Field::Username, "ada".into());
        fields.set(Field::Password, "hunter2-secret".into());
        fields.set(Field::CustomerId, "cus_1".into());
        fields.set(Field::Expiry, "tomorrow hunter2-secret".into());
        let Record::Rejected(rejected) = fields.check(7) else {
            panic!("accepted")
        };
        assert_eq!((rejected.line, rejected.id.as_str()), (7, "c1"));
        assert!(!rejected.reason.contains("hunter2"), "{}", rejected.reason);
    }

    #[test]
    fn beside_appends_to_the_file_name() {
        assert_eq!(
            beside(Path::new("dir/in.csv"), ".rejects.csv"),
            PathBuf::from("dir/in.csv.rejects.csv")
        );
    }
}
