//! How a front door tells a person the admin key without writing it into a service log.
//!
//! Standard output of a daemon usually ends up in a journal or a log file that other people and
//! tools read, so the key is printed only to a terminal. Elsewhere it goes to a mode-0600 file
//! when one is named (`--admin-key-file`, `PAYAIML_ADMIN_KEY_FILE`), and the output says where.

use std::io::IsTerminal;
use std::path::Path;

use crate::error::{Error, Result};

/// The line to print about the admin key `secret`, if any. `show` says whether this start has
/// something to show (a key just created, or the sandbox, whose key a developer needs each time).
/// With `file`, the key is written there (mode 0600, replaced atomically) and the line names the
/// file; that happens on every start, so a script can always read the current key.
pub fn admin_key_notice(secret: &str, file: Option<&Path>, show: bool) -> Result<Option<String>> {
    if let Some(path) = file {
        crate::util::write_private_file(path, format!("{secret}\n").as_bytes()).map_err(|e| {
            Error::io(
                format!("cannot write the admin key to {}", path.display()),
                e,
            )
        })?;
        return Ok(Some(format!("admin key file: {}", path.display())));
    }
    if !show {
        return Ok(None);
    }
    Ok(Some(if std::io::stdout().is_terminal() {
        format!("admin key: {secret}")
    } else {
        "admin key: not printed, because standard output is not a terminal and would keep it in a log; \
         start with --admin-key-file PATH (PAYAIML_ADMIN_KEY_FILE) to have it written to a mode-0600 file"
            .to_string()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_is_private_and_named() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
        let path = dir.path().join("admin.key");
        let line = admin_key_notice("pk_abc", Some(&path), false)?;
        assert_eq!(line, Some(format!("admin key file: {}", path.display())));
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io("read", e))?;
        assert_eq!(text.trim(), "pk_abc");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path)
                .map_err(|e| Error::io("stat", e))?
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Tests run with a pipe as standard output: the key itself is never printed there.
        let shown = admin_key_notice("pk_abc", None, true)?.unwrap_or_default();
        assert!(!shown.contains("pk_abc"), "{shown}");
        assert_eq!(admin_key_notice("pk_abc", None, false)?, None);
        Ok(())
    }
}
