// Each example's happy path, end to end against a real `payaimld sandbox`.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';

import { call, startSandbox } from '../../tests/browser/harness.mjs';
import { createShop } from '../ecommerce/shop.js';
import { createRewards } from '../game-rewards/rewards.js';
import { createApi } from '../api-monetization/server.js';
import { createPaywall } from '../paywall/paywall.js';

let sandbox;
before(async () => { sandbox = await startSandbox(); });
after(async () => { await sandbox?.stop(); });

const pay = (pr) => call(sandbox.api, sandbox.admin, 'POST', '/v1/sandbox/pay', { payment_request: pr });

async function listen(server) {
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

async function until(what, check) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await check();
    if (value) return value;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('e-commerce: checkout, pay, the verified webhook fulfils the order once', async () => {
  // The shop needs its URL before the webhook exists, and the webhook's secret before it runs.
  let app = null;
  const shop = await listen(createServer((req, res) => app(req, res)));
  const hook = await call(sandbox.api, sandbox.admin, 'POST', '/v1/webhooks', { url: `${shop.url}/webhook/lightning`, events: ['payment.received'] });
  app = createShop({ apiKey: sandbox.admin, baseUrl: sandbox.api, webhookSecret: hook.body.secret });
  const checkout = await (await fetch(`${shop.url}/checkout`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ items: [{ price: 1200 }, { price: 300, quantity: 2 }] }),
  })).json();
  assert.equal(checkout.amount, 1800);
  assert.equal((await pay(checkout.payment_request)).body.status, 'succeeded');
  const order = await until('the order to be paid', async () => {
    const o = await (await fetch(`${shop.url}/orders/${checkout.order_id}`)).json();
    return o.status.startsWith('paid') ? o : null;
  });
  assert.equal(order.status, 'paid — shipping');
  // A forged webhook is refused.
  const forged = await fetch(`${shop.url}/webhook/lightning`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'PayAiML-Signature': 't=1,v1=00' }, body: '{}' });
  assert.equal(forged.status, 400);
  await call(sandbox.api, sandbox.admin, 'DELETE', `/v1/webhooks/${hook.body.id}`);
  await shop.close();
});

test('paywall: 402 with an invoice, then the article once paid', async () => {
  const server = await listen(createPaywall({ apiKey: sandbox.admin, baseUrl: sandbox.api }));
  const first = await fetch(`${server.url}/articles/lightning`);
  assert.equal(first.status, 402);
  const offer = await first.json();
  assert.equal(offer.price, 21);
  const early = await fetch(`${server.url}/articles/lightning?invoice=${offer.invoice}`);
  assert.equal(early.status, 402);
  await pay(offer.payment_request);
  const paid = await fetch(`${server.url}/articles/lightning?invoice=${offer.invoice}`);
  assert.equal(paid.status, 200);
  assert.equal((await paid.json()).title, 'Why Lightning');
  await server.close();
});

test('API monetization: one paid invoice buys one call', async () => {
  const server = await listen(createApi({ apiKey: sandbox.admin, baseUrl: sandbox.api }));
  const offer = await (await fetch(`${server.url}/quote`)).json();
  assert.equal(offer.price, 5);
  const unpaid = await fetch(`${server.url}/quote`, { headers: { 'X-Payment-Hash': offer.payment_hash } });
  assert.equal(unpaid.status, 402);
  await pay(offer.payment_request);
  const ok = await fetch(`${server.url}/quote`, { headers: { 'X-Payment-Hash': offer.payment_hash } });
  assert.equal(ok.status, 200);
  assert.equal((await ok.json()).paid, 5);
  const reused = await fetch(`${server.url}/quote`, { headers: { 'X-Payment-Hash': offer.payment_hash } });
  assert.equal(reused.status, 402);
  await server.close();
});

test('game rewards: the winner is paid, a retry pays once, the budget holds', async () => {
  const key = await call(sandbox.api, sandbox.admin, 'POST', '/v1/keys', { name: 'game', permissions: ['lightning:write'], budget: 1000 });
  const rewards = createRewards({ apiKey: key.body.secret, baseUrl: sandbox.api });
  const playerInvoice = async (amount) =>
    (await call(sandbox.api, sandbox.admin, 'POST', '/v1/sandbox/invoice', { amount, description: 'player' })).body.payment_request;
  const first = await playerInvoice(600);
  const won = await rewards.reward(first, { matchId: 'm1' });
  assert.equal(won.ok, true);
  const retried = await rewards.reward(first, { matchId: 'm1' });
  assert.equal(retried.payment.id, won.payment.id, 'the same match pays once');
  const over = await rewards.reward(await playerInvoice(600), { matchId: 'm2' });
  assert.deepEqual([over.ok, over.reason], [false, 'daily reward budget used up']);
});
