// The counter of a café pricing in euros, as the owner sets it up and a cashier uses it: a tax
// rate and items with a picture in the Catalog, a cart built from the item grid with a note, a
// tip chosen by the customer on the customer display, one invoice for it all paid by the
// sandbox's customer, the parts on the paid screen, a cart parked and taken back, and the day
// report's taxes and tips. Rates come from the loopback stand-in (60,000.00 EUR/BTC).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';

import { startRatesStandIn } from '../stand-ins/rates.mjs';
import { call, launch, nav, openPage, outputDir, startSandbox } from './harness.mjs';

// What a person reads: the rendered text, with the layout's breaks as spaces.
const text = async (locator) => (await locator.innerText()).replace(/\s+/g, ' ').trim();
// A 1×1 PNG: the picture a shop owner would pick, decoded and shrunk by the dashboard.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

let rates;
let sandbox;
let browser;

before(async () => {
  rates = await startRatesStandIn();
  sandbox = await startSandbox({ args: ['--rate-url', rates.rateUrls, '--rate-refresh', '2s'] });
  browser = await launch();
  const set = await call(sandbox.api, sandbox.admin, 'PATCH', '/v1/settings', { currency: 'EUR' });
  assert.equal(set.status, 200);
});

after(async () => {
  await browser?.close();
  await sandbox?.stop();
  await rates?.close();
});

test('a café sets up its catalog, sells a cart with a tip chosen on the customer display, and parks a cart', async () => {
  const { page, shot, errors, close } = await openPage(browser, sandbox.api, sandbox.admin, 'counter');

  // The catalog: VAT 20 % included as the default, two items in euros, one with a picture.
  await nav(page, 'Catalog');
  await page.getByTestId('catalog-empty').waitFor();
  const taxes = page.getByRole('form', { name: 'New tax rate' });
  await taxes.getByLabel('Name').fill('VAT');
  await taxes.getByLabel('Rate (%)').fill('20');
  await taxes.getByLabel('Default').check();
  await taxes.getByRole('button', { name: 'Add tax' }).click();
  await page.getByRole('table', { name: 'Tax rates' }).getByText('included in prices').waitFor();
  const form = page.getByRole('form', { name: 'New item' });
  const addItem = async (name, price, category, picture) => {
    await form.getByLabel('Name').fill(name);
    await form.getByLabel('Price', { exact: true }).fill(price);
    assert.equal(await form.getByLabel('Priced in').inputValue(), 'EUR', 'priced in the shop currency by default');
    await form.getByLabel('Category').fill(category);
    if (picture) {
      await form.getByLabel('Picture').setInputFiles({ name: 'cup.png', mimeType: 'image/png', buffer: PNG });
      await form.locator('img.thumb').waitFor();
    }
    await form.getByRole('button', { name: 'Add item' }).click();
    await page.getByRole('table', { name: 'Items' }).getByText(name).waitFor();
  };
  await addItem('Flat white', '3.60', 'Drinks', true);
  await addItem('Croissant', '2.20', 'Food', false);
  // A price with too many decimals is refused with the server's reason, and nothing is added.
  await form.getByLabel('Name').fill('Bad');
  await form.getByLabel('Price', { exact: true }).fill('1.234');
  await form.getByRole('button', { name: 'Add item' }).click();
  await form.getByText('EUR amounts have at most 2 decimals').waitFor();
  await form.getByLabel('Name').fill('');
  await form.getByLabel('Price', { exact: true }).fill('');
  assert.equal(await form.getByText('EUR amounts have at most 2 decimals').count(), 0, 'the error goes once the form changes');
  // Croissant first.
  await page.getByRole('button', { name: 'Move Croissant up' }).click();
  await page.waitForFunction(() => document.querySelector('[data-testid="catalog-row"]')?.textContent?.includes('Croissant'));
  await shot('catalog');
  // Out as CSV and back in from a spreadsheet's file: a row with a bad price adds nothing.
  const [exported] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export CSV' }).click(),
  ]);
  assert.match(readFileSync(await exported.path(), 'utf8'), /^name,price,currency,category,tax\r\nCroissant,2\.20,EUR,Food,default\r\nFlat white,3\.60,EUR,Drinks,default\r\n$/);
  await page.getByLabel('Import CSV').setInputFiles({ name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from('name,price,currency\r\nScone,2.505,EUR\r\n') });
  await page.getByText('item 1: EUR amounts have at most 2 decimals').waitFor();
  await page.getByLabel('Import CSV').setInputFiles({ name: 'menu.csv', mimeType: 'text/csv', buffer: Buffer.from('name,price,currency,category,tax\r\nMuffin,2.90,EUR,Food,VAT\r\n') });
  await page.getByTestId('catalog-transfer').getByText('Added 1 item from menu.csv.').waitFor();
  await page.getByRole('table', { name: 'Items' }).getByText('Muffin').waitFor();
  await page.getByRole('button', { name: 'Archive', exact: true }).last().click();
  // The archive is saved once the server answers: wait for it rather than race it.
  let listed = [];
  for (let i = 0; i < 50; i++) {
    listed = (await call(sandbox.api, sandbox.admin, 'GET', '/v1/catalog/items')).body.data;
    if (listed.length === 2) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.deepEqual(listed.map((i) => i.name), ['Croissant', 'Flat white']);
  assert.match(listed[1].image, /^data:image\/jpeg;base64,/, 'the picture, shrunk to a JPEG');

  // The counter: two flat whites and a warmed croissant.
  await nav(page, 'Point of sale');
  const grid = page.getByRole('region', { name: 'Items' });
  await grid.getByRole('button', { name: /^Add Flat white/ }).click();
  await grid.getByRole('button', { name: /^Add Flat white/ }).click();
  await grid.getByRole('button', { name: /^Add Croissant/ }).click();
  await page.getByRole('button', { name: 'Note for Croissant' }).click();
  await page.getByRole('textbox', { name: 'Note for Croissant' }).fill('warmed');
  await page.getByTestId('cart-total').getByText('€9.40').waitFor();
  assert.match(await text(page.getByTestId('cart-totals')), /VAT 20 % incl\. €1\.57/);
  await shot('cart');

  // Tips on: the question shows on both screens; the customer answers on the display.
  await page.getByTestId('pos-ask-tip').check();
  const [display] = await Promise.all([
    page.context().waitForEvent('page'),
    page.getByRole('button', { name: 'Customer display' }).click(),
  ]);
  await display.getByText('Welcome').waitFor();
  await page.getByRole('button', { name: 'Charge €9.40' }).click();
  await page.getByTestId('tip-10').waitFor();
  await display.getByTestId('tip-10').waitFor({ timeout: 10_000 });
  assert.match(await text(display.getByTestId('tip-10')), /10 % \+€0\.94 €10\.34/);
  await display.screenshot({ path: `${outputDir}/counter/customer-tip.png` });
  await display.getByTestId('tip-10').click();
  await page.locator('img.qr').waitFor({ timeout: 10_000 });
  await display.getByTestId('display-order').waitFor({ timeout: 10_000 });
  assert.match(await text(display.getByTestId('display-order')), /2× Flat white €7\.20 Croissant · warmed €2\.20 incl\. VAT 20 % €1\.57 Tip 10 % €0\.94 Total €10\.34/);
  assert.equal(await text(page.getByTestId('pos-sale-fiat')), '€10.34');
  await display.screenshot({ path: `${outputDir}/counter/customer-qr.png` });
  await shot('qr-cart');
  const sale = (await call(sandbox.api, sandbox.admin, 'GET', '/v1/lightning/invoices?limit=1')).body.data[0];
  assert.deepEqual(
    [sale.order.total, sale.order.tip, sale.order.tip_percent, sale.order.tax, sale.fiat.amount, sale.amount],
    ['10.34', '0.94', '10', '1.57', '10.34', 17233],
  );
  assert.equal(sale.order.lines[1].note, 'warmed');
  assert.equal(sale.description, '2× Flat white, Croissant');

  const paid = await call(sandbox.api, sandbox.admin, 'POST', '/v1/sandbox/pay', { payment_request: sale.payment_request });
  assert.equal(paid.body.status, 'succeeded');
  await page.getByTestId('pos-paid').waitFor({ timeout: 15_000 });
  assert.match(await text(page.getByTestId('pos-paid-order')), /2× Flat white €7\.20 Croissant · warmed €2\.20 incl\. VAT 20 % €1\.57 Tip 10 % €0\.94 Total €10\.34/);
  await shot('paid-cart');

  // The receipt: printed from the paid screen through a hidden frame (the dashboard never
  // reaches the paper), with the shop's details from Settings; both layouts as printed.
  const shop = await call(sandbox.api, sandbox.admin, 'PATCH', '/v1/settings', { shop: { name: 'Café Bleu', address: '1 Rue de la Paix\n75002 Paris', tax_id: 'FR12345678901', footer: 'Merci, à bientôt !' } });
  assert.equal(shop.status, 200);
  const [receiptRequest] = await Promise.all([
    page.waitForRequest((r) => r.url().includes(`/v1/lightning/invoices/${sale.id}/receipt?paper=80mm`)),
    page.getByRole('button', { name: 'Print receipt' }).click(),
  ]);
  assert.ok(receiptRequest);
  const frame = page.locator('iframe[title="Receipt"]');
  await frame.waitFor({ state: 'attached' });
  assert.match(await frame.getAttribute('srcdoc'), /Café Bleu[\s\S]*2 × Flat white[\s\S]*Tip 10 %[\s\S]*17,233 sats/);
  for (const [paper, width] of [['80mm', 302], ['a4', 794]]) {
    const res = await fetch(`${sandbox.api}/v1/lightning/invoices/${sale.id}/receipt?paper=${paper}`, { headers: { Authorization: `Bearer ${sandbox.admin}` } });
    const printed = await browser.newPage({ viewport: { width, height: 900 } });
    await printed.setContent(await res.text());
    await printed.emulateMedia({ media: 'print' });
    await printed.screenshot({ path: `${outputDir}/counter/receipt-${paper}.png`, fullPage: true });
    await printed.close();
  }
  await display.getByText('Thank you — paid').waitFor({ timeout: 15_000 });
  await display.close();
  await page.getByRole('button', { name: 'New sale' }).click();
  assert.equal(await page.getByTestId('cart-line').count(), 0, 'a paid cart is done');

  // Park a cart, serve the next customer, take it back.
  await page.getByTestId('pos-ask-tip').uncheck();
  await grid.getByRole('button', { name: /^Add Croissant/ }).click();
  await page.getByRole('button', { name: 'Park cart' }).click();
  assert.equal(await page.getByTestId('cart-line').count(), 0);
  await page.getByTestId('held-cart').waitFor();
  await page.reload();
  await page.getByTestId('held-cart').click({ timeout: 15_000 });
  await page.getByTestId('cart-line').first().getByText('Croissant').waitFor();
  await shot('cart-resumed');

  // Part of the sale goes back: the customer's invoice for 2,000 sats, checked, then refunded,
  // and seen on the sale and on the payment.
  await page.evaluate((id) => { location.hash = `#/invoices/${id}`; }, sale.id);
  const back = (await call(sandbox.api, sandbox.admin, 'POST', '/v1/sandbox/invoice', { amount: 2000, description: 'refund: one croissant' })).body;
  const refundForm = page.getByRole('form', { name: 'Refund' });
  await refundForm.getByLabel("Customer's invoice").fill(back.payment_request);
  await refundForm.getByRole('button', { name: 'Check' }).click();
  await refundForm.getByTestId('refund-check').getByText('2,000 sats').waitFor();
  await refundForm.getByRole('button', { name: 'Refund', exact: true }).click();
  await refundForm.getByTestId('refund-result').getByText('Refund succeeded').waitFor({ timeout: 30_000 });
  await page.getByTestId('invoice-refunded').getByText('2,000 sats').waitFor({ timeout: 15_000 });
  await shot('refunded');
  const refundPayment = (await call(sandbox.api, sandbox.admin, 'GET', '/v1/lightning/payments?limit=1')).body.data[0];
  assert.equal(refundPayment.refund_of, sale.id);

  // The day report has the taxes and the tip.
  await nav(page, 'Reports');
  await page.getByTestId('report-parts').waitFor({ timeout: 15_000 });
  assert.match(await text(page.getByTestId('report-tips')), /€0\.94/);
  assert.deepEqual(errors, []);
  await close();
});

test('the owner locks the counter for a cashier: a sale, nothing else reachable, wrong PINs refused, the right one unlocks', async () => {
  const { page, shot, errors, close } = await openPage(browser, sandbox.api, sandbox.admin, 'cashier');
  await nav(page, 'Settings');
  // The owner's choices for the counter: its tip buttons, and refunds by the cashier.
  const counter = page.getByRole('form', { name: 'Point of sale' });
  await counter.getByLabel('Tip percentages').fill('18 5, 12.5%');
  await counter.getByLabel('The locked counter may refund its own sales').check();
  // Refunds at the counter need a daily limit.
  await counter.getByRole('button', { name: 'Save' }).click();
  await counter.getByText('set the most the counter may refund per day').waitFor();
  await counter.getByLabel('Most the counter may refund per day (sats, fees included)').fill('20,000');
  await counter.getByRole('button', { name: 'Save' }).click();
  await counter.getByText('Saved.').waitFor();
  assert.equal(await counter.getByLabel('Most the counter may refund per day (sats, fees included)').inputValue(), '20000');
  assert.equal(await counter.getByLabel('Tip percentages').inputValue(), '5, 12.5, 18', 'kept in order');
  await counter.getByLabel('Tip percentages').fill('0');
  await counter.getByRole('button', { name: 'Save' }).click();
  await counter.getByText('a tip preset of 0 % is the "No tip" button').waitFor();
  await counter.getByLabel('Tip percentages').fill('5, 12.5, 18');
  const form = page.getByRole('form', { name: 'Cashier lock' });
  await form.getByLabel('PIN (4 to 12 digits)').fill('2468');
  await form.getByLabel('The same PIN again').fill('2468');
  await form.getByRole('button', { name: 'Set PIN' }).click();
  await form.getByText('PIN saved.').waitFor();
  await form.getByRole('button', { name: 'Lock to the point of sale' }).click();
  await page.getByTestId('locked-badge').waitFor();
  const links = page.getByRole('navigation', { name: 'Main' }).getByRole('link');
  assert.deepEqual(await links.allInnerTexts(), ['Point of sale', 'Today']);

  // The tab now holds the cashier's key, never the admin key.
  const tabKey = await page.evaluate(() => sessionStorage.getItem('payaiml.key'));
  assert.notEqual(tabKey, sandbox.admin);
  const asCashier = (method, path, body) => call(sandbox.api, tabKey, method, path, body);
  for (const [method, path, body] of [
    ['POST', '/v1/lightning/payments', { invoice: 'lnbcrt1' }],
    ['GET', '/v1/keys'],
    ['GET', '/v1/webhooks'],
    ['GET', '/v1/settings'],
    ['POST', '/v1/settings/recovery-words', { confirm: true }],
  ]) {
    assert.equal((await asCashier(method, path, body)).status, 403, `${method} ${path}`);
  }

  // A sale at the counter, in euros, with the owner's tip buttons and another amount typed in;
  // paid; the screen follows without the event stream.
  await page.getByTestId('pos-ask-tip').check();
  for (const key of ['2', 'Decimal point', '5']) await page.getByRole('button', { name: key, exact: true }).click();
  await page.getByRole('button', { name: 'Charge €2.50' }).click();
  const tips = page.getByRole('group', { name: 'Add a tip?' });
  await tips.getByTestId('tip-12.5').waitFor();
  assert.deepEqual(await tips.locator('button.tip strong').allInnerTexts(), ['No tip', '5 %', '12.5 %', '18 %', 'Other amount']);
  await tips.getByTestId('tip-other').click();
  await tips.getByTestId('tip-other-amount').fill('0,50');
  await tips.getByRole('button', { name: 'Add tip' }).click();
  await page.locator('img.qr').waitFor({ timeout: 10_000 });
  await shot('locked-qr');
  // Locked, the screen re-reads the waiting sale every 2 s (no event stream): focus goes to the
  // QR screen once, and a cashier who moves it (to Cancel, say) keeps it through those reads.
  await page.waitForFunction(() => document.activeElement?.getAttribute('aria-label') === 'Waiting for the payment');
  await page.getByRole('button', { name: 'Cancel' }).focus();
  await page.waitForTimeout(4_500);
  assert.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), 'Cancel', 'focus stayed where the cashier put it');
  const mine = (await asCashier('GET', '/v1/lightning/invoices')).body.data;
  assert.equal(mine.length, 1, 'the cashier sees its own sale only');
  assert.equal(mine[0].order.tip, '0.50', 'the tip typed in');
  assert.equal(mine[0].order.total, '3.00');
  await call(sandbox.api, sandbox.admin, 'POST', '/v1/sandbox/pay', { payment_request: mine[0].payment_request });
  await page.getByTestId('pos-paid').waitFor({ timeout: 15_000 });
  await page.getByRole('button', { name: 'New sale' }).click();

  // Other pages are out of reach: the address bar leads back to the counter.
  await page.evaluate(() => { location.hash = '#/payments'; });
  await page.getByRole('heading', { name: 'Point of sale' }).waitFor();
  assert.equal(await page.getByRole('heading', { name: 'Payments' }).count(), 0);
  await nav(page, 'Today');
  await page.getByTestId('today-row').first().waitFor({ timeout: 15_000 });
  assert.match(await text(page.getByTestId('today-summary')), /^1 sale/);
  // The owner allows it: the cashier refunds part of its sale to the customer's invoice.
  await page.getByTestId('today-row').first().getByRole('button', { name: 'Refund' }).click();
  const back = (await call(sandbox.api, sandbox.admin, 'POST', '/v1/sandbox/invoice', { amount: 1000, description: 'wrong order' })).body;
  const refundForm = page.getByRole('form', { name: 'Refund' });
  await refundForm.getByLabel("Customer's invoice").fill(back.payment_request);
  await refundForm.getByRole('button', { name: 'Check' }).click();
  await refundForm.getByTestId('refund-check').getByText('1,000 sats').waitFor();
  await refundForm.getByRole('button', { name: 'Refund', exact: true }).click();
  await refundForm.getByTestId('refund-result').getByText('Refund succeeded').waitFor({ timeout: 30_000 });
  await page.getByTestId('today-refunded').getByText('1,000 sats').waitFor({ timeout: 15_000 });
  await shot('today');

  // The lock survives a reload; wrong PINs are refused and counted; the right one unlocks.
  await page.reload();
  await page.getByTestId('locked-badge').waitFor();
  await page.getByRole('button', { name: 'Unlock' }).click();
  const unlock = page.getByRole('form', { name: 'Unlock' });
  for (const tries of [4, 3]) {
    await unlock.getByLabel("Owner's PIN").fill('0000');
    await unlock.getByRole('button', { name: 'Unlock' }).click();
    await unlock.getByText(`wrong PIN (${tries} more tries before each must wait)`).waitFor();
  }
  await shot('wrong-pin');
  await unlock.getByLabel("Owner's PIN").fill('2468');
  await unlock.getByRole('button', { name: 'Unlock' }).click();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('payaiml.key')), sandbox.admin, 'the admin key is back');
  assert.equal((await call(sandbox.api, sandbox.admin, 'GET', '/v1/cashier')).body.locked, false);
  // The cashier's key of that lock ends with it: a copy kept from the counter's browser is refused.
  assert.equal((await asCashier('GET', '/v1/cashier')).status, 401, 'the cashier key is revoked at unlock');
  assert.deepEqual(errors, []);
  await close();
});

test('a static QR for tips is printed once and paid twice, each payment with its note', async () => {
  const { page, shot, errors, close } = await openPage(browser, sandbox.api, sandbox.admin, 'counter');
  const shop = await call(sandbox.api, sandbox.admin, 'PATCH', '/v1/settings', { shop: { name: 'Café Bleu', address: '', tax_id: '', footer: '' } });
  assert.equal(shop.status, 200);
  await nav(page, 'Static QR');
  await page.getByText('No static QR yet.').waitFor();
  const form = page.getByRole('form', { name: 'New static QR' });
  // A price that is not a whole number of sats is refused before anything is made.
  await form.getByLabel('What it is for').fill('Coffee');
  await form.getByLabel('Price in sats').fill('abc');
  await form.getByRole('button', { name: 'Make QR' }).click();
  await form.getByText('The price is a whole number of sats').waitFor();
  await form.getByLabel('What it is for').fill('Tips for the team');
  await form.getByLabel('Price in sats').fill('');
  await form.getByRole('button', { name: 'Make QR' }).click();
  const card = page.getByRole('region', { name: 'Static QR Tips for the team' });
  await card.waitFor();
  assert.match(await text(card), /Any amount · 0 payments/);
  // The sticker, as the preview shows it and as it prints on A4 (the QR inside).
  const preview = card.locator('iframe[title="Sticker of Tips for the team"]');
  await preview.waitFor();
  assert.match(await preview.getAttribute('srcdoc'), /Café Bleu[\s\S]*Tips for the team[\s\S]*Pay any amount[\s\S]*<svg/);
  await shot('offer');
  const [stickerRequest] = await Promise.all([
    page.waitForRequest((r) => r.url().includes('/sticker?paper=80mm')),
    card.getByRole('button', { name: 'Print sticker' }).click(),
  ]);
  assert.ok(stickerRequest);
  await page.locator('iframe[title="Sticker"]').waitFor({ state: 'attached' });
  const offers = await call(sandbox.api, sandbox.admin, 'GET', '/v1/lightning/offers');
  const offer = offers.body.data[0];
  assert.match(offer.offer, /^lno1/);
  const res = await fetch(`${sandbox.api}/v1/lightning/offers/${offer.id}/sticker?paper=a4`, { headers: { Authorization: `Bearer ${sandbox.admin}` } });
  const printed = await browser.newPage({ viewport: { width: 794, height: 1123 } });
  await printed.setContent(await res.text());
  await printed.emulateMedia({ media: 'print' });
  await printed.screenshot({ path: `${outputDir}/counter/offer-sticker-a4.png`, fullPage: true });
  await printed.close();

  // Two customers scan it, each with their own amount and note: two sales, counted live.
  for (const [amount, note] of [[2100, 'Table 4, merci !'], [500, 'for the barista']]) {
    const paid = await call(sandbox.api, sandbox.admin, 'POST', '/v1/sandbox/pay', { payment_request: offer.offer, amount, payer_note: note });
    assert.equal(paid.body.status, 'succeeded', JSON.stringify(paid.body));
  }
  await card.getByTestId('offer-payments').getByText('2 payments').waitFor({ timeout: 15_000 });
  assert.match(await text(card), /2,600 sats received/);
  await nav(page, 'Invoices');
  const table = page.getByRole('table', { name: 'Invoices' });
  await table.getByText('“Table 4, merci !”').waitFor();
  await table.getByText('“for the barista”').click();
  assert.equal(await text(page.getByTestId('invoice-payer-note')), 'for the barista');
  assert.equal(await text(page.getByTestId('invoice-status')), 'paid');
  await shot('offer-payment');
  assert.deepEqual(errors, []);
  await close();
});

test('a large sale offers one QR a wallet pays on-chain or over Lightning, and the customer pays on-chain', async () => {
  const { page, shot, errors, close } = await openPage(browser, sandbox.api, sandbox.admin, 'counter');
  await nav(page, 'Point of sale');
  await page.getByTestId('pos-onchain').check();
  for (const key of ['2', '0']) await page.getByRole('button', { name: key, exact: true }).click();
  await page.getByRole('button', { name: 'Charge €20.00' }).click();
  await page.getByTestId('pos-onchain-hint').waitFor({ timeout: 10_000 });
  await page.locator('img.qr').waitFor();
  const sale = (await call(sandbox.api, sandbox.admin, 'GET', '/v1/lightning/invoices?limit=1')).body.data[0];
  assert.match(sale.onchain.uri, /^bitcoin:bcrt1[^?]+\?amount=0\.00033333&message=Point%20of%20sale&lightning=lnbcrt/);
  await shot('pos-onchain');
  await page.getByRole('button', { name: 'Pay it on-chain from the sandbox customer' }).click();
  await page.getByTestId('pos-paid').waitFor({ timeout: 60_000 });
  const paid = (await call(sandbox.api, sandbox.admin, 'GET', `/v1/lightning/invoices/${sale.id}`)).body;
  assert.equal(paid.status, 'paid');
  assert.match(paid.onchain.txid, /^[0-9a-f]{64}$/);
  await page.getByRole('button', { name: 'New sale' }).click();
  await page.getByTestId('pos-onchain').uncheck();
  assert.deepEqual(errors, []);
  await close();
});
