//! JSON Lines input: one object per line, with the keys of the CSV columns (`id`,
//! `username`, `password`, `customerId`, optional `expiredTime`). Blank lines are skipped; a
//! line that is not such an object is rejected with its number, and the file goes on.

use serde_json::Value;

use super::{Field, Fields, Record, Rejected};

/// Reads the lines of a JSON Lines file's `bytes`.
pub(super) fn read(bytes: &[u8]) -> Vec<Record> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut records = Vec::new();
    for (index, raw) in bytes.split(|b| *b == b'\n').enumerate() {
        let line = index as u64 + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        records.push(record(raw, line));
    }
    records
}

fn rejected(line: u64, id: Option<String>, reason: impl Into<String>) -> Record {
    Record::Rejected(Rejected {
        line,
        id: id.unwrap_or_default(),
        reason: reason.into(),
    })
}

/// The checked record of one line. serde_json's own messages are not shown: those about a
/// value's type quote the value.
fn record(raw: &[u8], line: u64) -> Record {
    let object = match serde_json::from_slice::<Value>(raw) {
        Ok(Value::Object(object)) => object,
        Ok(_) => return rejected(line, None, "not a JSON object"),
        Err(error) if error.is_syntax() || error.is_eof() => {
            return rejected(
                line,
                None,
                format!("not valid JSON (at column {})", error.column()),
            );
        }
        Err(_) => return rejected(line, None, "not valid JSON"),
    };
    let mut fields = Fields::default();
    let mut wrong_type = None;
    for (key, value) in object {
        let Some(field) = Field::from_name(&key) else {
            continue;
        };
        match value {
            Value::String(text) => fields.set(field, text),
            Value::Null if field == Field::Expiry => {}
            _ => wrong_type = wrong_type.or(Some(field)),
        }
    }
    if let Some(field) = wrong_type {
        return rejected(
            line,
            fields.id,
            format!("the {} is not a string", field.label()),
        );
    }
    fields.check(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_blank_lines_and_bad_lines() {
        let text = concat!(
            "{\"id\":\"c1\",\"username\":\"ada\",\"password\":\"pw1\",\"customerId\":\"cus_1\"}\n",
            "\n",
            "{\"id\":\"c2\",\"username\":\"bob\",\"password\":12345,\"customerId\":\"cus_2\"}\r\n",
            "{\"id\":\"c3\", oops\n",
            "[1]\n",
            "{\"id\":\"c4\",\"username\":\"dee\",\"password\":\"pw4\",\"customer_id\":\"cus_4\",",
            "\"expiredTime\":null}\n",
        );
        let records = read(text.as_bytes());
        assert_eq!(records.len(), 5);
        assert!(matches!(&records[0], Record::Row(r) if r.line == 1));
        let Record::Rejected(wrong) = &records[1] else {
            panic!()
        };
        assert_eq!((wrong.line, wrong.id.as_str()), (3, "c2"));
        assert!(!wrong.reason.contains("12345"), "{}", wrong.reason);
        assert!(matches!(&records[2], Record::Rejected(r) if r.line == 4));
        assert!(matches!(&records[3], Record::Rejected(r) if r.line == 5));
        assert!(matches!(&records[4], Record::Row(r) if r.line == 6 && r.expiry.is_none()));
    }
}
