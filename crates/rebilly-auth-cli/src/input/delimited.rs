//! CSV input (the `csv` crate): a header line naming the columns, then one credential per
//! record. A record that cannot be read (bad UTF-8, a wrong number of fields) is rejected
//! with its line number; the file goes on.

use super::{Field, Fields, InputError, Record, Rejected};

/// Reads the records of a CSV file's `bytes`.
pub(super) fn read(bytes: &[u8]) -> Result<Vec<Record>, InputError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(bytes);
    let header = reader
        .byte_headers()
        .map_err(|_| InputError("cannot read the CSV header line".into()))?
        .clone();
    let columns: Vec<Option<Field>> = header
        .iter()
        .map(|name| std::str::from_utf8(name).ok().and_then(Field::from_name))
        .collect();
    for required in [
        Field::Id,
        Field::Username,
        Field::Password,
        Field::CustomerId,
    ] {
        if !columns.contains(&Some(required)) {
            return Err(InputError(format!(
                "the CSV header has no {} column (columns: id, username, password, customer id, \
                 and an optional expiry)",
                required.label()
            )));
        }
    }
    // Line numbers from byte offsets: the csv crate's own count skips blank lines.
    let newlines: Vec<usize> = memchr_all(bytes);
    // A record's position may be that of blank lines before it: skip them.
    let line_of = |byte: u64| -> u64 {
        let mut byte = usize::try_from(byte).unwrap_or(usize::MAX);
        while bytes.get(byte).is_some_and(|b| matches!(b, b'\r' | b'\n')) {
            byte += 1;
        }
        let byte = byte as u64;
        let before = newlines.partition_point(|&at| (at as u64) < byte);
        before as u64 + 1
    };
    let mut records = Vec::new();
    let mut record = csv::ByteRecord::new();
    loop {
        let line = line_of(reader.position().byte());
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(error) => {
                if let csv::ErrorKind::Io(_) = error.kind() {
                    return Err(InputError("cannot read the file".into()));
                }
                // The csv crate's messages are not shown: some quote the field.
                let line = error.position().map_or(line, |p| line_of(p.byte()));
                records.push(Record::Rejected(Rejected {
                    line,
                    id: String::new(),
                    reason: "not a valid CSV record".into(),
                }));
                continue;
            }
        }
        let line = record.position().map_or(line, |p| line_of(p.byte()));
        if record
            .iter()
            .all(|field| field.iter().all(u8::is_ascii_whitespace))
        {
            continue;
        }
        records.push(fields(&columns, &record, line));
    }
    Ok(records)
}

/// The offsets of every `\n` in `bytes`.
fn memchr_all(bytes: &[u8]) -> Vec<usize> {
    bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .map(|(at, _)| at)
        .collect()
}

/// The checked record of `line`.
fn fields(columns: &[Option<Field>], record: &csv::ByteRecord, line: u64) -> Record {
    let mut fields = Fields::default();
    let mut bad_utf8 = None;
    for (column, value) in columns.iter().zip(record.iter()) {
        let Some(field) = column else { continue };
        match std::str::from_utf8(value) {
            Ok(text) => fields.set(*field, text.to_owned()),
            Err(_) => bad_utf8 = bad_utf8.or(Some(*field)),
        }
    }
    if let Some(field) = bad_utf8 {
        return Record::Rejected(Rejected {
            line,
            id: fields.id.unwrap_or_default(),
            reason: format!("the {} is not valid UTF-8", field.label()),
        });
    }
    if record.len() != columns.len() {
        return Record::Rejected(Rejected {
            line,
            id: fields.id.unwrap_or_default(),
            reason: format!(
                "{} fields where the header has {}",
                record.len(),
                columns.len()
            ),
        });
    }
    fields.check(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_bad_rows_and_line_numbers() {
        let text = "id,username,password,customer id,expiry,notes\n\
                    c1,ada,pw-one,cus_1,,x\n\
                    c2,bob,pw-two,cus_2,2030-01-01T00:00:00Z,\"multi\nline\"\n\
                    c3,carl,pw-three\n\
                    \n\
                    c4,dee,\"pw,four\",cus_4,,\n";
        let records = read(text.as_bytes()).unwrap();
        let lines: Vec<(u64, bool)> = records
            .iter()
            .map(|r| match r {
                Record::Row(row) => (row.line, true),
                Record::Rejected(rejected) => (rejected.line, false),
            })
            .collect();
        assert_eq!(lines, [(2, true), (3, true), (5, false), (7, true)]);
        let Record::Row(row) = &records[3] else {
            panic!()
        };
        assert_eq!(row.password.expose(), "pw,four");
        let Record::Rejected(rejected) = &records[2] else {
            panic!()
        };
        assert_eq!(rejected.id, "c3");
        assert!(!rejected.reason.contains("pw-three"));
    }

    #[test]
    fn a_missing_column_refuses_the_file() {
        let error = read(b"id,username,customerId\nc1,ada,cus\n").unwrap_err();
        assert!(error.0.contains("password"), "{}", error.0);
    }

    #[test]
    fn invalid_utf8_rejects_the_row_only() {
        let mut text = b"id,username,password,customerId\nc1,ada,pw\xff,cus_1\n".to_vec();
        text.extend_from_slice(b"c2,bob,pw,cus_2\n");
        let records = read(&text).unwrap();
        assert!(matches!(&records[0], Record::Rejected(r) if r.line == 2 && r.id == "c1"));
        assert!(matches!(&records[1], Record::Row(r) if r.line == 3));
    }
}
