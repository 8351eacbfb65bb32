// The dashboard's shared state: the connection, the node's health, the sats/BTC choice, and the
// live event stream (one WebSocket for the whole app; pages subscribe to what they need).

import { api, type Connection, type EventRecord, type Health } from '../api/client';
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

let socket: WebSocket | null = null;
let lastSeq = 0;
let retry = 500;
let stopped = true;

function streamUrl(conn: Connection): string {
  const base = conn.baseUrl || `${location.protocol}//${location.host}`;
  const url = base.replace(/^http/, 'ws') + '/v1/events/ws';
  return lastSeq > 0 ? `${url}?after=${lastSeq}` : url;
}

/** Opens the event stream; after a drop it reconnects and resumes from the last `seq` seen. */
export function startStream(conn: Connection): void {
  stopped = false;
  session.live = 'connecting';
  // Browsers cannot set headers on a WebSocket: the key travels as the second subprotocol.
  const ws = new WebSocket(streamUrl(conn), ['bearer', conn.key]);
  socket = ws;
  ws.onopen = () => { session.live = 'live'; retry = 500; };
  ws.onmessage = (msg) => {
    let event: EventRecord;
    try { event = JSON.parse(String(msg.data)); } catch { return; }
    if (typeof event.seq === 'number') lastSeq = Math.max(lastSeq, event.seq);
    for (const fn of listeners) fn(event);
  };
  ws.onclose = () => {
    if (socket !== ws) return;
    session.live = 'off';
    if (stopped) return;
    setTimeout(() => { if (!stopped) startStream(conn); }, retry);
    retry = Math.min(retry * 2, 10_000);
  };
}

export function stopStream(): void {
  stopped = true;
  socket?.close();
  socket = null;
}

export async function refreshHealth(): Promise<void> {
  if (!session.conn) return;
  session.health = await api.health(session.conn);
}
