/**
 * The whole pipeline in one process (as `chariots dev` runs it), driven through the public
 * interfaces: GoChariots' examples unchanged, wait=appended, idempotent retries, TOId
 * prerequisites, exact uint64s, and bad input that is refused without touching the log.
 */
import { connect } from 'node:net';
import type { BatcherHandle } from '../../src/stages/batcher';
import { runStages, type RunningStages } from '../../src/runtime/run-stages';
import { encodeFrame, hashTag, type LogRecord } from '../../src/record';
import { sleep, testEnvironment, testLogger, waitForLog } from '../helpers/cluster';

describe('pipeline through HTTP and TCP', () => {
  let env: Awaited<ReturnType<typeof testEnvironment>>;
  let running: RunningStages;
  let base: string;
  let tcpPort: number;

  beforeAll(async () => {
    env = await testEnvironment('e2e', { record: { maxTags: 4 }, http: { bodyLimitBytes: 4096 } });
    running = await runStages(env.config, ['batcher', 'filter', 'queue', 'sequencer'], testLogger);
    const batcher = running.handles.batcher as BatcherHandle;
    base = batcher.httpUrl;
    tcpPort = batcher.tcpPort as number;
  });
  afterAll(async () => {
    await running?.close();
  });

  const post = async (path: string, body: string) => {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    return {
      status: res.status,
      body: (await res.json()) as Record<string, unknown> & { error?: { code: string } },
    };
  };
  const log = () => waitForLog(env.kafka, env.topics.log, 0, 1);

  it("takes GoChariots' curl body unchanged and answers with the lid once appended", async () => {
    const r = await post(
      '/record?wait=appended&timeout=30000',
      '{"tags": {"key": "value"}, "prehash": 0, "seed": 0}',
    );
    expect(r.status).toBe(200);
    expect(r.body.lid).toBe(1);
    const [rec] = await log();
    expect(rec).toMatchObject({
      id: r.body.id,
      lid: 1,
      toid: 1,
      host: 1,
      seed: '0',
      tags: { key: 'value' },
    });
  });

  it("takes GoChariots' raw TCP frame (header 0 0 0 N 'r')", async () => {
    const payload = Buffer.from('{"Host":0,"Tags":{"tcp":"frame"},"Seed":0}');
    const frame = encodeFrame('r', payload);
    expect([...frame.subarray(0, 5)]).toEqual([0, 0, 0, payload.length + 1, 'r'.charCodeAt(0)]);
    await new Promise<void>((res, rej) => {
      const s = connect({ host: '127.0.0.1', port: tcpPort }, () => s.end(frame, () => res()));
      s.once('error', rej);
    });
    const records = await waitForLog(env.kafka, env.topics.log, 2);
    expect(records.find((x) => x.tags.tcp === 'frame')).toMatchObject({ host: 1, seed: '0' });
  });

  it('appends a record sent three times with the same id once', async () => {
    const body = '{"id":"retry-me","tags":{"n":"1"},"seed":"42"}';
    for (let i = 0; i < 3; i++) expect((await post('/record', body)).status).toBe(200);
    const sentinel = await post(
      '/record?wait=appended',
      '{"tags":{"after":"retries"},"seed":"42"}',
    );
    expect(sentinel.status).toBe(200);
    await sleep(500);
    expect((await log()).filter((x) => x.id === 'retry-me')).toHaveLength(1);
  });

  it('keeps seed and prehash 18446744073709551615 and > 2^53 exact through HTTP into the log', async () => {
    const r = await post(
      '/record?wait=appended',
      '{"tags":{"big":"1"},"seed":18446744073709551615,"prehash":0}',
    );
    expect(r.status).toBe(200);
    const chained = await post(
      '/record?wait=appended',
      `{"tags":{"big":"2"},"seed":18446744073709551615,"prehash":${hashTag('big', '1')}}`,
    );
    expect(chained.status).toBe(200);
    const rec = (await log()).find((x) => x.id === chained.body.id) as LogRecord;
    expect(rec.seed).toBe('18446744073709551615');
    expect(rec.prehash).toEqual([hashTag('big', '1')]);
    expect(rec.lid).toBeGreaterThan(r.body.lid as number);
  });

  it('waits for a TOId prerequisite (prehost/pretoid) together with a parent', async () => {
    const before = (await log()).filter((x) => x.host === 1).length;
    const waiting = post(
      '/record?wait=appended',
      `{"tags":{"toid":"dep"},"prehost":1,"pretoid":${before + 2},"parent":"late-parent"}`,
    );
    await sleep(1500);
    expect((await log()).some((x) => x.tags.toid === 'dep')).toBe(false);
    await post('/record?wait=appended', '{"tags":{"toid":"filler"}}');
    await sleep(1000);
    expect((await log()).some((x) => x.tags.toid === 'dep')).toBe(false); // TOId holds, parent missing
    await post('/record?wait=appended', '{"id":"late-parent","tags":{}}');
    const r = await waiting;
    expect(r.status).toBe(200);
    const all = await log();
    const dep = all.find((x) => x.tags.toid === 'dep') as LogRecord;
    expect(dep.lid).toBeGreaterThan(all.find((x) => x.id === 'late-parent')!.lid);
  });

  it('refuses each class of bad input with its code and leaves the log unchanged', async () => {
    const before = (await log()).length;
    const cases: Array<[string, string, number]> = [
      ['{"tags":', 'CHARIOTS_ERR_BAD_JSON', 400],
      ['{"tags":{"k":1}}', 'CHARIOTS_ERR_BAD_TAGS', 400],
      ['{"tags":{},"seed":-1}', 'CHARIOTS_ERR_BAD_SEED', 400],
      ['{"tags":{},"seed":1.5}', 'CHARIOTS_ERR_BAD_SEED', 400],
      ['{"tags":{},"seed":18446744073709551616}', 'CHARIOTS_ERR_BAD_SEED', 400],
      ['{"tags":{},"prehash":"abc"}', 'CHARIOTS_ERR_BAD_HASH', 400],
      ['{"tags":{"a":"1","b":"2","c":"3","d":"4","e":"5"}}', 'CHARIOTS_ERR_TOO_MANY_TAGS', 400],
      [`{"tags":{"big":"${'x'.repeat(5000)}"}}`, 'CHARIOTS_ERR_BODY_TOO_LARGE', 413],
      ['[1,2]', 'CHARIOTS_ERR_BAD_RECORD', 400],
    ];
    for (const [body, code, status] of cases) {
      const r = await post('/record', body);
      expect([body.slice(0, 40), r.status, r.body.error?.code]).toEqual([
        body.slice(0, 40),
        status,
        code,
      ]);
    }
    // Garbage over TCP: skipped, framing kept or connection closed; nothing enters the log.
    await new Promise<void>((res) => {
      const s = connect({ host: '127.0.0.1', port: tcpPort }, () => {
        s.write(encodeFrame('r', '{"Seed":-5}'));
        s.write(encodeFrame('r', 'not json'));
        s.end(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x72]));
      });
      s.on('close', () => res());
      s.on('error', () => res());
    });
    const sentinel = await post('/record?wait=appended', '{"tags":{"sentinel":"1"}}');
    expect(sentinel.body.lid).toBe(before + 1);
  });
});
