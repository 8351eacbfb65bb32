// Charging per API call: a call carries the payment hash of a paid invoice (header
// `X-Payment-Hash`); the server checks with PayAiML that it is paid and not used before, then
// serves. Without one, it answers 402 with a fresh invoice for the call.

import { createServer } from 'node:http';
import { LightningClient } from '@payaiml/lightning-js';

const PRICE = 5;

export function createApi({ apiKey, baseUrl }) {
  const client = new LightningClient(apiKey, { baseUrl });
  const spent = new Set(); // payment hashes already used (use your database)
  return createServer(async (req, res) => {
    const send = (status, body) => { res.writeHead(status, { 'Content-Type': 'application/json' }); res.end(JSON.stringify(body)); };
    try {
      const hash = req.headers['x-payment-hash'];
      if (!hash) {
        const invoice = await client.createInvoice({ amount: PRICE, description: 'One API call', expiry: 600, metadata: { api: 'quote' } });
        return send(402, { price: PRICE, payment_request: invoice.payment_request, payment_hash: invoice.payment_hash });
      }
      if (spent.has(hash)) return send(402, { error: 'this payment was already used for a call' });
      const invoice = await client.getInvoice(String(hash)).catch(() => null);
      if (!invoice || invoice.status !== 'paid' || invoice.metadata?.api !== 'quote') {
        return send(402, { error: 'no paid invoice for this API with that payment hash' });
      }
      spent.add(hash);
      send(200, { quote: 'Stay humble, stack sats.', paid: invoice.amount_received });
    } catch (e) {
      send(502, { error: e.message, code: e.code });
    }
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.env.PORT ?? 8082);
  createApi({ apiKey: process.env.PAYAIML_API_KEY }).listen(port, '127.0.0.1', () => console.log(`API on http://127.0.0.1:${port}/quote`));
}
