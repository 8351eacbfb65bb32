//! API key rows: the one column list and the row struct. SQLite keeps a SHA-256 of each key, never
//! the key.

use super::{ApiKey, KeyRole};
use crate::error::Result;
use crate::store::Store;
use crate::util::rfc3339;

/// The columns of a key, in [`KeyRow`]'s order.
const COLUMNS: &str = "id, name, secret_hash, permissions, budget_sat, expires_at, created_at, \
     last_used_at, revoked_at, role";

#[derive(sqlx::FromRow, Clone, Debug)]
pub(super) struct KeyRow {
    pub id: String,
    pub name: String,
    pub secret_hash: String,
    pub permissions: String,
    pub budget_sat: Option<i64>,
    pub expires_at: Option<i64>,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub role: Option<String>,
}

impl From<KeyRow> for ApiKey {
    fn from(row: KeyRow) -> Self {
        ApiKey {
            prefix: format!("pk_{}_", row.id),
            id: row.id,
            name: row.name,
            // Unknown names (from a newer version) are skipped rather than failing every request.
            permissions: row
                .permissions
                .split(',')
                .filter_map(|p| p.parse().ok())
                .collect(),
            budget: row.budget_sat.map(|b| b.max(0) as u64),
            expires_at: row.expires_at.map(rfc3339),
            created_at: rfc3339(row.created_at),
            last_used_at: row.last_used_at.map(rfc3339),
            revoked_at: row.revoked_at.map(rfc3339),
            expires_at_ms: row.expires_at,
            revoked: row.revoked_at.is_some(),
            last_used_at_ms: row.last_used_at,
            // An unknown role (from a newer version) is kept as the most protected kind.
            role: row.role.map(|r| r.parse().unwrap_or(KeyRole::Admin)),
        }
    }
}

/// One key's row by id.
pub(super) async fn get(store: &Store, id: &str) -> Result<Option<KeyRow>> {
    Ok(
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM api_keys WHERE id = ?"))
            .bind(id)
            .fetch_optional(store.pool())
            .await?,
    )
}

/// Every key's row, newest first.
pub(super) async fn list(store: &Store) -> Result<Vec<KeyRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM api_keys ORDER BY created_at DESC, id"
    ))
    .fetch_all(store.pool())
    .await?)
}
