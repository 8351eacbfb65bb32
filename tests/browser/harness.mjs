// Shared pieces of the browser journeys: a real `payaimld sandbox` serving the built dashboard,
// Debian's Chromium driven by playwright-core, API calls with the admin key, a webhook receiver
// on 127.0.0.1, a watch on the daemon's sockets, and screenshots of every page visited.

import { execFileSync, spawn } from 'node:child_process';
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
 *  dir unless `dataDir` is given, with more start-up settings in `args`; resolves with {api, admin, dataDir, pid, stop}. `stop()` deletes the
 *  data dir unless called with `{ keep: true }`. */
export async function startSandbox({ dataDir = mkdtempSync(join(tmpdir(), 'payaiml-test-')), listen = '127.0.0.1:0', fresh = false, args = [] } = {}) {
  // payaimld prints the admin key only to a terminal; here it writes it to a 0600 file.
  const keyFile = `${dataDir}.admin-key`;
  const child = spawn(binary(), ['--data-dir', dataDir, '--listen', listen, '--secrets', 'file', '--admin-key-file', keyFile,
    '--ui-dir', join(root, 'ui', 'dist'), '--log-level', process.env.PAYAIML_BROWSER_LOG ?? 'warn', ...args, 'sandbox',
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
    await stopProcess(child);
    if (!keep) {
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(keyFile, { force: true });
    }
  };
  return { api, admin, dataDir, pid: child.pid, stop };
}

/** A regtest bitcoind of its own (the one scripts/install-bitcoind.sh put in the cache), on a
 *  free RPC port, with 101 blocks mined; resolves with {rpcArgs, rpc(method, params, wallet),
 *  stop}. */
export async function startBitcoind() {
  const cache = process.env.PAYAIML_CACHE ?? join(process.env.HOME ?? '', '.cache', 'payaiml');
  const dir = mkdtempSync(join(tmpdir(), 'payaiml-bitcoind-'));
  const port = await freePort();
  const child = spawn(join(cache, 'bitcoind', 'bin', 'bitcoind'), ['-regtest', `-datadir=${dir}`, `-rpcport=${port}`,
    '-rpcbind=127.0.0.1', '-rpcallowip=127.0.0.1', '-rpcuser=shop', '-rpcpassword=till', '-listen=0', '-dnsseed=0',
    '-fixedseeds=0', '-fallbackfee=0.0002'], { stdio: 'ignore' });
  const rpc = async (method, params = [], wallet = null) => {
    const res = await fetch(`http://127.0.0.1:${port}/${wallet ? `wallet/${wallet}` : ''}`, {
      method: 'POST',
      headers: { Authorization: `Basic ${Buffer.from('shop:till').toString('base64')}` },
      body: JSON.stringify({ jsonrpc: '1.0', id: 1, method, params }),
    });
    const body = await res.json();
    if (body.error) throw new Error(`bitcoind ${method}: ${body.error.message}`);
    return body.result;
  };
  for (let i = 0; ; i++) {
    try { await rpc('getblockcount'); break; } catch (e) {
      if (i > 300) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await rpc('createwallet', ['miner']);
  await rpc('generatetoaddress', [101, await rpc('getnewaddress', [], 'miner')]);
  const stop = () => { child.kill('SIGTERM'); rmSync(dir, { recursive: true, force: true }); };
  return {
    rpcArgs: ['--bitcoind-rpc', `127.0.0.1:${port}`, '--bitcoind-rpc-user', 'shop', '--bitcoind-rpc-password', 'till'],
    rpc,
    stop,
  };
}

async function freePort() {
  const server = createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

/** Starts `payaimld app` (the wallets of an install, with the first-run setup) on a free port
 *  with the built UI, its home in `home`, and `args` (chain settings) added; resolves with
 *  {link, api, stop}. The link (with its token) is read from a 0600 file, as it is printed only
 *  to a terminal. */
export async function startApp({ home, args = [] }) {
  const linkFile = `${home}.link`;
  rmSync(linkFile, { force: true });
  const child = spawn(binary(), ['--data-dir', home, '--listen', '127.0.0.1:0', '--secrets', 'file',
    '--ui-dir', join(root, 'ui', 'dist'), '--log-level', process.env.PAYAIML_BROWSER_LOG ?? 'warn', ...args,
    'app', '--link-file', linkFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('payaimld app did not start within 30 s')), 30_000);
    child.on('error', (e) => reject(new Error(`cannot run ${binary()}: ${e.message}`)));
    child.on('exit', (code) => reject(new Error(`payaimld app exited early with ${code}`)));
    lines.on('line', (line) => {
      if (line.startsWith('dashboard: ')) { clearTimeout(timer); resolve(); }
    });
  });
  const link = readFileSync(linkFile, 'utf8').trim();
  const stop = async () => {
    await stopProcess(child);
    rmSync(linkFile, { force: true });
  };
  return { link, api: new URL(link).origin, token: link.split('token=')[1], stop };
}

/** SIGTERM (a clean stop: the node persists), SIGKILL after 60 s. */
async function stopProcess(child) {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  let timer;
  const late = new Promise((r) => { timer = setTimeout(() => { child.kill('SIGKILL'); r(); }, 60_000); });
  await Promise.race([exited, late]);
  clearTimeout(timer);
}

/** Watches the sockets of process `pid` (`ss`, which names the process of one's own) every half
 *  second: `away` collects the peers that are not on this computer's loopback, `sampled` how many
 *  times the process was seen with a socket; `available`: whether `ss` ran at all. */
export function watchSockets(pid) {
  const away = new Set();
  let sampled = 0;
  let available = false;
  const local = /^(127\.\d+\.\d+\.\d+|\[::1\]|\[::ffff:127\.\d+\.\d+\.\d+\]|0\.0\.0\.0|\*|\[::\]):(\d+|\*)$/;
  const sample = () => {
    let out = '';
    try {
      out = execFileSync('ss', ['-tunapH'], { encoding: 'utf8' });
      available = true;
    } catch {
      return;
    }
    const mine = out.split('\n').filter((line) => line.includes(`pid=${pid},`));
    if (mine.length > 0) sampled += 1;
    for (const line of mine) {
      const peer = line.trim().split(/\s+/)[5];
      if (peer && !local.test(peer)) away.add(peer);
    }
  };
  sample();
  const timer = setInterval(sample, 500);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return { away: [...away], sampled, available };
    },
  };
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

/** A page logged in with `key`, whose screenshots go to output/<journey>/NN-<name>.png, in a
 *  window of `viewport` (a desktop's by default). `requests` collects every address the page
 *  asks for, from the first. */
export async function openPage(browser, api, key, journey, { viewport = { width: 1200, height: 860 } } = {}) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors = [];
  const requests = [];
  page.on('pageerror', (e) => errors.push(e.message));
  context.on('request', (r) => requests.push(r.url()));
  const shot = screenshots(page, journey);
  await page.goto(api + '/');
  await page.getByLabel('API key').fill(key);
  await shot('login');
  await page.getByRole('button', { name: 'Connect' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
  return { page, shot, errors, requests, close: () => context.close() };
}

/** `shot(name)` for `page`: a full-page screenshot to output/<journey>/NN-<name>.png (numbered
 *  in the order taken), then axe-core on that state (WCAG 2.2 AA): a violation fails the journey,
 *  naming the rule and the elements. Every state a journey photographs is checked so. */
export function screenshots(page, journey) {
  const dir = join(outputDir, journey);
  mkdirSync(dir, { recursive: true });
  let n = 0;
  return async (name) => {
    n += 1;
    await page.screenshot({ path: join(dir, `${String(n).padStart(2, '0')}-${name}.png`), fullPage: true });
    const found = await axeViolations(page);
    if (found.length > 0) {
      throw new Error(`accessibility (axe-core) on ${journey}/${name}: ${JSON.stringify(found, null, 1)}`);
    }
  };
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

const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** The WCAG 2.2 AA violations axe-core finds on the page as it is now: [{id, impact, help,
 *  nodes: [selector…]}]. */
export async function axeViolations(page) {
  // Evaluated through the browser's protocol, not added as a <script>: a page whose
  // Content-Security-Policy allows only its own scripts (the hosted checkout) blocks an inline one.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(`${axeSource}\n;void 0`);
  return page.evaluate(async () => {
    const result = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
    });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) }));
  });
}
