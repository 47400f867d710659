import fc from 'fast-check';
import { encodeFrames, readFrame } from './frame';

const entry = fc.record({
  lid: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  offset: fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }).map(String),
  value: fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
});

describe('segment frames', () => {
  it('round-trips any sequence of records of any size', () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 20 }), (es) => {
        const buf = encodeFrames(es);
        let at = 0;
        for (const e of es) {
          const f = readFrame(buf, at);
          if (!f.ok) throw new Error(f.reason);
          expect(f.entry).toEqual(e);
          at = f.next;
        }
        expect(at).toBe(buf.length);
      }),
    );
  });

  it('reports every truncation as short and every single-bit flip as damaged', () => {
    fc.assert(
      fc.property(entry, fc.nat(), fc.integer({ min: 0, max: 7 }), (e, pos, bit) => {
        const buf = encodeFrames([e]);
        for (let cut = 0; cut < buf.length; cut++) {
          expect(readFrame(buf.subarray(0, cut), 0)).toEqual({ ok: false, reason: 'short' });
        }
        const bad = Buffer.from(buf);
        bad[pos % bad.length] ^= 1 << bit;
        expect(readFrame(bad, 0).ok).toBe(false);
      }),
    );
  });

  it('reads a 1 MiB record (no fixed slots)', () => {
    const value = Buffer.alloc(1 << 20, 7);
    const f = readFrame(encodeFrames([{ lid: 1, offset: '0', value }]), 0);
    expect(f.ok && f.entry.value.equals(value)).toBe(true);
  });
});
