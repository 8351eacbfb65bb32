// The live event stream for the whole dashboard: the SDK's event stream (one WebSocket that
// reconnects with backoff and resumes from the last `seq` seen, so no event is missed or
// repeated; sdk/js/src/events.ts) turned into callbacks that run until `close()`.

import type { EventStreamState, LightningClient, LightningEvent } from '@payaiml/lightning-js';

export interface Stream {
  close(): void;
}

export interface StreamHandlers {
  onEvent(event: LightningEvent): void;
  onState(state: EventStreamState): void;
}

export function openStream(client: LightningClient, handlers: StreamHandlers): Stream {
  const stop = new AbortController();
  void (async () => {
    for await (const event of client.events({ signal: stop.signal, onState: (state) => handlers.onState(state) })) {
      // A failing handler must not end the stream for everyone: report it the way the browser
      // reports an error thrown by an event listener, and go on.
      try {
        handlers.onEvent(event);
      } catch (e) {
        reportError(e);
      }
    }
  })().catch((e: unknown) => {
    // The stream could not run at all (no WebSocket, an invalid address): it is off for good.
    if (!stop.signal.aborted) handlers.onState('off');
    reportError(e);
  });
  return { close: () => stop.abort() };
}
