//! Catalog rows: items and tax rates, each with one column list.

use base64::Engine;

use super::{Image, Item, Tax};
use crate::error::{Error, Result};
use crate::store::Store;
use crate::util::rfc3339;

const ITEM_COLUMNS: &str = "id, name, price, currency, category, tax, position, image, \
     image_type, created_at, updated_at, archived_at";

#[derive(sqlx::FromRow)]
struct ItemRow {
    id: String,
    name: String,
    price: String,
    currency: Option<String>,
    category: Option<String>,
    tax: String,
    position: i64,
    image: Option<Vec<u8>>,
    image_type: Option<String>,
    created_at: i64,
    updated_at: i64,
    archived_at: Option<i64>,
}

impl From<ItemRow> for Item {
    fn from(r: ItemRow) -> Item {
        let image = match (r.image, r.image_type) {
            (Some(bytes), Some(mime)) => Some(format!(
                "data:{mime};base64,{}",
                base64::engine::general_purpose::STANDARD.encode(bytes)
            )),
            _ => None,
        };
        Item {
            id: r.id,
            name: r.name,
            price: r.price,
            currency: r.currency,
            category: r.category,
            tax: r.tax,
            position: r.position,
            image,
            archived: r.archived_at.is_some(),
            created_at: rfc3339(r.created_at),
            updated_at: rfc3339(r.updated_at),
        }
    }
}

fn item_not_found(id: &str) -> Error {
    Error::NotFound {
        kind: "item",
        id: id.to_string(),
    }
}

pub(crate) async fn items(store: &Store, archived: bool) -> Result<Vec<Item>> {
    let rows: Vec<ItemRow> = sqlx::query_as(&format!(
        "SELECT {ITEM_COLUMNS} FROM catalog_items WHERE ?1 OR archived_at IS NULL
         ORDER BY position, seq"
    ))
    .bind(archived)
    .fetch_all(store.pool())
    .await?;
    Ok(rows.into_iter().map(Item::from).collect())
}

pub(crate) async fn item(store: &Store, id: &str) -> Result<Item> {
    let row: ItemRow = sqlx::query_as(&format!(
        "SELECT {ITEM_COLUMNS} FROM catalog_items WHERE id = ?"
    ))
    .bind(id)
    .fetch_optional(store.pool())
    .await?
    .ok_or_else(|| item_not_found(id))?;
    Ok(row.into())
}

pub(crate) async fn count_items(store: &Store) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM catalog_items")
        .fetch_one(store.pool())
        .await?)
}

pub(crate) struct NewItemRow<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub price: &'a str,
    pub currency: Option<&'a str>,
    pub category: Option<&'a str>,
    pub tax: &'a str,
    pub image: Option<&'a Image>,
    pub at: i64,
}

pub(crate) async fn insert_item(store: &Store, row: NewItemRow<'_>) -> Result<()> {
    let mut conn = store.pool().acquire().await?;
    insert_item_in(&mut conn, row).await
}

/// [`insert_item`] inside the caller's transaction (an import adds all its rows in one).
pub(crate) async fn insert_item_in(
    conn: &mut sqlx::SqliteConnection,
    row: NewItemRow<'_>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO catalog_items (id, name, price, currency, category, tax, position, image,
             image_type, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(position), 0) + 1 FROM catalog_items),
             ?, ?, ?, ?)",
    )
    .bind(row.id)
    .bind(row.name)
    .bind(row.price)
    .bind(row.currency)
    .bind(row.category)
    .bind(row.tax)
    .bind(row.image.map(|i| i.bytes.as_slice()))
    .bind(row.image.map(|i| i.mime))
    .bind(row.at)
    .bind(row.at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(crate) struct ItemUpdate<'a> {
    pub name: &'a str,
    pub price: &'a str,
    pub currency: Option<&'a str>,
    pub category: Option<&'a str>,
    pub tax: &'a str,
    /// `None`: unchanged; `Some(None)`: removed.
    pub image: Option<Option<&'a Image>>,
    pub archived: Option<bool>,
    pub at: i64,
}

pub(crate) async fn update_item(store: &Store, id: &str, u: ItemUpdate<'_>) -> Result<()> {
    let keep_image = u.image.is_none();
    let image = u.image.flatten();
    let done = sqlx::query(
        "UPDATE catalog_items SET name = ?, price = ?, currency = ?, category = ?, tax = ?,
             image = CASE WHEN ? THEN image ELSE ? END,
             image_type = CASE WHEN ? THEN image_type ELSE ? END,
             archived_at = CASE WHEN ? IS NULL THEN archived_at
                                WHEN ? THEN COALESCE(archived_at, ?) ELSE NULL END,
             updated_at = ?
         WHERE id = ?",
    )
    .bind(u.name)
    .bind(u.price)
    .bind(u.currency)
    .bind(u.category)
    .bind(u.tax)
    .bind(keep_image)
    .bind(image.map(|i| i.bytes.as_slice()))
    .bind(keep_image)
    .bind(image.map(|i| i.mime))
    .bind(u.archived)
    .bind(u.archived)
    .bind(u.at)
    .bind(u.at)
    .bind(id)
    .execute(store.pool())
    .await?;
    if done.rows_affected() == 0 {
        return Err(item_not_found(id));
    }
    Ok(())
}

pub(crate) async fn delete_item(store: &Store, id: &str) -> Result<()> {
    let done = sqlx::query("DELETE FROM catalog_items WHERE id = ?")
        .bind(id)
        .execute(store.pool())
        .await?;
    if done.rows_affected() == 0 {
        return Err(item_not_found(id));
    }
    Ok(())
}

/// Gives the listed items positions 1, 2, …, and every other item a place after them in its
/// current order, in one transaction.
pub(crate) async fn reorder(store: &Store, ids: &[String]) -> Result<()> {
    let mut tx = store.pool().begin().await?;
    for id in ids {
        let known: Option<i64> = sqlx::query_scalar("SELECT seq FROM catalog_items WHERE id = ?")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        if known.is_none() {
            return Err(item_not_found(id));
        }
    }
    let others: Vec<String> =
        sqlx::query_scalar("SELECT id FROM catalog_items ORDER BY position, seq")
            .fetch_all(&mut *tx)
            .await?;
    let order = ids
        .iter()
        .cloned()
        .chain(others.into_iter().filter(|id| !ids.contains(id)));
    for (n, id) in order.enumerate() {
        sqlx::query("UPDATE catalog_items SET position = ? WHERE id = ?")
            .bind(n as i64 + 1)
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

const TAX_COLUMNS: &str = "id, name, rate, inclusive, is_default, created_at, archived_at";

#[derive(sqlx::FromRow)]
struct TaxRow {
    id: String,
    name: String,
    rate: String,
    inclusive: bool,
    is_default: bool,
    created_at: i64,
    archived_at: Option<i64>,
}

impl From<TaxRow> for Tax {
    fn from(r: TaxRow) -> Tax {
        Tax {
            id: r.id,
            name: r.name,
            rate: r.rate,
            inclusive: r.inclusive,
            default: r.is_default,
            archived: r.archived_at.is_some(),
            created_at: rfc3339(r.created_at),
        }
    }
}

pub(crate) async fn taxes(store: &Store, archived: bool) -> Result<Vec<Tax>> {
    let rows: Vec<TaxRow> = sqlx::query_as(&format!(
        "SELECT {TAX_COLUMNS} FROM catalog_taxes WHERE ?1 OR archived_at IS NULL ORDER BY seq"
    ))
    .bind(archived)
    .fetch_all(store.pool())
    .await?;
    Ok(rows.into_iter().map(Tax::from).collect())
}

pub(crate) async fn tax(store: &Store, id: &str) -> Result<Tax> {
    let row: TaxRow = sqlx::query_as(&format!(
        "SELECT {TAX_COLUMNS} FROM catalog_taxes WHERE id = ?"
    ))
    .bind(id)
    .fetch_optional(store.pool())
    .await?
    .ok_or_else(|| Error::NotFound {
        kind: "tax rate",
        id: id.to_string(),
    })?;
    Ok(row.into())
}

pub(crate) async fn count_taxes(store: &Store) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM catalog_taxes")
        .fetch_one(store.pool())
        .await?)
}

/// Items not archived that are sold under the tax rate `id`.
pub(crate) async fn items_with_tax(store: &Store, id: &str) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM catalog_items WHERE tax = ? AND archived_at IS NULL",
    )
    .bind(id)
    .fetch_one(store.pool())
    .await?)
}

pub(crate) async fn insert_tax(
    store: &Store,
    id: &str,
    name: &str,
    rate: &str,
    inclusive: bool,
    default: bool,
    at: i64,
) -> Result<()> {
    let mut tx = store.pool().begin().await?;
    if default {
        sqlx::query("UPDATE catalog_taxes SET is_default = 0 WHERE is_default = 1")
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(
        "INSERT INTO catalog_taxes (id, name, rate, inclusive, is_default, created_at)
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(id)
    .bind(name)
    .bind(rate)
    .bind(inclusive)
    .bind(default)
    .bind(at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Renames a rate, makes it the default (taking that from any other) or not, archives it (an
/// archived rate is never the default) or brings it back.
pub(crate) async fn update_tax(
    store: &Store,
    id: &str,
    name: &str,
    default: Option<bool>,
    archived: Option<bool>,
) -> Result<()> {
    let mut tx = store.pool().begin().await?;
    if default == Some(true) {
        sqlx::query("UPDATE catalog_taxes SET is_default = 0 WHERE is_default = 1 AND id != ?")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(
        "UPDATE catalog_taxes SET name = ?,
             is_default = CASE WHEN ? THEN 0 WHEN ? IS NULL THEN is_default ELSE ? END,
             archived_at = CASE WHEN ? IS NULL THEN archived_at
                                WHEN ? THEN COALESCE(archived_at, ?) ELSE NULL END
         WHERE id = ?",
    )
    .bind(name)
    .bind(archived == Some(true))
    .bind(default)
    .bind(default)
    .bind(archived)
    .bind(archived)
    .bind(crate::util::now_ms())
    .bind(id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
