import fc from 'fast-check';
import { ValidationError } from '../errors';
import { type DecodedFrame, encodeFrame, FrameDecoder, FramingError } from './frame';

const frameArb = fc.record({
  type: fc.constantFrom('r' as const, 's' as const),
  payload: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
});

/** Splits `buf` at the given cut points (any byte, including inside the header). */
function split(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of [...points, buf.length]) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  return out;
}

const frames = (decoded: DecodedFrame[]) =>
  decoded.map((d) =>
    d.ok ? { type: d.type, payload: Buffer.from(d.payload) } : { error: d.error.code },
  );

const fatalOf = (f: () => unknown): FramingError => {
  try {
    f();
  } catch (e) {
    if (e instanceof FramingError) return e;
    throw e;
  }
  throw new Error('no error');
};

describe('encodeFrame', () => {
  it('writes length (type byte + payload) big-endian, then the type byte', () => {
    expect([...encodeFrame('r', '{}')]).toEqual([0, 0, 0, 3, 0x72, 0x7b, 0x7d]);
  });
});

describe('FrameDecoder', () => {
  it('decodes any frame sequence split into arbitrary chunks', () => {
    fc.assert(
      fc.property(
        fc.array(frameArb, { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (want, cuts) => {
          const stream = Buffer.concat(want.map((f) => encodeFrame(f.type, f.payload)));
          const dec = new FrameDecoder({ maxFrameBytes: 1000 });
          const got = split(stream, cuts).flatMap((c) => dec.push(c));
          expect(frames(got)).toEqual(want.map((f) => ({ type: f.type, payload: f.payload })));
          expect(dec.idle).toBe(true);
        },
      ),
    );
  });

  it('handles one byte at a time, linearly', () => {
    const payload = Buffer.alloc(50000, 0x61);
    const stream = encodeFrame('r', payload);
    const dec = new FrameDecoder();
    const got: DecodedFrame[] = [];
    for (let i = 0; i < stream.length; i++) got.push(...dec.push(stream.subarray(i, i + 1)));
    expect(got).toHaveLength(1);
    expect(got[0].ok && got[0].payload.equals(payload)).toBe(true);
  });

  it('buffers at most maxFrameBytes + 4 bytes', () => {
    const dec = new FrameDecoder({ maxFrameBytes: 10 });
    const stream = encodeFrame('r', Buffer.alloc(9));
    dec.push(stream.subarray(0, 13));
    expect(dec.buffered).toBe(9);
    expect(dec.idle).toBe(false);
    expect(dec.push(stream.subarray(13))).toHaveLength(1);
    expect(() => dec.push(encodeFrame('r', Buffer.alloc(10)))).toThrow(FramingError);
  });

  it('treats a length of 0 or above maxFrameBytes as fatal, and stays failed', () => {
    const dec = new FrameDecoder({ maxFrameBytes: 100 });
    const e = fatalOf(() => dec.push(Buffer.from([0, 0, 0, 0])));
    expect(e).toBeInstanceOf(ValidationError);
    expect(e.code).toBe('CHARIOTS_ERR_BAD_FRAME');
    expect(e.fatal).toBe(true);
    expect(e.details).toMatchObject({ length: 0, fatal: true });
    expect(() => dec.push(encodeFrame('r', '{}'))).toThrow(FramingError);

    const big = new FrameDecoder({ maxFrameBytes: 100 });
    expect(fatalOf(() => big.push(Buffer.from([0, 0, 0, 101]))).message).toMatch(
      /length 101.*limit is 100/,
    );
  });

  it('returns the frames completed before a fatal header on the error', () => {
    const dec = new FrameDecoder({ maxFrameBytes: 100 });
    const e = fatalOf(() =>
      dec.push(Buffer.concat([encodeFrame('r', '{}'), Buffer.from([0xff, 0xff, 0xff, 0xff])])),
    );
    expect(frames(e.frames)).toEqual([{ type: 'r', payload: Buffer.from('{}') }]);
  });

  it('skips an unknown type byte without losing the framing', () => {
    const bad = Buffer.from([0, 0, 0, 3, 0x67, 1, 2]); // 'g': GoChariots' indexer query, not ours
    const stream = Buffer.concat([encodeFrame('r', 'a'), bad, encodeFrame('s', '[]')]);
    const got = new FrameDecoder().push(stream);
    expect(got).toHaveLength(3);
    expect(got[1].ok).toBe(false);
    if (!got[1].ok) {
      expect(got[1].error.code).toBe('CHARIOTS_ERR_BAD_FRAME');
      expect(got[1].error.message).toMatch(/0x67/);
      expect(got[1].error.details).toMatchObject({ fatal: false });
    }
    expect(frames([got[0], got[2]])).toEqual([
      { type: 'r', payload: Buffer.from('a') },
      { type: 's', payload: Buffer.from('[]') },
    ]);
  });

  it('never crashes on garbage: it yields frames, non-fatal errors, or one FramingError', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 500 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (bytes, cuts) => {
          const dec = new FrameDecoder({ maxFrameBytes: 64 });
          try {
            for (const c of split(Buffer.from(bytes), cuts)) dec.push(c);
          } catch (e) {
            expect(e).toBeInstanceOf(FramingError);
          }
          expect(dec.buffered).toBeLessThanOrEqual(64 + 4);
        },
      ),
    );
  });
});
