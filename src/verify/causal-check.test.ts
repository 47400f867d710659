import { hashTag, type LogRecord } from '../record';
import { verifyLogs } from './causal-check';

const rec = (
  lid: number,
  id: string,
  host: number,
  toid: number,
  extra: Partial<LogRecord> = {},
): LogRecord => ({
  lid,
  id,
  host,
  toid,
  seed: '1',
  tags: { id },
  prehash: [],
  parent: [],
  receivedAt: '',
  appendedAt: '',
  ...extra,
});

describe('verifyLogs', () => {
  const a1 = rec(1, 'a1', 1, 1);
  const b1 = rec(2, 'b1', 1, 2, { prehash: [hashTag('id', 'a1')] });

  it('accepts causally consistent copies', () => {
    const r = verifyLogs([
      { dcId: 1, records: [a1, b1, rec(3, 'c1', 2, 1, { parent: ['b1'] })] },
      {
        dcId: 2,
        records: [{ ...a1 }, { ...b1 }, rec(3, 'c1', 2, 1, { parent: ['b1'] })].map((r, i) => ({
          ...r,
          lid: i + 1,
        })),
      },
    ]);
    expect(r.counts).toEqual({
      lidGaps: 0,
      duplicates: 0,
      toidOrder: 0,
      prerequisites: 0,
      originOrder: 0,
      missing: 0,
    });
    expect(r.ok).toBe(true);
  });

  it('reports gaps, duplicates, prerequisite and origin-order violations, and missing records', () => {
    const r = verifyLogs([
      { dcId: 1, records: [a1, b1] },
      {
        dcId: 2,
        records: [
          rec(1, 'b1', 1, 2, { prehash: [hashTag('id', 'a1')] }),
          rec(3, 'a1', 1, 1),
          rec(4, 'a1', 1, 1),
          rec(5, 'x', 2, 1),
        ],
      },
    ]);
    expect(r.ok).toBe(false);
    expect(r.counts.lidGaps).toBeGreaterThan(0);
    expect(r.counts.duplicates).toBe(1);
    expect(r.counts.prerequisites).toBeGreaterThan(0);
    expect(r.counts.toidOrder).toBeGreaterThan(0);
    expect(r.counts.originOrder).toBe(1);
    expect(r.counts.missing).toBe(1);
  });
});
