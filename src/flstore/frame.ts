import { crc32c } from './crc32c';

/**
 * One record in a segment file. All integers little-endian.
 *
 *   offset  size  field
 *   0       4     length   u32: byte length of the payload (8 + 8 + value length)
 *   4       4     crc      u32: CRC32C of the payload bytes
 *   8       8     lid      u64: the record's LId (redundant with the value; lets recovery
 *                          check density without parsing JSON)
 *   16      8     offset   u64: Kafka offset of the log-topic message it came from, so the
 *                          last intact frame alone says where to resume (no separate,
 *                          possibly out-of-sync metadata file)
 *   24      n     value    the log-topic message value exactly as Kafka delivered it
 *                          (encodeLog JSON, `{"v":1,…}`); decodeLog reads it back
 *
 * The CRC covers lid, offset and value, so a torn or bit-flipped frame is always detected.
 */
export const FRAME_HEADER_BYTES = 8;
export const PAYLOAD_FIXED_BYTES = 16;

export interface FrameEntry {
  lid: number;
  /** Kafka offset, int64 as a decimal string (as src/kafka delivers it). */
  offset: string;
  value: Buffer;
}

export function frameSize(valueBytes: number): number {
  return FRAME_HEADER_BYTES + PAYLOAD_FIXED_BYTES + valueBytes;
}

/** Writes the frame of `e` at `buf[at]`; returns the position after it. */
export function writeFrame(buf: Buffer, at: number, e: FrameEntry): number {
  const len = PAYLOAD_FIXED_BYTES + e.value.length;
  const p = at + FRAME_HEADER_BYTES;
  buf.writeBigUInt64LE(BigInt(e.lid), p);
  buf.writeBigUInt64LE(BigInt(e.offset), p + 8);
  e.value.copy(buf, p + PAYLOAD_FIXED_BYTES);
  buf.writeUInt32LE(len, at);
  buf.writeUInt32LE(crc32c(buf, 0, p, p + len), at + 4);
  return p + len;
}

export function encodeFrames(entries: readonly FrameEntry[]): Buffer {
  let total = 0;
  for (const e of entries) total += frameSize(e.value.length);
  const buf = Buffer.allocUnsafe(total);
  let at = 0;
  for (const e of entries) at = writeFrame(buf, at, e);
  return buf;
}

export type FrameRead =
  { ok: true; entry: FrameEntry; next: number } | { ok: false; reason: 'short' | 'crc' };

/** Reads the frame at `buf[at]`, checking its length and CRC; never throws on bad bytes. */
export function readFrame(buf: Buffer, at: number): FrameRead {
  if (at + FRAME_HEADER_BYTES > buf.length) return { ok: false, reason: 'short' };
  const len = buf.readUInt32LE(at);
  const p = at + FRAME_HEADER_BYTES;
  if (len < PAYLOAD_FIXED_BYTES || p + len > buf.length) return { ok: false, reason: 'short' };
  if (crc32c(buf, 0, p, p + len) !== buf.readUInt32LE(at + 4)) return { ok: false, reason: 'crc' };
  const lid = buf.readBigUInt64LE(p);
  if (lid > BigInt(Number.MAX_SAFE_INTEGER)) return { ok: false, reason: 'crc' };
  return {
    ok: true,
    entry: {
      lid: Number(lid),
      offset: buf.readBigUInt64LE(p + 8).toString(),
      value: buf.subarray(p + PAYLOAD_FIXED_BYTES, p + len),
    },
    next: p + len,
  };
}
