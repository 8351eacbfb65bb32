//! One running instance per data dir. Two processes on one LDK store would each sign channel
//! updates from stale state — the way to lose funds — and two sandboxes would stop each other's
//! bitcoind. The lock is an OS file lock, so it goes away with the process, even after a SIGKILL.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

use crate::error::{Error, Result};

/// The note an export leaves in a data dir it retired (see [`crate::moving`]): JSON with when
/// and to which file.
pub const MOVED_NOTE: &str = "MOVED";

/// Held for as long as the instance runs.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

impl DataDirLock {
    /// Takes the lock on `data_dir` (created if missing), or fails at once if another process
    /// holds it, or if the wallet there was moved to another computer: nothing may run on a
    /// retired copy.
    pub fn acquire(data_dir: &Path) -> Result<DataDirLock> {
        refuse_moved(data_dir)?;
        std::fs::create_dir_all(data_dir).map_err(|e| {
            Error::io(
                format!("cannot create the data dir {}", data_dir.display()),
                e,
            )
        })?;
        let path = data_dir.join("instance.lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io(format!("cannot open {}", path.display()), e))?;
        match file.try_lock() {
            Ok(()) => Ok(DataDirLock { _file: file }),
            Err(TryLockError::WouldBlock) => Err(Error::Config(format!(
                "PayAiML Merchant is already running on {}; stop it first, or pass another --data-dir",
                data_dir.display()
            ))),
            Err(TryLockError::Error(e)) => {
                Err(Error::io(format!("cannot lock {}", path.display()), e))
            }
        }
    }
}

/// Refuses a data dir whose wallet was exported to another computer, saying when, where to and
/// why it must not run here again.
fn refuse_moved(data_dir: &Path) -> Result<()> {
    let Ok(text) = std::fs::read_to_string(data_dir.join(MOVED_NOTE)) else {
        return Ok(());
    };
    let note: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let at = note["moved_at"].as_str().unwrap_or("an earlier date");
    let file = note["file"].as_str().unwrap_or("an export file");
    Err(Error::Config(format!(
        "the wallet in {} was moved to another computer on {at} (exported to {file}), so it \
         must not run here again: its channels now run from the other copy, and a node started \
         from this older state would broadcast channel states its peers already replaced, which \
         they take as cheating and answer by keeping the channels' money. To bring the wallet \
         back to this computer, import the export file into a new data dir (payaimld import FILE)",
        data_dir.display()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = DataDirLock::acquire(dir.path()).expect("first");
        let second = DataDirLock::acquire(dir.path())
            .err()
            .map(|e| e.to_string());
        assert!(second.unwrap_or_default().contains("already running"));
        drop(first);
        assert!(
            DataDirLock::acquire(dir.path()).is_ok(),
            "released with its holder"
        );
    }
}
