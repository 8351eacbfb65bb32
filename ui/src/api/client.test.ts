import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, request } from './client';

const conn = { baseUrl: 'http://127.0.0.1:3737', key: 'pk_test_x' };

afterEach(() => vi.unstubAllGlobals());

async function failure(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('expected the request to fail');
}

describe('request', () => {
  it('sends the key and parses JSON', async () => {
    const fetch = vi.fn(async () => new Response('{"ok":true}', { status: 200 }));
    vi.stubGlobal('fetch', fetch);
    await expect(request(conn, 'GET', '/v1/health')).resolves.toEqual({ ok: true });
    expect(fetch).toHaveBeenCalledWith('http://127.0.0.1:3737/v1/health', expect.objectContaining({
      method: 'GET', headers: { Authorization: 'Bearer pk_test_x' },
    }));
  });

  it('turns the error shape into an ApiError with code, message and field', async () => {
    vi.stubGlobal('fetch', async () => new Response(
      '{"error":{"code":"invalid_amount","message":"amount must be at least 1 sat","field":"amount"}}', { status: 422 }));
    const err = await request(conn, 'POST', '/v1/lightning/invoices', { amount: 0 }).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 422, code: 'invalid_amount', field: 'amount', message: 'amount must be at least 1 sat' });
  });

  it('keeps a non-JSON error readable', async () => {
    vi.stubGlobal('fetch', async () => new Response('Bad Gateway', { status: 502 }));
    const err = await failure(request(conn, 'GET', '/v1/health'));
    expect(err).toMatchObject({ status: 502, code: 'http_error' });
    expect(err.message).toContain('502');
    expect(err.message).toContain('Bad Gateway');
  });

  it('says when the server cannot be reached', async () => {
    vi.stubGlobal('fetch', async () => { throw new TypeError('Failed to fetch'); });
    const err = await failure(request(conn, 'GET', '/v1/health'));
    expect(err).toMatchObject({ status: 0, code: 'unreachable' });
    expect(err.message).toContain('did not answer');
  });
});
