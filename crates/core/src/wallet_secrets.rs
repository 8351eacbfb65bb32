//! The secrets a wallet's data uses, by name: what a move carries and what the shop data's backup
//! keeps beside the database. Apart from both, so neither the app nor the move depends on the
//! other for it.

use std::collections::BTreeMap;

use crate::error::Result;

/// The secret-store names a wallet's data uses: the node seed, every live API key's, every
/// webhook's, every live wallet connection's; and the LSP's token, which is optional (an LSP may need none).
pub(crate) async fn secret_names(
    store: &crate::store::Store,
) -> Result<(Vec<String>, Vec<String>)> {
    let mut needed = vec![crate::seed::SEED_SECRET.to_string()];
    let keys: Vec<(String,)> = sqlx::query_as("SELECT id FROM api_keys WHERE revoked_at IS NULL")
        .fetch_all(store.pool())
        .await?;
    needed.extend(keys.iter().map(|(id,)| crate::keys::secret_name(id)));
    let hooks: Vec<(String,)> = sqlx::query_as("SELECT id FROM webhooks")
        .fetch_all(store.pool())
        .await?;
    needed.extend(hooks.iter().map(|(id,)| crate::webhooks::secret_name(id)));
    let connections: Vec<(String,)> = sqlx::query_as(
        "SELECT c.key_id FROM nwc_connections c JOIN api_keys k ON k.id = c.key_id
         WHERE k.revoked_at IS NULL",
    )
    .fetch_all(store.pool())
    .await?;
    needed.extend(
        connections
            .iter()
            .flat_map(|(id,)| crate::nwc::secret_names(id)),
    );
    Ok((needed, vec![crate::settings::LSP_TOKEN.to_string()]))
}

/// Every secret the data dir uses that the secret store holds, by name (see [`secret_names`]).
pub(crate) async fn collect(
    store: &crate::store::Store,
    secrets: &crate::secrets::SecretStore,
) -> Result<BTreeMap<String, String>> {
    let (needed, optional) = secret_names(store).await?;
    let mut found = BTreeMap::new();
    for name in needed.into_iter().chain(optional) {
        if let Some(value) = secrets.get(&name).await? {
            found.insert(name, value);
        }
    }
    Ok(found)
}
