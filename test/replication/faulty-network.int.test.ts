/**
 * Two datacenters whose senders reach each other only through fault-injecting relays (real
 * Kafka consumer + producer: duplicates, random and very long delays, copies into other
 * partitions), with causal dependencies across datacenters and DC1's sender stopped for
 * CHARIOTS_TEST_SENDER_STOP_MS (default 60 s) while both keep taking records. Once healed,
 * `chariots verify --dcs` must find both logs with the same records, no duplicate, each
 * origin in TOId order and causality intact; the replication lag (admin view and /metrics)
 * must grow while the sender is stopped and return to 0.
 *
 * DC2's queue dead-letters after 3 s while the relay holds some messages back 6 s: the
 * replicated records waiting behind them must not expire (they never do).
 */
import { randomBytes } from 'node:crypto';
import {
  applyTopics,
  createKafkaClient,
  GroupInspector,
  loadTopicDeclarations,
  topicNames,
} from '../../src/kafka';
import { hashTag, type LogRecord } from '../../src/record';
import { runStages, type RunningStages } from '../../src/runtime/run-stages';
import { summaryLine, verifyLogs } from '../../src/verify/causal-check';
import { runCli } from '../helpers/cli';
import { readAll, readLog, sleep, testLogger } from '../helpers/cluster';
import { datacenters } from '../helpers/datacenters';
import { startFaultRelay, type FaultRelay } from '../helpers/fault-relay';
import { ingestMessages, testProducer } from '../helpers/ingest';

const STOP_MS = Number(process.env.CHARIOTS_TEST_SENDER_STOP_MS ?? 60000);
const SEED = Number(process.env.CHARIOTS_TEST_RELAY_SEED ?? Date.now() % 1e9);

describe('replication through a faulty network', () => {
  const base = `t-relay-${randomBytes(3).toString('hex')}-`;
  const relayPrefix = (from: number, to: number) => `${base}r${from}${to}.`;
  const brokers = (process.env.KAFKA_BROKERS ?? '').split(',');
  const dcs = datacenters(base, brokers);
  const { prefix } = dcs;
  const configFor = (dc: number, admin: boolean) =>
    dcs.configFor(dc, {
      http: { adminEnabled: admin, adminPort: 0, adminHost: '127.0.0.1' },
      queue: { deferTimeoutMs: dc === 2 ? 3000 : 600000, scanIntervalMs: 200 },
      // Each sender writes into the relay, which forwards to the peer with faults.
      replication: { peers: [`${3 - dc}@${relayPrefix(dc, 3 - dc)}`] },
    });
  const kafka = createKafkaClient(configFor(1, false).kafka, testLogger);
  const core = new Map<number, RunningStages>();
  const senders = new Map<number, RunningStages>();
  const relays: FaultRelay[] = [];
  const startSender = async (dc: number) =>
    senders.set(dc, await runStages(configFor(dc, false), ['sender'], testLogger));
  const logOf = (dc: number) => readLog(kafka, topicNames(prefix(dc)).log);

  /** What each log holds, by id family, what the verifier says, and the dead letters. */
  const diagnose = async () => {
    const logs = [
      { dcId: 1, records: await logOf(1) },
      { dcId: 2, records: await logOf(2) },
    ];
    const families = (rs: LogRecord[]) => {
      const f: Record<string, number> = {};
      for (const r of rs) f[r.id.split('-')[0]] = (f[r.id.split('-')[0]] ?? 0) + 1;
      return f;
    };
    const dead = async (dc: number) =>
      (await readAll(kafka, topicNames(prefix(dc)).deadletter)).map((m) =>
        m.value?.toString().slice(0, 300),
      );
    testLogger.error(
      {
        families: logs.map((l) => families(l.records)),
        report: verifyLogs(logs),
        dead1: await dead(1),
        dead2: await dead(2),
        relays: relays.map((r) => r.stats),
      },
      'faulty network: diagnosis',
    );
  };

  afterAll(async () => {
    for (const r of relays) await r.close();
    for (const s of senders.values()) await s.close();
    for (const c of core.values()) await c.close();
  });

  it(
    'converges with no loss, no duplicate and causality intact once healed',
    async () => {
      const declarations = loadTopicDeclarations();
      for (const dc of [1, 2]) {
        await applyTopics(kafka, declarations, { prefix: prefix(dc), replicationFactor: 1 });
        await applyTopics(
          kafka,
          declarations.filter((d) => d.name === 'ingest'),
          { prefix: relayPrefix(dc, 3 - dc), replicationFactor: 1 },
        );
      }
      const partitions = declarations.find((d) => d.name === 'ingest')!.partitions;
      for (const [from, to] of [
        [1, 2],
        [2, 1],
      ])
        relays.push(
          await startFaultRelay({
            kafka,
            from: topicNames(relayPrefix(from, to)).ingest,
            to: topicNames(prefix(to)).ingest,
            partitions,
            seed: SEED + from,
            duplicateRate: 0.3,
            maxDelayMs: 300,
            longDelayRate: 0.01,
            longDelayMs: 6000,
            rekeyRate: 0.3,
            logger: testLogger,
          }),
        );
      for (const dc of [1, 2]) {
        core.set(
          dc,
          await runStages(configFor(dc, true), ['filter', 'queue', 'sequencer'], testLogger),
        );
        await startSender(dc);
      }

      const producer = await testProducer(kafka);
      const post = (dc: number, records: object[]) =>
        producer.sendMany(ingestMessages(topicNames(prefix(dc)).ingest, records));
      const waitFor = async (what: string, ok: () => Promise<boolean>, ms = 90000) => {
        const deadline = Date.now() + ms;
        while (!(await ok())) {
          if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
          await sleep(1000);
        }
      };
      const N = 200;
      const range = (n: number) => Array.from({ length: n }, (_, i) => i);

      // Phase 1: DC1's x_i reach DC2, which then writes y_i after x_i (it reads them in its
      // log: its own records never wait on the network, so the 3 s timeout is only about the
      // replicated ones); DC1 posts z_i after y_i at once, waiting there for y_i to arrive.
      await post(
        1,
        range(N).map((i) => ({ id: `x-${i}`, seed: String(i % 5), tags: { x: String(i) } })),
      );
      await post(
        2,
        range(N).map((i) => ({ id: `bg2-${i}`, seed: String(i % 7), tags: { b: String(i) } })),
      );
      await post(
        1,
        range(N).map((i) => ({
          id: `z-${i}`,
          seed: String(i % 5),
          tags: { z: String(i) },
          prehash: [hashTag('y', String(i))],
        })),
      );
      await waitFor(
        'x in DC2',
        async () => (await logOf(2)).filter((r) => r.host === 1).length >= N,
      );
      await post(
        2,
        range(N).map((i) => ({
          id: `y-${i}`,
          seed: String(i % 5),
          tags: { y: String(i) },
          prehash: [hashTag('x', String(i))],
        })),
      );
      await waitFor(
        'z in DC1',
        async () => (await logOf(1)).filter((r) => r.host === 1).length >= 2 * N,
      );

      // Phase 2: DC1's sender stops; both datacenters keep taking records.
      await senders.get(1)!.close();
      senders.delete(1);
      const C = 300;
      await post(
        1,
        range(C).map((i) => ({
          id: `c-${i}`,
          seed: '3',
          tags: { c: String(i) },
          ...(i > 0 ? { prehash: [hashTag('c', String(i - 1))] } : {}),
        })),
      );
      await post(
        2,
        range(100).map((i) => ({ id: `late2-${i}`, seed: String(i % 7), tags: { l: String(i) } })),
      );
      const admin1 = core.get(1)!.admin!;
      const lagOf = async () => (await admin1.view()).replication.dc2;
      await waitFor(
        'DC1 appended its records',
        async () => (await logOf(1)).filter((r) => r.host === 1).length >= 2 * N + C,
      );
      const stoppedAt = Date.now();
      const early = await lagOf();
      const inspector = new GroupInspector(kafka);
      const senderGroup = await inspector
        .describe([
          { groupId: `${topicNames(prefix(1)).log}.sender.dc2`, topic: topicNames(prefix(1)).log },
        ])
        .finally(() => inspector.close());
      testLogger.warn(
        {
          early,
          group: senderGroup[0]?.partitions,
          state: senderGroup[0]?.state,
          cInDc2: (await logOf(2)).filter((r) => r.id.startsWith('c-')).length,
        },
        'lag right after the stop',
      );
      expect(early.records).toBeGreaterThanOrEqual(C);
      expect(early.state).toBe('Empty');
      await sleep(Math.max(0, STOP_MS - 2000));
      const late = await lagOf();
      testLogger.warn({ early, late, stoppedMs: Date.now() - stoppedAt }, 'lag while stopped');
      expect(late.records).toBe(early.records);
      expect(late.seconds).toBeGreaterThan(early.seconds + (STOP_MS - 2000) / 1000 - 2);
      const scraped = (await admin1.app.inject({ url: '/metrics' })).body;
      expect(scraped).toMatch(
        new RegExp(`^chariots_replication_lag_records\\{dc="1",peer="2"\\} ${late.records}$`, 'm'),
      );
      expect((await logOf(2)).some((r) => r.id.startsWith('c-'))).toBe(false);

      // Phase 3: healed.
      await startSender(1);
      await producer.close();
      const expected = 2 * N + C + (2 * N + 100); // DC1: x, z, c; DC2: bg2, y, late2
      await waitFor(
        'both logs complete',
        async () => (await Promise.all([logOf(1), logOf(2)])).every((l) => l.length >= expected),
        180000,
      ).catch(async (e: unknown) => {
        await diagnose();
        throw e;
      });
      await waitFor('the lag back to 0', async () => {
        const l = await lagOf();
        return l.records === 0 && l.seconds === 0 && l.state === 'Stable';
      });
      expect((await admin1.app.inject({ url: '/metrics' })).body).toMatch(
        /^chariots_replication_lag_seconds\{dc="1",peer="2"\} 0$/m,
      );
      for (const r of relays) await r.drained();
      await sleep(3000); // late copies delivered by the relay go through both pipelines

      const logs = [
        { dcId: 1, records: await logOf(1) },
        { dcId: 2, records: await logOf(2) },
      ];
      const report = verifyLogs(logs);
      testLogger.warn(
        { seed: SEED, relays: relays.map((r) => r.stats) },
        `faulty network: ${summaryLine(report)}`,
      );
      expect(report.problems).toEqual([]);
      expect(logs.map((l) => l.records.length)).toEqual([expected, expected]);
      for (const r of relays) {
        expect(r.stats.duplicates).toBeGreaterThan(0);
        expect(r.stats.rekeyed).toBeGreaterThan(0);
        expect(r.stats.reordered).toBeGreaterThan(0);
        expect(r.stats.longDelayed).toBeGreaterThan(0);
      }
      // And the command an operator would run says the same.
      // Asynchronously: a blocked event loop would stall the stages of this process.
      const cli = await runCli(
        [
          'verify',
          '--dcs',
          // DC2 named with its brokers, as when it runs on a cluster of its own.
          `1@${prefix(1)},2@${prefix(2)}@${brokers.join(';')}`,
        ],
        {},
      );
      expect(cli.stdout).toContain(
        `OK: 2 datacenters, records dc1=${expected} dc2=${expected}; lid gaps 0, duplicates 0, toid order 0, prerequisite order 0, origin order 0, missing 0`,
      );
      expect(cli.code).toBe(0);
    },
    180000 + STOP_MS + 120000,
  );
});
