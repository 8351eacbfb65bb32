import type { BackupStatus, Health, Settings } from '@payaiml/lightning-js';
import { describe, expect, it } from 'vitest';
import { backupWaitsForRestart, changes, isServer, sentence, stateWords } from './backup';
import { formatTime } from './format';

const part = { behind_since: null, pending_changes: 0, pending_bytes: 0, last_backup_at: '2026-01-02T10:00:00Z', last_error: null };
const status = (over: Partial<BackupStatus>): BackupStatus => ({
  target: '/mnt/nas/shop', state: 'up_to_date', ...part, channel_state: { ...part, state: 'up_to_date' },
  shop_data: { ...part, state: 'up_to_date' }, ...over,
});

describe('the backup in words', () => {
  it('tells a server from a folder', () => {
    expect(isServer('https://vss.example.com/vss')).toBe(true);
    expect(isServer(' HTTP://10.0.0.2:8080/vss')).toBe(true);
    expect(isServer('/mnt/nas/shop')).toBe(false);
    expect(isServer('/mnt/http/shop')).toBe(false);
  });

  it('says how current it is, with what waits while behind', () => {
    expect(stateWords(status({}))).toBe('Up to date');
    expect(stateWords(status({ state: 'checking' }))).toBe('Checking…');
    const since = '2026-01-02T10:05:00Z';
    expect(stateWords(status({ state: 'behind', behind_since: since, pending_changes: 3 })))
      .toBe(`Behind since ${formatTime(since)}: 3 changes wait on this computer`);
    expect(stateWords(status({ state: 'behind', behind_since: since, pending_changes: 1 })))
      .toBe(`Behind since ${formatTime(since)}: 1 change waits on this computer`);
    expect(stateWords(status({ state: 'behind', behind_since: since }))).toBe(`Behind since ${formatTime(since)}`);
    expect(changes(1200)).toBe('1,200 changes');
  });

  it('makes a sentence of the reason: capital, one full stop, no "backup:" before it', () => {
    expect(sentence('the folder is gone ')).toBe('The folder is gone.');
    expect(sentence('the folder is gone.')).toBe('The folder is gone.');
    expect(sentence('backup: the backup folder /mnt/nas/x: Not a directory (os error 20)'))
      .toBe('The backup folder /mnt/nas/x: Not a directory (os error 20).');
    expect(sentence('http://127.0.0.1:9/vss did not take a test write')).toBe('http://127.0.0.1:9/vss did not take a test write.');
  });
});

describe('a target waiting for the next start', () => {
  const settings = (backup: Settings['backup'], restart_required: boolean) => ({ backup, restart_required }) as Settings;
  const health = (backup: BackupStatus | null) => ({ backup }) as Health;
  const folder = (target: string) => ({ kind: 'folder', target, token_set: false, jwt: false });

  it('is a kept target other than the running one, or none kept while one runs', () => {
    expect(backupWaitsForRestart(settings(folder('/mnt/usb'), true), health(status({})))).toBe(true);
    expect(backupWaitsForRestart(settings(null, true), health(status({})))).toBe(true);
    expect(backupWaitsForRestart(settings(folder('/mnt/nas'), true), health(null))).toBe(true);
  });

  it('is not an LSP change alone, nor the same place written with a slash', () => {
    expect(backupWaitsForRestart(settings(folder('/mnt/nas/shop'), true), health(status({})))).toBe(false);
    expect(backupWaitsForRestart(settings(folder('/mnt/nas/shop/'), true), health(status({})))).toBe(false);
    expect(backupWaitsForRestart(settings(null, true), health(null))).toBe(false);
    expect(backupWaitsForRestart(settings(folder('/mnt/usb'), false), health(status({})))).toBe(false);
  });
});
