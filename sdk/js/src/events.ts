// The live event stream as an async iterator: one WebSocket, replay from `after`, and after a
// drop a reconnect that resumes from the last `seq` received, so nothing is missed or repeated.

import type { LightningEvent } from './types.js';

export interface EventsOptions {
  /** Replay events with `seq` greater than this first; omitted: only new events. */
  after?: number;
  /** Stops the stream. */
  signal?: AbortSignal;
}

interface MinimalSocket {
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  close(code?: number): void;
}
type SocketConstructor = new (url: string, protocols?: string[]) => MinimalSocket;

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

export async function* eventStream(baseUrl: string, apiKey: string, opts: EventsOptions): AsyncGenerator<LightningEvent> {
  const Socket = await socketClass();
  let last: number | null = opts.after ?? null;
  let delay = 250;
  while (!opts.signal?.aborted) {
    const url = `${baseUrl.replace(/^http/, 'ws')}/v1/events/ws${last === null ? '' : `?after=${last}`}`;
    // The key as a subprotocol works in browsers too, where headers cannot be set.
    const socket = new Socket(url, ['bearer', apiKey]);
    const queue: LightningEvent[] = [];
    let closed: { code: number; reason: string } | null = null;
    let wake: (() => void) | null = null;
    const notify = () => { wake?.(); wake = null; };
    socket.onopen = () => { delay = 250; };
    socket.onmessage = (ev) => {
      try {
        queue.push(JSON.parse(String(ev.data)) as LightningEvent);
      } catch { /* not an event */ }
      notify();
    };
    socket.onclose = (ev) => { closed = { code: ev.code, reason: ev.reason }; notify(); };
    socket.onerror = () => { /* followed by close */ };
    const abort = () => socket.close(1000);
    opts.signal?.addEventListener('abort', abort, { once: true });
    try {
      for (;;) {
        while (queue.length > 0) {
          const event = queue.shift() as LightningEvent;
          if (typeof event.seq === 'number') {
            if (last !== null && event.seq <= last) continue;
            last = event.seq;
          }
          yield event;
        }
        if (closed || opts.signal?.aborted) break;
        await new Promise<void>((r) => { wake = r; });
      }
    } finally {
      opts.signal?.removeEventListener('abort', abort);
      if (!closed) socket.close(1000);
    }
    if (opts.signal?.aborted) return;
    // Dropped (server restart, network, or 4000 "too far behind"): resume from `last`.
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 10_000);
  }
}
