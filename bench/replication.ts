/**
 * `npm run bench:replication` (issue 6): replication lag between two datacenters on this
 * machine (one broker, topic prefixes), each running filter, queue, sequencer and sender in
 * this process. Records are produced to DC1's ingest at a fixed rate; the lag of a record is
 * the time between its appearance in DC1's log and in DC2's log, both observed by followers
 * in this process (one clock).
 *
 *   BENCH_REPL_RATES=1000,10000   records/s to try     BENCH_REPL_SECONDS=20   per rate
 */
import { randomBytes } from 'node:crypto';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { writeFileSync, mkdirSync } from 'node:fs';
import pino from 'pino';
import { BatchingProducer, createKafkaClient, followTopic, topicNames } from '../src/kafka';
import { acquireBroker } from '../src/kafka/broker';
import { decodeLog } from '../src/record';
import { runStages } from '../src/runtime/run-stages';
import { datacenters } from '../test/helpers/datacenters';
import { percentile, sortedFinite } from './stats';
import { makeRecords, toSpecJson } from './workload';

const RATES = (process.env.BENCH_REPL_RATES ?? '1000,10000').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_REPL_SECONDS ?? 20);
const logger = pino({ level: 'error' });
let lastProgress = 0;
const progress = (line: string) => {
  if (Date.now() - lastProgress < 1000) return;
  lastProgress = Date.now();
  process.stderr.write(`${line}\n`);
};

async function main() {
  const broker = await acquireBroker({ logger });
  const dcs = datacenters(`bench-repl-${randomBytes(3).toString('hex')}-`, broker.brokers);
  const { prefix } = dcs;
  const cfg = (dc: number) =>
    dcs.configFor(dc, { replication: { peers: dcs.peersOf(dc, [1, 2]) } });
  const kafka = createKafkaClient(cfg(1).kafka, logger);
  await dcs.applyTopics(kafka, [1, 2]);
  const stages = await Promise.all(
    [1, 2].map((dc) => runStages(cfg(dc), ['filter', 'queue', 'sequencer', 'sender'], logger)),
  );
  const seen = [new Map<string, number>(), new Map<string, number>()];
  const followers = await Promise.all(
    [1, 2].map((dc) =>
      followTopic(kafka, {
        topic: topicNames(prefix(dc)).log,
        from: 'latest',
        logger,
        onBatch: (b) => {
          const now = Date.now();
          for (const m of b.messages) if (m.value) seen[dc - 1].set(decodeLog(m.value).id, now);
        },
      }),
    ),
  );
  const producer = new BatchingProducer(kafka, {
    lingerMs: 1,
    maxBatchMessages: 2000,
    maxPending: 1e9,
    logger,
  });
  await producer.connect();
  const results: Array<Record<string, number | null>> = [];
  for (const rate of RATES) {
    const tag = `r${rate}-${randomBytes(2).toString('hex')}`;
    const records = makeRecords(tag, rate * SECONDS);
    const start = Date.now();
    let sent = 0;
    const sends: Promise<void>[] = [];
    while (sent < records.length) {
      const due = Math.min(records.length, Math.floor(((Date.now() - start) / 1000) * rate));
      const slice = records.slice(sent, due);
      if (slice.length > 0)
        sends.push(
          producer.sendMany(
            slice.map((r) => ({
              topic: topicNames(prefix(1)).ingest,
              key: String(r.seed),
              value: toSpecJson(r),
            })),
          ),
        );
      sent = due;
      await new Promise((r) => setTimeout(r, 5));
      progress(`rate ${rate}/s: sent ${sent}, in dc1 ${seen[0].size}, in dc2 ${seen[1].size}`);
    }
    await Promise.all(sends);
    const deadline = Date.now() + 120000;
    while (Date.now() < deadline && records.some((r) => !seen[1].has(r.id))) {
      await new Promise((r) => setTimeout(r, 250));
      progress(`rate ${rate}/s: sent ${sent}, in dc1 ${seen[0].size}, in dc2 ${seen[1].size}`);
    }
    const lags = sortedFinite(
      records.map((r) => (seen[1].get(r.id) ?? NaN) - (seen[0].get(r.id) ?? NaN)),
    );
    const missing = records.filter((r) => !seen[1].has(r.id)).length;
    results.push({
      rate,
      records: records.length,
      missing,
      p50: percentile(lags, 50),
      p95: percentile(lags, 95),
      p99: percentile(lags, 99),
      loadavg1: loadavg()[0],
    });
    for (const m of seen) m.clear();
  }
  await producer.close();
  for (const f of followers) await f.close();
  for (const s of stages) await s.close();
  await broker.stop();
  const machine = `${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}`;
  const out = { date: new Date().toISOString(), machine, seconds: SECONDS, results };
  mkdirSync(join(__dirname, 'results'), { recursive: true });
  writeFileSync(
    join(__dirname, 'results', `${out.date.slice(0, 10)}-replication.json`),
    `${JSON.stringify(out, null, 2)}\n`,
  );
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}

void main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
