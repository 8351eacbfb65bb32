//! The backup target as the merchant names it: `--backup TARGET`, `PAYAIML_BACKUP`, the setup
//! screen or Settings.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Where the backup goes.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TargetConfig {
    /// A VSS server, e.g. `http://nas.local:8080/vss`.
    Vss {
        /// The server's base URL (ending in `/vss` for vss-server).
        url: String,
        /// A bearer token the server expects, if it checks one. Kept in the secret store, never
        /// shown.
        #[serde(default, skip_serializing)]
        token: Option<String>,
        /// Sign each request with a JWT of the app's own RSA key (derived from the recovery
        /// words), whose public half the server was given: vss-server's JWT mode.
        #[serde(default)]
        jwt: bool,
    },
    /// A folder on another device (a NAS mount, a USB drive).
    Folder {
        /// The folder; the backup is kept in a sub-folder named by the wallet's store id.
        path: PathBuf,
    },
}

impl std::fmt::Debug for TargetConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TargetConfig::Vss { url, token, jwt } => f
                .debug_struct("Vss")
                .field("url", url)
                .field("token", &token.as_ref().map(|_| "<hidden>"))
                .field("jwt", jwt)
                .finish(),
            TargetConfig::Folder { path } => f.debug_struct("Folder").field("path", path).finish(),
        }
    }
}

impl TargetConfig {
    /// The same target with the server's auth as given (a folder has none).
    pub fn with_auth(self, token: Option<String>, jwt: bool) -> TargetConfig {
        match self {
            TargetConfig::Vss { url, .. } => TargetConfig::Vss {
                url,
                token: token
                    .map(|t| t.trim().to_string())
                    .filter(|t| !t.is_empty()),
                jwt,
            },
            folder => folder,
        }
    }

    /// Reads a target: an `http://` or `https://` URL is a VSS server; an absolute path (or a
    /// `file://` URL) is a folder.
    pub fn parse(text: &str) -> Result<TargetConfig> {
        let text = text.trim();
        let refused = |why: &str| {
            Error::Config(format!(
                "backup target '{text}': {why}; give a VSS server's URL (http://host:port/vss) or an absolute folder path (/mnt/nas/payaiml)"
            ))
        };
        if text.starts_with("http://") || text.starts_with("https://") {
            let rest = text.split_once("://").map_or("", |(_, r)| r);
            if rest.is_empty()
                || rest.starts_with('/')
                || text.chars().any(|c| c.is_whitespace() || c.is_control())
            {
                return Err(refused("the URL has no host"));
            }
            return Ok(TargetConfig::Vss {
                url: text.trim_end_matches('/').to_string(),
                token: None,
                jwt: false,
            });
        }
        let path = text.strip_prefix("file://").unwrap_or(text);
        let path = PathBuf::from(path);
        if !path.is_absolute() {
            return Err(refused("not a URL or an absolute path"));
        }
        Ok(TargetConfig::Folder { path })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_read_as_documented() -> Result<()> {
        assert_eq!(
            TargetConfig::parse("http://127.0.0.1:8080/vss/")?,
            TargetConfig::Vss {
                url: "http://127.0.0.1:8080/vss".into(),
                token: None,
                jwt: false,
            }
        );
        assert_eq!(
            TargetConfig::parse("file:///mnt/nas")?,
            TargetConfig::Folder {
                path: "/mnt/nas".into()
            }
        );
        assert_eq!(
            TargetConfig::parse(" /media/usb/shop ")?,
            TargetConfig::Folder {
                path: "/media/usb/shop".into()
            }
        );
        for bad in ["", "nas/backup", "http://", "http:///vss", "ftp://x"] {
            assert!(TargetConfig::parse(bad).is_err(), "{bad}");
        }
        Ok(())
    }
}
