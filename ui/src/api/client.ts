// The only module that knows the transport: fetch against the local API, errors in its shape.
// Every failure becomes an ApiError carrying the server's code and message, so pages can show
// the message as it is and branch on the code.

export interface ApiErrorBody { error: { code: string; message: string; field?: string } }

export class ApiError extends Error {
  constructor(public status: number, public code: string, message: string, public field?: string) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface Connection { baseUrl: string; key: string }

export interface Health {
  status: string; network: string; node_id: string | null; synced: boolean;
  block_height: number | null; sandbox: boolean; version?: string;
  node: { state: string; error: string | null; chain_source: string; retry_at?: string | null };
}

export interface ClosingEntry {
  channel_id: string | null; counterparty_node_id: string | null; amount: number;
  state: 'awaiting_close_confirmation' | 'timelocked' | 'contested' | 'sweeping';
  spendable_at_height: number | null; blocks_left: number | null;
}

export interface Balance {
  lightning: { spendable: number; receivable: number; max_single_receive: number; total: number };
  closing: { total: number; entries: ClosingEntry[] };
  onchain: { confirmed: number; unconfirmed: number; spendable: number };
  total: number;
}

export interface Invoice {
  id: string; status: 'pending' | 'paid' | 'expired'; amount: number | null; amount_received: number | null;
  amount_msat: number | null; description: string; payment_request: string; payment_hash: string;
  expiry: number; expires_at: string; created_at: string; paid_at: string | null;
  external_id: string | null; metadata: Record<string, unknown>;
}

export interface Payment {
  id: string; status: 'pending' | 'succeeded' | 'failed'; amount: number; fee: number | null;
  payment_hash: string; preimage: string | null; invoice: string; description: string | null;
  destination: string | null; failure_reason: string | null; created_at: string; completed_at: string | null;
}

export interface Decoded {
  amount: number | null; amount_msat: number | null; description: string | null; destination: string;
  payment_hash: string; expires_at: string; expired: boolean; network: string;
  [k: string]: unknown;
}

export interface ApiKey {
  id: string; name: string; permissions: string[]; budget: number | null; expires_at: string | null;
  created_at: string; last_used_at: string | null; revoked_at: string | null; prefix?: string;
  [k: string]: unknown;
}

export interface Webhook {
  id: string; url: string; events: string[]; description: string | null; status: 'enabled' | 'disabled';
  disabled_reason: string | null; created_at: string; disabled_at: string | null;
}

export interface Attempt {
  attempted_at: string; status_code: number | null; latency_ms: number; response: string | null; error: string | null;
}

export interface Delivery {
  id: string; webhook_id: string; event_id: string; event: string; status: 'pending' | 'succeeded' | 'failed';
  attempt_count: number; next_attempt_at: string | null; last_status_code: number | null; last_error: string | null;
  created_at: string; delivered_at: string | null; attempts: Attempt[]; payload: Record<string, unknown>;
}

export interface EventRecord { id: string; seq: number; event: string; timestamp: string; [k: string]: unknown }

export interface Settings { network: string; listen: string; data_dir: string; secrets: string; notifications: boolean }

export interface Page<T> { data: T[]; next_cursor: string | null }
export interface List<T> { data: T[] }

export async function request<T>(conn: Connection, method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(conn.baseUrl + path, {
      method,
      headers: { Authorization: `Bearer ${conn.key}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  } catch (e) {
    throw new ApiError(0, 'unreachable', `The PayAiML server at ${conn.baseUrl || location.origin} did not answer (${String(e)}).`);
  }
  const text = await res.text();
  let json: unknown = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  if (!res.ok) {
    const err = (json as ApiErrorBody | null)?.error;
    throw new ApiError(res.status, err?.code ?? 'http_error', err?.message ?? `The server answered HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`, err?.field);
  }
  return json as T;
}

const q = (params: Record<string, string | number | undefined | null>): string => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') s.set(k, String(v));
  const text = s.toString();
  return text ? `?${text}` : '';
};

export const api = {
  health: (c: Connection) => request<Health>(c, 'GET', '/v1/health'),
  balance: (c: Connection) => request<Balance>(c, 'GET', '/v1/lightning/balance'),
  invoices: (c: Connection, o: { status?: string; limit?: number; cursor?: string | null } = {}) =>
    request<Page<Invoice>>(c, 'GET', `/v1/lightning/invoices${q({ status: o.status, limit: o.limit ?? 20, cursor: o.cursor })}`),
  invoice: (c: Connection, id: string) => request<Invoice>(c, 'GET', `/v1/lightning/invoices/${encodeURIComponent(id)}`),
  createInvoice: (c: Connection, body: { amount?: number; description: string; expiry?: number }) =>
    request<Invoice>(c, 'POST', '/v1/lightning/invoices', body),
  qrSvg: async (c: Connection, id: string): Promise<string> => {
    const res = await fetch(`${c.baseUrl}/v1/lightning/invoices/${encodeURIComponent(id)}/qr.svg`, {
      headers: { Authorization: `Bearer ${c.key}` },
    });
    if (!res.ok) throw new ApiError(res.status, 'qr_failed', `The QR code could not be loaded (HTTP ${res.status}).`);
    return res.text();
  },
  payments: (c: Connection, o: { status?: string; limit?: number; cursor?: string | null } = {}) =>
    request<Page<Payment>>(c, 'GET', `/v1/lightning/payments${q({ status: o.status, limit: o.limit ?? 20, cursor: o.cursor })}`),
  decode: (c: Connection, invoice: string) => request<Decoded>(c, 'POST', '/v1/lightning/decode', { invoice }),
  pay: (c: Connection, invoice: string, amount?: number) =>
    request<Payment>(c, 'POST', '/v1/lightning/payments', amount ? { invoice, amount } : { invoice }),
  keys: (c: Connection) => request<List<ApiKey>>(c, 'GET', '/v1/keys'),
  createKey: (c: Connection, body: { name: string; permissions: string[]; budget?: number; expires_at?: string }) =>
    request<ApiKey & { secret: string }>(c, 'POST', '/v1/keys', body),
  revealKey: (c: Connection, id: string) => request<{ id: string; secret: string }>(c, 'POST', `/v1/keys/${id}/reveal`, {}),
  revokeKey: (c: Connection, id: string) => request<ApiKey>(c, 'DELETE', `/v1/keys/${id}`),
  webhooks: (c: Connection) => request<List<Webhook>>(c, 'GET', '/v1/webhooks'),
  createWebhook: (c: Connection, body: { url: string; events: string[]; description?: string }) =>
    request<Webhook & { secret: string }>(c, 'POST', '/v1/webhooks', body),
  deleteWebhook: (c: Connection, id: string) => request<null>(c, 'DELETE', `/v1/webhooks/${id}`),
  setWebhookEnabled: (c: Connection, id: string, on: boolean) =>
    request<Webhook>(c, 'POST', `/v1/webhooks/${id}/${on ? 'enable' : 'disable'}`, {}),
  testWebhook: (c: Connection, id: string) => request<Delivery>(c, 'POST', `/v1/webhooks/${id}/test`, {}),
  deliveries: (c: Connection, id: string) => request<Page<Delivery>>(c, 'GET', `/v1/webhooks/${id}/deliveries?limit=50`),
  redeliver: (c: Connection, id: string) => request<Delivery>(c, 'POST', `/v1/webhooks/deliveries/${id}/redeliver`, {}),
  events: (c: Connection, after: number, limit = 100) =>
    request<{ data: EventRecord[]; last_seq: number }>(c, 'GET', `/v1/events${q({ after, limit })}`),
  recentEvents: (c: Connection, n: number) =>
    request<{ data: EventRecord[]; last_seq: number }>(c, 'GET', `/v1/events${q({ tail: n })}`),
  node: (c: Connection) => request<Record<string, unknown>>(c, 'GET', '/v1/node'),
  newAddress: (c: Connection) => request<{ address: string; uri: string; qr_svg: string }>(c, 'POST', '/v1/node/address', {}),
  openChannel: (c: Connection, body: { node_id: string; address: string; amount: number; push_amount?: number }) =>
    request<{ user_channel_id: string; counterparty_node_id: string; amount: number }>(c, 'POST', '/v1/node/channels', body),
  closeChannel: (c: Connection, id: string, force = false) =>
    request<null>(c, 'DELETE', `/v1/node/channels/${encodeURIComponent(id)}${force ? '?force=true' : ''}`),
  settings: (c: Connection) => request<Settings>(c, 'GET', '/v1/settings'),
  changeSettings: (c: Connection, change: { notifications?: boolean }) => request<Settings>(c, 'PATCH', '/v1/settings', change),
  sandboxCustomer: (c: Connection) => request<{ node_id: string; address: string }>(c, 'GET', '/v1/sandbox/customer'),
  sandboxPay: (c: Connection, payment_request: string) =>
    request<{ status: string }>(c, 'POST', '/v1/sandbox/pay', { payment_request }),
  sandboxInvoice: (c: Connection, amount: number, description: string) =>
    request<{ payment_request: string }>(c, 'POST', '/v1/sandbox/invoice', { amount, description }),
  sandboxMine: (c: Connection, blocks: number) =>
    request<{ blocks: number; height: number }>(c, 'POST', '/v1/sandbox/mine', { blocks }),
};

export const revealWebhookSecret = (c: Connection, id: string) =>
  request<{ id: string; secret: string }>(c, 'POST', `/v1/webhooks/${id}/reveal`, {});
