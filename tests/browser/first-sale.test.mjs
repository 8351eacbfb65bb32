// A new merchant's first sale at the counter: no channels yet, so the point of sale says before
// charging that this payment opens a channel from the LSP and what it may keep, shows the quote
// with the QR, and the paid screen shows what arrived and what the provider kept.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { call, launch, nav, openPage, startSandbox } from './harness.mjs';

/** The element's text as a person reads it: one space between words. */
const text = async (locator) => (await locator.textContent()).replace(/\s+/g, ' ').trim();

let sandbox;
let browser;

before(async () => {
  sandbox = await startSandbox({ fresh: true });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await sandbox?.stop();
});

test('the first sale of a fresh merchant opens a channel through the LSP, with its fee said before and after', async () => {
  const { page, shot, errors, close } = await openPage(browser, sandbox.api, sandbox.admin, 'first-sale');
  // The Overview says what the new node still lacks and how its first payment is received.
  const panel = page.getByTestId('readiness');
  await panel.getByText(/the first payment opens one through your LSP/).waitFor();
  assert.match(await text(panel.locator('[data-check="lsp"]')), /answers at 127\.0\.0\.1:\d+/);
  await shot('readiness');
  await nav(page, 'Point of sale');
  for (const key of ['1', '0', '0', '0', '0', '0']) await page.getByRole('button', { name: key, exact: true }).click();
  const note = page.getByTestId('pos-via-lsp');
  await note.waitFor();
  // 5,000 sat + 1 % of 100,000 sat: the default cap.
  assert.match(await text(note), /opens a channel from your Lightning service provider, which keeps at most 6,000 sats/);
  await shot('before-charge');
  await page.getByRole('button', { name: /^Charge/ }).click();
  await page.locator('img.qr').waitFor();
  assert.match(await text(page.getByTestId('pos-lsp-fee')), /keeps at most 2,000 sats/);
  await shot('qr');
  const sale = (await call(sandbox.api, sandbox.admin, 'GET', '/v1/lightning/invoices?limit=1')).body.data[0];
  assert.equal(sale.lsp.max_fee, 2000);
  await call(sandbox.api, sandbox.admin, 'POST', '/v1/sandbox/pay', { payment_request: sale.payment_request });
  await page.getByTestId('pos-paid').waitFor({ timeout: 30_000 });
  assert.match(await text(page.getByTestId('pos-paid')), /98,000 sats/);
  assert.match(await text(page.getByTestId('pos-lsp-kept')), /kept 2,000 sats for opening the channel/);
  await shot('paid');
  assert.deepEqual(errors, []);
  await close();
});
