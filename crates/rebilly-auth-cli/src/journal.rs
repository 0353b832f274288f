//! The import's journal: the ids of the rows written, one per line, in a file beside the input
//! whose name and header carry the target (API URL and organization), so that a journal of
//! one target is never used for another.
//!
//! Each id is appended and flushed once its `PUT` succeeded. A process killed outright loses
//! at most the row in flight, which a rerun sends again: a `PUT` of the same credential, so no
//! duplicate. A last line cut short by a kill is ignored (that row is sent again too).

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// The first line of every journal.
const MAGIC: &str = "# rebilly-auth import journal v1";

/// Which API a journal belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TargetKey {
    /// The server root, without a trailing `/`.
    pub(crate) url: String,
    /// The organization.
    pub(crate) organization: String,
}

impl TargetKey {
    /// The key of `url` and `organization`.
    pub(crate) fn new(url: &str, organization: &str) -> Self {
        Self {
            url: url.trim_end_matches('/').to_owned(),
            organization: organization.to_owned(),
        }
    }

    /// FNV-1a (64 bits) of the URL and organization: stable across Rust releases and
    /// platforms, unlike `std`'s hasher.
    fn hash(&self) -> u64 {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in self
            .url
            .bytes()
            .chain([b'\n'])
            .chain(self.organization.bytes())
        {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        hash
    }

    /// The journal's header lines.
    fn header(&self) -> String {
        format!(
            "{MAGIC}\n# target: {}\n# organization: {}\n",
            self.url, self.organization
        )
    }
}

/// The journal path of `input` for `key`: `INPUT.<16 hex digits>.journal`.
pub(crate) fn path_for(input: &Path, key: &TargetKey) -> PathBuf {
    crate::input::beside(input, &format!(".{:016x}.journal", key.hash()))
}

/// An open journal: the ids already done, and the file new ones are appended to.
#[derive(Debug)]
pub(crate) struct Journal {
    file: File,
    path: PathBuf,
    done: HashSet<String>,
}

impl Journal {
    /// Opens (or creates) the journal at `path` for `key`. Refuses a journal whose header
    /// names another target.
    pub(crate) fn open(path: &Path, key: &TargetKey) -> io::Result<Journal> {
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)?;
        let mut text = String::new();
        file.read_to_string(&mut text).map_err(|e| {
            io::Error::new(e.kind(), format!("{}: not a journal ({e})", path.display()))
        })?;
        let header = key.header();
        let mut done = HashSet::new();
        if text.is_empty() {
            file.write_all(header.as_bytes())?;
            file.flush()?;
        } else {
            let Some(body) = text.strip_prefix(&header) else {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "{} is not the journal of {} (organization {}): move it away, or rerun \
                         against the target it names",
                        path.display(),
                        key.url,
                        key.organization
                    ),
                ));
            };
            // Only complete lines count: a line cut short by a kill is not a row done.
            let complete = match body.rfind('\n') {
                Some(end) => &body[..=end],
                None => "",
            };
            done.extend(
                complete
                    .lines()
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned),
            );
            if !body.is_empty() && !body.ends_with('\n') {
                file.write_all(b"\n")?;
                file.flush()?;
            }
        }
        Ok(Journal {
            file,
            path: path.to_owned(),
            done,
        })
    }

    /// Whether row `id` is done.
    pub(crate) fn contains(&self, id: &str) -> bool {
        self.done.contains(id)
    }

    /// How many ids the journal holds.
    pub(crate) fn len(&self) -> usize {
        self.done.len()
    }

    /// Where the journal is.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Records row `id` as done: appended and flushed before this returns.
    pub(crate) fn record(&mut self, id: &str) -> io::Result<()> {
        debug_assert!(!id.contains('\n'));
        let mut line = String::with_capacity(id.len() + 1);
        line.push_str(id);
        line.push('\n');
        self.file.write_all(line.as_bytes())?;
        self.file.flush()?;
        self.done.insert(id.to_owned());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "rebilly-auth-cli-journal-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("input.csv")
    }

    #[test]
    fn ids_survive_a_reopen_and_a_cut_line_does_not_count() {
        let input = scratch("reopen");
        let key = TargetKey::new("http://127.0.0.1:1/", "org");
        let path = path_for(&input, &key);
        let mut journal = Journal::open(&path, &key).unwrap();
        journal.record("c1").unwrap();
        journal.record("c2").unwrap();
        drop(journal);
        // A kill in the middle of a write.
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(b"c3").unwrap();
        drop(file);
        let mut journal = Journal::open(&path, &key).unwrap();
        assert!(journal.contains("c1") && journal.contains("c2"));
        assert!(!journal.contains("c3"));
        assert_eq!(journal.len(), 2);
        journal.record("c4").unwrap();
        drop(journal);
        let journal = Journal::open(&path, &key).unwrap();
        assert!(journal.contains("c4") && !journal.contains("c3c4"));
    }

    #[test]
    fn another_target_gets_another_journal_and_a_foreign_one_is_refused() {
        let input = scratch("targets");
        let a = TargetKey::new("http://127.0.0.1:1", "org");
        let b = TargetKey::new("http://127.0.0.1:1", "other-org");
        let c = TargetKey::new("http://127.0.0.1:2", "org");
        assert_ne!(path_for(&input, &a), path_for(&input, &b));
        assert_ne!(path_for(&input, &a), path_for(&input, &c));
        assert_eq!(
            path_for(&input, &a),
            path_for(&input, &TargetKey::new("http://127.0.0.1:1/", "org"))
        );
        let path = path_for(&input, &a);
        Journal::open(&path, &a).unwrap().record("c1").unwrap();
        let error = Journal::open(&path, &b).unwrap_err();
        assert!(error.to_string().contains("not the journal of"), "{error}");
    }
}
