import fc from 'fast-check';
import { crc32c } from './crc32c';

/** Bit-at-a-time reference, the definition the table-driven version must agree with. */
function reference(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

describe('crc32c', () => {
  it('matches the known vectors (RFC 3720 B.4 and the check value)', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(Buffer.alloc(0))).toBe(0);
    expect(crc32c(Buffer.alloc(32, 0))).toBe(0x8a9136aa);
    expect(crc32c(Buffer.alloc(32, 0xff))).toBe(0x62a8ab43);
    const inc = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
    expect(crc32c(inc)).toBe(0x46dd794e);
  });

  it('equals the bitwise definition, and chains over split input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), (data, cut) => {
        const c = reference(data);
        expect(crc32c(data)).toBe(c);
        const k = data.length === 0 ? 0 : cut % data.length;
        expect(crc32c(data, crc32c(data, 0, 0, k), k)).toBe(c);
      }),
    );
  });
});
