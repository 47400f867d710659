/**
 * Issue 7: the deployed shape, where the batcher and the maintainer are separate processes
 * (`chariots start batcher`, `chariots start maintainer`). With batcher.readUrls the batcher
 * answers every read by forwarding it to the maintainer's read API: a causal chain appended
 * through the batcher is read back through it by LId, tag, seed (the dashboard's chain),
 * range and stream, with exact uint64s and the caller's token. The first read URL is dead
 * (the batcher fails over); when the maintainer is killed, reads get 503
 * CHARIOTS_ERR_MAINTAINER_UNAVAILABLE at once while appends go on, and work again after its restart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChariotsClient, hashTag, type LogRecord } from '../../src/client';
import { runStages, type RunningStages } from '../../src/runtime/run-stages';
import { sleep, testEnvironment, testLogger } from '../helpers/cluster';
import { freePort, StageProcess } from '../helpers/stage-process';

const TOKEN = 'split-reads-t0k3n';
const auth = { authorization: `Bearer ${TOKEN}` };

async function eventually<T>(f: () => Promise<T | undefined>, timeoutMs = 60000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(200);
  }
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('reads through a batcher whose maintainer runs in another process', () => {
  let running: RunningStages;
  let maintainer: StageProcess;
  let batcher: StageProcess;
  let dataDir: string;
  let base: string;
  let maintainerUrl: string;
  let client: ChariotsClient;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'split-reads-'));
    const env = await testEnvironment('split-reads', { tcp: { enabled: false } });
    // The stages between them run here; the two under test are processes of their own.
    running = await runStages(env.config, ['filter', 'queue', 'sequencer'], testLogger);
    const [mPort, bPort, deadPort] = [await freePort(), await freePort(), await freePort()];
    const common = {
      KAFKA_BROKERS: env.config.kafka.brokers.join(','),
      CHARIOTS_TOPIC_PREFIX: env.prefix,
      CHARIOTS_HTTP_HOST: '127.0.0.1',
      CHARIOTS_TCP_ENABLED: 'false',
      CHARIOTS_HTTP_ADMIN_ENABLED: 'false',
      CHARIOTS_AUTH_TOKENS: `${TOKEN}:admin`,
    };
    maintainerUrl = `http://127.0.0.1:${mPort}`;
    maintainer = new StageProcess('maintainer', {
      ...common,
      CHARIOTS_DATA_DIR: dataDir,
      CHARIOTS_MAINTAINER_PORT: String(mPort),
    });
    batcher = new StageProcess('batcher', {
      ...common,
      CHARIOTS_HTTP_PORT: String(bPort),
      CHARIOTS_BATCHER_READ_URLS: `http://127.0.0.1:${deadPort},${maintainerUrl}`,
      CHARIOTS_BATCHER_READ_TIMEOUT_MS: '3000',
    });
    await Promise.all([maintainer.start(180000), batcher.start(180000)]);
    base = `http://127.0.0.1:${bPort}`;
    client = new ChariotsClient({ url: base, token: TOKEN, backoffMs: 50 });
  }, 300000);
  afterAll(async () => {
    await Promise.all([batcher?.stop(), maintainer?.stop()]);
    await running?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  let chain: LogRecord[] = [];
  const seed = String(2n ** 63n + BigInt(Math.floor(Math.random() * 1e9)) * 2n + 1n);

  it('appends a causal chain through the batcher and reads it back through it', async () => {
    const h = (step: string) => hashTag('step', step);
    // Posted last-first: c and b wait (deferred) until a is in the log.
    const c = await client.append({
      seed,
      tags: { step: 'c' },
      prehash: h('b'),
      parent: `a-${seed}`,
    });
    const b = await client.append({ seed, tags: { step: 'b' }, prehash: h('a') });
    const a = await client.append(
      { id: `a-${seed}`, seed, tags: { step: 'a' } },
      { waitAppended: true, timeoutMs: 60000 },
    );

    // By seed (what the dashboard's chain reads); flstore may trail the log by a moment.
    chain = await eventually(async () => {
      const rs = await collect(client.query({ seed }));
      return rs.length === 3 ? rs : undefined;
    });
    expect(chain.map((r) => r.id)).toEqual([a.id, b.id, c.id]);
    expect(chain[0].lid).toBe(a.lid);
    expect(chain[0].lid).toBeLessThan(chain[1].lid);
    expect(chain[1].lid).toBeLessThan(chain[2].lid);
    expect(chain[2]).toMatchObject({ seed, prehash: [h('b')], parent: [a.id] });

    // By LId: the batcher's answer is the maintainer's, byte for byte (uint64 exact).
    for (const r of chain) {
      const via = await fetch(`${base}/record/${r.lid}`, { headers: auth });
      const direct = await fetch(`${maintainerUrl}/record/${r.lid}`, { headers: auth });
      const text = await via.text();
      expect(via.status).toBe(200);
      expect(text).toBe(await direct.text());
      expect(text).toContain(`"seed":"${seed}"`);
      expect(await client.get(r.lid)).toEqual(r);
    }
    expect(await client.get(chain[2].lid + 100000)).toBeUndefined(); // 404 NOT_FOUND passed on

    // By tag and tag hash.
    expect((await collect(client.query({ tag: ['step', 'b'] }))).map((r) => r.id)).toContain(b.id);
    expect((await collect(client.query({ hash: h('c') }))).map((r) => r.id)).toContain(c.id);

    // A range and the head (the dashboard's tail).
    const head = (await (await fetch(`${base}/log/head`, { headers: auth })).json()) as {
      lid: number;
    };
    expect(head.lid).toBeGreaterThanOrEqual(chain[2].lid);
    const page = (await (
      await fetch(`${base}/log?from=${a.lid}&limit=1000`, { headers: auth })
    ).json()) as { records: LogRecord[] };
    expect(page.records.filter((r) => r.seed === seed).map((r) => r.id)).toEqual([
      a.id,
      b.id,
      c.id,
    ]);

    // The stream (SDK tail), replayed from a's LId.
    const tailed: LogRecord[] = [];
    for await (const r of client.tail({ fromLid: a.lid! })) {
      tailed.push(r);
      if (r.lid === chain[2].lid) break;
    }
    expect(tailed.map((r) => r.lid)).toEqual(tailed.map((_, i) => a.lid! + i));
    expect(tailed.filter((r) => r.seed === seed)).toEqual(chain);

    // The batcher's own token check comes first.
    expect((await fetch(`${base}/log/head`)).status).toBe(401);
  });

  it('answers reads with 503 CHARIOTS_ERR_MAINTAINER_UNAVAILABLE while the maintainer is down, appends go on', async () => {
    await maintainer.kill();
    const t0 = Date.now();
    const res = await fetch(`${base}/records?seed=${seed}`, { headers: auth });
    expect(Date.now() - t0).toBeLessThan(10000);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('CHARIOTS_ERR_MAINTAINER_UNAVAILABLE');
    expect(body.error.message).toContain(maintainerUrl);

    const d = await client.append({ seed, tags: { step: 'd' }, prehash: hashTag('step', 'c') });

    await maintainer.start(180000);
    // It resumes from its store and the log: the record appended meanwhile is readable too.
    const all = await eventually(async () => {
      const rs = await collect(client.query({ seed }));
      return rs.length === 4 ? rs : undefined;
    });
    expect(all.map((r) => r.id)).toEqual([...chain.map((r) => r.id), d.id]);
  });
});
