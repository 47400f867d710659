import { PoisonMessageError } from '../errors';

/**
 * Many records in one Kafka message, for the internal topics `filtered` and `released`.
 * kafkajs spends ~30 µs of JavaScript per message per hop (docs/performance.md), whatever
 * its size: one message per transaction's worth of records instead of one per record is
 * most of that cost gone. The log topic stays one record per message (SPEC §3.3).
 *
 * Readers also get plain single v1 values on these topics (messages written before packing,
 * a re-drive, a transaction that had one record): `unpack` takes both.
 */

/**
 * A pack never nears the broker's max.message.bytes (1 MiB by default) nor the 512 KiB
 * request chunks of src/kafka/chunk.ts; only a record bigger than this on its own exceeds it.
 */
export const MAX_PACK_BYTES = 256 * 1024;

const MAGIC = Buffer.from([0x00, 0x43, 0x50]); // NUL "C" "P"
const VERSION = 1;
const HEADER_BYTES = MAGIC.length + 1 + 4;
const LENGTH_BYTES = 4;

/** Bytes a pack of values of these lengths takes. */
export function packedSize(lengths: readonly number[]): number {
  let n = HEADER_BYTES;
  for (const l of lengths) n += LENGTH_BYTES + l;
  return n;
}

/**
 * True when `value` is a pack. A v1 record is JSON and starts with `{`; JSON text never
 * starts with NUL (only whitespace may come before the value), so a NUL first byte decides.
 */
export function isPack(value: Buffer): boolean {
  return value.length > 0 && value[0] === MAGIC[0];
}

/**
 * Pack layout (integers unsigned big-endian):
 *   0  3 bytes  magic 00 43 50 (NUL "C" "P"): never the start of a v1 (JSON) value
 *   3  1 byte   version = 1
 *   4  4 bytes  count N of values (≥ 1 as written)
 *   8  N times: 4 bytes length L, then L bytes of one record's v1 value, as received
 *               (encodeIngest's output or the batcher's bytes, never re-encoded)
 * The values fill the message exactly: nothing may follow the last one.
 */
export function encodePack(values: readonly Buffer[]): Buffer {
  const out = Buffer.allocUnsafe(packedSize(values.map((v) => v.length)));
  MAGIC.copy(out, 0);
  out[MAGIC.length] = VERSION;
  out.writeUInt32BE(values.length, MAGIC.length + 1);
  let at = HEADER_BYTES;
  for (const v of values) {
    out.writeUInt32BE(v.length, at);
    at += LENGTH_BYTES;
    at += v.copy(out, at);
  }
  return out;
}

function corrupt(reason: string, value: Buffer): never {
  throw new PoisonMessageError(`undecodable pack: ${reason}`, { bytes: value.length });
}

/**
 * The record values in one `filtered`/`released` message, in order: a pack's values (views
 * into `value`, not copies), or `[value]` when it is not a pack (a plain v1 record; its
 * decoder checks it). A corrupt pack is a PoisonMessageError: the writer was not Chariots
 * or the bytes were damaged, and none of its records can be trusted.
 */
export function unpack(value: Buffer): Buffer[] {
  if (!isPack(value)) return [value];
  if (value.length < HEADER_BYTES) corrupt('shorter than its header', value);
  if (value[1] !== MAGIC[1] || value[2] !== MAGIC[2]) corrupt('bad magic', value);
  if (value[MAGIC.length] !== VERSION) corrupt(`unknown version ${value[MAGIC.length]}`, value);
  const count = value.readUInt32BE(MAGIC.length + 1);
  // Each value takes at least its length field: a count beyond that is corrupt, and checking
  // it first keeps a damaged count from sizing an enormous array.
  if (count > (value.length - HEADER_BYTES) / LENGTH_BYTES) corrupt('count too large', value);
  const out: Buffer[] = new Array<Buffer>(count);
  let at = HEADER_BYTES;
  for (let i = 0; i < count; i++) {
    if (at + LENGTH_BYTES > value.length) corrupt('truncated', value);
    const len = value.readUInt32BE(at);
    at += LENGTH_BYTES;
    if (len > value.length - at) corrupt('truncated', value);
    out[i] = value.subarray(at, at + len);
    at += len;
  }
  if (at !== value.length) corrupt('trailing bytes', value);
  return out;
}

/**
 * Splits `items` (in order) into groups whose pack stays within `maxBytes`; an item too
 * big for any pack is a group of its own. Order is kept across and within groups: readers
 * see the same sequence as if each item were its own message.
 */
export function chunkForPacks<T>(
  items: readonly T[],
  bytes: (item: T) => number,
  maxBytes = MAX_PACK_BYTES,
): T[][] {
  const groups: T[][] = [];
  let current: T[] = [];
  let size = HEADER_BYTES;
  for (const item of items) {
    const add = LENGTH_BYTES + bytes(item);
    if (current.length > 0 && size + add > maxBytes) {
      groups.push(current);
      current = [];
      size = HEADER_BYTES;
    }
    current.push(item);
    size += add;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

/**
 * The message values that carry `values` in order: packs within `maxBytes`, and a value
 * alone in its group as itself (plain v1, as before packing) unless it could be taken for
 * a pack.
 */
export function packValues(values: readonly Buffer[], maxBytes = MAX_PACK_BYTES): Buffer[] {
  return chunkForPacks(values, (v) => v.length, maxBytes).map((g) =>
    g.length === 1 && !isPack(g[0]) ? g[0] : encodePack(g),
  );
}
