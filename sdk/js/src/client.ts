// The client: one method per endpoint, errors as LightningApiError, retries only where a retry
// cannot do anything twice. Bodies and answers are typed by the API's own document (types.ts).
// The dashboard makes every call through this class too (ui/src/api/client.ts).

import { LightningApiError } from './errors.js';
import { eventStream, type EventsOptions } from './events.js';
import type { operations } from './generated/openapi.js';
import type {
  ApiKey, Balance, CreatedKey, CreatedWebhook, CreateInvoice, CreateKeyRequest, CreateOffer, Offer, CustomerInvoice, CustomerNode,
  CustomerPayment, DecodedInvoice, DepositAddress, ErrorBody, EventsPage, Health, Invoice, LightningEvent,
  Cart, CatalogImportRow, CashierKey, CashierStatus, CatalogItem, CatalogItemChange, Order, Mined, NewCatalogItem, NewTaxRate, NewWebhook, TaxRateChange, TaxRateEntry, NodeInfo, OpenChannel, Readiness, Rates, DayReport, DaysReport, OpenedChannel, Page, PayInvoice, Payment, PaymentStatus, RecoveryWords, RevealedKey,
  RevealedSecret, SandboxInvoice, SandboxPay, Settings, SettingsChange, Webhook, WebhookDelivery,
  DisplayScreen, DisplayUpdate, DisplayPairing, PairedDisplay, TipAnswer,
} from './types.js';

export interface ClientOptions {
  /** Where the PayAiML API listens (default: `PAYAIML_BASE_URL` from the environment, else
   *  `http://127.0.0.1:3737`, where the app and `payaimld` listen by default). In a browser, `''`
   *  is the page's own origin. */
  baseUrl?: string;
  /** Per-request limit in milliseconds (default 60 000: a payment may take a while to settle);
   *  0 for no limit. */
  timeoutMs?: number;
  /** How many times an idempotent call is retried on 429, 503 or a network error (default 3); 0
   *  makes every call exactly one request. */
  retries?: number;
}

interface RequestOptions {
  body?: unknown;
  idempotencyKey?: string;
  /** Safe to send again: GETs, and creates that carry an Idempotency-Key. */
  retry?: boolean;
}

/** One page of a list: the operation's query parameters, with `cursor` the previous page's
 *  `next_cursor` (null or omitted: the first page). */
type PageQuery<Op extends keyof operations> = Omit<NonNullable<operations[Op]['parameters']['query']>, 'cursor'> & {
  cursor?: string | null;
};

/** Options of `payInvoice`: the payment's body besides the invoice, and its Idempotency-Key. */
export type PayOptions = Omit<PayInvoice, 'invoice'> & { idempotencyKey?: string };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An answer's JSON, or its failure as a LightningApiError. */
async function answer<T>(res: Response): Promise<T> {
  const text = await res.text();
  let json: unknown = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  if (!res.ok) {
    // Not every failure comes from the API (a proxy's 502, say): then the status and body say it.
    const err = (json as Partial<ErrorBody> | null)?.error;
    throw new LightningApiError(res.status, err?.code ?? 'http_error',
      err?.message ?? `The server answered HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`, err?.field ?? undefined);
  }
  return json as T;
}

/** Pairs a customer display: trades the code the dashboard shows (Point of sale → Pair a
 *  screen) for the display's own key, which reads the current sale and nothing else. Needs no
 *  key; a wrong code is `invalid_pairing_code`. */
export async function pairDisplay(opts: { code: string; name?: string; baseUrl?: string }): Promise<PairedDisplay> {
  const base = (opts.baseUrl ?? 'http://127.0.0.1:3737').replace(/\/+$/, '');
  let res: Response;
  try {
    res = await fetch(`${base}/v1/display/pair`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ code: opts.code, ...(opts.name ? { name: opts.name } : {}) }),
    });
  } catch (e) {
    throw new LightningApiError(0, 'network_error', `The PayAiML server at ${base || 'this page'} did not answer (${String(e)}).`);
  }
  return answer<PairedDisplay>(res);
}

/** `?a=1&b=2` of the parameters that are set, in the order given; '' when none is. */
function query(params: Record<string, string | number | boolean | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const text = q.toString();
  return text ? `?${text}` : '';
}

export class LightningClient {
  readonly baseUrl: string;
  private readonly apiKey: string;
  private readonly timeoutMs: number;
  private readonly retries: number;

  /** The id of the key this client uses (`pk_<id>_…`): to tell it apart in `listKeys()`. */
  get keyId(): string {
    return this.apiKey.split('_')[1] ?? '';
  }

  constructor(apiKey: string, options: ClientOptions = {}) {
    if (!apiKey) throw new TypeError('LightningClient needs an API key (pk_…)');
    this.apiKey = apiKey;
    // Read through globalThis: in a browser there is no `process`.
    const fromEnv = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.PAYAIML_BASE_URL;
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
        signal: this.signal(),
      });
    } catch (e) {
      throw new LightningApiError(0, 'network_error', `The PayAiML server at ${this.where()} did not answer (${String(e)}).`);
    }
    return answer<T>(res);
  }

  private signal(): AbortSignal | undefined {
    return this.timeoutMs > 0 ? AbortSignal.timeout(this.timeoutMs) : undefined;
  }

  /** The server's address for messages ('' in a browser is the page's origin). */
  private where(): string {
    return this.baseUrl || (typeof location !== 'undefined' ? location.origin : '');
  }

  // Invoices

  /** Creates an invoice. `amount` in sats; omit it for an any-amount invoice. Or price it in a
   *  currency with `fiat: { amount: '3.50', currency: 'EUR' }` (a decimal string): converted at
   *  the current rate, which is recorded with it; `rate_unavailable` (503) when no rate is fresh. */
  createInvoice(invoice: CreateInvoice, opts: { idempotencyKey?: string } = {}): Promise<Invoice> {
    return this.request('POST', '/v1/lightning/invoices', { body: invoice, idempotencyKey: opts.idempotencyKey, retry: !!opts.idempotencyKey });
  }

  /** An invoice by id (`inv_…`) or payment hash. */
  getInvoice(id: string): Promise<Invoice> {
    return this.request('GET', `/v1/lightning/invoices/${encodeURIComponent(id)}`, { retry: true });
  }

  /** Every invoice, newest first, page by page: `for await (const inv of client.listInvoices())`;
   *  with a search (`status`, `q`, `min_amount`, `max_amount`, `from`, `to`), only those matching. */
  listInvoices(opts: Omit<PageQuery<'list_invoices'>, 'limit'> & { pageSize?: number } = {}): AsyncGenerator<Invoice> {
    const { pageSize, ...search } = opts;
    return this.all((cursor) => this.listInvoicesPage({ ...search, limit: pageSize ?? 50, cursor }));
  }

  /** One page of invoices, newest first (`limit` 1 to 100, default 20); pass its `next_cursor` as
   *  `cursor` for the next. A search narrows it: `status`; `q`, text in the description, external
   *  id or payer's note, or an id or payment hash in full; `min_amount`/`max_amount` in sats;
   *  `from`/`to`, days (`2026-11-30`, whole days in the merchant's time zone) or RFC 3339 times. */
  listInvoicesPage(opts: PageQuery<'list_invoices'> = {}): Promise<Page<Invoice>> {
    const { status, q, min_amount, max_amount, from, to, limit, cursor } = opts;
    return this.request('GET', `/v1/lightning/invoices${query({ status, q, min_amount, max_amount, from, to, limit, cursor })}`, { retry: true });
  }

  /** The invoice's QR code as SVG text (of the uppercase `LIGHTNING:` URI). */
  async invoiceQrSvg(id: string): Promise<string> {
    const res = await fetch(`${this.baseUrl}/v1/lightning/invoices/${encodeURIComponent(id)}/qr.svg`, {
      headers: { Authorization: `Bearer ${this.apiKey}` },
      signal: this.signal(),
    });
    if (!res.ok) throw new LightningApiError(res.status, 'http_error', `The QR code could not be loaded (HTTP ${res.status}).`);
    return res.text();
  }

  /** What paying `invoice` would do: amount, description, destination, expiry, network. */
  decodeInvoice(invoice: string): Promise<DecodedInvoice> {
    return this.request('POST', '/v1/lightning/decode', { body: { invoice }, retry: true });
  }

  // Offers (static QR)

  /** Makes a BOLT12 offer: a payment code that never expires and can be paid any number of times
   *  (a sticker on the counter, a tip jar). Each payment to it becomes a paid invoice with
   *  `offer_id`, `payer_note` and `quantity`, and a `payment.received` event. */
  createOffer(offer: CreateOffer, opts: { idempotencyKey?: string } = {}): Promise<Offer> {
    return this.request('POST', '/v1/lightning/offers', { body: offer, idempotencyKey: opts.idempotencyKey, retry: !!opts.idempotencyKey });
  }

  /** An offer by id (`ofr_…`), with its payments counted and summed. */
  getOffer(id: string): Promise<Offer> {
    return this.request('GET', `/v1/lightning/offers/${encodeURIComponent(id)}`, { retry: true });
  }

  /** Every offer, newest first, page by page. */
  listOffers(opts: { pageSize?: number } = {}): AsyncGenerator<Offer> {
    return this.all((cursor) => this.request<Page<Offer>>('GET', `/v1/lightning/offers${query({ limit: opts.pageSize ?? 50, cursor })}`, { retry: true }));
  }

  /** The offer's sticker to print: a self-contained HTML page with its QR code. */
  offerSticker(id: string, opts: { paper?: '80mm' | 'a4' } = {}): Promise<string> {
    return this.text(`/v1/lightning/offers/${encodeURIComponent(id)}/sticker${query({ paper: opts.paper })}`, 'The sticker');
  }

  // Payments

  /** Refunds (part of) a paid invoice to the customer's BOLT11 invoice (`amount` for one without
   *  an amount): a payment linked to the sale (`refund_of`). All refunds of a sale can never pass
   *  what it received (`refund_exceeds_received`). Needs `lightning:write`. */
  refundInvoice(id: string, refund: PayInvoice, opts: { idempotencyKey?: string } = {}): Promise<Payment> {
    return this.request('POST', `/v1/lightning/invoices/${encodeURIComponent(id)}/refund`, {
      body: refund, idempotencyKey: opts.idempotencyKey, retry: !!opts.idempotencyKey,
    });
  }

  /** Pays a BOLT11 invoice (`amount` only for any-amount invoices; `max_fee` caps the routing fee
   *  in sats). A client that retries (the default) always sends an Idempotency-Key, generated if
   *  not given, so its retry after a network error can never pay twice; with `retries: 0` a key
   *  is sent only when given, as nothing is ever sent twice. */
  payInvoice(invoice: string, opts: PayOptions = {}): Promise<Payment> {
    const { idempotencyKey, amount, max_fee } = opts;
    const key = idempotencyKey ?? (this.retries > 0 ? globalThis.crypto.randomUUID() : undefined);
    // Only the payment's own fields go into the body: the server refuses unknown fields, and an
    // option this SDK does not know must not turn into a refused payment.
    const body: PayInvoice = { invoice };
    if (amount !== undefined) body.amount = amount;
    if (max_fee !== undefined) body.max_fee = max_fee;
    return this.request('POST', '/v1/lightning/payments', { body, idempotencyKey: key, retry: key !== undefined });
  }

  getPayment(id: string): Promise<Payment> {
    return this.request('GET', `/v1/lightning/payments/${encodeURIComponent(id)}`, { retry: true });
  }

  /** Every payment sent, newest first, page by page. */
  listPayments(opts: { status?: PaymentStatus; pageSize?: number } = {}): AsyncGenerator<Payment> {
    return this.all((cursor) => this.listPaymentsPage({ status: opts.status, limit: opts.pageSize ?? 50, cursor }));
  }

  /** One page of payments, newest first (`limit` 1 to 100, default 20). */
  listPaymentsPage(opts: PageQuery<'list_payments'> = {}): Promise<Page<Payment>> {
    return this.request('GET', `/v1/lightning/payments${query({ status: opts.status, limit: opts.limit, cursor: opts.cursor })}`, { retry: true });
  }

  getBalance(): Promise<Balance> {
    return this.request('GET', '/v1/lightning/balance', { retry: true });
  }

  // API keys

  createKey(key: CreateKeyRequest): Promise<CreatedKey> {
    return this.request('POST', '/v1/keys', { body: key });
  }

  async listKeys(): Promise<ApiKey[]> {
    return (await this.request<{ data: ApiKey[] }>('GET', '/v1/keys', { retry: true })).data;
  }

  /** A live key's full secret again, from the server's secret store (only a key within the
   *  caller's own scope). */
  revealKey(id: string): Promise<RevealedKey> {
    return this.request('POST', `/v1/keys/${encodeURIComponent(id)}/reveal`, { body: {} });
  }

  revokeKey(id: string): Promise<ApiKey> {
    return this.request('DELETE', `/v1/keys/${encodeURIComponent(id)}`);
  }

  // Webhooks

  /** Registers an endpoint. `events` are event types (see `WebhookEventType`) or `*`; the server
   *  names any it does not know. */
  createWebhook(webhook: Omit<NewWebhook, 'events'> & { events?: string[] }): Promise<CreatedWebhook> {
    return this.request('POST', '/v1/webhooks', { body: webhook });
  }

  async listWebhooks(): Promise<Webhook[]> {
    return (await this.request<{ data: Webhook[] }>('GET', '/v1/webhooks', { retry: true })).data;
  }

  /** Sends events to the endpoint again, starting with those queued while it was disabled. */
  enableWebhook(id: string): Promise<Webhook> {
    return this.request('POST', `/v1/webhooks/${encodeURIComponent(id)}/enable`, { body: {} });
  }

  /** Stops sending to the endpoint; its events keep being queued for when it is enabled. */
  disableWebhook(id: string): Promise<Webhook> {
    return this.request('POST', `/v1/webhooks/${encodeURIComponent(id)}/disable`, { body: {} });
  }

  /** The endpoint's signing secret again. */
  revealWebhookSecret(id: string): Promise<RevealedSecret> {
    return this.request('POST', `/v1/webhooks/${encodeURIComponent(id)}/reveal`, { body: {} });
  }

  async deleteWebhook(id: string): Promise<void> {
    await this.request('DELETE', `/v1/webhooks/${encodeURIComponent(id)}`);
  }

  testWebhook(id: string): Promise<WebhookDelivery> {
    return this.request('POST', `/v1/webhooks/${encodeURIComponent(id)}/test`, { body: {} });
  }

  /** The endpoint's newest deliveries (`limit` of them, 1 to 100, default 100). */
  async listDeliveries(webhookId: string, opts: { limit?: number } = {}): Promise<WebhookDelivery[]> {
    const path = `/v1/webhooks/${encodeURIComponent(webhookId)}/deliveries${query({ limit: opts.limit ?? 100 })}`;
    return (await this.request<Page<WebhookDelivery>>('GET', path, { retry: true })).data;
  }

  redeliver(deliveryId: string): Promise<WebhookDelivery> {
    return this.request('POST', `/v1/webhooks/deliveries/${encodeURIComponent(deliveryId)}/redeliver`, { body: {} });
  }

  // Node, health and settings

  /** Liveness, sync and node state; needs no permission. */
  health(): Promise<Health> {
    return this.request('GET', '/v1/health', { retry: true });
  }

  /** The node: id, network, listening addresses, block height, channels and peers. */
  getNode(): Promise<NodeInfo> {
    return this.request('GET', '/v1/node', { retry: true });
  }

  /** The exchange rate of the merchant's currency (or of `currency`), with its age, its sources
   *  and each provider's last answer; `rate` is null, with `error`, when none is fresh. */
  rates(opts: { currency?: string } = {}): Promise<Rates> {
    return this.request('GET', `/v1/rates${query({ currency: opts.currency })}`, { retry: true });
  }

  // Catalog

  /** The catalog's items in the point of sale's order (`archived: true` adds archived ones). */
  async listItems(opts: { archived?: boolean } = {}): Promise<CatalogItem[]> {
    return (await this.request<{ data: CatalogItem[] }>('GET', `/v1/catalog/items${query({ archived: opts.archived })}`, { retry: true })).data;
  }

  getItem(id: string): Promise<CatalogItem> {
    return this.request('GET', `/v1/catalog/items/${encodeURIComponent(id)}`, { retry: true });
  }

  /** Adds an item (`catalog:manage`): a price in `currency` as a decimal string, or whole sats. */
  createItem(item: NewCatalogItem): Promise<CatalogItem> {
    return this.request('POST', '/v1/catalog/items', { body: item });
  }

  /** Changes an item; `{ archived: true }` takes it off the point of sale. */
  changeItem(id: string, change: CatalogItemChange): Promise<CatalogItem> {
    return this.request('PATCH', `/v1/catalog/items/${encodeURIComponent(id)}`, { body: change });
  }

  async deleteItem(id: string): Promise<void> {
    await this.request('DELETE', `/v1/catalog/items/${encodeURIComponent(id)}`);
  }

  /** Puts the items in this order (others follow); answers every item in the new order. */
  async reorderItems(ids: string[]): Promise<CatalogItem[]> {
    return (await this.request<{ data: CatalogItem[] }>('POST', '/v1/catalog/items/reorder', { body: { ids } })).data;
  }

  async listTaxes(opts: { archived?: boolean } = {}): Promise<TaxRateEntry[]> {
    return (await this.request<{ data: TaxRateEntry[] }>('GET', `/v1/catalog/taxes${query({ archived: opts.archived })}`, { retry: true })).data;
  }

  /** Adds a tax rate: a percent (`'8.1'`), included in prices or added on top. */
  createTax(tax: NewTaxRate): Promise<TaxRateEntry> {
    return this.request('POST', '/v1/catalog/taxes', { body: tax });
  }

  /** Renames a tax rate, makes it the default, or archives it. */
  changeTax(id: string, change: TaxRateChange): Promise<TaxRateEntry> {
    return this.request('PATCH', `/v1/catalog/taxes/${encodeURIComponent(id)}`, { body: change });
  }

  /** The items for sale as CSV (`name, price, currency, category, tax`). */
  exportCatalog(): Promise<string> {
    return this.text('/v1/catalog/export.csv', 'The catalog');
  }

  /** Adds items from CSV text or rows, all or none. `catalog:manage`. */
  importCatalog(items: { csv: string } | { items: CatalogImportRow[] }): Promise<{ imported: number }> {
    return this.request('POST', '/v1/catalog/import', { body: items });
  }

  /** What a cart comes to now (lines, taxes, tip, total), without charging it. */
  priceCart(cart: Cart): Promise<Order> {
    return this.request('POST', '/v1/catalog/price', { body: cart, retry: true });
  }

  // The cashier lock

  /** The lock, as the key asking sees it (any valid key may ask). */
  cashierStatus(): Promise<CashierStatus> {
    return this.request('GET', '/v1/cashier', { retry: true });
  }

  /** Sets or changes the owner's PIN (4 to 12 digits). The admin key only. */
  async setCashierPin(pin: string): Promise<void> {
    await this.request('POST', '/v1/cashier/pin', { body: { pin } });
  }

  /** Locks the app to the point of sale; answers the cashier's key to work with. Admin key only. */
  lockCashier(): Promise<CashierKey> {
    return this.request('POST', '/v1/cashier/lock', { body: {} });
  }

  /** Unlocks with the owner's PIN; answers the admin key. Wrong PINs are limited. */
  unlockCashier(pin: string): Promise<CashierKey> {
    return this.request('POST', '/v1/cashier/unlock', { body: { pin } });
  }

  // Customer display

  /** What the customer display shows. With `after` (the `version` last read), waits up to 25 s
   *  for the next change. A display's own key may call this. */
  display(opts: { after?: number } = {}): Promise<DisplayScreen> {
    return this.request('GET', `/v1/display${query({ after: opts.after })}`, { retry: true });
  }

  /** Puts a sale (`sale_id`) or a tip question on the customer display, or neither (its welcome). */
  showOnDisplay(update: DisplayUpdate): Promise<DisplayScreen> {
    return this.request('PUT', '/v1/display', { body: update });
  }

  /** Answers the display's tip question (the first answer stands). */
  answerDisplayTip(tip: TipAnswer): Promise<DisplayScreen> {
    return this.request('POST', '/v1/display/tip', { body: tip });
  }

  /** A pairing code for a new display (good once, 10 minutes); with `url`, the link and its QR. */
  createDisplayPairing(opts: { url?: string } = {}): Promise<DisplayPairing> {
    return this.request('POST', '/v1/display/pairings', { body: opts });
  }

  // Reports

  /** One day of business (today by default, `YYYY-MM-DD` in the merchant's time zone). */
  dayReport(opts: { date?: string } = {}): Promise<DayReport> {
    return this.request('GET', `/v1/reports/day${query({ date: opts.date })}`, { retry: true });
  }

  /** Sales day by day: `days` days (default 30) ending with `to` (default today). */
  daysReport(opts: { to?: string; days?: number } = {}): Promise<DaysReport> {
    return this.request('GET', `/v1/reports/days${query({ to: opts.to, days: opts.days })}`, { retry: true });
  }

  /** Every sale and payment sent in a period as CSV text (`from`/`to`: a day or an RFC 3339 time). */
  transactionsCsv(opts: { from?: string; to?: string } = {}): Promise<string> {
    return this.text(`/v1/reports/transactions.csv${query({ from: opts.from, to: opts.to })}`, 'The report');
  }

  /** The period's books as a plain-text accounting journal in hledger's format (Ledger reads it
   *  too): every sale, refund and payment as a balanced transaction. */
  journal(opts: { from?: string; to?: string } = {}): Promise<string> {
    return this.text(`/v1/reports/journal${query({ from: opts.from, to: opts.to })}`, 'The journal');
  }

  /** The receipt of a paid invoice as a self-contained HTML page, for an 80 mm roll (default) or
   *  A4: print it, save it, or e-mail it as the customer's copy. */
  receipt(id: string, opts: { paper?: '80mm' | 'a4' } = {}): Promise<string> {
    return this.text(`/v1/lightning/invoices/${encodeURIComponent(id)}/receipt${query({ paper: opts.paper })}`, 'The receipt');
  }

  /** A GET whose answer is text (CSV, HTML), with the API's errors as LightningApiError. */
  private async text(path: string, what: string): Promise<string> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      headers: { Authorization: `Bearer ${this.apiKey}` },
      signal: this.signal(),
    });
    if (!res.ok) {
      const err = ((await res.json().catch(() => null)) as Partial<ErrorBody> | null)?.error;
      throw new LightningApiError(res.status, err?.code ?? 'http_error', err?.message ?? `${what} could not be loaded (HTTP ${res.status}).`, err?.field ?? undefined);
    }
    return res.text();
  }

  /** Whether the node is ready to take payments: the chain source, the network graph, the LSP
   *  and room to receive, each with what was found and what to do. */
  readiness(): Promise<Readiness> {
    return this.request('GET', '/v1/node/readiness', { retry: true });
  }

  /** A new on-chain deposit address, with its `bitcoin:` URI and QR code (SVG). */
  newAddress(): Promise<DepositAddress> {
    return this.request('POST', '/v1/node/address', { body: {} });
  }

  /** Opens a channel funded from the on-chain wallet; usable once its funding confirms. */
  openChannel(channel: OpenChannel): Promise<OpenedChannel> {
    return this.request('POST', '/v1/node/channels', { body: channel });
  }

  /** Closes a channel (by channel id or user channel id); `force` closes it without the peer,
   *  and its funds wait out the channel's timelock. */
  async closeChannel(id: string, opts: { force?: boolean } = {}): Promise<void> {
    await this.request('DELETE', `/v1/node/channels/${encodeURIComponent(id)}${opts.force ? '?force=true' : ''}`);
  }

  getSettings(): Promise<Settings> {
    return this.request('GET', '/v1/settings', { retry: true });
  }

  changeSettings(change: SettingsChange): Promise<Settings> {
    return this.request('PATCH', '/v1/settings', { body: change });
  }

  /** The wallet's recovery words, in order: only with the dashboard's admin key, and only once
   *  the person confirmed they want them on screen (`confirm: true`). */
  async recoveryWords(confirm: true): Promise<string[]> {
    const shown = await this.request<RecoveryWords>('POST', '/v1/settings/recovery-words', { body: { confirm } });
    return shown.words;
  }

  // The sandbox's customer node: only `payaimld sandbox` has these (404 elsewhere).

  /** Where the customer node listens, to open a channel to it. */
  sandboxCustomer(): Promise<CustomerNode> {
    return this.request('GET', '/v1/sandbox/customer', { retry: true });
  }

  /** The customer node pays `paymentRequest`: an invoice (`amount` only for an any-amount one), or an
   *  offer (`lno1…`) with `amount`, `payer_note` and `quantity`. */
  sandboxPay(paymentRequest: string, opts: Omit<SandboxPay, 'payment_request'> = {}): Promise<CustomerPayment> {
    return this.request('POST', '/v1/sandbox/pay', { body: { payment_request: paymentRequest, ...opts } });
  }

  /** An invoice of the customer node, for this node to pay. */
  sandboxInvoice(invoice: SandboxInvoice): Promise<CustomerInvoice> {
    return this.request('POST', '/v1/sandbox/invoice', { body: invoice });
  }

  /** Mines `blocks` blocks on the sandbox's chain. */
  sandboxMine(blocks: number): Promise<Mined> {
    return this.request('POST', '/v1/sandbox/mine', { body: { blocks } });
  }

  // Events

  /** Events of the durable log after `after`, oldest first (catch-up after an outage). */
  listEvents(opts: { after?: number; limit?: number } = {}): Promise<EventsPage> {
    return this.request('GET', `/v1/events${query({ after: opts.after ?? 0, limit: opts.limit ?? 100 })}`, { retry: true });
  }

  /** The newest `count` events of the log (1 to 1000), oldest first. */
  latestEvents(count: number): Promise<EventsPage> {
    return this.request('GET', `/v1/events${query({ tail: count })}`, { retry: true });
  }

  /** Live events over the WebSocket, replaying from `after` first; reconnects and resumes from the
   *  last `seq` after a drop. `for await (const event of client.events({ after: 0 }))`. */
  events(opts: EventsOptions = {}): AsyncGenerator<LightningEvent> {
    return eventStream(this.baseUrl, this.apiKey, opts);
  }

  private async *all<T>(page: (cursor: string | null) => Promise<Page<T>>): AsyncGenerator<T> {
    let cursor: string | null = null;
    do {
      const p: Page<T> = await page(cursor);
      yield* p.data;
      cursor = p.next_cursor ?? null;
    } while (cursor);
  }
}
