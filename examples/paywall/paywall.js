// A content paywall: an article costs a few sats; the reader's browser gets an invoice (402),
// pays it, and asks again with the invoice id; the server checks with PayAiML that it is paid.

import { createServer } from 'node:http';
import { LightningClient } from '@payaiml/lightning-js';

const ARTICLES = {
  lightning: { title: 'Why Lightning', price: 21, body: 'Payments settle in a second, for a fraction of a cent.' },
};

export function createPaywall({ apiKey, baseUrl }) {
  const client = new LightningClient(apiKey, { baseUrl });
  return createServer(async (req, res) => {
    const url = new URL(req.url, 'http://paywall');
    const slug = url.pathname.replace(/^\/articles\//, '');
    const article = ARTICLES[slug];
    const send = (status, body) => { res.writeHead(status, { 'Content-Type': 'application/json' }); res.end(JSON.stringify(body)); };
    if (!article) return send(404, { error: 'no such article' });
    try {
      const invoiceId = url.searchParams.get('invoice');
      if (invoiceId) {
        const invoice = await client.getInvoice(invoiceId);
        // The invoice must be for this article, and paid.
        if (invoice.status === 'paid' && invoice.metadata?.article === slug) {
          return send(200, { title: article.title, body: article.body });
        }
        return send(402, { error: `not paid yet (${invoice.status})`, payment_request: invoice.payment_request, invoice: invoice.id });
      }
      const invoice = await client.createInvoice({
        amount: article.price, description: `Read "${article.title}"`, expiry: 900, metadata: { article: slug },
      });
      send(402, { price: article.price, payment_request: invoice.payment_request, invoice: invoice.id });
    } catch (e) {
      send(502, { error: e.message, code: e.code });
    }
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.env.PORT ?? 8081);
  createPaywall({ apiKey: process.env.PAYAIML_API_KEY }).listen(port, '127.0.0.1', () => console.log(`paywall on http://127.0.0.1:${port}/articles/lightning`));
}
