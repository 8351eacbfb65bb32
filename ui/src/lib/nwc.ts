// Nostr Wallet Connect in words for a shop owner: what a connection may do, the relays typed in
// the connect dialog, and how the relays are doing (health's `nwc`, on the Overview).

import type { NwcAccess, NwcConnection, NwcStatus } from '../api/client';

/** The relay the connect dialog offers when no connection has chosen one yet. */
export const DEFAULT_RELAY = 'wss://relay.getalby.com/v1';

/** The three choices of "What may the app do?", in the dialog's order, with what each allows. */
export const ACCESS: { value: NwcAccess; label: string; help: string }[] = [
  { value: 'receive', label: 'Receive payments only', help: 'Make invoices and see the invoices it made. It can never pay.' },
  { value: 'read', label: 'Receive and read', help: 'Also see the balance and all invoices and payments. It can never pay.' },
  { value: 'pay', label: 'Receive and pay', help: 'Also pay invoices, up to a daily budget.' },
];

export function accessLabel(access: NwcAccess): string {
  return ACCESS.find((a) => a.value === access)?.label ?? access;
}

/** The relays typed in the dialog: one per line or separated by commas (or spaces), blanks
 *  dropped, each once, in the order typed. */
export function parseRelays(text: string): string[] {
  const out: string[] = [];
  for (const relay of text.split(/[\s,]+/)) if (relay && !out.includes(relay)) out.push(relay);
  return out;
}

/** The relays to offer for a new connection: those of the newest live one (the server's own
 *  default is the relay last used), else the default relay. */
export function suggestedRelays(connections: NwcConnection[]): string {
  const live = connections.find((c) => !c.key.revoked_at && c.relays.length > 0);
  return (live?.relays ?? [DEFAULT_RELAY]).join('\n');
}

/** A connection's state: `revoked`, `expired` or `active`. */
export function connectionState(c: NwcConnection, now: Date = new Date()): 'revoked' | 'expired' | 'active' {
  if (c.key.revoked_at) return 'revoked';
  if (c.key.expires_at && new Date(c.key.expires_at) < now) return 'expired';
  return 'active';
}

/** The relays' state as the Overview says it: `ok` quietly, `degraded` and `down` as a warning.
 *  `down` lists the relays that are not connected. */
export function describeRelays(s: NwcStatus): { tone: 'ok' | 'warning'; text: string; down: string[] } {
  const down = s.relays.filter((r) => !r.connected).map((r) => r.url);
  const total = s.relays.length;
  if (s.status === 'down') {
    const what = total > 1 ? 'Relays unreachable' : 'Relay unreachable';
    return { tone: 'warning', text: `${what} — retrying; apps cannot reach the wallet now`, down };
  }
  if (s.status === 'degraded') {
    const up = total - down.length;
    return {
      tone: 'warning',
      text: `${down.length} of ${total} relays down — apps reach the wallet through the ${up === 1 ? 'other' : 'others'}`,
      down,
    };
  }
  return { tone: 'ok', text: total > 1 ? 'Relays connected' : 'Relay connected', down };
}

/** `1 app`, `3 apps`. */
export function apps(n: number): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? 'app' : 'apps'}`;
}
