// Shared pieces of the browser journeys: a real `payaimld sandbox` serving the built dashboard,
// Debian's Chromium driven by playwright-core, API calls with the admin key, a webhook receiver
// on 127.0.0.1, and screenshots of every page visited.

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const root = join(here, '..', '..');
const require = createRequire(join(root, 'ui', 'package.json'));
const { chromium } = require('playwright-core');

export const outputDir = process.env.PAYAIML_TEST_OUTPUT ?? join(root, 'tests', 'browser', 'output');

function binary() {
  if (process.env.PAYAIML_BIN) return process.env.PAYAIML_BIN;
  const target = process.env.CARGO_TARGET_DIR ?? join(root, 'target');
  return join(target, 'debug', 'payaimld');
}

/** Starts `payaimld sandbox` (`--fresh` when `fresh`: a merchant with no channels and the
 *  sandbox's LSP) with the built UI, on a free port unless `listen` is given, in a new temp data
 *  dir unless `dataDir` is given; resolves with {api, admin, dataDir, stop}. `stop()` deletes the
 *  data dir unless called with `{ keep: true }`. */
export async function startSandbox({ dataDir = mkdtempSync(join(tmpdir(), 'payaiml-test-')), listen = '127.0.0.1:0', fresh = false } = {}) {
  // payaimld prints the admin key only to a terminal; here it writes it to a 0600 file.
  const keyFile = `${dataDir}.admin-key`;
  const child = spawn(binary(), ['--data-dir', dataDir, '--listen', listen, '--secrets', 'file', '--admin-key-file', keyFile,
    '--ui-dir', join(root, 'ui', 'dist'), '--log-level', process.env.PAYAIML_BROWSER_LOG ?? 'warn', 'sandbox',
    ...(fresh ? ['--fresh'] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  let api = null;
  let admin = null;
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('payaimld sandbox did not start within 180 s')), 180_000);
    child.on('error', (e) => reject(new Error(`cannot run ${binary()} (build it with make build, or set PAYAIML_BIN): ${e.message}`)));
    child.on('exit', (code) => reject(new Error(`payaimld exited early with ${code}`)));
    lines.on('line', (line) => {
      if (line.startsWith('api: ')) api = line.slice(5).trim();
      if (line.startsWith('admin key file: ')) admin = readFileSync(line.slice(16).trim(), 'utf8').trim();
      if (api && admin) { clearTimeout(timer); resolve(); }
    });
  });
  const stop = async ({ keep = false } = {}) => {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    let timer;
    const late = new Promise((r) => { timer = setTimeout(() => { child.kill('SIGKILL'); r(); }, 60_000); });
    await Promise.race([exited, late]);
    clearTimeout(timer);
    if (!keep) {
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(keyFile, { force: true });
    }
  };
  return { api, admin, dataDir, stop };
}

/** JSON over HTTP to the API with `key`. */
export async function call(api, key, method, path, body) {
  const res = await fetch(api + path, {
    method,
    headers: { Authorization: `Bearer ${key}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

/** A page logged in with `key`, whose screenshots go to output/<journey>/NN-<name>.png. */
export async function openPage(browser, api, key, journey) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 860 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const dir = join(outputDir, journey);
  mkdirSync(dir, { recursive: true });
  let n = 0;
  const shot = async (name) => {
    n += 1;
    await page.screenshot({ path: join(dir, `${String(n).padStart(2, '0')}-${name}.png`), fullPage: true });
  };
  await page.goto(api + '/');
  await page.getByLabel('API key').fill(key);
  await shot('login');
  await page.getByRole('button', { name: 'Connect' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
  return { page, shot, errors, close: () => context.close() };
}

/** A webhook receiver on 127.0.0.1 that records every request. */
export async function receiver() {
  const hits = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      hits.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200).end('OK');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}/webhook/lightning`, hits, close: () => server.close() };
}

/** Follows a link of the main navigation. */
export async function nav(page, name) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true }).click();
}
