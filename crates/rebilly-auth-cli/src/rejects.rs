//! The rejects file: `line,id,reason` (CSV), one row per rejected input row, flushed per row.
//! Never a password: reasons are written with every password of the run masked.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

/// The rejects file of one run, created at the first rejected row.
#[derive(Debug)]
pub(crate) struct Rejects {
    path: PathBuf,
    writer: Option<csv::Writer<File>>,
    count: u64,
}

impl Rejects {
    /// The rejects file at `path`. One left by an earlier run is removed: it described rows
    /// that this run sends again.
    pub(crate) fn new(path: PathBuf) -> io::Result<Self> {
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        Ok(Self {
            path,
            writer: None,
            count: 0,
        })
    }

    /// Writes one rejected row; `reason` must already be free of the password.
    pub(crate) fn write(&mut self, line: u64, id: &str, reason: &str) -> io::Result<()> {
        if self.writer.is_none() {
            let mut writer = csv::Writer::from_path(&self.path)?;
            writer.write_record(["line", "id", "reason"])?;
            self.writer = Some(writer);
        }
        let Some(writer) = self.writer.as_mut() else {
            unreachable!("created above")
        };
        writer.write_record([line.to_string().as_str(), id, reason])?;
        writer.flush()?;
        self.count += 1;
        Ok(())
    }

    /// How many rows were rejected.
    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    /// Where the file is (it exists once a row was rejected).
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

/// `text` with every occurrence of `secret` replaced by `[REDACTED]` (an empty secret changes
/// nothing).
pub(crate) fn mask(text: &str, secret: &str) -> String {
    if secret.is_empty() {
        text.to_owned()
    } else {
        text.replace(secret, rebilly_auth_core::REDACTED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_quoted_and_a_stale_file_is_removed() {
        let dir =
            std::env::temp_dir().join(format!("rebilly-auth-cli-rejects-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("in.csv.rejects.csv");
        std::fs::write(&path, "stale").unwrap();
        let mut rejects = Rejects::new(path.clone()).unwrap();
        assert!(!path.exists());
        rejects.write(3, "c,1", "bad \"thing\"").unwrap();
        assert_eq!(rejects.count(), 1);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "line,id,reason\n3,\"c,1\",\"bad \"\"thing\"\"\"\n");
    }

    #[test]
    fn mask_hides_the_secret() {
        assert_eq!(mask("pw is hunter2", "hunter2"), "pw is [REDACTED]");
        assert_eq!(mask("text", ""), "text");
    }
}
