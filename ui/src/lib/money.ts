// Amounts in the merchant's currency, for people: decimal strings from the API shown with the
// currency's symbol, the point of sale's keypad in that currency, and the sats a price comes to
// at a rate (shown before charging; the server converts with the same rule and is the one that
// counts). No float ever touches an amount: decimals are read as text into BigInt.

/** Currencies the app prices in, with their decimals (ISO 4217). */
export const CURRENCIES: Record<string, number> = { USD: 2, EUR: 2, GBP: 2, CHF: 2, CAD: 2, AUD: 2, JPY: 0 };

const grouped = new Intl.NumberFormat('en-US');

function symbol(currency: string): string {
  try {
    const parts = new Intl.NumberFormat('en-US', { style: 'currency', currency }).formatToParts(0);
    const sym = parts.find((p) => p.type === 'currency')?.value ?? currency;
    // A symbol made of letters (CHF) is set apart from the figure, as a code is.
    return /[A-Za-z]$/.test(sym) ? `${sym} ` : sym;
  } catch {
    return `${currency} `;
  }
}

/** `"1234.5"` in EUR → `€1,234.50`; JPY `"500"` → `¥500`; a dash for nothing. */
export function formatFiat(amount: string | null | undefined, currency: string | null | undefined): string {
  if (amount == null || !currency) return '—';
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(amount.trim());
  if (!m) return `${amount} ${currency}`;
  const decimals = CURRENCIES[currency] ?? 2;
  const frac = (m[3] ?? '').padEnd(decimals, '0').slice(0, decimals);
  return `${m[1]}${symbol(currency)}${grouped.format(BigInt(m[2]))}${decimals > 0 ? `.${frac}` : ''}`;
}

/** The next fiat keypad entry after `key` (a digit, `.`, `C`, `⌫`): at most the currency's
 *  decimals and 7 whole digits; a key that does not fit is ignored. */
export function fiatKeypadPress(entry: string, key: string, currency: string): string {
  const decimals = CURRENCIES[currency] ?? 2;
  if (key === 'C') return '';
  if (key === '⌫') return entry.slice(0, -1);
  if (key === '.') {
    if (decimals === 0 || entry.includes('.')) return entry;
    return (entry === '' ? '0' : entry) + '.';
  }
  if (!/^\d$/.test(key)) return entry;
  const [whole, frac] = entry.split('.');
  if (frac !== undefined) return frac.length >= decimals ? entry : entry + key;
  if (whole === '0') return key === '0' ? entry : key;
  if (whole === '' && key === '0' && decimals === 0) return entry;
  return whole.length >= 7 ? entry : entry + key;
}

/** A keypad entry as the price the API takes ("3.5" → "3.50", "3." → "3.00"); null for zero. */
export function fiatPrice(entry: string, currency: string): string | null {
  const decimals = CURRENCIES[currency] ?? 2;
  const [whole, frac = ''] = entry.split('.');
  const minor = BigInt((whole || '0') + frac.padEnd(decimals, '0').slice(0, decimals));
  if (minor === 0n) return null;
  const text = minor.toString().padStart(decimals + 1, '0');
  return decimals > 0 ? `${text.slice(0, -decimals)}.${text.slice(-decimals)}` : text;
}

/** A decimal string as an integer and its scale: "60000.5" → [600005n, 1]. */
function scaled(text: string): [bigint, number] | null {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!m) return null;
  return [BigInt(m[1] + (m[2] ?? '')), (m[2] ?? '').length];
}

/** The sats `price` comes to at `rate` (units per BTC): price × 100,000,000 ÷ rate, rounded half
 *  up to the sat, the rule the server converts by. Null when either cannot be read. */
export function satsFor(price: string, rate: string): number | null {
  const p = scaled(price);
  const r = scaled(rate);
  if (!p || !r || r[0] === 0n) return null;
  // (p / 10^ps) × 10^8 / (r / 10^rs) = p × 10^(8 + rs) / (r × 10^ps)
  const num = p[0] * 10n ** BigInt(8 + r[1]);
  const den = r[0] * 10n ** BigInt(p[1]);
  const sats = (2n * num + den) / (2n * den);
  return Number(sats);
}

/** An amount in a unit a sale or an item is priced in: a currency (`"3.50"` → `€3.50`), or sats
 *  when the unit is null (`"1500"` → `1,500 sats`). */
export function formatIn(unit: string | null | undefined, value: string | null | undefined): string {
  if (unit) return formatFiat(value ?? '0', unit);
  const m = /^\d+$/.exec((value ?? '0').trim());
  return m ? `${grouped.format(BigInt(m[0]))} sats` : `${value} sats`;
}

// Cash at the till: amounts as whole minor units (cents, yen) in BigInt, for the change, the
// drawer's difference and the notes a customer may hand over. Never a float.

/** The decimals of `currency` (2 for a currency this app does not list). */
export function decimalsOf(currency: string): number {
  return CURRENCIES[currency] ?? 2;
}

/** A decimal string in `currency` as whole minor units: `"12.5"` EUR → 1250n, `"-0.05"` → -5n,
 *  JPY `"1250"` → 1250n. Null when it is not such an amount (not a number, or more decimals than
 *  the currency has, trailing zeros aside). */
export function toMinor(amount: string, currency: string): bigint | null {
  const m = /^(-?)(\d+)(?:\.(\d*))?$/.exec(amount.trim());
  if (!m) return null;
  const decimals = decimalsOf(currency);
  const frac = (m[3] ?? '').replace(/0+$/, '');
  if (frac.length > decimals) return null;
  const minor = BigInt(m[2] + frac.padEnd(decimals, '0'));
  return m[1] === '-' ? -minor : minor;
}

/** Minor units as the API's decimal string in `currency`: 1250n → `"12.50"`, -5n → `"-0.05"`,
 *  JPY 1250n → `"1250"`. */
export function fromMinor(minor: bigint, currency: string): string {
  const decimals = decimalsOf(currency);
  const sign = minor < 0n ? '-' : '';
  const text = (minor < 0n ? -minor : minor).toString().padStart(decimals + 1, '0');
  return decimals > 0 ? `${sign}${text.slice(0, -decimals)}.${text.slice(-decimals)}` : `${sign}${text}`;
}

/** An amount a person typed (`20`, `20,5`, `1,234.50`, ` 7 `) as the API's decimal string in
 *  `currency` (`"20.00"`, `"20.50"`, `"1234.50"`); null when it is not a positive-or-zero amount
 *  of that currency. */
export function readAmount(text: string, currency: string): string | null {
  let t = text.replace(/\s/g, '');
  // With a point, commas group thousands; alone, a comma is the decimal mark.
  t = t.includes('.') ? t.replace(/,/g, '') : t.replace(',', '.');
  if (t === '' || t.startsWith('-')) return null;
  const minor = toMinor(t, currency);
  return minor === null ? null : fromMinor(minor, currency);
}

/** `a − b` in `currency` (negative when b is more); null when either cannot be read. */
export function subtractAmounts(a: string, b: string, currency: string): string | null {
  const x = toMinor(a, currency);
  const y = toMinor(b, currency);
  return x === null || y === null ? null : fromMinor(x - y, currency);
}

/** The change for `received` against `total`; null when either cannot be read or `received` is
 *  less than `total`. */
export function changeFor(total: string, received: string, currency: string): string | null {
  const t = toMinor(total, currency);
  const r = toMinor(received, currency);
  return t === null || r === null || r < t ? null : fromMinor(r - t, currency);
}

/** What a customer is likely to hand over for `total`: the exact amount, then the next round
 *  amounts above it (a whole unit, then the common notes), at most `max` of them. */
export function cashSuggestions(total: string, currency: string, max = 5): string[] {
  const t = toMinor(total, currency);
  if (t === null || t <= 0n) return [];
  const decimals = decimalsOf(currency);
  const unit = 10n ** BigInt(decimals);
  const steps = decimals === 0 ? [100n, 500n, 1000n, 5000n, 10000n] : [1n, 5n, 10n, 20n, 50n, 100n, 200n].map((n) => n * unit);
  const found = [t];
  for (const step of steps) {
    if (found.length >= max) break;
    const up = ((t + step - 1n) / step) * step;
    if (up > t && !found.includes(up)) found.push(up);
  }
  return found.map((m) => fromMinor(m, currency));
}
