// A shop plugin's pairing request (BTCPay's `/api-keys/authorize` link, which the server turns
// into `#/authorize?…`): what it asks for, where the key goes, and the post back to the shop.

/** What the shop's link asks for. */
export interface AuthorizeRequest {
  /** `applicationName`, as the plugin gave it ('' when missing). */
  applicationName: string;
  /** The permissions asked for, once each, in the order given. */
  permissions: string[];
  /** `strict` (default true): the merchant may not leave any grantable permission out. */
  strict: boolean;
  /** `selectiveStores`: the granted permissions are written `policy:storeId`. */
  selectiveStores: boolean;
  /** Where the key is posted: an absolute http(s) address, or null when missing or invalid. */
  redirect: URL | null;
}

/** A yes/no parameter as BTCPay reads it (`true`/`True`/`1`), else `fallback`. */
function flag(value: string | null, fallback: boolean): boolean {
  if (value === null || value.trim() === '') return fallback;
  return ['true', '1', 'yes', 'on'].includes(value.trim().toLowerCase());
}

/** The request in the query of `#/authorize?…` (the part after `?`, or the whole route path).
 *  `permissions` may be repeated, and `permissions[]` counts the same. */
export function parseAuthorize(query: string): AuthorizeRequest {
  const q = new URLSearchParams(query.includes('?') ? query.slice(query.indexOf('?') + 1) : query);
  const permissions: string[] = [];
  for (const [k, v] of q) {
    if (k !== 'permissions' && k !== 'permissions[]') continue;
    const name = v.trim();
    if (name && !permissions.includes(name)) permissions.push(name);
  }
  let redirect: URL | null = null;
  try {
    const url = new URL(q.get('redirect') ?? '');
    if ((url.protocol === 'https:' || url.protocol === 'http:') && url.hostname) redirect = url;
  } catch { /* not an absolute address */ }
  return {
    applicationName: (q.get('applicationName') ?? '').trim(),
    permissions,
    strict: flag(q.get('strict'), true),
    selectiveStores: flag(q.get('selectiveStores'), false),
    redirect,
  };
}

/** Whether the key would cross a network unencrypted: plain http to a host that is not this
 *  computer or a local network address. */
export function unencrypted(url: URL): boolean {
  if (url.protocol !== 'http:') return false;
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host.endsWith('.localhost') || host === '::1') return false;
  if (/\.(local|lan|internal|home\.arpa)$/.test(host) || !host.includes('.') && !host.includes(':')) return false;
  const ip = host.match(/^(\d{1,3})\.(\d{1,3})\.\d{1,3}\.\d{1,3}$/);
  if (ip) {
    const [a, b] = [Number(ip[1]), Number(ip[2])];
    if (a === 127 || a === 10 || a === 192 && b === 168 || a === 172 && b >= 16 && b <= 31 || a === 169 && b === 254) return false;
  }
  if (/^f[cd][0-9a-f]{2}:/.test(host) || host.startsWith('fe80:')) return false;
  return true;
}

/** Posts the key to the shop as BTCPay's page does: a form (urlencoded) with `apiKey` and one
 *  `permissions[]` per granted permission, submitted in this tab. */
export function postBack(redirect: URL, apiKey: string, permissions: string[]): void {
  const form = document.createElement('form');
  form.method = 'post';
  form.action = redirect.href;
  form.enctype = 'application/x-www-form-urlencoded';
  form.hidden = true;
  const add = (name: string, value: string) => {
    const input = document.createElement('input');
    input.type = 'hidden';
    input.name = name;
    input.value = value;
    form.appendChild(input);
  };
  add('apiKey', apiKey);
  for (const p of permissions) add('permissions[]', p);
  document.body.appendChild(form);
  form.submit();
}
