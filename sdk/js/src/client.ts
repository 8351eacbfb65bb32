// The client: one method per endpoint, errors as LightningApiError, retries only where a retry
// cannot do anything twice.

import { LightningApiError } from './errors.js';
import { eventStream, type EventsOptions } from './events.js';
import type {
  ApiKey, Balance, CreateInvoice, Invoice, LightningEvent, Page, Payment, Permission, Webhook, WebhookDelivery,
} from './types.js';

export interface ClientOptions {
  /** Where the PayAiML API listens (default: `PAYAIML_BASE_URL` from the environment, else
   *  `http://127.0.0.1:3737`, where the app and `payaimld` listen by default). */
  baseUrl?: string;
  /** Per-request limit in milliseconds (default 60 000: a payment may take a while to settle). */
  timeoutMs?: number;
  /** How many times an idempotent call is retried on 429, 503 or a network error (default 3). */
  retries?: number;
}

interface RequestOptions {
  body?: unknown;
  idempotencyKey?: string;
  /** Safe to send again: GETs, and creates that carry an Idempotency-Key. */
  retry?: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class LightningClient {
  readonly baseUrl: string;
  private readonly apiKey: string;
  private readonly timeoutMs: number;
  private readonly retries: number;

  constructor(apiKey: string, options: ClientOptions = {}) {
    if (!apiKey) throw new TypeError('LightningClient needs an API key (pk_…)');
    this.apiKey = apiKey;
    const fromEnv = typeof process !== 'undefined' ? process.env?.PAYAIML_BASE_URL : undefined;
    this.baseUrl = (options.baseUrl ?? fromEnv ?? 'http://127.0.0.1:3737').replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.retries = options.retries ?? 3;
  }

  /** Low level: one call to the API. Most code wants the methods below. */
  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const attempts = opts.retry ? this.retries + 1 : 1;
    let delay = 250;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once<T>(method, path, opts);
      } catch (e) {
        const retriable = e instanceof LightningApiError && (e.status === 429 || e.status === 503 || e.status === 0);
        if (!retriable || attempt >= attempts) throw e;
        await sleep(delay);
        delay = Math.min(delay * 2, 5_000);
      }
    }
  }

  private async once<T>(method: string, path: string, opts: RequestOptions): Promise<T> {
    const headers: Record<string, string> = { Authorization: `Bearer ${this.apiKey}` };
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
    if (opts.idempotencyKey) headers['Idempotency-Key'] = opts.idempotencyKey;
    let res: Response;
    try {
      res = await fetch(this.baseUrl + path, {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new LightningApiError(0, 'network_error', `PayAiML at ${this.baseUrl} did not answer: ${why}`);
    }
    const text = await res.text();
    let json: unknown = null;
    try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
    if (!res.ok) {
      const err = (json as { error?: { code?: string; message?: string; field?: string } } | null)?.error;
      throw new LightningApiError(res.status, err?.code ?? 'http_error', err?.message ?? `HTTP ${res.status}: ${text.slice(0, 200)}`, err?.field);
    }
    return json as T;
  }

  // Invoices

  /** Creates an invoice. `amount` in sats; omit it for an any-amount invoice. */
  createInvoice(invoice: CreateInvoice, opts: { idempotencyKey?: string } = {}): Promise<Invoice> {
    return this.request('POST', '/v1/lightning/invoices', { body: invoice, idempotencyKey: opts.idempotencyKey, retry: !!opts.idempotencyKey });
  }

  /** An invoice by id (`inv_…`) or payment hash. */
  getInvoice(id: string): Promise<Invoice> {
    return this.request('GET', `/v1/lightning/invoices/${encodeURIComponent(id)}`, { retry: true });
  }

  /** Every invoice, newest first, page by page: `for await (const inv of client.listInvoices())`. */
  listInvoices(opts: { status?: Invoice['status']; pageSize?: number } = {}): AsyncGenerator<Invoice> {
    return this.pages<Invoice>('/v1/lightning/invoices', opts.status, opts.pageSize);
  }

  // Payments

  /** Pays a BOLT11 invoice (`amount` only for any-amount invoices). An Idempotency-Key is always
   *  sent (generated if not given), so a retry after a network error can never pay twice. */
  payInvoice(invoice: string, opts: { amount?: number; idempotencyKey?: string } = {}): Promise<Payment> {
    const body = opts.amount === undefined ? { invoice } : { invoice, amount: opts.amount };
    return this.request('POST', '/v1/lightning/payments', { body, idempotencyKey: opts.idempotencyKey ?? globalThis.crypto.randomUUID(), retry: true });
  }

  getPayment(id: string): Promise<Payment> {
    return this.request('GET', `/v1/lightning/payments/${encodeURIComponent(id)}`, { retry: true });
  }

  listPayments(opts: { status?: Payment['status']; pageSize?: number } = {}): AsyncGenerator<Payment> {
    return this.pages<Payment>('/v1/lightning/payments', opts.status, opts.pageSize);
  }

  getBalance(): Promise<Balance> {
    return this.request('GET', '/v1/lightning/balance', { retry: true });
  }

  // API keys

  createKey(key: { name: string; permissions: Permission[]; budget?: number; expires_at?: string }): Promise<ApiKey & { secret: string }> {
    return this.request('POST', '/v1/keys', { body: key });
  }

  async listKeys(): Promise<ApiKey[]> {
    return (await this.request<{ data: ApiKey[] }>('GET', '/v1/keys', { retry: true })).data;
  }

  revokeKey(id: string): Promise<ApiKey> {
    return this.request('DELETE', `/v1/keys/${encodeURIComponent(id)}`);
  }

  // Webhooks

  createWebhook(webhook: { url: string; events?: string[]; description?: string }): Promise<Webhook & { secret: string }> {
    return this.request('POST', '/v1/webhooks', { body: webhook });
  }

  async listWebhooks(): Promise<Webhook[]> {
    return (await this.request<{ data: Webhook[] }>('GET', '/v1/webhooks', { retry: true })).data;
  }

  async deleteWebhook(id: string): Promise<void> {
    await this.request('DELETE', `/v1/webhooks/${encodeURIComponent(id)}`);
  }

  testWebhook(id: string): Promise<WebhookDelivery> {
    return this.request('POST', `/v1/webhooks/${encodeURIComponent(id)}/test`, { body: {} });
  }

  async listDeliveries(webhookId: string): Promise<WebhookDelivery[]> {
    return (await this.request<Page<WebhookDelivery>>('GET', `/v1/webhooks/${encodeURIComponent(webhookId)}/deliveries?limit=100`, { retry: true })).data;
  }

  redeliver(deliveryId: string): Promise<WebhookDelivery> {
    return this.request('POST', `/v1/webhooks/deliveries/${encodeURIComponent(deliveryId)}/redeliver`, { body: {} });
  }

  /** Liveness and sync state; needs no permission. */
  health(): Promise<{ status: string; network: string; node_id: string | null; synced: boolean; block_height: number | null }> {
    return this.request('GET', '/v1/health', { retry: true });
  }

  /** What paying `invoice` would do: amount, description, destination, expiry, network. */
  decodeInvoice(invoice: string): Promise<{ amount: number | null; description: string | null; destination: string; payment_hash: string; expires_at: string; expired: boolean; network: string }> {
    return this.request('POST', '/v1/lightning/decode', { body: { invoice }, retry: true });
  }

  /** The invoice's QR code as SVG text (of the uppercase `LIGHTNING:` URI). */
  async invoiceQrSvg(id: string): Promise<string> {
    const res = await fetch(`${this.baseUrl}/v1/lightning/invoices/${encodeURIComponent(id)}/qr.svg`, {
      headers: { Authorization: `Bearer ${this.apiKey}` },
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (!res.ok) throw new LightningApiError(res.status, 'http_error', `the QR code could not be fetched (HTTP ${res.status})`);
    return res.text();
  }

  // Events

  /** Events of the durable log after `after`, oldest first (catch-up after an outage). */
  listEvents(opts: { after?: number; limit?: number } = {}): Promise<{ data: LightningEvent[]; last_seq: number }> {
    const q = new URLSearchParams({ after: String(opts.after ?? 0), limit: String(opts.limit ?? 100) });
    return this.request('GET', `/v1/events?${q}`, { retry: true });
  }

  /** Live events over the WebSocket, replaying from `after` first; reconnects and resumes from the
   *  last `seq` after a drop. `for await (const event of client.events({ after: 0 }))`. */
  events(opts: EventsOptions = {}): AsyncGenerator<LightningEvent> {
    return eventStream(this.baseUrl, this.apiKey, opts);
  }

  private async *pages<T>(path: string, status?: string, pageSize = 50): AsyncGenerator<T> {
    let cursor: string | null = null;
    do {
      const q = new URLSearchParams({ limit: String(pageSize) });
      if (status) q.set('status', status);
      if (cursor) q.set('cursor', cursor);
      const page: Page<T> = await this.request('GET', `${path}?${q}`, { retry: true });
      yield* page.data;
      cursor = page.next_cursor;
    } while (cursor);
  }
}
