import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openTestStore } from '../../src/flstore/test-store';
import { runStages, type RunningStages } from '../../src/runtime/run-stages';
import { sleep, testEnvironment, testLogger, waitForLog } from '../helpers/cluster';
import { freePort } from '../helpers/stage-process';
import { getJson, maintainerProcess, produceAll, until, workload } from './helpers';

const N = 6000;

/** kill -9 a maintainer process at random moments while the log grows; nothing is lost or doubled. */
describe('maintainer crash safety', () => {
  let env: Awaited<ReturnType<typeof testEnvironment>>;
  let pipeline: RunningStages;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'flstore-crash-'));
    env = await testEnvironment('flcrash');
    pipeline = await runStages(env.config, ['filter', 'queue', 'sequencer'], testLogger);
  });
  afterAll(async () => {
    await pipeline?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('recovers from kill -9 at random moments with every record once and every checksum valid', async () => {
    const { proc: maint, url, storeDir } = maintainerProcess(env, dataDir, await freePort());
    let producing = true;
    const producer = (async () => {
      for (let i = 0; i < N; i += 500) {
        await produceAll(env.kafka, env.topics.ingest, workload(500, i));
        await sleep(300);
      }
      producing = false;
    })();
    let kills = 0;
    while (producing || kills < 6) {
      await maint.start();
      await sleep(200 + Math.floor(Math.random() * 1500));
      await maint.kill('SIGKILL');
      kills++;
    }
    await producer;
    const log = await waitForLog(env.kafka, env.topics.log, N, 180000);
    expect(log).toHaveLength(N);

    await maint.start();
    await until(async () => (await getJson(`${url}/record/${N}`)).status === 200);
    await maint.stop();
    expect(maint.logs).not.toContain('"level":50');

    const store = await openTestStore(storeDir);
    try {
      expect(store.lastLid()).toBe(N);
      expect(await store.range(1, N + 10)).toEqual(log); // every frame's CRC is checked on read
      expect(store.stats().ids).toBe(N);
    } finally {
      await store.close();
    }
  }, 600000);
});
