"""Drives the Greenfield-compatible API with btcpay-python-sdk (PyPI, MIT): the invoice calls it
offers, as a Python shop integration would make them. Prints one JSON object of what it read.
Usage: python_sdk.py BASE_URL API_KEY STORE_ID
"""

import json
import sys

import btcpay
from btcpay import Invoices

base, key, store = sys.argv[1:4]
btcpay.host_url = base.rstrip("/") + "/"
btcpay.api_key = key
btcpay.store_id = store

made = Invoices.create_invoice(amount="2100", currency="SATS",
                               metadata={"orderId": "py-1", "itemDesc": "Tea"},
                               checkout={"redirectURL": "https://shop.example/thanks"})
out = {"created": {"id": made["id"], "status": made["status"], "amount": made["amount"]}}
out["read"] = Invoices.get_invoice(made["id"])["status"]
methods = Invoices.get_invoice_payment_methods(made["id"])
out["methods"] = [m["paymentMethodId"] for m in methods]
out["listed"] = [i["id"] for i in Invoices.get_invoices()]
out["marked"] = Invoices.mark_invoice_status(made["id"], "invalid")["status"]
print(json.dumps(out))
