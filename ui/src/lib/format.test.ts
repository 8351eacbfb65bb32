import { describe, expect, it } from 'vitest';
import { decodedRows, formatAmount, formatCountdown, formatEntry, keypadPress, keypadValue, percentToPpm, ppmToPercent, shorten } from './format';
import type { DecodedInvoice } from '@payaiml/lightning-js';

describe('formatAmount', () => {
  it('groups thousands and says sat or sats', () => {
    expect(formatAmount(1_234_567)).toBe('1,234,567 sats');
    expect(formatAmount(1)).toBe('1 sat');
    expect(formatAmount(0)).toBe('0 sats');
    expect(formatAmount(null)).toBe('—');
  });
  it('shows BTC with 8 decimals, exactly', () => {
    expect(formatAmount(1_234, 'btc')).toBe('0.00001234 BTC');
    expect(formatAmount(2_100_000_000_000_000, 'btc')).toBe('21,000,000.00000000 BTC');
    expect(formatAmount(-150_000_000, 'btc')).toBe('-1.50000000 BTC');
  });
});

describe('countdown and keypad', () => {
  it('formats the time left', () => {
    expect(formatCountdown(245)).toBe('4:05');
    expect(formatCountdown(3723)).toBe('1:02:03');
    expect(formatCountdown(0)).toBe('expired');
  });
  it('reads typed digits', () => {
    expect(keypadValue('')).toBe(0);
    expect(keypadValue('00150')).toBe(150);
    expect(keypadValue('99999999999999999999')).toBe(0);
  });
  it('reads a BTC entry as exact sats, never through a float', () => {
    expect(keypadValue('0.00025', 'btc')).toBe(25_000);
    expect(keypadValue('0.1', 'btc')).toBe(10_000_000);
    expect(keypadValue('0.00000001', 'btc')).toBe(1);
    expect(keypadValue('12.', 'btc')).toBe(1_200_000_000);
    expect(keypadValue('0.000000001', 'btc')).toBe(0);
    expect(keypadValue('1.2.3', 'btc')).toBe(0);
    expect(keypadValue('2500', 'sat')).toBe(2500);
    expect(keypadValue('0.5', 'sat')).toBe(0);
  });
  it('types on the keypad in the unit shown', () => {
    const type = (keys: string[], unit: 'sat' | 'btc') => keys.reduce((e, k) => keypadPress(e, k, unit), '');
    expect(type(['0', '2', '5', '0', '0'], 'sat')).toBe('2500');
    expect(type(['.', '0', '0', '0', '2', '5'], 'btc')).toBe('0.00025');
    expect(type(['0', '0', '.', '.', '5'], 'btc')).toBe('0.5');
    expect(type(['.', '1', '2', '3', '4', '5', '6', '7', '8', '9'], 'btc')).toBe('0.12345678');
    expect(type(['1', '2', '⌫', '3'], 'btc')).toBe('13');
    expect(formatEntry('0.00025', 'btc')).toBe('0.00025 BTC');
    expect(formatEntry('1234.5', 'btc')).toBe('1,234.5 BTC');
    expect(formatEntry('2500', 'sat')).toBe('2,500 sats');
  });
  it('shortens ids', () => {
    expect(shorten('02e311bbc65c1c46058cabcefa63f613a55828fe7c173db076014926229353df97')).toBe('02e311bb…353df97');
    expect(shorten('short')).toBe('short');
  });
});

describe('decodedRows', () => {
  const base: DecodedInvoice = {
    amount: 2500, amount_msat: 2_500_000, description: 'supplies', destination: '03ab',
    payment_hash: 'ff', created_at: '2030-01-01T00:00:00Z', expires_at: '2030-01-01T00:10:00Z', expired: false, network: 'regtest',
  };
  const now = Date.parse('2030-01-01T00:00:00Z');
  it('shows what will be paid before paying', () => {
    const rows = Object.fromEntries(decodedRows(base, 'sat', now));
    expect(rows.Amount).toBe('2,500 sats');
    expect(rows.Description).toBe('supplies');
    expect(rows.Expires).toMatch(/^in 10:00 /);
    expect(rows.Destination).toBe('03ab');
  });
  it('says when the payer must choose the amount, and when it expired', () => {
    const rows = Object.fromEntries(decodedRows({ ...base, amount: null, description: '', expired: true }, 'sat', now));
    expect(rows.Amount).toBe('any amount (you choose)');
    expect(rows.Description).toBe('(none)');
    expect(rows.Expires).toBe('expired');
  });
});

describe('percent and ppm', () => {
  it('reads a typed percentage exactly', () => {
    expect(percentToPpm('1')).toBe(10_000);
    expect(percentToPpm('0.5')).toBe(5_000);
    expect(percentToPpm('1,25')).toBe(12_500);
    expect(percentToPpm('0.0001')).toBe(1);
    expect(percentToPpm('0.00001')).toBeNull();
    expect(percentToPpm('-1')).toBeNull();
    expect(percentToPpm('one')).toBeNull();
  });
  it('shows millionths as a percentage', () => {
    expect(ppmToPercent(10_000)).toBe('1');
    expect(ppmToPercent(12_500)).toBe('1.25');
    expect(ppmToPercent(1)).toBe('0.0001');
    expect(ppmToPercent(0)).toBe('0');
  });
});
