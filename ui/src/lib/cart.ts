// The point of sale's cart: lines of catalog items and typed amounts, kept as the API's cart
// takes them (the server prices it: the figures shown come from `priceCart`, the same
// arithmetic the invoice records), and carts parked for later in localStorage, which survives
// a restart of the app and is shared with every window of the dashboard.

import type { CartLine, CatalogItem } from '@payaiml/lightning-js';

/** A line of the cart as the point of sale keeps it. */
export interface PosLine {
  /** A local key, stable while the line exists. */
  key: string;
  item_id?: string;
  name: string;
  /** For a typed amount: its price in the cart's unit. */
  unit_price?: string;
  quantity: number;
  note?: string;
}

/** A cart parked to serve the next customer. */
export interface HeldCart {
  id: string;
  at: string;
  /** The unit of its prices: a currency code, or null for sats. */
  currency: string | null;
  lines: PosLine[];
}

const HELD = 'payaiml.pos.held';
export const MAX_QUANTITY = 9999;

let counter = 0;
const newKey = () => `l${Date.now().toString(36)}${(counter++).toString(36)}`;

/** Adds one of `item`: to its line when it has one without a note, else as a new line. */
export function addItem(lines: PosLine[], item: CatalogItem): PosLine[] {
  const same = lines.find((l) => l.item_id === item.id && !l.note);
  if (same) return lines.map((l) => (l === same ? { ...l, quantity: Math.min(MAX_QUANTITY, l.quantity + 1) } : l));
  return [...lines, { key: newKey(), item_id: item.id, name: item.name, quantity: 1 }];
}

/** Adds a typed amount as its own line. */
export function addAmount(lines: PosLine[], price: string, name: string): PosLine[] {
  return [...lines, { key: newKey(), name: name.trim() || 'Custom amount', unit_price: price, quantity: 1 }];
}

/** Changes a line's quantity by `by`; at 0 the line goes. */
export function changeQuantity(lines: PosLine[], key: string, by: number): PosLine[] {
  return lines
    .map((l) => (l.key === key ? { ...l, quantity: Math.min(MAX_QUANTITY, l.quantity + by) } : l))
    .filter((l) => l.quantity > 0);
}

/** The lines as the API's cart takes them. */
export function toApi(lines: PosLine[]): CartLine[] {
  return lines.map((l) => {
    const note = l.note?.trim() || undefined;
    return l.item_id
      ? { item_id: l.item_id, quantity: l.quantity, ...(note ? { note } : {}) }
      : { name: l.name, unit_price: l.unit_price, quantity: l.quantity, ...(note ? { note } : {}) };
  });
}

/** How many things are in the cart. */
export function count(lines: PosLine[]): number {
  return lines.reduce((n, l) => n + l.quantity, 0);
}

export function heldCarts(): HeldCart[] {
  try {
    const parsed = JSON.parse(localStorage.getItem(HELD) ?? '[]');
    return Array.isArray(parsed) ? (parsed as HeldCart[]) : [];
  } catch {
    return [];
  }
}

/** Parks `lines`; returns the carts held now. */
export function hold(lines: PosLine[], currency: string | null): HeldCart[] {
  const held = [...heldCarts(), { id: newKey(), at: new Date().toISOString(), currency, lines }];
  localStorage.setItem(HELD, JSON.stringify(held));
  return held;
}

/** Takes the parked cart `id` back; returns it and the carts still held. */
export function resume(id: string): [HeldCart | null, HeldCart[]] {
  const held = heldCarts();
  const cart = held.find((c) => c.id === id) ?? null;
  const rest = held.filter((c) => c.id !== id);
  localStorage.setItem(HELD, JSON.stringify(rest));
  return [cart, rest];
}
