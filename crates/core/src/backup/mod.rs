//! Continuous backup of the node's channel state to a target the merchant chooses (a VSS server or
//! a folder on another device), encrypted with keys from the recovery words, and the restore that
//! brings a node back from the words and that target. See docs/backup.md for the design and why.
//!
//! - [`seal`]: the encryption of names and values;
//! - [`target`]: a VSS server or a folder;
//! - [`mirror`]: the node's store, with each write mirrored (the local store stays the truth);
//! - [`restore`]: a new data folder filled from the target.

pub mod config;
pub mod mirror;
pub mod restore;
pub mod seal;
pub mod target;
#[cfg(test)]
mod tests;

pub use config::TargetConfig;
pub use mirror::Running;
pub use restore::{bring_back_missing_store, restore_node_state, Restored};
pub use seal::Sealer;
pub use target::Target;

use serde::Serialize;

/// How current the backup is.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BackupState {
    /// Comparing this computer's state with what the target last confirmed (at each start).
    Checking,
    /// Every change is on the target.
    UpToDate,
    /// Some changes are only on this computer: the target is away or catching up.
    Behind,
}

/// The backup as health and the Overview show it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct BackupStatus {
    /// Where it goes: the VSS server's URL or the folder (never a token).
    pub target: String,
    /// How current it is.
    pub state: BackupState,
    /// Since when changes wait on this computer (RFC 3339), while `behind`.
    pub behind_since: Option<String>,
    /// How many entries of the node's store are not yet on the target.
    pub pending_changes: u64,
    /// Their size, in bytes.
    pub pending_bytes: u64,
    /// When the target last confirmed a change (RFC 3339).
    pub last_backup_at: Option<String>,
    /// Why it is behind, while it is.
    pub last_error: Option<String>,
}
