//! Settings the merchant changes while the app runs (today: desktop notifications). A choice made
//! in the dashboard is stored and wins over the start-up default at the next start.

use std::sync::atomic::Ordering;

use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::error::Result;
use crate::store::Store;

const NOTIFICATIONS: &str = "notifications";

/// What the Settings page shows.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Settings {
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
}

/// A change of settings; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsChange {
    /// Desktop notifications on or off.
    pub notifications: Option<bool>,
}

impl App {
    /// The current settings.
    pub fn settings(&self) -> Settings {
        Settings {
            network: self.config.network.to_string(),
            listen: self.config.listen.to_string(),
            data_dir: self.config.data_dir.display().to_string(),
            secrets: format!("{:?}", self.config.secrets).to_lowercase(),
            notifications: self.notify.load(Ordering::Relaxed),
        }
    }

    /// Applies and stores a change.
    pub async fn change_settings(&self, change: SettingsChange) -> Result<Settings> {
        if let Some(on) = change.notifications {
            self.store
                .set_setting(NOTIFICATIONS, if on { "on" } else { "off" })
                .await?;
            self.notify.store(on, Ordering::Relaxed);
        }
        Ok(self.settings())
    }
}

/// The stored notifications choice, if the merchant made one.
pub(crate) async fn stored_notifications(store: &Store) -> Result<Option<bool>> {
    Ok(store.setting(NOTIFICATIONS).await?.map(|v| v == "on"))
}
