import { crc32c } from './crc32c';
import { KeyTable, type SegmentKeys } from './key-table';

/** What a sealed segment's index file holds: enough to serve it without reading it. */
export interface SegmentIndexData {
  firstLid: number;
  /** Byte length of the segment file it describes; a different length makes it stale. */
  segmentBytes: number;
  /** Kafka offset of the segment's last record ('' when empty). */
  lastOffset: string;
  /** Frame start of each record, LId order. */
  positions: Uint32Array;
  keys: SegmentKeys;
}

const MAGIC = 0x32584c46; // "FLX2" little-endian ("FLX1" files, with string keys, are rebuilt)
const HEAD = 39; // bytes before lastOffset

/**
 * `<firstLid>.idx`, written once when its segment is sealed. Little-endian:
 *
 *   u32 magic "FLX2" | u32 count | u64 segmentBytes | u64 firstLid | u8 relBits |
 *   u32 ids | u32 seeds | u32 tags (pair counts) | u16 len + ascii lastOffset
 *   count × u32 position
 *   ids, seeds, tags: each its pairs as u32 [low, high] words (see KeyTable)
 *   u32 CRC32C of every preceding byte
 *
 * Loading is a few memcpys: no parsing, no strings, no per-record objects, so a store of
 * millions of records opens in the time it takes to read its index files.
 */
export function encodeIndexFile(d: SegmentIndexData): Buffer {
  const { ids, seeds, tags } = d.keys;
  const off = Buffer.from(d.lastOffset, 'latin1');
  const tables = [ids, seeds, tags];
  const size =
    HEAD + off.length + 4 * d.positions.length + tables.reduce((s, t) => s + 8 * t.length, 0);
  const buf = Buffer.alloc(size + 4);
  buf.writeUInt32LE(MAGIC, 0);
  buf.writeUInt32LE(d.positions.length, 4);
  buf.writeBigUInt64LE(BigInt(d.segmentBytes), 8);
  buf.writeBigUInt64LE(BigInt(d.firstLid), 16);
  buf.writeUInt8(ids.relBits, 24);
  tables.forEach((t, i) => buf.writeUInt32LE(t.length, 25 + 4 * i));
  buf.writeUInt16LE(off.length, 37);
  off.copy(buf, HEAD);
  let at = HEAD + off.length;
  at += copyIn(buf, at, d.positions);
  for (const t of tables) at += copyIn(buf, at, t.words);
  buf.writeUInt32LE(crc32c(buf, 0, 0, at), at);
  return buf;
}

/** Decodes an index file; undefined when it is damaged in any way (then: rebuild). */
export function decodeIndexFile(buf: Buffer): SegmentIndexData | undefined {
  if (buf.length < HEAD + 4) return undefined;
  const end = buf.length - 4;
  if (crc32c(buf, 0, 0, end) !== buf.readUInt32LE(end)) return undefined;
  if (buf.readUInt32LE(0) !== MAGIC) return undefined;
  const count = buf.readUInt32LE(4);
  const segmentBytes = Number(buf.readBigUInt64LE(8));
  const firstLid = Number(buf.readBigUInt64LE(16));
  const relBits = buf.readUInt8(24);
  const n = [0, 1, 2].map((i) => buf.readUInt32LE(25 + 4 * i));
  const offLen = buf.readUInt16LE(37);
  let at = HEAD + offLen;
  if (relBits < 1 || relBits > 32 || at + 4 * count + 8 * (n[0] + n[1] + n[2]) !== end)
    return undefined;
  const lastOffset = buf.toString('latin1', HEAD, at);
  const positions = copyOut(buf, at, count);
  at += 4 * count;
  const [ids, seeds, tags] = n.map((pairs) => {
    const t = new KeyTable(copyOut(buf, at, 2 * pairs), relBits);
    at += 8 * pairs;
    return t;
  });
  return { firstLid, segmentBytes, lastOffset, positions, keys: { ids, seeds, tags } };
}

// Typed arrays use the platform's byte order: little-endian on every platform Node supports.
function copyIn(buf: Buffer, at: number, a: Uint32Array): number {
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).copy(buf, at);
  return a.byteLength;
}

function copyOut(buf: Buffer, at: number, words: number): Uint32Array {
  const a = new Uint32Array(words);
  buf.copy(Buffer.from(a.buffer), 0, at, at + 4 * words);
  return a;
}
