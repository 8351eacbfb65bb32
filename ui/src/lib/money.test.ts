import { describe, expect, it } from 'vitest';
import { fiatKeypadPress, fiatPrice, formatFiat, formatIn, satsFor } from './money';

describe('money', () => {
  it('shows decimal strings with the currency, exactly', () => {
    expect(formatFiat('3.50', 'EUR')).toBe('€3.50');
    expect(formatFiat('1234567.5', 'USD')).toBe('$1,234,567.50');
    expect(formatFiat('500', 'JPY')).toBe('¥500');
    expect(formatFiat('12.30', 'CHF')).toBe('CHF 12.30');
    expect(formatFiat(null, 'EUR')).toBe('—');
  });

  it('types a price on the keypad within the currency decimals', () => {
    let e = '';
    for (const k of ['3', '.', '5']) e = fiatKeypadPress(e, k, 'EUR');
    expect(e).toBe('3.5');
    expect(fiatKeypadPress('3.50', '7', 'EUR')).toBe('3.50');
    expect(fiatKeypadPress('', '.', 'EUR')).toBe('0.');
    expect(fiatKeypadPress('50', '.', 'JPY')).toBe('50');
    expect(fiatPrice('3.5', 'EUR')).toBe('3.50');
    expect(fiatPrice('3.', 'EUR')).toBe('3.00');
    expect(fiatPrice('0.0', 'EUR')).toBeNull();
    expect(fiatPrice('500', 'JPY')).toBe('500');
    expect(fiatPrice('0.07', 'USD')).toBe('0.07');
  });

  it('converts as the server does: half up to the sat', () => {
    expect(satsFor('3.50', '60000')).toBe(5833);
    expect(satsFor('3.50', '68300.00')).toBe(5124);
    expect(satsFor('0.07', '2000000')).toBe(4);
    expect(satsFor('500', '10000000')).toBe(5000);
    expect(satsFor('1.00', 'x')).toBeNull();
  });

  it('shows an amount in its unit, sats when there is none', () => {
    expect(formatIn('EUR', '9.40')).toBe('€9.40');
    expect(formatIn(null, '12500')).toBe('12,500 sats');
    expect(formatIn(undefined, null)).toBe('0 sats');
  });
});
