// Hash routing (`#/invoices/inv_…`): works from a file, from `/` on the API, and in the desktop.

export const route = $state({ path: location.hash.slice(1) || '/' });

window.addEventListener('hashchange', () => { route.path = location.hash.slice(1) || '/'; });

export function go(path: string): void {
  location.hash = path;
}

/** `/invoices/inv_x` against `/invoices/:id` → `{id: 'inv_x'}`, or null. */
export function match(pattern: string, path: string = route.path): Record<string, string> | null {
  const p = pattern.split('/');
  const a = path.split('?')[0].split('/');
  if (p.length !== a.length) return null;
  const out: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(':')) out[p[i].slice(1)] = decodeURIComponent(a[i]);
    else if (p[i] !== a[i]) return null;
  }
  return out;
}
