//! The BTCPay Greenfield-compatible API end to end, driven the way BTCPay's WooCommerce plugin
//! (v2) drives a BTCPay server, in its order: pairing through `/api-keys/authorize` and the
//! checks the plugin makes of what is posted back, the settings checks (`api-keys/current`,
//! `server/info`, the webhook it registers, the store's payment methods), an invoice for an
//! order, the customer paying it on the sandbox, the `BTCPay-Sig`-signed webhooks verified the
//! way the plugin's PHP client verifies them (by a separate Node.js program), and the order's
//! invoice and payments read back. Then expiry, marking invalid, and BTCPay's error shapes.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{json, Value};

use crate::common::*;
use crate::receiver::{Hit, Receiver};

/// What the WooCommerce plugin asks for (required, then optional), as its source lists them.
const REQUIRED: [&str; 4] = [
    "btcpay.store.canviewinvoices",
    "btcpay.store.cancreateinvoice",
    "btcpay.store.canviewstoresettings",
    "btcpay.store.canmodifyinvoices",
];
const OPTIONAL: [&str; 2] = [
    "btcpay.store.cancreatenonapprovedpullpayments",
    "btcpay.store.webhooks.canmodifywebhooks",
];

/// A Greenfield request: `Authorization: token <key>` and the PHP client's headers.
fn gf(method: &str, url: &str, key: &str, body: Option<&Value>) -> Res {
    let mut req = client()
        .request(method.parse().expect("method"), url)
        .header("Authorization", format!("token {key}"))
        .header("Accept", "application/json")
        .header("Content-Type", "application/json");
    if let Some(body) = body {
        req = req.body(body.to_string());
    }
    let res = req.send().expect("request");
    let status = res.status().as_u16();
    let text = res.text().unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(json!({ "raw": text }));
    Res { status, body }
}

/// The plugin's checks of the permissions it was given (`GreenfieldApiAuthorization`): every
/// one scoped to the same store, and the required four exactly once the optional ones are
/// dropped. Returns the store id, taken from the first, as the plugin does.
fn plugin_accepts(permissions: &[Value]) -> String {
    let mut stores = BTreeSet::new();
    let mut policies = BTreeSet::new();
    for p in permissions {
        let text = p.as_str().expect("permission string");
        let (policy, store) = text.split_once(':').expect("policy:storeId");
        stores.insert(store.to_string());
        if !OPTIONAL.contains(&policy) {
            policies.insert(policy.to_string());
        }
    }
    assert_eq!(stores.len(), 1, "one store: {permissions:?}");
    let required: BTreeSet<String> = REQUIRED.iter().map(|s| s.to_string()).collect();
    assert_eq!(policies, required, "exactly the required permissions");
    let first = permissions[0].as_str().expect("first");
    first.split_once(':').expect("scoped").1.to_string()
}

/// Verifies a delivery the way the plugin's PHP client does (`sha256=` + lowercase hex
/// HMAC-SHA256 of the raw body, compared whole), in a separate Node.js program.
fn node_verifies(hit: &Hit, secret: &str) -> bool {
    use std::io::Write;
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/greenfield/btcpay-sig.mjs"
    );
    let mut child = std::process::Command::new("node")
        .arg(script)
        .arg(secret)
        .arg(hit.header("btcpay-sig"))
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("node must be installed (scripts/setup.sh)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&hit.body)
        .expect("write body");
    child.wait().expect("verifier").success()
}

/// The BTCPay events the receiver got about `invoice`, in the order they came.
fn events_for(shop: &Receiver, invoice: &str) -> Vec<(String, Hit)> {
    shop.hits()
        .into_iter()
        .map(|h| (h.json(), h))
        .filter(|(b, _)| b["invoiceId"] == invoice)
        .map(|(b, h)| (b["type"].as_str().unwrap_or("").to_string(), h))
        .collect()
}

/// Pairs like WooCommerce; returns (key, store id).
fn pair(d: &Daemon) -> (String, String) {
    let admin = d.admin();
    // The shop's admin page sends the merchant's browser here.
    let mut query: Vec<String> = REQUIRED
        .iter()
        .chain(OPTIONAL.iter())
        .map(|p| format!("permissions={p}"))
        .collect();
    query.extend([
        "applicationName=WooCommerce".into(),
        "strict=true".into(),
        "selectiveStores=true".into(),
        "redirect=https%3A%2F%2Fshop.example%2F%3Fbtcpay-settings-callback".into(),
    ]);
    let url = d.url(&format!("/api-keys/authorize?{}", query.join("&")));
    let no_redirects = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .expect("client");
    // This server shows no dashboard (no --ui-dir, as the desktop app's API): the browser tab
    // gets a page that waits while the app's window shows the request (see the browser
    // journeys for the dashboard's own page).
    let page = no_redirects.get(&url).send().expect("authorize");
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().expect("waiting page");
    let request = html
        .split("data-request=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the request's id")
        .to_string();
    assert!(
        html.contains("not served here"),
        "no window to show it in: {html}"
    );
    let waiting = client()
        .get(d.url(&format!("/api-keys/authorize/{request}")))
        .send()
        .expect("state");
    assert_eq!(waiting.json::<Value>().expect("json")["state"], "waiting");
    // The dashboard's pairing page: what it can grant, then the merchant's approval.
    let info = get(d, "/v1/greenfield", admin);
    assert_eq!(info.status, 200, "{info:?}");
    // The page grants what this shop can (the refunds permission is shown as not granted).
    let grantable: Vec<String> = info.body["permissions"]
        .as_array()
        .expect("grantable")
        .iter()
        .map(|p| p["name"].as_str().expect("name").to_string())
        .collect();
    let asked: Vec<&str> = REQUIRED.iter().chain(OPTIONAL.iter()).copied().collect();
    let kept: Vec<&str> = asked
        .iter()
        .copied()
        .filter(|p| grantable.iter().any(|g| g == p))
        .collect();
    assert_eq!(
        kept.len(),
        5,
        "all but the pull-payment permission: {grantable:?}"
    );
    let approved = post(
        d,
        "/v1/greenfield/pairings",
        admin,
        json!({"application_name": "WooCommerce", "permissions": kept, "selective_stores": true,
               "request": request}),
    );
    assert_eq!(approved.status, 201, "{approved:?}");
    // The waiting tab gets the key once, to post to the shop.
    let handed: Value = client()
        .get(d.url(&format!("/api-keys/authorize/{request}")))
        .send()
        .expect("state")
        .json()
        .expect("json");
    assert_eq!(handed["state"], "approved");
    assert_eq!(handed["apiKey"], approved.body["api_key"]);
    assert_eq!(handed["permissions"], approved.body["permissions"]);
    let again: Value = client()
        .get(d.url(&format!("/api-keys/authorize/{request}")))
        .send()
        .expect("state")
        .json()
        .expect("json");
    assert_eq!(again["state"], "expired", "handed out once");
    let refused = post(
        d,
        "/v1/greenfield/pairings",
        admin,
        json!({"application_name": "WooCommerce", "permissions": asked, "selective_stores": true}),
    );
    assert_eq!(
        (refused.status, refused.code()),
        (400, "invalid_field"),
        "{refused:?}"
    );
    // What the page posts back as `permissions[]`, checked as the plugin checks it.
    let permissions = approved.body["permissions"]
        .as_array()
        .expect("permissions");
    let store = plugin_accepts(permissions);
    assert_eq!(store, info.body["store_id"].as_str().expect("store id"));
    let key = approved.body["api_key"]
        .as_str()
        .expect("api key")
        .to_string();
    // The plugin keeps only [A-Za-z0-9_-] of the key (sanitize_html_class): it must survive.
    assert!(key
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'));
    // `checkApiKeyWorks`: the stores, a non-empty array.
    let stores = gf("GET", &d.url("/api/v1/stores"), &key, None);
    assert_eq!(stores.status, 200, "{stores:?}");
    assert_eq!(stores.body[0]["id"], store.as_str());
    (key, store)
}

#[test]
fn a_woocommerce_shop_pairs_sells_and_learns_of_the_payment() {
    let dir = tempdir();
    let d = Daemon::start(&dir.path().join("shop"), &["sandbox"], true);
    let admin = d.admin().to_string();
    let (key, store) = pair(&d);
    let api = |path: &str| d.url(&format!("/api/v1{path}"));

    // The settings page saved: the key's permissions, the server's version, the webhook, the
    // payment methods.
    let current = gf("GET", &api("/api-keys/current"), &key, None);
    assert_eq!(current.status, 200, "{current:?}");
    assert_eq!(current.body["apiKey"], key.as_str());
    plugin_accepts(current.body["permissions"].as_array().expect("permissions"));
    let info = gf("GET", &api("/server/info"), &key, None);
    assert_eq!(info.status, 200, "{info:?}");
    let version = info.body["version"].as_str().expect("version is a string");
    assert!(version_at_least(version, "1.7.6"), "{version}");
    assert!(info.body["fullySynched"].is_boolean());
    let shop = Receiver::start(200);
    let hook = gf(
        "POST",
        &api(&format!("/stores/{store}/webhooks")),
        &key,
        Some(&json!({
            "enabled": true, "automaticRedelivery": true, "url": shop.url,
            "authorizedEvents": {"everything": false, "specificEvents": [
                "InvoiceReceivedPayment", "InvoicePaymentSettled", "InvoiceProcessing",
                "InvoiceExpired", "InvoiceSettled", "InvoiceInvalid"]}
        })),
    );
    assert_eq!(hook.status, 200, "{hook:?}");
    let hook_id = hook.body["id"].as_str().expect("webhook id").to_string();
    let secret = hook.body["secret"]
        .as_str()
        .expect("generated secret")
        .to_string();
    assert_eq!(hook.body["url"], shop.url.as_str());
    let again = gf(
        "GET",
        &api(&format!("/stores/{store}/webhooks/{hook_id}")),
        &key,
        None,
    );
    assert_eq!((again.status, &again.body["id"]), (200, &json!(hook_id)));
    assert!(
        again.body.get("secret").is_none(),
        "the secret is shown once"
    );
    let methods = gf(
        "GET",
        &api(&format!("/stores/{store}/payment-methods")),
        &key,
        None,
    );
    assert_eq!(methods.status, 200, "{methods:?}");
    assert!(methods
        .body
        .as_array()
        .expect("array")
        .iter()
        .all(|m| m["enabled"].is_boolean()));

    // A customer checks out order 123: the plugin's exact body (SAT mode: BTC with 8 decimals).
    let created = gf(
        "POST",
        &api(&format!("/stores/{store}/invoices")),
        &key,
        Some(&json!({
            "amount": "0.00012345", "currency": "BTC",
            "metadata": {"buyerEmail": "ana@example.org", "taxIncluded": 0,
                "posData": "{\"WooCommerce\":{\"Order ID\":123}}",
                "orderUrl": "https://shop.example/wp-admin/post.php?post=123&action=edit",
                "orderId": "123"},
            "checkout": {"speedPolicy": null, "paymentMethods": null, "expirationMinutes": null,
                "monitoringMinutes": null, "paymentTolerance": null,
                "redirectURL": "https://shop.example/checkout/order-received/123/",
                "redirectAutomatically": null, "defaultLanguage": null}
        })),
    );
    assert_eq!(created.status, 200, "{created:?}");
    let invoice = created.body["id"].as_str().expect("id").to_string();
    assert_eq!(
        created.body["checkoutLink"],
        d.url(&format!("/i/{invoice}")).as_str(),
        "the plugin also builds {{base}}/i/{{id}} itself"
    );
    assert_eq!(created.body["status"], "New");
    assert_eq!(created.body["amount"], "0.00012345");
    // The same invoice through our own API, with the order id as its external id.
    let ours = get(&d, &format!("/v1/lightning/invoices/{invoice}"), &admin);
    assert_eq!(ours.body["amount"], 12_345);
    assert_eq!(ours.body["external_id"], "123");
    // The customer's page.
    let page = client()
        .get(d.url(&format!("/i/{invoice}")))
        .send()
        .expect("checkout page");
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().expect("html");
    assert!(
        html.contains("12,345 sats") && html.contains("Order 123"),
        "{html}"
    );

    // The customer pays the Lightning invoice the payment methods give.
    let methods = gf(
        "GET",
        &api(&format!(
            "/stores/{store}/invoices/{invoice}/payment-methods"
        )),
        &key,
        None,
    );
    let ln = methods
        .body
        .as_array()
        .expect("methods")
        .iter()
        .find(|m| m["paymentMethodId"] == "BTC-LN")
        .expect("BTC-LN")
        .clone();
    assert_eq!(ln["amount"], "0.00012345");
    let paid = post(
        &d,
        "/v1/sandbox/pay",
        &admin,
        json!({"payment_request": ln["destination"]}),
    );
    assert_eq!(paid.body["status"], "succeeded", "{paid:?}");

    // The shop learns of it: BTCPay's events, in BTCPay's order, each signed as BTCPay signs.
    let events = wait_for(30, "InvoiceSettled at the shop", || {
        let got = events_for(&shop, &invoice);
        got.iter()
            .any(|(t, _)| t == "InvoiceSettled")
            .then_some(got)
    });
    let types: Vec<&str> = events.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        types,
        [
            "InvoiceReceivedPayment",
            "InvoicePaymentSettled",
            "InvoiceProcessing",
            "InvoiceSettled"
        ]
    );
    for (kind, hit) in &events {
        assert!(
            node_verifies(hit, &secret),
            "{kind}: BTCPay-Sig does not verify"
        );
        assert!(
            !node_verifies(hit, "another secret"),
            "a wrong secret must not verify"
        );
        let body = hit.json();
        assert_eq!(body["storeId"], store.as_str());
        assert_eq!(body["webhookId"], hook_id.as_str());
        assert_eq!(body["metadata"]["orderId"], "123");
        assert_eq!(body["deliveryId"], body["originalDeliveryId"]);
        assert_eq!(body["isRedelivery"], false);
    }
    let received = events[0].1.json();
    assert_eq!(received["afterExpiration"], false);
    assert_eq!(received["payment"]["value"], "0.00012345");
    assert_eq!(events[3].1.json()["manuallyMarked"], false);
    assert_eq!(events[3].1.json()["overPaid"], false);

    // The plugin reads the invoice and its payments back (PHP's typed getters: strings).
    let read = gf(
        "GET",
        &api(&format!("/stores/{store}/invoices/{invoice}")),
        &key,
        None,
    );
    assert_eq!(
        (
            read.body["status"].as_str(),
            read.body["additionalStatus"].as_str()
        ),
        (Some("Settled"), Some("None"))
    );
    let methods = gf(
        "GET",
        &api(&format!(
            "/stores/{store}/invoices/{invoice}/payment-methods"
        )),
        &key,
        None,
    );
    let ln = methods
        .body
        .as_array()
        .expect("methods")
        .iter()
        .find(|m| m["paymentMethodId"] == "BTC-LN")
        .expect("BTC-LN")
        .clone();
    for field in [
        "totalPaid",
        "amount",
        "due",
        "rate",
        "paymentMethodFee",
        "paymentMethodPaid",
    ] {
        assert!(ln[field].is_string(), "{field} must be a string: {ln}");
    }
    assert_eq!(ln["paymentMethodPaid"], "0.00012345");
    assert_eq!(ln["due"], "0");
    let payment = &ln["payments"][0];
    assert!(
        payment["receivedDate"].is_i64() && payment["value"] == "0.00012345",
        "{payment}"
    );
    // The customer's page says Paid, with the way back to the shop.
    let state = client()
        .get(d.url(&format!("/i/{invoice}/status")))
        .send()
        .expect("status");
    let state: Value = state.json().expect("json");
    assert_eq!(
        (state["paid"].as_bool(), state["redirectURL"].as_str()),
        (
            Some(true),
            Some("https://shop.example/checkout/order-received/123/")
        )
    );
    // The listing finds the order by its id.
    let listed = gf(
        "GET",
        &api(&format!(
            "/stores/{store}/invoices?orderId=123&status=Settled"
        )),
        &key,
        None,
    );
    assert_eq!(
        listed.body.as_array().map(|a| a.len()),
        Some(1),
        "{listed:?}"
    );
    // Every answer above, and the bodies the shop received, against BTCPay's own OpenAPI
    // document (tests/greenfield/validate_btcpay.py says which fields are left out, and why).
    let bodies: Vec<Value> = shop.hits().iter().map(Hit::json).collect();
    let deliveries = dir.path().join("deliveries.json");
    std::fs::write(&deliveries, serde_json::to_vec(&bodies).expect("json")).expect("write");
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/greenfield/validate_btcpay.py"
    );
    let checked = std::process::Command::new(venv_python())
        .arg(script)
        .args([&d.url(""), &key, &store, &invoice, &hook_id])
        .arg(&deliveries)
        .status()
        .expect("python from the venv (scripts/setup.sh)");
    assert!(
        checked.success(),
        "answers that BTCPay's OpenAPI document does not allow"
    );
    // The deliveries are in our delivery log too, under the same endpoint.
    let log = get(&d, &format!("/v1/webhooks/{hook_id}/deliveries"), &admin);
    assert_eq!(log.status, 200, "{log:?}");
    assert!(log.body["data"].as_array().expect("deliveries").len() >= 4);
}

#[test]
fn expired_and_invalid_invoices_reach_the_shop_as_btcpay_says_them() {
    let dir = tempdir();
    let d = Daemon::start(&dir.path().join("shop"), &["sandbox"], true);
    let (key, store) = pair(&d);
    let api = |path: &str| d.url(&format!("/api/v1{path}"));
    let shop = Receiver::start(200);
    let hook = gf(
        "POST",
        &api(&format!("/stores/{store}/webhooks")),
        &key,
        Some(&json!({"url": shop.url, "secret": "shop-chosen-secret"})),
    );
    assert_eq!(hook.status, 200, "{hook:?}");
    assert_eq!(hook.body["secret"], "shop-chosen-secret");
    assert_eq!(hook.body["authorizedEvents"]["everything"], true);

    // Expiry: a 3-second invoice.
    let short = gf(
        "POST",
        &api(&format!("/stores/{store}/invoices")),
        &key,
        Some(
            &json!({"amount": "1000", "currency": "SATS", "metadata": {"orderId": "124"},
            "checkout": {"expirationMinutes": 0.05}}),
        ),
    );
    assert_eq!(short.status, 200, "{short:?}");
    let short_id = short.body["id"].as_str().expect("id").to_string();
    let expired = wait_for(30, "InvoiceExpired", || {
        events_for(&shop, &short_id)
            .into_iter()
            .find(|(t, _)| t == "InvoiceExpired")
    });
    assert!(node_verifies(&expired.1, "shop-chosen-secret"));
    assert_eq!(expired.1.json()["partiallyPaid"], false);
    let created_first = events_for(&shop, &short_id);
    assert_eq!(
        created_first[0].0, "InvoiceCreated",
        "everything: InvoiceCreated too"
    );
    let read = gf(
        "GET",
        &api(&format!("/stores/{store}/invoices/{short_id}")),
        &key,
        None,
    );
    assert_eq!(read.body["status"], "Expired");
    assert_eq!(
        read.body["availableStatusesForManualMarking"],
        json!(["Settled", "Invalid"])
    );

    // Invalid: the shop cancels an order; the invoice is marked, the shop is told.
    let open = gf(
        "POST",
        &api(&format!("/stores/{store}/invoices")),
        &key,
        Some(&json!({"amount": "2000", "currency": "SATS", "metadata": {"orderId": "125"}})),
    );
    let open_id = open.body["id"].as_str().expect("id").to_string();
    let marked = gf(
        "POST",
        &api(&format!("/stores/{store}/invoices/{open_id}/status")),
        &key,
        Some(&json!({"status": "Invalid"})),
    );
    assert_eq!(marked.status, 200, "{marked:?}");
    assert_eq!(
        (
            marked.body["status"].as_str(),
            marked.body["additionalStatus"].as_str()
        ),
        (Some("Invalid"), Some("Marked"))
    );
    let invalid = wait_for(30, "InvoiceInvalid", || {
        events_for(&shop, &open_id)
            .into_iter()
            .find(|(t, _)| t == "InvoiceInvalid")
    });
    assert_eq!(invalid.1.json()["manuallyMarked"], true);
    let page = client()
        .get(d.url(&format!("/i/{open_id}")))
        .send()
        .expect("page")
        .text()
        .expect("html");
    assert!(page.contains("This invoice was cancelled"), "{page}");

    // A paid invoice cannot be marked invalid (BTCPay's rule), answered as BTCPay answers.
    let sold = gf(
        "POST",
        &api(&format!("/stores/{store}/invoices")),
        &key,
        Some(&json!({"amount": "3000", "currency": "SATS"})),
    );
    let sold_id = sold.body["id"].as_str().expect("id").to_string();
    let methods = gf(
        "GET",
        &api(&format!(
            "/stores/{store}/invoices/{sold_id}/payment-methods"
        )),
        &key,
        None,
    );
    let bolt11 = methods
        .body
        .as_array()
        .expect("methods")
        .iter()
        .find(|m| m["paymentMethodId"] == "BTC-LN")
        .expect("ln")["destination"]
        .clone();
    let paid = post(
        &d,
        "/v1/sandbox/pay",
        d.admin(),
        json!({"payment_request": bolt11}),
    );
    assert_eq!(paid.body["status"], "succeeded", "{paid:?}");
    wait_for(30, "settled", || {
        let i = gf(
            "GET",
            &api(&format!("/stores/{store}/invoices/{sold_id}")),
            &key,
            None,
        );
        (i.body["status"] == "Settled").then_some(())
    });
    let refused = gf(
        "POST",
        &api(&format!("/stores/{store}/invoices/{sold_id}/status")),
        &key,
        Some(&json!({"status": "Invalid"})),
    );
    assert_eq!(refused.status, 422, "{refused:?}");
    assert_eq!(refused.body[0]["path"], "status");

    // BTCPay's error shapes, each with a message a person can act on.
    let missing = gf(
        "GET",
        &api(&format!("/stores/{store}/invoices/inv_nope")),
        &key,
        None,
    );
    assert_eq!(
        (missing.status, missing.body["code"].as_str()),
        (404, Some("invoice-not-found"))
    );
    let other_store = gf("GET", &api("/stores/NotThisStore/invoices"), &key, None);
    assert_eq!(
        (other_store.status, other_store.body["code"].as_str()),
        (404, Some("store-not-found"))
    );
    let bad_key = gf(
        "GET",
        &api("/stores"),
        "pk_aaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
        None,
    );
    assert_eq!(
        (bad_key.status, bad_key.body["code"].as_str()),
        (401, Some("unauthenticated"))
    );
    let counter = receive_key(&d, d.admin());
    let forbidden = gf(
        "GET",
        &api(&format!("/stores/{store}/invoices")),
        &counter,
        None,
    );
    assert_eq!(forbidden.status, 403, "{forbidden:?}");
    assert_eq!(
        forbidden.body["missingPermission"],
        "btcpay.store.canviewinvoices"
    );
    let unsupported = gf(
        "POST",
        &api(&format!("/stores/{store}/pull-payments")),
        &key,
        Some(&json!({})),
    );
    assert_eq!(
        (unsupported.status, unsupported.body["code"].as_str()),
        (404, Some("not-supported"))
    );
    assert!(unsupported.body["message"]
        .as_str()
        .unwrap_or("")
        .contains("not supported by PayAiML"));
    let bad_amount = gf(
        "POST",
        &api(&format!("/stores/{store}/invoices")),
        &key,
        Some(&json!({"amount": "1.5", "currency": "SATS"})),
    );
    assert_eq!(
        (bad_amount.status, bad_amount.body[0]["path"].as_str()),
        (422, Some("amount"))
    );
    let bad_currency = gf(
        "POST",
        &api(&format!("/stores/{store}/invoices")),
        &key,
        Some(&json!({"amount": "5", "currency": "DOGE"})),
    );
    assert_eq!(
        (bad_currency.status, bad_currency.body[0]["path"].as_str()),
        (422, Some("currency"))
    );

    // A pairing refused in the app's window: nothing is made, the waiting tab is told.
    let keys_before = get(&d, "/v1/keys", d.admin()).body["data"]
        .as_array()
        .map(Vec::len);
    let page = client()
        .get(d.url("/api-keys/authorize?permissions=btcpay.store.canviewinvoices&applicationName=Odoo&redirect=https%3A%2F%2Fshop.example%2Fcb"))
        .send()
        .expect("authorize")
        .text()
        .expect("html");
    let request = page
        .split("data-request=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("id")
        .to_string();
    let refused = post(
        &d,
        &format!("/v1/greenfield/pairings/{request}/refuse"),
        d.admin(),
        json!({}),
    );
    assert_eq!(refused.status, 200, "{refused:?}");
    let told: Value = client()
        .get(d.url(&format!("/api-keys/authorize/{request}")))
        .send()
        .expect("state")
        .json()
        .expect("json");
    assert_eq!(told["state"], "refused");
    let late = post(
        &d,
        "/v1/greenfield/pairings",
        d.admin(),
        json!({"application_name": "Odoo", "permissions": ["btcpay.store.canviewinvoices"], "request": request}),
    );
    assert_eq!(
        late.status, 404,
        "a refused request cannot be approved: {late:?}"
    );
    assert_eq!(
        get(&d, "/v1/keys", d.admin()).body["data"]
            .as_array()
            .map(Vec::len),
        keys_before
    );

    // Revoked in the dashboard, the plugin's key stops at once.
    let keys = get(&d, "/v1/keys", d.admin());
    let paired = keys.body["data"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["name"] == "WooCommerce (BTCPay-compatible)")
        .expect("paired key listed")
        .clone();
    let revoked = call(
        "DELETE",
        &d.url(&format!("/v1/keys/{}", paired["id"].as_str().expect("id"))),
        Some(d.admin()),
        None,
    );
    assert!(revoked.status < 300, "{revoked:?}");
    std::thread::sleep(Duration::from_millis(100));
    let after = gf("GET", &api("/stores"), &key, None);
    assert_eq!(
        (after.status, after.body["code"].as_str()),
        (401, Some("unauthenticated"))
    );
}

/// BTCPay's generated Node.js client (npm `btcpay-greenfield-node-client`, made from BTCPay's
/// OpenAPI document) makes every call of the subset it offers against the sandbox.
#[test]
fn btcpays_node_client_works_against_the_sandbox() {
    let dir = tempdir();
    let d = Daemon::start(&dir.path().join("shop"), &["sandbox"], true);
    let (key, store) = pair(&d);
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/greenfield/client/run.cjs"
    );
    let out = std::process::Command::new("node")
        .arg(script)
        .env("BASE_URL", d.url(""))
        .env("API_KEY", &key)
        .env("STORE_ID", &store)
        .output()
        .expect("node must be installed (scripts/setup.sh)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read: Value = serde_json::from_slice(&out.stdout).expect("the client's summary");
    assert_eq!(read["stores"], json!([store]));
    assert_eq!(read["created"]["status"], "New");
    assert_eq!(read["created"]["amount"], "1500");
    let id = read["created"]["id"].as_str().expect("id");
    assert_eq!(read["read"], "New");
    assert!(read["listed"]
        .as_array()
        .expect("list")
        .iter()
        .any(|i| i == id));
    assert_eq!(read["methods"][0]["id"], "BTC-CHAIN");
    assert_eq!(read["methods"][1]["id"], "BTC-LN");
    assert_eq!(read["methods"][1]["due"], "0.000015");
    assert_eq!(read["marked"], "Invalid");
    assert_eq!(read["hook"]["secret"], "node-secret");
    assert_eq!(
        read["changed"],
        json!({"url": "https://shop.example/hook2", "enabled": false})
    );
    assert_eq!(read["got"], "https://shop.example/hook2");
    assert_eq!(read["afterDelete"], json!([]));
}

/// btcpay-python-sdk (PyPI): create, read, list, payment methods and marking, through its
/// own URLs (`…/invoices/` with a trailing slash, a lower-case status).
#[test]
fn the_python_sdk_works_against_the_sandbox() {
    let dir = tempdir();
    let d = Daemon::start(&dir.path().join("shop"), &["sandbox"], true);
    let (key, store) = pair(&d);
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/greenfield/python_sdk.py"
    );
    let out = std::process::Command::new(venv_python())
        .arg(script)
        .args([&d.url(""), &key, &store])
        .output()
        .expect("python from the venv (scripts/setup.sh)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read: Value = serde_json::from_slice(&out.stdout).expect("the client's summary");
    assert_eq!(read["created"]["status"], "New");
    assert_eq!(read["created"]["amount"], "2100");
    assert_eq!(read["read"], "New");
    assert_eq!(read["methods"], json!(["BTC-CHAIN", "BTC-LN"]));
    let id = read["created"]["id"].as_str().expect("id");
    assert!(read["listed"]
        .as_array()
        .expect("list")
        .iter()
        .any(|i| i == id));
    assert_eq!(read["marked"], "Invalid");
}

/// `a >= b` for dotted versions, as PHP's version_compare reads them here.
fn version_at_least(a: &str, b: &str) -> bool {
    let parse = |v: &str| -> Vec<u64> { v.split('.').map(|p| p.parse().unwrap_or(0)).collect() };
    parse(a) >= parse(b)
}
