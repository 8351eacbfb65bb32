import type { EventStreamState, LightningEvent } from '@payaiml/lightning-js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { clientFor } from './client';
import { openStream } from './stream';

// A WebSocket the test drives: it opens, delivers and drops when told to.
class FakeSocket {
  static made: FakeSocket[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  closedWith: number | null = null;
  constructor(readonly url: string, readonly protocols?: string[]) {
    FakeSocket.made.push(this);
  }
  close(code?: number) { this.closedWith = code ?? 1005; }
  open() { this.onopen?.({}); }
  deliver(seq: number) { this.onmessage?.({ data: JSON.stringify({ id: `evt_${seq}`, seq, event: 'payment.received', timestamp: 'now' }) }); }
  drop() { this.onclose?.({ code: 1006, reason: '' }); }
}

const latest = () => FakeSocket.made[FakeSocket.made.length - 1];
const settle = () => vi.advanceTimersByTimeAsync(0);

function watch() {
  const states: EventStreamState[] = [];
  const seqs: (number | null)[] = [];
  const stream = openStream(clientFor({ baseUrl: 'http://127.0.0.1:3737', key: 'pk_test_x' }), {
    onEvent: (event: LightningEvent) => seqs.push(event.seq),
    onState: (state) => states.push(state),
  });
  return { states, seqs, stream };
}

beforeEach(() => {
  FakeSocket.made = [];
  vi.useFakeTimers();
  vi.stubGlobal('WebSocket', FakeSocket);
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('openStream', () => {
  it('reports its state, and resumes after a drop from the last seq with a doubling wait', async () => {
    const { states, seqs, stream } = watch();
    await settle();
    expect(latest().url).toBe('ws://127.0.0.1:3737/v1/events/ws');
    expect(latest().protocols).toEqual(['bearer', 'pk_test_x']);
    latest().open();
    latest().deliver(5);
    latest().deliver(6);
    await settle();
    expect(seqs).toEqual([5, 6]);
    expect(states).toEqual(['connecting', 'live']);

    latest().drop();
    await vi.advanceTimersByTimeAsync(499);
    expect(FakeSocket.made).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(latest().url).toBe('ws://127.0.0.1:3737/v1/events/ws?after=6');
    // The replay may repeat what was seen: only what is new comes through.
    latest().open();
    latest().deliver(6);
    latest().deliver(7);
    await settle();
    expect(seqs).toEqual([5, 6, 7]);

    // Two failed attempts: 500 ms, then 1 s; an open connection starts the wait over.
    latest().drop();
    await vi.advanceTimersByTimeAsync(500);
    latest().drop();
    await vi.advanceTimersByTimeAsync(999);
    expect(FakeSocket.made).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeSocket.made).toHaveLength(4);
    expect(latest().url).toBe('ws://127.0.0.1:3737/v1/events/ws?after=7');
    latest().open();
    latest().drop();
    await vi.advanceTimersByTimeAsync(500);
    expect(FakeSocket.made).toHaveLength(5);
    expect(states).toEqual(['connecting', 'live', 'off', 'connecting', 'live', 'off', 'connecting', 'off',
      'connecting', 'live', 'off', 'connecting']);
    stream.close();
  });

  it('once closed, reports nothing more and does not reconnect', async () => {
    const { states, seqs, stream } = watch();
    await settle();
    const socket = latest();
    socket.open();
    stream.close();
    expect(socket.closedWith).toBe(1000);
    socket.deliver(1);
    socket.drop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.made).toHaveLength(1);
    expect(seqs).toEqual([]);
    expect(states).toEqual(['connecting', 'live']);
  });

  it('goes on after a handler throws, reporting the error', async () => {
    const reportError = vi.fn();
    vi.stubGlobal('reportError', reportError);
    const seqs: (number | null)[] = [];
    const stream = openStream(clientFor({ baseUrl: 'http://127.0.0.1:3737', key: 'pk_test_x' }), {
      onEvent: (event) => {
        if (event.seq === 1) throw new Error('a page failed');
        seqs.push(event.seq);
      },
      onState: () => {},
    });
    await settle();
    latest().open();
    latest().deliver(1);
    latest().deliver(2);
    await settle();
    expect(reportError).toHaveBeenCalledWith(new Error('a page failed'));
    expect(seqs).toEqual([2]);
    expect(latest().closedWith).toBeNull();
    stream.close();
  });
});
