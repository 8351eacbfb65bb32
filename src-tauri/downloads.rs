//! Saving a file the dashboard made (the transactions CSV) into the user's Downloads folder.
//! The desktop webview (WebKitGTK on Linux) silently drops `<a download>` links to `blob:`
//! URLs, so a browser-style download would be a button that does nothing; the dashboard asks
//! the shell instead, and shows where the file went.

use std::io::Write;
use std::path::{Path, PathBuf};

use tauri::Manager;

/// The longest file name accepted.
const MAX_NAME: usize = 120;
/// The largest file accepted (a year of a busy shop's transactions is a few MB).
const MAX_BYTES: usize = 64 * 1024 * 1024;

/// Checks `name` is a plain file name the dashboard would make (`payaiml-…csv`): letters,
/// digits, `.`, `-`, `_`, not starting with a dot, so it can never reach outside the folder.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// Writes `contents` to `dir/name`, or, when that exists, to `dir/stem (2).ext`, `(3)`, …:
/// never over an earlier file. Returns the path written.
fn save_in(dir: &Path, name: &str, contents: &[u8]) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s, Some(e)),
        _ => (name, None),
    };
    for n in 1..1000 {
        let file = match (n, ext) {
            (1, _) => name.to_string(),
            (_, Some(e)) => format!("{stem} ({n}).{e}"),
            (_, None) => format!("{stem} ({n})"),
        };
        let path = dir.join(file);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                f.write_all(contents)?;
                f.sync_all()?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other(format!(
        "{} already holds 999 files named {name}",
        dir.display()
    )))
}

/// Saves a file from the dashboard into the Downloads folder (the home folder when there is
/// none) and returns its path. Only the dashboard window may ask: the customer display has no
/// business writing files.
#[tauri::command]
pub async fn save_download(
    window: tauri::WebviewWindow,
    name: String,
    contents: String,
) -> Result<String, String> {
    if window.label() != crate::windows::MAIN {
        return Err("only the dashboard saves files".into());
    }
    if !valid_name(&name) {
        return Err(format!("'{name}' is not a file name the app makes"));
    }
    if contents.len() > MAX_BYTES {
        return Err("the file is too large to save".into());
    }
    let paths = window.app_handle().path();
    let dir = paths
        .download_dir()
        .or_else(|_| paths.home_dir())
        .map_err(|e| format!("no Downloads or home folder: {e}"))?;
    let path = save_in(&dir, &name, contents.as_bytes())
        .map_err(|e| format!("could not save {name} in {}: {e}", dir.display()))?;
    tracing::info!(path = %path.display(), "saved a download");
    Ok(path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_inside_the_folder() {
        assert!(valid_name(
            "payaiml-transactions-2026-11-01-to-2026-11-30.csv"
        ));
        for bad in [
            "", "../x.csv", "a/b.csv", ".bashrc", "a\\b.csv", "x y.csv", "é.csv",
        ] {
            assert!(!valid_name(bad), "{bad}");
        }
        assert!(!valid_name(&"a".repeat(MAX_NAME + 1)));
    }

    #[test]
    fn a_second_save_never_overwrites_the_first() -> std::io::Result<()> {
        let dir = std::env::temp_dir().join(format!("payaiml-downloads-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let first = save_in(&dir, "report.csv", b"one")?;
        let second = save_in(&dir, "report.csv", b"two")?;
        let bare = save_in(&dir, "report", b"three")?;
        assert_eq!(first, dir.join("report.csv"));
        assert_eq!(second, dir.join("report (2).csv"));
        assert_eq!(bare, dir.join("report"));
        assert_eq!(std::fs::read(&first)?, b"one");
        assert_eq!(std::fs::read(&second)?, b"two");
        std::fs::remove_dir_all(&dir)
    }
}
