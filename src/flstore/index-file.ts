import { crc32c } from './crc32c';
import type { RecordKeys } from './keys';

/** What a sealed segment's index file holds: enough to serve it without reading it. */
export interface SegmentIndexData {
  firstLid: number;
  /** Byte length of the segment file it describes; a different length makes it stale. */
  segmentBytes: number;
  /** Kafka offset of the segment's last record ('' when empty). */
  lastOffset: string;
  /** Frame start of each record, LId order. */
  positions: number[];
  keys: RecordKeys[];
}

const MAGIC = 0x31584c46; // "FLX1" little-endian

/**
 * `<firstLid>.idx`, written once when its segment is sealed. Little-endian:
 *
 *   u32 magic "FLX1" | u32 count | u64 segmentBytes | u64 firstLid | u16 len + ascii lastOffset
 *   count × { u32 position | u16 len + utf8 id | u8 len + ascii seed |
 *             u16 nHashes | nHashes × (u8 len + ascii hash) }
 *   u32 CRC32C of every preceding byte
 *
 * uint64s stay decimal ASCII (as in the record), so loading needs no BigInt conversions.
 */
export function encodeIndexFile(d: SegmentIndexData): Buffer {
  const parts: Buffer[] = [];
  const head = Buffer.alloc(24);
  head.writeUInt32LE(MAGIC, 0);
  head.writeUInt32LE(d.positions.length, 4);
  head.writeBigUInt64LE(BigInt(d.segmentBytes), 8);
  head.writeBigUInt64LE(BigInt(d.firstLid), 16);
  parts.push(head, str16(d.lastOffset));
  for (let i = 0; i < d.positions.length; i++) {
    const k = d.keys[i];
    const p = Buffer.alloc(4);
    p.writeUInt32LE(d.positions[i], 0);
    parts.push(p, str16(k.id), str8(k.seed));
    const n = Buffer.alloc(2);
    n.writeUInt16LE(k.hashes.length, 0);
    parts.push(n, ...k.hashes.map(str8));
  }
  const body = Buffer.concat(parts);
  const crc = Buffer.alloc(4);
  crc.writeUInt32LE(crc32c(body), 0);
  return Buffer.concat([body, crc]);
}

/** Decodes an index file; undefined when it is damaged in any way (then: rebuild). */
export function decodeIndexFile(buf: Buffer): SegmentIndexData | undefined {
  if (buf.length < 30) return undefined;
  const end = buf.length - 4;
  if (crc32c(buf, 0, 0, end) !== buf.readUInt32LE(end)) return undefined;
  if (buf.readUInt32LE(0) !== MAGIC) return undefined;
  try {
    const count = buf.readUInt32LE(4);
    const segmentBytes = Number(buf.readBigUInt64LE(8));
    const firstLid = Number(buf.readBigUInt64LE(16));
    const r = { at: 24 };
    const lastOffset = read16(buf, r, 'latin1');
    const positions: number[] = new Array(count);
    const keys: RecordKeys[] = new Array(count);
    for (let i = 0; i < count; i++) {
      positions[i] = buf.readUInt32LE(r.at);
      r.at += 4;
      const id = read16(buf, r, 'utf8');
      const seed = read8(buf, r);
      const n = buf.readUInt16LE(r.at);
      r.at += 2;
      const hashes: string[] = new Array(n);
      for (let h = 0; h < n; h++) hashes[h] = read8(buf, r);
      keys[i] = { id, seed, hashes };
    }
    if (r.at !== end) return undefined;
    return { firstLid, segmentBytes, lastOffset, positions, keys };
  } catch {
    return undefined; // a read past the end: damaged
  }
}

function str16(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const out = Buffer.alloc(2 + b.length);
  out.writeUInt16LE(b.length, 0);
  b.copy(out, 2);
  return out;
}

function str8(s: string): Buffer {
  const out = Buffer.alloc(1 + s.length);
  out.writeUInt8(s.length, 0);
  out.write(s, 1, 'latin1');
  return out;
}

function read16(buf: Buffer, r: { at: number }, enc: 'utf8' | 'latin1'): string {
  const n = buf.readUInt16LE(r.at);
  if (r.at + 2 + n > buf.length) throw new RangeError('short');
  const s = buf.toString(enc, r.at + 2, r.at + 2 + n);
  r.at += 2 + n;
  return s;
}

function read8(buf: Buffer, r: { at: number }): string {
  const n = buf.readUInt8(r.at);
  if (r.at + 1 + n > buf.length) throw new RangeError('short');
  const s = buf.toString('latin1', r.at + 1, r.at + 1 + n);
  r.at += 1 + n;
  return s;
}
