import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contentHash } from '../../src/flstore';
import { openTestStore } from '../../src/flstore/test-store';
import { decodeLog, type PublicRecord } from '../../src/record';
import { runStages, type RunningStages } from '../../src/runtime/run-stages';
import { readAll, testEnvironment, testLogger, waitForLog } from '../helpers/cluster';
import { freePort } from '../helpers/stage-process';
import { getJson, maintainerProcess, produceAll, pub, until, workload } from './helpers';

const N = 1000;
type Page = { records: PublicRecord[]; next?: number };

/**
 * Two maintainers over one real pipeline. The design (docs/flstore.md) makes every maintainer
 * a full replica of the single log partition: no ownership to hand over, so "taking over"
 * means the survivor alone keeps serving every record, and the killed one catches up from
 * the offset stored in its last frame when it comes back.
 */
describe('two maintainers sharing the log', () => {
  let env: Awaited<ReturnType<typeof testEnvironment>>;
  let pipeline: RunningStages;
  const dirs: string[] = [];
  const replicas: ReturnType<typeof maintainerProcess>[] = [];

  beforeAll(async () => {
    env = await testEnvironment('flrepl');
    pipeline = await runStages(env.config, ['filter', 'queue', 'sequencer'], testLogger);
    for (let i = 0; i < 2; i++) {
      const dataDir = mkdtempSync(join(tmpdir(), `flstore-replica${i}-`));
      dirs.push(dataDir);
      replicas.push(maintainerProcess(env, dataDir, await freePort()));
    }
    await Promise.all(replicas.map((r) => r.proc.start()));
  });
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.proc.kill()));
    await pipeline?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const stored = async (url: string, lid: number) =>
    (await getJson(`${url}/record/${lid}`).catch(() => ({ status: 0 }))).status === 200;

  /** The whole log as one replica serves it, page by page, plus one tag query. */
  async function served(url: string) {
    const log: PublicRecord[] = [];
    for (let from: number | undefined = 1; from !== undefined;) {
      const page: Page = (await getJson<Page>(`${url}/log?from=${from}&limit=1000`)).body;
      log.push(...page.records);
      from = page.next;
    }
    const tagged: PublicRecord[] = [];
    for (let after: number | undefined = 0; after !== undefined;) {
      const page: Page = (await getJson<Page>(`${url}/records?tag=k:v1&after=${after}&limit=1000`))
        .body;
      tagged.push(...page.records);
      after = page.next;
    }
    return { log, tagged };
  }

  async function expectServesAll(url: string, count: number) {
    const log = await waitForLog(env.kafka, env.topics.log, count, 60000);
    expect(log).toHaveLength(count);
    await until(() => stored(url, count), 60000);
    expect(await stored(url, count + 1)).toBe(false);
    expect(await served(url)).toEqual({
      log: log.map(pub),
      tagged: log.filter((r) => r.tags.k === 'v1').map(pub),
    });
  }

  it('both serve every record; the survivor serves all while one is down; the restarted one catches up from its offset', async () => {
    const [a, b] = replicas;
    await produceAll(env.kafka, env.topics.ingest, workload(N, 0));
    await expectServesAll(a.url, N);
    await expectServesAll(b.url, N);

    // Where A must resume: right after the Kafka offset of the last record it stored.
    const lidN = (await readAll(env.kafka, env.topics.log)).find(
      (m) => m.value && decodeLog(m.value).lid === N,
    )!;
    await a.proc.kill('SIGKILL');
    expect(await stored(a.url, 1)).toBe(false); // really down

    await produceAll(env.kafka, env.topics.ingest, workload(N, N));
    await expectServesAll(b.url, 2 * N);

    await a.proc.start();
    expect(a.proc.logs).toContain(`"lastLid":${N},"from":{"0":"${BigInt(lidN.offset) + 1n}"}`);
    await expectServesAll(a.url, 2 * N);
    await Promise.all(replicas.map((r) => r.proc.stop()));
    for (const r of replicas) expect(r.proc.logs).not.toContain('"level":50');

    // Identical replicas, every frame's checksum verified, every record once.
    const opened = [];
    for (const r of replicas) opened.push(await openTestStore(r.storeDir));
    try {
      const hashes = await Promise.all(opened.map((s) => contentHash(s)));
      expect(hashes[0]).toBe(hashes[1]);
      for (const s of opened) {
        expect(s.lastLid()).toBe(2 * N);
        const ids = (await s.range(1, 3 * N)).map((r) => r.id);
        expect(new Set(ids).size).toBe(2 * N);
      }
    } finally {
      for (const s of opened) await s.close();
    }
  }, 120000);
});
