"""Verifying a PayAiML Merchant webhook in Python (standard library only).

Verify the RAW body, before any JSON parsing: the signature covers the exact bytes. With Flask:

    @app.post("/webhook/lightning")
    def lightning():
        if not verify(SECRET, request.headers.get("PayAiML-Signature", ""), request.get_data()):
            abort(400)
        event = request.get_json()
        # Dedupe on event["id"] (also the PayAiML-Event-Id header): delivery is at least once.
        if event["event"] == "payment.received" and event["status"] == "paid":
            fulfil(event["invoice_id"], event["amount"])
        return "OK"

Run directly, it checks one request: python3 verify_webhook.py <secret> <signature header> < body
(exit 0 valid, 1 invalid); the test suite uses that against real deliveries.
"""

import hashlib
import hmac
import sys
import time


def verify(secret: str, header: str, raw_body: bytes, tolerance: int = 300) -> bool:
    parts = [p.strip().split("=", 1) for p in header.split(",") if "=" in p]
    t = next((v for k, v in parts if k == "t"), "")
    if not t.isdigit() or abs(time.time() - int(t)) > tolerance:
        return False
    expected = hmac.new(secret.encode(), t.encode() + b"." + raw_body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, v) for k, v in parts if k == "v1")


if __name__ == "__main__":
    sys.exit(0 if verify(sys.argv[1], sys.argv[2], sys.stdin.buffer.read()) else 1)
