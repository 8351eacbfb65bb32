// An app connected with Nostr Wallet Connect, on a tablet (1024×768): on API keys the owner
// connects an app that may receive and pay up to 5,000 sats a day, through a relay on a closed
// port of this computer (ws://127.0.0.1:9); the dialog shows the connection's URI once, as a QR
// code and as text, and the list shows the connection (and the keys table its key). No relay
// answers there, so the Overview says the relay is unreachable; the connection is shown again,
// then revoked. Nothing leaves 127.0.0.1: not the page, not the daemon.

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { axeViolations, call, launch, nav, openPage, outputDir, startSandbox, watchSockets } from './harness.mjs';

const TABLET = { width: 1024, height: 768 };
const dir = join(outputDir, 'nwc');
// A relay on a closed port of this computer: the wallet keeps trying it, and nothing answers.
const RELAY = 'ws://127.0.0.1:9';

// What a person reads: the rendered text, with the layout's breaks as spaces.
const text = async (locator) => (await locator.innerText()).replace(/\s+/g, ' ').trim();

let sandbox;
let sockets;
let browser;

before(async () => {
  mkdirSync(dir, { recursive: true });
  sandbox = await startSandbox();
  sockets = watchSockets(sandbox.pid);
  browser = await launch();
});

after(async () => {
  sockets?.stop();
  await browser?.close();
  await sandbox?.stop();
});

test('an app connected to receive and pay within a daily budget: its URI once as QR and text, the relay unreachable on the Overview, then revoked', async () => {
  const { page, shot, errors, requests, close } = await openPage(browser, sandbox.api, sandbox.admin, 'nwc', { viewport: TABLET });

  await nav(page, 'API keys');
  const section = page.getByTestId('nwc');
  await section.getByTestId('nwc-empty').waitFor();
  await section.getByRole('button', { name: 'Connect an app' }).click();

  // The dialog: a name, what the app may do, the budget once it may pay, the relay.
  const form = page.getByTestId('nwc-connect-dialog');
  await form.getByRole('heading', { name: 'Connect an app' }).waitFor();
  assert.equal(await form.getByLabel('Relays').inputValue(), 'wss://relay.getalby.com/v1', 'the relay offered the first time');
  assert.match(await text(form), /The app and the wallet meet on this relay: .* Nothing else learns anything: requests are end-to-end encrypted\./);
  await form.getByLabel('Name').fill('Web shop');
  assert.equal(await form.getByRole('radio', { name: 'Receive payments only' }).isChecked(), true, 'receiving only, unless chosen otherwise');
  assert.equal(await form.getByLabel('Daily budget (sats)').count(), 0, 'no budget for an app that cannot pay');
  await form.getByRole('radio', { name: 'Receive and pay' }).check();
  await form.getByLabel('Daily budget (sats)').fill('lots');
  await form.getByLabel('Relays').fill(RELAY);
  await shot('connect-form');
  await form.getByRole('button', { name: 'Create connection' }).click();
  await form.getByText('Give the daily budget in sats').waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('name')), 'budget', 'the budget field, to correct it');
  await form.getByLabel('Daily budget (sats)').fill('5000');
  await form.getByRole('button', { name: 'Create connection' }).click();

  // Made: the URI once, as a QR code and as text with Copy, and who may use it.
  const shown = page.getByTestId('nwc-uri-dialog');
  await shown.getByRole('heading', { name: 'Scan this with the app' }).waitFor();
  const uri = await text(shown.getByTestId('nwc-uri'));
  assert.ok(uri.startsWith('nostr+walletconnect://'), uri);
  assert.ok(uri.includes('relay=ws%3A%2F%2F127.0.0.1%3A9'), uri);
  assert.ok(uri.includes('secret='), uri);
  const qr = shown.getByRole('img', { name: 'QR code of the connection for Web shop' });
  await qr.waitFor();
  assert.ok(await qr.evaluate((img) => img.complete && img.naturalWidth > 0), 'the QR code is drawn');
  assert.ok((await qr.boundingBox()).width >= 200, 'the QR code is large enough to scan');
  await shown.getByRole('button', { name: 'Copy the text' }).waitFor();
  assert.match(await text(shown), /Whoever has this code can use the connection within its limits.*shown once here; you can show it again from the list/);
  assert.match(await text(shown), /Web shop · Receive and pay, up to 5,000 sats a day/);
  assert.deepEqual(await axeViolations(page), [], 'the dialog with the QR code passes axe');
  await shot('connect-uri');
  // The dialog for the README, over the page, as the tablet's screen shows it.
  await page.screenshot({ path: join(dir, 'nwc-connect.png') });

  const [made] = (await call(sandbox.api, sandbox.admin, 'GET', '/v1/nwc/connections')).body.data;
  assert.deepEqual(
    [made.key.name, made.access, made.key.budget, made.relays, made.key.revoked_at],
    ['Web shop', 'pay', 5000, [RELAY], null],
  );
  await shown.getByRole('button', { name: 'Done' }).click();
  await shown.waitFor({ state: 'detached' });

  // The list: what it may do, its budget, its relay; its key is marked in the keys table.
  const row = page.getByRole('table', { name: 'Wallet connections' }).getByTestId('nwc-row').filter({ hasText: 'Web shop' });
  await row.waitFor();
  assert.equal(await text(row.getByTestId('nwc-access')), 'Receive and pay');
  assert.equal(await text(row.getByTestId('nwc-budget')), '5,000 sats/day');
  assert.match(await text(row), /ws:\/\/127\.0\.0\.1:9/);
  assert.equal(await text(row.getByTestId('nwc-status')), 'active');
  const keyRow = page.getByRole('table', { name: 'API keys' }).getByRole('row').filter({ hasText: 'Web shop' });
  assert.equal(await text(keyRow.getByTestId('key-nwc')), '(wallet connection)');
  await shot('connections');

  // Shown again from the list: the same URI.
  await row.getByRole('button', { name: 'Show again Web shop' }).click();
  await shown.getByRole('heading', { name: 'Scan this with the app' }).waitFor();
  assert.equal(await text(shown.getByTestId('nwc-uri')), uri);
  await shown.getByRole('button', { name: 'Done' }).click();
  await shown.waitFor({ state: 'detached' });

  // No relay answers on port 9: the Overview says apps cannot reach the wallet now.
  await nav(page, 'Overview');
  const line = page.getByTestId('overview-nwc');
  await line.getByText('Relay unreachable — retrying; apps cannot reach the wallet now', { exact: false }).waitFor({ timeout: 45_000 });
  assert.match(await text(line), /Wallet connections: Relay unreachable — retrying; apps cannot reach the wallet now\. Not connected: ws:\/\/127\.0\.0\.1:9\./);
  const health = (await call(sandbox.api, sandbox.admin, 'GET', '/v1/health')).body;
  assert.equal(health.nwc?.status, 'down');
  await shot('overview-relay-down');

  // Revoked (after a confirmation): it stays in the list as revoked, with no actions.
  await nav(page, 'API keys');
  await row.waitFor();
  let asked = '';
  page.once('dialog', async (d) => { asked = d.message(); await d.accept(); });
  await row.getByRole('button', { name: 'Revoke Web shop' }).click();
  await row.getByTestId('nwc-status').getByText('revoked').waitFor();
  assert.match(asked, /^Revoke "Web shop"\? The wallet stops answering the app at once/);
  assert.equal(await row.getByRole('button').count(), 0, 'nothing to do with a revoked connection');
  const [revoked] = (await call(sandbox.api, sandbox.admin, 'GET', '/v1/nwc/connections')).body.data;
  assert.ok(revoked.key.revoked_at, 'revoked on the server');
  await shot('revoked');

  // With no live connection, health has no relays to report.
  for (let i = 0; ; i++) {
    if ((await call(sandbox.api, sandbox.admin, 'GET', '/v1/health')).body.nwc === null) break;
    assert.ok(i < 100, 'health.nwc is null once no connection is live');
    await new Promise((r) => setTimeout(r, 200));
  }

  // Nothing left 127.0.0.1: not the page, not the daemon.
  const away = requests.filter((u) => !u.startsWith(`${sandbox.api}/`) && !/^(data|blob|about):/.test(u));
  assert.deepEqual(away, [], 'no request of the page leaves 127.0.0.1');
  const watched = sockets.stop();
  if (watched.available) {
    assert.ok(watched.sampled > 0, 'ss saw the daemon’s sockets');
    assert.deepEqual(watched.away, [], 'the daemon talks to 127.0.0.1 only');
  }
  assert.deepEqual(errors, []);
  await close();
});

test('the connect dialog and its QR on a phone in dark mode: axe-clean, and nothing wider than the screen', async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, colorScheme: 'dark' });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${sandbox.api}/#/keys`);
  await page.getByLabel('API key').fill(sandbox.admin);
  await page.getByRole('button', { name: 'Connect' }).click();
  await page.getByRole('heading', { name: 'API keys' }).waitFor();
  const check = async (where) => {
    assert.deepEqual(await axeViolations(page), [], `axe-core on ${where}`);
    const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(wide <= 0, `${where}: the page is ${wide} px wider than the screen`);
  };
  await page.getByRole('button', { name: 'Connect an app' }).click();
  const form = page.getByTestId('nwc-connect-dialog');
  await form.getByLabel('Name').fill('Phone till');
  await form.getByRole('radio', { name: 'Receive and pay' }).check();
  await form.getByLabel('Daily budget (sats)').fill('2000');
  await form.getByLabel('Relays').fill(`${RELAY}, ws://127.0.0.1:10`);
  await check('the connect dialog');
  await form.getByRole('button', { name: 'Create connection' }).click();
  const shown = page.getByTestId('nwc-uri-dialog');
  await shown.getByRole('img', { name: 'QR code of the connection for Phone till' }).waitFor();
  const uri = await text(shown.getByTestId('nwc-uri'));
  assert.ok(uri.includes('relay=ws%3A%2F%2F127.0.0.1%3A9') && uri.includes('relay=ws%3A%2F%2F127.0.0.1%3A10'), `both relays: ${uri}`);
  await check('the URI and its QR');
  await page.screenshot({ path: join(dir, 'nwc-connect-phone-dark.png') });
  await shown.getByRole('button', { name: 'Done' }).click();
  const row = page.getByRole('table', { name: 'Wallet connections' }).getByTestId('nwc-row').filter({ hasText: 'Phone till' });
  await row.waitFor();
  await check('the connections');
  const made = (await call(sandbox.api, sandbox.admin, 'GET', '/v1/nwc/connections')).body.data.find((c) => c.key.name === 'Phone till');
  assert.deepEqual([made.access, made.key.budget, made.relays], ['pay', 2000, [RELAY, 'ws://127.0.0.1:10']]);
  assert.equal((await call(sandbox.api, sandbox.admin, 'DELETE', `/v1/nwc/connections/${made.key.id}`)).status, 200);
  assert.deepEqual(errors, []);
  await context.close();
});
