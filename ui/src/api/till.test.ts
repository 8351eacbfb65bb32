import { LightningApiError } from '@payaiml/lightning-js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { clientFor, createSale, currentShift, printInvoice, listPrintJobs, shiftReportHtml, signIn } from './client';

const client = clientFor({ baseUrl: 'http://127.0.0.1:3737', key: 'pk_test_x' });

afterEach(() => vi.unstubAllGlobals());

describe('the till calls', () => {
  it('sends a sale once, with its Idempotency-Key', async () => {
    const fetch = vi.fn(async (_url: string, _init: RequestInit) => new Response('{"id":"sale_1","change":"10.60"}', { status: 201 }));
    vi.stubGlobal('fetch', fetch);
    const body = { cart: { currency: 'EUR' as const, lines: [{ name: 'Tea', unit_price: '9.40', quantity: 1 }] }, tender: 'cash' as const, cash_received: '20.00' };
    await expect(createSale(client, body, 'k-1')).resolves.toMatchObject({ id: 'sale_1', change: '10.60' });
    const [url, init] = fetch.mock.calls[0];
    expect(url).toBe('http://127.0.0.1:3737/v1/sales');
    expect(init).toMatchObject({
      method: 'POST',
      headers: { Authorization: 'Bearer pk_test_x', 'Content-Type': 'application/json', 'Idempotency-Key': 'k-1' },
      body: JSON.stringify(body),
    });
  });

  it('reads no open shift as null, and other failures as errors', async () => {
    vi.stubGlobal('fetch', async () => new Response('{"error":{"code":"not_found","message":"no shift is open"}}', { status: 404 }));
    await expect(currentShift(client)).resolves.toBeNull();
    vi.stubGlobal('fetch', async () => new Response('{"error":{"code":"forbidden","message":"no"}}', { status: 403 }));
    await expect(currentShift(client)).rejects.toBeInstanceOf(LightningApiError);
  });

  it('fetches a printable page with the key, and says the API error', async () => {
    const fetch = vi.fn(async (_url: string, _init: RequestInit) => new Response('<html>Z</html>', { status: 200 }));
    vi.stubGlobal('fetch', fetch);
    await expect(shiftReportHtml(client, 'shf_1')).resolves.toBe('<html>Z</html>');
    expect(fetch.mock.calls[0][0]).toBe('http://127.0.0.1:3737/v1/shifts/shf_1/report.html');
    expect(fetch.mock.calls[0][1]).toMatchObject({ headers: { Authorization: 'Bearer pk_test_x' } });
    vi.stubGlobal('fetch', async () => new Response('{"error":{"code":"not_found","message":"no such shift"}}', { status: 404 }));
    await expect(shiftReportHtml(client, 'shf_x')).rejects.toMatchObject({ status: 404, code: 'not_found', message: 'no such shift' });
  });

  it('names the paths and parameters of the contract', async () => {
    const fetch = vi.fn(async (_url: string, _init: RequestInit) => new Response('{"data":[],"next_cursor":null}', { status: 200 }));
    vi.stubGlobal('fetch', fetch);
    await printInvoice(client, 'inv_1');
    await printInvoice(client, 'inv_2', 'prn_1');
    await listPrintJobs(client, { state: 'failed' });
    await signIn(client, 'stf_1', '1234');
    expect(fetch.mock.calls.map(([url, init]) => [url, init.method, init.body])).toEqual([
      ['http://127.0.0.1:3737/v1/lightning/invoices/inv_1/print', 'POST', '{}'],
      ['http://127.0.0.1:3737/v1/lightning/invoices/inv_2/print?printer_id=prn_1', 'POST', '{}'],
      ['http://127.0.0.1:3737/v1/print-jobs?state=failed', 'GET', undefined],
      ['http://127.0.0.1:3737/v1/cashier/sign-in', 'POST', '{"staff_id":"stf_1","pin":"1234"}'],
    ]);
  });
});
