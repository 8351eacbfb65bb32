// Formatting for people: amounts with thousands separators in sats or BTC, times, countdowns,
// and the summary of a decoded invoice shown before paying it.

import type { DecodedInvoice } from '@payaiml/lightning-js';

export type Unit = 'sat' | 'btc';

const grouped = new Intl.NumberFormat('en-US');

/** `1,234 sats`, `1 sat`, or `0.00001234 BTC`; a dash for a missing amount. */
export function formatAmount(sats: number | null | undefined, unit: Unit = 'sat'): string {
  if (sats == null || !Number.isFinite(sats)) return '—';
  if (unit === 'btc') {
    const sign = sats < 0 ? '-' : '';
    const abs = Math.abs(Math.trunc(sats));
    const whole = Math.floor(abs / 100_000_000);
    const frac = String(abs % 100_000_000).padStart(8, '0');
    return `${sign}${grouped.format(whole)}.${frac} BTC`;
  }
  return `${grouped.format(sats)} ${Math.abs(sats) === 1 ? 'sat' : 'sats'}`;
}

/** What was typed on the POS keypad → a whole number of sats (empty is 0). In sats the entry is
 *  digits; in BTC it is digits with at most one `.` and at most 8 decimals, read as a decimal
 *  string (never through a float), so `0.00025` is exactly 25,000 sats. Anything else is 0. */
export function keypadValue(entry: string, unit: Unit = 'sat'): number {
  if (unit === 'btc') {
    const m = /^(\d*)(?:\.(\d{0,8}))?$/.exec(entry);
    if (!m) return 0;
    const sats = Number((m[1] || '0') + (m[2] ?? '').padEnd(8, '0'));
    return Number.isSafeInteger(sats) ? sats : 0;
  }
  if (!/^\d*$/.test(entry)) return 0;
  const n = Number(entry || '0');
  return Number.isSafeInteger(n) ? n : 0;
}

/** The next keypad entry after pressing `key` (a digit, `.`, `C` or `⌫`) in `unit`: sats take up to
 *  10 digits; BTC takes up to 8 whole digits and 8 decimals. A key that does not fit is ignored. */
export function keypadPress(entry: string, key: string, unit: Unit = 'sat'): string {
  if (key === 'C') return '';
  if (key === '⌫') return entry.slice(0, -1);
  if (unit === 'sat') {
    if (!/^\d$/.test(key) || entry.length >= 10 || (entry === '' && key === '0')) return entry;
    return entry + key;
  }
  if (key === '.') {
    if (entry.includes('.')) return entry;
    return (entry === '' ? '0' : entry) + '.';
  }
  if (!/^\d$/.test(key)) return entry;
  const [whole, frac] = entry.split('.');
  if (frac !== undefined) return frac.length >= 8 ? entry : entry + key;
  if (whole === '0') return key === '0' ? entry : key;
  return whole.length >= 8 ? entry : entry + key;
}

/** The keypad entry as the merchant typed it, with its unit: `0.00025 BTC`, `2,100 sats`. */
export function formatEntry(entry: string, unit: Unit = 'sat'): string {
  if (unit === 'sat') return formatAmount(keypadValue(entry, 'sat'), 'sat');
  const [whole, frac] = (entry || '0').split('.');
  const grouped = new Intl.NumberFormat('en-US').format(Number(whole || '0'));
  return `${grouped}${frac !== undefined ? `.${frac}` : ''} BTC`;
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

/** Seconds left as `4:05`, `1:02:03`, or `expired`. */
export function formatCountdown(seconds: number): string {
  if (seconds <= 0) return 'expired';
  const s = Math.floor(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

export function secondsUntil(iso: string, now: number = Date.now()): number {
  return (new Date(iso).getTime() - now) / 1000;
}

/** A node id or hash shortened for display: `02e311bb…353df97`. */
export function shorten(text: string | null | undefined, head = 8, tail = 7): string {
  if (!text) return '—';
  return text.length <= head + tail + 1 ? text : `${text.slice(0, head)}…${text.slice(-tail)}`;
}

/** The rows shown for a decoded invoice before the merchant confirms paying it. */
export function decodedRows(d: DecodedInvoice, unit: Unit = 'sat', now: number = Date.now()): [string, string][] {
  const left = secondsUntil(d.expires_at, now);
  return [
    ['Amount', d.amount == null ? 'any amount (you choose)' : formatAmount(d.amount, unit)],
    ['Description', d.description?.trim() ? d.description : '(none)'],
    ['Expires', d.expired || left <= 0 ? 'expired' : `in ${formatCountdown(left)} (${formatTime(d.expires_at)})`],
    ['Destination', d.destination],
    ['Network', d.network],
  ];
}

/** A percentage typed as a decimal string ("1", "0.5", "1.25") in millionths (ppm), exactly:
 *  no float touches it. At most four decimals (1 ppm = 0.0001 %); null when it is not a number. */
export function percentToPpm(text: string): number | null {
  const m = text.trim().match(/^(\d{1,3})(?:[.,](\d{1,4}))?$/);
  if (!m) return null;
  return Number(m[1]) * 10_000 + Number((m[2] ?? '').padEnd(4, '0'));
}

/** Millionths as a percentage string, without trailing zeros (12500 → "1.25"). */
export function ppmToPercent(ppm: number): string {
  const whole = Math.floor(ppm / 10_000);
  const rest = String(ppm % 10_000).padStart(4, '0').replace(/0+$/, '');
  return rest ? `${whole}.${rest}` : String(whole);
}
