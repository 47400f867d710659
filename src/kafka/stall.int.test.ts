import pino from 'pino';
import { Health } from '../health';
import { createApp } from '../http/app';
import { sleep, testEnvironment, testLogger } from '../../test/helpers/cluster';
import { BatchingProducer } from './producer';
import { TransactionalStage } from './transactional';

const STALL_MS = 2000;

it('/readyz turns false with a reason while a stage is stuck with records waiting, true again after', async () => {
  const env = await testEnvironment('stall');
  let gate: Promise<void> | undefined;
  let release = () => undefined as void;
  let processed = 0;
  const stage = new TransactionalStage({
    kafka: env.kafka,
    groupId: `${env.topics.ingest}.stall-test`,
    topic: env.topics.ingest,
    transactionalIdPrefix: `${env.topics.filtered}.stall-test`,
    stage: 'test',
    logger: testLogger,
    stallMs: STALL_MS,
    process: async (batch) => {
      if (gate) await gate;
      processed += batch.messages.length;
    },
  });
  const producer = new BatchingProducer(env.kafka, {
    lingerMs: 2,
    maxBatchMessages: 100,
    maxPending: 1000,
    logger: testLogger,
  });
  const health = new Health();
  health.register('stage', () => stage.readiness());
  const app = createApp({ logger: pino({ level: 'silent' }), health, bodyLimitBytes: 1024 });
  const readyz = async () => {
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    return { status: res.statusCode, body: res.json() };
  };
  const until = async (cond: () => Promise<boolean> | boolean, ms: number) => {
    const end = Date.now() + ms;
    while (!(await cond()) && Date.now() < end) await sleep(100);
    return cond();
  };
  try {
    await producer.connect();
    await stage.start();
    const send = (n: number, from: number) =>
      Promise.all(
        Array.from({ length: n }, (_, i) =>
          producer.send({ topic: env.topics.ingest, key: `k${i % 3}`, value: `v${from + i}` }),
        ),
      );
    await send(10, 0);
    expect(await until(() => processed === 10, 60000)).toBe(true);
    await sleep(STALL_MS + 1000);
    expect((await readyz()).status).toBe(200);

    gate = new Promise<void>((r) => (release = r));
    const t0 = Date.now();
    await send(10, 10);
    // Sampling the end offsets takes admin round trips: generous on a loaded machine.
    expect(await until(async () => (await readyz()).status === 503, STALL_MS + 20000)).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(STALL_MS - 500);
    const { body } = await readyz();
    expect(body.checks.stage).toBe(false);
    expect(body.reasons.stage).toMatch(/stuck: \d+ records waiting .*no progress for \d+ ms/);

    gate = undefined;
    release();
    expect(await until(() => processed === 20, 30000)).toBe(true);
    expect(await until(async () => (await readyz()).status === 200, 5000)).toBe(true);
  } finally {
    release();
    await stage.close();
    await producer.close();
    await app.close();
  }
}, 120000);
