/**
 * `filtered` and `released` carry packs of records (src/record/pack.ts). Against the real
 * broker: the filter forwards a batcher's v1 bytes unchanged and packs a batch's records;
 * the queue and the sequencer read packs, plain single records (messages written before
 * packing, re-drives) and skip a corrupt pack without blocking the partition.
 */
import type { BatchingProducer } from '../../src/kafka';
import { encodeIngest, encodePack, hashTag, isPack, type IngestRecord } from '../../src/record';
import { runStages, type RunningStages } from '../../src/runtime/run-stages';
import {
  readAll,
  readRecordValues,
  sleep,
  untilCount,
  testEnvironment,
  testLogger,
  waitForLog,
} from '../helpers/cluster';
import { testProducer } from '../helpers/ingest';

const rec = (i: number, extra: Partial<IngestRecord> = {}): IngestRecord => ({
  id: `r${i}`,
  host: 1,
  seed: '18446744073709551615',
  prehash: [],
  parent: [],
  tags: { pos: String(i) },
  receivedAt: new Date().toISOString(),
  ...extra,
});

describe('packs on the internal topics', () => {
  let running: RunningStages | undefined;
  let producer: BatchingProducer | undefined;
  afterEach(async () => {
    await running?.close();
    await producer?.close();
    running = undefined;
    producer = undefined;
  });

  it('filter: forwards v1 bytes as received, encodes raw JSON, packs a batch per partition', async () => {
    const env = await testEnvironment('packs-filter');
    producer = await testProducer(env.kafka);
    const v1 = [0, 1, 2].map((i) => encodeIngest(rec(i)));
    await producer.sendMany([
      ...v1.map((value) => ({ topic: env.topics.ingest, partition: 3, key: '1', value })),
      {
        topic: env.topics.ingest,
        partition: 3,
        key: '1',
        value: '{"id":"raw","tags":{"a":"b"},"seed":18446744073709551615}',
      },
      // A retry of r1: dropped by the dedup window.
      { topic: env.topics.ingest, partition: 3, key: '1', value: v1[1] },
    ]);
    running = await runStages(env.config, ['filter'], testLogger);
    const records = await untilCount(() => readRecordValues(env.kafka, env.topics.filtered), 4);
    await sleep(1000);
    const messages = await readAll(env.kafka, env.topics.filtered);
    const all = await readRecordValues(env.kafka, env.topics.filtered);
    expect(records.length).toBe(4);
    expect(all.every((m) => m.partition === 3)).toBe(true);
    expect(all.slice(0, 3).map((m) => m.value)).toEqual(v1);
    expect(JSON.parse(all[3].value!.toString())).toMatchObject({
      v: 1,
      id: 'raw',
      seed: '18446744073709551615',
    });
    // Everything sat in ingest before the filter started: one batch, one transaction.
    expect(messages.filter((m) => m.value).length).toBeLessThan(4);
    expect(messages.some((m) => m.value && isPack(m.value))).toBe(true);
  }, 60_000);

  it('queue and sequencer: read packs and plain records alike, skip a corrupt pack, keep causal order', async () => {
    const env = await testEnvironment('packs-queue');
    producer = await testProducer(env.kafka);
    const v = (i: number, extra?: Partial<IngestRecord>) => encodeIngest(rec(i, extra));
    const corrupt = encodePack([v(90), v(91)]).subarray(0, 30);
    const send = (value: Buffer) =>
      producer!.send({ topic: env.topics.filtered, partition: 0, key: 'x', value });
    // r5 depends on r4, which comes later in the same partition: deferred, then released.
    await send(v(0));
    await send(encodePack([v(1), v(2), v(3)]));
    await send(corrupt);
    await send(encodePack([v(5, { prehash: [hashTag('pos', '4')] }), v(4)]));
    running = await runStages(env.config, ['queue', 'sequencer'], testLogger);
    const log = await waitForLog(env.kafka, env.topics.log, 6);
    await sleep(1000);
    expect(log.map((r) => r.id)).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5']);
    expect(log.map((r) => r.lid)).toEqual([1, 2, 3, 4, 5, 6]);
    // The log stays one record per message, each with its LId header.
    const logMessages = (await readAll(env.kafka, env.topics.log)).filter((m) => m.value);
    expect(logMessages.map((m) => m.headers.lid)).toEqual(['1', '2', '3', '4', '5', '6']);
    // What the queue released went out packed.
    const released = (await readAll(env.kafka, env.topics.released)).filter((m) => m.value);
    expect(released.length).toBeLessThan(6);
    expect((await readRecordValues(env.kafka, env.topics.released)).length).toBe(6);
  }, 60_000);
});
