// Prices in the merchant's currency, as a café owner uses them: choose EUR in Settings, charge
// 3.50 at the point of sale and see euros and sats on the QR screen, the customer display and the
// paid screen; the Overview's totals and chart follow the sale; the transactions CSV downloads
// and reads back to the same rows; the daily report prints on A4 and on an 80 mm receipt. The
// four rate providers are a loopback stand-in answering in their own formats (60,000.00 EUR/BTC).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';

import { startRatesStandIn } from '../stand-ins/rates.mjs';
import { call, launch, nav, openPage, outputDir, startSandbox } from './harness.mjs';

const text = async (locator) => (await locator.textContent()).replace(/\s+/g, ' ').trim();

let rates;
let sandbox;
let browser;

before(async () => {
  rates = await startRatesStandIn();
  sandbox = await startSandbox({ args: ['--rate-url', rates.rateUrls, '--rate-refresh', '2s'] });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await sandbox?.stop();
  await rates?.close();
});

/** RFC 4180 rows of a CSV text (quoted fields with commas, doubled quotes, CRLF). */
function parseCsv(textIn) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < textIn.length; i += 1) {
    const ch = textIn[i];
    if (quoted) {
      if (ch === '"' && textIn[i + 1] === '"') { field += '"'; i += 1; }
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { row.push(field); field = ''; }
    else if (ch === '\r' && textIn[i + 1] === '\n') { row.push(field); rows.push(row); row = []; field = ''; i += 1; }
    else field += ch;
  }
  if (field || row.length) { row.push(field); rows.push(row); }
  return rows;
}

test('a café prices in euros: settings, a sale at the counter, the overview, the CSV and the daily report', async () => {
  const { page, shot, errors, close } = await openPage(browser, sandbox.api, sandbox.admin, 'fiat');

  // Settings: sats only at first; choose EUR and see the rate and each provider.
  await nav(page, 'Settings');
  const form = page.getByRole('form', { name: 'Currency and exchange rates' });
  await form.getByTestId('currency').selectOption('EUR');
  await form.getByRole('button', { name: 'Save' }).click();
  await page.getByTestId('current-rate').getByText('€60,000.00').waitFor({ timeout: 15_000 });
  assert.match(await text(page.getByTestId('current-rate')), /from bitstamp, coinbase, coingecko, kraken/);
  await shot('settings-currency');

  // The Overview before the sale.
  await nav(page, 'Overview');
  await page.getByTestId('sales-today').waitFor();
  const countBefore = Number(await text(page.getByTestId('sales-count')));

  // The point of sale takes the price in euros, says what it comes to in sats.
  await nav(page, 'Point of sale');
  for (const key of ['3', 'Decimal point', '5']) await page.getByRole('button', { name: key, exact: true }).click();
  await page.getByLabel('Memo').fill('Cappuccino');
  assert.equal(await page.getByTestId('pos-amount').textContent(), '€3.50');
  await page.getByTestId('pos-sats').getByText('≈ 5,833 sats at €60,000.00 per BTC').waitFor();
  await shot('keypad-eur');
  const [display] = await Promise.all([
    page.context().waitForEvent('page'),
    page.getByRole('button', { name: 'Customer display' }).click(),
  ]);
  await display.getByText('Welcome').waitFor();
  await page.getByRole('button', { name: 'Charge €3.50' }).click();
  await page.locator('img.qr').waitFor();
  assert.equal(await text(page.getByTestId('pos-sale-fiat')), '€3.50');
  assert.match(await text(page.getByTestId('pos-sale-sats')), /^5,833 sats/);
  await shot('qr-eur');
  await display.locator('img.qr').waitFor({ timeout: 10_000 });
  assert.equal(await text(display.getByTestId('display-fiat')), '€3.50');
  assert.equal(await text(display.getByTestId('display-sats')), '5,833 sats');
  await display.screenshot({ path: `${outputDir}/fiat/customer-display-eur.png` });
  const newest = (await call(sandbox.api, sandbox.admin, 'GET', '/v1/lightning/invoices?limit=1')).body.data[0];
  assert.equal(newest.amount, 5833);
  assert.deepEqual([newest.fiat.amount, newest.fiat.currency, newest.fiat.rate, newest.fiat.priced_in_fiat], ['3.50', 'EUR', '60000', true]);
  await call(sandbox.api, sandbox.admin, 'POST', '/v1/sandbox/pay', { payment_request: newest.payment_request });
  await page.getByTestId('pos-paid').waitFor({ timeout: 15_000 });
  assert.equal(await text(page.getByTestId('pos-paid-fiat')), '€3.50');
  await shot('paid-eur');
  await display.getByText('Thank you — paid').waitFor({ timeout: 15_000 });
  assert.match(await text(display.getByTestId('customer-display')), /€3\.50/);
  await display.close();
  await page.getByRole('button', { name: 'New sale' }).click();

  // The Overview counts it, in euros too, and its charts have it.
  await nav(page, 'Overview');
  const count = page.getByTestId('sales-count');
  await page.waitForFunction(([el, n]) => Number(el.textContent) === n, [await count.elementHandle(), countBefore + 1], { timeout: 15_000 });
  assert.match(await text(page.getByTestId('sales-fiat')), /^€\d/);
  assert.match(await text(page.getByTestId('latest-sales')), /Cappuccino 5,833 sats · €3\.50/);
  const bars = await page.getByTestId('chart-hours').locator('rect.bar').evaluateAll((rs) => rs.filter((r) => Number(r.getAttribute('height')) > 0).length);
  assert.ok(bars >= 1, 'a bar for this hour');
  assert.match(await page.getByTestId('chart-days').locator('svg').getAttribute('aria-label'), /Last 30 days: \d+ sales?/);
  await shot('overview-sales');

  // The CSV downloads and reads back to the rows the API has.
  await nav(page, 'Reports');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download CSV' }).click(),
  ]);
  const file = await download.path();
  const rows = parseCsv(readFileSync(file, 'utf8'));
  const header = rows[0];
  assert.deepEqual(header.slice(0, 4), ['time', 'time_utc', 'direction', 'status']);
  const col = (name) => header.indexOf(name);
  const sale = rows.find((r) => r[col('invoice_id')] === newest.id);
  assert.ok(sale, 'a row for the sale');
  assert.deepEqual(
    [sale[col('direction')], sale[col('amount_sat')], sale[col('fiat_amount')], sale[col('currency')], sale[col('rate')], sale[col('description')]],
    ['received', '5833', '3.50', 'EUR', '60000', 'Cappuccino'],
  );
  const api = await fetch(`${sandbox.api}/v1/reports/transactions.csv`, { headers: { Authorization: `Bearer ${sandbox.admin}` } });
  assert.deepEqual(parseCsv(await api.text()).slice(1).map((r) => r[col('invoice_id')] || r[col('payment_id')]),
    rows.slice(1).map((r) => r[col('invoice_id')] || r[col('payment_id')]), 'the download has the API\'s rows');
  await page.getByTestId('csv-done').waitFor();

  // The daily report, as printed: A4 and an 80 mm receipt.
  const report = page.getByTestId('day-report');
  await page.waitForFunction((el) => Number(el.textContent) >= 1, await page.getByTestId('report-count').elementHandle());
  assert.match(await text(page.getByTestId('report-total')), /€.* · .* sats/);
  await shot('reports');
  await page.evaluate(() => { window.print = () => {}; });
  await page.getByRole('button', { name: 'Print (A4)' }).click();
  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.getByRole('navigation', { name: 'Main' }).isVisible(), false, 'no menu on paper');
  await page.screenshot({ path: `${outputDir}/fiat/print-a4.png`, fullPage: true });
  await page.emulateMedia({ media: 'screen' });
  await page.getByRole('button', { name: 'Print (80 mm receipt)' }).click();
  await page.emulateMedia({ media: 'print' });
  const width = await report.evaluate((el) => el.getBoundingClientRect().width);
  assert.ok(width < 300, `the receipt layout is 72 mm wide (${width}px)`);
  await page.setViewportSize({ width: 320, height: 860 });
  await page.screenshot({ path: `${outputDir}/fiat/print-receipt.png`, fullPage: true });
  await page.emulateMedia({ media: 'screen' });
  assert.deepEqual(errors, []);
  await close();
});

test('with every provider down and no fresh rate, the counter cannot charge in euros and says why', async () => {
  await rates.control({ mode: { all: 'down' } });
  // The EUR rate fetched above stays good until it is five minutes old; CHF has never been asked
  // for, so with every provider down there is none.
  const changed = await call(sandbox.api, sandbox.admin, 'PATCH', '/v1/settings', { currency: 'CHF' });
  assert.equal(changed.status, 200);
  const { page, shot, errors, close } = await openPage(browser, sandbox.api, sandbox.admin, 'fiat-down');
  await nav(page, 'Point of sale');
  await page.getByTestId('pos-no-rate').waitFor({ timeout: 15_000 });
  for (const key of ['4', '2']) await page.getByRole('button', { name: key, exact: true }).click();
  assert.equal(await page.getByRole('button', { name: /^Charge/ }).isDisabled(), true);
  const refused = await call(sandbox.api, sandbox.admin, 'POST', '/v1/lightning/invoices', { fiat: { amount: '42.00', currency: 'CHF' } });
  assert.equal(refused.status, 503);
  assert.equal(refused.body.error.code, 'rate_unavailable');
  await shot('no-rate');
  // In sats it still charges.
  await page.getByRole('group', { name: 'Price in' }).getByRole('button', { name: 'sats' }).click();
  await page.getByRole('group', { name: 'Keypad (sats)' }).waitFor();
  await call(sandbox.api, sandbox.admin, 'PATCH', '/v1/settings', { currency: null });
  await rates.control({ mode: { all: 'ok' } });
  assert.deepEqual(errors, []);
  await close();
});
