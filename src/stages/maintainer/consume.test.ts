import { encodeLog } from '../../record';
import { makeRecord } from '../../flstore/test-records';
import type { InMessage } from '../../kafka';
import { planBatch } from './consume';

const msg = (lid: number, offset: number): InMessage => ({
  topic: 'log',
  partition: 0,
  offset: String(offset),
  key: null,
  value: encodeLog(makeRecord(lid)),
  timestamp: '0',
  headers: { lid: String(lid) },
});

describe('planBatch', () => {
  it('skips what is stored and keeps the dense continuation with its offsets', () => {
    const p = planBatch(3, [msg(2, 4), msg(3, 6), msg(4, 8), msg(5, 10)]);
    expect(p.ok).toBe(true);
    expect(p.entries.map((e) => [e.record.lid, e.offset])).toEqual([
      [4, '8'],
      [5, '10'],
    ]);
    expect(p.ok && p.skipped).toBe(2);
  });

  it('stops at a gap or an undecodable message, keeping the records before it', () => {
    const gap = planBatch(0, [msg(1, 0), msg(3, 2), msg(4, 3)]);
    expect(gap.ok).toBe(false);
    expect(gap.entries.map((e) => e.record.lid)).toEqual([1]);
    expect(!gap.ok && gap.error.code).toBe('CHARIOTS_ERR_LOG_GAP');
    const poison = planBatch(0, [msg(1, 0), { ...msg(2, 1), value: Buffer.from('{"v":1,}') }]);
    expect(!poison.ok && poison.error.code).toBe('CHARIOTS_ERR_POISON_MESSAGE');
    expect(poison.entries).toHaveLength(1);
  });
});
