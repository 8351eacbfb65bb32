// The live event stream: one WebSocket to /v1/events/ws that reconnects after a drop and resumes
// from the last `seq` seen, so no event is missed or repeated. Part of the transport module.

import type { Connection, EventRecord } from './client';

export interface Stream {
  close(): void;
}

export interface StreamHandlers {
  onEvent(event: EventRecord): void;
  onState(state: 'connecting' | 'live' | 'off'): void;
}

export function openStream(conn: Connection, handlers: StreamHandlers): Stream {
  let lastSeq = 0;
  let retry = 500;
  let stopped = false;
  let socket: WebSocket | null = null;

  const connect = () => {
    handlers.onState('connecting');
    const base = conn.baseUrl || `${location.protocol}//${location.host}`;
    const url = `${base.replace(/^http/, 'ws')}/v1/events/ws${lastSeq > 0 ? `?after=${lastSeq}` : ''}`;
    // Browsers cannot set headers on a WebSocket: the key travels as the second subprotocol.
    const ws = new WebSocket(url, ['bearer', conn.key]);
    socket = ws;
    ws.onopen = () => { handlers.onState('live'); retry = 500; };
    ws.onmessage = (msg) => {
      let event: EventRecord;
      try { event = JSON.parse(String(msg.data)); } catch { return; }
      if (typeof event.seq === 'number') {
        if (event.seq <= lastSeq) return;
        lastSeq = event.seq;
      }
      handlers.onEvent(event);
    };
    ws.onclose = () => {
      if (socket !== ws) return;
      handlers.onState('off');
      if (stopped) return;
      setTimeout(() => { if (!stopped) connect(); }, retry);
      retry = Math.min(retry * 2, 10_000);
    };
  };
  connect();
  return {
    close() {
      stopped = true;
      socket?.close();
      socket = null;
    },
  };
}
