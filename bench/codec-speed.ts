/**
 * Per-record cost of the record codec (ns per call), against plain JSON.parse of the same bytes:
 * `npx tsx bench/codec-speed.ts`. The queue and the maintainer decode every log record.
 */
import { decodeIngest, decodeLog, encodeLog, type LogRecord } from '../src/record';
const rec: LogRecord = {
  lid: 12345,
  toid: 12345,
  host: 1,
  id: 'run-123456',
  seed: '1234567',
  prehash: ['14695981039346656037'],
  parent: [],
  tags: { user: 'u1234', kind: 'k3', region: 'r1', n: '123456', pad: 'xxxxxxxxxxxxxxxxxxxxxxxx' },
  receivedAt: new Date().toISOString(),
  appendedAt: new Date().toISOString(),
};
const buf = encodeLog(rec);
const N = 200000;
const fns: Record<string, () => unknown> = {
  decodeLog: () => decodeLog(buf),
  decodeIngest: () => decodeIngest(buf),
  encodeLog: () => encodeLog(rec),
  stringify: () => Buffer.from(JSON.stringify(rec)),
  parse: () => JSON.parse(buf.toString()),
  toString: () => buf.toString(),
};
for (let k = 0; k < 4; k++) {
  const out: string[] = [];
  for (const [name, f] of Object.entries(fns)) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < N; i++) f();
    out.push(`${name} ${(Number(process.hrtime.bigint() - t) / N).toFixed(0)}`);
  }
  process.stdout.write(`${out.join(', ')}\n`);
}
