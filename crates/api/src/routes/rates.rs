//! `/v1/rates`: the exchange rate of the merchant's currency (or one asked for), with its age,
//! its sources and how each provider answered.

use axum::extract::State;
use axum::Json;
use payaiml_core::keys::Permission;
use payaiml_core::rates::RatesView;

use super::ApiQuery;
use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::state::ApiState;

/// Query of the rates.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RatesQuery {
    /// A currency other than the merchant's (USD, EUR, GBP, CHF, CAD, AUD, JPY).
    #[param(schema_with = payaiml_core::rates::currency_schema, example = "EUR")]
    pub currency: Option<String>,
}

/// The current exchange rate: the median of the enabled providers' fresh quotes (outliers more
/// than 3 % from it dropped), with its age and sources, and each provider's last answer. `rate`
/// is null, with `error` saying why, when no quote is fresh enough. In sats-only mode, and with
/// no `currency` asked for, nothing is fetched. Needs `lightning:read` or `lightning:receive`
/// (a point of sale shows prices with it).
#[utoipa::path(get, path = "/v1/rates", tag = "rates", params(RatesQuery),
    responses((status = 200, body = RatesView), (status = "4XX", body = ErrorBody)))]
pub async fn rates(
    State(state): State<ApiState>,
    auth: Auth,
    ApiQuery(q): ApiQuery<RatesQuery>,
) -> ApiResult<Json<RatesView>> {
    if !auth.key.allows(Permission::LightningRead) {
        auth.require(Permission::LightningReceive)?;
    }
    Ok(Json(state.app.rates().view(q.currency.as_deref()).await?))
}
