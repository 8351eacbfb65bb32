// The dashboard's shared state: the connection, the node's health, the sats/BTC choice, and the
// live events (one stream for the whole app, from api/stream.ts; pages subscribe to what they need).

import { api, type Connection, type EventRecord, type Health } from '../api/client';
import { openStream, type Stream } from '../api/stream';
import type { Unit } from './format';

export const session = $state({
  conn: null as Connection | null,
  health: null as Health | null,
  unit: (localStorage.getItem('payaiml.unit') === 'btc' ? 'btc' : 'sat') as Unit,
  live: 'off' as 'off' | 'connecting' | 'live',
});

export function setUnit(unit: Unit): void {
  session.unit = unit;
  localStorage.setItem('payaiml.unit', unit);
}

type Listener = (event: EventRecord) => void;
const listeners = new Set<Listener>();

/** Calls `fn` for every live event; returns the function that stops it. */
export function onEvent(fn: Listener): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

let stream: Stream | null = null;

/** Opens the event stream (see api/stream.ts); pages subscribe with onEvent. */
export function startStream(conn: Connection): void {
  stream?.close();
  stream = openStream(conn, {
    onEvent: (event) => { for (const fn of listeners) fn(event); },
    onState: (state) => { session.live = state; },
  });
}

export function stopStream(): void {
  stream?.close();
  stream = null;
}

export async function refreshHealth(): Promise<void> {
  if (!session.conn) return;
  session.health = await api.health(session.conn);
}
