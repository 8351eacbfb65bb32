// Where the API is and which key to use: from the desktop shell, or asked for in a browser.

import type { Connection } from './api/client';
import { route } from './lib/route.svelte';

interface TauriGlobal { core: { invoke<T>(cmd: string): Promise<T> } }

/** What the desktop shell hands over: the API and its key, or, when the app hosts several
 *  wallets, the host's token (the setup, and the running wallet's key, come from the API). */
export interface DesktopConnection extends Connection { hostToken: string | null }

export async function fromDesktop(): Promise<DesktopConnection | null> {
  const tauri = (window as unknown as { __TAURI__?: TauriGlobal }).__TAURI__;
  if (!tauri) return null;
  const c = await tauri.core.invoke<{ base_url: string; admin_token: string; host_token?: string | null }>('connection');
  return { baseUrl: c.base_url, key: c.admin_token, hostToken: c.host_token ?? null };
}

const HOST = 'payaiml.host';

/** The host's token in a browser tab: from the link `payaimld app` printed
 *  (`#/setup?token=…`, taken out of the address bar at once), or kept for this tab. */
export function hostFromTab(): string | null {
  const m = location.hash.match(/^#\/setup\?token=([A-Za-z0-9]+)/);
  if (m) {
    sessionStorage.setItem(HOST, m[1]);
    history.replaceState(null, '', location.pathname + location.search + '#/');
    route.path = '/';
  }
  return sessionStorage.getItem(HOST);
}

const KEY = 'payaiml.key';

export function fromTab(): Connection | null {
  const key = sessionStorage.getItem(KEY);
  return key ? { baseUrl: '', key } : null;
}

export function remember(key: string): Connection {
  sessionStorage.setItem(KEY, key);
  return { baseUrl: '', key };
}

export function forget(): void {
  sessionStorage.removeItem(KEY);
}
