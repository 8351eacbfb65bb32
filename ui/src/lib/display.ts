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
  let last = currentSale();
  fn(last);
  const check = () => {
    const now = currentSale();
    if (now !== last) { last = now; fn(now); }
  };
  window.addEventListener('storage', check);
  // The storage event is not guaranteed between every pair of windows (webviews differ): poll too.
  const timer = setInterval(check, 1000);
  return () => { window.removeEventListener('storage', check); clearInterval(timer); };
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
