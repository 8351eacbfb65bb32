// The link between the point of sale and the customer display, through the API (/v1/display):
// the point of sale puts each step of a sale on the screen (the tip question, the sale, the
// welcome again); the display reads it with its own key, which reads nothing else, and waits for
// the next change with a long poll. So the display may be another window, another browser or
// another device, and it never holds the dashboard's key.

import { LightningApiError, type DisplayScreen, type LightningClient, type TipAnswer, type TipAsk } from '@payaiml/lightning-js';
import { session } from './session.svelte';

export type { TipAsk };

/** An answer: a percentage, an amount in the question's unit ("Other amount"), or no tip. */
export type TipChoice = { percent: string } | { amount: string } | null;

// One step after another: each replaces the whole screen, so they must arrive in order.
let queue: Promise<unknown> = Promise.resolve();
function put(update: { sale_id?: string; tip_ask?: TipAsk }): void {
  const client = session.client;
  if (!client) return;
  queue = queue
    .then(() => client.showOnDisplay(update))
    // The sale goes on whatever the display's state: a failure here only leaves it behind.
    .catch((e) => console.warn('the customer display was not updated', e));
}

/** Shows the sale `id` on the customer display, or (null) its welcome. */
export function showSale(id: string | null): void {
  put(id ? { sale_id: id } : {});
}

/** Asks the tip question on the customer display (null: takes it down). */
export function askTip(ask: TipAsk | null): void {
  put(ask ? { tip_ask: ask } : {});
}

/** Answers the question `id` with `choice` (the first answer, from either screen, stands). */
export function chooseTip(client: LightningClient, id: string, choice: TipChoice): Promise<DisplayScreen> {
  const answer: TipAnswer = { ask_id: id, ...(choice ?? {}) };
  return client.answerDisplayTip(answer);
}

export function answerOf(a: TipAnswer): TipChoice {
  if (a.percent) return { percent: a.percent };
  if (a.amount) return { amount: a.amount };
  return null;
}

/** Calls `fn` with the screen now and at each change, until the returned function is called.
 *  `onError` hears failures (it is retried 2 s later); a refused key stops it. */
export function followDisplay(
  client: LightningClient,
  fn: (screen: DisplayScreen) => void,
  onError: (e: unknown) => void = () => {},
): () => void {
  let stopped = false;
  void (async () => {
    let after: number | undefined;
    while (!stopped) {
      try {
        const screen = await client.display({ after });
        if (stopped) return;
        after = screen.version;
        fn(screen);
      } catch (e) {
        if (stopped) return;
        onError(e);
        if (e instanceof LightningApiError && (e.status === 401 || e.status === 403)) return;
        await new Promise((r) => setTimeout(r, 2_000));
      }
    }
  })();
  return () => { stopped = true; };
}

/** Calls `fn` with the answer to a tip question once one is given, on either screen. */
export function watchTipChoice(fn: (answer: { id: string; choice: TipChoice }) => void): () => void {
  const client = session.client;
  if (!client) return () => {};
  let told = '';
  return followDisplay(client, (screen) => {
    const a = screen.tip_answer;
    if (a && a.ask_id !== told) {
      told = a.ask_id;
      fn({ id: a.ask_id, choice: answerOf(a) });
    }
  });
}

// A browser's display key, kept by the browser (every tab and window of this origin): a
// display-only key, so it may stay where the dashboard's own key may not.
const DISPLAY_KEY = 'payaiml.display.key';

export function storedDisplayKey(): string | null {
  return localStorage.getItem(DISPLAY_KEY);
}

export function keepDisplayKey(key: string | null): void {
  if (key) localStorage.setItem(DISPLAY_KEY, key);
  else localStorage.removeItem(DISPLAY_KEY);
}

interface TauriGlobal { core: { invoke<T>(cmd: string): Promise<T> } }

/** Opens the customer display: a second native window in the desktop app (which gives it a
 *  display key), a popup in a browser, paired by a fresh code when this browser has no display
 *  key yet. */
export async function openDisplay(client: LightningClient): Promise<void> {
  const tauri = (window as unknown as { __TAURI__?: TauriGlobal }).__TAURI__;
  if (tauri) {
    await tauri.core.invoke('customer_display');
    return;
  }
  let hash = '#/display';
  if (!storedDisplayKey()) {
    const { code } = await client.createDisplayPairing();
    hash += `?pair=${encodeURIComponent(code)}`;
  }
  window.open(hash, 'payaiml-customer-display', 'popup,width=720,height=820');
}
