// The till of a café pricing in euros, on a tablet (1024×768): the owner adds a receipt printer
// with a cash drawer and two cashiers in Settings, and locks the counter; Alice signs in with her
// PIN, opens a shift with a float, takes a cash sale (the change shown, the drawer kicked open and
// the receipt printed) and a Lightning sale (its receipt printed by itself once paid); Bob takes
// over by PIN and closes the shift 0.50 short, and the Z-report says so. The printer is a loopback
// ESC/POS stand-in that keeps each connection's bytes as a job; the cash sale's receipt is read
// back (tests/browser/escpos.mjs) and photographed as the paper would show it. Rates come from the
// loopback stand-in (60,000.00 EUR/BTC); nothing leaves 127.0.0.1.

import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { startRatesStandIn } from '../stand-ins/rates.mjs';
import { decode, ticketHtml } from './escpos.mjs';
import { axeViolations, call, launch, nav, openPage, outputDir, startSandbox, watchSockets } from './harness.mjs';

const TABLET = { width: 1024, height: 768 };
const dir = join(outputDir, 'till');

// What a person reads: the rendered text, with the layout's breaks as spaces.
const text = async (locator) => (await locator.innerText()).replace(/\s+/g, ' ').trim();

/** A network receipt printer on 127.0.0.1 as the till reaches one (raw TCP, ESC/POS): each
 *  connection's bytes are one job. The till first asks for the paper sensor (DLE EOT 4): the
 *  answer is 0x12 (paper present), and those 3 bytes are not part of the job. */
async function startPrinter() {
  const jobs = [];
  const server = createServer((socket) => {
    let bytes = Buffer.alloc(0);
    let checked = false;
    socket.on('data', (chunk) => {
      bytes = Buffer.concat([bytes, chunk]);
      if (!checked && bytes.length >= 3) {
        checked = true;
        if (bytes[0] === 0x10 && bytes[1] === 0x04 && bytes[2] === 0x04) {
          socket.write(Buffer.from([0x12]));
          bytes = bytes.subarray(3);
        }
      }
    });
    socket.on('end', () => {
      jobs.push(bytes);
      socket.end();
    });
    socket.on('error', () => {});
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: server.address().port,
    jobs,
    /** The first job after the `seen` first ones that `match`es (decoded), within `timeout` ms. */
    async next(seen, match, what, timeout = 20_000) {
      const end = Date.now() + timeout;
      for (;;) {
        for (let i = seen; i < jobs.length; i++) {
          const decoded = decode(jobs[i]);
          if (match(decoded)) return { index: i, bytes: jobs[i], decoded };
        }
        if (Date.now() > end) {
          throw new Error(`the printer received no ${what} (jobs: ${JSON.stringify(jobs.map((j) => decode(j).lines.filter(Boolean).slice(0, 3)))})`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    close: () => new Promise((r) => server.close(r)),
  };
}

let rates;
let printer;
let sandbox;
let sockets;
let browser;

before(async () => {
  mkdirSync(dir, { recursive: true });
  rates = await startRatesStandIn();
  printer = await startPrinter();
  sandbox = await startSandbox({ args: ['--rate-url', rates.rateUrls, '--rate-refresh', '2s'] });
  sockets = watchSockets(sandbox.pid);
  browser = await launch();
  const set = await call(sandbox.api, sandbox.admin, 'PATCH', '/v1/settings', {
    currency: 'EUR',
    shop: { name: 'Café Bleu', address: '1 Rue de la Paix\n75002 Paris', tax_id: '', footer: 'Merci, à bientôt !' },
  });
  assert.equal(set.status, 200, JSON.stringify(set.body));
  const item = await call(sandbox.api, sandbox.admin, 'POST', '/v1/catalog/items', { name: 'Flat white', price: '3.60', currency: 'EUR', category: 'Drinks' });
  assert.equal(item.status, 201, JSON.stringify(item.body));
});

after(async () => {
  sockets?.stop();
  await browser?.close();
  await sandbox?.stop();
  await printer?.close();
  await rates?.close();
});

test('a café tablet: printer and cashiers set up, a shift with a cash sale and a Lightning sale, receipts printed, the drawer 0.50 short', async () => {
  const { page, shot, errors, requests, close } = await openPage(browser, sandbox.api, sandbox.admin, 'till', { viewport: TABLET });

  // Settings → Printers: the counter's receipt printer, on the network, with the cash drawer.
  await nav(page, 'Settings');
  const printers = page.getByTestId('printer-settings');
  await printers.getByTestId('printers-empty').waitFor();
  const form = page.getByRole('form', { name: 'New printer' });
  await form.getByLabel('Name').fill('Counter');
  await form.getByLabel('Network').check();
  await form.getByLabel('Address').fill('127.0.0.1');
  await form.getByLabel('Port').fill(String(printer.port));
  await form.getByLabel('80 mm').check();
  await form.getByLabel('Prints').selectOption('receipt');
  await form.getByLabel('Print receipts by themselves when a sale is paid').check();
  await form.getByLabel('A cash drawer is plugged into this printer').check();
  await form.getByRole('button', { name: 'Add printer' }).click();
  await printers.getByText('Counter is added: print a test page to check it.').waitFor();
  const row = printers.getByTestId('printer-row');
  assert.match(await text(row), /^Counter Receipts, 80 mm, prints by itself, cash drawer 127\.0\.0\.1:\d+ Not used yet/);
  // A test page proves it: it reaches the loopback printer, € and all.
  await printers.getByRole('button', { name: 'Print a test page on Counter' }).click();
  const testPage = await printer.next(0, (d) => d.lines.includes('Test page'), 'test page');
  assert.ok(testPage.decoded.lines.some((l) => /^Euro sign +€ 1\.00$/.test(l)), testPage.decoded.lines.join('\n'));
  await row.getByTestId('printer-status').getByText(/^Ready/).waitFor({ timeout: 20_000 });
  await shot('printers');
  await printers.screenshot({ path: join(dir, 'till-printers.png') });
  const [added] = (await call(sandbox.api, sandbox.admin, 'GET', '/v1/printers')).body.data;
  assert.deepEqual(
    [added.connection, added.paper, added.role, added.auto_print, added.cash_drawer],
    [{ type: 'network', host: '127.0.0.1', port: printer.port }, '80mm', 'receipt', true, true],
  );

  // Settings → Staff: two cashiers with their own PIN.
  const staff = page.getByRole('form', { name: 'New cashier' });
  for (const [name, pin] of [['Alice', '1357'], ['Bob', '2468']]) {
    await staff.getByLabel('Name').fill(name);
    await staff.getByLabel('PIN (4 to 12 digits)').fill(pin);
    await staff.getByLabel('The same PIN again').fill(pin);
    await staff.getByRole('button', { name: 'Add cashier' }).click();
    await staff.getByText(`${name} can sign in at the counter now.`).waitFor();
  }
  await page.getByRole('table', { name: 'Cashiers' }).getByRole('cell', { name: 'Bob', exact: true }).waitFor();
  assert.deepEqual(await page.getByRole('table', { name: 'Cashiers' }).getByTestId('staff-row').locator('td:first-child').allInnerTexts(), ['Alice', 'Bob']);

  // The owner's PIN, and the counter locked to the point of sale.
  const lock = page.getByRole('form', { name: 'Cashier lock' });
  await lock.getByLabel('PIN (4 to 12 digits)').fill('9090');
  await lock.getByLabel('The same PIN again').fill('9090');
  await lock.getByRole('button', { name: 'Set PIN' }).click();
  await lock.getByText('PIN saved.').waitFor();
  await lock.getByRole('button', { name: 'Lock to the point of sale' }).click();
  await page.getByTestId('locked-badge').waitFor();
  const cashierKey = await page.evaluate(() => sessionStorage.getItem('payaiml.key'));
  assert.notEqual(cashierKey, sandbox.admin);

  // Who is at the till? Alice, by her PIN on the keypad.
  const signIn = page.getByTestId('till-sign-in');
  await signIn.getByRole('heading', { name: 'Who is at the till?' }).waitFor({ timeout: 15_000 });
  await signIn.getByRole('button', { name: 'Bob', exact: true }).waitFor();
  assert.deepEqual(await signIn.getByTestId('staff-pick').allInnerTexts(), ['Alice', 'Bob']);
  const signInAs = async (name, pin) => {
    await signIn.getByRole('button', { name, exact: true }).click();
    const keypad = signIn.getByRole('group', { name: 'PIN keypad' });
    for (const digit of pin) await keypad.getByRole('button', { name: digit, exact: true }).click();
  };
  await signInAs('Alice', '1357');
  assert.equal((await signIn.getByTestId('staff-pin').inputValue()).length, 4);
  await shot('sign-in');
  await signIn.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('till-cashier').getByText('Alice').waitFor();
  const cashier = (await call(sandbox.api, cashierKey, 'GET', '/v1/cashier')).body;
  assert.deepEqual([cashier.locked, cashier.staff?.name, cashier.sign_in_required, cashier.shift], [true, 'Alice', false, null]);

  // A shift with 100.00 in the drawer: the drawer opens by itself.
  let seen = printer.jobs.length;
  await page.getByTestId('shift-open').click();
  const openDialog = page.getByTestId('shift-open-dialog');
  await openDialog.getByLabel('Float in the drawer (EUR)').fill('100.00');
  await openDialog.getByRole('button', { name: 'Open shift' }).click();
  await page.getByTestId('shift-button').waitFor();
  const kick = await printer.next(seen, (d) => d.drawers.length > 0 && d.lines.length === 0, 'drawer kick at the shift’s start');
  seen = kick.index + 1;

  // A cash sale of a flat white, 20.00 handed over: the change shown, the receipt printed with
  // the drawer kicked first.
  const grid = page.getByRole('region', { name: 'Items' });
  await grid.getByRole('button', { name: /^Add Flat white/ }).click();
  await page.getByTestId('cart-total').getByText('€3.60').waitFor();
  await shot('cart');
  await page.getByTestId('pos-cash').click();
  const cash = page.getByTestId('tender-cash');
  await cash.getByTestId('tender-total').getByText('€3.60').waitFor();
  await cash.getByLabel('Cash received (EUR)').fill('20.00');
  await cash.getByTestId('cash-change').getByText('€16.40').waitFor();
  assert.equal(await text(cash.getByTestId('cash-change')), 'Change €16.40');
  await shot('cash-tender');
  await cash.getByRole('button', { name: 'Confirm cash payment' }).click();
  const paid = page.getByTestId('pos-sale-paid');
  await paid.waitFor();
  assert.equal(await text(paid.getByTestId('pos-sale-change')), 'Change €16.40');
  assert.match(await text(paid), /Paid in cash €3\.60 Change €16\.40 €20\.00 received Served by Alice/);
  await shot('cash-paid');
  const sale = (await call(sandbox.api, sandbox.admin, 'GET', '/v1/sales?limit=1')).body.data[0];
  assert.deepEqual([sale.tender, sale.total, sale.cash_received, sale.change, sale.cashier?.name], ['cash', '3.60', '20.00', '16.40', 'Alice']);
  const receipt = await printer.next(seen, (d) => d.lines.some((l) => l.startsWith('Cash received')), 'cash receipt');
  seen = receipt.index + 1;
  // The drawer kick comes before anything is printed: after the set-up (ESC @, ESC t), first.
  const setUp = receipt.decoded.commands.slice(0, receipt.decoded.commands.findIndex((c) => c.name === 'drawer'));
  assert.ok(setUp.length > 0 && setUp.every((c) => c.name === 'init' || c.name === 'codepage'), JSON.stringify(receipt.decoded.commands.slice(0, 6)));
  const at = receipt.bytes.indexOf(Buffer.from([0x1b, 0x70, 0x00]));
  assert.deepEqual([...receipt.bytes.subarray(at, at + 5)], [0x1b, 0x70, 0x00, 25, 250]);
  assert.deepEqual(receipt.decoded.drawers, [{ pin: 2, on_ms: 50, off_ms: 500 }]);
  const lines = receipt.decoded.lines;
  for (const want of ['Café Bleu', 'Flat white', 'TOTAL', 'Cash received', 'Change', `Receipt ${sale.id}`, 'Merci, à bientôt !']) {
    assert.ok(lines.some((l) => l.includes(want)), `the receipt has ${want}:\n${lines.join('\n')}`);
  }
  assert.ok(lines.some((l) => /^Flat white +3\.60$/.test(l)), lines.join('\n'));
  assert.ok(lines.some((l) => /^TOTAL +3\.60 EUR$/.test(l)), lines.join('\n'));
  assert.ok(lines.some((l) => /^Cash received +20\.00$/.test(l)), lines.join('\n'));
  assert.ok(lines.some((l) => /^Change +16\.40$/.test(l)), lines.join('\n'));
  assert.ok(lines.includes(`[QR: ${sale.id}]`), 'the QR holds the sale’s id');
  assert.ok(lines.every((l) => l.length <= 48), 'an 80 mm roll prints 48 characters a line');
  const title = receipt.decoded.blocks.find((b) => b.type === 'line' && b.text === 'Café Bleu');
  assert.deepEqual([title.align, title.spans[0].bold, title.spans[0].width, title.spans[0].height], ['center', true, 2, 2]);
  assert.equal(receipt.decoded.blocks.at(-1).type, 'cut', 'the ticket ends with a cut');

  // The receipt as the paper shows it, for the README (and its bytes, to read them again).
  writeFileSync(join(dir, 'till-receipt.escpos'), receipt.bytes);
  const paper = await browser.newPage({ viewport: { width: 420, height: 900 }, deviceScaleFactor: 2 });
  await paper.setContent(ticketHtml(receipt.decoded, { paper: '80mm', title: `Receipt ${sale.id} as printed` }));
  assert.deepEqual(await axeViolations(paper), []);
  await paper.locator('main').screenshot({ path: join(dir, 'till-receipt.png') });
  await paper.close();

  await paid.getByRole('button', { name: 'New sale' }).click();

  // A Lightning sale of the same: paid by the sandbox's customer, the receipt printed by itself
  // (no drawer kick for it).
  await grid.getByRole('button', { name: /^Add Flat white/ }).click();
  await page.getByRole('button', { name: 'Charge €3.60' }).click();
  await page.locator('img.qr').waitFor({ timeout: 15_000 });
  await shot('lightning-qr');
  const invoice = (await call(sandbox.api, sandbox.admin, 'GET', '/v1/lightning/invoices?limit=1')).body.data[0];
  assert.deepEqual([invoice.order?.total, invoice.fiat?.currency, invoice.status], ['3.60', 'EUR', 'pending']);
  const payment = await call(sandbox.api, sandbox.admin, 'POST', '/v1/sandbox/pay', { payment_request: invoice.payment_request });
  assert.equal(payment.body.status, 'succeeded', JSON.stringify(payment.body));
  await page.getByTestId('pos-paid').getByRole('heading', { name: 'Paid' }).waitFor({ timeout: 15_000 });
  const ln = await printer.next(seen, (d) => d.lines.some((l) => l.includes(`Receipt ${invoice.id}`)), 'Lightning receipt');
  seen = ln.index + 1;
  assert.deepEqual(ln.decoded.drawers, [], 'a Lightning sale opens no drawer');
  assert.ok(ln.decoded.lines.some((l) => /^Paid by +Lightning$/.test(l)), ln.decoded.lines.join('\n'));
  assert.ok(ln.decoded.lines.some((l) => /^TOTAL +3\.60 EUR$/.test(l)), ln.decoded.lines.join('\n'));
  assert.ok(ln.decoded.lines.some((l) => /^\d{4}-\d\d-\d\d \d\d:\d\d +Alice$/.test(l)), `Alice took it:\n${ln.decoded.lines.join('\n')}`);
  await shot('lightning-paid');
  await page.getByTestId('pos-paid').getByRole('button', { name: 'New sale' }).click();

  // Bob takes over the till by his PIN.
  await page.getByTestId('till-switch').click();
  await signIn.getByRole('heading', { name: 'Who is at the till?' }).waitFor();
  await signInAs('Bob', '2468');
  await signIn.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('till-cashier').getByText('Bob').waitFor();

  // Bob closes the shift: 103.10 counted where 103.60 is expected.
  await page.getByTestId('shift-button').click();
  const shiftDialog = page.getByTestId('shift-dialog');
  await shiftDialog.getByTestId('shift-running-expected').getByText('€103.60').waitFor();
  assert.match(await text(shiftDialog.getByTestId('shift-summary')), /by Alice Float €100\.00 Sales so far 2 · €7\.20 Cash expected in the drawer €103\.60/);
  await shiftDialog.getByRole('button', { name: 'Close shift' }).click();
  const closing = page.getByTestId('shift-close-dialog');
  await closing.getByLabel('Cash counted (EUR)').fill('103.10');
  await closing.getByTestId('shift-expected').getByText('€103.60').waitFor();
  assert.equal(await text(closing.getByTestId('shift-difference')), 'Short by €0.50');
  await shot('shift-close');
  await closing.getByRole('button', { name: 'Close shift' }).click();
  const report = page.getByTestId('shift-report-dialog');
  const z = report.getByTestId('z-report');
  await z.waitFor();
  assert.equal(await text(z.getByTestId('z-difference')), 'Short by €0.50');
  assert.equal(await text(z.getByTestId('z-expected')), '€103.60');
  assert.equal(await text(z.getByTestId('z-counted')), '€103.10');
  assert.equal(await text(z.getByTestId('z-sales-total')), '€7.20');
  const tenders = (await z.getByTestId('z-sales-row').allInnerTexts()).map((r) => r.replace(/\s+/g, ' ').trim().split(' ').slice(0, 3).join(' '));
  assert.deepEqual(tenders.sort(), ['Cash 1 €3.60', 'Lightning 1 €3.60']);
  assert.match(await text(report), /by Bob: counted €103\.10, expected €103\.60 \(Short by €0\.50\)/);
  await shot('z-report');
  // The whole dialog for the README: the tablet's width, as tall as the report.
  const tall = await report.evaluate((d) => d.scrollHeight);
  await page.setViewportSize({ width: TABLET.width, height: Math.max(TABLET.height, tall + 48) });
  await report.screenshot({ path: join(dir, 'till-z-report.png') });
  await page.setViewportSize(TABLET);
  const shift = (await call(sandbox.api, sandbox.admin, 'GET', '/v1/shifts?limit=1')).body.data[0];
  assert.deepEqual(
    [shift.status, shift.float, shift.expected_cash, shift.counted, shift.difference, shift.opened_by?.name, shift.closed_by?.name],
    ['closed', '100.00', '103.60', '103.10', '-0.50', 'Alice', 'Bob'],
  );
  // The Z-report prints on the receipt printer by itself at the close.
  const zTicket = await printer.next(seen, (d) => d.lines.some((l) => l.includes('Z-report')), 'Z-report');
  assert.ok(zTicket.decoded.lines.some((l) => /^Difference +-0\.50$/.test(l)), zTicket.decoded.lines.join('\n'));
  assert.deepEqual(zTicket.decoded.drawers, []);
  await report.getByRole('button', { name: 'Done' }).click();
  await page.getByTestId('shift-open').waitFor();

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
