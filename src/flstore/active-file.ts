import { crc32c } from './crc32c';
import type { KeyKind } from './key-table';

/** The active segment's indexes as of a clean close: `<firstLid>.act`, beside the segment. */
export interface ActiveSnapshot {
  firstLid: number;
  /** The segment's length when written: the records in [0, segmentBytes) are the ones here. */
  segmentBytes: number;
  lastOffset: string;
  positions: Uint32Array;
  triples: Record<KeyKind, Uint32Array>;
}

const MAGIC = 0x31414c46; // "FLA1"
const HEAD = 36; // bytes before lastOffset

/**
 *   u32 magic "FLA1" | u32 count | u64 segmentBytes | u64 firstLid |
 *   u32 ids | u32 seeds | u32 tags (triple counts) | u16 len + ascii lastOffset
 *   count × u32 position | ids, seeds, tags: u32 (hi, lo, position) triples
 *   u32 CRC32C of every preceding byte
 */
export function encodeActiveFile(d: ActiveSnapshot): Buffer {
  const off = Buffer.from(d.lastOffset, 'latin1');
  const arrays = [d.positions, d.triples.ids, d.triples.seeds, d.triples.tags];
  const size = HEAD + 2 + off.length + arrays.reduce((s, a) => s + a.byteLength, 0);
  const buf = Buffer.alloc(size + 4);
  buf.writeUInt32LE(MAGIC, 0);
  buf.writeUInt32LE(d.positions.length, 4);
  buf.writeBigUInt64LE(BigInt(d.segmentBytes), 8);
  buf.writeBigUInt64LE(BigInt(d.firstLid), 16);
  arrays.slice(1).forEach((a, i) => buf.writeUInt32LE(a.length / 3, 24 + 4 * i));
  buf.writeUInt16LE(off.length, HEAD);
  off.copy(buf, HEAD + 2);
  let at = HEAD + 2 + off.length;
  for (const a of arrays) {
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).copy(buf, at);
    at += a.byteLength;
  }
  buf.writeUInt32LE(crc32c(buf, 0, 0, at), at);
  return buf;
}

/** undefined when damaged in any way (then the segment is scanned). */
export function decodeActiveFile(buf: Buffer): ActiveSnapshot | undefined {
  if (buf.length < HEAD + 6) return undefined;
  const end = buf.length - 4;
  if (crc32c(buf, 0, 0, end) !== buf.readUInt32LE(end)) return undefined;
  if (buf.readUInt32LE(0) !== MAGIC) return undefined;
  const count = buf.readUInt32LE(4);
  const n = [0, 1, 2].map((i) => 3 * buf.readUInt32LE(24 + 4 * i));
  const offLen = buf.readUInt16LE(HEAD);
  let at = HEAD + 2 + offLen;
  if (at + 4 * (count + n[0] + n[1] + n[2]) !== end) return undefined;
  const take = (words: number) => {
    const a = new Uint32Array(words);
    buf.copy(Buffer.from(a.buffer), 0, at, at + 4 * words);
    at += 4 * words;
    return a;
  };
  const lastOffset = buf.toString('latin1', HEAD + 2, HEAD + 2 + offLen);
  const positions = take(count);
  const [ids, seeds, tags] = n.map(take);
  return {
    firstLid: Number(buf.readBigUInt64LE(16)),
    segmentBytes: Number(buf.readBigUInt64LE(8)),
    lastOffset,
    positions,
    triples: { ids, seeds, tags },
  };
}
