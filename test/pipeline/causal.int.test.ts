import type { BatchingProducer } from '../../src/kafka';
import { Health } from '../../src/health';
import { hashTag, type LogRecord } from '../../src/record';
import { runStages, type RunningStages } from '../../src/runtime/run-stages';
import { readAll, testEnvironment, testLogger, waitForLog, sleep } from '../helpers/cluster';
import { ingestMessages, testProducer } from '../helpers/ingest';

/** The pipeline (filter → queue → sequencer) against the real broker, fed by direct Kafka produce. */
describe('causal pipeline', () => {
  let env: Awaited<ReturnType<typeof testEnvironment>>;
  let running: RunningStages;
  let producer: BatchingProducer;

  beforeAll(async () => {
    env = await testEnvironment('causal', { queue: { deferTimeoutMs: 4000, scanIntervalMs: 200 } });
    running = await runStages(env.config, ['filter', 'queue', 'sequencer'], testLogger);
    producer = await testProducer(env.kafka);
  });
  afterAll(async () => {
    await producer?.close();
    await running?.close();
  });
  void Health;

  const produce = (records: object[]) =>
    producer.sendMany(ingestMessages(env.topics.ingest, records));

  it('appends a record after its prerequisite even when it arrives first; a wrong seed is deferred then dead-lettered', async () => {
    const seed = '9489172654252433228';
    const h = hashTag('k1', 'v1');
    expect(h).toBe('9489172654252433228');
    // Raw JSON with uint64 as bare numbers, as an application would produce it.
    await producer.sendMany([
      {
        topic: env.topics.ingest,
        key: seed,
        value: `{"id":"dependent","tags":{"k2":"v2"},"seed":${seed},"prehash":${h}}`,
      },
      {
        topic: env.topics.ingest,
        key: '1',
        value: `{"id":"other-seed","tags":{"k3":"v3"},"seed":1,"prehash":${h}}`,
      },
    ]);
    await sleep(1500);
    await produce([{ id: 'prereq', tags: { k1: 'v1' }, seed }]);
    const log = await waitForLog(env.kafka, env.topics.log, 2);
    const byId = new Map(log.map((r) => [r.id, r]));
    expect(byId.get('prereq')?.lid).toBe(1);
    expect(byId.get('dependent')?.lid).toBe(2);
    expect(byId.get('dependent')?.seed).toBe(seed);
    expect(byId.get('dependent')?.prehash).toEqual([h]);
    expect(byId.has('other-seed')).toBe(false);

    // Dead-lettered after the (shortened) deferral timeout, with the reason.
    const deadline = Date.now() + 20000;
    let dead: { record?: { id: string }; reason: string }[] = [];
    while (Date.now() < deadline && dead.length === 0) {
      dead = (await readAll(env.kafka, env.topics.deadletter))
        .filter((m) => m.value)
        .map((m) => JSON.parse(m.value!.toString()));
      await sleep(300);
    }
    expect(dead.map((d) => d.record?.id)).toEqual(['other-seed']);
    expect(dead[0].reason).toContain(`prehash ${h} (seed 1)`);
    expect((await waitForLog(env.kafka, env.topics.log, 2)).length).toBe(2);
  });

  it('dedupes ids, requires every prerequisite, and numbers densely', async () => {
    const base = (await waitForLog(env.kafka, env.topics.log, 0, 1)).length;
    await produce([
      {
        id: 'multi',
        seed: '7',
        tags: { m: '1' },
        prehash: [hashTag('a', '1'), hashTag('b', '2')],
        parent: ['par'],
      },
      { id: 'a', seed: '7', tags: { a: '1' } },
      { id: 'a', seed: '7', tags: { a: '1' } },
      { id: 'a', seed: '7', tags: { a: '1' } },
      { id: 'b', seed: '7', tags: { b: '2' } },
    ]);
    await sleep(1500);
    let log = await waitForLog(env.kafka, env.topics.log, base + 2);
    expect(log.map((r) => r.id)).not.toContain('multi');
    await produce([{ id: 'par', seed: '8', tags: {} }]);
    log = await waitForLog(env.kafka, env.topics.log, base + 4);
    expect(log.length).toBe(base + 4);
    expect(log.map((r: LogRecord) => r.lid)).toEqual(log.map((_, i) => i + 1));
    const lid = (id: string) => log.find((r) => r.id === id)!.lid;
    expect(log.filter((r) => r.id === 'a')).toHaveLength(1);
    expect(lid('multi')).toBeGreaterThan(Math.max(lid('a'), lid('b'), lid('par')));
  });
});
