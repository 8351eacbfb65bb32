// The live event stream as an async iterator: one WebSocket, replay from `after`, and after a
// drop a reconnect that resumes from the last `seq` received, so nothing is missed or repeated.
// The dashboard runs on this same stream (ui/src/api/stream.ts).

import type { LightningEvent } from './types.js';

/** Where the stream's connection is: `connecting` (a socket is being opened), `live` (open:
 *  events flow), `off` (closed or failed to open; a reconnect follows after a pause). */
export type EventStreamState = 'connecting' | 'live' | 'off';

export interface EventsOptions {
  /** Replay events with `seq` greater than this first; omitted: only new events. */
  after?: number;
  /** Stops the stream. Nothing is yielded or reported after it fires. */
  signal?: AbortSignal;
  /** Told each time the connection's state changes, e.g. to show whether the view is live. */
  onState?: (state: EventStreamState) => void;
}

interface MinimalSocket {
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  close(code?: number): void;
}
type SocketConstructor = new (url: string, protocols?: string[]) => MinimalSocket;

/** The first wait before reconnecting; it doubles after each failed attempt up to MAX_RETRY_MS
 *  and starts over once a connection opens. A restarting server is rarely back sooner. */
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 10_000;

async function socketClass(): Promise<SocketConstructor> {
  const native = (globalThis as { WebSocket?: SocketConstructor }).WebSocket;
  if (native) return native;
  // Node 20 has no WebSocket client of its own.
  const ws = (await import('ws')) as unknown as {
    WebSocket?: SocketConstructor;
    default?: SocketConstructor & { WebSocket?: SocketConstructor };
  };
  const found = ws.WebSocket ?? ws.default?.WebSocket ?? ws.default;
  if (!found) throw new Error('no WebSocket client: install the "ws" package');
  return found;
}

/** Resolves after `ms`, or at once when `signal` fires. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

export async function* eventStream(baseUrl: string, apiKey: string, opts: EventsOptions): AsyncGenerator<LightningEvent> {
  const Socket = await socketClass();
  const stopped = () => opts.signal?.aborted === true;
  // '' is the page's own origin in a browser; spelled out, since a WebSocket needs an absolute URL.
  const origin = baseUrl || (typeof location !== 'undefined' ? `${location.protocol}//${location.host}` : '');
  let last: number | null = opts.after ?? null;
  let delay = FIRST_RETRY_MS;
  while (!stopped()) {
    const url = `${origin.replace(/^http/, 'ws')}/v1/events/ws${last === null ? '' : `?after=${last}`}`;
    opts.onState?.('connecting');
    // The key as a subprotocol works in browsers too, where headers cannot be set.
    const socket = new Socket(url, ['bearer', apiKey]);
    const queue: LightningEvent[] = [];
    let closed: { code: number; reason: string } | null = null;
    let wake: (() => void) | null = null;
    const notify = () => { wake?.(); wake = null; };
    // Once the signal has fired the caller has stopped listening (and may already run another
    // stream, whose state a late report from this one would overwrite): report nothing more.
    socket.onopen = () => {
      delay = FIRST_RETRY_MS;
      if (!stopped()) opts.onState?.('live');
    };
    socket.onmessage = (ev) => {
      if (stopped()) return;
      try {
        queue.push(JSON.parse(String(ev.data)) as LightningEvent);
      } catch { /* not an event */ }
      notify();
    };
    socket.onclose = (ev) => {
      closed = { code: ev.code, reason: ev.reason };
      if (!stopped()) opts.onState?.('off');
      notify();
    };
    socket.onerror = () => { /* followed by close */ };
    const abort = () => { socket.close(1000); notify(); };
    opts.signal?.addEventListener('abort', abort, { once: true });
    try {
      for (;;) {
        while (queue.length > 0 && !stopped()) {
          const event = queue.shift() as LightningEvent;
          if (typeof event.seq === 'number') {
            if (last !== null && event.seq <= last) continue;
            last = event.seq;
          }
          yield event;
        }
        if (closed || stopped()) break;
        await new Promise<void>((r) => { wake = r; });
      }
    } finally {
      opts.signal?.removeEventListener('abort', abort);
      if (!closed) {
        // Closed from this side (the signal, or the caller left the loop): not a drop to report.
        socket.onclose = null;
        socket.close(1000);
      }
    }
    if (stopped()) return;
    // Dropped (server restart, network, or 4000 "too far behind"): resume from `last`.
    await pause(delay, opts.signal);
    delay = Math.min(delay * 2, MAX_RETRY_MS);
  }
}
