// A new merchant's first start: the app opens on the setup, not the dashboard. They choose a
// network, get 24 recovery words on their own screen with what they restore and what not, type
// three back (a wrong one is refused and named), and land on the dashboard of the wallet those
// words made. The choice is kept: the next start goes straight to that wallet. Regtest on a
// bitcoind of the test's own stands in for Bitcoin (nothing here may reach a real network); the
// screens are the same.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { launch, nav, outputDir, startApp, startBitcoind } from './harness.mjs';

let bitcoind;
let browser;
let app;
const home = mkdtempSync(join(tmpdir(), 'payaiml-home-'));
// Backup folders (stand-ins for a NAS share): one that holds nothing, and the new wallet's.
const backups = mkdtempSync(join(tmpdir(), 'payaiml-setup-backups-'));
const emptyBackup = join(backups, 'empty');
const walletBackup = join(backups, 'nas');
mkdirSync(emptyBackup);
mkdirSync(walletBackup);
// The wallet the first test makes: its words and node id, for the restore from its backup.
let made = null;

before(async () => {
  bitcoind = await startBitcoind();
  browser = await launch();
});

after(async () => {
  await app?.stop();
  await browser?.close();
  bitcoind?.stop();
  rmSync(home, { recursive: true, force: true });
  rmSync(backups, { recursive: true, force: true });
});

test('first run: choose, see the words, a wrong word refused, the right ones make the wallet, and the choice is kept', async () => {
  app = await startApp({ home, args: bitcoind.rpcArgs });
  const context = await browser.newContext({ viewport: { width: 1200, height: 860 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  let n = 0;
  const shot = async (name) => {
    n += 1;
    await page.screenshot({ path: join(outputDir, 'setup', `${String(n).padStart(2, '0')}-${name}.png`), fullPage: true });
  };
  mkdirSync(join(outputDir, 'setup'), { recursive: true });

  await page.goto(app.link);
  await page.getByRole('heading', { name: 'Welcome. How do you want to start?' }).waitFor();
  assert.ok(!page.url().includes('token='), 'the token is taken out of the address bar');
  assert.equal(await page.getByRole('navigation', { name: 'Main' }).count(), 0, 'no dashboard before a wallet');
  await shot('choose');
  await page.getByText('Advanced: other networks').click();
  await page.getByRole('button', { name: 'Regtest', exact: true }).click();
  await page.getByRole('button', { name: 'Make a new wallet' }).waitFor();
  await shot('new-or-restore');

  // The restore screen offers a backup (a server's address asks for its token too). One that
  // holds nothing for these words is refused next to its field, and nothing is made.
  await page.getByRole('button', { name: 'Restore from words' }).click();
  const restoring = page.getByRole('form', { name: 'Restore' });
  await restoring.getByLabel(/Your recovery words/).fill(`${'abandon '.repeat(11)}about`);
  const backupField = restoring.getByLabel('Where this wallet was backed up');
  await backupField.fill('https://vss.example.com/vss');
  await restoring.getByLabel('Token, if the server asks for one').fill('a token from the server');
  assert.match(await restoring.getByRole('group', { name: 'Backup (optional)' }).textContent(),
    /With a backup, the channels \(and the money in them\), the whole history, API keys \(the same secrets\), webhooks, the catalog and settings come back\. Without it, the words bring back the node id and the on-chain keys only\./);
  await page.screenshot({ path: join(outputDir, 'setup', 'setup-restore-backup.png'), fullPage: true });
  await backupField.fill(emptyBackup);
  assert.equal(await restoring.getByLabel('Token, if the server asks for one').count(), 0, 'no token for a folder');
  await restoring.getByRole('button', { name: 'Restore the wallet' }).click();
  const noBackup = restoring.getByTestId('backup-target-error');
  await noBackup.waitFor({ timeout: 60_000 });
  assert.match(await noBackup.textContent(), /holds no backup for these recovery words/);
  assert.equal(await backupField.getAttribute('aria-invalid'), 'true');
  await page.screenshot({ path: join(outputDir, 'setup', 'setup-restore-no-backup.png'), fullPage: true });
  await restoring.getByRole('button', { name: 'Back' }).click();

  await page.getByRole('button', { name: 'Make a new wallet' }).click();
  const list = page.getByTestId('new-words');
  await list.waitFor();
  const words = await list.locator('li').allTextContents();
  assert.equal(words.length, 24);
  assert.match(await page.getByLabel('What the words restore').textContent(), /do not:.*open Lightning channels/s);
  const next = page.getByRole('button', { name: 'Continue' });
  assert.ok(await next.isDisabled(), 'not before ticking that they are written down');
  await shot('words');
  await page.getByLabel('I have written the 24 words on paper').check();
  await next.click();

  // The words' fields (the form also holds the optional backup target, after them).
  const labels = await page.locator('form[aria-label="Type back three words"] label').filter({ hasText: /^The \d+/ }).allTextContents();
  const positions = labels.map((l) => Number(l.match(/The (\d+)/)[1]));
  assert.equal(positions.length, 3);
  const inputs = page.locator('form[aria-label="Type back three words"] input[name^="word-"]');
  // The first asked word wrong: refused, and named.
  const wrong = words[positions[0] - 1] === 'zoo' ? 'abandon' : 'zoo';
  await inputs.nth(0).fill(wrong);
  await inputs.nth(1).fill(words[positions[1] - 1]);
  await inputs.nth(2).fill(words[positions[2] - 1]);
  await page.getByRole('button', { name: 'Make the wallet' }).click();
  const refusal = page.getByRole('alert');
  await refusal.waitFor();
  assert.match(await refusal.textContent(), new RegExp(`word ${positions[0]} is not '${wrong}'`));
  await shot('wrong-word');
  await inputs.nth(0).fill(words[positions[0] - 1].toUpperCase());
  // Backed up to a folder from the first start.
  const confirmForm = page.getByRole('form', { name: 'Type back three words' });
  assert.equal(await confirmForm.getByLabel('Backup target').inputValue(), '', 'the restore\'s target is not carried over');
  await confirmForm.getByLabel('Backup target').fill(walletBackup);
  await page.screenshot({ path: join(outputDir, 'setup', 'setup-new-backup.png'), fullPage: true });
  await page.getByRole('button', { name: 'Make the wallet' }).click();

  await page.getByRole('navigation', { name: 'Main' }).waitFor({ timeout: 120_000 });
  await page.getByText('regtest', { exact: true }).waitFor();
  made = { words, nodeId: (await (await fetch(`${app.api}/v1/health`)).json()).node_id };
  await shot('dashboard');
  await nav(page, 'Settings');
  await page.getByText('Running: Regtest').waitFor();
  await page.getByLabel(/No one else can see this screen/).check();
  await page.getByRole('button', { name: 'Show the recovery words' }).click();
  await page.getByTestId('recovery-words').waitFor();
  assert.deepEqual(await page.getByTestId('recovery-words').locator('li').allTextContents(), words,
    'the wallet is made from the words shown and confirmed');
  // The backup chosen at setup runs.
  const backupSection = page.getByRole('region', { name: 'Backup' });
  await backupSection.getByTestId('backup-state').getByText('Up to date').waitFor({ timeout: 60_000 });
  assert.match(await backupSection.getByTestId('backup-status').textContent(), new RegExp(`Goes to\\s*${walletBackup} \\(folder\\)`));
  await shot('settings');

  // A provider entered by hand applies when the wallet restarts, from the same page.
  const lspForm = page.getByRole('form', { name: 'Lightning service provider' });
  await lspForm.getByLabel('Node id').fill('0325fe64c80dd210f147d3b163006bee9c23529a95f4df7b491cae4a1133eba261');
  await lspForm.getByLabel('Address (host:port)').fill('nowhere');
  await lspForm.getByRole('button', { name: 'Save' }).click();
  assert.match(await lspForm.getByRole('alert').textContent(), /'nowhere' is not HOST:PORT/);
  await lspForm.getByLabel('Address (host:port)').fill('127.0.0.1:1');
  await lspForm.getByRole('button', { name: 'Save' }).click();
  await page.getByTestId('lsp-restart').waitFor();
  assert.equal(await page.getByTestId('lsp-running').textContent(), 'none');
  await shot('lsp-saved');
  await page.getByRole('button', { name: 'Restart the wallet now' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor({ timeout: 120_000 });
  await nav(page, 'Settings');
  await page.getByText('0325fe64c80dd210… at 127.0.0.1:1').waitFor();
  await nav(page, 'Overview');
  const lspCheck = page.getByTestId('readiness').locator('[data-check="lsp"]');
  await lspCheck.getByText(/cannot be reached/).waitFor();
  await shot('readiness-lsp');
  // Where a merchant looks for a channel that never came: the reserve rule.
  await nav(page, 'Node');
  assert.match(await page.getByTestId('reserve-rule').textContent(), /refused unless 25,000 sats per channel sit on-chain/);
  await context.close();
  await app.stop();

  // The next start goes straight to the chosen wallet.
  app = await startApp({ home, args: bitcoind.rpcArgs });
  const again = await browser.newPage();
  await again.goto(app.link);
  await again.getByRole('navigation', { name: 'Main' }).waitFor({ timeout: 120_000 });
  assert.equal(await again.getByRole('heading', { name: /Welcome/ }).count(), 0);
  await again.close();
  await app.stop();
  app = null;
  assert.deepEqual(errors, []);
});

test('moving: export from Settings retires the wallet here, and the first-start screen of another install imports it', async () => {
  // A first test that failed half-way may have left its app running on the same home.
  await app?.stop();
  app = await startApp({ home, args: bitcoind.rpcArgs });
  const page = await browser.newPage({ viewport: { width: 1200, height: 860 } });
  const shot = (name) => page.screenshot({ path: join(outputDir, 'setup', `move-${name}.png`), fullPage: true });
  await page.goto(app.link);
  await page.getByRole('navigation', { name: 'Main' }).waitFor({ timeout: 120_000 });
  // The dashboard may show before the node has started: its id is known once it has.
  let nodeId = null;
  for (let i = 0; i < 600 && !nodeId; i++) {
    nodeId = (await (await fetch(`${app.api}/v1/health`)).json()).node_id;
    if (!nodeId) await new Promise((r) => setTimeout(r, 200));
  }
  assert.ok(nodeId, 'the node started');
  await nav(page, 'Settings');
  const move = page.getByRole('form', { name: 'Move to another computer' });
  await move.getByLabel('Passphrase (at least 10 characters)').fill('moving day at the shop');
  await move.getByLabel('The passphrase again').fill('moving day at the shop');
  const go = move.getByRole('button', { name: 'Export and retire this wallet' });
  assert.ok(await go.isDisabled(), 'not before ticking that it stops here for good');
  await move.getByLabel(/Stop this wallet here for good/).check();
  await shot('settings');
  await go.click();
  const exported = page.getByTestId('exported');
  await exported.waitFor({ timeout: 120_000 });
  const file = (await exported.locator('.mono').textContent()).trim();
  assert.match(await page.getByRole('alert').textContent(), /moved to another computer/);
  await shot('exported');
  await page.close();
  await app.stop();

  // Another install: its first start offers the import.
  const otherHome = mkdtempSync(join(tmpdir(), 'payaiml-home-'));
  app = await startApp({ home: otherHome, args: bitcoind.rpcArgs });
  const other = await browser.newPage({ viewport: { width: 1200, height: 860 } });
  await other.goto(app.link);
  await other.getByRole('button', { name: 'Import a wallet moved from another computer' }).click();
  const form = other.getByRole('form', { name: 'Import' });
  await form.getByLabel("The export file's path on this computer").fill(file);
  await form.getByLabel('Its passphrase').fill('not the passphrase');
  await form.getByRole('button', { name: 'Import' }).click();
  assert.match(await form.getByRole('alert').textContent(), /passphrase does not open this file/);
  await form.getByLabel('Its passphrase').fill('moving day at the shop');
  await other.screenshot({ path: join(outputDir, 'setup', 'move-import.png'), fullPage: true });
  await form.getByRole('button', { name: 'Import' }).click();
  await other.getByRole('navigation', { name: 'Main' }).waitFor({ timeout: 120_000 });
  assert.equal((await (await fetch(`${app.api}/v1/health`)).json()).node_id, nodeId, 'the same node');
  await other.close();
  await app.stop();
  app = null;
  rmSync(otherHome, { recursive: true, force: true });
});

test('a lost computer: the words and the backup chosen at setup bring the wallet back on a new install, with its settings', async () => {
  assert.ok(made, 'the first test made the wallet');
  const newHome = mkdtempSync(join(tmpdir(), 'payaiml-home-'));
  app = await startApp({ home: newHome, args: bitcoind.rpcArgs });
  const page = await browser.newPage({ viewport: { width: 1200, height: 860 } });
  try {
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(app.link);
    await page.getByText('Advanced: other networks').click();
    await page.getByRole('button', { name: 'Regtest', exact: true }).click();
    await page.getByRole('button', { name: 'Restore from words' }).click();
    const form = page.getByRole('form', { name: 'Restore' });
    await form.getByLabel(/Your recovery words/).fill(made.words.join(' '));
    await form.getByLabel('Where this wallet was backed up').fill(walletBackup);
    await page.screenshot({ path: join(outputDir, 'setup', 'restore-from-backup.png'), fullPage: true });
    await form.getByRole('button', { name: 'Restore the wallet' }).click();
    await page.getByRole('navigation', { name: 'Main' }).waitFor({ timeout: 120_000 });
    // The dashboard answers before the node has started: its id shows once it runs.
    let nodeId = null;
    for (let i = 0; i < 120 && !nodeId; i++) {
      nodeId = (await (await fetch(`${app.api}/v1/health`)).json()).node_id;
      if (!nodeId) await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(nodeId, made.nodeId, 'the same node');
    // The settings came back with the shop's data: the provider chosen on the lost computer runs,
    // and the wallet goes on backing up where it was.
    await nav(page, 'Settings');
    await page.getByText('0325fe64c80dd210… at 127.0.0.1:1').waitFor({ timeout: 30_000 });
    const backupSection = page.getByRole('region', { name: 'Backup' });
    await backupSection.getByTestId('backup-state').getByText('Up to date').waitFor({ timeout: 60_000 });
    assert.match(await backupSection.getByTestId('backup-status').textContent(), new RegExp(`Goes to\\s*${walletBackup} \\(folder\\)`));
    await page.screenshot({ path: join(outputDir, 'setup', 'restore-from-backup-settings.png'), fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
    await app.stop();
    app = null;
    rmSync(newHome, { recursive: true, force: true });
  }
});
