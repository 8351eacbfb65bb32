// Browser journeys through the real dashboard on a real sandbox (two ldk-node nodes on a regtest
// bitcoind), in Debian's Chromium. Each saves a screenshot of every page it visits.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { axeViolations, call, launch, nav, openPage, outputDir, receiver, startSandbox } from './harness.mjs';

let sandbox;
let browser;

before(async () => {
  sandbox = await startSandbox();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await sandbox?.stop();
});

test('an invoice turns Paid on screen without a reload', async () => {
  const { page, shot, errors, close } = await openPage(browser, sandbox.api, sandbox.admin, 'invoice');
  await shot('overview');
  await nav(page, 'Invoices');
  await page.getByLabel('Amount (sats)').fill('1000');
  await page.getByLabel('Description').fill('Digital content purchase');
  await page.getByRole('button', { name: 'Create invoice' }).click();
  const qr = page.locator('img.qr');
  await qr.waitFor();
  assert.match(await qr.getAttribute('src'), /^data:image\/svg\+xml/);
  await shot('invoice-qr');
  // Mark the document: a reload would lose the mark.
  await page.evaluate(() => { window.__noReload = true; });
  const id = page.url().split('/').pop();
  const invoice = await call(sandbox.api, sandbox.admin, 'GET', `/v1/lightning/invoices/${id}`);
  const paid = await call(sandbox.api, sandbox.admin, 'POST', '/v1/sandbox/pay', { payment_request: invoice.body.payment_request });
  assert.equal(paid.body.status, 'succeeded');
  await page.getByTestId('invoice-status').filter({ hasText: 'paid' }).waitFor({ timeout: 15_000 });
  assert.equal(await page.evaluate(() => window.__noReload), true, 'the page was not reloaded');
  await page.getByRole('status').filter({ hasText: 'Paid' }).waitFor();
  await shot('invoice-paid');
  await nav(page, 'Invoices');
  await page.getByLabel('Status filter').selectOption('paid');
  await page.getByRole('cell', { name: 'Digital content purchase' }).first().waitFor();
  await shot('invoices-paid-filter');
  await nav(page, 'Overview');
  await page.getByRole('cell', { name: /Received — Digital content purchase/ }).first().waitFor();
  await shot('overview-activity');
  assert.deepEqual(errors, []);
  await close();
});

test('a point-of-sale charge, paid, then a new sale', async () => {
  const { page, shot, errors, close } = await openPage(browser, sandbox.api, sandbox.admin, 'pos');
  await nav(page, 'Point of sale');
  for (const key of ['2', '1', '0', '0']) await page.getByRole('button', { name: key, exact: true }).click();
  await page.getByLabel('Memo').fill('Two coffees');
  assert.equal(await page.getByTestId('pos-amount').textContent(), '2,100 sats');
  await shot('keypad');
  // The customer display, in its own window, follows the sale.
  const [display] = await Promise.all([
    page.context().waitForEvent('page'),
    page.getByRole('button', { name: 'Customer display' }).click(),
  ]);
  await display.getByText('Welcome').waitFor();
  await display.screenshot({ path: `${outputDir}/pos/customer-display-idle.png` });
  await page.getByRole('button', { name: 'Charge 2,100 sats' }).click();
  await page.locator('img.qr').waitFor();
  await shot('qr');
  await display.locator('img.qr').waitFor({ timeout: 10_000 });
  assert.match(await display.getByTestId('customer-display').textContent(), /2,100 sats/);
  await display.screenshot({ path: `${outputDir}/pos/customer-display-qr.png` });
  const newest = await call(sandbox.api, sandbox.admin, 'GET', '/v1/lightning/invoices?limit=1');
  assert.equal(newest.body.data[0].amount, 2100);
  assert.equal(newest.body.data[0].description, 'Two coffees');
  await call(sandbox.api, sandbox.admin, 'POST', '/v1/sandbox/pay', { payment_request: newest.body.data[0].payment_request });
  await page.getByTestId('pos-paid').waitFor({ timeout: 15_000 });
  await shot('paid');
  await display.getByText('Thank you — paid').waitFor({ timeout: 15_000 });
  await display.screenshot({ path: `${outputDir}/pos/customer-display-paid.png` });
  await page.getByRole('button', { name: 'New sale' }).click();
  assert.equal(await page.getByTestId('pos-amount').textContent(), '0 sats');
  await display.getByText('Welcome').waitFor({ timeout: 10_000 });
  // More than one payment can bring in is not charged at all: no QR a customer could not pay.
  const before = (await call(sandbox.api, sandbox.admin, 'GET', '/v1/lightning/invoices?limit=1')).body.data[0].id;
  for (const key of ['9', '9', '9', '9', '9', '9', '9', '9', '9']) await page.getByRole('button', { name: key, exact: true }).click();
  const warning = page.getByRole('alert').filter({ hasText: 'more than this node can receive' });
  await warning.waitFor();
  assert.match(await warning.textContent(), /a customer could not pay it.*receiving capacity/s);
  assert.equal(await page.getByRole('button', { name: /^Charge/ }).isDisabled(), true);
  await page.keyboard.press('Enter');
  await shot('over-capacity-warning');
  const after = (await call(sandbox.api, sandbox.admin, 'GET', '/v1/lightning/invoices?limit=1')).body.data[0].id;
  assert.equal(after, before, 'no invoice was made');
  assert.deepEqual(errors, []);
  await close();
});

test('the point of sale charges exactly what is typed, by keyboard and by pointer, in sats and BTC', async () => {
  const { page, shot, errors, close } = await openPage(browser, sandbox.api, sandbox.admin, 'pos-keys');
  await nav(page, 'Point of sale');
  const newest = async () => (await call(sandbox.api, sandbox.admin, 'GET', '/v1/lightning/invoices?limit=1')).body.data[0];
  // Typing starts once the point of sale is on screen (a key pressed while the page is still
  // being switched has nowhere to go, for a person as for this test).
  await page.getByTestId('pos-amount').waitFor();
  // Keyboard: "12" typed, then the keypad's 0 focused and pressed with Enter: 120, not 12.
  await page.keyboard.press('1');
  await page.keyboard.press('2');
  await page.getByRole('button', { name: '0', exact: true }).focus();
  await page.keyboard.press('Enter');
  assert.equal(await page.getByTestId('pos-amount').textContent(), '120 sats');
  const charge = page.getByRole('button', { name: 'Charge 120 sats' });
  await charge.focus();
  await page.keyboard.press('Enter');
  await page.locator('img.qr').waitFor();
  assert.equal((await newest()).amount, 120, 'the invoice asks for what the button said');
  await page.getByRole('button', { name: 'Cancel' }).click();
  // Enter with nothing focused charges what is shown.
  await page.keyboard.press('3');
  await page.keyboard.press('0');
  await page.locator('body').focus();
  await page.evaluate(() => document.activeElement instanceof HTMLElement && document.activeElement.blur());
  await page.keyboard.press('Enter');
  await page.locator('img.qr').waitFor();
  assert.equal((await newest()).amount, 30);
  await page.getByRole('button', { name: 'Cancel' }).click();
  // In BTC the keypad takes BTC: 0.00025 BTC is 25,000 sats, shown and charged as such.
  await page.getByRole('button', { name: 'BTC', exact: true }).click();
  for (const key of ['Decimal point', '0', '0', '0', '2', '5']) await page.getByRole('button', { name: key, exact: true }).click();
  assert.equal(await page.getByTestId('pos-amount').textContent(), '0.00025 BTC');
  assert.equal(await page.getByTestId('pos-sats').textContent(), '= 25,000 sats');
  await shot('keypad-btc');
  await page.getByRole('button', { name: 'Charge 0.00025000 BTC' }).click();
  await page.locator('img.qr').waitFor();
  assert.equal((await newest()).amount, 25_000);
  await page.getByRole('button', { name: 'Cancel' }).click();
  // Switching units starts the entry over rather than reading it in the other unit.
  await page.keyboard.press('7');
  await page.getByRole('button', { name: 'sats', exact: true }).click();
  assert.equal(await page.getByTestId('pos-amount').textContent(), '0 sats');
  assert.deepEqual(errors, []);
  await close();
});

test('pay a customer invoice from the Payments page', async () => {
  const { page, shot, errors, close } = await openPage(browser, sandbox.api, sandbox.admin, 'payments');
  const customer = await call(sandbox.api, sandbox.admin, 'POST', '/v1/sandbox/invoice', { amount: 2500, description: 'supplies' });
  await nav(page, 'Payments');
  await page.getByLabel('Lightning invoice').fill(customer.body.payment_request);
  await page.getByRole('button', { name: 'Check invoice' }).click();
  const check = page.getByRole('region', { name: 'Invoice to pay' });
  await check.waitFor();
  assert.match(await check.textContent(), /2,500 sats/);
  assert.match(await check.textContent(), /supplies/);
  await shot('decoded');
  await check.getByRole('button', { name: 'Pay' }).click();
  await page.getByTestId('payment-status').filter({ hasText: 'succeeded' }).waitFor({ timeout: 10_000 });
  await page.getByRole('table', { name: 'Payments' }).getByRole('cell', { name: 'supplies' }).first().waitFor();
  await shot('paid');
  // A bad invoice shows the API's own message.
  await page.getByLabel('Lightning invoice').fill('lnbc1notaninvoice');
  await page.getByRole('button', { name: 'Check invoice' }).click();
  await page.getByRole('alert').waitFor();
  assert.ok((await page.getByRole('alert').textContent()).length > 10);
  await shot('bad-invoice');
  assert.deepEqual(errors, []);
  await close();
});

test('create a key, use it, revoke it, see it refused', async () => {
  const { page, shot, errors, close } = await openPage(browser, sandbox.api, sandbox.admin, 'keys');
  await nav(page, 'API keys');
  await page.getByLabel('Name').fill('Shop backend');
  await page.getByRole('button', { name: 'Create key' }).click();
  const secret = (await page.getByTestId('new-key').textContent()).trim();
  assert.match(secret, /^pk_[a-z0-9]+_[A-Za-z0-9]+$/);
  await shot('created');
  const used = await call(sandbox.api, secret, 'GET', '/v1/lightning/balance');
  assert.equal(used.status, 200);
  page.once('dialog', (d) => d.accept());
  await page.getByRole('button', { name: 'Revoke Shop backend' }).click();
  await page.getByRole('cell', { name: 'revoked' }).waitFor();
  await shot('revoked');
  const refused = await call(sandbox.api, secret, 'GET', '/v1/lightning/balance');
  assert.equal(refused.status, 401);
  assert.equal(refused.body.error.code, 'revoked_api_key');
  assert.deepEqual(errors, []);
  await close();
});

test('add a webhook, send a test event, see it in the delivery log', async () => {
  const shop = await receiver();
  const { page, shot, errors, close } = await openPage(browser, sandbox.api, sandbox.admin, 'webhooks');
  await nav(page, 'Webhooks');
  await page.getByLabel('URL').fill('ftp://nope');
  await page.getByRole('button', { name: 'Add endpoint' }).click();
  await page.getByRole('alert').filter({ hasText: 'http' }).waitFor();
  await shot('bad-url');
  await page.getByLabel('URL').fill(shop.url);
  await page.getByRole('button', { name: 'Add endpoint' }).click();
  const card = page.getByRole('region', { name: `Webhook ${shop.url}` });
  await card.getByText('Signing secret').waitFor();
  await card.getByRole('button', { name: 'Send test event' }).click();
  await card.getByRole('list', { name: 'Deliveries' }).getByText('webhook.test').waitFor({ timeout: 15_000 });
  await card.getByText(/: 200 ·/).first().waitFor();
  await shot('delivery-log');
  assert.ok(shop.hits.some((h) => JSON.parse(h.body).event === 'webhook.test'), 'the receiver got the test event');
  assert.match(shop.hits[0].headers['payaiml-signature'], /^t=\d+,v1=[0-9a-f]{64}$/);
  assert.deepEqual(errors, []);
  await close();
  shop.close();
});

test('node page: deposit address with QR, open a channel to the customer', async () => {
  const { page, shot, errors, close } = await openPage(browser, sandbox.api, sandbox.admin, 'node');
  await nav(page, 'Node');
  await page.getByRole('table', { name: 'Channels' }).getByText('usable').first().waitFor();
  await shot('channels');
  await page.getByRole('button', { name: 'New deposit address' }).click();
  await page.getByAltText(/QR code of the deposit address bcrt1/).waitFor();
  await page.getByRole('button', { name: 'Use the sandbox customer' }).click();
  await page.getByRole('status').filter({ hasText: 'sandbox customer' }).waitFor();
  await page.getByRole('button', { name: 'Open channel' }).click();
  await page.getByRole('status').filter({ hasText: 'Opening a 100,000 sat channel' }).waitFor({ timeout: 30_000 });
  await shot('opening');
  const node = await call(sandbox.api, sandbox.admin, 'GET', '/v1/node');
  assert.ok(node.body.channels.some((c) => c.capacity === 100000), 'the new channel is listed');
  assert.deepEqual(errors, []);
  await close();
});

test('the recovery words are shown again from Settings only after ticking that no one else sees them', async () => {
  const { page, shot, errors, close } = await openPage(browser, sandbox.api, sandbox.admin, 'recovery-words');
  await nav(page, 'Settings');
  const show = page.getByRole('button', { name: 'Show the recovery words' });
  assert.equal(await show.isDisabled(), true, 'not before the confirmation');
  await page.getByLabel(/No one else can see this screen/).check();
  await show.click();
  const words = page.getByTestId('recovery-words').locator('li');
  await words.first().waitFor();
  assert.equal(await words.count(), 24);
  await shot('shown');
  await page.getByRole('button', { name: 'Hide the words' }).click();
  assert.equal(await page.getByTestId('recovery-words').count(), 0);
  assert.deepEqual(errors, []);
  await close();
});

test('a tablet facing the customer pairs by a code, shows the sale with a key that reads nothing else, and is unpaired when revoked', async () => {
  const { page, shot, errors, close } = await openPage(browser, sandbox.api, sandbox.admin, 'display-pairing');
  // The tablet: another browser (nothing shared with the dashboard), the display's address alone.
  const tabletContext = await browser.newContext({ viewport: { width: 1024, height: 768 } });
  const tablet = await tabletContext.newPage();
  const tabletErrors = [];
  tablet.on('pageerror', (e) => tabletErrors.push(e.message));
  await tablet.goto(sandbox.api + '/#/display');
  await tablet.getByRole('form', { name: 'Pair this screen' }).waitFor();
  assert.equal(await tablet.getByLabel('API key').count(), 0, 'a display never asks for an API key');
  assert.deepEqual(await axeViolations(tablet), []);
  await tablet.screenshot({ path: `${outputDir}/display-pairing/tablet-unpaired.png` });

  // The counter shows a code (and the link's QR) …
  await nav(page, 'Point of sale');
  await page.getByRole('button', { name: 'Pair a screen' }).click();
  const shown = page.getByTestId('pair-code-shown');
  await shown.waitFor();
  const code = (await shown.textContent()).trim();
  assert.match(code, /^[A-Z2-9]{4}-[A-Z2-9]{4}$/);
  await page.getByRole('img', { name: 'QR code of the link that pairs a display' }).waitFor();
  await shot('pair-a-screen');
  // … a wrong code is refused with what to do, the right one (typed as a person might) pairs.
  await tablet.getByLabel('Code').fill('AAAA-AAAA');
  await tablet.getByRole('button', { name: 'Pair' }).click();
  await tablet.getByRole('alert').filter({ hasText: 'unknown, used or expired' }).waitFor();
  await tablet.getByLabel('Code').fill(code.replace('-', ' ').toLowerCase());
  await tablet.getByLabel('Name of this screen (optional)').fill('Counter tablet');
  await tablet.getByRole('button', { name: 'Pair' }).click();
  await tablet.getByText('Welcome').waitFor();
  // What the tablet holds reads the current sale and nothing else.
  const held = await tablet.evaluate(() => localStorage.getItem('payaiml.display.key'));
  assert.ok(held?.startsWith('pk_'), 'the display keeps its own key');
  const refused = await call(sandbox.api, held, 'GET', '/v1/lightning/balance');
  assert.equal(refused.status, 403);
  const ownKeys = await call(sandbox.api, sandbox.admin, 'GET', '/v1/keys');
  const listed = ownKeys.body.data.find((k) => k.name === 'Customer display: Counter tablet');
  assert.deepEqual(listed?.permissions, ['display:read']);

  // A sale at the counter shows on the tablet, and its payment too.
  await page.getByRole('button', { name: 'Close' }).click();
  for (const key of ['1', '2', '3', '4']) await page.getByRole('button', { name: key, exact: true }).click();
  await page.getByRole('button', { name: 'Charge 1,234 sats' }).click();
  await page.locator('img.qr').waitFor();
  await tablet.getByRole('img', { name: /QR code to pay 1,234 sats/ }).waitFor({ timeout: 10_000 });
  assert.deepEqual(await axeViolations(tablet), []);
  await tablet.screenshot({ path: `${outputDir}/display-pairing/tablet-qr.png` });
  const newest = await call(sandbox.api, sandbox.admin, 'GET', '/v1/lightning/invoices?limit=1');
  await call(sandbox.api, sandbox.admin, 'POST', '/v1/sandbox/pay', { payment_request: newest.body.data[0].payment_request });
  await tablet.getByText('Thank you — paid').waitFor({ timeout: 15_000 });
  await page.getByRole('button', { name: 'New sale' }).click();
  await tablet.getByText('Welcome').waitFor({ timeout: 10_000 });

  // Revoked from API keys, the tablet is unpaired at its next read and asks for a new code.
  await nav(page, 'API keys');
  page.once('dialog', (d) => d.accept());
  await page.getByRole('button', { name: 'Revoke Customer display: Counter tablet' }).click();
  await tablet.getByRole('form', { name: 'Pair this screen' }).waitFor({ timeout: 10_000 });
  await tablet.getByRole('alert').filter({ hasText: 'no longer paired' }).waitFor();
  assert.equal(await tablet.evaluate(() => localStorage.getItem('payaiml.display.key')), null);
  assert.deepEqual(errors, []);
  assert.deepEqual(tabletErrors, []);
  await tabletContext.close();
  await close();
});
