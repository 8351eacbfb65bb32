//! Which wallet an installed app runs, chosen at its first start and kept.
//!
//! An install has one *home* folder (the OS app-data folder, or `--data-dir` when the app runs
//! as a host of several wallets). Each wallet lives in its own data dir inside it, named after its
//! profile: `sandbox`, `sandbox-fresh`, `bitcoin`, `testnet`, `signet`, `regtest`. Switching
//! between them never touches another's data. The choice itself is one small file, `profile`, in
//! the home folder; it holds the profile's name and nothing secret.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::Network;
use crate::error::{Error, Result};

/// The file in the home folder that keeps the choice.
const CHOICE_FILE: &str = "profile";

/// A wallet an install can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Profile {
    /// The regtest sandbox: its own bitcoind, a customer node, channels both ways. No real money.
    Sandbox,
    /// The sandbox with the merchant starting as a brand-new node (no channels, no funds) and the
    /// sandbox's LSP set up: the first payment of a real shop, without real money.
    SandboxFresh,
    /// Bitcoin: real money.
    Bitcoin,
    /// Testnet (v3): test coins on a public chain.
    Testnet,
    /// Signet: test coins on a public chain.
    Signet,
    /// A regtest chain of the merchant's own bitcoind (`--bitcoind-rpc`), for developers.
    Regtest,
}

impl Profile {
    /// Every profile, in the order a setup screen offers them.
    pub const ALL: [Profile; 6] = [
        Profile::Sandbox,
        Profile::SandboxFresh,
        Profile::Bitcoin,
        Profile::Testnet,
        Profile::Signet,
        Profile::Regtest,
    ];

    /// The name used in the choice file, in the API and as the data dir's folder.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Sandbox => "sandbox",
            Profile::SandboxFresh => "sandbox-fresh",
            Profile::Bitcoin => "bitcoin",
            Profile::Testnet => "testnet",
            Profile::Signet => "signet",
            Profile::Regtest => "regtest",
        }
    }

    /// The Bitcoin network it runs on.
    pub fn network(self) -> Network {
        match self {
            Profile::Sandbox | Profile::SandboxFresh | Profile::Regtest => Network::Regtest,
            Profile::Bitcoin => Network::Bitcoin,
            Profile::Testnet => Network::Testnet,
            Profile::Signet => Network::Signet,
        }
    }

    /// Whether it is one of the sandbox's (which makes its own wallet and runs its own chain).
    pub fn is_sandbox(self) -> bool {
        matches!(self, Profile::Sandbox | Profile::SandboxFresh)
    }

    /// Why a regtest wallet cannot be made without the merchant's own chain source.
    pub const REGTEST_NEEDS: &'static str = "a regtest wallet needs your own bitcoind or Esplora: \
        start the app with --bitcoind-rpc (PAYAIML_BITCOIND_RPC) or --esplora-url";

    /// Its data dir inside `home`.
    pub fn data_dir(self, home: &Path) -> PathBuf {
        home.join(self.as_str())
    }
}

impl std::str::FromStr for Profile {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Profile::ALL
            .into_iter()
            .find(|p| p.as_str() == s.trim())
            .ok_or_else(|| {
                let names: Vec<&str> = Profile::ALL.iter().map(|p| p.as_str()).collect();
                format!("'{}' is not one of {}", s.trim(), names.join(", "))
            })
    }
}

/// The profile kept in `home`, if one was chosen. A damaged choice file is an error, not a
/// silent first run: it would offer to make a new wallet beside an existing one.
pub fn load_choice(home: &Path) -> Result<Option<Profile>> {
    let path = home.join(CHOICE_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => text.parse().map(Some).map_err(|e| {
            Error::Config(format!(
                "{} is damaged ({e}); write one of those names into it, or delete it to choose again",
                path.display()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(format!("reading {}", path.display()), e)),
    }
}

/// Keeps `profile` as the choice of `home`, replacing the file in one step, so a crash leaves
/// the old choice or the new one, never half of one.
pub fn save_choice(home: &Path, profile: Profile) -> Result<()> {
    let path = home.join(CHOICE_FILE);
    std::fs::create_dir_all(home)
        .and_then(|()| crate::util::write_private_file(&path, profile.as_str().as_bytes()))
        .map_err(|e| Error::io(format!("keeping the choice in {}", path.display()), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_choice_is_kept_and_a_damaged_one_is_named() -> Result<()> {
        let home = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
        assert_eq!(load_choice(home.path())?, None);
        save_choice(home.path(), Profile::SandboxFresh)?;
        assert_eq!(load_choice(home.path())?, Some(Profile::SandboxFresh));
        save_choice(home.path(), Profile::Bitcoin)?;
        assert_eq!(load_choice(home.path())?, Some(Profile::Bitcoin));
        std::fs::write(home.path().join(CHOICE_FILE), "mainnet")
            .map_err(|e| Error::io("write", e))?;
        let err = load_choice(home.path()).err().map(|e| e.to_string());
        assert!(
            err.as_deref().is_some_and(|e| e.contains("'mainnet'")),
            "{err:?}"
        );
        assert_eq!(
            Profile::SandboxFresh.data_dir(home.path()),
            home.path().join("sandbox-fresh")
        );
        Ok(())
    }
}
