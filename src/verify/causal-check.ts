import { prerequisitesOf, providedBy } from '../record/prerequisites';
import type { LogRecord } from '../record';

export interface DcLog {
  dcId: number;
  records: LogRecord[];
}

export interface VerifyReport {
  ok: boolean;
  datacenters: number;
  records: Record<number, number>;
  /** Problems found, at most `maxProblems` of them. */
  problems: string[];
  counts: {
    lidGaps: number;
    duplicates: number;
    toidOrder: number;
    prerequisites: number;
    originOrder: number;
    missing: number;
  };
}

/**
 * Checks what SPEC §2 promises across datacenters, from the logs alone:
 *  - per log: LIds 1..N, no duplicate id, every prerequisite (prehash/parent/pretoid) earlier;
 *  - per origin in every log: TOIds 1, 2, 3, … in log order (guarantee 7, first half);
 *  - for every record R from origin X and every other log Y: everything that preceded R in
 *    X's log precedes R in Y's log (the vector-clock rule, second half);
 *  - all logs hold the same set of records.
 */
export function verifyLogs(logs: DcLog[], maxProblems = 20): VerifyReport {
  const problems: string[] = [];
  const counts = {
    lidGaps: 0,
    duplicates: 0,
    toidOrder: 0,
    prerequisites: 0,
    originOrder: 0,
    missing: 0,
  };
  const say = (kind: keyof typeof counts, msg: string) => {
    counts[kind]++;
    if (problems.length < maxProblems) problems.push(msg);
  };
  const positions = new Map<number, Map<string, number>>();
  for (const { dcId, records } of logs) {
    const pos = new Map<string, number>();
    positions.set(dcId, pos);
    const provided = new Set<string>();
    const lastToid = new Map<number, number>();
    records.forEach((r, i) => {
      if (r.lid !== i + 1) say('lidGaps', `dc${dcId}: position ${i + 1} holds lid ${r.lid}`);
      if (pos.has(r.id)) say('duplicates', `dc${dcId}: id ${r.id} appears twice`);
      pos.set(r.id, i);
      const expected = (lastToid.get(r.host) ?? 0) + 1;
      if (r.toid !== expected)
        say(
          'toidOrder',
          `dc${dcId}: origin ${r.host} toid ${r.toid} where ${expected} was due (id ${r.id})`,
        );
      lastToid.set(r.host, Math.max(lastToid.get(r.host) ?? 0, r.toid));
      for (const k of prerequisitesOf({ ...r, remote: undefined })) {
        const ok = k.startsWith('t:')
          ? (lastToidOf(lastToid, k) ?? 0) >= Number(k.split(':')[2])
          : provided.has(k);
        if (!ok)
          say(
            'prerequisites',
            `dc${dcId}: lid ${r.lid} (id ${r.id}) precedes its prerequisite ${k}`,
          );
      }
      for (const k of providedBy(r)) provided.add(k);
    });
  }
  for (const x of logs) {
    for (const y of logs) {
      if (x === y) continue;
      const posY = positions.get(y.dcId) as Map<string, number>;
      let maxBefore = -1;
      for (const r of x.records) {
        const p = posY.get(r.id);
        if (p === undefined) {
          say('missing', `dc${y.dcId} lacks ${r.id} (lid ${r.lid} in dc${x.dcId})`);
          continue;
        }
        if (r.host === x.dcId && p < maxBefore) {
          say(
            'originOrder',
            `dc${y.dcId}: ${r.id} (from dc${x.dcId}) comes before a record that preceded it in dc${x.dcId}`,
          );
        }
        maxBefore = Math.max(maxBefore, p);
      }
    }
  }
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return {
    ok: total === 0,
    datacenters: logs.length,
    records: Object.fromEntries(logs.map((l) => [l.dcId, l.records.length])),
    problems,
    counts,
  };
}

function lastToidOf(m: Map<number, number>, key: string): number | undefined {
  return m.get(Number(key.split(':')[1]));
}

export function summaryLine(r: VerifyReport): string {
  const recs = Object.entries(r.records)
    .map(([dc, n]) => `dc${dc}=${n}`)
    .join(' ');
  const c = r.counts;
  return `${r.ok ? 'OK' : 'FAILED'}: ${r.datacenters} datacenters, records ${recs}; lid gaps ${c.lidGaps}, duplicates ${c.duplicates}, toid order ${c.toidOrder}, prerequisite order ${c.prerequisites}, origin order ${c.originOrder}, missing ${c.missing}`;
}
