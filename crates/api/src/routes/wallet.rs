//! `/v1/lightning/balance`.

use axum::extract::State;
use axum::Json;
use payaiml_core::keys::Permission;
use payaiml_core::node::Balance;
use payaiml_core::rates::record::fixed;
use serde::Serialize;

use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::state::ApiState;

/// The balances, and their value in the merchant's currency.
#[derive(Serialize, utoipa::ToSchema)]
pub struct BalanceBody {
    /// The balances in sats.
    #[serde(flatten)]
    pub balance: Balance,
    /// Their value in the merchant's currency at the current rate; null in sats-only mode or
    /// when no rate is fresh.
    pub fiat: Option<BalanceFiat>,
}

/// Balances in the merchant's currency, each rounded half up to its decimals.
#[derive(Serialize, utoipa::ToSchema)]
pub struct BalanceFiat {
    /// ISO 4217 code.
    pub currency: String,
    /// Units per bitcoin, as a decimal string.
    pub rate: String,
    /// When the rate was fetched.
    pub rate_at: String,
    /// What can be sent over Lightning now.
    pub lightning_spendable: String,
    /// Everything: Lightning, closing and on-chain.
    pub total: String,
}

/// Lightning and on-chain balances in sats, and their value in the merchant's currency at the
/// current rate (from the rate kept: this never waits for a provider). Needs `lightning:read`.
#[utoipa::path(get, path = "/v1/lightning/balance", tag = "balance",
    responses((status = 200, body = BalanceBody), (status = "4XX", body = ErrorBody)))]
pub async fn balance(State(state): State<ApiState>, auth: Auth) -> ApiResult<Json<BalanceBody>> {
    auth.require(Permission::LightningRead)?;
    let balance = state.app.node().balance()?;
    let fiat = state.app.rates().merchant_rate().map(|rate| {
        let value = |sats: u64| fixed(rate.value_of_msat(sats * 1000), &rate.currency);
        BalanceFiat {
            rate: rate.rate.normalize().to_string(),
            rate_at: payaiml_core::util::rfc3339(rate.rate_at),
            lightning_spendable: value(balance.lightning.spendable),
            total: value(balance.total),
            currency: rate.currency.clone(),
        }
    });
    Ok(Json(BalanceBody { balance, fiat }))
}
