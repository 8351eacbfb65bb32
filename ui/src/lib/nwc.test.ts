import { describe, expect, it } from 'vitest';
import type { NwcConnection, NwcStatus } from '../api/client';
import { DEFAULT_RELAY, accessLabel, apps, connectionState, describeRelays, parseRelays, suggestedRelays } from './nwc';

function connection(over: { relays?: string[]; revoked_at?: string | null; expires_at?: string | null } = {}): NwcConnection {
  return {
    key: {
      id: 'k1', name: 'Web shop', prefix: 'pk_k1_…', permissions: ['lightning:receive'], budget: null, created_at: '2026-01-01T00:00:00Z',
      expires_at: over.expires_at ?? null, last_used_at: null, revoked_at: over.revoked_at ?? null, role: null,
    },
    access: 'receive',
    methods: ['get_info', 'make_invoice'],
    notifications: ['payment_received'],
    wallet_pubkey: 'aa',
    client_pubkey: 'bb',
    relays: over.relays ?? ['wss://relay.example.com'],
    encryption: 'nip44_v2',
    created_at: '2026-01-01T00:00:00Z',
  };
}

function status(status: string, connected: boolean[]): NwcStatus {
  return {
    status,
    connections: 1,
    outbox: 0,
    relays: connected.map((c, i) => ({ url: `wss://r${i}.example.com`, connected: c, status: c ? 'connected' : 'disconnected', down_since: c ? null : '2026-01-01T00:00:00Z' })),
  };
}

describe('wallet connections', () => {
  it('reads the relays typed one per line or separated by commas, each once', () => {
    expect(parseRelays('wss://a.example\n wss://b.example, wss://c.example,,\n\nwss://a.example ')).toEqual([
      'wss://a.example', 'wss://b.example', 'wss://c.example',
    ]);
    expect(parseRelays('  \n ')).toEqual([]);
  });

  it('offers the relays of the newest live connection, else the default relay', () => {
    expect(suggestedRelays([])).toBe(DEFAULT_RELAY);
    expect(suggestedRelays([connection({ relays: ['wss://old.example'], revoked_at: '2026-01-02T00:00:00Z' })])).toBe(DEFAULT_RELAY);
    expect(suggestedRelays([connection({ relays: ['wss://a.example', 'wss://b.example'] })])).toBe('wss://a.example\nwss://b.example');
  });

  it('names what a connection may do and its state', () => {
    expect(accessLabel('receive')).toBe('Receive payments only');
    expect(accessLabel('read')).toBe('Receive and read');
    expect(accessLabel('pay')).toBe('Receive and pay');
    const now = new Date('2026-06-01T00:00:00Z');
    expect(connectionState(connection(), now)).toBe('active');
    expect(connectionState(connection({ expires_at: '2026-05-01T00:00:00Z' }), now)).toBe('expired');
    expect(connectionState(connection({ expires_at: '2026-05-01T00:00:00Z', revoked_at: '2026-04-01T00:00:00Z' }), now)).toBe('revoked');
    expect(apps(1)).toBe('1 app');
    expect(apps(2)).toBe('2 apps');
  });

  it('says how the relays are doing', () => {
    expect(describeRelays(status('ok', [true]))).toEqual({ tone: 'ok', text: 'Relay connected', down: [] });
    expect(describeRelays(status('ok', [true, true])).text).toBe('Relays connected');
    expect(describeRelays(status('degraded', [true, false]))).toEqual({
      tone: 'warning', text: '1 of 2 relays down — apps reach the wallet through the other', down: ['wss://r1.example.com'],
    });
    expect(describeRelays(status('degraded', [false, true, true])).text).toBe('1 of 3 relays down — apps reach the wallet through the others');
    expect(describeRelays(status('down', [false]))).toEqual({
      tone: 'warning', text: 'Relay unreachable — retrying; apps cannot reach the wallet now', down: ['wss://r0.example.com'],
    });
    expect(describeRelays(status('down', [false, false])).text).toBe('Relays unreachable — retrying; apps cannot reach the wallet now');
  });
});
