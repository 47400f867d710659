/**
 * The SDK against the real pipeline (batcher, filter, queue, sequencer and maintainer in one
 * process on the real broker, as `chariots dev` runs them): a causal chain appended with
 * waitAppended, then read back by LId, tag, seed, hash and id, and tailed from LId 1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChariotsClient, hashTag, type LogRecord } from '../../src/client';
import { runStages, type RunningStages } from '../../src/runtime/run-stages';
import type { BatcherHandle } from '../../src/stages/batcher';
import { sleep, testEnvironment, testLogger } from '../helpers/cluster';

const SEED = 18446744073709551615n;

async function eventually<T>(f: () => Promise<T | undefined>, timeoutMs = 30000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out waiting for the store');
    await sleep(100);
  }
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('ChariotsClient against the pipeline', () => {
  let env: Awaited<ReturnType<typeof testEnvironment>>;
  let running: RunningStages;
  let dataDir: string;
  let client: ChariotsClient;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'sdk-int-'));
    env = await testEnvironment('sdk', { dataDir, maintainer: { port: 0 } });
    running = await runStages(
      env.config,
      ['batcher', 'filter', 'queue', 'sequencer', 'maintainer'],
      testLogger,
    );
    client = new ChariotsClient({
      url: (running.handles.batcher as BatcherHandle).httpUrl,
      backoffMs: 50,
    });
  });
  afterAll(async () => {
    await running?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('appends a causal chain, reads it by lid, tag, seed, hash and id, and tails it from lid 1', async () => {
    // Step 2 arrives first and must wait for step 1 (same seed, prehash of step:1).
    const step2 = await client.append({
      tags: { step: '2' },
      seed: SEED,
      prehash: hashTag('step', '1'),
    });
    await sleep(500);
    const step1 = await client.append({ tags: { step: '1' }, seed: SEED }, { waitAppended: true });
    const step3 = await client.append(
      { tags: { step: '3' }, seed: SEED.toString(), parent: step2.id },
      { waitAppended: true, timeoutMs: 30000 },
    );
    expect(step1.lid).toBeGreaterThanOrEqual(1);
    expect(step3.lid).toBeGreaterThan(step1.lid!);

    // Reads come from flstore, which may trail the log by a moment.
    const r3 = await eventually(() => client.get(step3.lid!));
    expect(r3).toMatchObject({
      id: step3.id,
      lid: step3.lid,
      seed: '18446744073709551615',
      parent: [step2.id],
      tags: { step: '3' },
    });
    expect(await client.get(step3.lid! + 1000)).toBeUndefined();

    const [r2] = await collect(client.query({ id: step2.id }));
    expect(r2).toMatchObject({ prehash: [hashTag('step', '1')], seed: '18446744073709551615' });
    expect(r2.lid).toBeGreaterThan(step1.lid!);
    expect(r2.lid).toBeLessThan(step3.lid!);

    const byTag = await collect(client.query({ tag: ['step', '2'] }));
    expect(byTag.map((r) => r.id)).toEqual([step2.id]);
    const byHash = await collect(client.query({ hash: hashTag('step', '1') }));
    expect(byHash.map((r) => r.id)).toEqual([step1.id]);
    const bySeed = await collect(client.query({ seed: SEED }, { pageSize: 1 }));
    expect(bySeed.map((r) => r.id)).toEqual([step1.id, step2.id, step3.id]);
    expect(bySeed.map((r) => r.lid)).toEqual([step1.lid, r2.lid, step3.lid]);

    // An append retried with the same id is in the log once.
    await client.append({ id: step3.id, tags: { step: '3' }, seed: SEED, parent: step2.id });
    const batch = await client.appendBatch([{ tags: { b: '1' } }, { tags: { b: '2' } }]);
    expect(batch.every((b) => b.error === undefined)).toBe(true);
    const last = await client.append({ tags: { sentinel: '1' } }, { waitAppended: true });

    const seen: LogRecord[] = [];
    for await (const r of client.tail({ fromLid: 1 })) {
      seen.push(r);
      if (r.lid === last.lid) break;
    }
    expect(seen.map((r) => r.lid)).toEqual(seen.map((_, i) => i + 1));
    expect(seen.filter((r) => r.id === step3.id)).toHaveLength(1);
    const chain = seen.filter((r) => r.seed === '18446744073709551615').map((r) => r.tags.step);
    expect(chain).toEqual(['1', '2', '3']);
    expect(seen.filter((r) => batch.some((b) => b.id === r.id))).toHaveLength(2);
    const tailFrom = await (async () => {
      for await (const r of client.tail({ fromLid: step3.lid! })) return r;
    })();
    expect(tailFrom?.id).toBe(step3.id);
  });
});
