//! `/v1/catalog`: the items the point of sale sells and the tax rates they are sold under.
//! Reading needs `lightning:read` or `lightning:receive` (a point of sale key shows the grid);
//! changing needs `catalog:manage`.

use axum::extract::{Path, State};
use axum::http::header;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use payaiml_core::catalog::{
    Cart, CatalogImport, Imported, Item, ItemChange, NewItem, NewTax, Order, Tax, TaxChange,
};
use payaiml_core::keys::Permission;

use super::{ApiQuery, ListBody};
use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::json::ApiJson;
use crate::state::ApiState;

/// Query of the catalog lists.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CatalogQuery {
    /// Include archived ones (default false).
    pub archived: Option<bool>,
}

fn may_read(auth: &Auth) -> ApiResult<()> {
    if !auth.key.allows(Permission::LightningRead) {
        auth.require(Permission::LightningReceive)?;
    }
    Ok(())
}

/// The items, in the point of sale's order (archived ones only when asked).
#[utoipa::path(get, path = "/v1/catalog/items", tag = "catalog", params(CatalogQuery),
    responses((status = 200, body = ListBody<Item>), (status = "4XX", body = ErrorBody)))]
pub async fn list_items(
    State(state): State<ApiState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<CatalogQuery>,
) -> ApiResult<Json<ListBody<Item>>> {
    may_read(&auth)?;
    Ok(Json(ListBody {
        data: state
            .app
            .catalog()
            .items(q.archived.unwrap_or(false))
            .await?,
    }))
}

/// Add an item, at the end of the grid. A price in a currency is a decimal string with at most
/// its decimals; in sats (no `currency`), whole sats.
#[utoipa::path(post, path = "/v1/catalog/items", tag = "catalog", request_body = NewItem,
    responses((status = 201, body = Item), (status = "4XX", body = ErrorBody)))]
pub async fn create_item(
    State(state): State<ApiState>,
    auth: Auth,
    body: ApiJson<NewItem>,
) -> ApiResult<(StatusCode, Json<Item>)> {
    auth.require(Permission::CatalogManage)?;
    let item = state.app.catalog().add_item(body.value).await?;
    Ok((StatusCode::CREATED, Json(item)))
}

/// One item.
#[utoipa::path(get, path = "/v1/catalog/items/{id}", tag = "catalog",
    params(("id" = String, Path, description = "item id (itm_…)")),
    responses((status = 200, body = Item), (status = "4XX", body = ErrorBody)))]
pub async fn get_item(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Item>> {
    may_read(&auth)?;
    Ok(Json(state.app.catalog().item(&id).await?))
}

/// Change an item (absent fields stay; `archived: true` takes it off the point of sale). Sales
/// already made keep what they were charged.
#[utoipa::path(patch, path = "/v1/catalog/items/{id}", tag = "catalog", request_body = ItemChange,
    params(("id" = String, Path, description = "item id")),
    responses((status = 200, body = Item), (status = "4XX", body = ErrorBody)))]
pub async fn change_item(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
    body: ApiJson<ItemChange>,
) -> ApiResult<Json<Item>> {
    auth.require(Permission::CatalogManage)?;
    Ok(Json(
        state.app.catalog().change_item(&id, body.value).await?,
    ))
}

/// Delete an item for good (sales keep their own copy of its name and price; archive it to
/// keep it in the catalog).
#[utoipa::path(delete, path = "/v1/catalog/items/{id}", tag = "catalog",
    params(("id" = String, Path, description = "item id")),
    responses((status = 204), (status = "4XX", body = ErrorBody)))]
pub async fn delete_item(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    auth.require(Permission::CatalogManage)?;
    state.app.catalog().delete_item(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The order of the grid.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reorder {
    /// Item ids in their new order; items not listed follow in their current order.
    #[schema(schema_with = reorder_ids_schema)]
    pub ids: Vec<String>,
}

/// `ids` of [`Reorder`]: 1 to 2,000 item ids, each once and shaped like one (utoipa marks only
/// sets unique, and a set would lose the order).
fn reorder_ids_schema() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some("^itm_[a-z0-9]{20}$")),
        )
        .min_items(Some(1))
        .max_items(Some(2000))
        .unique_items(true)
        .description(Some(
            "Item ids in their new order, each once; items not listed follow in their current order.",
        ))
        .build()
}

/// Put items in a new order; answers every item (archived ones too) in that order.
#[utoipa::path(post, path = "/v1/catalog/items/reorder", tag = "catalog", request_body = Reorder,
    responses((status = 200, body = ListBody<Item>), (status = "4XX", body = ErrorBody)))]
pub async fn reorder_items(
    State(state): State<ApiState>,
    auth: Auth,
    body: ApiJson<Reorder>,
) -> ApiResult<Json<ListBody<Item>>> {
    auth.require(Permission::CatalogManage)?;
    Ok(Json(ListBody {
        data: state.app.catalog().reorder(&body.value.ids).await?,
    }))
}

/// The tax rates (archived ones only when asked).
#[utoipa::path(get, path = "/v1/catalog/taxes", tag = "catalog", params(CatalogQuery),
    responses((status = 200, body = ListBody<Tax>), (status = "4XX", body = ErrorBody)))]
pub async fn list_taxes(
    State(state): State<ApiState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<CatalogQuery>,
) -> ApiResult<Json<ListBody<Tax>>> {
    may_read(&auth)?;
    Ok(Json(ListBody {
        data: state
            .app
            .catalog()
            .taxes(q.archived.unwrap_or(false))
            .await?,
    }))
}

/// Add a tax rate: a percent, included in prices or added on top; `default: true` makes it
/// apply to every item and custom amount that names no tax.
#[utoipa::path(post, path = "/v1/catalog/taxes", tag = "catalog", request_body = NewTax,
    responses((status = 201, body = Tax), (status = "4XX", body = ErrorBody)))]
pub async fn create_tax(
    State(state): State<ApiState>,
    auth: Auth,
    body: ApiJson<NewTax>,
) -> ApiResult<(StatusCode, Json<Tax>)> {
    auth.require(Permission::CatalogManage)?;
    let tax = state.app.catalog().add_tax(body.value).await?;
    Ok((StatusCode::CREATED, Json(tax)))
}

/// Rename a tax rate, make it the default or not, archive it or bring it back. Its percentage
/// and whether it is included never change (a new rate is a new tax). A rate items are sold
/// under cannot be archived (`409 catalog_conflict`).
#[utoipa::path(patch, path = "/v1/catalog/taxes/{id}", tag = "catalog", request_body = TaxChange,
    params(("id" = String, Path, description = "tax rate id (tax_…)")),
    responses((status = 200, body = Tax), (status = "4XX", body = ErrorBody)))]
pub async fn change_tax(
    State(state): State<ApiState>,
    auth: Auth,
    Path(id): Path<String>,
    body: ApiJson<TaxChange>,
) -> ApiResult<Json<Tax>> {
    auth.require(Permission::CatalogManage)?;
    Ok(Json(state.app.catalog().change_tax(&id, body.value).await?))
}

/// What a cart comes to now, without charging it: the same lines, taxes, tip and total an
/// invoice for it would record (the point of sale shows them before the customer pays). Needs
/// what reading the catalog needs.
#[utoipa::path(post, path = "/v1/catalog/price", tag = "catalog", request_body = Cart,
    responses((status = 200, body = Order), (status = "4XX", body = ErrorBody)))]
pub async fn price_cart(
    State(state): State<ApiState>,
    auth: Auth,
    body: ApiJson<Cart>,
) -> ApiResult<Json<Order>> {
    may_read(&auth)?;
    Ok(Json(state.app.catalog().price_cart(&body.value).await?))
}

/// The items for sale as CSV (`name, price, currency, category, tax`; RFC 4180; formula-like
/// text starts with `'`), for a spreadsheet or another system. Pictures are not included.
#[utoipa::path(get, path = "/v1/catalog/export.csv", tag = "catalog",
    responses((status = 200, content_type = "text/csv", body = String), (status = "4XX", body = ErrorBody)))]
pub async fn export_catalog(State(state): State<ApiState>, auth: Auth) -> ApiResult<Response> {
    may_read(&auth)?;
    let csv = state.app.catalog().export_csv().await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"payaiml-catalog.csv\"",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        csv,
    )
        .into_response())
}

/// Add items from CSV text (`{"csv": "name,price,…"}`, as the export writes it) or JSON rows
/// (`{"items": [{name, price, currency?, category?, tax?}]}`); `tax` is `default`, `none` or a
/// tax rate's name. All or nothing: a bad row (its number in the message) adds none.
#[utoipa::path(post, path = "/v1/catalog/import", tag = "catalog", request_body = CatalogImport,
    responses((status = 201, body = Imported), (status = "4XX", body = ErrorBody)))]
pub async fn import_catalog(
    State(state): State<ApiState>,
    auth: Auth,
    body: ApiJson<CatalogImport>,
) -> ApiResult<(StatusCode, Json<Imported>)> {
    auth.require(Permission::CatalogManage)?;
    let done = state.app.catalog().import(body.value).await?;
    Ok((StatusCode::CREATED, Json(done)))
}
