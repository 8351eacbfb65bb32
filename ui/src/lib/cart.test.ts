import { describe, expect, it } from 'vitest';
import type { CatalogItem } from '@payaiml/lightning-js';
import { addAmount, addItem, changeQuantity, count, toApi } from './cart';

const tea = { id: 'itm_tea', name: 'Tea' } as CatalogItem;

describe('cart', () => {
  it('adds an item to its line, and a typed amount as its own', () => {
    let lines = addItem([], tea);
    lines = addItem(lines, tea);
    lines = addAmount(lines, '2.50', ' ');
    expect(lines.map((l) => [l.name, l.quantity])).toEqual([['Tea', 2], ['Custom amount', 1]]);
    expect(count(lines)).toBe(3);
  });

  it('a line with a note is not merged, and a quantity of 0 removes the line', () => {
    let lines = addItem([], tea);
    lines = lines.map((l) => ({ ...l, note: 'no sugar' }));
    lines = addItem(lines, tea);
    expect(lines).toHaveLength(2);
    lines = changeQuantity(lines, lines[1].key, -1);
    expect(lines).toHaveLength(1);
  });

  it('gives the API items by id and typed amounts by price', () => {
    const lines = addAmount(addItem([], tea), '1500', 'Tip jar');
    lines[0].note = '  oat milk ';
    expect(toApi(lines)).toEqual([
      { item_id: 'itm_tea', quantity: 1, note: 'oat milk' },
      { name: 'Tip jar', unit_price: '1500', quantity: 1 },
    ]);
  });
});
