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
        (name = "rates", description = "Exchange rates of the merchant's currency"),
        (name = "reports", description = "Sales by day and hour, and the transactions CSV"),
        (name = "catalog", description = "Items for the point of sale, and tax rates"),
        (name = "cashier", description = "The lock that limits the dashboard to the point of sale"),
        (name = "till", description = "Cashiers, shifts and Z-reports, sales in cash or by card, receipt printers"),
        (name = "display", description = "The customer display: the point of sale's current sale, its own key, pairing"),
        (name = "keys", description = "API keys"),
        (name = "nwc", description = "Nostr Wallet Connect: apps outside the shop's network reach the wallet through a relay; each connection is an API key"),
        (name = "greenfield", description = "Pairing shop plugins that speak BTCPay's Greenfield API (the compatible API itself is under /api/v1, documented in docs/api.md)"),
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

/// Marks every property of every answer's schema required. The server always sends each field of
/// an answer (`null` when it has no value), but utoipa calls an `Option` field "not required",
/// which would tell generated clients (the SDK's TypeScript types) that it may be absent. Request
/// bodies keep their optional fields. The one field left out when empty is `ErrorDetail.field`
/// (`skip_serializing_if`).
struct AnswersAreComplete;

/// What is done to the document once every route's schemas are in it.
pub fn finish(openapi: &mut utoipa::openapi::OpenApi) {
    AnswersAreComplete.modify(openapi);
}

/// Properties that may be absent from an answer.
const MAY_BE_ABSENT: [(&str, &str); 1] = [("ErrorDetail", "field")];

impl Modify for AnswersAreComplete {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{RefOr, Schema};
        let requests = request_schemas(openapi);
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        for (name, schema) in components.schemas.iter_mut() {
            if requests.contains(name.as_str()) {
                continue;
            }
            if let RefOr::T(Schema::Object(object)) = schema {
                let names: Vec<String> = object.properties.keys().cloned().collect();
                for property in names {
                    let absent = MAY_BE_ABSENT.contains(&(name.as_str(), property.as_str()));
                    if !absent && !object.required.contains(&property) {
                        object.required.push(property);
                    }
                }
            }
        }
    }
}

/// The names of the schemas that request bodies use, and those they refer to.
fn request_schemas(openapi: &utoipa::openapi::OpenApi) -> std::collections::BTreeSet<String> {
    let doc = serde_json::to_value(openapi).unwrap_or_default();
    let mut found = std::collections::BTreeSet::new();
    let mut todo: Vec<serde_json::Value> = Vec::new();
    if let Some(paths) = doc.get("paths").and_then(|p| p.as_object()) {
        for item in paths.values().filter_map(|i| i.as_object()) {
            for operation in item.values() {
                if let Some(body) = operation.get("requestBody") {
                    todo.push(body.clone());
                }
            }
        }
    }
    let schemas = doc
        .pointer("/components/schemas")
        .cloned()
        .unwrap_or_default();
    while let Some(value) = todo.pop() {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(name) = map
                    .get("$ref")
                    .and_then(|r| r.as_str())
                    .and_then(|r| r.strip_prefix("#/components/schemas/"))
                {
                    if found.insert(name.to_string()) {
                        if let Some(schema) = schemas.get(name) {
                            todo.push(schema.clone());
                        }
                    }
                }
                todo.extend(map.into_iter().map(|(_, v)| v));
            }
            serde_json::Value::Array(items) => todo.extend(items),
            _ => {}
        }
    }
    found
}
