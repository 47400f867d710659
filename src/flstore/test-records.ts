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

/**
 * A record shaped like an application's, for the flstore benchmarks: a UUID-like id, one of
 * 1000 seeds, no prerequisites; each benchmark gives it its own tags.
 */
export function appRecord(lid: number, tags: Record<string, string>): LogRecord {
  return {
    lid,
    toid: lid,
    host: 1,
    id: `0b5c${lid.toString(16).padStart(8, '0')}-7d1e-4a3b-9c2d-5e6f7a8b9c0d`,
    seed: String(lid % 1000),
    prehash: [],
    parent: [],
    tags,
    receivedAt: '2026-01-01T00:00:00.000Z',
    appendedAt: '2026-01-01T00:00:00.001Z',
  };
}
