import { encodeLog, type LogRecord } from '../record';
import type { AppendEntry } from './types';

/** Deterministic log records for flstore tests: a few seeds and tags repeat, ids are unique. */
export function makeRecord(lid: number, extra: Partial<LogRecord> = {}): LogRecord {
  return {
    lid,
    toid: lid,
    host: 1,
    id: `id-${lid}`,
    seed: String(lid % 7 === 0 ? '18446744073709551615' : lid % 5),
    prehash: [],
    parent: [],
    tags: {
      k: `v${lid % 3}`,
      n: String(lid),
      ...(lid % 4 === 0 ? { big: 'x'.repeat(lid % 300) } : {}),
    },
    receivedAt: '2026-01-01T00:00:00.000Z',
    appendedAt: '2026-01-01T00:00:00.001Z',
    ...extra,
  };
}

/** Entries as the maintainer builds them; offsets skip numbers like transaction markers do. */
export function entries(from: number, to: number): AppendEntry[] {
  const out: AppendEntry[] = [];
  for (let lid = from; lid <= to; lid++) {
    const record = makeRecord(lid);
    out.push({ record, value: encodeLog(record), offset: String(lid * 2 + 5) });
  }
  return out;
}
