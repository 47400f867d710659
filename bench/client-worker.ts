/**
 * The load generators, in a worker thread: the pipeline under test runs on the main
 * thread's event loop, so the clients must not share it (they still share the 2 cores).
 * One message in = one run: the worker builds every payload BEFORE it starts the clock,
 * sends, reports progress, and answers with the send time of every record (by index).
 */
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { parentPort } from 'node:worker_threads';
import pino from 'pino';
import { loadConfig } from '../src/config/load';
import { BatchingProducer, createKafkaClient } from '../src/kafka';
import { encodeFrame } from '../src/record';
import { nowMs } from './stats';
import { makeRecords, toGoJson, toSpecJson, type BenchRecord } from './workload';

export type SendPath = 'kafka' | 'http-batch' | 'http-single' | 'tcp';

export interface RunRequest {
  path: SendPath;
  runTag: string;
  records: number;
  /** Records per second; 0 = as fast as the path accepts. */
  rate: number;
  brokers: string[];
  ingestTopic: string;
  httpUrl?: string;
  tcpPort?: number;
  httpBatch: number;
  httpConcurrency: number;
  singleConnections: number;
  tcpFrameRecords: number;
  logFile: string;
}

export type WorkerMessage =
  | { type: 'progress'; sent: number }
  | {
      type: 'done';
      sendTimes: Float64Array;
      /** Per HTTP request: ms from request start to response (paths b and c). */
      requestLatencies: Float64Array;
      firstSend: number;
      lastSend: number;
      errors: number;
      retries: number;
      errorSamples: string[];
    }
  | { type: 'failed'; error: string };

const port = parentPort;
if (!port) throw new Error('client-worker must run as a worker thread');

let cachedLogFile: string | undefined;
let logger: pino.Logger | undefined;
const log = (file: string) => {
  if (!logger || cachedLogFile !== file) {
    logger = pino({ level: 'warn', base: { thread: 'bench-client' } }, pino.destination(file));
    cachedLogFile = file;
  }
  return logger;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class Run {
  readonly sendTimes: Float64Array;
  readonly reqLat: number[] = [];
  sent = 0;
  errors = 0;
  retries = 0;
  errorSamples: string[] = [];
  firstSend = 0;
  lastSend = 0;

  constructor(readonly req: RunRequest) {
    this.sendTimes = new Float64Array(req.records).fill(NaN);
  }

  error(e: unknown) {
    this.errors++;
    if (this.errorSamples.length < 5) this.errorSamples.push(String((e as Error)?.message ?? e));
  }

  mark(from: number, to: number, t: number) {
    if (this.firstSend === 0) this.firstSend = t;
    for (let i = from; i < to; i++) this.sendTimes[i] = t;
    this.sent += to - from;
    this.lastSend = t;
  }

  /** For fixed-rate runs: how many records should have been sent by now. */
  dueBy(start: number): number {
    if (this.req.rate <= 0) return this.req.records;
    return Math.min(this.req.records, Math.floor(((nowMs() - start) / 1000) * this.req.rate) + 1);
  }
}

/** Path (a): straight into the ingest topic, through the same batching producer the batcher uses. */
async function viaKafka(run: Run, recs: BenchRecord[]) {
  const cfg = loadConfig({ env: {}, overrides: { kafka: { brokers: run.req.brokers } } });
  const kafka = createKafkaClient(cfg.kafka, log(run.req.logFile));
  const producer = new BatchingProducer(kafka, {
    lingerMs: cfg.batcher.lingerMs,
    maxBatchMessages: cfg.batcher.maxBatchRecords,
    maxPending: 10_000_000,
    logger: log(run.req.logFile),
  });
  await producer.connect();
  const values = recs.map((r) => ({ key: String(r.seed), value: Buffer.from(toSpecJson(r)) }));
  const window: Array<Promise<void>> = [];
  const start = nowMs();
  try {
    for (let i = 0; i < values.length;) {
      const due = run.dueBy(start);
      if (i >= due) {
        await sleep(2);
        continue;
      }
      const t = nowMs();
      const to = Math.min(due, i + 500);
      for (let k = i; k < to; k++) {
        window.push(
          producer.send({ topic: run.req.ingestTopic, ...values[k] }).catch((e) => run.error(e)),
        );
      }
      run.mark(i, to, t);
      i = to;
      // Bounded outstanding work: enough to keep the producer's batches full.
      while (window.length > 20_000) await window.shift();
      if (run.req.rate <= 0) await new Promise((r) => setImmediate(r));
    }
    await Promise.all(window);
  } finally {
    await producer.close();
  }
}

function post(agent: Agent, url: URL, body: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': body.length },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** POSTs with retry on 429/503 (what a client does); the first attempt's time stays the send time. */
async function postRetrying(run: Run, agent: Agent, url: URL, body: Buffer): Promise<boolean> {
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      const t0 = nowMs();
      const res = await post(agent, url, body);
      run.reqLat.push(nowMs() - t0);
      if (res.status === 200) return true;
      if (res.status !== 429 && res.status !== 503) {
        run.error(`HTTP ${res.status}: ${res.body.slice(0, 300)}`);
        return false;
      }
    } catch (e) {
      run.error(e);
    }
    run.retries++;
    await sleep(20 * (attempt + 1));
  }
  return false;
}

/** Paths (b) and (c): POST /records batches, or single POST /record from many connections. */
async function viaHttp(run: Run, recs: BenchRecord[], single: boolean) {
  const base = run.req.httpUrl;
  if (!base) throw new Error('no HTTP url');
  const size = single ? 1 : run.req.httpBatch;
  const concurrency = single ? run.req.singleConnections : run.req.httpConcurrency;
  const url = new URL(single ? '/record' : '/records', base);
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const bodies: Buffer[] = [];
  for (let i = 0; i < recs.length; i += size) {
    const chunk = recs.slice(i, i + size).map(toSpecJson);
    bodies.push(Buffer.from(single ? chunk[0] : `[${chunk.join(',')}]`));
  }
  let next = 0;
  const start = nowMs();
  const loop = async () => {
    for (;;) {
      const b = next++;
      if (b >= bodies.length) return;
      const from = b * size;
      while (run.dueBy(start) <= from) await sleep(1);
      run.mark(from, Math.min(recs.length, from + size), nowMs());
      await postRetrying(run, agent, url, bodies[b]);
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, loop));
  } finally {
    agent.destroy();
  }
}

/** Path (d): GoChariots frames, 's' = a JSON array of records, fire-and-forget on one socket. */
async function viaTcp(run: Run, recs: BenchRecord[]) {
  const port = run.req.tcpPort;
  if (!port) throw new Error('no TCP port');
  const per = run.req.tcpFrameRecords;
  const frames: Buffer[] = [];
  for (let i = 0; i < recs.length; i += per)
    frames.push(
      encodeFrame(
        's',
        `[${recs
          .slice(i, i + per)
          .map(toGoJson)
          .join(',')}]`,
      ),
    );
  const socket: Socket = await new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
  socket.on('error', (e) => run.error(e));
  const start = nowMs();
  try {
    for (let f = 0; f < frames.length; f++) {
      const from = f * per;
      while (run.dueBy(start) <= from) await sleep(1);
      run.mark(from, Math.min(recs.length, from + per), nowMs());
      if (!socket.write(frames[f])) await new Promise((r) => socket.once('drain', r));
    }
  } finally {
    await new Promise<void>((r) => socket.end(() => r()));
  }
}

port.on('message', (req: RunRequest) => {
  void (async () => {
    const run = new Run(req);
    const recs = makeRecords(req.runTag, req.records);
    const timer = setInterval(() => port.postMessage({ type: 'progress', sent: run.sent }), 250);
    try {
      if (req.path === 'kafka') await viaKafka(run, recs);
      else if (req.path === 'http-batch') await viaHttp(run, recs, false);
      else if (req.path === 'http-single') await viaHttp(run, recs, true);
      else await viaTcp(run, recs);
      const msg: WorkerMessage = {
        type: 'done',
        sendTimes: run.sendTimes,
        requestLatencies: Float64Array.from(run.reqLat),
        firstSend: run.firstSend,
        lastSend: run.lastSend,
        errors: run.errors,
        retries: run.retries,
        errorSamples: run.errorSamples,
      };
      port.postMessage(msg, [run.sendTimes.buffer as ArrayBuffer]);
    } catch (e) {
      port.postMessage({ type: 'failed', error: String((e as Error)?.stack ?? e) });
    } finally {
      clearInterval(timer);
    }
  })();
});
