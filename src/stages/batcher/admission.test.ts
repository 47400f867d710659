import type { IngestRecord } from '../../record';
import type { AppendOutcome } from './sink';
import { buildTestApp } from './test-helpers';

const body = JSON.stringify([{ tags: { k: 'v' }, seed: 1 }]);

describe('admission control of the append routes', () => {
  it('answers 429 with Retry-After before reading the body when the producer is full', async () => {
    const { app, sink } = await buildTestApp({ maxInflightBodyBytes: 1 << 20 });
    sink.pending = sink.capacity;
    const res = await app.inject({ method: 'POST', url: '/records', payload: body });
    expect(res.statusCode).toBe(429);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.json().error.code).toBe('CHARIOTS_ERR_OVERLOADED');
    sink.pending = 1;
    sink.pendingBytes = sink.capacityBytes + 1;
    const again = await app.inject({ method: 'POST', url: '/record', payload: '{}' });
    expect(again.statusCode).toBe(429);
    expect(sink.records).toHaveLength(0);
  });

  it('refuses a body that does not fit in the in-flight budget, and frees the budget after', async () => {
    const { app, sink } = await buildTestApp({ maxInflightBodyBytes: 1000 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const append = sink.append.bind(sink);
    sink.append = async (records: IngestRecord[]): Promise<AppendOutcome[]> => {
      await gate;
      return append(records);
    };
    const padded = JSON.stringify([{ tags: { k: 'x'.repeat(700) }, seed: 1 }]);
    const first = app.inject({ method: 'POST', url: '/records', payload: padded });
    // Let the first request be admitted and reach the (blocked) sink.
    await new Promise((r) => setTimeout(r, 50));
    const second = await app.inject({ method: 'POST', url: '/records', payload: padded });
    expect(second.statusCode).toBe(429);
    expect(second.headers['retry-after']).toBe('1');
    release();
    expect((await first).statusCode).toBe(200);
    const third = await app.inject({ method: 'POST', url: '/records', payload: padded });
    expect(third.statusCode).toBe(200);
    expect(sink.records).toHaveLength(2);
  });

  it('always admits one request, even one larger than the budget', async () => {
    const { app } = await buildTestApp({ maxInflightBodyBytes: 1024 });
    const big = JSON.stringify([{ tags: { k: 'x'.repeat(5000) }, seed: 1 }]);
    const res = await app.inject({ method: 'POST', url: '/records', payload: big });
    expect(res.statusCode).toBe(200);
  });
});
