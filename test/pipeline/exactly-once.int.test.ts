/**
 * Issue #3 acceptance: 50 000 records over 200 interleaved causal chains, sent in random order
 * across all three ingest paths (direct Kafka produce, POST /records, raw TCP), while the queue
 * and the sequencer — each a real child process — are killed with SIGKILL and restarted twice.
 * Every record must be appended exactly once, LIds exactly 1..N, each after its prerequisite.
 */
import { execSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { BatchingProducer } from '../../src/kafka';
import { encodeFrame, hashTag, type LogRecord } from '../../src/record';
import { startOwnBroker, type OwnBroker } from '../helpers/own-broker';
import { freePort, StageProcess } from '../helpers/stage-process';
import { sleep, testEnvironment, testLogger, waitForLog } from '../helpers/cluster';

const N = Number(process.env.STRESS_RECORDS ?? 50000);
const CHAINS = 200;

interface Spec {
  id: string;
  seed: string;
  tags: Record<string, string>;
  prehash: string[];
}

function buildChains(): Spec[] {
  const specs: Spec[] = [];
  const perChain = Math.ceil(N / CHAINS);
  for (let c = 0; c < CHAINS; c++) {
    // Seeds above 2^53 to prove they stay exact through every path.
    const seed = (9007199254740993n + BigInt(c) * 7919n).toString();
    for (let i = 0; i < perChain && specs.length < N; i++) {
      specs.push({
        id: `c${c}-${i}`,
        seed,
        tags: { pos: String(i), chain: String(c) },
        prehash: i === 0 ? [] : [hashTag('pos', String(i - 1))],
      });
    }
  }
  return specs;
}

function shuffle<T>(a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

describe('exactly once under kill -9, frozen processes and a frozen broker', () => {
  let env: Awaited<ReturnType<typeof testEnvironment>>;
  let broker: OwnBroker;
  const procs: StageProcess[] = [];

  beforeAll(async () => {
    broker = await startOwnBroker();
  });
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await broker?.stop();
  });

  it(`appends ${N} records over ${CHAINS} chains exactly once, densely and causally`, async () => {
    env = await testEnvironment('eos', {
      queue: { deferTimeoutMs: 0 },
      kafka: { brokers: broker.brokers },
    });
    const httpPort = await freePort();
    const tcpPort = await freePort();
    const childEnv = {
      KAFKA_BROKERS: env.config.kafka.brokers.join(','),
      CHARIOTS_TOPIC_PREFIX: env.prefix,
      CHARIOTS_QUEUE_DEFER_TIMEOUT_MS: '0',
      CHARIOTS_HTTP_PORT: String(httpPort),
      CHARIOTS_HTTP_HOST: '127.0.0.1',
      CHARIOTS_TCP_PORT: String(tcpPort),
      CHARIOTS_TCP_HOST: '127.0.0.1',
      CHARIOTS_HTTP_ADMIN_ENABLED: 'false',
    };
    const sequencer = new StageProcess('sequencer', childEnv);
    const queue = new StageProcess('queue', childEnv);
    const queueB = new StageProcess('queue', childEnv);
    const filter = new StageProcess('filter', childEnv);
    const batcher = new StageProcess('batcher', childEnv);
    procs.push(sequencer, queue, queueB, filter, batcher);
    await Promise.all([
      sequencer.start(),
      queue.start(),
      queueB.start(),
      filter.start(),
      batcher.start(),
    ]);

    const specs = shuffle(buildChains());
    const paths: Spec[][] = [[], [], []];
    for (const s of specs) paths[Math.floor(Math.random() * 3)].push(s);

    const producer = new BatchingProducer(env.kafka, {
      lingerMs: 2,
      maxBatchMessages: 1000,
      maxPending: 1_000_000,
      logger: testLogger,
    });
    await producer.connect();
    const viaKafka = async () => {
      for (let i = 0; i < paths[0].length; i += 1000) {
        // uint64 as bare JSON numbers, as a Go or Java producer would write them.
        await producer.sendMany(
          paths[0].slice(i, i + 1000).map((s) => ({
            topic: env.topics.ingest,
            key: s.seed,
            value: `{"id":"${s.id}","seed":${s.seed},"tags":${JSON.stringify(s.tags)},"prehash":[${s.prehash.join(',')}]}`,
          })),
        );
        await sleep(20);
      }
    };
    const viaHttp = async () => {
      for (let i = 0; i < paths[1].length; i += 500) {
        const body = JSON.stringify(paths[1].slice(i, i + 500));
        for (;;) {
          const res = await fetch(`http://127.0.0.1:${httpPort}/records`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body,
          });
          if (res.status === 200) {
            const out = (await res.json()) as { rejected: number };
            expect(out.rejected).toBe(0);
            break;
          }
          await sleep(200); // 429/503: retry with the same ids (deduplicated by the filter)
        }
      }
    };
    const viaTcp = async () => {
      const sock = new Socket();
      await new Promise<void>((res, rej) =>
        sock.connect(tcpPort, '127.0.0.1', res).once('error', rej),
      );
      for (let i = 0; i < paths[2].length; i += 100) {
        const batch = paths[2]
          .slice(i, i + 100)
          .map(
            (s) =>
              `{"Id":"${s.id}","Host":0,"Tags":${JSON.stringify(s.tags)},"Pre":{"Hash":[${s.prehash.join(',')}]},"Seed":${s.seed}}`,
          );
        if (!sock.write(encodeFrame('s', `[${batch.join(',')}]`)))
          await new Promise((r) => sock.once('drain', r));
        await sleep(5);
      }
      await new Promise<void>((res) => sock.end(res));
    };
    const faults: string[] = [];
    const chaos = async () => {
      for (let round = 0; round < 2; round++) {
        await sleep(2500);
        await queue.kill();
        faults.push('kill -9 queue');
        await sleep(500);
        await queue.start();
        if (round === 0) {
          // Frozen past its session timeout: its partitions move to the other queue, whose
          // producers fence it; when it wakes up it must not write anything stale.
          await queueB.pause(14000);
          faults.push('SIGSTOP queue 14 s');
        }
        await sleep(2500);
        await sequencer.kill();
        faults.push('kill -9 sequencer');
        await sleep(500);
        await sequencer.start();
        if (round === 0) {
          await sleep(1000);
          await broker.pause(8000);
          faults.push('SIGSTOP broker 8 s');
        }
      }
    };
    await Promise.all([viaKafka(), viaHttp(), viaTcp(), chaos()]);
    await producer.close();

    const log: LogRecord[] = await waitForLog(env.kafka, env.topics.log, N, 240000);
    await sleep(3000);
    const finalLog = await waitForLog(env.kafka, env.topics.log, N, 1000);
    expect(queue.starts).toBe(3);
    expect(sequencer.starts).toBe(3);
    const ids = finalLog.map((r) => r.id);
    if (process.env.STRESS_DEBUG) {
      const seen = new Map<string, LogRecord[]>();
      for (const r of finalLog) seen.set(r.id, [...(seen.get(r.id) ?? []), r]);
      const dups = [...seen.values()].filter((l) => l.length > 1);
      const path = (id: string) => paths.findIndex((p) => p.some((s) => s.id === id));
      console.log(
        JSON.stringify(
          dups.slice(0, 10).map((l) =>
            l.map((r) => ({
              id: r.id,
              lid: r.lid,
              path: path(r.id),
              at: r.appendedAt,
              rcv: r.receivedAt,
            })),
          ),
        ),
      );
      procs.forEach((p, i) => writeFileSync(`/tmp/stress-${i}-${p.stage}.log`, p.logs));
      execSync(`rm -rf /tmp/stress-kafka-data && cp -r ${broker.dataDir} /tmp/stress-kafka-data`);
      writeFileSync('/tmp/stress-prefix', env.prefix);
      console.log(
        'dups by path',
        [0, 1, 2].map((p) => dups.filter((l) => path(l[0].id) === p).length),
      );
    }
    expect(new Set(ids).size).toBe(ids.length); // no duplicate
    expect(ids.length).toBe(N); // none lost
    expect(finalLog.map((r) => r.lid)).toEqual(finalLog.map((_, i) => i + 1)); // dense
    const lidOf = new Map(finalLog.map((r) => [r.id, r.lid]));
    for (const r of finalLog) {
      const [chain, pos] = r.id.slice(1).split('-').map(Number);
      if (pos > 0) expect(lidOf.get(`c${chain}-${pos - 1}`)!).toBeLessThan(r.lid); // causal
      expect(r.seed).toBe((9007199254740993n + BigInt(chain) * 7919n).toString()); // exact uint64
    }
    const summary = `acknowledged ${N}, appended ${finalLog.length}, duplicated ${ids.length - new Set(ids).size}, faults ${faults.length} (${faults.join(', ')})`;
    testLogger.warn(summary);
    void log;
  }, 600000);
});
