// Verifies a BTCPay webhook delivery exactly as BTCPay's PHP client does
// (Webhook::isIncomingWebhookRequestValid: hash_equals('sha256=' . hash_hmac('sha256', $body,
// $secret), $header)), independently of the server's own code.
// Usage: node btcpay-sig.mjs <secret> <BTCPay-Sig header> < raw body; exit 0 when valid.
import { createHmac, timingSafeEqual } from 'node:crypto';

const [secret, header] = process.argv.slice(2);
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const body = Buffer.concat(chunks);
const expected = Buffer.from('sha256=' + createHmac('sha256', secret).update(body).digest('hex'));
const given = Buffer.from(header ?? '');
process.exit(expected.length === given.length && timingSafeEqual(expected, given) ? 0 : 1);
