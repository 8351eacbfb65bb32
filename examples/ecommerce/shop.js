// An online shop: checkout creates a Lightning invoice for the order; the order is fulfilled by
// the signed `payment.received` webhook (verified, and deduplicated by event id), never by the
// browser saying "I paid".

import express from 'express';
import { LightningClient, verifyWebhook } from '@payaiml/lightning-js';

export function createShop({ apiKey, webhookSecret, baseUrl }) {
  const client = new LightningClient(apiKey, { baseUrl });
  const orders = new Map(); // order id → { id, items, amount, status, invoice_id }
  const seenEvents = new Set(); // use your database: delivery is at least once
  const app = express();

  app.post('/checkout', express.json(), async (req, res) => {
    const items = req.body?.items ?? [];
    const amount = items.reduce((sum, item) => sum + item.price * (item.quantity ?? 1), 0);
    if (amount <= 0) return res.status(400).json({ error: 'the cart is empty' });
    const id = `order-${orders.size + 1}`;
    try {
      const invoice = await client.createInvoice(
        { amount, description: `Order ${id}`, external_id: id },
        { idempotencyKey: `checkout-${id}` },
      );
      orders.set(id, { id, items, amount, status: 'awaiting payment', invoice_id: invoice.id });
      res.status(201).json({ order_id: id, amount, payment_request: invoice.payment_request });
    } catch (e) {
      res.status(502).json({ error: e.message, code: e.code });
    }
  });

  // The public document's handler, with verification and dedup added.
  app.post('/webhook/lightning', express.raw({ type: 'application/json' }), (req, res) => {
    let event;
    try {
      event = verifyWebhook(req.body, req.get('PayAiML-Signature'), webhookSecret);
    } catch (e) {
      return res.status(400).send(e.message);
    }
    if (seenEvents.has(event.id)) return res.status(200).send('OK (already handled)');
    seenEvents.add(event.id);
    const { invoice_id, status, amount } = event;
    if (event.event === 'payment.received' && status === 'paid') {
      const order = [...orders.values()].find((o) => o.invoice_id === invoice_id);
      if (order) {
        order.status = 'paid — shipping';
        console.log(`Payment received: ${amount} sats for ${order.id}`);
      }
    }
    res.status(200).send('OK');
  });

  app.get('/orders/:id', (req, res) => {
    const order = orders.get(req.params.id);
    return order ? res.json(order) : res.status(404).json({ error: 'no such order' });
  });

  return app;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.env.PORT ?? 8080);
  createShop({ apiKey: process.env.PAYAIML_API_KEY, webhookSecret: process.env.PAYAIML_WEBHOOK_SECRET })
    .listen(port, '127.0.0.1', () => console.log(`shop on http://127.0.0.1:${port}`));
}
