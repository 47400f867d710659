import { request } from 'node:http';
import { Writable } from 'node:stream';
import type { FlStore } from '../flstore';
import { entries, makeRecord } from '../flstore/test-records';
import { filledTestStore } from '../flstore/test-store';
import type { StoreReader } from '../flstore/types';
import { toPublicJson } from '../record';
import { streamRecords } from './reads';
import { collectLines, readApiApp } from './test-helpers';

let store: FlStore;
let remove: () => Promise<void>;
const pub = (lid: number) => JSON.parse(JSON.stringify(toPublicJson(makeRecord(lid))));

beforeEach(async () => {
  ({ store, remove } = await filledTestStore('reads', 250));
});
afterEach(() => remove());

describe('read routes', () => {
  it('GET /record/:lid answers the record, 404 when none yet, 400 when not an LId', async () => {
    const app = await readApiApp(store);
    const r = await app.inject('/record/7');
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual(pub(7));
    expect(r.json().seed).toBe('18446744073709551615');
    const missing = await app.inject('/record/251');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('CHARIOTS_ERR_NOT_FOUND');
    for (const bad of ['0', 'x', '-1', '1.5', '99999999999999999999'])
      expect((await app.inject(`/record/${bad}`)).json().error.code).toBe('CHARIOTS_ERR_BAD_QUERY');
    await app.close();
  });

  it('GET /records pages by tag, hash, seed and id in LId order', async () => {
    const app = await readApiApp(store);
    const want = Array.from({ length: 250 }, (_, i) => i + 1).filter((l) => l % 3 === 1);
    const got: number[] = [];
    let after = 0;
    for (;;) {
      const body = (await app.inject(`/records?tag=k:v1&limit=30&after=${after}`)).json();
      got.push(...body.records.map((r: { lid: number }) => r.lid));
      if (body.next === undefined) break;
      after = body.next;
    }
    expect(got).toEqual(want);
    const h = (await app.inject('/records?hash=9489172654252433228')).json();
    expect(h).toEqual({ records: [] });
    const seed = (await app.inject('/records?seed=18446744073709551615&limit=1000')).json();
    expect(seed.records.map((r: { lid: number }) => r.lid)).toEqual(
      Array.from({ length: 35 }, (_, i) => (i + 1) * 7),
    );
    expect((await app.inject('/records?id=id-42')).json()).toEqual({ records: [pub(42)] });
    expect((await app.inject('/records?seed=0&limit=2')).json().records).toHaveLength(2);
    const bad = [
      '/records',
      '/records?tag=k:v1&seed=1',
      '/records?tag=novalue',
      '/records?seed=-1',
      '/records?hash=18446744073709551616',
      '/records?seed=1&limit=1001',
      '/records?seed=1&limit=0',
    ];
    for (const u of bad) expect((await app.inject(u)).statusCode).toBe(400);
    await app.close();
  });

  it('GET /log returns a range with the next start', async () => {
    const app = await readApiApp(store);
    const body = (await app.inject('/log?from=240&limit=5')).json();
    expect(body.records).toEqual([240, 241, 242, 243, 244].map(pub));
    expect(body.next).toBe(245);
    const end = (await app.inject('/log?from=248&limit=5')).json();
    expect(end.records.map((r: { lid: number }) => r.lid)).toEqual([248, 249, 250]);
    expect(end.next).toBeUndefined();
    expect((await app.inject('/log')).json().records).toHaveLength(100);
    await app.close();
  });

  it('GET /log/stream replays, follows the tail, and ends when the server closes', async () => {
    const app = await readApiApp(store);
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const lines: string[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      request(`${url}/log/stream?from=245`, (res) => {
        expect(res.headers['content-type']).toBe('application/x-ndjson');
        collectLines(res, lines);
        res.on('end', resolve);
      })
        .on('error', reject)
        .end();
    });
    while (lines.length < 6) await new Promise((r) => setTimeout(r, 10));
    await store.append(entries(251, 260));
    while (lines.length < 16) await new Promise((r) => setTimeout(r, 10));
    expect(lines.map((l) => JSON.parse(l))).toEqual(
      Array.from({ length: 16 }, (_, i) => pub(245 + i)),
    );
    await app.close();
    await ended;
  });

  it('a reader that stops reading makes the stream stop reading the store (back-pressure)', async () => {
    await store.append(entries(251, 5000));
    let served = 0;
    const counting: StoreReader = {
      lastLid: () => store.lastLid(),
      get: (l) => store.get(l),
      query: (q, a, l) => store.query(q, a, l),
      waitForLid: (l, s) => store.waitForLid(l, s),
      range: async (f, l) => {
        const rs = await store.range(f, l);
        served += rs.length;
        return rs;
      },
    };
    // A socket whose peer never reads: writes are never acknowledged.
    const stuck = new Writable({ highWaterMark: 4096, write: () => undefined });
    const ac = new AbortController();
    const done = streamRecords(counting, stuck, 1, ac.signal);
    await new Promise((r) => setTimeout(r, 300));
    expect(served).toBe(256); // one chunk read, then waiting for 'drain'
    expect(stuck.writableLength).toBeLessThan(4096 + 1000);
    ac.abort();
    await done;
    expect(served).toBe(256);
  });
});
