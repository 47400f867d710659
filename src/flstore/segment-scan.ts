import type { LogRecord } from '../record';
import { readFrame } from './frame';
import { recordKeys, type RecordKeys } from './keys';

export interface SegmentScan {
  /** Frame start of each intact record. */
  positions: number[];
  keys: RecordKeys[];
  /** Bytes up to the end of the last intact record: everything after is a torn tail. */
  validBytes: number;
  lastOffset: string;
  /** Why the scan stopped before the end of the file, if it did. */
  torn?: 'short' | 'crc' | 'lid' | 'value';
}

/**
 * Reads a whole segment and keeps its longest intact prefix: frames with a valid CRC whose
 * LIds continue densely from `firstLid` and whose value parses as a log record.
 */
export function scanSegment(buf: Buffer, firstLid: number): SegmentScan {
  const positions: number[] = [];
  const keys: RecordKeys[] = [];
  let at = 0;
  let lastOffset = '';
  let torn: SegmentScan['torn'];
  while (at < buf.length) {
    const f = readFrame(buf, at);
    if (!f.ok) {
      torn = f.reason;
      break;
    }
    const expected = firstLid + positions.length;
    if (f.entry.lid !== expected) {
      torn = 'lid';
      break;
    }
    const k = keysOf(f.entry.value, expected);
    if (!k) {
      torn = 'value';
      break;
    }
    positions.push(at);
    keys.push(k);
    lastOffset = f.entry.offset;
    at = f.next;
  }
  return { positions, keys, validBytes: at, lastOffset, ...(torn ? { torn } : {}) };
}

const V1 = Buffer.from('{"v":1,');

/**
 * The index keys of a stored value. Only values that decodeLog accepted are ever written,
 * and the CRC proves the bytes unchanged, so native JSON.parse plus shape checks suffices
 * here: it is several times faster than the full decoder, and recovery parses every record
 * of the active segment (and of any segment whose index file is missing).
 */
function keysOf(value: Buffer, lid: number): RecordKeys | undefined {
  if (value.length < V1.length || !value.subarray(0, V1.length).equals(V1)) return undefined;
  let o: Partial<Record<keyof LogRecord, unknown>>;
  try {
    o = JSON.parse(value.toString('utf8')) as typeof o;
  } catch {
    return undefined;
  }
  const { tags } = o;
  if (o.lid !== lid || typeof o.id !== 'string' || typeof o.seed !== 'string') return undefined;
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) return undefined;
  if (!Object.values(tags).every((v) => typeof v === 'string')) return undefined;
  return recordKeys(o as LogRecord);
}
