import { parseDeadLetterEntry, parseDeferredEntry } from './entries';
import { buildTestApp } from './test-helpers';

const record = (id: string) => ({
  id,
  host: 1,
  seed: '18446744073709551615',
  prehash: ['9489172654252433228'],
  parent: [],
  tags: { k: 'v' },
  receivedAt: '2026-01-01T00:00:00.000Z',
});

describe('GET /deferred and /deadletter', () => {
  it('pages in id order with limit and after, and counts all entries', async () => {
    const { app, deferred } = await buildTestApp();
    for (const id of ['c', 'a', 'b', 'd']) {
      deferred.set(
        id,
        parseDeferredEntry(
          id,
          Buffer.from(JSON.stringify({ record: record(id), deadline: null, missing: ['m'] })),
        ),
      );
    }
    let res = await app.inject({ method: 'GET', url: '/deferred?limit=2' });
    expect(res.statusCode).toBe(200);
    let body = res.json();
    expect(body.count).toBe(4);
    expect(body.deferred.map((d: { id: string }) => d.id)).toEqual(['a', 'b']);
    expect(body.next).toBe('b');
    expect(body.deferred[0]).toEqual({
      id: 'a',
      record: record('a'),
      missing: ['m'],
      deadline: null,
    });
    res = await app.inject({ method: 'GET', url: `/deferred?limit=2&after=${body.next}` });
    body = res.json();
    expect(body.deferred.map((d: { id: string }) => d.id)).toEqual(['c', 'd']);
    expect(body.next).toBeNull();
    // A cursor that no longer exists still works.
    deferred.delete('b');
    res = await app.inject({ method: 'GET', url: '/deferred?after=b' });
    expect(res.json().deferred.map((d: { id: string }) => d.id)).toEqual(['c', 'd']);
  });

  it.each(['limit=0', 'limit=1001', 'limit=x'])(
    'refuses %s with CHARIOTS_ERR_BAD_QUERY',
    async (q) => {
      const { app } = await buildTestApp();
      const res = await app.inject({ method: 'GET', url: `/deadletter?${q}` });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('CHARIOTS_ERR_BAD_QUERY');
    },
  );

  it("lists the filter's undecodable dead letters with record null", async () => {
    const { app, deadletter } = await buildTestApp();
    const value = {
      id: 'ingest-0-5',
      reason: 'invalid JSON',
      code: 'CHARIOTS_ERR_BAD_JSON',
      raw: '{x',
      deadAt: '2026-01-01T00:00:00.000Z',
    };
    deadletter.set(
      'ingest-0-5',
      parseDeadLetterEntry('ingest-0-5', Buffer.from(JSON.stringify(value))),
    );
    const body = (await app.inject({ method: 'GET', url: '/deadletter' })).json();
    expect(body.deadletter).toEqual([
      {
        id: 'ingest-0-5',
        record: null,
        reason: 'invalid JSON',
        code: 'CHARIOTS_ERR_BAD_JSON',
        missing: [],
        deadAt: value.deadAt,
        raw: '{x',
      },
    ]);
    const retry = await app.inject({ method: 'POST', url: '/deadletter/ingest-0-5/retry' });
    expect(retry.statusCode).toBe(400);
    expect(retry.json().error.code).toBe('CHARIOTS_ERR_BAD_RECORD');
  });
});

describe('POST /deadletter/:id/retry', () => {
  it('re-drives a dead-lettered record once, then it is gone; unknown ids are 404', async () => {
    const { app, deadletter, redriven } = await buildTestApp();
    const value = {
      record: record('r1'),
      reason: 'timeout',
      code: 'CHARIOTS_ERR_TIMEOUT',
      missing: ['m'],
      deadAt: '2026-01-01T00:00:00.000Z',
    };
    deadletter.set('r1', parseDeadLetterEntry('r1', Buffer.from(JSON.stringify(value))));
    const [a, b] = await Promise.all([
      app.inject({ method: 'POST', url: '/deadletter/r1/retry' }),
      app.inject({ method: 'POST', url: '/deadletter/r1/retry' }),
    ]);
    expect(a.json()).toEqual({ id: 'r1', redriven: true });
    expect(b.statusCode).toBe(200);
    expect(redriven).toHaveLength(1);
    expect(redriven[0].record).toEqual(record('r1'));
    const again = await app.inject({ method: 'POST', url: '/deadletter/r1/retry' });
    expect(again.statusCode).toBe(404);
    expect(again.json().error.code).toBe('CHARIOTS_ERR_NOT_FOUND');
  });
});
