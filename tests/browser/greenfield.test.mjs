// A web shop connected the way BTCPay's shop plugins connect: the plugin sends the merchant to
// /api-keys/authorize, the dashboard's pairing page says what it asks and where the key goes,
// and on approval posts the key back to the shop (a form, as BTCPay's page does); refused,
// nothing is made. Then the shop's customer on the hosted checkout page, at phone and desktop
// size: the order, the amount, the QR and the countdown, paid live and sent back to the shop,
// or expired. Nothing the pages load comes from anywhere but this computer.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';

import { call, launch, openPage, screenshots, startSandbox } from './harness.mjs';

/** The element's text as a person reads it: one space between words. */
const text = async (locator) => (await locator.textContent()).replace(/\s+/g, ' ').trim();

// What the WooCommerce plugin asks for.
const ASKED = [
  'btcpay.store.canviewinvoices', 'btcpay.store.cancreateinvoice', 'btcpay.store.canviewstoresettings',
  'btcpay.store.canmodifyinvoices', 'btcpay.store.cancreatenonapprovedpullpayments', 'btcpay.store.webhooks.canmodifywebhooks',
];
const GRANTED = ASKED.filter((p) => !p.includes('pullpayments'));

let sandbox;
let browser;
let shop;

/** The web shop on 127.0.0.1: its settings page receives the key the pairing page posts
 *  (recorded), /thanks is where the checkout sends its customers back. */
async function startShop() {
  const posts = [];
  const visits = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      visits.push(`${req.method} ${req.url}`);
      const page = (title) => res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' })
        .end(`<!DOCTYPE html><html lang="en"><head><title>${title}</title></head><body><main><h1>${title}</h1></main></body></html>`);
      if (req.method === 'POST' && req.url === '/?btcpay-settings-callback') {
        posts.push({ contentType: req.headers['content-type'], form: new URLSearchParams(Buffer.concat(chunks).toString('utf8')) });
        page('Connected');
      } else if (req.url === '/thanks') page('Thanks for your order');
      else if (req.url.startsWith('/modal-checkout')) {
        // WooCommerce's modal mode: BTCPay's script from the server, then showInvoice(id).
        const api = new URL(req.url, 'http://x').searchParams.get('api');
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(`<!DOCTYPE html><html lang="en"><head>
<title>Checkout</title><script src="${api}/modal/btcpay.js?ver=2.8.0"></script></head><body><main><h1>Checkout</h1>
<button type="button" id="pay">Pay with bitcoin</button></main><script>
window.messages = [];
document.getElementById('pay').addEventListener('click', function () {
  window.btcpay.setApiUrlPrefix(${JSON.stringify(api)});
  window.btcpay.onModalReceiveMessage(function (event) { window.messages.push(event.data); });
  window.btcpay.showInvoice(new URLSearchParams(location.search).get('invoice'));
});
</script></body></html>`);
      }
      else page('The shop');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return { origin, posts, visits, close: () => new Promise((r) => server.close(r)) };
}

/** Greenfield over HTTP, as a shop plugin calls it (`Authorization: token …`). */
async function greenfield(key, method, path, body) {
  const res = await fetch(sandbox.api + path, {
    method,
    headers: { Authorization: `token ${key}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const raw = await res.text();
  return { status: res.status, body: raw ? JSON.parse(raw) : null };
}

/** Every address `page` asks for, to check that none is off this computer. */
function requestsOf(page) {
  const urls = [];
  page.on('request', (r) => urls.push(r.url()));
  return urls;
}

function onlyLocal(urls) {
  // data: and blob: addresses are made in the page; everything else must be the API or the shop.
  const away = urls.filter((u) => !u.startsWith('data:') && !u.startsWith('blob:')
    && !u.startsWith(`${sandbox.api}/`) && !u.startsWith(`${shop.origin}/`));
  assert.deepEqual(away, [], 'no request leaves 127.0.0.1');
}

before(async () => {
  sandbox = await startSandbox();
  browser = await launch();
  shop = await startShop();
});

after(async () => {
  await browser?.close();
  await sandbox?.stop();
  await shop?.close();
});

test('a shop plugin is paired: the page says what it asks and where the key goes; approved, the key reaches the shop; refused, nothing is made', async () => {
  const { body: info } = await call(sandbox.api, sandbox.admin, 'GET', '/v1/greenfield');
  const storeId = info.store_id;
  const query = new URLSearchParams([...ASKED.map((p) => ['permissions', p]), ['applicationName', 'WooCommerce'],
    ['strict', 'true'], ['selectiveStores', 'true'], ['redirect', `${shop.origin}/?btcpay-settings-callback`]]);
  const link = `${sandbox.api}/api-keys/authorize?${query}`;
  const keysBefore = (await call(sandbox.api, sandbox.admin, 'GET', '/v1/keys')).body.data.length;

  // Signed in in this tab already: the plugin's link opens the pairing page.
  const { page, shot, errors, close } = await openPage(browser, sandbox.api, sandbox.admin, 'greenfield');
  const urls = requestsOf(page);
  await page.goto(link);
  assert.match(page.url(), /\/#\/authorize\?permissions=/);
  await page.getByRole('heading', { name: 'Connect WooCommerce to this shop' }).waitFor();
  assert.equal(await text(page.getByTestId('shop-origin')), shop.origin);
  assert.equal(await page.getByTestId('unencrypted').count(), 0, 'no warning for this computer');
  const granted = page.getByTestId('granted').getByRole('listitem');
  assert.equal(await granted.count(), 5);
  assert.match(await text(granted.first()), /See invoices and whether they are paid/);
  const notGranted = await text(page.getByTestId('not-granted'));
  assert.match(notGranted, /btcpay\.store\.cancreatenonapprovedpullpayments: Not available here — not granted\. Refunds through pull payments are not offered here/);
  await shot('pairing');

  await page.getByRole('button', { name: 'Approve' }).click();
  await page.waitForURL(`${shop.origin}/?btcpay-settings-callback`);
  await page.getByRole('heading', { name: 'Connected' }).waitFor();
  assert.equal(shop.posts.length, 1);
  const [{ contentType, form }] = shop.posts;
  assert.equal(contentType, 'application/x-www-form-urlencoded');
  const apiKey = form.get('apiKey');
  assert.match(apiKey, /^pk_/);
  assert.deepEqual(form.getAll('permissions[]').sort(), GRANTED.map((p) => `${p}:${storeId}`).sort());
  onlyLocal(urls);
  assert.deepEqual(errors, []);
  await close();

  // The shop uses its key as it would BTCPay's.
  const stores = await greenfield(apiKey, 'GET', '/api/v1/stores');
  assert.equal(stores.status, 200, JSON.stringify(stores.body));
  assert.equal(stores.body.length, 1);
  assert.equal(stores.body[0].id, storeId);
  const keys = (await call(sandbox.api, sandbox.admin, 'GET', '/v1/keys')).body.data;
  assert.equal(keys.length, keysBefore + 1);
  assert.ok(keys.some((k) => k.name === 'WooCommerce (BTCPay-compatible)'), keys.map((k) => k.name).join(', '));

  // A tab not signed in: the sign-in comes first, then the same page; refused, nothing is made.
  const context = await browser.newContext({ viewport: { width: 1200, height: 860 } });
  const tab = await context.newPage();
  const tabErrors = [];
  tab.on('pageerror', (e) => tabErrors.push(e.message));
  const tabUrls = requestsOf(tab);
  const tabShot = screenshots(tab, 'greenfield-refuse');
  await tab.goto(link);
  await tab.getByLabel('API key').fill(sandbox.admin);
  await tab.getByRole('button', { name: 'Connect' }).click();
  await tab.getByRole('heading', { name: 'Connect WooCommerce to this shop' }).waitFor();
  await tab.getByRole('button', { name: 'Refuse' }).click();
  await tab.getByText('Nothing was shared with WooCommerce. You can close this tab.').waitFor();
  assert.equal(await tab.getByRole('link', { name: `Back to ${shop.origin}` }).getAttribute('href'), shop.origin);
  assert.equal(await tab.getByRole('button', { name: 'Approve' }).count(), 0);
  await tabShot('refused');
  assert.equal(shop.posts.length, 1, 'the shop got nothing more');
  assert.equal((await call(sandbox.api, sandbox.admin, 'GET', '/v1/keys')).body.data.length, keysBefore + 1, 'no key was made');

  // Not strict, to a shop on plain http beyond this computer: the merchant chooses, and is warned.
  // (Not approved: the key would go to that address.)
  const loose = new URLSearchParams([['permissions', 'btcpay.store.canviewinvoices'], ['permissions[]', 'btcpay.store.cancreateinvoice'],
    ['applicationName', 'Odoo'], ['strict', 'false'], ['redirect', 'http://shop.example/btcpay/callback']]);
  await tab.goto(`${sandbox.api}/api-keys/authorize?${loose}`);
  await tab.getByRole('heading', { name: 'Connect Odoo to this shop' }).waitFor();
  assert.match(await text(tab.getByTestId('unencrypted')), /key would cross the network unencrypted/);
  const boxes = tab.getByRole('checkbox');
  assert.equal(await boxes.count(), 2);
  assert.ok(await boxes.nth(0).isChecked() && await boxes.nth(1).isChecked(), 'what it asks for is checked');
  await tabShot('not-strict-http');
  await boxes.nth(0).uncheck();
  await boxes.nth(1).uncheck();
  assert.ok(await tab.getByRole('button', { name: 'Approve' }).isDisabled(), 'nothing to approve');

  // A link without the shop's address cannot be approved.
  await tab.goto(`${sandbox.api}/api-keys/authorize?permissions=btcpay.store.canviewinvoices&applicationName=WooCommerce`);
  await tab.getByRole('alert').filter({ hasText: "The shop's link is incomplete" }).waitFor();
  assert.equal(await tab.getByRole('button', { name: 'Approve' }).count(), 0);
  await tabShot('incomplete-link');
  onlyLocal(tabUrls);
  assert.deepEqual(tabErrors, []);
  await context.close();
});

test('the hosted checkout at phone and desktop size: the order, its QR and countdown; paid live and back to the shop; expired', async () => {
  const stores = await greenfield(sandbox.admin, 'GET', '/api/v1/stores');
  assert.equal(stores.status, 200, JSON.stringify(stores.body));
  const storeId = stores.body[0].id;
  const invoice = async (checkout) => {
    const created = await greenfield(sandbox.admin, 'POST', `/api/v1/stores/${storeId}/invoices`, {
      amount: '2500', currency: 'SATS', metadata: { orderId: 'A-17', itemDesc: '2× Flat white' }, checkout,
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    return created.body;
  };

  for (const [size, width, height] of [['phone', 390, 844], ['desktop', 1280, 800]]) {
    const context = await browser.newContext({ viewport: { width, height } });
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const urls = requestsOf(page);
    const shot = screenshots(page, `greenfield-checkout-${size}`);

    // Open: the order, the amount, a QR that loads, a countdown that runs.
    // On the phone the shop asked for no automatic redirect: the customer follows the link. On
    // the desktop it did (redirectAutomatically), and the page goes by itself.
    const automatic = size === 'desktop';
    const open = await invoice({ redirectURL: `${shop.origin}/thanks`, redirectAutomatically: automatic });
    await page.goto(open.checkoutLink);
    await page.getByRole('heading', { level: 1 }).waitFor();
    assert.match(await text(page.locator('main')), /2,500 sats/);
    assert.match(await text(page.locator('main')), /2× Flat white/);
    const qr = page.getByRole('img', { name: /QR code of this invoice/ });
    await qr.waitFor();
    await page.waitForFunction(() => document.querySelector('img.qr')?.complete);
    assert.ok(await qr.evaluate((img) => img.naturalWidth > 0), 'the QR loads');
    const countdown = page.locator('#countdown');
    await page.waitForFunction(() => /^\d+:\d\d$/.test(document.getElementById('countdown')?.textContent ?? ''));
    const first = await text(countdown);
    await page.waitForFunction((was) => document.getElementById('countdown')?.textContent !== was, first, { timeout: 3_000 });
    await shot('open');

    // Paid: the page says so without a reload, then sends the customer back to the shop.
    const methods = await greenfield(sandbox.admin, 'GET', `/api/v1/stores/${storeId}/invoices/${open.id}/payment-methods`);
    const ln = methods.body.find((m) => m.paymentMethodId === 'BTC-LN');
    const paid = await call(sandbox.api, sandbox.admin, 'POST', '/v1/sandbox/pay', { payment_request: ln.destination });
    assert.equal(paid.body.status, 'succeeded', JSON.stringify(paid.body));
    if (!automatic) {
      const banner = page.locator('#paid');
      await banner.waitFor({ state: 'visible', timeout: 5_000 });
      assert.match(await text(banner), /^Paid/);
      assert.ok(await page.locator('#pay').isHidden(), 'the QR is gone once paid');
      await shot('paid');
      // No timed redirect the customer cannot stop (WCAG 2.2.1): the way back gets the focus.
      await page.waitForTimeout(1_500);
      assert.ok(page.url().startsWith(open.checkoutLink), 'no redirect the shop did not ask for');
      const back = page.getByRole('link', { name: /^Return to / });
      assert.ok(await back.evaluate((a) => a === document.activeElement), 'the way back has the focus');
      await back.click();
    }
    await page.waitForURL(`${shop.origin}/thanks`, { timeout: 10_000 });
    await page.getByRole('heading', { name: 'Thanks for your order' }).waitFor();

    // Expired: an invoice of 3 seconds.
    const short = await invoice({ expirationMinutes: 0.05 });
    await page.goto(short.checkoutLink);
    await page.locator('#expired').waitFor({ state: 'visible', timeout: 30_000 });
    assert.match(await text(page.locator('#expired')), /This invoice expired/);
    assert.ok(await page.locator('#pay').isHidden());
    await shot('expired');

    onlyLocal(urls);
    assert.deepEqual(errors, []);
    await context.close();
  }
});

test('the modal checkout a shop page opens with BTCPay\'s script: shown when loaded, the status posted to the shop, closed on request', async () => {
  const stores = await greenfield(sandbox.admin, 'GET', '/api/v1/stores');
  const storeId = stores.body[0].id;
  const created = await greenfield(sandbox.admin, 'POST', `/api/v1/stores/${storeId}/invoices`, {
    amount: '1500', currency: 'SATS', metadata: { orderId: 'M-1' }, checkout: { redirectURL: `${shop.origin}/thanks` },
  });
  assert.equal(created.status, 200, JSON.stringify(created.body));
  const id = created.body.id;
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const urls = requestsOf(page);
  await page.goto(`${shop.origin}/modal-checkout?invoice=${id}&api=${encodeURIComponent(sandbox.api)}`);
  await page.getByRole('button', { name: 'Pay with bitcoin' }).click();
  const frame = page.locator('iframe[name="btcpay"]');
  await frame.waitFor({ state: 'visible', timeout: 10_000 });
  await page.waitForFunction(() => window.messages.includes('loaded'));
  const inside = page.frameLocator('iframe[name="btcpay"]');
  await inside.getByText('1,500 sats').waitFor();

  const methods = await greenfield(sandbox.admin, 'GET', `/api/v1/stores/${storeId}/invoices/${id}/payment-methods`);
  const ln = methods.body.find((m) => m.paymentMethodId === 'BTC-LN');
  const paid = await call(sandbox.api, sandbox.admin, 'POST', '/v1/sandbox/pay', { payment_request: ln.destination });
  assert.equal(paid.body.status, 'succeeded', JSON.stringify(paid.body));
  // WooCommerce's script reads {invoiceId, status} and moves on when it says Settled.
  await page.waitForFunction((invoice) => window.messages.some((m) => m && m.invoiceId === invoice && m.status === 'Settled'), id, { timeout: 10_000 });
  await inside.locator('#paid').waitFor({ state: 'visible' });
  assert.equal(page.url().startsWith(shop.origin), true, 'in the modal the frame stays: the shop\u2019s page moves on');
  await inside.getByRole('button', { name: 'Close' }).click();
  await page.waitForFunction(() => window.messages.includes('close'));
  await frame.waitFor({ state: 'detached', timeout: 5_000 });
  onlyLocal(urls);
  assert.deepEqual(errors, []);
  await context.close();
});
