// Accessibility at every size and in both colour schemes: axe-core (WCAG 2.2 AA rules) on every
// page of the dashboard, the sign-in screen, the point of sale's QR and paid screens and the
// customer display, at desktop (1280×860), POS tablet (1024×768) and phone (390×844) sizes, in
// light and dark. Any violation fails, naming the rule and the elements. (The journeys also check
// every state they photograph, in light at desktop size.)

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { axeViolations, call, launch, outputDir, startSandbox } from './harness.mjs';

// The screens the README's gallery shows at each size and scheme.
const GALLERY = ['/', '/invoices', '/pos', '/payments', '/webhooks', '/reports', '/settings'];

const SIZES = { desktop: [1280, 860], tablet: [1024, 768], phone: [390, 844] };

let sandbox;
let browser;
let paidId;
let backupDir;

before(async () => {
  // Backed up to a folder: the Overview's backup line and Settings → Backup's status are checked
  // at every size and in both schemes too.
  backupDir = mkdtempSync(join(tmpdir(), 'payaiml-a11y-backup-'));
  sandbox = await startSandbox({ args: ['--backup', backupDir] });
  browser = await launch();
  // Something on every page: a paid and a pending invoice, a webhook, a catalog item, an offer.
  const paid = await call(sandbox.api, sandbox.admin, 'POST', '/v1/lightning/invoices', { amount: 1000, description: 'Tea' });
  paidId = paid.body.id;
  await call(sandbox.api, sandbox.admin, 'POST', '/v1/sandbox/pay', { payment_request: paid.body.payment_request });
  await call(sandbox.api, sandbox.admin, 'POST', '/v1/lightning/invoices', { amount: 2000, description: 'Cake' });
  await call(sandbox.api, sandbox.admin, 'POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/webhook' });
  await call(sandbox.api, sandbox.admin, 'POST', '/v1/catalog/items', { name: 'Espresso', price: '2500', category: 'Drinks' });
  await call(sandbox.api, sandbox.admin, 'POST', '/v1/lightning/offers', { description: 'Tips' });
  // A wallet connection (its relay a closed port here), revoked: API keys lists it, and the
  // Overview has no relay to warn about in the gallery's pictures.
  const nwc = await call(sandbox.api, sandbox.admin, 'POST', '/v1/nwc/connections', { name: 'Web shop', access: 'receive', relays: ['ws://127.0.0.1:9'] });
  assert.equal(nwc.status, 201, JSON.stringify(nwc.body));
  await call(sandbox.api, sandbox.admin, 'DELETE', `/v1/nwc/connections/${nwc.body.key.id}`);
  // An invoice that expires (no money moved) and a payment sent (money out).
  await call(sandbox.api, sandbox.admin, 'POST', '/v1/lightning/invoices', { amount: 3000, description: 'Forgotten', expiry: 1 });
  const theirs = await call(sandbox.api, sandbox.admin, 'POST', '/v1/sandbox/invoice', { amount: 400, description: 'Supplies' });
  await call(sandbox.api, sandbox.admin, 'POST', '/v1/lightning/payments', { invoice: theirs.body.payment_request });
});

after(async () => {
  await browser?.close();
  await sandbox?.stop();
  if (backupDir) rmSync(backupDir, { recursive: true, force: true });
});

for (const scheme of ['light', 'dark']) {
  for (const [size, [width, height]] of Object.entries(SIZES)) {
    test(`no violations on any page, ${scheme}, ${size} (${width}×${height})`, async () => {
      const context = await browser.newContext({ viewport: { width, height }, colorScheme: scheme });
      const page = await context.newPage();
      const found = {};
      const shots = join(outputDir, 'a11y');
      mkdirSync(shots, { recursive: true });
      const check = async (where) => {
        const v = await axeViolations(page);
        // Nothing pushes the page sideways: wide tables scroll inside their own box.
        const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        if (wide > 0) v.push({ id: 'page-scrolls-sideways', help: `the page is ${wide} px wider than the screen` });
        if (v.length > 0) found[where] = v;
      };
      await page.goto(`${sandbox.api}/`);
      await page.getByLabel('API key').fill(sandbox.admin);
      await check('sign-in');
      await page.getByRole('button', { name: 'Connect' }).click();
      await page.getByRole('navigation', { name: 'Main' }).waitFor();
      const pages = ['/', '/invoices', `/invoices/${paidId}`, '/pos', '/catalog', '/offers', '/payments', '/reports',
        '/keys', '/webhooks', '/node', '/settings'];
      for (const path of pages) {
        await page.evaluate((p) => { location.hash = `#${p}`; }, path);
        await page.locator('main h2').first().waitFor();
        await page.waitForTimeout(400);
        await check(path);
        // Pictures of the main screens at each size and scheme (output/a11y/), for the README's
        // gallery (scripts/refresh-screenshots.sh copies them to docs/screenshots/gallery/).
        if (GALLERY.includes(path)) {
          const name = path === '/' ? 'overview' : path.slice(1);
          await page.screenshot({ path: join(shots, `${name}-${size}-${scheme}.jpg`), type: 'jpeg', quality: 80 });
        }
      }
      // The point of sale's QR and paid screens, with the customer display beside it (opened
      // from the point of sale, as a shop does).
      await page.evaluate(() => { location.hash = '#/pos'; });
      const [display] = await Promise.all([
        context.waitForEvent('page'),
        page.getByRole('button', { name: 'Customer display' }).click(),
      ]);
      await display.getByText('Welcome').waitFor();
      found['/display (idle)'] = await axeViolations(display);
      for (const key of ['5', '0', '0']) await page.getByRole('button', { name: key, exact: true }).click();
      await page.getByRole('button', { name: /^Charge/ }).click();
      await page.locator('img.qr').waitFor({ timeout: 10_000 });
      await check('/pos (QR)');
      const sale = (await call(sandbox.api, sandbox.admin, 'GET', '/v1/lightning/invoices?limit=1')).body.data[0];
      await display.locator('img.qr').waitFor({ timeout: 10_000 });
      found['/display (QR)'] = await axeViolations(display);
      await display.setViewportSize({ width, height });
      await display.screenshot({ path: join(shots, `display-${size}-${scheme}.jpg`), type: 'jpeg', quality: 80 });
      await page.screenshot({ path: join(shots, `pos-qr-${size}-${scheme}.jpg`), type: 'jpeg', quality: 80 });
      await call(sandbox.api, sandbox.admin, 'POST', '/v1/sandbox/pay', { payment_request: sale.payment_request });
      await page.getByTestId('pos-paid').waitFor({ timeout: 15_000 });
      await check('/pos (paid)');
      await display.getByText('Thank you — paid').waitFor({ timeout: 15_000 });
      found['/display (paid)'] = await axeViolations(display);
      await page.getByRole('button', { name: 'New sale' }).click();
      for (const [where, v] of Object.entries(found)) if (v.length === 0) delete found[where];
      assert.deepEqual(found, {}, `axe-core violations (${scheme}, ${size}):\n${JSON.stringify(found, null, 1)}`);
      await context.close();
    });
  }
}

test('a whole sale at the point of sale with the keyboard only', async () => {
  const context = await browser.newContext({ viewport: { width: 1024, height: 768 } });
  const page = await context.newPage();
  await page.goto(`${sandbox.api}/`);
  await page.getByLabel('API key').fill(sandbox.admin);
  await page.keyboard.press('Enter');
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
  await page.evaluate(() => { location.hash = '#/pos'; });
  await page.reload();
  await page.getByRole('heading', { name: 'Point of sale' }).waitFor();
  // The skip link comes first and lands in the page, past the menu.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'main');
  // Type an amount; Escape clears it; type it again and charge with Enter.
  await page.keyboard.type('777');
  assert.equal((await page.getByTestId('pos-amount').innerText()).replace(/\s/g, ''), '777sats');
  await page.keyboard.press('Escape');
  assert.equal((await page.getByTestId('pos-amount').innerText()).replace(/\s/g, ''), '0sats');
  await page.keyboard.type('1500');
  await page.keyboard.press('Enter');
  await page.locator('img.qr').waitFor({ timeout: 10_000 });
  // Focus is on the QR screen, not on Cancel: a habitual Enter does not cancel the sale.
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Waiting for the payment');
  await page.keyboard.press('Enter');
  await page.locator('img.qr').waitFor();
  // Escape cancels the QR; the same amount can be charged again.
  await page.keyboard.press('Escape');
  await page.getByTestId('pos-amount').waitFor();
  await page.keyboard.type('1500');
  await page.keyboard.press('Enter');
  await page.locator('img.qr').waitFor({ timeout: 10_000 });
  const sale = (await call(sandbox.api, sandbox.admin, 'GET', '/v1/lightning/invoices?limit=1')).body.data[0];
  assert.equal(sale.amount, 1500);
  await call(sandbox.api, sandbox.admin, 'POST', '/v1/sandbox/pay', { payment_request: sale.payment_request });
  // Paid: focus moves to New sale, and Enter starts the next one, back on the amount.
  await page.getByTestId('pos-paid').waitFor({ timeout: 15_000 });
  await page.waitForFunction(() => document.activeElement?.textContent === 'New sale');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.activeElement?.getAttribute('data-testid') === 'pos-amount');
  assert.equal((await page.getByTestId('pos-amount').innerText()).replace(/\s/g, ''), '0sats');
  await context.close();
});

test('status says what happened: money in and out by direction, none for an expired invoice, a failing webhook, and the key in use marked', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  await page.goto(`${sandbox.api}/`);
  await page.getByLabel('API key').fill(sandbox.admin);
  await page.getByRole('button', { name: 'Connect' }).click();
  const activity = page.getByRole('table', { name: 'Recent activity' });
  const row = (text) => activity.getByRole('row').filter({ hasText: text });
  await row('Invoice expired').first().waitFor({ timeout: 15_000 });
  assert.equal((await row('Invoice expired').first().locator('td.num').innerText()).trim(), '', 'no money moved');
  const text = async (r) => (await r.first().locator('td.num').innerText()).replace(/\s+/g, ' ').trim();
  assert.equal(await text(row('Received — Tea')), '+ in: 1,000 sats');
  assert.match(await text(row('Sent')), /^− out: 40\d sats$/);
  // The webhook at a closed port: enabled, but the Overview and its card say it is failing.
  await page.getByTestId('overview-webhook-failing').waitFor({ timeout: 20_000 });
  assert.match(await page.getByTestId('overview-webhook-failing').innerText(), /127\.0\.0\.1:9\/webhook is not receiving events: \d+ failed attempts? in a row \(could not connect/);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks', exact: true }).click();
  await page.getByTestId('webhook-failing').waitFor();
  assert.match(await page.getByTestId('webhook-failing').innerText(), /Deliveries are failing/);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API keys', exact: true }).click();
  await page.getByTestId('own-key').waitFor();
  const own = page.getByRole('table', { name: 'API keys' }).getByRole('row').filter({ has: page.getByTestId('own-key') });
  assert.equal(await own.count(), 1, 'exactly one key is marked as the one this dashboard uses');
  let asked = '';
  page.once('dialog', async (d) => { asked = d.message(); await d.dismiss(); });
  await own.getByRole('button', { name: /^Revoke/ }).click();
  assert.match(asked, /the key this dashboard is using: revoking it signs this dashboard out at once/);
  assert.equal((await call(sandbox.api, sandbox.admin, 'GET', '/v1/health')).status, 200, 'dismissed: still signed in');
  await context.close();
});

test('an invoice made with the keyboard only, then found again by a search that covers every invoice, not the page loaded', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  await page.goto(`${sandbox.api}/`);
  await page.getByLabel('API key').fill(sandbox.admin);
  await page.keyboard.press('Enter');
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
  await page.evaluate(() => { location.hash = '#/invoices'; });
  await page.reload();
  await page.getByRole('heading', { name: 'Invoices' }).waitFor();
  // Skip link, then the form's fields in order, then Create with Enter.
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  const focused = () => page.evaluate(() => {
    const el = document.activeElement;
    return el?.getAttribute('name') ?? el?.textContent?.trim() ?? '';
  });
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'amount');
  await page.keyboard.type('4242');
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'description');
  await page.keyboard.type('Needle in the haystack');
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'expiry');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'Create invoice');
  await page.keyboard.press('Enter');
  // On the invoice: focus is on its heading, its QR is there.
  await page.locator('img.qr').waitFor({ timeout: 10_000 });
  await page.waitForFunction(() => document.activeElement?.tagName === 'H2');
  assert.equal(await focused(), 'Needle in the haystack');
  const made = (await call(sandbox.api, sandbox.admin, 'GET', '/v1/lightning/invoices?limit=1')).body.data[0];
  assert.equal(made.amount, 4242);
  assert.equal(made.description, 'Needle in the haystack');
  assert.equal(made.expiry, 86_400, 'the next choice down: 1 day');

  // Sixty more after it: the list's first page (50) no longer holds it, the search still finds it.
  for (let i = 0; i < 60; i++) {
    const r = await call(sandbox.api, sandbox.admin, 'POST', '/v1/lightning/invoices', { amount: 100 + i, description: `Haystack coffee ${i}` });
    assert.equal(r.status, 201);
  }
  await page.getByRole('link', { name: '← Invoices' }).click();
  await page.getByRole('cell', { name: 'Haystack coffee 59' }).waitFor();
  assert.equal(await page.getByRole('cell', { name: 'Needle in the haystack' }).count(), 0, 'not on the first page');
  const search = page.getByRole('search', { name: 'Search invoices' });
  await search.getByLabel('Search').fill('NEEDLE');
  await page.getByRole('cell', { name: 'Needle in the haystack' }).waitFor();
  assert.equal(await page.getByRole('table', { name: 'Invoices' }).locator('tbody tr').count(), 1);
  // By amount, with the text cleared.
  await search.getByLabel('Search').fill('');
  await search.getByLabel('At least (sats)').fill('4242');
  await search.getByLabel('At most (sats)').fill('4242');
  await page.waitForFunction(() => document.querySelectorAll('table[aria-label="Invoices"] tbody tr').length === 1);
  await page.getByRole('cell', { name: 'Needle in the haystack' }).waitFor();
  assert.deepEqual(await axeViolations(page), []);
  await page.screenshot({ path: `${outputDir}/a11y/invoice-search.png`, fullPage: true });
  // By date: nothing made tomorrow.
  const tomorrow = new Date(Date.now() + 86_400_000);
  const day = `${tomorrow.getFullYear()}-${String(tomorrow.getMonth() + 1).padStart(2, '0')}-${String(tomorrow.getDate()).padStart(2, '0')}`;
  await search.getByLabel('Made from').fill(day);
  await page.getByText('No invoice matches this search.').waitFor();
  await search.getByRole('button', { name: 'Clear' }).click();
  await page.getByRole('cell', { name: 'Haystack coffee 59' }).waitFor();
  await context.close();
});
