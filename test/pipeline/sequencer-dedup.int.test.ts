/**
 * The sequencer is the log's only writer, so it is the last place a second copy of a record
 * can be kept out of the log (docs/reliability.md: a queue failover released records twice).
 * Here `released` holds copies on purpose: records the log already has (from before the
 * sequencer started, so known only through its read of the log tail), a copy within one
 * batch, and copies that arrive after a restart of the sequencer.
 */
import { BatchingProducer } from '../../src/kafka';
import { encodeIngest, encodeLog, type IngestRecord } from '../../src/record';
import { runStages, type RunningStages } from '../../src/runtime/run-stages';
import { readAll, sleep, testEnvironment, testLogger } from '../helpers/cluster';

const rec = (i: number): IngestRecord => ({
  id: `r${i}`,
  host: 1,
  seed: '7',
  prehash: [],
  parent: [],
  tags: { i: String(i) },
  receivedAt: new Date().toISOString(),
});

async function logIds(env: Awaited<ReturnType<typeof testEnvironment>>, n: number) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const log = (await readAll(env.kafka, env.topics.log)).map(
      (m) => JSON.parse(m.value!.toString()) as { id: string; lid: number },
    );
    if (log.length >= n || Date.now() > deadline) {
      await sleep(1500); // anything appended late would show up now
      return (await readAll(env.kafka, env.topics.log)).map(
        (m) => JSON.parse(m.value!.toString()) as { id: string; lid: number },
      );
    }
    await sleep(300);
  }
}

describe('sequencer drops records the log already holds', () => {
  let running: RunningStages | undefined;
  let producer: BatchingProducer | undefined;
  afterEach(async () => {
    await running?.close();
    await producer?.close();
  });

  it('appends each id once: copies before, within a batch and after a restart', async () => {
    const env = await testEnvironment('seq-dedup');
    producer = new BatchingProducer(env.kafka, {
      lingerMs: 1,
      maxBatchMessages: 100,
      maxPending: 1000,
      logger: testLogger,
    });
    await producer.connect();
    const release = (i: number) =>
      producer!.send({
        topic: env.topics.released,
        partition: 0,
        key: `r${i}`,
        value: encodeIngest(rec(i)),
      });
    // The log already holds r0 and r1, written without a released-offset header: the new
    // sequencer starts at released offset 0 and meets them again.
    for (let i = 0; i < 2; i++) {
      const r = { ...rec(i), lid: i + 1, toid: i + 1, appendedAt: new Date().toISOString() };
      await producer.send({
        topic: env.topics.log,
        partition: 0,
        key: r.id,
        value: encodeLog(r),
        headers: { lid: String(i + 1), vc: JSON.stringify({ 1: i + 1 }) },
      });
    }
    for (const i of [0, 1, 2, 3, 3, 4, 1]) await release(i);
    running = await runStages(env.config, ['sequencer'], testLogger);
    const first = await logIds(env, 5);
    expect(first.map((r) => r.id)).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
    expect(first.map((r) => r.lid)).toEqual([1, 2, 3, 4, 5]);

    await running.close();
    running = await runStages(env.config, ['sequencer'], testLogger);
    for (const i of [4, 2, 5]) await release(i);
    const second = await logIds(env, 6);
    expect(second.map((r) => r.id)).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5']);
    expect(second.map((r) => r.lid)).toEqual([1, 2, 3, 4, 5, 6]);
  }, 90_000);
});
