"""Verifies a PayAiML webhook with the official Standard Webhooks package for Python, as a shop
would: python3 verify.py <secret> <webhook-id> <webhook-timestamp> <webhook-signature> < body
Exit 0 when valid, 1 when not (the reason on stderr)."""
import sys

from standardwebhooks import Webhook

secret, msg_id, timestamp, signature = sys.argv[1:5]
body = sys.stdin.buffer.read()
try:
    event = Webhook(secret).verify(
        body,
        {"webhook-id": msg_id, "webhook-timestamp": timestamp, "webhook-signature": signature},
    )
    print(f"valid: {event['event']}")
except Exception as e:  # the package raises ValueError too for malformed headers
    print(f"invalid: {e}", file=sys.stderr)
    sys.exit(1)
