import { describe, expect, it } from 'vitest';
import { cashSuggestions, changeFor, fiatKeypadPress, fiatPrice, formatFiat, formatIn, fromMinor, readAmount, satsFor, subtractAmounts, toMinor } from './money';

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

describe('cash in minor units', () => {
  it('reads and writes decimal strings exactly', () => {
    expect(toMinor('12.5', 'EUR')).toBe(1250n);
    expect(toMinor('-0.05', 'EUR')).toBe(-5n);
    expect(toMinor('1250', 'JPY')).toBe(1250n);
    expect(toMinor('1.500', 'EUR')).toBe(150n);
    expect(toMinor('1.234', 'EUR')).toBeNull();
    expect(toMinor('12.5', 'JPY')).toBeNull();
    expect(toMinor('abc', 'EUR')).toBeNull();
    expect(fromMinor(1250n, 'EUR')).toBe('12.50');
    expect(fromMinor(-5n, 'EUR')).toBe('-0.05');
    expect(fromMinor(0n, 'USD')).toBe('0.00');
    expect(fromMinor(1250n, 'JPY')).toBe('1250');
    expect(fromMinor(-1250n, 'JPY')).toBe('-1250');
    // Beyond what a float holds exactly.
    expect(fromMinor(toMinor('90071992547409.93', 'USD')! + 1n, 'USD')).toBe('90071992547409.94');
  });

  it('reads what a cashier types', () => {
    expect(readAmount('20', 'EUR')).toBe('20.00');
    expect(readAmount('20,5', 'EUR')).toBe('20.50');
    expect(readAmount(' 1,234.50 ', 'USD')).toBe('1234.50');
    expect(readAmount('0', 'EUR')).toBe('0.00');
    expect(readAmount('5000', 'JPY')).toBe('5000');
    expect(readAmount('5000.5', 'JPY')).toBeNull();
    expect(readAmount('-3', 'EUR')).toBeNull();
    expect(readAmount('', 'EUR')).toBeNull();
    expect(readAmount('2.345', 'EUR')).toBeNull();
  });

  it('computes the change and differences without floats', () => {
    expect(changeFor('9.40', '20.00', 'EUR')).toBe('10.60');
    expect(changeFor('0.30', '0.30', 'EUR')).toBe('0.00');
    // 0.1 + 0.2 is not 0.3 in floats; here it is.
    expect(changeFor('0.30', '0.40', 'EUR')).toBe('0.10');
    expect(changeFor('9.40', '9.39', 'EUR')).toBeNull();
    expect(changeFor('980', '1000', 'JPY')).toBe('20');
    expect(subtractAmounts('123.40', '125.00', 'EUR')).toBe('-1.60');
    expect(subtractAmounts('125.00', '123.40', 'EUR')).toBe('1.60');
    expect(subtractAmounts('x', '1', 'EUR')).toBeNull();
  });

  it('suggests the exact amount and the next round ones', () => {
    expect(cashSuggestions('9.40', 'EUR')).toEqual(['9.40', '10.00', '20.00', '50.00', '100.00']);
    expect(cashSuggestions('23.75', 'USD', 4)).toEqual(['23.75', '24.00', '25.00', '30.00']);
    expect(cashSuggestions('20.00', 'EUR', 3)).toEqual(['20.00', '50.00', '100.00']);
    expect(cashSuggestions('980', 'JPY')).toEqual(['980', '1000', '5000', '10000']);
    expect(cashSuggestions('0', 'EUR')).toEqual([]);
  });
});
