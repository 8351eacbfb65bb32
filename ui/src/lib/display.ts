// The link between the point of sale and the customer display: the current sale's invoice id in
// localStorage, which every window of the same origin shares (two browser windows, or the desktop
// app's two windows), with the `storage` event telling the other windows at once.

const KEY = 'payaiml.pos.sale';

export function showSale(id: string | null): void {
  if (id) localStorage.setItem(KEY, id);
  else localStorage.removeItem(KEY);
}

export function currentSale(): string | null {
  return localStorage.getItem(KEY);
}

/** Calls `fn` with the sale id whenever it changes; returns the function that stops watching. */
export function watchSale(fn: (id: string | null) => void): () => void {
  return watchRaw(KEY, fn);
}

/** Calls `fn` with the text under `key` now and whenever it changes (in this window or another). */
function watchRaw(key: string, fn: (value: string | null) => void): () => void {
  let last = localStorage.getItem(key);
  fn(last);
  const check = () => {
    const now = localStorage.getItem(key);
    if (now !== last) { last = now; fn(now); }
  };
  window.addEventListener('storage', check);
  // The storage event is not guaranteed between every pair of windows (webviews differ): poll too.
  const timer = setInterval(check, 500);
  return () => { window.removeEventListener('storage', check); clearInterval(timer); };
}

// The tip question, asked on both screens before the QR: the point of sale puts the choices
// (each with what it comes to, priced by the server) under TIP_ASK; whichever screen answers
// first writes TIP_CHOICE, and the point of sale charges with it. The display needs no right
// to make invoices for this: it only writes a choice into the shared storage.
const TIP_ASK = 'payaiml.pos.tip-ask';
const TIP_CHOICE = 'payaiml.pos.tip-choice';

/** One answer to the tip question: a percentage (or none), and what the total comes to. */
export interface TipOption {
  /** "10", or null for no tip. */
  percent: string | null;
  tip: string;
  total: string;
}

/** The question: its id, the unit (a currency or null for sats), what is due before a tip. */
export interface TipAsk {
  id: string;
  currency: string | null;
  due: string;
  options: TipOption[];
}

export function askTip(ask: TipAsk | null): void {
  localStorage.removeItem(TIP_CHOICE);
  if (ask) localStorage.setItem(TIP_ASK, JSON.stringify(ask));
  else localStorage.removeItem(TIP_ASK);
}

function read<T>(key: string): T | null {
  try {
    return JSON.parse(localStorage.getItem(key) ?? 'null') as T | null;
  } catch {
    return null;
  }
}

/** An answer: a percentage, an amount in the question's unit ("Other amount"), or no tip. */
export type TipChoice = { percent: string } | { amount: string } | null;

/** Answers the question `id` with `choice`. */
export function chooseTip(id: string, choice: TipChoice): void {
  localStorage.setItem(TIP_CHOICE, JSON.stringify({ id, choice }));
}

function watch<T>(key: string, fn: (value: T | null) => void): () => void {
  return watchRaw(key, () => fn(read<T>(key)));
}

/** Calls `fn` with the open tip question, or null. */
export function watchTipAsk(fn: (ask: TipAsk | null) => void): () => void {
  return watch<TipAsk>(TIP_ASK, fn);
}

/** Calls `fn` with the answer to a tip question once one is given. */
export function watchTipChoice(fn: (answer: { id: string; choice: TipChoice } | null) => void): () => void {
  return watch(TIP_CHOICE, fn);
}

interface TauriGlobal { core: { invoke<T>(cmd: string): Promise<T> } }

/** Opens the customer display: a second native window in the desktop app, a popup in a browser. */
export async function openDisplay(): Promise<void> {
  const tauri = (window as unknown as { __TAURI__?: TauriGlobal }).__TAURI__;
  if (tauri) {
    await tauri.core.invoke('customer_display');
    return;
  }
  window.open('#/display', 'payaiml-customer-display', 'popup,width=720,height=820');
}
