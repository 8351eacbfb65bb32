// The dashboard's shared state: the API client, the node's health, the sats/BTC choice, and the
// live events (one stream for the whole app, from api/stream.ts; pages subscribe to what they need).

import type { CounterSettings, EventStreamState, Health, LightningClient, LightningEvent } from '@payaiml/lightning-js';
import type { SetupClient } from '../api/setup';
import { openStream, type Stream } from '../api/stream';
import type { Unit } from './format';

export const session = $state({
  client: null as LightningClient | null,
  health: null as Health | null,
  unit: (localStorage.getItem('payaiml.unit') === 'btc' ? 'btc' : 'sat') as Unit,
  live: 'off' as EventStreamState,
  /** The host of several wallets this dashboard runs under (desktop app, `payaimld app`), if any. */
  host: null as SetupClient | null,
  /** Whether the dashboard works with the cashier's key: locked to the point of sale. */
  cashier: false,
  /** Whether the owner has set a cashier PIN (locking needs one). */
  pinSet: false,
  /** How the point of sale works: tip presets, and whether the cashier may refund. */
  counter: { tip_presets: ['10', '15', '20'], cashier_refunds: false, cashier_refund_limit: null } as CounterSettings,
});

export function setUnit(unit: Unit): void {
  session.unit = unit;
  localStorage.setItem('payaiml.unit', unit);
}

type Listener = (event: LightningEvent) => void;
const listeners = new Set<Listener>();

/** Calls `fn` for every live event; returns the function that stops it. */
export function onEvent(fn: Listener): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

let stream: Stream | null = null;

/** Opens the event stream (see api/stream.ts); pages subscribe with onEvent. */
export function startStream(client: LightningClient): void {
  stream?.close();
  stream = openStream(client, {
    onEvent: (event) => { for (const fn of listeners) fn(event); },
    onState: (state) => { session.live = state; },
  });
}

export function stopStream(): void {
  stream?.close();
  stream = null;
  session.live = 'off';
}

export async function refreshHealth(): Promise<void> {
  if (!session.client) return;
  session.health = await session.client.health();
}
