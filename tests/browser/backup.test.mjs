// The continuous backup as a shop owner sees it, on a sandbox backed up to a folder (the stand-in
// for a NAS share or a USB drive): the Overview's quiet line while it keeps up, Settings → Backup
// with both parts up to date, a folder that is not there refused next to the field, another one
// kept for the next start, turning it off only after a warning; then the target gone (a plain
// file where the folder was): the Overview's alert with what waits, and the catch-up once the
// folder is back.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { call, launch, nav, openPage, startSandbox } from './harness.mjs';

// What a person reads: the rendered text, with the layout's breaks as spaces.
const text = async (locator) => (await locator.innerText()).replace(/\s+/g, ' ').trim();

const base = mkdtempSync(join(tmpdir(), 'payaiml-backup-'));
const nas = join(base, 'nas');
const usb = join(base, 'usb');
mkdirSync(nas);
mkdirSync(usb);

let sandbox;
let browser;

before(async () => {
  sandbox = await startSandbox({ args: ['--backup', nas] });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await sandbox?.stop();
  rmSync(base, { recursive: true, force: true });
});

/** Health's backup once `ok(backup)` holds (polled; the mirror works in the background). */
async function backupWhen(ok, what, timeout = 90_000) {
  const end = Date.now() + timeout;
  for (;;) {
    const backup = (await call(sandbox.api, sandbox.admin, 'GET', '/v1/health')).body.backup;
    if (backup && ok(backup)) return backup;
    if (Date.now() > end) throw new Error(`the backup is not ${what} after ${timeout / 1000} s: ${JSON.stringify(backup)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

test('the Overview and Settings say where the backup goes and how current it is; a folder that is not there is refused at the field; another applies at the next start; turning off asks first', async () => {
  await backupWhen((b) => b.state === 'up_to_date', 'up to date');
  const { page, shot, errors, close } = await openPage(browser, sandbox.api, sandbox.admin, 'backup');

  // The Overview: one quiet line.
  const line = page.getByTestId('overview-backup');
  await line.waitFor();
  assert.match(await text(line), new RegExp(`^Backup: up to date · last .+ · folder ${nas}$`));
  assert.equal(await line.getAttribute('role'), null, 'no alert while it keeps up');
  await shot('backup-overview');

  // Settings → Backup: the folder, the state in words, and both parts.
  await nav(page, 'Settings');
  const section = page.getByRole('region', { name: 'Backup' });
  await section.getByTestId('backup-status').waitFor();
  assert.match(await text(section.getByTestId('backup-status')), new RegExp(`^Goes to ${nas} \\(folder\\) State Up to date Last backup .+`));
  assert.equal(await text(section.getByTestId('backup-state')), 'Up to date');
  assert.match(await text(section.getByTestId('backup-channel-state')), /^Up to date · last .+/);
  assert.match(await text(section.getByTestId('backup-shop-data')), /^Up to date · last .+/);
  assert.equal(await section.getByTestId('backup-restart').count(), 0, 'nothing waits for a restart');
  await shot('backup-settings');

  // A folder that does not exist (a share not mounted): the server's reason next to the field,
  // and nothing kept.
  const form = page.getByRole('form', { name: 'Backup target' });
  const field = form.getByLabel('Back up to', { exact: true });
  assert.equal(await field.inputValue(), nas, 'the form starts from the target kept');
  await field.fill(join(base, 'not-mounted'));
  assert.equal(await form.getByLabel(/^Token/).count(), 0, 'no token for a folder');
  await form.getByRole('button', { name: 'Save' }).click();
  const refusal = form.getByTestId('backup-target-error');
  await refusal.waitFor();
  assert.match(await text(refusal), /not-mounted does not exist: is the drive or network share mounted\?/);
  assert.equal(await field.getAttribute('aria-invalid'), 'true');
  const describedBy = (await field.getAttribute('aria-describedby')).split(' ');
  assert.ok(describedBy.includes(await refusal.getAttribute('id')), 'the refusal is tied to the field');
  const kept = (await call(sandbox.api, sandbox.admin, 'GET', '/v1/settings')).body;
  assert.deepEqual([kept.backup.target, kept.restart_required], [nas, false]);
  await shot('backup-field-error');

  // A server's address asks how the server checks requests: a token, or this wallet's own key
  // (its JWT mode), whose public half is there to give the server. One that does not answer is
  // refused at the field too.
  await field.fill('http://127.0.0.1:9/vss');
  assert.equal(await refusal.count(), 0, 'the refusal goes once the field changes');
  const token = form.getByLabel('Token, if the server asks for one');
  assert.equal(await token.getAttribute('type'), 'password');
  await form.getByLabel("The server checks this wallet's own key (its JWT mode)").check();
  assert.equal(await token.count(), 0, 'no token in JWT mode');
  await form.getByText("This wallet's public key, for the server").click();
  assert.equal((await form.getByTestId('backup-public-key').textContent()).trim(), kept.backup_jwt_public_key.trim());
  assert.match(kept.backup_jwt_public_key, /^-----BEGIN PUBLIC KEY-----/);
  await form.getByRole('button', { name: 'Save' }).click();
  await refusal.waitFor({ timeout: 30_000 });
  assert.match(await text(refusal), /127\.0\.0\.1:9\/vss did not take a test write/);
  await shot('backup-vss-refused');

  // Another folder that answers: kept for the next start, said so; this run keeps its target.
  await field.fill(usb);
  await form.getByRole('button', { name: 'Save' }).click();
  const restart = section.getByTestId('backup-restart');
  await restart.waitFor();
  assert.match(await text(restart), new RegExp(`^Saved\\. The backup will go to ${usb}: this applies at the next start\\. Restart the app`));
  const next = (await call(sandbox.api, sandbox.admin, 'GET', '/v1/settings')).body;
  assert.deepEqual([next.backup.kind, next.backup.target, next.backup.token_set, next.backup.jwt, next.restart_required],
    ['folder', usb, false, false, true]);
  assert.equal((await call(sandbox.api, sandbox.admin, 'GET', '/v1/health')).body.backup.target, nas, 'the running target is unchanged');
  await shot('backup-restart-note');

  // Turning it off asks first, and saying no keeps it.
  await form.getByRole('button', { name: 'Turn off backup' }).click();
  const confirm = section.getByTestId('backup-off-confirm');
  await confirm.waitFor();
  assert.match(await text(confirm), /a lost or broken computer loses the money in its channels/);
  await shot('backup-turn-off-confirm');
  await confirm.getByRole('button', { name: 'Keep the backup' }).click();
  assert.equal(await confirm.count(), 0);
  assert.equal((await call(sandbox.api, sandbox.admin, 'GET', '/v1/settings')).body.backup.target, usb);
  // Saying yes: none from the next start.
  await form.getByRole('button', { name: 'Turn off backup' }).click();
  await confirm.getByRole('button', { name: 'Turn off backup' }).click();
  await restart.filter({ hasText: /The backup stops:\s+this applies at the next start\./ }).waitFor();
  assert.equal((await call(sandbox.api, sandbox.admin, 'GET', '/v1/settings')).body.backup, null);
  assert.equal(await form.getByRole('button', { name: 'Turn off backup' }).count(), 0);
  await shot('backup-turned-off');
  // And back to the folder in use (nothing waits for a restart then).
  await field.fill(nas);
  await form.getByRole('button', { name: 'Save' }).click();
  await section.getByRole('status').getByText('Saved.').waitFor();
  assert.equal(await restart.count(), 0);
  assert.deepEqual(errors, []);
  await close();
});

test('the target gone: the Overview alerts with what waits on this computer, and it catches up by itself when the folder is back', async () => {
  // A plain file where the folder was: every write fails, as with a share that went away.
  const away = `${nas}.away`;
  renameSync(nas, away);
  writeFileSync(nas, 'not a folder');
  try {
    // A change to the shop's data, which now cannot leave this computer.
    assert.equal((await call(sandbox.api, sandbox.admin, 'POST', '/v1/lightning/invoices', { amount: 2100, description: 'While the NAS is away' })).status, 201);
    const behind = await backupWhen((b) => b.state === 'behind' && b.pending_changes > 0, 'behind');
    assert.ok(behind.last_error, 'it says why');

    const { page, shot, errors, close } = await openPage(browser, sandbox.api, sandbox.admin, 'backup-behind');
    const alert = page.getByTestId('overview-backup');
    await alert.getByText('Backup behind').waitFor();
    assert.equal(await alert.getAttribute('role'), 'status');
    assert.match(await text(alert),
      /^Backup behind since .+: \d+ changes? waits? on this computer\. .*Not a directory.* It catches up by itself when the target answers\. Backup settings$/);
    await shot('backup-behind');
    await nav(page, 'Settings');
    const section = page.getByRole('region', { name: 'Backup' });
    assert.match(await text(section.getByTestId('backup-state')), /^Behind since .+: \d+ changes? waits? on this computer$/);
    await section.getByText(/Nothing is lost: the changes wait here/).waitFor();
    await shot('backup-behind-settings');
    // On a phone the reason's long path wraps: nothing pushes the page sideways.
    await page.setViewportSize({ width: 390, height: 844 });
    for (const where of ['Settings', 'Overview']) {
      await page.evaluate((p) => { location.hash = p; }, where === 'Overview' ? '#/' : '#/settings');
      await page.getByRole('heading', { name: where, level: 2 }).waitFor();
      await page.getByText(where === 'Overview' ? 'Backup behind' : /Nothing is lost/).waitFor();
      assert.equal(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth), 0, `${where} fits a phone`);
    }
    await shot('backup-behind-phone');
    await page.setViewportSize({ width: 1200, height: 860 });

    // The folder back: it catches up without anyone doing anything.
    rmSync(nas);
    renameSync(away, nas);
    await backupWhen((b) => b.state === 'up_to_date' && b.pending_changes === 0, 'up to date again', 120_000);
    await nav(page, 'Overview');
    await page.getByTestId('overview-backup').getByText(/^Backup: up to date/).waitFor({ timeout: 30_000 });
    await shot('backup-caught-up');
    assert.deepEqual(errors, []);
    await close();
  } finally {
    // Whatever happened above, the folder is put back for the sandbox's stop.
    if (existsSync(away)) {
      rmSync(nas, { force: true });
      renameSync(away, nas);
    }
  }
});
