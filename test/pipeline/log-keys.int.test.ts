/**
 * The queues build their log index from `logkeys` (src/record/log-keys.ts), which the
 * sequencer writes with the log. Against the real broker: a log written before that topic
 * existed (an upgrade), and a `logkeys` that lacks LIds the log has, are filled in from the
 * log, so records waiting on those log records are still released, in causal order.
 */
import type { BatchingProducer } from '../../src/kafka';
import {
  decodeLogKeys,
  encodeIngest,
  encodeLog,
  encodeLogKeys,
  hashTag,
  logKeysOf,
  type IngestRecord,
  type LogRecord,
} from '../../src/record';
import { runStages, type RunningStages } from '../../src/runtime/run-stages';
import {
  readAll,
  sleep,
  testEnvironment,
  testLogger,
  uniquePrefix,
  waitForLog,
} from '../helpers/cluster';
import { testProducer } from '../helpers/ingest';

const SEED = '18446744073709551615';

const ingest = (id: string, extra: Partial<IngestRecord> = {}): IngestRecord => ({
  id,
  host: 1,
  seed: SEED,
  prehash: [],
  parent: [],
  tags: { name: id },
  receivedAt: new Date().toISOString(),
  ...extra,
});

const logged = (id: string, lid: number): LogRecord => ({
  ...ingest(id),
  lid,
  toid: lid,
  appendedAt: new Date().toISOString(),
});

describe('the queue log index from logkeys, filled in from the log', () => {
  const running: RunningStages[] = [];
  let producer: BatchingProducer | undefined;
  afterEach(async () => {
    for (const r of running.splice(0)) await r.close();
    await producer?.close();
    producer = undefined;
  });

  it('reads log records that logkeys lacks: at start (upgrade) and on a gap while running', async () => {
    // Deferred records must not be dead-lettered while the test waits for them.
    const env = await testEnvironment('logkeys-fill', { queue: { deferTimeoutMs: 600_000 } });
    producer = await testProducer(env.kafka);
    const toLog = (r: LogRecord) => ({
      topic: env.topics.log,
      partition: 0,
      key: r.id,
      value: encodeLog(r),
      headers: { lid: String(r.lid) },
    });
    const toIngest = (r: IngestRecord) => ({
      topic: env.topics.ingest,
      partition: 0,
      key: r.seed,
      value: encodeIngest(r),
    });
    const waitsFor = (id: string) => ({ prehash: [hashTag('name', id)] });

    // A log from before logkeys existed: one record, nothing in logkeys.
    await producer.sendMany([toLog(logged('old-1', 1))]);
    const queue = await runStages(env.config, ['filter', 'queue'], testLogger);
    running.push(queue);
    let sequencer = await runStages(env.config, ['sequencer'], testLogger);
    await producer.sendMany([toIngest(ingest('new-2', waitsFor('old-1')))]);
    let log = await waitForLog(env.kafka, env.topics.log, 2, 30_000);
    expect(log.map((r) => [r.id, r.lid])).toEqual([
      ['old-1', 1],
      ['new-2', 2],
    ]);
    // The sequencer wrote logkeys for what it appended, and only that.
    const keys = (await readAll(env.kafka, env.topics.logkeys))
      .filter((m) => m.value)
      .flatMap((m) => decodeLogKeys(m.value as Buffer));
    expect(keys.map((k) => [k.id, k.lid])).toEqual([['new-2', 2]]);

    // While the queue runs: LIds 3 and 4 reach the log, but logkeys only learns of 4 (as an
    // older sequencer next to a newer one would leave it). The gap sends the queue to the log.
    await sequencer.close();
    await producer.sendMany([toLog(logged('old-3', 3)), toLog(logged('old-4', 4))]);
    await producer.sendMany([
      {
        topic: env.topics.logkeys,
        partition: 0,
        key: null,
        value: encodeLogKeys([logKeysOf(logged('old-4', 4))])[0],
      },
    ]);
    sequencer = await runStages(env.config, ['sequencer'], testLogger);
    running.push(sequencer);
    await producer.sendMany([toIngest(ingest('new-5', waitsFor('old-3')))]);
    log = await waitForLog(env.kafka, env.topics.log, 5, 30_000);
    expect(log.map((r) => [r.id, r.lid])).toEqual([
      ['old-1', 1],
      ['new-2', 2],
      ['old-3', 3],
      ['old-4', 4],
      ['new-5', 5],
    ]);

    // A queue started now reads logkeys from LId 2 on: the log fills in LId 1 first.
    await queue.close();
    running.splice(running.indexOf(queue), 1);
    running.push(await runStages(env.config, ['filter', 'queue'], testLogger));
    await producer.sendMany([toIngest(ingest('new-6', waitsFor('old-1')))]);
    log = await waitForLog(env.kafka, env.topics.log, 6, 30_000);
    expect(log.map((r) => r.id)).toEqual(['old-1', 'new-2', 'old-3', 'old-4', 'new-5', 'new-6']);
    await sleep(200);
  }, 120_000);

  it('a stage refuses to start, naming them, while topics are missing (topics apply not run)', async () => {
    const env = await testEnvironment('logkeys-missing');
    const config = { ...env.config, topicPrefix: uniquePrefix('never-applied') };
    await expect(runStages(config, ['sequencer'], testLogger)).rejects.toMatchObject({
      code: 'CHARIOTS_ERR_TOPIC_MISSING',
      message: expect.stringContaining(`${config.topicPrefix}logkeys`),
    });
  }, 60_000);
});
