import { PoisonMessageError } from '../errors';
import { hashTagHalves } from './hash';
import type { LogRecord } from './types';
import { uint64Halves } from './uint64';

/**
 * What one log record provides to the queues' log index (src/stages/queue/log-index.ts):
 * its id, origin and TOId, and its (seed, tag hash) pairs, hashed once by the sequencer.
 *
 * Why a topic of these (`logkeys`) next to the log: every queue instance must know every key
 * of the whole log. Following the log itself cost each queue one kafkajs message decode, one
 * JSON parse and one FNV hash per tag for every record ever appended, at every start (46 s for
 * 650 000 records, docs/performance.md). The sequencer writes these in the same transaction
 * as the log records they describe, many per Kafka message, so a read_committed reader sees
 * exactly the committed log, in log order, at a small fraction of the bytes and decodes.
 */
export interface LogKeys {
  lid: number;
  id: string;
  /** Origin datacenter and the record's TOId there (LogRecord.host / .toid). */
  host: number;
  toid: number;
  /** A replicated record's TOId at its origin (RemoteOrigin.toid); undefined for a local one. */
  remoteToid: number | undefined;
  /** The seed's halves; `seedOk` false when the seed is not canonical (it then names no key). */
  seedOk: boolean;
  seedHi: number;
  seedLo: number;
  /** Per tag, in the record's tag order: the FNV-1a 64 hash of `key:value` as hi, lo. */
  tagHashes: Uint32Array;
}

const halves = new Uint32Array(2);

export function logKeysOf(r: LogRecord): LogKeys {
  const seedOk = uint64Halves(r.seed, 0, r.seed.length, halves, 0);
  const keys = Object.keys(r.tags);
  const tagHashes = new Uint32Array(seedOk ? keys.length * 2 : 0);
  if (seedOk) {
    keys.forEach((k, i) => {
      const [hi, lo] = hashTagHalves(k, r.tags[k]);
      tagHashes[2 * i] = hi;
      tagHashes[2 * i + 1] = lo;
    });
  }
  return {
    lid: r.lid,
    id: r.id,
    host: r.host,
    toid: r.toid,
    remoteToid: r.remote?.toid,
    seedOk,
    seedHi: seedOk ? halves[0] : 0,
    seedLo: seedOk ? halves[1] : 0,
    tagHashes,
  };
}

/**
 * A `logkeys` message (integers unsigned big-endian; numbers < 2^53 as two u32 halves):
 *   0  3 bytes  magic 00 43 4B (NUL "C" "K")
 *   3  1 byte   version = 1
 *   4  4 bytes  count N of entries (≥ 1)
 *   8  N entries, in log order:
 *        1 byte   flags: bit 0 remote (a remote TOId follows), bit 1 seed canonical
 *        8 bytes  lid
 *        4 bytes  host
 *        8 bytes  toid
 *       [8 bytes  remote toid, when bit 0]
 *        8 bytes  seed hi, lo (zero when not canonical)
 *        2 bytes  id length L, then L bytes of the id in UTF-8
 *        2 bytes  tag count T, then T × 8 bytes: each tag hash's hi, lo
 * The entries fill the message exactly.
 */
const MAGIC = [0x00, 0x43, 0x4b];
const VERSION = 1;
const HEADER_BYTES = 8;
const FIXED_ENTRY_BYTES = 1 + 8 + 4 + 8 + 8 + 2 + 2;
const TWO_32 = 2 ** 32;

/** Keeps each message far below max.message.bytes, as packs do (src/record/pack.ts). */
export const MAX_LOG_KEYS_BYTES = 256 * 1024;

function entrySize(e: LogKeys, idBytes: number): number {
  return (
    FIXED_ENTRY_BYTES + (e.remoteToid !== undefined ? 8 : 0) + idBytes + e.tagHashes.length * 4
  );
}

function writeU53(out: Buffer, n: number, at: number): number {
  out.writeUInt32BE(Math.floor(n / TWO_32), at);
  out.writeUInt32BE(n >>> 0, at + 4);
  return at + 8;
}

function readU53(b: Buffer, at: number): number {
  return b.readUInt32BE(at) * TWO_32 + b.readUInt32BE(at + 4);
}

/** One or more messages (each under MAX_LOG_KEYS_BYTES unless one entry alone is bigger). */
export function encodeLogKeys(entries: readonly LogKeys[]): Buffer[] {
  const out: Buffer[] = [];
  let chunk: Array<{ e: LogKeys; id: Buffer }> = [];
  let bytes = HEADER_BYTES;
  const flush = () => {
    if (chunk.length === 0) return;
    const b = Buffer.allocUnsafe(bytes);
    b[0] = MAGIC[0];
    b[1] = MAGIC[1];
    b[2] = MAGIC[2];
    b[3] = VERSION;
    b.writeUInt32BE(chunk.length, 4);
    let at = HEADER_BYTES;
    for (const { e, id } of chunk) {
      b[at++] = (e.remoteToid !== undefined ? 1 : 0) | (e.seedOk ? 2 : 0);
      at = writeU53(b, e.lid, at);
      b.writeUInt32BE(e.host, at);
      at = writeU53(b, e.toid, at + 4);
      if (e.remoteToid !== undefined) at = writeU53(b, e.remoteToid, at);
      b.writeUInt32BE(e.seedHi, at);
      b.writeUInt32BE(e.seedLo, at + 4);
      b.writeUInt16BE(id.length, at + 8);
      at += 10;
      at += id.copy(b, at);
      b.writeUInt16BE(e.tagHashes.length / 2, at);
      at += 2;
      for (let i = 0; i < e.tagHashes.length; i++, at += 4) b.writeUInt32BE(e.tagHashes[i], at);
    }
    out.push(b);
    chunk = [];
    bytes = HEADER_BYTES;
  };
  for (const e of entries) {
    const id = Buffer.from(e.id, 'utf8');
    // The lengths are u16 fields; ids (≤ record.maxIdLength) and tag counts (≤ record.maxTags)
    // are far below that unless the limits were raised beyond reason.
    if (id.length > 0xffff || e.tagHashes.length / 2 > 0xffff)
      throw new Error(`log keys of ${e.id}: id or tag count beyond the logkeys format`);
    const size = entrySize(e, id.length);
    if (chunk.length > 0 && bytes + size > MAX_LOG_KEYS_BYTES) flush();
    chunk.push({ e, id });
    bytes += size;
  }
  flush();
  return out;
}

function corrupt(reason: string, value: Buffer): never {
  throw new PoisonMessageError(`undecodable logkeys message: ${reason}`, { bytes: value.length });
}

/**
 * The entries of one `logkeys` message. Only the sequencer writes that topic: anything
 * undecodable is a PoisonMessageError (a foreign writer or damaged bytes).
 */
export function decodeLogKeys(value: Buffer): LogKeys[] {
  if (value.length < HEADER_BYTES) corrupt('shorter than its header', value);
  if (value[0] !== MAGIC[0] || value[1] !== MAGIC[1] || value[2] !== MAGIC[2])
    corrupt('bad magic', value);
  if (value[3] !== VERSION) corrupt(`unknown version ${value[3]}`, value);
  const count = value.readUInt32BE(4);
  if (count > (value.length - HEADER_BYTES) / FIXED_ENTRY_BYTES) corrupt('count too large', value);
  const entries: LogKeys[] = new Array<LogKeys>(count);
  let at = HEADER_BYTES;
  for (let n = 0; n < count; n++) {
    if (at + FIXED_ENTRY_BYTES > value.length) corrupt(`entry ${n} truncated`, value);
    const flags = value[at];
    const remote = (flags & 1) !== 0;
    const lid = readU53(value, at + 1);
    const host = value.readUInt32BE(at + 9);
    const toid = readU53(value, at + 13);
    at += 21;
    let remoteToid: number | undefined;
    if (remote) {
      if (at + 8 > value.length) corrupt(`entry ${n} truncated`, value);
      remoteToid = readU53(value, at);
      at += 8;
    }
    if (at + 10 > value.length) corrupt(`entry ${n} truncated`, value);
    const seedHi = value.readUInt32BE(at);
    const seedLo = value.readUInt32BE(at + 4);
    const idLength = value.readUInt16BE(at + 8);
    at += 10;
    if (at + idLength + 2 > value.length) corrupt(`entry ${n} truncated`, value);
    const id = value.toString('utf8', at, at + idLength);
    at += idLength;
    const tags = value.readUInt16BE(at);
    at += 2;
    if (at + tags * 8 > value.length) corrupt(`entry ${n} truncated`, value);
    const tagHashes = new Uint32Array(tags * 2);
    for (let i = 0; i < tags * 2; i++, at += 4) tagHashes[i] = value.readUInt32BE(at);
    entries[n] = {
      lid,
      id,
      host,
      toid,
      remoteToid,
      seedOk: (flags & 2) !== 0,
      seedHi,
      seedLo,
      tagHashes,
    };
  }
  if (at !== value.length) corrupt(`${value.length - at} bytes after the last entry`, value);
  return entries;
}
