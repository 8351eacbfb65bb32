// The only module that knows the transport: fetch against the local API, errors in its shape.

export interface ApiErrorBody { error: { code: string; message: string; field?: string } }

export class ApiError extends Error {
  constructor(public status: number, public code: string, message: string, public field?: string) {
    super(message);
  }
}

export interface Connection { baseUrl: string; key: string }

export interface Health {
  status: string; network: string; node_id: string | null; synced: boolean;
  block_height: number | null; sandbox: boolean;
  node: { state: string; error: string | null; chain_source: string };
}

export interface Balance {
  lightning: { spendable: number; receivable: number; max_single_receive: number; total: number };
  onchain: { confirmed: number; unconfirmed: number; spendable: number };
  total: number;
}

export interface Invoice {
  id: string; status: string; amount: number | null; amount_received: number | null;
  description: string; created_at: string; paid_at: string | null;
}

export interface Page<T> { data: T[]; next_cursor: string | null }

export async function request<T>(conn: Connection, method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(conn.baseUrl + path, {
      method,
      headers: { Authorization: `Bearer ${conn.key}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
  } catch (e) {
    throw new ApiError(0, 'unreachable', `The PayAiML server at ${conn.baseUrl} did not answer (${String(e)}).`);
  }
  const text = await res.text();
  let json: unknown = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  if (!res.ok) {
    const err = (json as ApiErrorBody | null)?.error;
    throw new ApiError(res.status, err?.code ?? 'http_error', err?.message ?? `HTTP ${res.status}`, err?.field);
  }
  return json as T;
}

export const api = {
  health: (c: Connection) => request<Health>(c, 'GET', '/v1/health'),
  balance: (c: Connection) => request<Balance>(c, 'GET', '/v1/lightning/balance'),
  invoices: (c: Connection, limit = 10) => request<Page<Invoice>>(c, 'GET', `/v1/lightning/invoices?limit=${limit}`),
};
