// The continuous backup in words for a shop owner: how current it is (health's `backup`), and
// whether a target chosen in Settings still waits for the next start.

import type { BackupPartStatus, BackupStatus, Health, Settings } from '@payaiml/lightning-js';
import { formatTime } from './format';

/** Whether a target is a VSS server (an http(s) URL, which may need a token) rather than a folder. */
export function isServer(target: string): boolean {
  return /^https?:\/\//i.test(target.trim());
}

/** `1 change`, `3 changes`. */
export function changes(n: number): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? 'change' : 'changes'}`;
}

/** A server's message about the backup as a sentence of its own: without the `backup: ` its
 *  errors start with (what is around it already says it is about the backup), a capital first,
 *  one full stop at the end. */
export function sentence(text: string): string {
  const t = text.trim().replace(/^backup:\s*/i, '');
  // A capital for a first word ("the folder…"), never for an address or a path that opens it.
  const s = /^[a-z]+\s/.test(t) ? t.charAt(0).toUpperCase() + t.slice(1) : t;
  return /[.!?]$/.test(s) ? s : `${s}.`;
}

/** How current the backup (or one part of it) is, in a few words: `Up to date`, `Checking…`,
 *  `Behind since <time>: 3 changes wait on this computer`. */
export function stateWords(s: BackupStatus | BackupPartStatus): string {
  if (s.state === 'up_to_date') return 'Up to date';
  if (s.state === 'checking') return 'Checking…';
  const waiting = s.pending_changes > 0 ? `: ${changes(s.pending_changes)} ${s.pending_changes === 1 ? 'waits' : 'wait'} on this computer` : '';
  return `Behind since ${formatTime(s.behind_since)}${waiting}`;
}

/** The same place, written with or without a trailing slash. */
function samePlace(a: string | null | undefined, b: string | null | undefined): boolean {
  const norm = (t: string | null | undefined) => (t ?? '').trim().replace(/\/+$/, '');
  return norm(a) === norm(b);
}

/** Whether the backup target kept in Settings (which applies from the next start) differs from
 *  the one running now. `restart_required` alone cannot say, as an LSP change sets it too. */
export function backupWaitsForRestart(settings: Settings, health: Health | null): boolean {
  if (!settings.restart_required) return false;
  return !samePlace(settings.backup?.target, health?.backup?.target);
}
