"""Checks the Greenfield-compatible API's answers against BTCPay Server's own OpenAPI document
(the fragments in btcpay-openapi/, MIT-licensed, from btcpayserver/btcpayserver), with
jsonschema_rs: every 200 of the subset, the error bodies, and the webhook bodies a shop
received. For each top-level object it also lists the documented fields the answer leaves out,
and fails when one is left out that docs/api.md does not say is left out (LEFT_OUT below).

Usage: validate_btcpay.py BASE_URL TOKEN STORE_ID INVOICE_ID WEBHOOK_ID DELIVERIES.json
"""

import glob
import json
import os
import sys
import urllib.request

import jsonschema_rs

HERE = os.path.dirname(os.path.abspath(__file__))

# Documented fields the answers leave out, by schema, and why (docs/api.md repeats these).
LEFT_OUT = {
    # Branding, POS and wallet settings of a BTCPay store that this shop does not have.
    "StoreData": {"brandColor", "applyBrandColorToBackend", "cssUrl", "logoUrl", "paymentSoundUrl",
                  "supportUrl", "defaultPaymentMethod", "networkFeeMode", "additionalTrackedRates",
                  "receipt", "lightningAmountInSatoshi", "lightningPrivateRouteHints",
                  "onChainWithLnInvoiceFallback", "redirectAutomatically", "lazyPaymentMethods",
                  "showRecommendedFee", "recommendedFeeBlockTarget", "defaultLang",
                  "displayExpirationTimer", "refundBOLT11Expiration", "htmlTitle",
                  "lightningDescriptionTemplate", "payJoinEnabled", "autoDetectLanguage",
                  "showPayInWalletButton", "showStoreHeader", "celebratePayment",
                  "playSoundOnPayment", "paymentMethodCriteria", "spread", "preferredExchange",
                  "isCustomScript", "effectiveScript", "script"},
    # Payment methods are fetched apart (…/payment-methods), as the plugins do.
    "InvoiceData": {"paymentMethods", "paidAmount"},
}


def load():
    doc = {"paths": {}, "components": {"schemas": {}}, "x-webhooks": {}}
    for path in sorted(glob.glob(os.path.join(HERE, "btcpay-openapi", "*.json"))):
        with open(path, encoding="utf-8") as f:
            part = json.load(f)
        doc["paths"].update(part.get("paths", {}))
        doc["x-webhooks"].update(part.get("x-webhooks", {}))
        doc["components"]["schemas"].update(part.get("components", {}).get("schemas", {}))
    return doc


def nullable(schema):
    """OpenAPI 3.0's `nullable: true` as JSON Schema: null allowed beside the type. Also drops
    `additionalProperties: false`: BTCPay's document composes objects with allOf, where JSON
    Schema applies it to each part alone, so BTCPay's own answers would fail it."""
    if isinstance(schema, list):
        return [nullable(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: nullable(v) for k, v in schema.items()
           if k != "nullable" and not (k == "additionalProperties" and v is False)}
    if schema.get("nullable") is True:
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


DOC = load()
SCHEMAS = nullable(DOC["components"]["schemas"])
FAILURES = []


def validator(schema):
    return jsonschema_rs.Draft7Validator({**schema, "components": {"schemas": SCHEMAS}})


def response_schema(path, method, status="200"):
    op = DOC["paths"][path][method]
    return nullable(op["responses"][status]["content"]["application/json"]["schema"])


def properties(name, seen=None):
    """Every property a schema documents, through allOf."""
    seen = seen or set()
    if name in seen or name not in DOC["components"]["schemas"]:
        return set()
    seen.add(name)
    schema = DOC["components"]["schemas"][name]
    out = set(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        if "$ref" in part:
            out |= properties(part["$ref"].split("/")[-1], seen)
        out |= set(part.get("properties", {}))
    return out


def check(label, schema, value, fields_of=None):
    errors = [f"{e.instance_path}: {e.message}" for e in validator(schema).iter_errors(value)]
    if errors:
        FAILURES.append(f"{label}: {errors[:5]}")
    print(f"{'FAIL' if errors else 'ok  '} {label}")
    if fields_of:
        objects = value if isinstance(value, list) else [value]
        for obj in objects[:1]:
            missing = properties(fields_of) - set(obj) - LEFT_OUT.get(fields_of, set())
            if missing:
                FAILURES.append(f"{label}: leaves out documented fields {sorted(missing)}")
            print(f"     {fields_of}: fills {len(set(obj) & properties(fields_of))} of "
                  f"{len(properties(fields_of))} documented fields")


def call(method, url, token, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={
        "Authorization": f"token {token}", "Content-Type": "application/json",
        "Accept": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            return res.status, json.loads(res.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def main():
    base, token, store, invoice, webhook, deliveries = sys.argv[1:7]
    api = base.rstrip("/") + "/api/v1"
    reads = [
        ("server info", f"{api}/server/info", "/api/v1/server/info", None),
        ("current key", f"{api}/api-keys/current", "/api/v1/api-keys/current", None),
        ("stores", f"{api}/stores", "/api/v1/stores", "StoreData"),
        ("store", f"{api}/stores/{store}", "/api/v1/stores/{storeId}", "StoreData"),
        ("store payment methods", f"{api}/stores/{store}/payment-methods",
         "/api/v1/stores/{storeId}/payment-methods", None),
        ("invoices", f"{api}/stores/{store}/invoices", "/api/v1/stores/{storeId}/invoices", "InvoiceData"),
        ("invoice", f"{api}/stores/{store}/invoices/{invoice}", "/api/v1/invoices/{invoiceId}", "InvoiceData"),
        ("invoice payment methods", f"{api}/stores/{store}/invoices/{invoice}/payment-methods",
         "/api/v1/invoices/{invoiceId}/payment-methods", None),
        ("webhooks", f"{api}/stores/{store}/webhooks", "/api/v1/stores/{storeId}/webhooks", None),
        ("webhook", f"{api}/stores/{store}/webhooks/{webhook}", "/api/v1/webhooks/{webhookId}", None),
    ]
    for label, url, path, fields in reads:
        status, body = call("GET", url, token)
        if status != 200:
            FAILURES.append(f"{label}: HTTP {status} {body}")
            continue
        check(label, response_schema(path, "get"), body, fields)
    status, made = call("POST", f"{api}/stores/{store}/invoices", token,
                        {"amount": "1234", "currency": "SATS", "metadata": {"orderId": "schema-1"}})
    check("create invoice", response_schema("/api/v1/stores/{storeId}/invoices", "post"), made, "InvoiceData")
    status, marked = call("POST", f"{api}/stores/{store}/invoices/{made['id']}/status", token, {"status": "Invalid"})
    check("mark invoice", response_schema("/api/v1/invoices/{invoiceId}/status", "post"), marked)
    status, hook = call("POST", f"{api}/stores/{store}/webhooks", token, {"url": "https://shop.example/hook"})
    check("create webhook", response_schema("/api/v1/stores/{storeId}/webhooks", "post"), hook)
    status, changed = call("PUT", f"{api}/stores/{store}/webhooks/{hook['id']}", token,
                           {"url": "https://shop.example/hook2", "enabled": False})
    check("update webhook", response_schema("/api/v1/webhooks/{webhookId}", "put"), changed)
    call("DELETE", f"{api}/stores/{store}/webhooks/{hook['id']}", token)
    # Error bodies: BTCPay's ProblemDetails and ValidationProblemDetails.
    problem = {"$ref": "#/components/schemas/ProblemDetails"}
    status, body = call("GET", f"{api}/stores/{store}/invoices/inv_missing", token)
    check(f"error {status}", problem, body)
    status, body = call("POST", f"{api}/stores/{store}/invoices", token, {"amount": "x"})
    check(f"error {status}", {"$ref": "#/components/schemas/ValidationProblemDetails"}, body)
    # The webhook bodies the shop received, each against its event's schema.
    with open(deliveries, encoding="utf-8") as f:
        for body in json.load(f):
            kind = body.get("type")
            hook = DOC["x-webhooks"].get(kind)
            if not hook:
                FAILURES.append(f"webhook {kind}: not a documented event")
                continue
            schema = nullable(hook["post"]["requestBody"]["content"]["application/json"]["schema"])
            check(f"webhook {kind}", schema, body)
    if FAILURES:
        print("\n".join(FAILURES), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
