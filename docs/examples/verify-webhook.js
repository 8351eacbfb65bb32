// Verifying a PayAiML Merchant webhook in Node.js (no dependencies).
//
// Verify the RAW body, before any JSON parsing: the signature covers the exact bytes.
// With Express:
//
//   app.post('/webhook/lightning', express.raw({ type: 'application/json' }), (req, res) => {
//     if (!verify(process.env.PAYAIML_WEBHOOK_SECRET, req.get('PayAiML-Signature') || '', req.body)) {
//       return res.status(400).send('bad signature');
//     }
//     const event = JSON.parse(req.body);
//     // Dedupe on event.id (also in the PayAiML-Event-Id header): delivery is at least once.
//     if (event.event === 'payment.received' && event.status === 'paid') {
//       console.log(`Payment received: ${event.amount} sats for ${event.invoice_id}`);
//     }
//     res.status(200).send('OK');
//   });
//
// Run directly, it checks one request: node verify-webhook.js <secret> <signature header> < body
// (exit 0 valid, 1 invalid); the test suite uses that against real deliveries.

const crypto = require('crypto');

function verify(secret, header, rawBody, toleranceSecs = 300) {
  const parts = header.split(',').map((p) => p.trim().split('='));
  const t = Number(parts.find(([k]) => k === 't')?.[1]);
  if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > toleranceSecs) return false;
  const expected = crypto.createHmac('sha256', secret).update(`${t}.`).update(rawBody).digest();
  return parts
    .filter(([k]) => k === 'v1')
    .some(([, v]) => {
      const got = Buffer.from(v, 'hex');
      return got.length === expected.length && crypto.timingSafeEqual(got, expected);
    });
}

module.exports = { verify };

if (require.main === module) {
  const chunks = [];
  process.stdin.on('data', (c) => chunks.push(c));
  process.stdin.on('end', () => {
    process.exit(verify(process.argv[2], process.argv[3], Buffer.concat(chunks)) ? 0 : 1);
  });
}
