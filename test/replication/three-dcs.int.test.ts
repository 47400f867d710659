/**
 * Three datacenters on one broker (topic prefixes), each a full pipeline with a sender to
 * the two others, records with cross-datacenter dependencies, and a peer's sender stopped
 * for a while: every log ends up with the same records, each after its causal predecessors
 * and each origin in TOId order (checked by the same verifier `chariots verify` uses).
 */
import { randomBytes } from 'node:crypto';
import { createKafkaClient, topicNames } from '../../src/kafka';
import { hashTag } from '../../src/record';
import { runStages, type RunningStages } from '../../src/runtime/run-stages';
import { summaryLine, verifyLogs } from '../../src/verify/causal-check';
import { readLog, sleep, testLogger } from '../helpers/cluster';
import { datacenters } from '../helpers/datacenters';
import { ingestMessages, testProducer } from '../helpers/ingest';

const DCS = [1, 2, 3];

describe('three datacenters', () => {
  const running = new Map<number, RunningStages>();
  const dcs = datacenters(
    `t-rep-${randomBytes(3).toString('hex')}-`,
    (process.env.KAFKA_BROKERS ?? '').split(','),
  );
  const { prefix } = dcs;
  const configFor = (dc: number, stages: 'all' | 'noSender' = 'all') =>
    dcs.configFor(dc, { replication: { peers: stages === 'all' ? dcs.peersOf(dc, DCS) : [] } });
  const kafka = createKafkaClient(configFor(1).kafka, testLogger);
  const logOf = (dc: number) => readLog(kafka, topicNames(prefix(dc)).log);

  afterAll(async () => {
    for (const r of running.values()) await r.close();
  });

  it('replicates causally, survives a stopped sender, and all logs converge', async () => {
    await dcs.applyTopics(kafka, DCS);
    for (const dc of DCS)
      running.set(
        dc,
        await runStages(configFor(dc), ['filter', 'queue', 'sequencer', 'sender'], testLogger),
      );
    const producer = await testProducer(kafka);
    const post = (dc: number, records: object[]) =>
      producer.sendMany(ingestMessages(topicNames(prefix(dc)).ingest, records));

    // Cross-datacenter chains: DC2 waits for a DC1 record by prehash; DC3 waits for DC2's by parent.
    // The dependent records are posted FIRST, so they can only be appended once replication delivered.
    await post(3, [{ id: 'dc3-child', seed: '5', tags: { step: '3' }, parent: ['dc2-child'] }]);
    await post(2, [
      { id: 'dc2-child', seed: '5', tags: { step: '2' }, prehash: [hashTag('step', '1')] },
    ]);
    await sleep(1000);
    await post(1, [{ id: 'dc1-root', seed: '5', tags: { step: '1' } }]);
    // Background traffic in every datacenter.
    for (let i = 0; i < 3; i++)
      for (const dc of DCS)
        await post(
          dc,
          Array.from({ length: 100 }, (_, k) => ({
            id: `bg-${dc}-${i}-${k}`,
            seed: String(k % 10),
            tags: { k: String(k) },
          })),
        );

    // A peer's sender stops for a while (its datacenter keeps working) and comes back.
    await running.get(2)?.close();
    running.set(
      2,
      await runStages(configFor(2, 'noSender'), ['filter', 'queue', 'sequencer'], testLogger),
    );
    await post(
      2,
      Array.from({ length: 200 }, (_, k) => ({
        id: `while-down-${k}`,
        seed: '7',
        tags: { w: String(k) },
        ...(k > 0 ? { prehash: [hashTag('w', String(k - 1))] } : {}),
      })),
    );
    await sleep(3000);
    expect((await logOf(1)).some((r) => r.id.startsWith('while-down'))).toBe(false);
    await running.get(2)?.close();
    running.set(
      2,
      await runStages(configFor(2), ['filter', 'queue', 'sequencer', 'sender'], testLogger),
    );
    await producer.close();

    const expected = 1 + 1 + 1 + 900 + 200;
    const deadline = Date.now() + 90000;
    let logs = await Promise.all(DCS.map(async (dc) => ({ dcId: dc, records: await logOf(dc) })));
    while (Date.now() < deadline && logs.some((l) => l.records.length < expected)) {
      await sleep(1000);
      logs = await Promise.all(DCS.map(async (dc) => ({ dcId: dc, records: await logOf(dc) })));
    }
    const report = verifyLogs(logs);
    testLogger.warn(summaryLine(report));
    expect(report.problems).toEqual([]);
    expect(logs.map((l) => l.records.length)).toEqual([expected, expected, expected]);
    for (const l of logs) {
      const lid = (id: string) => l.records.find((r) => r.id === id)!.lid;
      expect(lid('dc2-child')).toBeGreaterThan(lid('dc1-root'));
      expect(lid('dc3-child')).toBeGreaterThan(lid('dc2-child'));
    }
  }, 240000);
});
