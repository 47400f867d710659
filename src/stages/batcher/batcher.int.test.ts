/**
 * The batcher against the real broker: HTTP and GoChariots TCP ingest into the ingest
 * topic, wait=appended against the log topic, the deferred/dead-letter views and re-drive.
 * No other stage runs: the test plays their part by producing to their topics itself.
 */
import { connect, type Socket } from 'node:net';
import { Health } from '../../health';
import type { BatchingProducer, InMessage, KafkaClient } from '../../kafka';
import {
  decodeIngest,
  encodeFrame,
  encodeLog,
  encodeLogKeys,
  logKeysOf,
  type IngestRecord,
} from '../../record';
import { readAll, sleep, testEnvironment, testLogger } from '../../../test/helpers/cluster';
import { testProducer } from '../../../test/helpers/ingest';
import { start, type BatcherHandle } from '.';

let env: Awaited<ReturnType<typeof testEnvironment>>;
let batcher: BatcherHandle;
let fixtures: BatchingProducer;
let health: Health;

beforeAll(async () => {
  env = await testEnvironment('batcher', { dcId: 7, batcher: { waitTimeoutMs: 20000 } });
  health = new Health();
  batcher = await start({
    config: env.config,
    kafka: env.kafka,
    topics: env.topics,
    health,
    logger: testLogger,
  });
  fixtures = await testProducer(env.kafka, {
    lingerMs: 0,
    maxBatchMessages: 100,
    maxPending: 1000,
  });
});

afterAll(async () => {
  await batcher?.close();
  await fixtures?.close();
});

const url = (path: string) => `${batcher.httpUrl}${path}`;
const postJson = (path: string, body: string, contentType = 'application/json') =>
  fetch(url(path), { method: 'POST', body, headers: { 'content-type': contentType } });

/** Polls `read` until `found` accepts its result (Kafka reads are eventually complete). */
async function eventually<T>(
  read: () => Promise<T>,
  found: (t: T) => boolean,
  ms = 30000,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last = await read();
  while (!found(last) && Date.now() < deadline) {
    await sleep(250);
    last = await read();
  }
  expect(found(last)).toBe(true);
  return last;
}

interface Ingested {
  key: string | undefined;
  record: IngestRecord;
}
const ingested = async (kafka: KafkaClient, topic: string): Promise<Ingested[]> =>
  (await readAll(kafka, topic))
    .filter((m: InMessage) => m.value)
    .map((m) => ({ key: m.key?.toString(), record: decodeIngest(m.value as Buffer) }));
const ingestWhere = (pred: (r: IngestRecord) => boolean) =>
  eventually(
    () => ingested(env.kafka, env.topics.ingest),
    (all) => all.some((x) => pred(x.record)),
  ).then((all) => all.filter((x) => pred(x.record)));

function sendTcp(...frames: Buffer[]): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: batcher.tcpPort as number }, () => {
      for (const f of frames) s.write(f);
      resolve(s);
    });
    s.on('error', reject);
  });
}

/** GoChariots' header: 4-byte big-endian N (type byte + payload), then the type byte. */
function rawFrame(type: string, json: string): Buffer {
  const payload = Buffer.from(json, 'utf8');
  const header = Buffer.from([0, 0, 0, 0, type.charCodeAt(0)]);
  header.writeUInt32BE(payload.length + 1, 0);
  return Buffer.concat([header, payload]);
}

it('becomes ready once the producer is connected and the followers caught up', async () => {
  const r = await eventually(
    () => health.readiness(),
    (x) => x.ready,
  );
  expect(r.checks.batcher).toBe(true);
  const res = await fetch(url('/readyz'));
  expect(res.status).toBe(200);
  expect(batcher.tcpPort).toBeGreaterThan(0);
});

it("POST /record takes GoChariots' curl body and produces it to ingest with key = seed", async () => {
  const res = await postJson('/record', '{"tags":{"key":"value"},"prehash":0,"seed":0}');
  expect(res.status).toBe(200);
  const { id } = (await res.json()) as { id: string };
  const [hit] = await ingestWhere((r) => r.id === id);
  expect(hit.key).toBe('0');
  expect(hit.record).toMatchObject({
    id,
    host: 7,
    seed: '0',
    prehash: [],
    parent: [],
    tags: { key: 'value' },
  });
});

it("a raw TCP 'r' frame as GoChariots writes it lands in ingest", async () => {
  const s = await sendTcp(rawFrame('r', '{"Host":0,"Tags":{"key":"value"},"Seed":0}'));
  const hits = await ingestWhere(
    (r) => r.tags.key === 'value' && r.receivedAt !== undefined && r.host === 7,
  );
  expect(hits.length).toBeGreaterThanOrEqual(2); // the HTTP one above and this one
  s.end();
});

it('uint64 seed and prehash round-trip exactly via HTTP and TCP', async () => {
  const res = await postJson(
    '/record',
    '{"id":"u64-http","tags":{"n":"1"},"seed":18446744073709551615,"prehash":9489172654252433228}',
  );
  expect(res.status).toBe(200);
  const s = await sendTcp(
    encodeFrame(
      's',
      '[{"Id":"u64-tcp","Tags":{"n":"2"},"Seed":18446744073709551615,"Pre":{"Hash":[9489172654252433228]}}]',
    ),
  );
  for (const id of ['u64-http', 'u64-tcp']) {
    const [hit] = await ingestWhere((r) => r.id === id);
    expect(hit.key).toBe('18446744073709551615');
    expect(hit.record.seed).toBe('18446744073709551615');
    expect(hit.record.prehash).toEqual(['9489172654252433228']);
  }
  s.end();
});

it('POST /records takes an array and NDJSON, reporting the bad item', async () => {
  let res = await postJson(
    '/records',
    '[{"id":"arr-1","tags":{}},{"tags":{},"seed":-1},{"id":"arr-3","tags":{}}]',
  );
  expect(res.status).toBe(200);
  let body = (await res.json()) as {
    results: Array<Record<string, unknown>>;
    accepted: number;
    rejected: number;
  };
  expect(body).toMatchObject({
    accepted: 2,
    rejected: 1,
    results: [{ id: 'arr-1' }, { error: { code: 'CHARIOTS_ERR_BAD_SEED' } }, { id: 'arr-3' }],
  });
  res = await postJson(
    '/records',
    '{"id":"nd-1","tags":{}}\nnot json\n{"id":"nd-3","tags":{}}\n',
    'application/x-ndjson',
  );
  body = (await res.json()) as typeof body;
  expect(body).toMatchObject({
    accepted: 2,
    rejected: 1,
    results: [{ id: 'nd-1' }, { error: { code: 'CHARIOTS_ERR_BAD_JSON' } }, { id: 'nd-3' }],
  });
  const want = ['arr-1', 'arr-3', 'nd-1', 'nd-3'];
  const hits = await eventually(
    () => ingested(env.kafka, env.topics.ingest),
    (all) => want.every((id) => all.some((x) => x.record.id === id)),
  );
  expect(hits.filter((x) => want.includes(x.record.id))).toHaveLength(4);
});

it('bad TCP frames are skipped, lost framing closes only that connection', async () => {
  // Non-fatal: unknown type byte, broken JSON, a bad record; the good frame after them arrives.
  const s1 = await sendTcp(
    rawFrame('x', '{}'),
    rawFrame('r', '{"Tags":'),
    rawFrame('r', '{"Seed":-1}'),
    rawFrame('r', '{"Id":"tcp-after-bad","Tags":{}}'),
  );
  await ingestWhere((r) => r.id === 'tcp-after-bad');
  s1.end();
  // Fatal: a zero length loses the framing; the server closes the socket.
  const s2 = await sendTcp(Buffer.from([0, 0, 0, 0]));
  await new Promise<void>((resolve) => s2.on('close', () => resolve()));
  const s3 = await sendTcp(rawFrame('r', '{"Id":"tcp-new-conn","Tags":{"k":"v"}}'));
  await ingestWhere((r) => r.id === 'tcp-new-conn');
  s3.end();
});

it('?wait=appended answers with the lid once the record is in the log', async () => {
  const answer = postJson(
    '/record?wait=appended&timeout=20000',
    '{"id":"wait-1","tags":{"w":"1"}}',
  );
  const [hit] = await ingestWhere((r) => r.id === 'wait-1');
  // Play the sequencer: append it to the log, and to logkeys (what ?wait=appended follows).
  const logged = { ...hit.record, lid: 1, toid: 1, appendedAt: new Date().toISOString() };
  await fixtures.send({
    topic: env.topics.log,
    key: hit.record.seed,
    value: encodeLog(logged),
    headers: { lid: '1' },
  });
  await fixtures.send({
    topic: env.topics.logkeys,
    key: null,
    value: encodeLogKeys([logKeysOf(logged)])[0],
  });
  const res = await answer;
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ id: 'wait-1', lid: 1 });
});

it('?wait=appended times out with 504 saying the record was accepted', async () => {
  const res = await postJson('/record?wait=appended&timeout=300', '{"id":"wait-2","tags":{}}');
  expect(res.status).toBe(504);
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe('CHARIOTS_ERR_TIMEOUT');
  expect(body.error.message).toMatch(/accepted/);
});

const sample = (id: string): IngestRecord => ({
  id,
  host: 7,
  seed: '18446744073709551615',
  prehash: ['9489172654252433228'],
  parent: [],
  tags: { k: 'v' },
  receivedAt: new Date().toISOString(),
});

it('GET /deferred lists what the deferred changelog holds, and drops tombstoned entries', async () => {
  const record = sample('deferred-1');
  const value = JSON.stringify({
    record,
    deadline: null,
    missing: ['h:18446744073709551615:9489172654252433228'],
  });
  await fixtures.send({ topic: env.topics.deferred, key: record.id, value });
  type List = {
    deferred: Array<{
      id: string;
      record: IngestRecord;
      missing: string[];
      deadline: string | null;
    }>;
    count: number;
    next: string | null;
  };
  const list = await eventually(
    async () => (await (await fetch(url('/deferred'))).json()) as List,
    (l) => l.deferred.some((d) => d.id === 'deferred-1'),
  );
  expect(list.count).toBe(1);
  expect(list.deferred[0]).toEqual({
    id: 'deferred-1',
    record,
    missing: ['h:18446744073709551615:9489172654252433228'],
    deadline: null,
  });
  await fixtures.send({ topic: env.topics.deferred, key: record.id, value: null });
  await eventually(
    async () => (await (await fetch(url('/deferred'))).json()) as List,
    (l) => l.count === 0,
  );
});

it('POST /deadletter/:id/retry re-drives into filtered and tombstones the dead letter, in one transaction', async () => {
  const record = sample('dead-1');
  const value = JSON.stringify({
    record,
    reason: 'prerequisites missing after 600000 ms',
    code: 'CHARIOTS_ERR_TIMEOUT',
    missing: ['x'],
    deadAt: new Date().toISOString(),
  });
  await fixtures.send({ topic: env.topics.deadletter, key: record.id, value });
  type List = {
    deadletter: Array<{ id: string; record: IngestRecord; reason: string }>;
    count: number;
  };
  await eventually(
    async () => (await (await fetch(url('/deadletter'))).json()) as List,
    (l) => l.deadletter.some((d) => d.id === 'dead-1' && d.reason.startsWith('prerequisites')),
  );
  const missing = await fetch(url('/deadletter/nope/retry'), { method: 'POST' });
  expect(missing.status).toBe(404);
  expect(((await missing.json()) as { error: { code: string } }).error.code).toBe(
    'CHARIOTS_ERR_NOT_FOUND',
  );

  const res = await fetch(url('/deadletter/dead-1/retry'), { method: 'POST' });
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ id: 'dead-1', redriven: true });

  const filtered = await eventually(
    () => ingested(env.kafka, env.topics.filtered),
    (all) => all.some((x) => x.record.id === 'dead-1'),
  );
  const hit = filtered.find((x) => x.record.id === 'dead-1') as Ingested;
  expect(hit.key).toBe(record.seed);
  expect(hit.record).toEqual(record);
  const dl = (await readAll(env.kafka, env.topics.deadletter)).filter(
    (m) => m.key?.toString() === 'dead-1',
  );
  expect(dl[dl.length - 1].value).toBeNull();
  const after = (await (await fetch(url('/deadletter'))).json()) as List;
  expect(after.deadletter.some((d) => d.id === 'dead-1')).toBe(false);
  const again = await fetch(url('/deadletter/dead-1/retry'), { method: 'POST' });
  expect(again.status).toBe(404);
});
