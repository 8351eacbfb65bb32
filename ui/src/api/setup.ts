// The first-run setup of an app that hosts several wallets (the desktop app, `payaimld app`):
// where it stands, choosing a wallet, new recovery words and making the wallet. These routes need
// the host's token, not an API key, so they are called here directly rather than through the SDK
// (which is for shops, and never runs a setup); the types are the ones generated from the API's
// OpenAPI document, like the SDK's.

import type { components } from '../../../sdk/js/src/generated/openapi';
import { isServer } from '../lib/backup';

export type SetupStatus = components['schemas']['SetupStatus'];
export type NewWords = components['schemas']['NewWords'];
export type Profile = components['schemas']['Profile'];
export type WalletChoice = components['schemas']['WalletChoice'];

/** A backup target as typed at setup: a VSS server's URL (and how it checks requests: a token,
 *  or the wallet's own key in its JWT mode) or a folder path. Empty: no backup. */
export interface BackupChoice { target: string; token?: string; jwt?: boolean }

/** The backup fields of `/v1/setup/wallet`: none for an empty target; a server's auth only for a
 *  server, and the JWT mode instead of a token. */
export function backupFields(choice?: BackupChoice): { backup?: string; backup_token?: string; backup_jwt?: boolean } {
  const target = choice?.target.trim() ?? '';
  if (!target) return {};
  if (!isServer(target)) return { backup: target };
  if (choice?.jwt) return { backup: target, backup_jwt: true };
  const token = choice?.token?.trim() ?? '';
  return token ? { backup: target, backup_token: token } : { backup: target };
}

/** A refused setup request: the API's error code, message and field. */
export class SetupError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly field?: string) {
    super(message);
  }
}

export class SetupClient {
  constructor(readonly baseUrl: string, private readonly token: string) {}

  status(): Promise<SetupStatus> { return this.call('GET', '/v1/setup'); }
  choose(profile: Profile): Promise<SetupStatus> { return this.call('POST', '/v1/setup/profile', { profile }); }
  newWords(): Promise<NewWords> { return this.call('POST', '/v1/setup/words'); }
  /** Makes the new wallet from the words typed back; with a backup target, it is backed up there
   *  from its first start. */
  confirm(words: { position: number; word: string }[], backup?: BackupChoice): Promise<SetupStatus> {
    return this.call('POST', '/v1/setup/wallet', { confirm: words, ...backupFields(backup) });
  }
  /** Restores from the merchant's words; with a backup target, the channels and the shop's data
   *  come back from it too (refused, nothing made, if it holds no backup for these words). */
  restore(words: string, backup?: BackupChoice): Promise<SetupStatus> {
    return this.call('POST', '/v1/setup/wallet', { words, ...backupFields(backup) });
  }
  restart(): Promise<SetupStatus> { return this.call('POST', '/v1/setup/restart'); }
  exportWallet(passphrase: string): Promise<SetupStatus> { return this.call('POST', '/v1/setup/export', { passphrase }); }
  importWallet(file: string, passphrase: string): Promise<SetupStatus> {
    return this.call('POST', '/v1/setup/import', { file, passphrase });
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(this.baseUrl + path, {
      method,
      headers: { Authorization: `Bearer ${this.token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      cache: 'no-store',
    });
    const json = await res.json().catch(() => null);
    if (!res.ok) {
      const e = json?.error;
      throw new SetupError(res.status, e?.code ?? 'unknown', e?.message ?? `the app answered ${res.status}`, e?.field);
    }
    return json as T;
  }
}

/** How each wallet is offered. */
export const WALLETS: Record<Profile, { name: string; about: string }> = {
  sandbox: { name: 'Try it: the sandbox', about: 'No real money. A private test chain on this computer with a customer to pay you, channels ready both ways.' },
  'sandbox-fresh': { name: 'Try a new shop’s first payment', about: 'The sandbox again, but this node starts with no channels and no funds: the first payment opens a channel through the sandbox’s own LSP, as on day one of a real shop.' },
  bitcoin: { name: 'Bitcoin', about: 'Real money. You get recovery words to write down, or restore a wallet from yours.' },
  testnet: { name: 'Testnet', about: 'Test coins on the public test network.' },
  signet: { name: 'Signet', about: 'Test coins on the public signet.' },
  regtest: { name: 'Regtest', about: 'A private chain of your own bitcoind (for developers).' },
};
