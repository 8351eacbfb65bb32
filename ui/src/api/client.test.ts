import { LightningApiError } from '@payaiml/lightning-js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { clientFor, createNwcConnection, listNwcConnections, revealNwcConnection, revokeNwcConnection } from './client';

const client = clientFor({ baseUrl: 'http://127.0.0.1:3737', key: 'pk_test_x' });

afterEach(() => vi.unstubAllGlobals());

async function failure(p: Promise<unknown>): Promise<LightningApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof LightningApiError) return e;
    throw e;
  }
  throw new Error('expected the request to fail');
}

describe('the dashboard client', () => {
  it('sends the key and parses JSON', async () => {
    const fetch = vi.fn(async () => new Response('{"status":"ok"}', { status: 200 }));
    vi.stubGlobal('fetch', fetch);
    await expect(client.health()).resolves.toEqual({ status: 'ok' });
    expect(fetch).toHaveBeenCalledWith('http://127.0.0.1:3737/v1/health', expect.objectContaining({
      method: 'GET', headers: { Authorization: 'Bearer pk_test_x' }, signal: undefined,
    }));
  });

  it('sends a JSON body without an Idempotency-Key, once, even where the SDK would retry', async () => {
    const fetch = vi.fn(async (_url: string, _init: RequestInit) => new Response(
      '{"error":{"code":"node_not_ready","message":"the node is starting"}}', { status: 503 }));
    vi.stubGlobal('fetch', fetch);
    const err = await failure(client.payInvoice('lnbcrt1', { amount: 5 }));
    expect(err).toMatchObject({ status: 503, code: 'node_not_ready' });
    expect(fetch).toHaveBeenCalledTimes(1);
    const [url, init] = fetch.mock.calls[0];
    expect(url).toBe('http://127.0.0.1:3737/v1/lightning/payments');
    expect(init).toMatchObject({
      method: 'POST',
      headers: { Authorization: 'Bearer pk_test_x', 'Content-Type': 'application/json' },
      body: '{"invoice":"lnbcrt1","amount":5}',
    });
  });

  it('asks for a page of a list with only the parameters set', async () => {
    const fetch = vi.fn(async (_url: string) => new Response('{"data":[],"next_cursor":null}', { status: 200 }));
    vi.stubGlobal('fetch', fetch);
    await client.listInvoicesPage({ status: undefined, limit: 50, cursor: null });
    await client.listInvoicesPage({ status: 'paid', limit: 50, cursor: '17' });
    expect(fetch.mock.calls.map(([url]) => url)).toEqual([
      'http://127.0.0.1:3737/v1/lightning/invoices?limit=50',
      'http://127.0.0.1:3737/v1/lightning/invoices?status=paid&limit=50&cursor=17',
    ]);
  });

  it('turns the error shape into a LightningApiError with code, message and field', async () => {
    vi.stubGlobal('fetch', async () => new Response(
      '{"error":{"code":"invalid_amount","message":"amount must be at least 1 sat","field":"amount"}}', { status: 422 }));
    const err = await failure(client.createInvoice({ amount: 0, description: 'x' }));
    expect(err).toMatchObject({ status: 422, code: 'invalid_amount', field: 'amount', message: 'amount must be at least 1 sat' });
  });

  it('keeps a non-JSON error readable', async () => {
    vi.stubGlobal('fetch', async () => new Response('Bad Gateway', { status: 502 }));
    const err = await failure(client.health());
    expect(err).toMatchObject({ status: 502, code: 'http_error', message: 'The server answered HTTP 502: Bad Gateway' });
  });

  it('says when the server cannot be reached', async () => {
    const fetch = vi.fn(async () => { throw new TypeError('Failed to fetch'); });
    vi.stubGlobal('fetch', fetch);
    const err = await failure(client.health());
    expect(err).toMatchObject({ status: 0, code: 'network_error' });
    expect(err.message).toBe('The PayAiML server at http://127.0.0.1:3737 did not answer (TypeError: Failed to fetch).');
    expect(fetch).toHaveBeenCalledTimes(1);
  });

  it('names the page origin for a same-origin connection', async () => {
    vi.stubGlobal('location', { origin: 'http://127.0.0.1:4000' });
    vi.stubGlobal('fetch', async () => { throw new TypeError('Failed to fetch'); });
    const err = await failure(clientFor({ baseUrl: '', key: 'pk_test_x' }).health());
    expect(err.message).toContain('The PayAiML server at http://127.0.0.1:4000 did not answer');
  });
});

describe('wallet connections (Nostr Wallet Connect)', () => {
  it('makes, lists, shows again and revokes a connection, each once, with the key', async () => {
    const fetch = vi.fn(async (url: string, _init: RequestInit) => new Response(
      url.endsWith('/v1/nwc/connections') ? '{"data":[]}' : '{"id":"k 1","uri":"nostr+walletconnect://x","qr_svg":"<svg/>"}', { status: 200 }));
    vi.stubGlobal('fetch', fetch);
    await expect(listNwcConnections(client)).resolves.toEqual([]);
    await createNwcConnection(client, { name: 'Web shop', access: 'pay', budget: 5000, expires_at: null, relays: ['ws://127.0.0.1:9'] });
    await expect(revealNwcConnection(client, 'k 1')).resolves.toMatchObject({ uri: 'nostr+walletconnect://x' });
    await revokeNwcConnection(client, 'k 1');
    expect(fetch.mock.calls.map(([url, init]) => [init.method, url, init.body])).toEqual([
      ['GET', 'http://127.0.0.1:3737/v1/nwc/connections', undefined],
      ['POST', 'http://127.0.0.1:3737/v1/nwc/connections', '{"name":"Web shop","access":"pay","budget":5000,"expires_at":null,"relays":["ws://127.0.0.1:9"]}'],
      ['POST', 'http://127.0.0.1:3737/v1/nwc/connections/k%201/reveal', '{}'],
      ['DELETE', 'http://127.0.0.1:3737/v1/nwc/connections/k%201', undefined],
    ]);
    for (const [, init] of fetch.mock.calls) expect(init.headers).toMatchObject({ Authorization: 'Bearer pk_test_x' });
  });

  it('makes a connection once, even on an error the SDK would retry', async () => {
    const fetch = vi.fn(async () => new Response('{"error":{"code":"node_not_ready","message":"the node is starting"}}', { status: 503 }));
    vi.stubGlobal('fetch', fetch);
    const err = await failure(createNwcConnection(client, { name: 'Web shop' }));
    expect(err).toMatchObject({ status: 503, code: 'node_not_ready' });
    expect(fetch).toHaveBeenCalledTimes(1);
  });
});
