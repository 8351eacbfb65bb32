import { afterEach, describe, expect, it, vi } from 'vitest';
import { SetupClient, SetupError, backupFields } from './setup';

afterEach(() => vi.unstubAllGlobals());

describe('the backup fields of a new or restored wallet', () => {
  it('are left out when no target is given', () => {
    expect(backupFields()).toEqual({});
    expect(backupFields({ target: '  ', token: 'secret' })).toEqual({});
  });

  it('send a folder without a token, and a server with its token when one is typed', () => {
    expect(backupFields({ target: ' /mnt/nas/shop ', token: 'left over' })).toEqual({ backup: '/mnt/nas/shop' });
    expect(backupFields({ target: 'https://vss.example.com/vss', token: '' })).toEqual({ backup: 'https://vss.example.com/vss' });
    expect(backupFields({ target: 'https://vss.example.com/vss', token: ' t0k ' }))
      .toEqual({ backup: 'https://vss.example.com/vss', backup_token: 't0k' });
  });

  it('ask a server for its JWT mode instead of a token, and never a folder', () => {
    expect(backupFields({ target: 'https://vss.example.com/vss', token: 'left over', jwt: true }))
      .toEqual({ backup: 'https://vss.example.com/vss', backup_jwt: true });
    expect(backupFields({ target: '/mnt/nas/shop', jwt: true })).toEqual({ backup: '/mnt/nas/shop' });
  });

  it('go with the words to /v1/setup/wallet, and a refusal names the field', async () => {
    const fetch = vi.fn(async (_url: string, _init: RequestInit) => new Response(
      '{"error":{"code":"invalid_field","message":"backup target \'nas\': not a URL or an absolute path","field":"backup"}}',
      { status: 400 }));
    vi.stubGlobal('fetch', fetch);
    const setup = new SetupClient('http://127.0.0.1:3737', 'host-token');
    const refused = await setup.restore('abandon about', { target: 'nas' }).catch((e) => e);
    expect(refused).toBeInstanceOf(SetupError);
    expect(refused).toMatchObject({ status: 400, field: 'backup' });
    const [url, init] = fetch.mock.calls[0];
    expect(url).toBe('http://127.0.0.1:3737/v1/setup/wallet');
    expect(JSON.parse(String(init.body))).toEqual({ words: 'abandon about', backup: 'nas' });
    await setup.confirm([{ position: 3, word: 'zoo' }]).catch(() => null);
    expect(JSON.parse(String(fetch.mock.calls[1][1].body))).toEqual({ confirm: [{ position: 3, word: 'zoo' }] });
  });
});
