// Where the API is and which key to use: from the desktop shell, or asked for in a browser.

import type { Connection } from './api/client';

interface TauriGlobal { core: { invoke<T>(cmd: string): Promise<T> } }

export async function fromDesktop(): Promise<Connection | null> {
  const tauri = (window as unknown as { __TAURI__?: TauriGlobal }).__TAURI__;
  if (!tauri) return null;
  const c = await tauri.core.invoke<{ base_url: string; admin_token: string }>('connection');
  return { baseUrl: c.base_url, key: c.admin_token };
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
