//! Continuous backup of the node's channel state to a target the merchant chooses (a VSS server or
//! a folder on another device), encrypted with keys from the recovery words, and the restore that
//! brings a node back from the words and that target. See docs/backup.md for the design and why.
//!
//! - [`seal`]: the encryption of names and values;
//! - [`target`]: a VSS server or a folder;
//! - [`mirror`]: the node's store, with each write mirrored (the local store stays the truth);
//! - [`shop`]: the shop's database and secrets, by a base and a journal of changed rows;
//! - [`restore`]: a new data folder filled from the target.

pub mod config;
pub mod mirror;
pub mod restore;
pub mod seal;
pub mod shop;
#[cfg(test)]
mod shop_tests;
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

/// How current one part of the backup is: the node's channel state, or the shop's data.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct PartStatus {
    /// How current it is.
    pub state: BackupState,
    /// Since when changes wait on this computer (RFC 3339), while `behind`.
    pub behind_since: Option<String>,
    /// How many changes are not yet on the target: entries of the node's store, or rows of the
    /// shop's data.
    pub pending_changes: u64,
    /// Their size, in bytes, where known (the node's store; 0 for the shop's rows).
    pub pending_bytes: u64,
    /// When the target last confirmed a change (RFC 3339).
    pub last_backup_at: Option<String>,
    /// Why it is behind, while it is.
    pub last_error: Option<String>,
}

/// The backup as health and the Overview show it: the two parts together (behind if either is,
/// since the earlier of the two), and each part.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct BackupStatus {
    /// Where it goes: the VSS server's URL or the folder (never a token).
    pub target: String,
    /// How current it is.
    pub state: BackupState,
    /// Since when changes wait on this computer (RFC 3339), while `behind`.
    pub behind_since: Option<String>,
    /// How many changes are not yet on the target (both parts).
    pub pending_changes: u64,
    /// The size of the node's pending changes, in bytes.
    pub pending_bytes: u64,
    /// When the target last confirmed a change (RFC 3339).
    pub last_backup_at: Option<String>,
    /// Why it is behind, while it is.
    pub last_error: Option<String>,
    /// The node's channel state (`null` until the node was first built in this run).
    pub channel_state: Option<PartStatus>,
    /// The shop's data: invoices, payments, events, keys, webhooks, catalog, settings, secrets.
    pub shop_data: Option<PartStatus>,
}

impl BackupStatus {
    /// The status of both parts, either of which may not be running yet.
    pub fn combine(
        target: String,
        channel_state: Option<PartStatus>,
        shop_data: Option<PartStatus>,
    ) -> BackupStatus {
        let parts: Vec<&PartStatus> = channel_state.iter().chain(shop_data.iter()).collect();
        let state = if parts.iter().any(|p| p.state == BackupState::Behind) {
            BackupState::Behind
        } else if parts.is_empty() || parts.iter().any(|p| p.state == BackupState::Checking) {
            BackupState::Checking
        } else {
            BackupState::UpToDate
        };
        BackupStatus {
            target,
            state,
            // RFC 3339 in UTC with the same precision: the earlier sorts first.
            behind_since: parts.iter().filter_map(|p| p.behind_since.clone()).min(),
            pending_changes: parts.iter().map(|p| p.pending_changes).sum(),
            pending_bytes: parts.iter().map(|p| p.pending_bytes).sum(),
            last_backup_at: parts.iter().filter_map(|p| p.last_backup_at.clone()).max(),
            last_error: parts.iter().find_map(|p| p.last_error.clone()),
            channel_state,
            shop_data,
        }
    }
}
