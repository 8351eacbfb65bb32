// The dashboard reaches the API through the JavaScript SDK's browser entry (@payaiml/lightning-js,
// built from sdk/js/src with the dashboard: see vite.config.ts), so it makes the same requests,
// with the same types and errors (LightningApiError: status, code, message, field), as shops do.
// How the dashboard sets the client up lives here, the two calls of the shop plugins' pairing
// page, which the SDK (made for shops) does not offer, and the till's (cashiers, shifts, cash and
// card sales, printers), which it does not offer yet.

import { LightningApiError, LightningClient, type Page, type components } from '@payaiml/lightning-js';
import type {
  FoundPrinter, NewPrinter, NewSale, NewStaff, Printer, PrinterChange, PrintJob, PrintJobState, Sale, Shift, Staff, StaffChange,
  TillStatus, ZReport,
} from '../lib/till';

/** Where the API is (`''`: the page's own origin) and the key to use. */
export interface Connection { baseUrl: string; key: string }

/** The client for a connection. Every action is exactly one request (no retries: the merchant
 *  sees the error and decides whether to try again, and a payment is never sent twice without
 *  them) with no time limit (a payment may take a while to settle, and its outcome is shown). */
export function clientFor(conn: Connection): LightningClient {
  const client = new LightningClient(conn.key, { baseUrl: conn.baseUrl, retries: 0, timeoutMs: 0 });
  connections.set(client, conn);
  return client;
}

/** The connection each client was made for: the till's printable pages (a Z-report, a cash
 *  sale's receipt) are HTML, which the SDK's `request` does not read, fetched with its key. */
const connections = new WeakMap<LightningClient, Connection>();

// Pairing a shop plugin (the `#/authorize` page): the two /v1/greenfield calls, made through the
// client's low-level `request` as the SDK's own methods make theirs.

/** The store id and the BTCPay permissions this shop grants (`GET /v1/greenfield`). */
export type GreenfieldInfo = components['schemas']['GreenfieldInfo'];

/** The body of `POST /v1/greenfield/pairings`: the plugin's name, the permissions kept (of those
 *  `GET /v1/greenfield` lists) and its `selectiveStores`. */
export type GreenfieldPairingRequest = components['schemas']['GreenfieldPairingRequest'];
/** The key made for the plugin, and the permissions to post back with it. */
export type GreenfieldPairing = components['schemas']['GreenfieldPairing'];

export function greenfieldInfo(client: LightningClient): Promise<GreenfieldInfo> {
  return client.request('GET', '/v1/greenfield', { retry: true });
}

/** Refuses a pairing request a browser tab waits on (the desktop app's window). */
export function refusePairing(client: LightningClient, request: string): Promise<unknown> {
  return client.request('POST', `/v1/greenfield/pairings/${encodeURIComponent(request)}/refuse`, {});
}

/** Makes the plugin's key (one request, never repeated: each one makes a key). */
export function approvePairing(client: LightningClient, body: GreenfieldPairingRequest): Promise<GreenfieldPairing> {
  return client.request('POST', '/v1/greenfield/pairings', { body });
}

// The till: cashiers with their own PIN, shifts of the cash drawer and
// their Z-report, sales in cash or by card, and the ESC/POS printers with their queue. Made
// through the client's `request` as the SDK's own methods are, one request each (the dashboard's
// client never retries; a sale carries an Idempotency-Key, so the cashier's retry of an attempt
// whose answer was lost cannot take it twice).

const id = (value: string) => encodeURIComponent(value);

/** `?a=1&b=2` of the parameters that are set; '' when none is. */
function query(params: Record<string, string | number | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const text = q.toString();
  return text ? `?${text}` : '';
}

/** A GET whose answer is an HTML page, with the API's errors as LightningApiError. */
async function page(client: LightningClient, path: string, what: string): Promise<string> {
  const conn = connections.get(client);
  if (!conn) throw new LightningApiError(0, 'http_error', `${what} could not be loaded: this client has no connection.`);
  let res: Response;
  try {
    res = await fetch(`${client.baseUrl}${path}`, { headers: { Authorization: `Bearer ${conn.key}` } });
  } catch (e) {
    throw new LightningApiError(0, 'network_error', `${what} could not be loaded (${String(e)}).`);
  }
  if (!res.ok) {
    const err = ((await res.json().catch(() => null)) as { error?: { code?: string; message?: string; field?: string | null } } | null)?.error;
    throw new LightningApiError(res.status, err?.code ?? 'http_error', err?.message ?? `${what} could not be loaded (HTTP ${res.status}).`, err?.field ?? undefined);
  }
  return res.text();
}

// Cashiers

export async function listStaff(client: LightningClient): Promise<Staff[]> {
  return (await client.request<{ data: Staff[] }>('GET', '/v1/staff', { retry: true })).data;
}

/** Adds a cashier (owner only): a name and a PIN of 4 to 12 digits. */
export function createStaff(client: LightningClient, body: NewStaff): Promise<Staff> {
  return client.request('POST', '/v1/staff', { body });
}

/** Renames a cashier or changes their PIN (owner only). */
export function changeStaff(client: LightningClient, staffId: string, change: StaffChange): Promise<Staff> {
  return client.request('PATCH', `/v1/staff/${id(staffId)}`, { body: change });
}

/** Removes a cashier (owner only); their sales keep their name. */
export async function deleteStaff(client: LightningClient, staffId: string): Promise<void> {
  await client.request('DELETE', `/v1/staff/${id(staffId)}`);
}

// Who is at the counter

/** The lock, with who is signed in at the till, the open shift, and whether a sign-in is due. */
export function tillStatus(client: LightningClient): Promise<TillStatus> {
  return client.request('GET', '/v1/cashier', { retry: true });
}

/** A cashier signs in with their PIN (`wrong_pin` 403, `rate_limited` 429 after 5 wrong ones). */
export function signIn(client: LightningClient, staffId: string, pin: string): Promise<TillStatus> {
  return client.request('POST', '/v1/cashier/sign-in', { body: { staff_id: staffId, pin } });
}

export function signOut(client: LightningClient): Promise<TillStatus> {
  return client.request('POST', '/v1/cashier/sign-out', { body: {} });
}

// Shifts and the Z-report

/** One page of shifts, newest first. */
export function listShifts(client: LightningClient, opts: { limit?: number; cursor?: string | null } = {}): Promise<Page<Shift>> {
  return client.request('GET', `/v1/shifts${query({ limit: opts.limit, cursor: opts.cursor })}`, { retry: true });
}

/** The open shift, or null when none is. */
export async function currentShift(client: LightningClient): Promise<Shift | null> {
  try {
    return await client.request<Shift>('GET', '/v1/shifts/current', { retry: true });
  } catch (e) {
    if (e instanceof LightningApiError && e.status === 404) return null;
    throw e;
  }
}

/** Opens a shift with `float` in the drawer (`shift_conflict` when one is open). */
export function openShift(client: LightningClient, float: string): Promise<Shift> {
  return client.request('POST', '/v1/shifts', { body: { float } });
}

/** Closes the shift with the cash `counted`; the answer carries its Z-report. */
export function closeShift(client: LightningClient, shiftId: string, body: components['schemas']['CloseShift']): Promise<Shift> {
  return client.request('POST', `/v1/shifts/${id(shiftId)}/close`, { body });
}

/** A shift; an open one's `report` is the running figures so far. */
export function getShift(client: LightningClient, shiftId: string): Promise<Shift> {
  return client.request('GET', `/v1/shifts/${id(shiftId)}`, { retry: true });
}

/** The shift's Z-report as a printable HTML page. */
export function shiftReportHtml(client: LightningClient, shiftId: string): Promise<string> {
  return page(client, `/v1/shifts/${id(shiftId)}/report.html`, 'The Z-report');
}

/** Prints the shift's Z-report on the receipt printer. */
export async function printShift(client: LightningClient, shiftId: string): Promise<PrintJob[]> {
  return (await client.request<{ data: PrintJob[] }>('POST', `/v1/shifts/${id(shiftId)}/print`, { body: {} })).data;
}

/** The Z-report of a whole day (`YYYY-MM-DD`, every shift of it). */
export function dayZReport(client: LightningClient, date: string): Promise<ZReport> {
  return client.request('GET', `/v1/reports/z${query({ date })}`, { retry: true });
}

export function dayZReportHtml(client: LightningClient, date: string): Promise<string> {
  return page(client, `/v1/reports/z.html${query({ date })}`, 'The Z-report');
}

/** Prints the day's Z-report on the receipt printer. */
export async function printDayZReport(client: LightningClient, date: string): Promise<PrintJob[]> {
  const answer = await client.request<{ data?: PrintJob[] } | null>('POST', `/v1/reports/z/print${query({ date })}`, { body: {} });
  return answer?.data ?? [];
}

// Sales in cash or by card

/** Records a sale paid in cash (`cash_received`, an open shift needed: `shift_required`) or by
 *  card; the answer has the change. `idempotencyKey`: the same for a retry of the same attempt. */
export function createSale(client: LightningClient, body: NewSale, idempotencyKey: string): Promise<Sale> {
  return client.request('POST', '/v1/sales', { body, idempotencyKey });
}

export function listSales(client: LightningClient, opts: { tender?: 'cash' | 'card'; limit?: number; cursor?: string | null } = {}): Promise<Page<Sale>> {
  return client.request('GET', `/v1/sales${query({ tender: opts.tender, limit: opts.limit, cursor: opts.cursor })}`, { retry: true });
}

export function getSale(client: LightningClient, saleId: string): Promise<Sale> {
  return client.request('GET', `/v1/sales/${id(saleId)}`, { retry: true });
}

/** Refunds (part of) a sale: cash back from the drawer (an open shift needed), or on the card. */
export function refundSale(client: LightningClient, saleId: string, body: components['schemas']['SaleRefund'] = {}): Promise<Sale> {
  return client.request('POST', `/v1/sales/${id(saleId)}/refund`, { body });
}

/** The sale's receipt as a printable HTML page (80 mm roll or A4). */
export function saleReceipt(client: LightningClient, saleId: string, paper: '80mm' | 'a4' = '80mm'): Promise<string> {
  return page(client, `/v1/sales/${id(saleId)}/receipt${query({ paper })}`, 'The receipt');
}

/** Prints the sale's receipt on the receipt printers (or on `printerId`). */
export async function printSale(client: LightningClient, saleId: string, printerId?: string): Promise<PrintJob[]> {
  const path = `/v1/sales/${id(saleId)}/print${query({ printer_id: printerId })}`;
  return (await client.request<{ data: PrintJob[] }>('POST', path, { body: {} })).data;
}

// Printers

export async function listPrinters(client: LightningClient): Promise<Printer[]> {
  return (await client.request<{ data: Printer[] }>('GET', '/v1/printers', { retry: true })).data;
}

/** Adds a printer (owner only). */
export function createPrinter(client: LightningClient, body: NewPrinter): Promise<Printer> {
  return client.request('POST', '/v1/printers', { body });
}

/** Changes a printer (owner only): any of the fields of a new one. */
export function changePrinter(client: LightningClient, printerId: string, change: PrinterChange): Promise<Printer> {
  return client.request('PATCH', `/v1/printers/${id(printerId)}`, { body: change });
}

export async function deletePrinter(client: LightningClient, printerId: string): Promise<void> {
  await client.request('DELETE', `/v1/printers/${id(printerId)}`);
}

/** The printers attached to this computer (USB: /dev/usb/lp*). */
export async function scanPrinters(client: LightningClient): Promise<FoundPrinter[]> {
  return (await client.request<{ data: FoundPrinter[] }>('GET', '/v1/printers/scan', { retry: true })).data;
}

/** Prints a test page. */
export function testPrinter(client: LightningClient, printerId: string): Promise<PrintJob> {
  return client.request('POST', `/v1/printers/${id(printerId)}/test`, { body: {} });
}

/** Prints a paid invoice's receipt again (on `printerId`, or on the receipt printers). The
 *  contract writes it `/v1/invoices/{id}/print`: invoices live under /v1/lightning/invoices, where
 *  the server has it, with the printer as a query parameter. */
export async function printInvoice(client: LightningClient, invoiceId: string, printerId?: string): Promise<PrintJob[]> {
  const path = `/v1/lightning/invoices/${id(invoiceId)}/print${query({ printer_id: printerId })}`;
  return (await client.request<{ data: PrintJob[] }>('POST', path, { body: {} })).data;
}

/** One page of print jobs, newest first (`state`: only those). */
export function listPrintJobs(client: LightningClient, opts: { state?: PrintJobState; limit?: number; cursor?: string | null } = {}): Promise<Page<PrintJob>> {
  return client.request('GET', `/v1/print-jobs${query({ state: opts.state, limit: opts.limit, cursor: opts.cursor })}`, { retry: true });
}

export function retryPrintJob(client: LightningClient, jobId: string): Promise<PrintJob> {
  return client.request('POST', `/v1/print-jobs/${id(jobId)}/retry`, { body: {} });
}

/** Gives up on a print job. */
export async function cancelPrintJob(client: LightningClient, jobId: string): Promise<void> {
  await client.request('DELETE', `/v1/print-jobs/${id(jobId)}`);
}

// Nostr Wallet Connect (NIP-47): apps outside this computer (a web shop, a phone's point of sale)
// reach the wallet through a relay. Each connection is an API key (`key`: its permissions, daily
// budget, expiry, last use and revocation) with its Nostr side; its `nostr+walletconnect://` URI
// is what the app is given, once when made and again on request (`reveal`).

export type NwcAccess = components['schemas']['Access'];
/** The body of `POST /v1/nwc/connections`: `budget` (sats per UTC day) with `pay` only. */
export type NewNwcConnection = components['schemas']['NewConnection'];
/** The relays' state in `health().nwc` (null while no connection is live). */
export type NwcStatus = components['schemas']['NwcStatus'];
export type NwcRelayState = components['schemas']['RelayState'];

/** A connection as listed (`GET /v1/nwc/connections`): its key (whose id is the connection's),
 *  access, methods, notifications, keys and relays. */
export type NwcConnection = components['schemas']['NwcConnection'];

/** A connection just made: with its URI and the URI as an SVG QR code (shown once). */
export type MadeNwcConnection = components['schemas']['MadeConnection'];

/** A live connection's URI and QR again. */
export type RevealedNwcConnection = components['schemas']['RevealedConnection'];

/** Every connection, newest first, revoked ones too. */
export async function listNwcConnections(client: LightningClient): Promise<NwcConnection[]> {
  return (await client.request<{ data: NwcConnection[] }>('GET', '/v1/nwc/connections', { retry: true })).data;
}

/** Makes a connection (one request, never repeated: each one makes a key). */
export function createNwcConnection(client: LightningClient, body: NewNwcConnection): Promise<MadeNwcConnection> {
  return client.request('POST', '/v1/nwc/connections', { body });
}

/** A live connection's URI (and QR) again, from the server's secret store. */
export function revealNwcConnection(client: LightningClient, connectionId: string): Promise<RevealedNwcConnection> {
  return client.request('POST', `/v1/nwc/connections/${id(connectionId)}/reveal`, { body: {} });
}

/** Revokes a connection: the wallet stops answering its app at once. */
export function revokeNwcConnection(client: LightningClient, connectionId: string): Promise<NwcConnection> {
  return client.request('DELETE', `/v1/nwc/connections/${id(connectionId)}`);
}
