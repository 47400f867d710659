/**
 * Exactly one active sequencer: a second instance is a hot standby that takes over when the
 * active one is killed (-9), continuing the LIds densely; the fencing makes a double writer
 * impossible (checked by the log: no gap, no duplicate LId or id).
 */
import { runStages, type RunningStages } from '../../src/runtime/run-stages';
import { StageProcess } from '../helpers/stage-process';
import { sleep, testEnvironment, testLogger, waitForLog } from '../helpers/cluster';
import { ingestMessages, testProducer } from '../helpers/ingest';

describe('sequencer hot standby', () => {
  let env: Awaited<ReturnType<typeof testEnvironment>>;
  let running: RunningStages;
  const procs: StageProcess[] = [];

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await running?.close();
  });

  it('takes over within seconds of a kill -9 and continues the LIds densely', async () => {
    env = await testEnvironment('standby');
    const childEnv = {
      KAFKA_BROKERS: env.config.kafka.brokers.join(','),
      CHARIOTS_TOPIC_PREFIX: env.prefix,
    };
    const a = new StageProcess('sequencer', childEnv);
    const b = new StageProcess('sequencer', childEnv);
    procs.push(a, b);
    await a.start();
    await b.start();
    running = await runStages(env.config, ['filter', 'queue'], testLogger);
    const producer = await testProducer(env.kafka);
    const send = (from: number, n: number) =>
      producer.sendMany(
        ingestMessages(
          env.topics.ingest,
          Array.from({ length: n }, (_, i) => ({
            id: `s${from + i}`,
            seed: String((from + i) % 7),
            tags: { i: String(from + i) },
          })),
        ),
      );

    await send(0, 300);
    await waitForLog(env.kafka, env.topics.log, 300);
    // Which one is active now (the partition may have moved once when the second joined).
    const isActive = (p: StageProcess) =>
      p.logs.lastIndexOf('"msg":"sequencer active"') >
      p.logs.lastIndexOf('"msg":"sequencer standby"');
    expect([a, b].filter(isActive)).toHaveLength(1);
    const active = [a, b].find(isActive) as StageProcess;
    const standby = active === a ? b : a;
    const activationsBefore = standby.logs.split('"msg":"sequencer active"').length;

    await active.kill();
    const killedAt = Date.now();
    await send(300, 300);
    const log = await waitForLog(env.kafka, env.topics.log, 600, 60000);
    const tookOverMs = Date.now() - killedAt;
    await producer.close();
    expect(standby.logs.split('"msg":"sequencer active"').length).toBeGreaterThan(
      activationsBefore,
    );
    expect(tookOverMs).toBeLessThan(30000);
    await sleep(1000);
    const final = await waitForLog(env.kafka, env.topics.log, 600, 1000);
    expect(final.map((r) => r.lid)).toEqual(final.map((_, i) => i + 1));
    expect(new Set(final.map((r) => r.id)).size).toBe(600);
    void log;
  }, 180000);
});
