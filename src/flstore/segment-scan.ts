import { decodeLog } from '../record';
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
 * LIds continue densely from `firstLid` and whose value decodes as a log record.
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
    let k: RecordKeys;
    try {
      const rec = decodeLog(f.entry.value);
      if (rec.lid !== expected) throw new Error('lid mismatch');
      k = recordKeys(rec);
    } catch {
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
