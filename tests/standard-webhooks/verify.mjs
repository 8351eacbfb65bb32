// Verifies a PayAiML webhook with the official Standard Webhooks package for JavaScript, as a
// shop would: node verify.mjs <secret> <webhook-id> <webhook-timestamp> <webhook-signature> < body
// Exit 0 when valid, 1 when not (the reason on stderr).
import { Webhook } from 'standardwebhooks';

const [secret, id, timestamp, signature] = process.argv.slice(2);
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const body = Buffer.concat(chunks).toString('utf8');
try {
  const event = new Webhook(secret).verify(body, {
    'webhook-id': id,
    'webhook-timestamp': timestamp,
    'webhook-signature': signature,
  });
  console.log(`valid: ${event.event}`);
} catch (e) {
  console.error(`invalid: ${e.message}`);
  process.exit(1);
}
