// The till: cashiers who sign in with their own PIN, shifts of the cash drawer with their
// Z-report, sales paid in cash or by card, and the receipt printers with their print queue. The
// API's objects are aliases of the schemas generated from the OpenAPI document the server serves
// (sdk/js/src/generated/openapi.ts, made by scripts/gen-api-types.sh), as sdk/js/src/types.ts
// names the others, so they follow the API instead of drifting from it; the generated file
// carries every field's description. Amounts are decimal strings in the shop's currency; sats
// integers. Also the small pure rules the screens share: the Idempotency-Key of a sale's
// attempts, what a printer's trouble says, and how a drawer's difference reads.

import type { components } from '@payaiml/lightning-js';
import { formatFiat, toMinor } from './money';

type Schemas = components['schemas'];

/** Who did something at the till: a cashier, or null for the owner. */
export type StaffRef = Schemas['StaffRef'];

/** A cashier with their own PIN (`stf_…`), with their wrong PINs in a row and when their next
 *  try is allowed (`retry_at`, null: now). */
export type Staff = Schemas['Staff'];
/** The body of `POST /v1/staff`: a name and a PIN of 4 to 12 digits. */
export type NewStaff = Schemas['NewStaff'];
/** The body of `PATCH /v1/staff/{id}`. */
export type StaffChange = Schemas['StaffChange'];

/** `GET /v1/cashier` with the till: the lock, who is signed in, how many cashiers there are,
 *  the open shift, and whether the locked counter refuses sales until someone signs in. */
export type CounterStatus = Schemas['CounterStatus'];
/** The counter as the dashboard reads it (`GET /v1/cashier`, and the answer of a sign-in). */
export type TillStatus = CounterStatus;

/** How a sale was paid: `lightning`, `onchain`, `cash`, `card`. */
export type Tender = Schemas['Tender'];

/** A shift of the cash drawer (`shf_…`): opened with a float, closed with the cash counted;
 *  `report` as closed, or for an open shift (`GET /v1/shifts/{id}`) the running figures so far. */
export type Shift = Schemas['Shift'];

/** A cash drawer's reckoning: float + cash sales − cash refunds = expected; counted − expected =
 *  difference (negative: short; null while open). */
export type CashSummary = Schemas['CashSummary'];

/** A shift in a day's report, its drawer under `cash`. */
export type ShiftLine = Schemas['ShiftLine'];

/** The figures of a shift, or of a whole day (every shift); `cash` is null for a day without a
 *  shift. */
export type ZReport = Schemas['ZReport'];

/** A sale paid in cash or by card (`sale_…`). */
export type Sale = Schemas['Sale'];

/** The body of `POST /v1/sales`: the same cart as an invoice's, in the shop's currency. */
export type NewSale = Schemas['NewSale'];

/** How a printer is reached: on the network (`port` 9100 unless said) or a device file. */
export type PrinterConnection = Schemas['Connection'];

export type Paper = Schemas['Paper'];
export type PrinterRole = Schemas['Role'];

/** An ESC/POS printer (`prn_…`) and how its queue is doing. */
export type Printer = Schemas['PrinterInfo'];

/** The body of `POST /v1/printers` (`port` defaults to 9100). */
export type NewPrinter = Schemas['NewPrinter'];
/** The body of `PATCH /v1/printers/{id}`: any of a new printer's fields. */
export type PrinterChange = Schemas['PrinterChange'];

/** A printer found attached to this computer (`GET /v1/printers/scan`). */
export type FoundPrinter = Schemas['FoundPrinter'];

export type PrintJobState = Schemas['JobState'];

/** Something owed to a printer (`pjb_…`): retried by itself for 10 minutes, then `failed` until
 *  someone retries or cancels it. */
export type PrintJob = Schemas['PrintJob'];

export const TENDERS: Record<Tender, string> = { lightning: 'Lightning', onchain: 'On-chain', cash: 'Cash', card: 'Card' };

/** Where a printer is: `192.168.1.50:9100`, `/dev/usb/lp0`. */
export function connectionText(c: PrinterConnection): string {
  return c.type === 'network' ? `${c.host}:${c.port ?? 9100}` : c.path;
}

/** A printer in trouble and what the counter says about it. */
export interface PrinterTrouble { printer: Printer; waiting: number; text: string }

/** The printers the counter must warn about: one that is failing, or has jobs that failed for
 *  good (they wait for a retry or a cancel). `Kitchen printer offline — 2 tickets waiting`. */
export function printerTroubles(printers: Printer[]): PrinterTrouble[] {
  return printers
    .filter((p) => p.status.state === 'failing' || p.status.failed > 0)
    .map((p) => {
      const waiting = p.status.queued + p.status.failed;
      const what = p.role === 'kitchen' ? (waiting === 1 ? 'ticket' : 'tickets') : waiting === 1 ? 'receipt' : 'receipts';
      const state = p.status.state === 'failing' ? 'offline' : 'could not print';
      return { printer: p, waiting, text: `${p.name} ${state}${waiting > 0 ? ` — ${waiting} ${what} waiting` : ''}` };
    });
}

/** A random Idempotency-Key. `crypto.randomUUID` exists only in secure contexts (https, the
 *  loopback); a tablet reaching the app over the LAN in plain http has `getRandomValues` only. */
export function newIdempotencyKey(): string {
  const c = globalThis.crypto;
  if (typeof c.randomUUID === 'function') return c.randomUUID();
  const bytes = c.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The Idempotency-Key of each attempt at one sale: the same key for a retry of the same body
 *  whose outcome is unknown (no answer, or a 5xx, which the server does not record), so a sale is
 *  never taken twice; a fresh one once the server has answered (a 4xx is recorded and would be
 *  replayed: the cashier fixed something, or opened a shift) or the body changed. */
export function attemptKeys(make: () => string = newIdempotencyKey) {
  let key: string | null = null;
  let body = '';
  return {
    keyFor(next: unknown): string {
      const text = JSON.stringify(next);
      if (key === null || text !== body) {
        key = make();
        body = text;
      }
      return key;
    },
    /** The server answered with `status` (0: no answer). */
    answered(status: number): void {
      if (status >= 400 && status < 500) key = null;
    },
  };
}

/** How the counted cash compares with what the drawer should hold: `difference` is counted −
 *  expected (a decimal string, negative when short). */
export function describeDifference(difference: string | null | undefined, currency: string): { text: string; kind: 'even' | 'over' | 'short' } | null {
  if (difference == null) return null;
  const minor = toMinor(difference, currency);
  if (minor === null) return null;
  if (minor === 0n) return { text: 'Even', kind: 'even' };
  const abs = difference.trim().replace(/^-/, '');
  return minor > 0n ? { text: `Over by ${formatFiat(abs, currency)}`, kind: 'over' } : { text: `Short by ${formatFiat(abs, currency)}`, kind: 'short' };
}
