//! The OpenAPI document's frame: info, tags and the bearer scheme. Paths and schemas come from the
//! handlers' `#[utoipa::path]` annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "PayAiML Merchant local API",
        description = "Lightning invoices, payments, balance and events from the merchant's own node. \
                       Every request except /v1/health and /v1/openapi.json needs `Authorization: Bearer <key>`.",
        version = "1.0.0"
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "invoices", description = "Receive payments"),
        (name = "payments", description = "Send payments"),
        (name = "balance", description = "What the merchant holds"),
        (name = "keys", description = "API keys"),
        (name = "events", description = "The durable event log and its WebSocket stream"),
        (name = "webhooks", description = "Signed event delivery to the shop's URLs"),
        (name = "node", description = "The Lightning node"),
        (name = "sandbox", description = "Regtest sandbox only"),
        (name = "health", description = "Liveness")
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("pk_<id>_<secret>")
                    .build(),
            ),
        );
    }
}
