//! Settings the merchant changes while the app runs (today: desktop notifications), reached
//! through [`Settings`] (`app.settings()`). A choice made in the dashboard is stored and wins over
//! the start-up default at the next start.

use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::error::Result;
use crate::store::Store;

const NOTIFICATIONS: &str = "notifications";

/// What the Settings page shows.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = Settings)]
pub struct SettingsView {
    /// The Bitcoin network.
    pub network: String,
    /// Where the API listens (as configured; port 0 means "picked at start").
    pub listen: String,
    /// The data folder: SQLite, the LDK store.
    pub data_dir: String,
    /// Where secrets live: `keyring` or `file`.
    pub secrets: String,
    /// Desktop notifications for received payments.
    pub notifications: bool,
    /// The LSP that opens a channel when an invoice needs one (null: none).
    pub lsp: Option<LspView>,
}

/// The LSP as the Settings page and the point of sale show it (never its token).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LspView {
    /// Its node id.
    pub node_id: String,
    /// Where it listens.
    pub address: String,
    /// The most it may keep for opening a channel: this many sats...
    pub max_fee_base_sat: u64,
    /// ...plus this many millionths of the payment.
    pub max_fee_ppm: u64,
}

/// A change of settings; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsChange {
    /// Desktop notifications on or off.
    pub notifications: Option<bool>,
}

/// The running settings. Borrowed from [`crate::App`].
pub struct Settings<'a> {
    store: &'a Store,
    config: &'a Config,
    /// Desktop notifications on or off (read by the notification task at each event).
    notify: &'a AtomicBool,
}

impl<'a> Settings<'a> {
    pub(crate) fn new(store: &'a Store, config: &'a Config, notify: &'a AtomicBool) -> Self {
        Settings {
            store,
            config,
            notify,
        }
    }

    /// The current settings.
    pub fn get(&self) -> SettingsView {
        SettingsView {
            network: self.config.network.to_string(),
            listen: self.config.listen.to_string(),
            data_dir: self.config.data_dir.display().to_string(),
            secrets: format!("{:?}", self.config.secrets).to_lowercase(),
            notifications: self.notify.load(Ordering::Relaxed),
            lsp: self.config.lsp.as_ref().map(|lsp| LspView {
                node_id: lsp.node_id.clone(),
                address: lsp.address.clone(),
                max_fee_base_sat: self.config.lsp_max_fee_base_sat,
                max_fee_ppm: self.config.lsp_max_fee_ppm,
            }),
        }
    }

    /// Applies and stores a change.
    pub async fn change(&self, change: SettingsChange) -> Result<SettingsView> {
        if let Some(on) = change.notifications {
            self.store
                .set_setting(NOTIFICATIONS, if on { "on" } else { "off" })
                .await?;
            self.notify.store(on, Ordering::Relaxed);
        }
        Ok(self.get())
    }
}

/// The stored notifications choice, if the merchant made one.
pub(crate) async fn stored_notifications(store: &Store) -> Result<Option<bool>> {
    Ok(store.setting(NOTIFICATIONS).await?.map(|v| v == "on"))
}
