// The SDK against a real `payaimld sandbox`: the seed's example from an `npm pack` tarball
// installed into an empty folder, every method with its errors, webhook verification on real
// deliveries, and the event stream across a server restart.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { call, receiver, startSandbox } from '../../../tests/browser/harness.mjs';
import { LightningApiError, LightningClient, verifyWebhook, WebhookVerificationError } from '../dist/esm/index.js';

const sdkDir = join(dirname(fileURLToPath(import.meta.url)), '..');
let sandbox;
let listen;

async function freePort() {
  const server = createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

before(async () => {
  listen = `127.0.0.1:${await freePort()}`;
  sandbox = await startSandbox({ listen });
});
after(async () => { await sandbox?.stop(); });

const payFromCustomer = (pr) => call(sandbox.api, sandbox.admin, 'POST', '/v1/sandbox/pay', { payment_request: pr });

test('the seed example runs from the npm pack tarball installed in an empty folder', async () => {
  const packed = execFileSync('npm', ['pack', '--silent', '--pack-destination', tmpdir()], { cwd: sdkDir }).toString().trim().split('\n').pop();
  const app = mkdtempSync(join(tmpdir(), 'payaiml-sdk-app-'));
  writeFileSync(join(app, 'package.json'), '{"type":"module","private":true}');
  // Offline, so the test reaches nothing but 127.0.0.1: the SDK's one dependency (`ws`) comes as a
  // tarball packed from the SDK's own node_modules, since a fresh npm cache has no registry
  // metadata to resolve it from.
  const ws = execFileSync('npm', ['pack', '--silent', '--pack-destination', tmpdir(), join(sdkDir, 'node_modules', 'ws')]).toString().trim().split('\n').pop();
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error', join(tmpdir(), ws), join(tmpdir(), packed)], { cwd: app });
  // The public document's example, with a real key in place of 'your-api-key'.
  const seed = `import { LightningClient } from '@payaiml/lightning-js';

const client = new LightningClient('${sandbox.admin}');

// Create invoice
const invoice = await client.createInvoice({
  amount: 1000,
  description: 'Coffee payment'
});

console.log(invoice.payment_request);
`;
  writeFileSync(join(app, 'seed.mjs'), seed);
  const out = execFileSync('node', ['seed.mjs'], { cwd: app, env: { ...process.env, PAYAIML_BASE_URL: sandbox.api } }).toString().trim();
  assert.match(out, /^lnbcrt10u1/);
  assert.equal((await payFromCustomer(out)).body.status, 'succeeded');
  // CommonJS consumers get the same API.
  writeFileSync(join(app, 'cjs.cjs'), "const { LightningClient } = require('@payaiml/lightning-js'); console.log(typeof LightningClient);");
  assert.equal(execFileSync('node', ['cjs.cjs'], { cwd: app }).toString().trim(), 'function');
});

test('every method against the live server, errors included', async () => {
  const client = new LightningClient(sandbox.admin, { baseUrl: sandbox.api });
  const invoice = await client.createInvoice({ amount: 1500, description: 'SDK order', external_id: 'order-1' }, { idempotencyKey: 'sdk-order-1' });
  const again = await client.createInvoice({ amount: 1500, description: 'SDK order', external_id: 'order-1' }, { idempotencyKey: 'sdk-order-1' });
  assert.equal(again.id, invoice.id, 'same Idempotency-Key, same invoice');
  assert.equal((await client.getInvoice(invoice.payment_hash)).id, invoice.id);
  await payFromCustomer(invoice.payment_request);
  assert.equal((await client.getInvoice(invoice.id)).status, 'paid');
  const listed = [];
  for await (const inv of client.listInvoices({ status: 'paid', pageSize: 1 })) listed.push(inv.id);
  assert.ok(listed.includes(invoice.id) && listed.length >= 2, `paged through ${listed.length} paid invoices`);

  const customer = await call(sandbox.api, sandbox.admin, 'POST', '/v1/sandbox/invoice', { amount: 700, description: 'from the SDK' });
  const paid = await client.payInvoice(customer.body.payment_request);
  assert.equal(paid.status, 'succeeded');
  assert.equal((await client.getPayment(paid.id)).preimage, paid.preimage);
  const payments = [];
  for await (const p of client.listPayments()) payments.push(p.id);
  assert.ok(payments.includes(paid.id));
  const twice = await client.payInvoice(customer.body.payment_request).catch((e) => e);
  assert.ok(twice instanceof LightningApiError);
  assert.equal(twice.code, 'duplicate_payment');

  assert.equal((await client.health()).status, 'ok');
  const decoded = await client.decodeInvoice(customer.body.payment_request);
  assert.equal(decoded.amount, 700);
  assert.match(await client.invoiceQrSvg(invoice.id), /<svg/);
  const balance = await client.getBalance();
  assert.ok(balance.lightning.total > 0);

  const key = await client.createKey({ name: 'sdk', permissions: ['lightning:read'] });
  assert.ok((await client.listKeys()).some((k) => k.id === key.id));
  const reader = new LightningClient(key.secret, { baseUrl: sandbox.api });
  await reader.getBalance();
  const denied = await reader.createInvoice({ amount: 1, description: 'x' }).catch((e) => e);
  assert.equal(denied.status, 403);
  assert.equal(denied.code, 'missing_permission');
  await client.revokeKey(key.id);
  const revoked = await reader.getBalance().catch((e) => e);
  assert.equal(revoked.code, 'revoked_api_key');

  const bad = await client.createInvoice({ amount: -5, description: 'x' }).catch((e) => e);
  assert.equal(bad.status, 422);
  assert.equal(bad.field, 'amount');
  const stranger = await new LightningClient('pk_nope_nope', { baseUrl: sandbox.api }).getBalance().catch((e) => e);
  assert.equal(stranger.status, 401);
  const down = await new LightningClient(sandbox.admin, { baseUrl: 'http://127.0.0.1:1', retries: 1 }).getBalance().catch((e) => e);
  assert.equal(down.code, 'network_error');

  const events = await client.listEvents({ after: 0, limit: 1000 });
  assert.ok(events.data.some((e) => e.event === 'payment.sent' && e.payment_id === paid.id));
});

test('verifyWebhook accepts real deliveries and says why it rejects others', async () => {
  const shop = await receiver();
  const client = new LightningClient(sandbox.admin, { baseUrl: sandbox.api });
  const hook = await client.createWebhook({ url: shop.url, events: ['payment.received'] });
  assert.ok((await client.listWebhooks()).some((w) => w.id === hook.id));
  const invoice = await client.createInvoice({ amount: 321, description: 'webhook check' });
  await payFromCustomer(invoice.payment_request);
  const deadline = Date.now() + 20_000;
  while (!shop.hits.some((h) => h.body.includes(invoice.id))) {
    assert.ok(Date.now() < deadline, 'the delivery arrived');
    await new Promise((r) => setTimeout(r, 100));
  }
  const hit = shop.hits.find((h) => h.body.includes(invoice.id));
  const event = verifyWebhook(hit.body, hit.headers['payaiml-signature'], hook.secret);
  assert.equal(event.event, 'payment.received');
  assert.equal(event.invoice_id, invoice.id);
  assert.equal(event.id, hit.headers['payaiml-event-id']);
  const reason = (f) => { try { f(); return null; } catch (e) { assert.ok(e instanceof WebhookVerificationError); return e.reason; } };
  assert.equal(reason(() => verifyWebhook(hit.body.replace('321', '999'), hit.headers['payaiml-signature'], hook.secret)), 'bad_signature');
  assert.equal(reason(() => verifyWebhook(hit.body, hit.headers['payaiml-signature'], 'whsec_wrong')), 'bad_signature');
  assert.equal(reason(() => verifyWebhook(hit.body, hit.headers['payaiml-signature'], hook.secret, { now: Date.now() / 1000 + 301 })), 'too_old');
  assert.equal(reason(() => verifyWebhook(hit.body, 'garbage', hook.secret)), 'malformed_header');
  const test = await client.testWebhook(hook.id);
  assert.equal(test.status, 'succeeded');
  const log = await client.listDeliveries(hook.id);
  assert.ok(log.some((d) => d.event === 'webhook.test'));
  const redelivered = await client.redeliver(log[0].id);
  assert.equal(redelivered.id, log[0].id);
  await client.deleteWebhook(hook.id);
  shop.close();
});

test("the dashboard's methods: pages, reveals, webhook switches, node, settings and the sandbox", async () => {
  const client = new LightningClient(sandbox.admin, { baseUrl: sandbox.api });
  const customer = await client.sandboxCustomer();
  assert.match(customer.node_id, /^0[23][0-9a-f]{64}$/);
  const invoice = await client.createInvoice({ amount: 400, description: 'page check' });
  assert.equal((await client.sandboxPay(invoice.payment_request)).status, 'succeeded');
  const first = await client.listInvoicesPage({ status: 'paid', limit: 1 });
  assert.equal(first.data[0].id, invoice.id, 'newest first');
  assert.ok(first.next_cursor, 'more than one paid invoice by now');
  const second = await client.listInvoicesPage({ status: 'paid', limit: 1, cursor: first.next_cursor });
  assert.notEqual(second.data[0].id, invoice.id);
  const bill = await client.sandboxInvoice({ amount: 300, description: 'page check' });
  await client.payInvoice(bill.payment_request);
  assert.equal((await client.listPaymentsPage({ limit: 1 })).data[0].payment_hash, bill.payment_hash);
  const latest = await client.latestEvents(2);
  assert.equal(latest.data.length, 2);
  assert.ok(latest.data[0].seq < latest.data[1].seq, 'oldest first');

  const key = await client.createKey({ name: 'reveal me', permissions: ['lightning:read'] });
  assert.equal((await client.revealKey(key.id)).secret, key.secret);
  await client.revokeKey(key.id);
  const hook = await client.createWebhook({ url: 'http://127.0.0.1:9/webhook', events: ['invoice.expired'] });
  assert.equal((await client.revealWebhookSecret(hook.id)).secret, hook.secret);
  assert.equal((await client.disableWebhook(hook.id)).status, 'disabled');
  assert.equal((await client.enableWebhook(hook.id)).status, 'enabled');
  assert.deepEqual(await client.listDeliveries(hook.id, { limit: 5 }), []);
  await client.deleteWebhook(hook.id);

  const node = await client.getNode();
  assert.equal(node.node_id, (await client.health()).node_id);
  assert.ok(node.channels.length > 0, 'the sandbox opens a channel to the customer');
  assert.match((await client.newAddress()).qr_svg, /<svg/);
  const settings = await client.getSettings();
  assert.deepEqual(await client.changeSettings({ notifications: settings.notifications }), settings);
  const mined = await client.sandboxMine(1);
  assert.equal(mined.blocks, 1);
  const missing = await client.closeChannel('no-such-channel').catch((e) => e);
  assert.ok(missing instanceof LightningApiError && missing.status >= 400 && missing.status < 500, `closing an unknown channel: ${missing}`);
});

test('the catalog: taxes, items, reorder, and a cart charged as one invoice', async () => {
  const client = new LightningClient(sandbox.admin, { baseUrl: sandbox.api });
  const vat = await client.createTax({ name: 'SDK VAT', rate: '20', inclusive: true, default: false });
  assert.equal(vat.rate, '20');
  const tea = await client.createItem({ name: 'SDK tea', price: '1200', category: 'Drinks', tax: vat.id });
  const bun = await client.createItem({ name: 'SDK bun', price: '800', tax: 'none' });
  assert.equal((await client.getItem(tea.id)).tax, vat.id);
  const order = await client.reorderItems([bun.id, tea.id]);
  assert.deepEqual(order.slice(0, 2).map((i) => i.id), [bun.id, tea.id]);
  assert.ok((await client.listItems()).some((i) => i.id === tea.id));
  assert.match(await client.exportCatalog(), /\r\nSDK tea,1200,,Drinks,SDK VAT\r\n/);
  assert.equal((await client.importCatalog({ items: [{ name: 'SDK scone', price: '700', tax: 'none' }] })).imported, 1);
  const cart = { lines: [{ item_id: tea.id, quantity: 2 }, { item_id: bun.id }], tip: { amount: '100' } };
  const quote = await client.priceCart(cart);
  const sale = await client.createInvoice({ cart });
  assert.deepEqual(sale.order, quote, 'the price shown is the price charged');
  // 2,400 incl. 20 %: tax 400; bun 800 untaxed; tip 100.
  assert.equal(sale.order?.tax, '400');
  assert.equal(sale.order?.total, '3300');
  assert.equal(sale.amount, 3300);
  const unpaid = await client.receipt(sale.id).catch((e) => e);
  assert.ok(unpaid instanceof LightningApiError && unpaid.status === 409 && unpaid.code === 'invoice_not_paid', String(unpaid));
  await client.sandboxPay(sale.payment_request);
  let page = '';
  for (let i = 0; i < 50 && !page; i += 1) {
    page = await client.receipt(sale.id, { paper: 'a4' }).catch(() => '');
    if (!page) await new Promise((r) => setTimeout(r, 200));
  }
  assert.match(page, /2 × SDK tea/);
  assert.match(page, /size: A4/);
  const back = await client.sandboxInvoice({ amount: 300, description: 'refund' });
  const refund = await client.refundInvoice(sale.id, { invoice: back.payment_request });
  assert.equal(refund.refund_of, sale.id);
  const over = await client.refundInvoice(sale.id, { invoice: (await client.sandboxInvoice({ amount: 3100, description: 'too much' })).payment_request }).catch((e) => e);
  assert.ok(over instanceof LightningApiError && over.code === 'refund_exceeds_received', String(over));
  const refused = await client.changeTax(vat.id, { archived: true }).catch((e) => e);
  assert.ok(refused instanceof LightningApiError && refused.code === 'catalog_conflict', String(refused));
  assert.equal((await client.changeItem(tea.id, { archived: true })).archived, true);
  assert.equal((await client.changeTax(vat.id, { archived: true })).archived, true);
  await client.deleteItem(bun.id);
  const gone = await client.getItem(bun.id).catch((e) => e);
  assert.ok(gone instanceof LightningApiError && gone.status === 404);
});

test('an offer (static QR) is made, paid with a note, and counted', async () => {
  const client = new LightningClient(sandbox.admin, { baseUrl: sandbox.api });
  const offer = await client.createOffer({ description: 'SDK tips' });
  assert.match(offer.offer, /^lno1/);
  assert.equal(offer.amount, null);
  const paid = await client.sandboxPay(offer.offer, { amount: 1234, payer_note: 'from the SDK' });
  assert.equal(paid.status, 'succeeded');
  const sale = await client.getInvoice(paid.payment_hash);
  assert.equal(sale.offer_id, offer.id);
  assert.equal(sale.payer_note, 'from the SDK');
  assert.equal(sale.amount_received, 1234);
  const counted = await client.getOffer(offer.id);
  assert.equal(counted.payments, 1);
  let listed = false;
  for await (const o of client.listOffers()) if (o.id === offer.id) listed = true;
  assert.ok(listed);
  assert.match(await client.offerSticker(offer.id), /Pay any amount/);
  const bad = await client.createOffer({ description: 'x', max_quantity: 3 }).catch((e) => e);
  assert.ok(bad instanceof LightningApiError && bad.code === 'invalid_field' && bad.field === 'max_quantity', String(bad));
});

test('events() streams a payment and resumes without a gap after the server restarts', async () => {
  const client = new LightningClient(sandbox.admin, { baseUrl: sandbox.api });
  const start = (await client.listEvents({ after: 0, limit: 1000 })).last_seq;
  const controller = new AbortController();
  const seen = [];
  const reader = (async () => {
    for await (const event of client.events({ after: start, signal: controller.signal })) {
      seen.push(event);
    }
  })();
  const waitFor = async (n) => {
    const deadline = Date.now() + 60_000;
    while (seen.length < n) {
      assert.ok(Date.now() < deadline, `expected ${n} events, got ${seen.length}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const first = await client.createInvoice({ amount: 111, description: 'before restart' });
  await payFromCustomer(first.payment_request);
  await waitFor(1);
  // Restart the server on the same port and data; pay while the stream is down.
  await sandbox.stop({ keep: true });
  sandbox = await startSandbox({ dataDir: sandbox.dataDir, listen });
  const second = await client.createInvoice({ amount: 222, description: 'after restart' });
  await payFromCustomer(second.payment_request);
  await waitFor(2);
  controller.abort();
  await reader;
  const received = seen.filter((e) => e.event === 'payment.received').map((e) => e.amount);
  assert.deepEqual(received, [111, 222]);
  const seqs = seen.map((e) => e.seq);
  assert.deepEqual(seqs, seqs.map((_, i) => start + 1 + i), 'no gap, no repeat');
});
