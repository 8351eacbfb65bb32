import { describe, expect, it } from 'vitest';
import { attemptKeys, connectionText, describeDifference, newIdempotencyKey, printerTroubles, type Printer } from './till';

const printer = (over: Omit<Partial<Printer>, 'status'> & { status?: Partial<Printer['status']> } = {}): Printer => ({
  id: 'prn_1', name: 'Counter', connection: { type: 'network', host: '192.168.1.50', port: 9100 }, paper: '80mm',
  role: 'receipt', auto_print: true, cash_drawer: false, created_at: '2026-01-01T00:00:00Z',
  ...over,
  status: { state: 'ready', last_error: null, queued: 0, failed: 0, last_printed_at: null, ...over.status },
});

describe('the till', () => {
  it('keeps one key per attempt: the same for a retry with no answer, a new one after an answer or a change', () => {
    let n = 0;
    const keys = attemptKeys(() => `k${++n}`);
    const body = { tender: 'cash', cash_received: '20.00' };
    expect(keys.keyFor(body)).toBe('k1');
    keys.answered(0);
    expect(keys.keyFor({ ...body })).toBe('k1');
    keys.answered(503);
    expect(keys.keyFor(body)).toBe('k1');
    keys.answered(409);
    expect(keys.keyFor(body)).toBe('k2');
    expect(keys.keyFor({ ...body, cash_received: '50.00' })).toBe('k3');
  });

  it('makes random keys', () => {
    const a = newIdempotencyKey();
    expect(a).toMatch(/^[0-9a-f-]{32,36}$/);
    expect(newIdempotencyKey()).not.toBe(a);
  });

  it('says which printers are in trouble and what waits', () => {
    expect(printerTroubles([printer()])).toEqual([]);
    expect(printerTroubles([printer({ status: { state: 'unknown' } })])).toEqual([]);
    const [t] = printerTroubles([printer({ status: { state: 'failing', last_error: 'connection refused', queued: 1, failed: 1 } })]);
    expect(t.text).toBe('Counter offline — 2 receipts waiting');
    expect(t.waiting).toBe(2);
    expect(printerTroubles([printer({ name: 'Kitchen', role: 'kitchen', status: { failed: 1 } })])[0].text).toBe('Kitchen could not print — 1 ticket waiting');
    expect(printerTroubles([printer({ status: { state: 'failing' } })])[0].text).toBe('Counter offline');
  });

  it('says where a printer is', () => {
    expect(connectionText({ type: 'network', host: '10.0.0.9', port: 9100 })).toBe('10.0.0.9:9100');
    expect(connectionText({ type: 'network', host: '10.0.0.9' })).toBe('10.0.0.9:9100');
    expect(connectionText({ type: 'usb', path: '/dev/usb/lp0' })).toBe('/dev/usb/lp0');
  });

  it('reads the drawer difference', () => {
    expect(describeDifference('0.00', 'EUR')).toEqual({ text: 'Even', kind: 'even' });
    expect(describeDifference('1.20', 'EUR')).toEqual({ text: 'Over by €1.20', kind: 'over' });
    expect(describeDifference('-0.50', 'EUR')).toEqual({ text: 'Short by €0.50', kind: 'short' });
    expect(describeDifference(null, 'EUR')).toBeNull();
  });
});
