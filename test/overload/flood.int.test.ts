/**
 * Issue 5: a batcher flooded far beyond what its broker absorbs — first a running broker,
 * then a frozen one (SIGSTOP) — keeps its RSS under the bound of docs/reliability.md, and
 * every HTTP request is answered (200, or 429/503 with Retry-After) within a deadline; the
 * TCP listener stops reading while it cannot produce.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { Socket } from 'node:net';
import { encodeFrame } from '../../src/record';
import { sleep, testEnvironment } from '../helpers/cluster';
import { startOwnBroker, type OwnBroker } from '../helpers/own-broker';
import { freePort, StageProcess } from '../helpers/stage-process';

const MiB = 1024 * 1024;
const PENDING_BYTES = 16 * MiB;
const INFLIGHT_BODY_BYTES = 4 * MiB;
const ACK_TIMEOUT_MS = 3000;
const TCP_CONNECTIONS = Number(process.env.FLOOD_TCP ?? 8);
const MAX_FRAME_BYTES = 256 * 1024;
/**
 * docs/reliability.md, "A batcher's memory bound": the heap cap (--max-old-space-size) the
 * batcher is run with, and the RSS bound that follows from it and the limits.
 */
const LIMITS_MIB = (PENDING_BYTES + INFLIGHT_BODY_BYTES) / MiB;
const MAX_OLD_SPACE_MIB = 64 + 3 * LIMITS_MIB;
const RSS_BOUND =
  (128 + MAX_OLD_SPACE_MIB + 32 + LIMITS_MIB) * MiB +
  TCP_CONNECTIONS * (MAX_FRAME_BYTES + 64 * 1024);
const HTTP_CLIENTS = Number(process.env.FLOOD_CLIENTS ?? 64);
const RECORDS_PER_REQUEST = 200;
/** No answer within this is a hang: ackTimeoutMs plus generous scheduling slack on 2 cores. */
const DEADLINE_MS = ACK_TIMEOUT_MS + 7000;

const rss = (pid: number): number => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
};

function requestBody(client: number, n: number): string {
  const recs: string[] = [];
  for (let i = 0; i < RECORDS_PER_REQUEST; i++)
    recs.push(
      JSON.stringify({
        id: `h${client}-${n}-${i}`,
        seed: client,
        tags: { pad: 'x'.repeat(400), i: String(i) },
      }),
    );
  return `[${recs.join(',')}]`;
}

/**
 * The load generator's HTTP client: node:http with one keep-alive connection per client.
 * Not fetch: against a bare node:http server answering in < 0.4 s, 64 fetch (undici, Node 20)
 * clients × 100 POSTs of 100 KB took 27 s with multi-second client-side tails, node:http 4.7 s;
 * and this process shares 2 cores with the batcher.
 */
const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
function postOnce(
  url: string,
  body: string,
  deadlineMs: number,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          clearTimeout(timer);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          });
        });
        res.on('error', reject);
      },
    );
    const t0 = Date.now();
    let sockInfo = 'nosock';
    req.on('socket', (s) => {
      sockInfo = `reused=${req.reusedSocket} connecting=${s.connecting} local=${s.localPort}`;
      s.once('connect', () => (sockInfo += ` connected+${Date.now() - t0}`));
    });
    const timer = setTimeout(() => {
      const e = new Error(
        `no answer within ${deadlineMs} ms [${sockInfo} written=${req.socket?.bytesWritten} read=${req.socket?.bytesRead} local=${req.socket?.localPort}]`,
      );
      e.name = 'TimeoutError';
      req.destroy(e);
    }, deadlineMs);
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.end(body);
  });
}

interface Tally {
  byStatus: Map<number, number>;
  missingRetryAfter: number;
  failures: string[];
  offered: number;
  acked: number;
  slowest: number;
}

describe('a batcher flooded beyond its broker', () => {
  let broker: OwnBroker;
  let batcher: StageProcess | undefined;

  beforeAll(async () => {
    broker = await startOwnBroker();
  }, 120000);
  afterAll(async () => {
    await batcher?.kill();
    await broker?.stop();
  });

  const MAX_BATCH_RECORDS = 20;
  // Opt-in (CHARIOTS_FLOOD=1): it passed 3 runs in a row after the fixes (docs/reliability.md,
  // "Overload"), too few to call it dependable on a shared 2-core machine, and its "offered
  // 10× what was acknowledged" check had a 6 % margin in one of them; ~65 s of a full core.
  const floodIt = process.env.CHARIOTS_FLOOD === '1' ? it : it.skip;
  floodIt(
    'keeps RSS bounded and answers every request with 2xx/429/503 (Retry-After) in time',
    async () => {
      const env = await testEnvironment('flood', { kafka: { brokers: broker.brokers } });
      const httpPort = await freePort();
      const tcpPort = await freePort();
      batcher = new StageProcess('batcher', {
        KAFKA_BROKERS: broker.brokers.join(','),
        CHARIOTS_TOPIC_PREFIX: env.prefix,
        CHARIOTS_HTTP_PORT: String(httpPort),
        CHARIOTS_HTTP_HOST: '127.0.0.1',
        CHARIOTS_TCP_PORT: String(tcpPort),
        CHARIOTS_TCP_HOST: '127.0.0.1',
        CHARIOTS_TCP_MAX_FRAME_BYTES: String(MAX_FRAME_BYTES),
        CHARIOTS_HTTP_ADMIN_ENABLED: 'false',
        CHARIOTS_BATCHER_MAX_PENDING_BYTES: String(PENDING_BYTES),
        CHARIOTS_BATCHER_MAX_INFLIGHT_BODY_BYTES: String(INFLIGHT_BODY_BYTES),
        CHARIOTS_BATCHER_ACK_TIMEOUT_MS: String(ACK_TIMEOUT_MS),
        // Small produce requests keep the broker-bound capacity low enough (a few thousand
        // records/s) that this process's load generator can offer 10× it: on a quiet machine
        // the default batching acked ~6 800 records/s and the generator reached only 3.8×.
        CHARIOTS_BATCHER_MAX_BATCH_RECORDS: String(MAX_BATCH_RECORDS),
        NODE_OPTIONS: `--max-old-space-size=${MAX_OLD_SPACE_MIB}`,
      });
      await batcher.start();
      const pid = batcher.pid!;
      await sleep(2000);
      const idleRss = rss(pid);

      let maxRss = 0;
      const sampler = setInterval(() => (maxRss = Math.max(maxRss, rss(pid))), 100);
      const tally: Tally = {
        byStatus: new Map(),
        missingRetryAfter: 0,
        failures: [],
        offered: 0,
        acked: 0,
        slowest: 0,
      };
      let stop = false;
      const testStart = Date.now();
      const marks: string[] = [];
      const url = `http://127.0.0.1:${httpPort}/records`;
      // Bodies are built up front: on 2 shared cores the load generator must not eat the CPU
      // the batcher needs. Repeated ids do not matter to a batcher (the filter deduplicates).
      const bodies = Array.from({ length: HTTP_CLIENTS }, (_, c) =>
        Array.from({ length: 4 }, (__, n) => requestBody(c, n)),
      );
      const post = async (body: string) => {
        const t0 = Date.now();
        tally.offered += RECORDS_PER_REQUEST;
        try {
          const res = await postOnce(url, body, DEADLINE_MS);
          const json = JSON.parse(res.body) as { accepted?: number };
          tally.slowest = Math.max(tally.slowest, Date.now() - t0);
          tally.byStatus.set(res.status, (tally.byStatus.get(res.status) ?? 0) + 1);
          if (res.status === 200) tally.acked += json.accepted ?? 0;
          else if (res.status === 429 || res.status === 503) {
            if (!res.headers['retry-after']) tally.missingRetryAfter++;
          } else tally.failures.push(`status ${res.status}: ${JSON.stringify(json)}`);
        } catch (e) {
          tally.failures.push(
            `${(e as Error).name}: ${(e as Error).message} after ${Date.now() - t0} ms, sent at +${t0 - testStart} ms`,
          );
        }
      };

      // Capacity: what two clients that always wait for their answer get acknowledged.
      const t0 = Date.now();
      await Promise.all(
        [0, 1].map(async (c) => {
          for (let n = 0; Date.now() - t0 < 6000; n++) await post(bodies[c][n % 4]);
        }),
      );
      const capacity = (tally.acked * 1000) / (Date.now() - t0);
      // The flood: open loop at 12× capacity over HTTP_CLIENTS clients; Retry-After ignored.
      const intervalMs = (HTTP_CLIENTS * RECORDS_PER_REQUEST * 1000) / (12 * capacity);
      const httpClient = async (c: number) => {
        let next = Date.now() + Math.random() * intervalMs;
        for (let n = 0; !stop; n++) {
          await sleep(Math.max(0, next - Date.now()));
          next = Math.max(next + intervalMs, Date.now() - intervalMs);
          if (!stop) await post(bodies[c][n % 4]);
        }
      };

      const tcpWritten: number[] = new Array(TCP_CONNECTIONS).fill(0);
      const sockets: Socket[] = [];
      const tcpClient = async (c: number) => {
        const sock = new Socket();
        sockets.push(sock);
        sock.on('error', () => undefined);
        await new Promise<void>((r) => sock.connect(tcpPort, '127.0.0.1', r));
        const frames = [0, 1, 2, 3].map((n) => encodeFrame('s', requestBody(1000 + c, n)));
        for (let n = 0; !stop && !sock.destroyed; n++) {
          const frame = frames[n % 4];
          tcpWritten[c] += frame.length;
          if (!sock.write(frame))
            await new Promise<void>((r) => {
              const t = setInterval(() => stop && (clearInterval(t), r()), 100);
              sock.once('drain', () => (clearInterval(t), r()));
            });
        }
      };

      const clients = [
        ...Array.from({ length: HTTP_CLIENTS }, (_, c) => httpClient(c)),
        ...Array.from({ length: TCP_CONNECTIONS }, (_, c) => tcpClient(c)),
      ];
      const phase = async (ms: number) => {
        const before = { ...tally, tcp: sockets.reduce((s, x) => s + x.bytesWritten, 0) };
        await sleep(ms);
        const tcpNow = sockets.reduce((s, x) => s + x.bytesWritten, 0);
        return {
          offeredPerS: ((tally.offered - before.offered) * 1000) / ms,
          ackedPerS: ((tally.acked - before.acked) * 1000) / ms,
          tcpBytes: tcpNow - before.tcp,
        };
      };
      marks.push(`flood from +${Date.now() - testStart} ms`);
      const running = await phase(10000);
      marks.push(`broker frozen from +${Date.now() - testStart} ms`);
      // The broker frozen: the batcher can produce nothing at all for 15 s.
      let frozenLate = { offeredPerS: 0, ackedPerS: 0, tcpBytes: 0 };
      const frozen = broker.pause(15000);
      await sleep(7000);
      frozenLate = await phase(7000);
      await frozen;
      marks.push(`broker resumed at +${Date.now() - testStart} ms`);
      const recovered = await phase(8000);
      stop = true;
      for (const s of sockets) s.destroy();
      await Promise.all(clients);
      agent.destroy();
      clearInterval(sampler);

      const summary =
        `flood: idle RSS ${(idleRss / MiB).toFixed(0)} MiB, max RSS ${(maxRss / MiB).toFixed(0)} MiB ` +
        `(bound ${(RSS_BOUND / MiB).toFixed(0)} MiB); capacity ${capacity.toFixed(0)} records/s; answers ${JSON.stringify(Object.fromEntries(tally.byStatus))}, ` +
        `failures ${tally.failures.length}, missing Retry-After ${tally.missingRetryAfter}, slowest ${tally.slowest} ms; ` +
        `running broker: offered ${running.offeredPerS.toFixed(0)}/s, acked ${running.ackedPerS.toFixed(0)}/s; ` +
        `frozen broker: offered ${frozenLate.offeredPerS.toFixed(0)}/s, acked ${frozenLate.ackedPerS.toFixed(0)}/s, ` +
        `TCP bytes taken in its last 7 s ${frozenLate.tcpBytes}; after: acked ${recovered.ackedPerS.toFixed(0)}/s`;
      console.log(summary, marks, tally.failures.slice(0, 20));
      if (process.env.FLOOD_LOG) writeFileSync(process.env.FLOOD_LOG, batcher.logs);

      expect(tally.missingRetryAfter).toBe(0);
      expect(maxRss).toBeLessThan(RSS_BOUND);
      expect([...tally.byStatus.keys()].sort()).toEqual(expect.arrayContaining([200, 429]));
      // 10× beyond capacity while running, infinitely beyond while frozen.
      expect(running.offeredPerS).toBeGreaterThan(10 * running.ackedPerS);
      expect(frozenLate.ackedPerS).toBe(0);
      // The TCP listener stopped reading: at most the kernel's socket buffers filled meanwhile.
      expect(frozenLate.tcpBytes).toBeLessThan(TCP_CONNECTIONS * 8 * MiB);
      expect(recovered.ackedPerS).toBeGreaterThan(0);
      // Last, so that a run on a starved machine still checks the rest: no request hangs.
      expect(tally.failures.slice(0, 5)).toEqual([]);
    },
    180000,
  );
});
